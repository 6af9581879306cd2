//! Records: one input line with its origin, borrowed from the reader's
//! buffer.
//!
//! A [`Record`] never owns its bytes, so the per-line path allocates
//! nothing; a stage that must keep a line past the current call (a
//! symptom waiting for its cause) copies what it needs into an
//! [`Origin`] and an owned text.

use crate::time::Timestamp;

/// Index of a source in the pipeline's [`Sources`] table.
pub type SourceId = u32;

/// One input line and where it came from.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Which source the line came from.
    pub source: SourceId,
    /// 1-based line number within the source.
    pub line: u64,
    /// Byte offset of the line's first byte within the source.
    pub offset: u64,
    /// The line exactly as read, terminator included (`\n`, `\r\n`, or
    /// nothing for a last line without one). Written out unchanged.
    pub raw: &'a [u8],
}

impl<'a> Record<'a> {
    /// The line without its terminator (`\n` or `\r\n`).
    #[inline]
    pub fn content(&self) -> &'a [u8] {
        let mut end = self.raw.len();
        if end > 0 && self.raw[end - 1] == b'\n' {
            end -= 1;
            if end > 0 && self.raw[end - 1] == b'\r' {
                end -= 1;
            }
        }
        &self.raw[..end]
    }
}

/// Where a kept event or symptom came from: enough to point a reader at
/// the line, with no borrow of the input buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub source: SourceId,
    pub line: u64,
    pub time: Option<Timestamp>,
    /// True when the time was inherited from an earlier line of the same
    /// source (a traceback line has no stamp of its own).
    pub time_inherited: bool,
}

/// The names of the pipeline's sources, as given on the command line
/// (`-` for standard input).
#[derive(Clone, Debug, Default)]
pub struct Sources {
    names: Vec<String>,
}

impl Sources {
    pub fn add(&mut self, name: impl Into<String>) -> SourceId {
        self.names.push(name.into());
        (self.names.len() - 1) as SourceId
    }

    pub fn name(&self, id: SourceId) -> &str {
        self.names.get(id as usize).map_or("?", String::as_str)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(raw: &[u8]) -> Record<'_> {
        Record {
            source: 0,
            line: 1,
            offset: 0,
            raw,
        }
    }

    #[test]
    fn content_strips_lf_and_crlf_only() {
        assert_eq!(rec(b"abc\n").content(), b"abc");
        assert_eq!(rec(b"abc\r\n").content(), b"abc");
        assert_eq!(rec(b"abc").content(), b"abc");
        assert_eq!(rec(b"abc\r").content(), b"abc\r");
        assert_eq!(rec(b"\n").content(), b"");
    }
}
