//! The output stage: every input line, unchanged and in order, with
//! explanations attached to the symptom lines they explain.
//!
//! A [`Sink`] writes one format (text or JSON lines). The [`Emitter`] in
//! front of it keeps the order promise: while a symptom waits for its
//! window to close, the lines after it are held (copied) so that its
//! explanation can still be printed right under it. Holding is bounded
//! by bytes; past the bound the oldest lines go out and an explanation
//! that arrives for a line already written is printed where it is, with
//! a reference to its line. A live stream holds nothing beyond the line
//! being processed: its explanations come as soon as they are decided.

pub mod json;
pub mod text;

use std::collections::VecDeque;
use std::io;

use crate::correlate::{Decision, Explanation};
use crate::event::Event;
use crate::record::SourceId;
use crate::time::Timestamp;

/// A line as the output stage receives it.
#[derive(Clone, Copy, Debug)]
pub struct OutLine<'a> {
    pub source: SourceId,
    pub line: u64,
    pub time: Option<Timestamp>,
    pub raw: &'a [u8],
    /// A later piece of an overlong line (see `input::framing`).
    pub continuation: bool,
}

/// How many bytes a sink's own buffer ([`Runs`]) gathers before they
/// are written: as much as a read block, so that most writes are whole
/// blocks and go past any buffered writer underneath without a copy.
pub const SPILL: usize = 256 * 1024;

/// What the writes of a sink's buffer are whole multiples of, but the
/// last: a page, so that every write into a file starts and ends on a
/// page's edge. Into /dev/shm the benchmark's every-line run spent about
/// 5% less system time so (BENCHMARKS.md); into a file on disk not in
/// the page cache, a write that ends inside a page has the kernel read
/// the page first.
const PAGE: usize = 4096;

/// A sink's buffer, lent for appending runs of whole lines as they are.
///
/// The every-line merge writes a run of one source's lines at each
/// switch between sources, every few lines; through [`Sink::line`] that
/// was a call through the sink's vtable, a line record and a buffered
/// writer's checks each time. Appending to a buffer in hand is a copy
/// and a compare.
pub struct Runs<'a> {
    buf: &'a mut Vec<u8>,
    out: &'a mut dyn io::Write,
}

impl<'a> Runs<'a> {
    /// Lend `buf`, whose whole pages go to `out` once it holds [`SPILL`]
    /// bytes or more.
    pub fn new(buf: &'a mut Vec<u8>, out: &'a mut dyn io::Write) -> Self {
        Runs { buf, out }
    }

    /// Append whole lines.
    #[inline]
    pub fn push(&mut self, lines: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(lines);
        if self.buf.len() >= SPILL {
            return spill_pages(self.buf, self.out);
        }
        Ok(())
    }
}

/// Write out the whole pages `buf` holds ([`PAGE`]), and keep the rest,
/// less than a page, at its front.
#[cold]
pub fn spill_pages(
    buf: &mut Vec<u8>,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let whole = buf.len() / PAGE * PAGE;
    out.write_all(&buf[..whole])?;
    buf.drain(..whole);
    Ok(())
}

/// Write out what `buf` holds and empty it.
#[cold]
pub fn spill(buf: &mut Vec<u8>, out: &mut dyn io::Write) -> io::Result<()> {
    out.write_all(buf)?;
    buf.clear();
    Ok(())
}

/// Something truecause must say in its output that is neither an input
/// line nor an explanation: kernel records lost before they were read,
/// a cgroup counting a kill. Printed where it happens, marked like an
/// explanation (text) or as its own object type (JSON).
#[derive(Clone, Debug)]
pub struct Notice {
    pub level: NoticeLevel,
    pub source: SourceId,
    pub time: Option<Timestamp>,
    pub message: String,
}

/// How much a notice matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeLevel {
    /// Evidence observed (a cgroup counter moved).
    Info,
    /// Evidence may be missing.
    Warning,
}

impl NoticeLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeLevel::Info => "info",
            NoticeLevel::Warning => "warning",
        }
    }
}

/// Writes one output format.
pub trait Sink {
    /// Write a line, its events, and the explanations of its symptoms.
    fn line(
        &mut self,
        line: &OutLine<'_>,
        events: &[Event],
        explanations: &[Explanation],
    ) -> io::Result<()>;

