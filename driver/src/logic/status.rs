//! The NTSTATUS values the driver's logic returns, as `i32` (ntstatus.h), so the logic
//! compiles and is tested on any host. Kernel builds assert each equals wdk-sys's value
//! (`kernel::status_check`).

/// STATUS_SUCCESS.
pub const SUCCESS: i32 = 0;
/// STATUS_PENDING: the attach IOCTL stays pending while the ring is attached.
pub const PENDING: i32 = 0x0000_0103;
/// STATUS_REPARSE: a create that will be reissued (not reported).
pub const REPARSE: i32 = 0x0000_0104;
/// STATUS_INVALID_PARAMETER.
pub const INVALID_PARAMETER: i32 = 0xC000_000Du32 as i32;
/// STATUS_INVALID_DEVICE_REQUEST: unknown IOCTL code.
pub const INVALID_DEVICE_REQUEST: i32 = 0xC000_0010u32 as i32;
/// STATUS_ACCESS_DENIED: the caller is not the connected client.
pub const ACCESS_DENIED: i32 = 0xC000_0022u32 as i32;
/// STATUS_BUFFER_TOO_SMALL: the output buffer cannot hold the reply.
pub const BUFFER_TOO_SMALL: i32 = 0xC000_0023u32 as i32;
/// STATUS_DEVICE_ALREADY_ATTACHED: a ring is already attached.
pub const DEVICE_ALREADY_ATTACHED: i32 = 0xC000_0038u32 as i32;
/// STATUS_REVISION_MISMATCH: the client speaks another protocol or schema version.
pub const REVISION_MISMATCH: i32 = 0xC000_0059u32 as i32;
/// STATUS_INSUFFICIENT_RESOURCES.
pub const INSUFFICIENT_RESOURCES: i32 = 0xC000_009Au32 as i32;
/// STATUS_CANCELLED: the attach IOCTL was cancelled.
pub const CANCELLED: i32 = 0xC000_0120u32 as i32;
/// STATUS_INVALID_DEVICE_STATE: no handshake yet, or the driver is passive.
pub const INVALID_DEVICE_STATE: i32 = 0xC000_0184u32 as i32;
/// STATUS_INVALID_BUFFER_SIZE: the input is not the size of the request struct.
pub const INVALID_BUFFER_SIZE: i32 = 0xC000_0206u32 as i32;

/// NT_SUCCESS.
pub const fn is_success(status: i32) -> bool {
    status >= 0
}
