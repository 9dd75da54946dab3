# Grants a conferencing policy that allows anonymous meeting participants
# to the users listed in a CSV file (columns: DisplayName, SamAccountName,
# UserPrincipalName, and optionally Department, Title, Site).
#   1. the policy is created when it does not exist yet;
#   2. with -CreateMissingUsers, users missing from the directory are
#      created, and users not yet enabled for Lync are enabled;
#   3. the policy is granted to each listed user.
# Safe to run again: users who already hold the policy are left alone.
param(
    [string]$CsvPath = "$PSScriptRoot/users.csv",
    [string]$PolicyName = 'AnonymousMeetings',
    [string]$RegistrarPool = 'pool01.contoso.com',
    [string]$SipDomain = 'contoso.com',
    [switch]$CreateMissingUsers
)

$policy = Get-CsConferencingPolicy -Identity $PolicyName -ErrorAction SilentlyContinue
if ($null -eq $policy) {
    $policy = New-CsConferencingPolicy -Identity $PolicyName -AllowAnonymousParticipantsInMeetings $True
    Write-Host "Created conferencing policy $($policy.Identity)."
}
elseif (-not $policy.AllowAnonymousParticipantsInMeetings) {
    Set-CsConferencingPolicy -Identity $PolicyName -AllowAnonymousParticipantsInMeetings $True
    Write-Host "Conferencing policy $($policy.Identity) now allows anonymous participants."
}

$rows = Import-Csv -Path $CsvPath
$enable = @{
    RegistrarPool  = $RegistrarPool
    SipAddressType = 'SamAccountName'
    SipDomain      = $SipDomain
}

$granted = 0
$failed = 0
foreach ($row in $rows) {
    $logon = "$($row.UserPrincipalName)"
    try {
        $adUser = Get-CsAdUser -Identity $logon -ErrorAction SilentlyContinue
        if ($null -eq $adUser) {
            if (-not $CreateMissingUsers) {
                throw "$($row.DisplayName) is not in the directory."
            }
            $adUser = $row | New-CsAdUser -ErrorAction Stop
            Write-Host "Created directory user $($row.DisplayName)."
        }
        if (-not $adUser.Enabled) {
            if (-not $CreateMissingUsers) {
                throw "$($row.DisplayName) is not enabled for Lync Server."
            }
            Enable-CsUser -Identity $logon @enable -ErrorAction Stop
            Write-Host "Enabled $($row.DisplayName) for Lync Server."
        }
        $user = Get-CsUser -Identity $logon -ErrorAction Stop
        if ($user.ConferencingPolicy -ne $PolicyName) {
            Grant-CsConferencingPolicy -Identity $user -PolicyName $PolicyName -ErrorAction Stop
            $granted++
        }
    }
    catch {
        Write-Warning "Skipped $($row.DisplayName): $($_.Exception.Message)"
        $failed++
    }
}

Write-Host "Granted $PolicyName to $granted user(s); $failed skipped."
Get-CsUser -Filter "ConferencingPolicy -eq '$PolicyName'" |
    Sort-Object DisplayName |
    Select-Object DisplayName, SipAddress, ConferencingPolicy
