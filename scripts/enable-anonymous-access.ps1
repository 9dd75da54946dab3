# Lets people outside the organisation join meetings anonymously:
#   1. the Edge server admits anonymous users;
#   2. a conferencing policy allows anonymous participants, ready to be
#      granted to the users who may invite them.
# Safe to run again: it only changes what is not already so.
param(
    [string]$PolicyName = 'AnonymousMeetings',
    [int]$MaxMeetingSize = 250
)

$edge = Get-CsAccessEdgeConfiguration
if (-not $edge.AllowAnonymousUsers) {
    Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True
    Write-Host "Anonymous access enabled on the Edge."
}

$policy = Get-CsConferencingPolicy -Identity $PolicyName -ErrorAction SilentlyContinue
if ($null -eq $policy) {
    $policy = New-CsConferencingPolicy -Identity $PolicyName `
        -AllowAnonymousParticipantsInMeetings $True `
        -MaxMeetingSize $MaxMeetingSize
    Write-Host "Created conferencing policy $($policy.Identity)."
}

Get-CsAccessEdgeConfiguration | Select-Object Identity, AllowAnonymousUsers, AllowOutsideUsers
Get-CsConferencingPolicy -Filter 'tag:*' |
    Where-Object { $_.AllowAnonymousParticipantsInMeetings } |
    Select-Object Identity, AllowAnonymousParticipantsInMeetings, MaxMeetingSize
