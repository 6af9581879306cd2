//! Framing: bytes to lines, exactly and losslessly.
//!
//! [`LineReader`] reads large blocks and hands out one line at a time as
//! a slice of its buffer, terminator included, so that writing every
//! slice in order reproduces the input byte for byte: invalid UTF-8,
//! `\r\n`, NUL bytes and a last line without a newline included.
//!
//! The buffer grows for long lines up to `max_line` bytes. A longer line
//! is handed out in pieces of that size; the pieces after the first are
//! marked as continuations, so they are written out unchanged but not
//! counted as lines or shown to the rules. That bounds memory whatever
//! the input, at the cost of rules not seeing past the first piece of a
//! line longer than `max_line`.
//!
//! [`LineReader::current_has_match`] answers whether the current line
//! holds a match of a literal searcher, by searching every complete line
//! already buffered at once and remembering where the next match is: the
//! lines in between are known to hold none without being looked at one
//! by one. This is what makes the rules' prefilter cost a whole-buffer
//! scan rather than a call per line.

use std::io::{self, Read};

use crate::extract::Scanner;

/// Default block size for reads.
pub const BLOCK: usize = 256 * 1024;

/// Default longest line kept whole: 1 MiB. A source's buffer grows to
/// at most this plus one block, so two replayed files and the held
/// output ([`crate::output::MAX_HELD`]) stay within the 16 MB a sidecar
/// may take.
pub const MAX_LINE: usize = 1024 * 1024;

/// A line, or a piece of an overlong one, borrowed from the reader.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    pub raw: &'a [u8],
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of `raw` in the stream.
    pub offset: u64,
    /// A later piece of a line longer than the maximum.
    pub continuation: bool,
}

/// Splits a byte stream into lines.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    number: u64,
    offset: u64,
    max_line: usize,
    /// The current line is `buf[cur.0..cur.1]`, set by `fill_line`.
    cur: Option<(usize, usize, bool)>,
    /// True while inside a line that was cut into pieces.
    in_long_line: bool,
    /// Lines cut into pieces because they passed `max_line`.
    pub long_lines: u64,
    /// Look-ahead of [`LineReader::current_has_match`], in stream
    /// offsets: no match starts before `clear_to` other than at `hit`.
    clear_to: u64,
    hit: Option<u64>,
}

impl<R: Read> LineReader<R> {
    pub fn new(inner: R) -> LineReader<R> {
        LineReader::with_limits(inner, BLOCK, MAX_LINE)
    }

    pub fn with_limits(
        inner: R,
        block: usize,
        max_line: usize,
    ) -> LineReader<R> {
        let max_line = max_line.max(16);
        LineReader {
            inner,
            buf: vec![0; block.max(16)],
            start: 0,
            end: 0,
            eof: false,
            number: 0,
            offset: 0,
            max_line,
            cur: None,
            in_long_line: false,
            long_lines: 0,
            clear_to: 0,
            hit: None,
        }
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The underlying reader, to change what it will read next (a
    /// followed file's readable end moves as the file grows).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Bytes handed out so far (the offset of the next line).
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// Make the next line current without consuming it. Returns false at
    /// the end of the input. An error from the inner reader (including
    /// `WouldBlock` or `TimedOut` from a polling reader) is returned and
    /// the call can be repeated.
    pub fn fill_line(&mut self) -> io::Result<bool> {
        if self.cur.is_some() {
            return Ok(true);
        }
        loop {
            let avail = &self.buf[self.start..self.end];
            if let Some(nl) = memchr::memchr(b'\n', avail) {
                let len = nl + 1;
                let piece = self.in_long_line;
                self.in_long_line = false;
                self.cur = Some((self.start, self.start + len, piece));
                return Ok(true);
            }
            let pending = self.end - self.start;
            if pending >= self.max_line {
                let piece = self.in_long_line;
                if !piece {
                    self.long_lines += 1;
                }
                self.in_long_line = true;
                self.cur =
                    Some((self.start, self.start + self.max_line, piece));
                return Ok(true);
            }
            if self.eof {
                if pending == 0 {
                    return Ok(false);
                }
                let piece = self.in_long_line;
                self.in_long_line = false;
                self.cur = Some((self.start, self.end, piece));
                return Ok(true);
            }
            self.make_room();
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The current line, after `fill_line` returned true.
    pub fn current(&self) -> Option<Line<'_>> {
        let (s, e, continuation) = self.cur?;
        Some(Line {
            raw: &self.buf[s..e],
            number: if continuation {
                self.number
            } else {
                self.number + 1
            },
            offset: self.offset,
            continuation,
        })
    }

    /// Whether the current line (after `fill_line`) contains a match of
    /// `finder`, which must be the same searcher on every call and whose
    /// patterns hold no line terminator.
    ///
    /// One search covers the current line and every complete line after
    /// it that is already buffered; the position of the first match (or
    /// its absence) is remembered, so the lines before it are answered
    /// without searching. A match is looked for only within one line (or
    /// one piece of an overlong line), as the rules see it.
    pub fn current_has_match(&mut self, finder: &Scanner) -> bool {
        let Some((s, e, _)) = self.cur else {
            return false;
        };
        let line_at = self.offset;
        let line_end = line_at + (e - s) as u64;
        if let Some(h) = self.hit {
            if h >= line_at {
                return h < line_end;
            }
        }
        if self.clear_to >= line_end {
            return false;
        }

        // Search from here to the end of the last complete line held, or
        // to the end of this line when it is a piece or the last one.
        let limit = if self.buf[e - 1] == b'\n' {
            e + memchr::memrchr(b'\n', &self.buf[e..self.end])
                .map_or(0, |i| i + 1)
        } else {
            e
        };
        let from = s + self.clear_to.saturating_sub(line_at) as usize;
        match finder.find(&self.buf[..limit], from.min(limit)..limit) {
            Some(start) => {
                self.hit = Some(line_at + (start - s) as u64);
                self.clear_to = line_at + (start - s) as u64;
                start < e
            }
            None => {
                self.hit = None;
                self.clear_to = line_at + (limit - s) as u64;
                false
            }
        }
    }

    /// Whether a whole line is already in the buffer, so the next
    /// `fill_line` will not need to read.
    pub fn has_buffered_line(&self) -> bool {
        memchr::memchr(b'\n', &self.buf[self.start..self.end]).is_some()
    }

    /// Consume the current line.
    pub fn consume(&mut self) {
        if let Some((s, e, continuation)) = self.cur.take() {
            if !continuation {
                self.number += 1;
            }
            self.offset += (e - s) as u64;
            self.start = e;
        }
    }

    /// Fill and return the next line, consuming the previous one.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.consume();
        if self.fill_line()? {
            Ok(self.current())
        } else {
            Ok(None)
        }
    }

    /// Move unconsumed bytes to the front, growing the buffer when a line
    /// fills it, up to `max_line`.
    fn make_room(&mut self) {
        if self.start > 0
            && (self.end == self.buf.len() || self.start == self.end)
        {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.max_line + BLOCK);
            self.buf.resize(grown.max(self.buf.len() + 1), 0);
        }
    }
}

/// Lines one at a time, the way the pipeline's sources read them: fill
/// the next line, look at it, consume it. [`LineReader`] is the plain
/// implementation; a followed file and the kernel log add what they must
/// do between lines (rotation, lost records) behind the same calls.
pub trait Lines {
    /// Make the next line current without consuming it; false at the end
    /// of the input. `WouldBlock` means nothing to read for now.
    fn fill_line(&mut self) -> io::Result<bool>;

