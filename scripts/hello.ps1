# A first look at the language: variables, a function, a pipeline.
param([string]$Name = 'admin')

function Get-Greeting([string]$Who) {
    "Hello, $Who! Today is $((Get-Date).DayOfWeek)."
}

Get-Greeting $Name
1..5 | Where-Object { $_ % 2 } | ForEach-Object { "odd: $_" }
