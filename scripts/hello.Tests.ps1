# Pester tests for hello.ps1: run with Invoke-Pester scripts/hello.Tests.ps1
Describe 'hello.ps1' {
    It 'greets the admin by default' {
        $out = & "$PSScriptRoot/hello.ps1"
        $out[0] | Should -BeLike 'Hello, admin! Today is *day.'
    }
    It 'greets the name given' {
        (& "$PSScriptRoot/hello.ps1" -Name Ken)[0] | Should -Match '^Hello, Ken!'
    }
    It 'lists the odd numbers up to five' {
        $out = & "$PSScriptRoot/hello.ps1"
        $out | Should -HaveCount 4
        $out[1..3] | Should -Be 'odd: 1', 'odd: 3', 'odd: 5'
    }
}
