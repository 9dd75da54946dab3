# The way back: stops anonymous people joining meetings.
#   1. the Edge no longer admits anonymous users;
#   2. every conferencing policy stops allowing anonymous participants
#      (so turning the Edge back on later does not silently reopen meetings);
#   3. optionally, per-user policies that existed only for this are removed
#      and their users fall back to the site or Global policy.
[CmdletBinding(SupportsShouldProcess)]
param(
    [string[]]$RemovePolicy = @()
)

Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $False -WhatIf:$WhatIfPreference

$open = Get-CsConferencingPolicy | Where-Object { $_.AllowAnonymousParticipantsInMeetings }
foreach ($policy in $open) {
    Set-CsConferencingPolicy -Identity $policy.Identity -AllowAnonymousParticipantsInMeetings $False -WhatIf:$WhatIfPreference
    Write-Host "Anonymous participants no longer allowed by $($policy.Identity)."
}

foreach ($name in $RemovePolicy) {
    try {
        Remove-CsConferencingPolicy -Identity $name -Force -ErrorAction Stop -WhatIf:$WhatIfPreference
        Write-Host "Removed $name."
    }
    catch {
        Write-Warning "Could not remove ${name}: $($_.Exception.Message)"
    }
}

Get-CsAccessEdgeConfiguration | Select-Object Identity, AllowAnonymousUsers
