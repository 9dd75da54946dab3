# Pester tests for grant-anonymous-policy.ps1, on a fresh scratch store:
# Invoke-Pester -Path scripts/grant-anonymous-policy.Tests.ps1 -FreshStore
Describe 'grant-anonymous-policy.ps1' {
    Context 'users missing from the directory' {
        It 'skips them unless told to create them' {
            $null = & "$PSScriptRoot/grant-anonymous-policy.ps1" -PolicyName Missing 3> $null
            Get-CsUser -Filter "ConferencingPolicy -eq 'Missing'" | Should -BeNullOrEmpty
        }
    }
    Context 'with -CreateMissingUsers' {
        BeforeAll {
            $null = & "$PSScriptRoot/grant-anonymous-policy.ps1" -CreateMissingUsers
        }
        It 'creates the policy' {
            (Get-CsConferencingPolicy -Identity AnonymousMeetings).AllowAnonymousParticipantsInMeetings | Should -BeTrue
        }
        It 'grants it to every user of the CSV file' {
            Get-CsUser -Filter "ConferencingPolicy -eq 'AnonymousMeetings'" | Should -HaveCount 10
        }
        It 'enables <Name> for Lync' -TestCases @{ Name = 'kenmyer@contoso.com' }, @{ Name = 'sdavis@contoso.com' } {
            (Get-CsUser -Identity $Name).Enabled | Should -BeTrue
        }
    }
}
