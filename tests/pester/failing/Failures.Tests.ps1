# Deliberate failures: each prints Pester's expected text, and -PassThru
# counts them. tests/pester.rs asserts the report line by line.
Describe 'Failures' {
    It 'Be' { 4 | Should -Be 5 }
    It 'Be strings' { 'pool01' | Should -Be 'pool02' }
    It 'BeExactly' { 'Pool' | Should -BeExactly 'pool' }
    It 'Not Be' { 1 | Should -Not -Be 1 }
    It 'BeTrue' { $false | Should -BeTrue -Because 'the Edge is on' }
    It 'BeFalse' { $true | Should -BeFalse }
    It 'BeNullOrEmpty' { 'x' | Should -BeNullOrEmpty }
    It 'BeOfType' { 'x' | Should -BeOfType [int] }
    It 'HaveCount' { 1, 2 | Should -HaveCount 3 }
    It 'Match' { 'sip:ken' | Should -Match '^tel:' }
    It 'MatchExactly' { 'sip:ken' | Should -MatchExactly '^SIP:' }
    It 'BeLike' { 'Tag:Guests' | Should -BeLike 'Site:*' }
    It 'BeLikeExactly' { 'Tag:Guests' | Should -BeLikeExactly 'tag:*' }
    It 'Contain' { 'a', 'b' | Should -Contain 'c' }
    It 'BeIn' { 'c' | Should -BeIn 'a', 'b' }
    It 'BeGreaterThan' { 4 | Should -BeGreaterThan 5 }
    It 'BeGreaterOrEqual' { 4 | Should -BeGreaterOrEqual 5 }
    It 'BeLessThan' { 5 | Should -BeLessThan 4 }
    It 'BeLessOrEqual' { 5 | Should -BeLessOrEqual 4 }
    It 'Exist' { Join-Path $TestDrive 'none.txt' | Should -Exist }
    It 'FileContentMatch' {
        $file = Join-Path $TestDrive 'f.txt'
        Set-Content -Path $file -Value 'alpha'
        $file | Should -FileContentMatch 'beta'
    }
    It 'Throw' { { 1 } | Should -Throw }
    It 'Throw message' { { throw 'boom' } | Should -Throw -ExpectedMessage 'bang' }
    It 'Not Throw' { { throw 'boom' } | Should -Not -Throw }
    It 'HaveParameter' {
        function Set-Pool { param([int]$Size) }
        Get-Command Set-Pool | Should -HaveParameter Size -Mandatory -Type [string]
    }
    It 'Invoke' {
        function Get-Pool { }
        Mock Get-Pool { }
        Should -Invoke Get-Pool -Times 1
    }
    It 'VerifiableMock' {
        function Get-Pool { param($Name) }
        Mock Get-Pool { } -Verifiable -ParameterFilter { $Name -eq 'fe' }
        Get-Pool -Name edge
        Assert-VerifiableMock
    }
    It 'TestRegistry' { $TestRegistry | Should -BeNullOrEmpty }
    It 'error' { Get-CsUser -Identity 'sip:nobody@contoso.com' -ErrorAction Stop }
    It 'passes' { 1 | Should -Be 1 }
}
