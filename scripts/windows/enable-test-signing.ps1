# Run once on the test VM, as Administrator. Test-signed drivers load only with test
# signing on, which Secure Boot forbids. Reboot afterwards.
#Requires -RunAsAdministrator
$ErrorActionPreference = 'Stop'

try {
    if (Confirm-SecureBootUEFI) {
        throw 'Secure Boot is on: turn it off in the VM firmware settings (Hyper-V: Settings > Security), then run this again.'
    }
} catch [System.PlatformNotSupportedException] {
    Write-Host 'Legacy BIOS VM: no Secure Boot to turn off.'
}

bcdedit /set testsigning on
if ($LASTEXITCODE -ne 0) { throw "bcdedit failed ($LASTEXITCODE)" }
Write-Host 'Test signing is on. Reboot; the desktop then shows "Test Mode" in the bottom-right corner.'
