
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
