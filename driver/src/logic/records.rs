//! Record fields computed from kernel bitfields: pure, so they are tested on the host.

use vigil_protocol::schema::{ImageLoad, ProcessStart};

/// IMAGE_INFO.Properties (ntddk.h): `ImageAddressingMode:8, SystemModeImage:1,
/// ImageMappedToAllPids:1, ExtendedInfoPresent:1, MachineTypeMismatch:1,
/// ImageSignatureLevel:4, ImageSignatureType:3, ImagePartialMap:1, Reserved:12`.
pub mod image_properties {
    /// SystemModeImage.
    pub const SYSTEM_MODE: u32 = 1 << 8;
    /// ExtendedInfoPresent (the signature fields are meaningful).
    pub const EXTENDED_INFO: u32 = 1 << 10;
    /// ImageSignatureLevel's shift and mask.
    pub const SIGNATURE_LEVEL_SHIFT: u32 = 12;
    /// ImageSignatureType's shift.
    pub const SIGNATURE_TYPE_SHIFT: u32 = 16;
}

/// `(flags, signature_level, signature_type)` of an ImageLoad record.
pub fn image_fields(properties: u32) -> (u32, u8, u8) {
    use image_properties::*;
    let mut flags = 0;
    if properties & SYSTEM_MODE != 0 {
        flags |= ImageLoad::FLAG_SYSTEM_MODE;
    }
    if properties & EXTENDED_INFO == 0 {
        return (flags, 0, 0);
    }
    flags |= ImageLoad::FLAG_SIGNATURE_KNOWN;
    let level = ((properties >> SIGNATURE_LEVEL_SHIFT) & 0xF) as u8;
    let kind = ((properties >> SIGNATURE_TYPE_SHIFT) & 0x7) as u8;
    (flags, level, kind)
}

/// PS_CREATE_NOTIFY_INFO.Flags bits.
pub mod create_info {
    /// FileOpenNameAvailable.
    pub const FILE_OPEN_NAME_AVAILABLE: u32 = 1 << 0;
    /// IsSubsystemProcess.
    pub const IS_SUBSYSTEM_PROCESS: u32 = 1 << 1;
}

/// `ProcessStart::flags` from the notify flags and the token's elevation.
pub fn process_flags(create_flags: u32, elevated: bool) -> u32 {
    let mut f = 0;
    if elevated {
        f |= ProcessStart::FLAG_ELEVATED;
    }
    if create_flags & create_info::FILE_OPEN_NAME_AVAILABLE != 0 {
        f |= ProcessStart::FLAG_FILE_OPEN_NAME;
    }
    if create_flags & create_info::IS_SUBSYSTEM_PROCESS != 0 {
        f |= ProcessStart::FLAG_SUBSYSTEM_PROCESS;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_properties_decode() {
        // A user-mode image with no extended info.
        assert_eq!(image_fields(64), (0, 0, 0));
        // A driver: system mode, extended info, level 0xC (Microsoft), type 1 (embedded).
        let p = image_properties::SYSTEM_MODE | image_properties::EXTENDED_INFO | 0xC << 12 | 1 << 16 | 1 << 19;
        assert_eq!(image_fields(p), (ImageLoad::FLAG_SYSTEM_MODE | ImageLoad::FLAG_SIGNATURE_KNOWN, 0xC, 1));
        // Signature bits without ExtendedInfoPresent are not trusted.
        assert_eq!(image_fields(0xF << 12), (0, 0, 0));
        assert_eq!(image_fields(u32::MAX).0 & !ImageLoad::FLAGS_KNOWN, 0);
    }

    #[test]
    fn process_flags_map() {
        assert_eq!(process_flags(0, false), 0);
        assert_eq!(
            process_flags(create_info::FILE_OPEN_NAME_AVAILABLE, true),
            ProcessStart::FLAG_FILE_OPEN_NAME | ProcessStart::FLAG_ELEVATED
        );
        assert_eq!(process_flags(u32::MAX, true), ProcessStart::FLAGS_KNOWN);
    }
}
