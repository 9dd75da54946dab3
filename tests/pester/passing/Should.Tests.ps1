# Every Should operator, each with and without -Not, in tests that pass.
Describe 'Should' {
    It '-Be and -BeExactly' {
        'Pool' | Should -Be 'pool'
        'Pool' | Should -BeExactly 'Pool'
        'Pool' | Should -Not -BeExactly 'pool'
        1, 2, 3 | Should -Be 1, 2, 3
        5 | Should -Not -Be 4
    }

    It '-BeTrue, -BeFalse and -BeNullOrEmpty' {
        $true | Should -BeTrue
        $false | Should -BeFalse
        $false | Should -Not -BeTrue
        $null | Should -BeNullOrEmpty
        @() | Should -BeNullOrEmpty
        '' | Should -BeNullOrEmpty
        'x' | Should -Not -BeNullOrEmpty
    }

    It '-BeOfType and -HaveCount' {
        42 | Should -BeOfType [int]
        'x' | Should -BeOfType System.String
        'x' | Should -Not -BeOfType [int]
        1, 2, 3 | Should -HaveCount 3
        @() | Should -HaveCount 0
        1, 2 | Should -Not -HaveCount 3
    }

    It '-Match, -MatchExactly, -BeLike and -BeLikeExactly' {
        'sip:ken@contoso.com' | Should -Match '^SIP:'
        'sip:ken@contoso.com' | Should -MatchExactly '^sip:'
        'sip:ken@contoso.com' | Should -Not -MatchExactly '^SIP:'
        'Tag:Guests' | Should -BeLike 'tag:*'
        'Tag:Guests' | Should -BeLikeExactly 'Tag:*'
        'Tag:Guests' | Should -Not -BeLikeExactly 'tag:*'
    }

    It '-Contain and -BeIn' {
        'a', 'b' | Should -Contain 'b'
        'a', 'b' | Should -Not -Contain 'c'
        'b' | Should -BeIn 'a', 'b'
        'c' | Should -Not -BeIn 'a', 'b'
    }

    It 'the comparisons' {
        5 | Should -BeGreaterThan 4
        5 | Should -BeGreaterOrEqual 5
        4 | Should -BeLessThan 5
        5 | Should -BeLessOrEqual 5
        5 | Should -Not -BeLessThan 5
    }

    It '-Exist and -FileContentMatch' {
        $file = Join-Path $TestDrive 'policy.txt'
        Set-Content -Path $file -Value 'MaxMeetingSize = 250', 'AllowAnonymous = True'
        $file | Should -Exist
        Join-Path $TestDrive 'none.txt' | Should -Not -Exist
        $file | Should -FileContentMatch 'allowanonymous'
        $file | Should -Not -FileContentMatch 'Edge'
    }

    It '-Throw with its filters, and -PassThru' {
        { throw 'pool offline' } | Should -Throw
        { throw 'pool offline' } | Should -Throw -ExpectedMessage 'pool*'
        { throw 'pool offline' } | Should -Throw 'pool offline'
        { Get-CsUser -Identity 'sip:nobody@contoso.com' -ErrorAction Stop } | Should -Throw -ErrorId '*'
        { [int]'x' } | Should -Throw -ExceptionType ([System.InvalidCastException])
        { 1 } | Should -Not -Throw
        $err = { throw 'kept' } | Should -Throw -PassThru
        $err.Exception.Message | Should -Be 'kept'
    }

    It '-HaveParameter' {
        function Set-Pool {
            param(
                [Parameter(Mandatory)][string]$Identity,
                [Alias('Size')][int]$MaxSize = 250,
                [switch]$Force
            )
        }
        Get-Command Set-Pool | Should -HaveParameter Identity -Mandatory -Type [string]
        Get-Command Set-Pool | Should -HaveParameter MaxSize -DefaultValue 250 -Alias Size
        Get-Command Set-Pool | Should -HaveParameter Force -Type [switch]
        Get-Command Set-Pool | Should -Not -HaveParameter Name
        Get-Command Get-CsUser | Should -HaveParameter Identity
    }

    It '-Because is accepted' {
        1 | Should -Be 1 -Because 'one is one'
    }
}
