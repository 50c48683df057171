//! How records sit in a JSON input (one object, an array of objects,
//! concatenated objects or JSON lines, maybe after a UTF-8 BOM) and how to
//! read them from a buffer that may hold only part of the input.
//!
//! [`Framer::scan`] parses every record that lies wholly inside the buffer
//! and says how many bytes it is done with; a record cut by the end of the
//! buffer waits for more data (unless the input is finished, then it is an
//! error). Line and record numbers carry over from buffer to buffer, so a
//! streamed input reports the same errors as the same bytes read at once.

use super::json::{JsonReader, Outcome};
use super::lexer::value_end;
use super::{InputError, ReadStats};
use crate::event::Event;
use std::path::Path;

/// Bytes read from a stream at a time.
pub const CHUNK: usize = 256 << 10;

/// A record still incomplete after this many bytes is parsed as it is (and
/// reported as malformed) instead of buffering more of it.
pub const MAX_RECORD: usize = 16 << 20;

/// Reading state carried from buffer to buffer.
#[derive(Debug)]
pub(super) struct Framer {
    started: bool,
    in_array: bool,
    /// In an array, after a record: `,` or `]` is due.
    expect_sep: bool,
    /// The array's `]` was read.
    closed: bool,
    /// Nothing more will be read (trailing data after `]` was reported).
    done: bool,
    /// Input offset of the current buffer's first byte.
    base: u64,
    /// 1-based line number at input offset `line_pos`.
    line: u64,
    line_pos: u64,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Framer {
    pub fn new() -> Self {
        Framer {
            started: false,
            in_array: false,
            expect_sep: false,
            closed: false,
            done: false,
            base: 0,
            line: 1,
            line_pos: 0,
        }
    }

    /// The line reached so far.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The caller dropped the first `n` bytes of the buffer.
    pub fn consumed(&mut self, n: usize) {
        self.base += n as u64;
    }

    fn rel(&self, abs: u64) -> usize {
        (abs - self.base) as usize
    }

    /// Counts lines up to buffer offset `to`.
    fn advance(&mut self, data: &[u8], to: usize) {
        let from = self.rel(self.line_pos);
        if to > from {
            self.line += count_lines(&data[from..to]) as u64;
            self.line_pos = self.base + to as u64;
        }
    }

    /// The line of buffer offset `at` (not before the last counted one).
    fn line_at(&self, data: &[u8], at: usize) -> u64 {
        let from = self.rel(self.line_pos);
        let to = at.min(data.len()).max(from);
        self.line + count_lines(&data[from..to]) as u64
    }

    fn error(&self, name: &Path, record: u64, line: u64, reason: impl Into<String>) -> InputError {
        InputError::new(name, record.max(1), line, reason)
    }

    /// Parses the records of `data`; `eof` says the input ends with it.
    /// Returns how many leading bytes are done with (the rest must be kept
    /// and passed again, followed by more data).
    #[allow(clippy::too_many_arguments, reason = "the reader, the buffer and both callbacks belong together")]
    pub fn scan(
        &mut self,
        reader: &mut JsonReader,
        name: &Path,
        data: &[u8],
        eof: bool,
        stats: &mut ReadStats,
        on_event: &mut dyn FnMut(&Event),
        on_error: &mut dyn FnMut(InputError),
    ) -> usize {
        if self.done {
            return data.len();
        }
        // One UTF-8 check for the whole buffer instead of one per string.
        let text = match std::str::from_utf8(data) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or_default(),
        };
        let mut pos = 0;
        if !self.started {
            if !eof && data.len() < BOM.len() && BOM.starts_with(data) {
                return 0;
            }
            if data.starts_with(BOM) {
                pos = BOM.len();
            }
            pos = skip_ws(data, pos);
            if pos == data.len() && !eof {
                // Only whitespace so far: the layout is not known yet.
                return 0;
            }
            self.started = true;
            if data.get(pos) == Some(&b'[') {
                self.in_array = true;
                pos += 1;
            }
        }
        loop {
            pos = skip_ws(data, pos);
            let Some(&c) = data.get(pos) else {
                if eof && self.in_array && !self.closed && stats.records > 0 {
                    stats.errors += 1;
                    let line = self.line_at(data, data.len());
                    on_error(self.error(name, stats.records, line, "array is not closed (truncated file?)"));
                    self.done = true;
                }
                self.advance(data, data.len());
                return data.len();
            };
            if self.closed {
                stats.errors += 1;
                let line = self.line_at(data, pos);
                on_error(self.error(name, stats.records, line, "data after the closing ']'"));
                self.done = true;
                self.advance(data, data.len());
                return data.len();
            }
            if self.in_array && self.expect_sep {
                self.expect_sep = false;
                match c {
                    b',' => pos += 1,
                    b']' => {
                        pos += 1;
                        self.closed = true;
                    }
                    _ => {
                        // Missing comma: report, then read on as if it were there.
                        stats.errors += 1;
                        let line = self.line_at(data, pos);
                        on_error(self.error(name, stats.records, line, "expected ',' or ']' after a record"));
                    }
                }
                continue;
            }
            if self.in_array && c == b']' {
                pos += 1;
                self.closed = true;
                continue;
            }
            if !self.in_array && c == b',' {
                pos += 1;
                continue;
            }
            // Whether what is buffered is all there will be for this record.
            let last = eof || data.len() - pos > MAX_RECORD;
            match reader.record(data, text, pos) {
                Ok((end, outcome)) => {
                    stats.records += 1;
                    match outcome {
                        Outcome::Event => {
                            stats.events += 1;
                            on_event(reader.event());
                        }
                        Outcome::Skipped => stats.skipped += 1,
                    }
                    self.advance(data, pos);
                    pos = end;
                }
                Err(e) => {
                    let closes = value_end(data, pos);
                    // A record (or stray scalar) that reaches the end of
                    // the buffer may go on in the next one.
                    if !last && (e.at >= data.len() || closes.is_none_or(|c| c >= data.len())) {
                        // Cut by the end of the buffer: wait for more.
                        self.advance(data, pos);
                        return pos;
                    }
                    stats.records += 1;
                    stats.errors += 1;
                    let line = self.line_at(data, e.at);
                    self.advance(data, pos);
                    on_error(self.error(name, stats.records, line, e.reason));
                    pos = closes.or_else(|| next_line_object(data, pos)).unwrap_or(data.len());
                }
            }
            self.expect_sep = self.in_array;
        }
    }
}

/// After a record whose brackets never close: the next line starting with `{`.
fn next_line_object(data: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while let Some(off) = memchr::memchr(b'\n', data.get(i..)?) {
        i += off + 1;
        if data.get(i) == Some(&b'{') {
            return Some(i);
        }
    }
    None
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

fn count_lines(b: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', b).count()
}
