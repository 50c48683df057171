//! The WDK structures the driver reads through wdk-sys, pinned to their x64 layout.
//!
//! On Linux, wdk-sys's bindings come from bindgen over mingw-w64's DDK headers, not the
//! WDK's; the two differ in places (mingw's DEVICE_OBJECT lacks the WDK's
//! DECLSPEC_ALIGN, its IRP and MDL omit fields the WDK added). These assertions check
//! every field the driver touches against the offsets of the WDK headers on x64 (as the
//! kernel debugger shows them: `dt nt!_IRP` etc.), so a binding that disagrees fails the
//! build instead of reading the wrong bytes. FltMgr structures are checked in
//! `flt_params`.

use core::mem::{offset_of, size_of};
use wdk_sys::{
    _IO_STACK_LOCATION__bindgen_ty_1__bindgen_ty_17 as DeviceIoControl, DEVICE_OBJECT, DRIVER_OBJECT, IMAGE_INFO,
    IO_STACK_LOCATION, IO_STATUS_BLOCK, IRP, MDL, OBJECT_ATTRIBUTES, PS_CREATE_NOTIFY_INFO, UNICODE_STRING,
};

const _: () = {
    // IRP (wdm.h).
    assert!(offset_of!(IRP, MdlAddress) == 0x08);
    assert!(offset_of!(IRP, AssociatedIrp) == 0x18);
    assert!(offset_of!(IRP, IoStatus) == 0x30);
    assert!(offset_of!(IRP, RequestorMode) == 0x40);
    assert!(offset_of!(IRP, Tail) == 0x78);
    // Tail.Overlay.CurrentStackLocation, what IoGetCurrentIrpStackLocation reads.
    assert!(
        offset_of!(IRP, Tail)
            + offset_of!(wdk_sys::_IRP__bindgen_ty_3__bindgen_ty_1, __bindgen_anon_2)
            + offset_of!(wdk_sys::_IRP__bindgen_ty_3__bindgen_ty_1__bindgen_ty_2, __bindgen_anon_1)
            == 0xB8
    );
    assert!(size_of::<IRP>() == 0xD0);
    assert!(size_of::<IO_STATUS_BLOCK>() == 16);
    // IO_STACK_LOCATION.
    assert!(offset_of!(IO_STACK_LOCATION, Parameters) == 0x08);
    assert!(offset_of!(IO_STACK_LOCATION, FileObject) == 0x30);
    assert!(size_of::<IO_STACK_LOCATION>() == 0x48);
    assert!(offset_of!(DeviceIoControl, OutputBufferLength) == 0x00);
    assert!(offset_of!(DeviceIoControl, InputBufferLength) == 0x08);
    assert!(offset_of!(DeviceIoControl, IoControlCode) == 0x10);
    // MDL.
    assert!(offset_of!(MDL, MdlFlags) == 0x0A);
    assert!(offset_of!(MDL, MappedSystemVa) == 0x18);
    assert!(offset_of!(MDL, ByteCount) == 0x28);
    // DRIVER_OBJECT / DEVICE_OBJECT.
    assert!(offset_of!(DRIVER_OBJECT, MajorFunction) == 0x70);
    assert!(size_of::<DRIVER_OBJECT>() == 0x150);
    assert!(offset_of!(DEVICE_OBJECT, Flags) == 0x30);
    // PS_CREATE_NOTIFY_INFO (ntddk.h).
    assert!(offset_of!(PS_CREATE_NOTIFY_INFO, ParentProcessId) == 0x10);
    assert!(offset_of!(PS_CREATE_NOTIFY_INFO, CreatingThreadId) == 0x18);
    assert!(offset_of!(PS_CREATE_NOTIFY_INFO, ImageFileName) == 0x30);
    assert!(offset_of!(PS_CREATE_NOTIFY_INFO, CommandLine) == 0x38);
    assert!(size_of::<PS_CREATE_NOTIFY_INFO>() == 0x48);
    // IMAGE_INFO (ntddk.h).
    assert!(offset_of!(IMAGE_INFO, ImageBase) == 0x08);
    assert!(offset_of!(IMAGE_INFO, ImageSize) == 0x18);
    // OBJECT_ATTRIBUTES, UNICODE_STRING.
    assert!(size_of::<OBJECT_ATTRIBUTES>() == 48);
    assert!(offset_of!(OBJECT_ATTRIBUTES, ObjectName) == 0x10);
    assert!(size_of::<UNICODE_STRING>() == 16);
    assert!(offset_of!(UNICODE_STRING, Buffer) == 8);
};
