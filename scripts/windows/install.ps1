# Installs and loads vigil.sys from the package folder that `cargo make package-driver`
# makes (target\x86_64-pc-windows-msvc\release\vigil_package). Administrator, test-signed VM.
#Requires -RunAsAdministrator
param(
    [string]$Package = "$PSScriptRoot\..\..\target\x86_64-pc-windows-msvc\release\vigil_package",
    [switch]$Legacy   # InstallHinfSection instead of pnputil (Windows 10 before 1903)
)
$ErrorActionPreference = 'Stop'
$Package = (Resolve-Path $Package).Path
$inf = Join-Path $Package 'vigil.inf'
$cer = Join-Path $Package 'VigilTestCert.cer'

Write-Host '1. Trust the test certificate (machine Root and TrustedPublisher stores)'
certutil -f -addstore Root $cer | Out-Null
certutil -f -addstore TrustedPublisher $cer | Out-Null

Write-Host '2. Install the driver package'
if ($Legacy) {
    RUNDLL32.EXE SETUPAPI.DLL,InstallHinfSection DefaultInstall.NTamd64 132 $inf
} else {
    pnputil /add-driver $inf /install
    if ($LASTEXITCODE -ne 0) { throw "pnputil failed ($LASTEXITCODE)" }
}
# Expect: the service exists, demand start, in the FSFilter Activity Monitor group.
sc.exe qc vigil

Write-Host '3. Load it'
fltmc load vigil
if ($LASTEXITCODE -ne 0) { throw "fltmc load failed ($LASTEXITCODE): see docs/windows-testing.md, 'If it does not load'" }
# Expect: vigil listed with altitude 385100 and one instance per volume.
fltmc filters | Select-String -Pattern 'Filter Name|vigil'
fltmc instances -f vigil
# Expect: UncleanStarts = 0x1 (this start is counted until a clean unload or 5 minutes of uptime).
reg query 'HKLM\SYSTEM\CurrentControlSet\Services\vigil\Parameters' /v UncleanStarts
