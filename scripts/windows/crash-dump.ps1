# Crash dumps on the test VM: configure a kernel memory dump, and analyze one.
#Requires -RunAsAdministrator
param(
    [switch]$Configure,
    [string]$Analyze,   # path to a dump, e.g. C:\Windows\MEMORY.DMP
    [string]$Package = "$PSScriptRoot\..\..\target\x86_64-pc-windows-msvc\release\vigil_package"
)
$ErrorActionPreference = 'Stop'
$key = 'HKLM:\SYSTEM\CurrentControlSet\Control\CrashControl'

if ($Configure) {
    # 2 = kernel memory dump (enough for a driver, much smaller than a complete dump).
    Set-ItemProperty $key -Name CrashDumpEnabled -Value 2
    Set-ItemProperty $key -Name AutoReboot -Value 1
    Set-ItemProperty $key -Name Overwrite -Value 1
    Get-ItemProperty $key | Select-Object CrashDumpEnabled, DumpFile, MinidumpDir, AutoReboot
    Write-Host 'After a bugcheck: C:\Windows\MEMORY.DMP (kernel dump) and C:\Windows\Minidump\*.dmp.'
}
if ($Analyze) {
    $kd = Get-Command kd.exe -ErrorAction SilentlyContinue
    if (-not $kd) { throw 'kd.exe not found: run from an eWDK prompt or install Debugging Tools for Windows.' }
    $symbols = "srv*$env:TEMP\symbols*https://msdl.microsoft.com/download/symbols;$((Resolve-Path $Package).Path)"
    # Expect: !analyze names the bugcheck and, if vigil.sys is involved, a frame in it
    # resolved against vigil.pdb. A panic in Rust would be bugcheck 0x52504E43 ("RPNC",
    # wdk-panic), but the release image cannot reach one (verify-driver checks).
    & $kd.Source -z $Analyze -y $symbols -c '!analyze -v; lmvm vigil; !fltkd.filters; q'
}