    /// Write an explanation whose line was already written.
    fn late(&mut self, explanation: &Explanation) -> io::Result<()>;

    /// Whether [`Sink::line`] writes anything for a line without
    /// explanations; when it does not (`--annotations-only`), the
    /// emitter neither calls it for such lines nor copies them.
    fn prints_lines(&self) -> bool {
        true
    }

    /// Whether the sink writes runs of whole lines with no events as
    /// they are, into [`Sink::runs`].
    fn takes_runs(&self) -> bool {
        false
    }

    /// Where runs of whole lines with no events are appended as they
    /// are, when [`Sink::takes_runs`]; `None` otherwise.
    fn runs(&mut self) -> Option<Runs<'_>> {
        None
    }

    /// Write a notice.
    fn notice(&mut self, notice: &Notice) -> io::Result<()>;

    fn flush(&mut self) -> io::Result<()>;
}

/// A line waiting for its symptoms' decisions, or behind one that is.
struct Held {
    source: SourceId,
    line: u64,
    time: Option<Timestamp>,
    /// The line's bytes; empty when the sink does not print lines.
    raw: Vec<u8>,
    /// The line's length, counted against the bound whether or not its
    /// bytes are kept, so that what goes out late is the same either way.
    bytes: usize,
    continuation: bool,
    events: Vec<Event>,
    explanations: Vec<Explanation>,
    waiting: usize,
}

/// Keeps explanations next to their symptom lines.
pub struct Emitter<S> {
    sink: S,
    queue: VecDeque<Held>,
    held_bytes: usize,
    max_held: usize,
    /// The sink's [`Sink::prints_lines`], asked once.
    prints_lines: bool,
    /// Lines written before their explanation arrived.
    pub late: u64,
}

/// Default bound on held output: 4 MiB, with two sources' line buffers
/// ([`crate::input::framing::MAX_LINE`]) within a 16 MB peak.
pub const MAX_HELD: usize = 4 * 1024 * 1024;

impl<S: Sink> Emitter<S> {
    pub fn new(sink: S, max_held: usize) -> Emitter<S> {
        Emitter {
            prints_lines: sink.prints_lines(),
            sink,
            queue: VecDeque::new(),
            held_bytes: 0,
            max_held,
            late: 0,
        }
    }

    /// True when a line without events would be neither written nor
    /// held: the sink prints no lines and nothing waits.
    pub fn skips_plain_lines(&self) -> bool {
        !self.prints_lines && self.queue.is_empty()
    }

    /// Whether runs of lines can be written at this point
    /// ([`Emitter::runs`]): the sink takes them, and nothing is held.
    pub fn takes_runs(&self) -> bool {
        self.queue.is_empty() && self.sink.takes_runs()
    }

