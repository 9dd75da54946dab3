# Reports which users may invite anonymous participants to their meetings:
# the conferencing policy in effect for the user (per-user, else the site's,
# else Global) must allow anonymous participants, and the Edge must admit
# anonymous users at all.
param(
    [string]$OutCsv
)

$edge = Get-CsAccessEdgeConfiguration
if ($edge.AllowAnonymousUsers) {
    Write-Host "The Edge admits anonymous users."
}
else {
    Write-Host "The Edge does NOT admit anonymous users: no one can bring anonymous participants in from outside."
}

# Look each policy up once, not once per user.
$allows = @{}
Get-CsConferencingPolicy | ForEach-Object {
    $allows[$_.Identity] = [bool]$_.AllowAnonymousParticipantsInMeetings
}

$report = foreach ($user in Get-CsUser) {
    $effective = Get-CsEffectivePolicy -Identity $user -PolicyType ConferencingPolicy
    $policyAllows = $allows[$effective.Policy] -eq $true
    [pscustomobject]@{
        DisplayName    = $user.DisplayName
        SipAddress     = $user.SipAddress
        Policy         = $effective.Policy
        Scope          = $effective.Scope
        PolicyAllows   = $policyAllows
        CanInviteAnonymous = $policyAllows -and [bool]$edge.AllowAnonymousUsers
    }
}

$report | Sort-Object DisplayName | Format-Table -AutoSize
$count = @($report | Where-Object CanInviteAnonymous).Count
Write-Host "$count of $(@($report).Count) user(s) can invite anonymous participants."
if ($OutCsv) {
    $report | Export-Csv -Path $OutCsv -NoTypeInformation
}
