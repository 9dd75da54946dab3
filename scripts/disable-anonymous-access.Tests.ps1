# Pester tests for disable-anonymous-access.ps1, on a scratch store.
Describe 'disable-anonymous-access.ps1' {
    BeforeAll {
        Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $true
        $null = New-CsConferencingPolicy -Identity Open -AllowAnonymousParticipantsInMeetings $true
        $null = & "$PSScriptRoot/disable-anonymous-access.ps1" -RemovePolicy Open
    }
    It 'closes the Edge to anonymous users' {
        (Get-CsAccessEdgeConfiguration).AllowAnonymousUsers | Should -BeFalse
    }
    It 'leaves no policy allowing anonymous participants' {
        Get-CsConferencingPolicy | Where-Object AllowAnonymousParticipantsInMeetings | Should -BeNullOrEmpty
    }
    It 'removes the policies named' {
        { Get-CsConferencingPolicy -Identity Open -ErrorAction Stop } | Should -Throw
    }
}