    /// Where to append whole lines that have no events, straight through,
    /// when [`Emitter::takes_runs`].
    pub fn runs(&mut self) -> Option<Runs<'_>> {
        if !self.queue.is_empty() {
            return None;
        }
        self.sink.runs()
    }

    /// Take a line. `waiting` is how many of its events are symptoms
    /// whose decision is still to come. `events` is kept only for
    /// formats that print them.
    pub fn line(
        &mut self,
        line: &OutLine<'_>,
        events: Vec<Event>,
        waiting: usize,
    ) -> io::Result<()> {
        if self.queue.is_empty() && waiting == 0 {
            if !self.prints_lines && events.is_empty() {
                return Ok(());
            }
            return self.sink.line(line, &events, &[]);
        }
        self.held_bytes += line.raw.len();
        self.queue.push_back(Held {
            source: line.source,
            line: line.line,
            time: line.time,
            raw: if self.prints_lines {
                line.raw.to_vec()
            } else {
                Vec::new()
            },
            bytes: line.raw.len(),
            continuation: line.continuation,
            events,
            explanations: Vec::new(),
            waiting,
        });
        while self.held_bytes > self.max_held && self.queue.len() > 1 {
            self.pop_front()?;
        }
        Ok(())
    }

    /// Deliver a symptom's decision.
    pub fn decision(&mut self, d: Decision) -> io::Result<()> {
        let found = self.queue.iter_mut().find(|h| {
            h.source == d.source && h.line == d.line && !h.continuation
        });
        match found {
            Some(h) => {
                h.waiting = h.waiting.saturating_sub(1);
                if let Some(e) = d.explanation {
                    add_distinct(&mut h.explanations, e);
                }
            }
            None => {
                if let Some(e) = d.explanation {
                    self.late += 1;
                    self.sink.late(&e)?;
                }
            }
        }
        self.release()
    }

    /// Write out every line at the front that waits for nothing.
    fn release(&mut self) -> io::Result<()> {
        while self.queue.front().is_some_and(|h| h.waiting == 0) {
            self.pop_front()?;
        }
        Ok(())
    }

    /// Write out everything held, decided or not (a live stream after
    /// each line; everything at the end).
    pub fn release_all(&mut self) -> io::Result<()> {
        while !self.queue.is_empty() {
            self.pop_front()?;
        }
        Ok(())
    }

    fn pop_front(&mut self) -> io::Result<()> {
        if let Some(h) = self.queue.pop_front() {
            self.held_bytes -= h.bytes;
            let line = OutLine {
                source: h.source,
                line: h.line,
                time: h.time,
                raw: &h.raw,
                continuation: h.continuation,
            };
            self.sink.line(&line, &h.events, &h.explanations)?;
        }
        Ok(())
    }

    /// Write a notice at once, ahead of any held lines.
    pub fn notice(&mut self, notice: &Notice) -> io::Result<()> {
        self.sink.notice(notice)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }

    pub fn into_sink(self) -> S {
        self.sink
    }
}

/// Keep one explanation per root cause for a line: when two symptoms of
/// one line (a `ProcessError` line is both a child exit and an SDK
/// symptom) reach the same cause, the more confident one stays.
fn add_distinct(list: &mut Vec<Explanation>, e: Explanation) {
    let same_cause = |a: &Explanation| {
        a.cause.event.origin == e.cause.event.origin
            && a.cause.kind == e.cause.kind
    };
    match list.iter().position(same_cause) {
        Some(i) if list[i].confidence < e.confidence => list[i] = e,
        Some(_) => {}
        None => list.push(e),
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn line(
        &mut self,
        line: &OutLine<'_>,
        events: &[Event],
        explanations: &[Explanation],
    ) -> io::Result<()> {
        (**self).line(line, events, explanations)
    }

    fn late(&mut self, explanation: &Explanation) -> io::Result<()> {
        (**self).late(explanation)
    }

    fn prints_lines(&self) -> bool {
        (**self).prints_lines()
    }

    fn takes_runs(&self) -> bool {
        (**self).takes_runs()
    }

    fn runs(&mut self) -> Option<Runs<'_>> {
        (**self).runs()
    }

    fn notice(&mut self, notice: &Notice) -> io::Result<()> {
        (**self).notice(notice)
    }

    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Write};

    use super::{PAGE, Runs, SPILL, spill};

    /// A writer that keeps each write apart.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl Write for Writes {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.push(bytes.to_vec());
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Spans of many lengths, a few past the buffer's size: every write
    /// but the last is whole pages, and the bytes come out as they went
    /// in (SYNTHETIC bytes).
    #[test]
    fn runs_write_whole_pages_and_lose_nothing() {
        let (mut buf, mut out) = (Vec::new(), Writes::default());
        let mut all = Vec::new();
        for n in 0..2_000usize {
            let len =
                (n * 7_919) % 1_500 + if n % 500 == 0 { SPILL } else { 1 };
            let span: Vec<u8> = (0..len).map(|i| (n + i) as u8).collect();
            Runs::new(&mut buf, &mut out).push(&span).unwrap();
            all.extend_from_slice(&span);
            assert!(buf.len() < SPILL, "the buffer is spilled");
        }
        let whole = out.0.len();
        spill(&mut buf, &mut out).unwrap();
        assert!(whole > 4, "several spills");
        assert!(out.0[..whole].iter().all(|w| w.len() % PAGE == 0));
        assert_eq!(out.0.concat(), all);
    }
}
