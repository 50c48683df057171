# Driver Verifier on vigil.sys. /standard includes I/O verification, which for a
# minifilter turns on Filter Verifier (FltMgr's checks of its API use). Reboot after
# -Enable and -Disable. Administrator, test VM only: a violation bugchecks the machine.
#Requires -RunAsAdministrator
param([switch]$Enable, [switch]$Disable, [switch]$Query)

if ($Enable) {
    verifier /standard /driver vigil.sys
    Write-Host 'Reboot, then load the driver (install.ps1 or fltmc load vigil) and run the workload.'
}
if ($Disable) {
    verifier /reset
    Write-Host 'Reboot to turn Driver Verifier off.'
}
if ($Query -or -not ($Enable -or $Disable)) {
    # Expect after the reboot: vigil.sys listed with the standard flags (I/O verification
    # among them) and, once loaded, "Loaded: 1".
    verifier /querysettings
    verifier /query
}
