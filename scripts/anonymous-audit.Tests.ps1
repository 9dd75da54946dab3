# Pester tests for anonymous-audit.ps1, on a scratch store.
Describe 'anonymous-audit.ps1' {
    It 'writes the report to a CSV file in the test drive' {
        $csv = Join-Path $TestDrive 'audit.csv'
        $null = & "$PSScriptRoot/anonymous-audit.ps1" -OutCsv $csv
        $csv | Should -Exist
        $rows = @(Import-Csv $csv)
        $rows.Count | Should -Be @(Get-CsUser).Count
    }
    It 'finds no one able to invite anonymous people while the Edge is closed' {
        Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $false
        $csv = Join-Path $TestDrive 'closed.csv'
        $null = & "$PSScriptRoot/anonymous-audit.ps1" -OutCsv $csv
        Import-Csv $csv | Where-Object { $_.CanInviteAnonymous -eq 'True' } | Should -BeNullOrEmpty
    }
}
