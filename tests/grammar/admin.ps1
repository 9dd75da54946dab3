# A frozen copy of admin scripts (scripts/ and benches/data/ when pest
# replaced the hand-written parser): tests/grammar.rs breaks it in every
# place a user could and pins the error each break gives. Do not edit:
# the pinned list in errors.txt counts its bytes.
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

# Grant the anonymous-meeting policy to everyone in a department.
param([string]$Department = 'Sales', [switch]$WhatIf)

function Get-Targets {
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)][string]$Dept, [int]$Limit = 100)
    process {
        $users = Get-CsUser -Filter { Department -eq $Dept } | Select-Object -First $Limit
        foreach ($u in $users) {
            if ($u.ConferencingPolicy -eq $null -and $u.Enabled) {
                [pscustomobject]@{ Name = $u.DisplayName; Sip = $u.SipAddress; Count = $users.Count }
            } elseif ($u.SipAddress -like '*@contoso.com') {
                Write-Verbose "skipping $($u.DisplayName) ($($u.SipAddress))"
            } else {
                $skipped += 1
            }
        }
    }
}

$params = @{ PolicyName = 'AnonymousAllowed'; WhatIf = $WhatIf }
$report = @()
try {
    $Department | Get-Targets -Limit 50 | ForEach-Object {
        Grant-CsConferencingPolicy -Identity $_.Sip @params
        $report += "{0,-30} {1:N0}" -f $_.Name, ($_.Count * 1.5)
    }
} catch [System.Management.Automation.RuntimeException] {
    Write-Warning "Failed: $($_.Exception.Message)"
} finally {
    $report | Sort-Object | Out-String | Write-Host
}
switch -Wildcard ($Department) { 'S*' { 'starts with S' } default { 'other' } }
$total = ($report | Measure-Object).Count; $h = [ordered]@{ Total = $total; When = Get-Date }