    /// The current line, after `fill_line` returned true.
    fn current(&self) -> Option<Line<'_>>;

    /// Consume the current line.
    fn consume(&mut self);

    /// Whether the next `fill_line` can succeed without reading.
    fn has_buffered_line(&self) -> bool;

    /// Lines cut into pieces because they passed the maximum length.
    fn long_lines(&self) -> u64;
}

impl<R: Read> Lines for LineReader<R> {
    fn fill_line(&mut self) -> io::Result<bool> {
        LineReader::fill_line(self)
    }

    fn current(&self) -> Option<Line<'_>> {
        LineReader::current(self)
    }

    fn consume(&mut self) {
        LineReader::consume(self)
    }

    fn has_buffered_line(&self) -> bool {
        LineReader::has_buffered_line(self)
    }

    fn long_lines(&self) -> u64 {
        self.long_lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(
        input: &[u8],
        block: usize,
        max: usize,
    ) -> Vec<(Vec<u8>, u64, bool)> {
        let mut r = LineReader::with_limits(input, block, max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.raw.to_vec(), l.number, l.continuation));
        }
        out
    }

    #[test]
    fn keeps_terminators_and_the_last_unterminated_line() {
        let lines = frame(b"a\r\nb\n\nc", 16, 64);
        let raws: Vec<&[u8]> = lines.iter().map(|l| &l.0[..]).collect();
        assert_eq!(raws, [&b"a\r\n"[..], b"b\n", b"\n", b"c"]);
        assert_eq!(lines[3].1, 4);
    }

    #[test]
    fn look_ahead_search_agrees_with_a_search_of_each_line() {
        let finder = Scanner::new(&["needle", "oom"]).unwrap();
        let mut input = Vec::new();
        for i in 0..400u32 {
            let body = match i % 7 {
                0 => "a needle here".to_owned(),
                3 => format!("{} oom", "y".repeat(i as usize % 50)),
                5 => "x".repeat(90),
                _ => format!("plain line {i}"),
            };
            input.extend_from_slice(body.as_bytes());
            input.push(b'\n');
        }
        input.extend_from_slice(b"last needle, unterminated");
        for (block, max) in [(16, 64), (64, 32), (4096, 1 << 20)] {
            let mut r = LineReader::with_limits(&input[..], block, max);
            while r.fill_line().unwrap() {
                let raw = r.current().unwrap().raw.to_vec();
                assert_eq!(
                    r.current_has_match(&finder),
                    finder.is_match(&raw[..]),
                    "block {block}, max {max}: {:?}",
                    String::from_utf8_lossy(&raw)
                );
                r.consume();
            }
        }
    }

    #[test]
    fn long_lines_come_in_pieces_that_rejoin() {
        let mut input = vec![b'x'; 100];
        input.push(b'\n');
        input.extend_from_slice(b"next\n");
        let lines = frame(&input, 16, 32);
        let joined: Vec<u8> = lines.iter().flat_map(|l| l.0.clone()).collect();
        assert_eq!(joined, input);
        assert!(!lines[0].2 && lines[1].2);
        assert_eq!(lines.last().unwrap().1, 2);
    }
}
