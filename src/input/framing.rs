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
//! scan rather than a call per line. [`LineReader::skip_unmatched`] goes
//! further and consumes those lines without handing them out, and
//! [`LineReader::clear_span`] lends them to a caller that reads them in
//! place.

use std::io::{self, Read};
use std::ops::Range;

use memchr::memmem;

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

/// Whole lines passed over by [`LineReader::skip_unmatched`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where they are in [`LineReader::buffered`], until the next read.
    pub range: Range<usize>,
    /// How many.
    pub lines: u64,
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

    /// The number of the next whole line to be handed out.
    pub fn next_number(&self) -> u64 {
        self.number + 1
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
        if let Some(h) = self.hit
            && h >= line_at
        {
            return h < line_end;
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

    /// Consume, without handing them out, the whole lines already
    /// buffered before the first that holds a match of `finder` or of
    /// `also`: the line with the match, or the first line not yet
    /// buffered whole, is the next one `fill_line` gives. `None` when
    /// that is the next line anyway, or between the pieces of a long
    /// line. Shares its look-ahead with
    /// [`LineReader::current_has_match`], so `finder` must be the same
    /// searcher on every call.
    ///
    /// This is where a replay that prints only explanations spends
    /// almost nothing per line: the lines in between are counted, not
    /// looked at.
    pub fn skip_unmatched(
        &mut self,
        finder: &Scanner,
        also: Option<&memmem::Finder<'_>>,
    ) -> Option<Skipped> {
        let mut stop = self.clear_lines(finder)?;
        if let Some(q) = also.and_then(|f| f.find(&self.buf[self.start..stop]))
        {
            stop = line_start(&self.buf, self.start, self.start + q);
        }
        self.pass(stop, None)
    }

    /// Put the current line back, unconsumed, as if `fill_line` had not
    /// given it: for a caller that goes on to read whole buffered lines
    /// in place ([`LineReader::clear_span`]).
    pub fn unfill(&mut self) {
        self.cur = None;
    }

    /// The whole buffered lines from the next one on, up to the first
    /// that holds a match of `finder` (as [`LineReader::skip_unmatched`]
    /// finds it): to be read in place with [`LineReader::buffered`] and
    /// consumed with [`LineReader::consume_to`]. `None` when there is no
    /// next whole line, or it is a long line's piece.
    pub fn clear_span(&mut self, finder: &Scanner) -> Option<Range<usize>> {
        let limit = self.clear_lines(finder)?;
        Some(self.start..limit)
    }

    /// Consume the `lines` whole lines before `stop`, an index into the
    /// buffer within the last [`LineReader::clear_span`].
    pub fn consume_to(&mut self, stop: usize, lines: usize) {
        self.pass(stop, Some(lines));
    }

    /// Where, from the next line on, the first buffered line holding a
    /// match of `finder` starts, or the end of the whole lines buffered;
    /// `None` when there is no next whole line or it is a long line's
    /// piece.
    fn clear_lines(&mut self, finder: &Scanner) -> Option<usize> {
        if self.cur.is_some() || self.in_long_line {
            return None;
        }
        let whole = memchr::memrchr(b'\n', &self.buf[self.start..self.end])?;
        let limit = self.start + whole + 1;
        let at = self.offset;
        let offset_of = |i: usize| at + (i - self.start) as u64;
        let hit = match self.hit {
            Some(h) if h >= at => Some(self.start + (h - at) as usize),
            _ if self.clear_to >= offset_of(limit) => None,
            _ => {
                let from =
                    self.start + self.clear_to.saturating_sub(at) as usize;
                let found =
                    finder.find(&self.buf[..limit], from.min(limit)..limit);
                self.hit = found.map(offset_of);
                self.clear_to = offset_of(found.unwrap_or(limit));
                found
            }
        };
        Some(match hit {
            Some(h) if h < limit => line_start(&self.buf, self.start, h),
            _ => limit,
        })
    }

    /// Consume the whole lines up to `stop`, `lines` of them if known.
    fn pass(&mut self, stop: usize, lines: Option<usize>) -> Option<Skipped> {
        if stop == self.start {
            return None;
        }
        let range = self.start..stop;
        let lines = lines.unwrap_or_else(|| {
            memchr::memchr_iter(b'\n', &self.buf[range.clone()]).count()
        });
        self.number += lines as u64;
        self.offset += (stop - self.start) as u64;
        self.start = stop;
        Some(Skipped {
            range,
            lines: lines as u64,
        })
    }

    /// Bytes of the buffer, for the [`Skipped::range`] just returned.
    pub fn buffered(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
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

/// Where the line holding `buf[i]` starts, looking back no further than
/// `start`.
fn line_start(buf: &[u8], start: usize, i: usize) -> usize {
    memchr::memrchr(b'\n', &buf[start..i]).map_or(start, |n| start + n + 1)
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

    pub(super) fn frame(
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

#[cfg(test)]
mod skip_tests {
    use super::*;

    /// Skip and read alternately; each line read is (its number, text).
    fn read_with_skips(
        input: &[u8],
        block: usize,
        also: Option<&str>,
    ) -> (Vec<(u64, String)>, u64) {
        let scanner = Scanner::new(&["needle"]).unwrap();
        let also = also.map(|a| memmem::Finder::new(a.as_bytes()));
        let mut r = LineReader::with_limits(input, block, 64);
        let (mut read, mut skipped) = (Vec::new(), 0);
        loop {
            if let Some(s) = r.skip_unmatched(&scanner, also.as_ref()) {
                let bytes = r.buffered(s.range.clone());
                assert!(bytes.ends_with(b"\n"), "whole lines only");
                assert_eq!(
                    s.lines,
                    bytes.iter().filter(|&&b| b == b'\n').count() as u64
                );
                skipped += s.lines;
            }
            if !r.fill_line().unwrap() {
                break;
            }
            let l = r.current().unwrap();
            read.push((l.number, String::from_utf8_lossy(l.raw).into_owned()));
            r.consume();
        }
        (read, skipped)
    }

    #[test]
    fn skips_whole_lines_up_to_the_next_match() {
        let input = b"a\nb\nthe needle\nc\nd\nneedle again\ne";
        let (read, skipped) = read_with_skips(input, 1024, None);
        let numbers: Vec<u64> = read.iter().map(|r| r.0).collect();
        // The first line of a fresh read is handed out before the reader
        // has whole lines buffered to skip.
        assert_eq!(numbers, vec![1, 3, 6, 7], "{read:?}");
        assert_eq!(read[1].1, "the needle\n");
        assert_eq!(read[3].1, "e", "the last line, unterminated, is read");
        assert_eq!(skipped, 3);
    }

    #[test]
    fn a_second_finder_stops_the_skip_too() {
        let input = b"a\nkernel: [ 1.0] x\nb\nneedle\n";
        let (read, _) = read_with_skips(input, 1024, Some("kernel: ["));
        let numbers: Vec<u64> = read.iter().map(|r| r.0).collect();
        assert_eq!(numbers, vec![1, 2, 4], "{read:?}");
    }

    #[test]
    fn small_blocks_and_long_lines_lose_nothing() {
        let mut input = Vec::new();
        for i in 0..200 {
            match i % 37 {
                0 => input.extend_from_slice(b"a needle here\n"),
                5 => input.extend(std::iter::repeat_n(b'x', 150)),
                _ => input.extend_from_slice(format!("line {i}\n").as_bytes()),
            }
        }
        let all = super::tests::frame(&input, 1000, 64);
        let needles: Vec<u64> = all
            .iter()
            .filter(|l| l.0.windows(6).any(|w| w == b"needle"))
            .map(|l| l.1)
            .collect();
        let whole = all.iter().filter(|l| !l.2).count() as u64;
        for block in [16, 64, 1000] {
            let (read, skipped) = read_with_skips(&input, block, None);
            for n in &needles {
                assert!(read.iter().any(|r| r.0 == *n), "block {block}: {n}");
            }
            let mut numbers: Vec<u64> = read.iter().map(|r| r.0).collect();
            numbers.dedup();
            assert_eq!(numbers.len() as u64 + skipped, whole, "block {block}");
        }
    }
}
