//! Reading the token facts of a new process out of the buffers ZwQueryInformationToken
//! fills (in the driver's own stack buffer: kernel memory, written by the kernel).
//!
//! TOKEN_USER and TOKEN_MANDATORY_LABEL are a SID_AND_ATTRIBUTES `{ PSID Sid; ULONG
//! Attributes; }` whose `Sid` points into the same buffer. The pointer is turned into an
//! offset and checked to lie inside the buffer, and the SID's length is checked against
//! what is left, before any byte of it is used.

/// Bytes of SID_AND_ATTRIBUTES on x64 (pointer, ULONG, padding).
pub const SID_AND_ATTRIBUTES_SIZE: usize = 16;
/// SID_MAX_SUB_AUTHORITIES.
pub const SID_MAX_SUB_AUTHORITIES: u8 = 15;

/// The length of the SID at the start of `bytes` (revision 1, at most 15
/// sub-authorities), if it fits.
pub fn sid_len(bytes: &[u8]) -> Option<usize> {
    let (&revision, &count) = (bytes.first()?, bytes.get(1)?);
    if revision != 1 || count > SID_MAX_SUB_AUTHORITIES {
        return None;
    }
    let len = 8 + 4 * usize::from(count);
    (len <= bytes.len()).then_some(len)
}

/// The SID a SID_AND_ATTRIBUTES at the start of `buf` points to. `buf_addr` is the
/// address of `buf[0]`.
pub fn sid_and_attributes(buf: &[u8], buf_addr: usize) -> Option<&[u8]> {
    let ptr = usize::try_from(u64::from_le_bytes(buf.get(..8)?.try_into().ok()?)).ok()?;
    let offset = ptr.checked_sub(buf_addr)?;
    let rest = buf.get(offset..)?;
    let len = sid_len(rest)?;
    rest.get(..len)
}

/// The last sub-authority of a SID: for a mandatory label, the integrity RID
/// (0x1000 low, 0x2000 medium, 0x3000 high, 0x4000 system).
pub fn last_sub_authority(sid: &[u8]) -> Option<u32> {
    let len = sid_len(sid)?;
    if len == 8 {
        return None;
    }
    Some(u32::from_le_bytes(sid.get(len - 4..len)?.try_into().ok()?))
}

/// A ULONG-sized token class (TokenElevation, TokenElevationType, TokenSessionId).
pub fn ulong(buf: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(buf.get(..4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// S-1-16-12288 (High Mandatory Level) after a SID_AND_ATTRIBUTES pointing at it.
    fn label_buffer(base: usize, sid_offset: usize) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..8].copy_from_slice(&((base + sid_offset) as u64).to_le_bytes());
        b[8..12].copy_from_slice(&0x60u32.to_le_bytes());
        let sid = [1u8, 1, 0, 0, 0, 0, 0, 16, 0x00, 0x30, 0, 0];
        b[sid_offset..sid_offset + sid.len()].copy_from_slice(&sid);
        b
    }

    #[test]
    fn reads_the_integrity_rid() {
        let base = 0xFFFF_8000_1234_0000;
        let b = label_buffer(base, SID_AND_ATTRIBUTES_SIZE);
        let sid = sid_and_attributes(&b, base);
        assert_eq!(sid.map(<[u8]>::len), Some(12));
        assert_eq!(sid.and_then(last_sub_authority), Some(0x3000));
    }

    #[test]
    fn pointers_outside_the_buffer_are_refused() {
        let base = 0x10_0000;
        let b = label_buffer(base, SID_AND_ATTRIBUTES_SIZE);
        assert_eq!(sid_and_attributes(&b, base + 1000), None, "pointer below the buffer");
        assert_eq!(sid_and_attributes(&b, base - 1000), None, "pointer past the buffer");
        // A SID that claims more sub-authorities than the buffer holds.
        let mut b = label_buffer(base, 52);
        assert!(sid_and_attributes(&b, base).is_some(), "fits exactly at the end");
        b[53] = 2;
        assert_eq!(sid_and_attributes(&b, base), None);
    }

    #[test]
    fn sid_shape_is_checked() {
        assert_eq!(sid_len(&[1, 0, 0, 0, 0, 0, 0, 5]), Some(8));
        assert_eq!(sid_len(&[2, 0, 0, 0, 0, 0, 0, 5]), None, "revision");
        let mut sixteen = vec![1u8, 16];
        sixteen.resize(8 + 64, 0);
        assert_eq!(sid_len(&sixteen), None, "too many sub-authorities");
        assert_eq!(last_sub_authority(&[1, 0, 0, 0, 0, 0, 0, 5]), None, "no sub-authority");
        assert_eq!(ulong(&[2, 0, 0, 0, 9]), Some(2));
        assert_eq!(ulong(&[2, 0]), None);
    }
}
