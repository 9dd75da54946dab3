# Every test-structure keyword of the built-in Pester, each in a test that passes.
BeforeDiscovery {
    $sizes = @(@{ Size = 10 }, @{ Size = 250 })
}

$order = [System.Collections.ArrayList]::new()

Describe 'Structure' -Tag 'structure' {
    BeforeAll { $null = $order.Add('BeforeAll') }
    BeforeEach { $null = $order.Add('BeforeEach'); $counter = 1 }
    AfterEach { $null = $order.Add('AfterEach') }
    AfterAll { $null = $order.Add('AfterAll') }

    It 'runs BeforeAll once and BeforeEach before each test' {
        $order[0] | Should -Be 'BeforeAll'
        $order[-1] | Should -Be 'BeforeEach'
        $counter | Should -Be 1
    }

    It 'runs AfterEach after the previous test' {
        $order | Should -Contain 'AfterEach'
    }

    Context 'Cases' {
        It 'expands <Name> from -TestCases' -TestCases @(
            @{ Name = 'one'; Length = 3 }
            @{ Name = 'three'; Length = 5 }
        ) {
            param($Name, $Length)
            $Name.Length | Should -Be $Length
        }

        It 'takes -ForEach too: <Size>' -ForEach $sizes {
            $Size | Should -BeGreaterThan 0
        }
    }

    Context 'Context <Kind>' -ForEach @(@{ Kind = 'Global' }, @{ Kind = 'Site' }) {
        It 'sees the case of its context: <Kind>' {
            $Kind | Should -BeIn 'Global', 'Site'
        }
    }

    It 'is skipped' -Skip {
        throw 'never runs'
    }

    It 'is pending' -Pending {
        throw 'never runs'
    }

    It 'marks itself skipped' {
        Set-ItResult -Skipped -Because 'the store has no Edge pool'
    }

    It 'marks itself inconclusive' {
        Set-ItResult -Inconclusive -Because 'nothing to compare'
    }

    It 'is tagged' -Tag 'fast' {
        $true | Should -BeTrue
    }
}

Describe 'Files' {
    It 'has a $TestDrive folder that is removed afterwards' {
        $TestDrive | Should -Exist
        Set-Content -Path (Join-Path $TestDrive 'notes.txt') -Value 'Lync pool: pool01'
        Join-Path $TestDrive 'notes.txt' | Should -FileContentMatch 'pool\d+'
    }

    It 'knows its own folder through $PSScriptRoot' {
        Join-Path $PSScriptRoot 'Keywords.Tests.ps1' | Should -Exist
    }
}

Describe 'Mocks' {
    function Get-Pool { param($Name) "real $Name" }

    It 'replaces a function and counts the calls' {
        Mock Get-Pool { 'mocked' }
        Get-Pool -Name a | Should -Be 'mocked'
        Should -Invoke Get-Pool -Times 1 -Exactly
        Assert-MockCalled Get-Pool -Times 1 -Exactly
    }

    It 'picks the mock whose filter accepts the call' {
        Mock Get-Pool { 'default' }
        Mock Get-Pool { 'filtered' } -ParameterFilter { $Name -eq 'edge' }
        Get-Pool -Name edge | Should -Be 'filtered'
        Get-Pool -Name other | Should -Be 'default'
        Should -Invoke Get-Pool -ParameterFilter { $Name -eq 'edge' } -Times 1 -Exactly
    }

    It 'replaces a Cs cmdlet' {
        Mock Get-CsUser { [pscustomobject]@{ Identity = 'sip:ken@contoso.com' } }
        (Get-CsUser).Identity | Should -Be 'sip:ken@contoso.com'
        Should -Invoke Get-CsUser -Times 1
    }

    It 'verifies the verifiable mocks' {
        Mock Get-Pool { 'verified' } -Verifiable -ParameterFilter { $Name -eq 'fe' }
        Get-Pool -Name fe | Should -Be 'verified'
        Assert-VerifiableMock
        Should -InvokeVerifiable
    }

    It 'ends the mock with its block' {
        Get-Pool -Name a | Should -Be 'real a'
    }

    It 'runs InModuleScope in a loaded module' {
        InModuleScope Pester { 1 + 1 } | Should -Be 2
    }
}

Describe 'Order' {
    It 'ran the setup of Structure in order' {
        $order[-1] | Should -Be 'AfterAll'
        @($order | Where-Object { $_ -eq 'BeforeAll' }).Count | Should -Be 1
    }
}
