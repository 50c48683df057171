# Unloads and removes vigil.sys. Administrator.
#Requires -RunAsAdministrator
param([switch]$Legacy, [string]$Package = "$PSScriptRoot\..\..\target\x86_64-pc-windows-msvc\release\vigil_package")
$ErrorActionPreference = 'Continue'

Write-Host '1. Unload (a clean unload resets the boot-loop guard)'
fltmc unload vigil
# Expect: UncleanStarts = 0x0.
reg query 'HKLM\SYSTEM\CurrentControlSet\Services\vigil\Parameters' /v UncleanStarts

Write-Host '2. Remove the package'
if ($Legacy) {
    RUNDLL32.EXE SETUPAPI.DLL,InstallHinfSection DefaultUninstall.NTamd64 132 (Join-Path $Package 'vigil.inf')
} else {
    # The driver store names the package oemNN.inf; find it by its original name.
    $published = (pnputil /enum-drivers | Out-String) -split "(\r?\n){2,}" |
        Where-Object { $_ -match 'Original Name:\s+vigil\.inf' } |
        ForEach-Object { if ($_ -match 'Published Name:\s+(oem\d+\.inf)') { $Matches[1] } }
    foreach ($p in $published) { pnputil /delete-driver $p /uninstall /force }
}
sc.exe query vigil   # Expect: 1060, the service does not exist.
