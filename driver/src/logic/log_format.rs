//! The format strings the driver's debugger log accepts (see `ffi::log`): integer
//! conversions only, so no argument is ever dereferenced.

/// Whether `fmt` is NUL-terminated (once, at the end) and has exactly `args`
/// conversions, each `%[0-9]*[duxX]` (`%%` is a literal percent sign).
pub const fn format_ok(fmt: &[u8], args: usize) -> bool {
    let mut rest = fmt;
    let mut count = 0;
    let mut terminated = false;
    while let [c, tail @ ..] = rest {
        rest = tail;
        match *c {
            0 => {
                terminated = rest.is_empty();
                break;
            }
            b'%' => {
                if let [b'%', tail @ ..] = rest {
                    rest = tail;
                    continue;
                }
                while let [b'0'..=b'9', tail @ ..] = rest {
                    rest = tail;
                }
                match rest {
                    [b'd' | b'u' | b'x' | b'X', tail @ ..] => {
                        rest = tail;
                        count += 1;
                    }
                    _ => return false,
                }
            }
            _ => {}
        }
    }
    terminated && count == args
}

#[cfg(test)]
mod tests {
    use super::format_ok;

    #[test]
    fn integer_conversions_only() {
        assert!(format_ok(b"plain\0", 0));
        assert!(format_ok(b"a %08x b %u %% c\0", 2));
        assert!(!format_ok(b"a %08x\0", 0), "count must match");
        assert!(!format_ok(b"%s\0", 1), "strings are dereferenced");
        assert!(!format_ok(b"%p\0", 1));
        assert!(!format_ok(b"%wZ\0", 1));
        assert!(!format_ok(b"%lx\0", 1), "no length modifiers: arguments are 32-bit");
        assert!(!format_ok(b"no nul", 0));
        assert!(!format_ok(b"a\0b\0", 0), "one NUL, at the end");
        assert!(!format_ok(b"trailing %\0", 0));
    }
}
