# Exercises vigil.sys's control interface without the analyzer: connect to the port,
# handshake, read statistics, set a valid and an invalid configuration. Administrator
# (the port and the device admit only Administrators and SYSTEM).
#
# The byte layouts below are vigil-protocol's (protocol/src/control.rs, config.rs) for
# PROTOCOL_VERSION 1.0 / SCHEMA_VERSION 1; the analyzer uses the crate itself.
#Requires -RunAsAdministrator
$ErrorActionPreference = 'Stop'

Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
public static class VigilProbe {
    [DllImport("fltlib.dll", CharSet = CharSet.Unicode)]
    public static extern int FilterConnectCommunicationPort(string portName, uint options, IntPtr context,
        ushort sizeOfContext, IntPtr securityAttributes, out SafeFileHandle port);
    [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
    public static extern SafeFileHandle CreateFileW(string name, uint access, uint share, IntPtr sa,
        uint disposition, uint flags, IntPtr template);
    [DllImport("kernel32.dll", SetLastError = true)]
    static extern bool DeviceIoControl(SafeFileHandle h, uint code, byte[] input, uint inputLen,
        byte[] output, uint outputLen, out uint returned, IntPtr overlapped);
    public static int Ioctl(SafeFileHandle h, uint code, byte[] input, byte[] output, out uint returned) {
        bool ok = DeviceIoControl(h, code, input, input == null ? 0u : (uint)input.Length,
            output, output == null ? 0u : (uint)output.Length, out returned, IntPtr.Zero);
        return ok ? 0 : Marshal.GetLastWin32Error();
    }
}
'@

$IOCTL_HELLO = [uint32]0x8A11E000
$IOCTL_SET_CONFIG = [uint32]0x8A11E008
$IOCTL_GET_STATS = [uint32]0x8A11E00C
function Put32([byte[]]$b, [int]$at, [uint32]$v) { [BitConverter]::GetBytes($v).CopyTo($b, $at) }
function Put16([byte[]]$b, [int]$at, [uint16]$v) { [BitConverter]::GetBytes($v).CopyTo($b, $at) }
function Get32([byte[]]$b, [int]$at) { [BitConverter]::ToUInt32($b, $at) }
function Get64([byte[]]$b, [int]$at) { [BitConverter]::ToUInt64($b, $at) }
function Ioctl($h, $code, $in, $outLen) {
    $out = if ($outLen) { New-Object byte[] $outLen } else { $null }
    $n = [uint32]0
    $err = [VigilProbe]::Ioctl($h, $code, $in, $out, [ref]$n)
    [pscustomobject]@{ Error = $err; Bytes = $n; Out = $out }
}

# 1. The session: the port admits one client; this process becomes it.
$port = $null
$hr = [VigilProbe]::FilterConnectCommunicationPort('\VigilPort', 0, [IntPtr]::Zero, 0, [IntPtr]::Zero, [ref]$port)
if ($hr -ne 0) { throw ('FilterConnectCommunicationPort: 0x{0:X8} (driver not loaded, not elevated, or another client connected)' -f $hr) }
$dev = [VigilProbe]::CreateFileW('\\.\VigilControl', 0xC0000000, 0, [IntPtr]::Zero, 3, 0, [IntPtr]::Zero)
if ($dev.IsInvalid) { throw "CreateFile(\\.\VigilControl): $([Runtime.InteropServices.Marshal]::GetLastWin32Error())" }

# 2. Before the handshake everything else is refused.
$r = Ioctl $dev $IOCTL_GET_STATS $null 4208
Write-Host ("GET_STATS before HELLO: error {0} (expect non-zero: STATUS_INVALID_DEVICE_STATE)" -f $r.Error)

# 3. Handshake: magic "VGHL", protocol 1.0, schema 1, flags 0.
$hello = New-Object byte[] 16
Put32 $hello 0 0x4C484756; Put32 $hello 4 0x00010000; Put32 $hello 8 1
$r = Ioctl $dev $IOCTL_HELLO $hello 24
if ($r.Error -ne 0) { throw "HELLO failed: $($r.Error)" }
Write-Host ("HELLO: protocol 0x{0:X8}, schema {1}, mode {2} (1 active, 2 passive), driver 0x{3:X6}, {4} CPUs" -f `
    (Get32 $r.Out 4), (Get32 $r.Out 8), (Get32 $r.Out 12), (Get32 $r.Out 16), (Get32 $r.Out 20))

# 4. Statistics (DriverStats, 4208 bytes).
$r = Ioctl $dev $IOCTL_GET_STATS $null 4208
if ($r.Error -ne 0) { throw "GET_STATS failed: $($r.Error)" }
$s = $r.Out
Write-Host ("STATS: magic 0x{0:X8} ('VGST' = 0x54534756), mode {1}, unclean starts {2}, config generation {3}, attached {4}, client pid {5} (this is {6}), uptime {7} s, excluded {8}" -f `
    (Get32 $s 0), (Get32 $s 8), (Get32 $s 12), (Get32 $s 16), (Get32 $s 20), (Get32 $s 28), $PID, (Get64 $s 32), (Get64 $s 40))
Write-Host ("       produced {0}, dropped while detached {1} (no ring attached yet: events are counted, not lost silently)" -f (Get64 $s 48), (Get64 $s 80))

# 5. A valid configuration (the default, generation 2), then one with a bad field.
function Config([uint32]$generation, [uint32]$heartbeatMs) {
    $c = New-Object byte[] 128
    Put32 $c 0 0x46434756          # "VGCF"
    Put16 $c 4 1; Put16 $c 6 128   # version, size
    Put32 $c 8 $generation
    Put32 $c 12 0x003F000E         # capture_mask: every event kind
    Put32 $c 20 16384              # max_record_size
    Put32 $c 24 $heartbeatMs
    $c
}
$r = Ioctl $dev $IOCTL_SET_CONFIG (Config 2 10000) 8
Write-Host ("SET_CONFIG valid: error {0}, error_code {1} (expect 0), generation {2} (expect 2)" -f $r.Error, (Get32 $r.Out 0), (Get32 $r.Out 4))
$r = Ioctl $dev $IOCTL_SET_CONFIG (Config 3 5) 8
Write-Host ("SET_CONFIG heartbeat_ms=5: error_code {0} (expect 9: heartbeat_ms), generation {1} (expect 2: nothing applied)" -f (Get32 $r.Out 0), (Get32 $r.Out 4))

$dev.Dispose()
$port.Dispose()
Write-Host 'Disconnected. fltmc unload vigil should now succeed and reset UncleanStarts to 0.'
