# Pester tests for enable-anonymous-access.ps1. Invoke-Pester runs them on a
# scratch copy of the configuration: the real store is never changed.
Describe 'enable-anonymous-access.ps1' {
    BeforeAll {
        $null = & "$PSScriptRoot/enable-anonymous-access.ps1" -PolicyName Guests -MaxMeetingSize 80
    }
    It 'opens the Edge to anonymous users' {
        (Get-CsAccessEdgeConfiguration).AllowAnonymousUsers | Should -BeTrue
    }
    It 'creates the policy with the size given' {
        $p = Get-CsConferencingPolicy -Identity Guests
        $p.AllowAnonymousParticipantsInMeetings | Should -BeTrue
        $p.MaxMeetingSize | Should -Be 80
    }
    It 'changes nothing when run again' {
        Set-CsConferencingPolicy -Identity Guests -MaxMeetingSize 90
        $null = & "$PSScriptRoot/enable-anonymous-access.ps1" -PolicyName Guests -MaxMeetingSize 80
        (Get-CsConferencingPolicy -Identity Guests).MaxMeetingSize | Should -Be 90
        @(Get-CsConferencingPolicy -Filter 'Tag:Guests') | Should -HaveCount 1
    }
}
