//! The members of FLT_PARAMETERS the driver reads, laid out as fltKernel.h lays them out
//! on x64.
//!
//! fltKernel.h marks some members `POINTER_ALIGNMENT` (`DECLSPEC_ALIGN(8)` on 64-bit).
//! The metadata windows-sys is generated from drops that attribute, so on x64 its
//! `FLT_PARAMETERS` members put `Create.FileAttributes`, `Create.ShareAccess`,
//! `Create.EaLength`, `Write.Key` and `SetFileInformation.FileInformationClass` (and
//! everything after them) 4 bytes too early (microsoft/windows-rs#3525,
//! microsoft/wdkmetadata#88; the same loss in IO_STACK_LOCATION is windows-rs#4404).
//! Reading them through windows-sys would read the wrong bytes. These structs restore the
//! padding, and the assertions below pin both the right offsets and windows-sys's wrong
//! ones, so a windows-sys fix fails the build here and this module can be retired.

use core::ffi::c_void;
use core::mem::offset_of;
use windows_sys::Wdk::Storage::FileSystem::Minifilters as flt;

/// `FLT_PARAMETERS.Create` (fltKernel.h, x64).
#[repr(C)]
pub(crate) struct CreateParameters {
    /// PIO_SECURITY_CONTEXT.
    pub(crate) security_context: *mut wdk_sys::IO_SECURITY_CONTEXT,
    /// Create options (low 24 bits) and disposition (high 8 bits).
    pub(crate) options: u32,
    _align0: u32,
    /// `USHORT POINTER_ALIGNMENT FileAttributes`.
    pub(crate) file_attributes: u16,
    /// ShareAccess.
    pub(crate) share_access: u16,
    _align1: u32,
    /// `ULONG POINTER_ALIGNMENT EaLength`.
    pub(crate) ea_length: u32,
    _align2: u32,
    ea_buffer: *mut c_void,
    allocation_size: i64,
}

/// `FLT_PARAMETERS.SetFileInformation` (fltKernel.h, x64).
#[repr(C)]
pub(crate) struct SetFileInformationParameters {
    /// Length of `info_buffer`.
    pub(crate) length: u32,
    _align0: u32,
    /// `FILE_INFORMATION_CLASS POINTER_ALIGNMENT FileInformationClass`.
    pub(crate) information_class: u32,
    _align1: u32,
    parent_of_target: *mut c_void,
    /// `union { struct { BOOLEAN ReplaceIfExists, AdvanceOnly; }; ULONG ClusterCount;
    /// HANDLE DeleteHandle; }`.
    union_: u64,
    /// The caller's information, captured by the I/O manager into a system buffer.
    pub(crate) info_buffer: *mut c_void,
}

const _: () = {
    // fltKernel.h on x64.
    assert!(offset_of!(CreateParameters, options) == 8);
    assert!(offset_of!(CreateParameters, file_attributes) == 16);
    assert!(offset_of!(CreateParameters, share_access) == 18);
    assert!(offset_of!(CreateParameters, ea_length) == 24);
    assert!(offset_of!(CreateParameters, ea_buffer) == 32);
    assert!(offset_of!(CreateParameters, allocation_size) == 40);
    assert!(core::mem::size_of::<CreateParameters>() == 48);
    assert!(offset_of!(SetFileInformationParameters, information_class) == 8);
    assert!(offset_of!(SetFileInformationParameters, parent_of_target) == 16);
    assert!(offset_of!(SetFileInformationParameters, union_) == 24);
    assert!(offset_of!(SetFileInformationParameters, info_buffer) == 32);
    assert!(core::mem::size_of::<SetFileInformationParameters>() == 40);
    // The union is at least as large as the members read through these views (its
    // largest member, Others, is six pointers), and where fltKernel.h puts it.
    assert!(core::mem::size_of::<flt::FLT_PARAMETERS>() >= 48);
    assert!(offset_of!(flt::FLT_IO_PARAMETER_BLOCK, Parameters) == 24);
    // windows-sys 0.61's layouts without POINTER_ALIGNMENT (see the module docs).
    assert!(offset_of!(flt::FLT_PARAMETERS_0, FileAttributes) == 12);
    assert!(offset_of!(flt::FLT_PARAMETERS_6, FileInformationClass) == 4);
    // The FltMgr structures read through windows-sys, checked against fltKernel.h (x64).
    assert!(core::mem::size_of::<flt::FLT_CALLBACK_DATA>() == 88);
    assert!(offset_of!(flt::FLT_CALLBACK_DATA, Thread) == 8);
    assert!(offset_of!(flt::FLT_CALLBACK_DATA, Iopb) == 16);
    assert!(offset_of!(flt::FLT_CALLBACK_DATA, IoStatus) == 24);
    assert!(offset_of!(flt::FLT_CALLBACK_DATA, RequestorMode) == 80);
    assert!(offset_of!(flt::FLT_IO_PARAMETER_BLOCK, IrpFlags) == 0);
    assert!(offset_of!(flt::FLT_IO_PARAMETER_BLOCK, MajorFunction) == 4);
    assert!(offset_of!(flt::FLT_IO_PARAMETER_BLOCK, TargetFileObject) == 8);
    assert!(offset_of!(flt::FLT_IO_PARAMETER_BLOCK, TargetInstance) == 16);
    assert!(core::mem::size_of::<flt::FLT_RELATED_OBJECTS>() == 48);
    assert!(offset_of!(flt::FLT_RELATED_OBJECTS, Instance) == 24);
    assert!(offset_of!(flt::FLT_RELATED_OBJECTS, FileObject) == 32);
    assert!(core::mem::size_of::<flt::FLT_REGISTRATION>() == 112);
    assert!(core::mem::size_of::<flt::FLT_OPERATION_REGISTRATION>() == 32);
    assert!(core::mem::size_of::<flt::FLT_CONTEXT_REGISTRATION>() == 56);
    assert!(offset_of!(flt::FLT_CONTEXT_REGISTRATION, Size) == 16);
    assert!(offset_of!(flt::FLT_CONTEXT_REGISTRATION, PoolTag) == 24);
    assert!(offset_of!(flt::FLT_FILE_NAME_INFORMATION, Name) == 8);
    // The UNICODE_STRINGs of both crates are the same C structure.
    assert!(
        core::mem::size_of::<windows_sys::Win32::Foundation::UNICODE_STRING>()
            == core::mem::size_of::<wdk_sys::UNICODE_STRING>()
    );
    assert!(
        offset_of!(windows_sys::Win32::Foundation::UNICODE_STRING, Buffer)
            == offset_of!(wdk_sys::UNICODE_STRING, Buffer)
    );
    // IO_SECURITY_CONTEXT.DesiredAccess (wdm.h, x64).
    assert!(offset_of!(wdk_sys::IO_SECURITY_CONTEXT, DesiredAccess) == 16);
};
