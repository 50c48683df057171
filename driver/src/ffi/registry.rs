//! The service's `Parameters` key, where the boot-loop guard keeps its counter.

use super::strings::static_name;
use core::ffi::c_void;
use wdk_sys::{HANDLE, OBJECT_ATTRIBUTES, UNICODE_STRING};

/// "Parameters", NUL-terminated UTF-16.
const PARAMETERS: &[u16] = &utf16z(b"Parameters\0");

const fn utf16z<const N: usize>(ascii: &[u8; N]) -> [u16; N] {
    let mut out = [0u16; N];
    let mut i = 0;
    while i < N {
        #[expect(clippy::indexing_slicing, reason = "i < N for both arrays; only evaluated in a const item")]
        {
            out[i] = ascii[i] as u16;
        }
        i += 1;
    }
    out
}

/// `InitializeObjectAttributes` (a macro in the WDK).
fn object_attributes(name: &mut UNICODE_STRING, root: HANDLE) -> OBJECT_ATTRIBUTES {
    OBJECT_ATTRIBUTES {
        Length: core::mem::size_of::<OBJECT_ATTRIBUTES>() as u32,
        RootDirectory: root,
        ObjectName: name,
        Attributes: wdk_sys::OBJ_KERNEL_HANDLE | wdk_sys::OBJ_CASE_INSENSITIVE,
        SecurityDescriptor: core::ptr::null_mut(),
        SecurityQualityOfService: core::ptr::null_mut(),
    }
}

/// An open registry key (a kernel handle), closed on drop.
pub(crate) struct RegKey {
    handle: HANDLE,
}

// SAFETY: a kernel handle (OBJ_KERNEL_HANDLE) is valid in every thread and process
// context; the key is used by one thread at a time (the owner holds it in a mutex).
unsafe impl Send for RegKey {}

/// The registry path DriverEntry receives, borrowed for DriverEntry.
pub(crate) struct RegistryPath<'a> {
    pub(crate) path: &'a UNICODE_STRING,
}

impl RegKey {
    /// Opens `<service key>\Parameters`, creating it if it is missing (a driver started
    /// with `sc create` has none). PASSIVE_LEVEL.
    pub(crate) fn open_parameters(service: &RegistryPath<'_>) -> Result<RegKey, i32> {
        let mut service_name = UNICODE_STRING { ..*service.path };
        let mut oa = object_attributes(&mut service_name, core::ptr::null_mut());
        let mut service_key: HANDLE = core::ptr::null_mut();
        // SAFETY: 1. `oa` and the name it points to live across the call; the name's
        // buffer is the kernel's registry path, valid during DriverEntry; 2. `service_key`
        // is a valid out pointer; 3. PASSIVE_LEVEL.
        let status = unsafe {
            wdk_sys::ntddk::ZwOpenKey(&mut service_key, wdk_sys::KEY_CREATE_SUB_KEY | wdk_sys::KEY_QUERY_VALUE, &mut oa)
        };
        if status < 0 {
            return Err(status);
        }
        let service_key = RegKey { handle: service_key };
        let mut params_name = static_name(PARAMETERS);
        let mut oa = object_attributes(&mut params_name, service_key.handle);
        let mut handle: HANDLE = core::ptr::null_mut();
        let mut disposition = 0u32;
        // SAFETY: 1. `oa` names "Parameters" relative to the open service key, both live
        // across the call; 2. `handle` and `disposition` are valid out pointers;
        // 3. PASSIVE_LEVEL.
        let status = unsafe {
            wdk_sys::ntddk::ZwCreateKey(
                &mut handle,
                wdk_sys::KEY_QUERY_VALUE | wdk_sys::KEY_SET_VALUE,
                &mut oa,
                0,
                core::ptr::null_mut(),
                wdk_sys::REG_OPTION_NON_VOLATILE,
                &mut disposition,
            )
        };
        if status < 0 {
            return Err(status);
        }
        Ok(RegKey { handle })
    }

    /// Reads a REG_DWORD value; `None` if it is absent or of another type or size.
    pub(crate) fn read_dword(&self, name: &'static [u16]) -> Option<u32> {
        let mut value_name = static_name(name);
        // KEY_VALUE_PARTIAL_INFORMATION: TitleIndex, Type, DataLength, Data[].
        let mut buf = [0u32; 8];
        let mut returned = 0u32;
        // SAFETY: 1. the key handle is open (owned by self); 2. `value_name` and `buf` live
        // across the call and `buf` is writable for the 32 bytes passed; 3. PASSIVE_LEVEL.
        let status = unsafe {
            wdk_sys::ntddk::ZwQueryValueKey(
                self.handle,
                &mut value_name,
                wdk_sys::_KEY_VALUE_INFORMATION_CLASS::KeyValuePartialInformation,
                buf.as_mut_ptr().cast::<c_void>(),
                core::mem::size_of_val(&buf) as u32,
                &mut returned,
            )
        };
        match buf {
            [_, ty, 4, data, ..] if status >= 0 && ty == wdk_sys::REG_DWORD => Some(data),
            _ => None,
        }
    }

    /// Writes a REG_DWORD value and flushes the key to disk, so the value survives a
    /// crash right after (the point of the boot-loop guard). PASSIVE_LEVEL.
    pub(crate) fn write_dword(&self, name: &'static [u16], value: u32) -> Result<(), i32> {
        let mut value_name = static_name(name);
        let mut data = value;
        // SAFETY: 1. open key handle; 2. `value_name` and `data` live across the call, and
        // `data` is readable for the 4 bytes passed; 3. PASSIVE_LEVEL.
        let status = unsafe {
            wdk_sys::ntddk::ZwSetValueKey(
                self.handle,
                &mut value_name,
                0,
                wdk_sys::REG_DWORD,
                (&mut data as *mut u32).cast::<c_void>(),
                4,
            )
        };
        if status < 0 {
            return Err(status);
        }
        // SAFETY: open key handle; PASSIVE_LEVEL.
        let status = unsafe { wdk_sys::ntddk::ZwFlushKey(self.handle) };
        if status < 0 { Err(status) } else { Ok(()) }
    }
}

impl Drop for RegKey {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by ZwOpenKey/ZwCreateKey as a kernel handle and is
        // closed once, here.
        let _ = unsafe { wdk_sys::ntddk::ZwClose(self.handle) };
    }
}
