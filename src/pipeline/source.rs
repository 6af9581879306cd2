//! One source being read: its line reader, its clock, and the parsed
//! line at its head, which replay and follow compare across sources to
//! merge them by time.

use std::io;

use super::Config;
use crate::envelope::{self, Envelope, Stamp};
use crate::input::ByteStream;
use crate::input::framing::{self, LineReader, Lines};
use crate::record::{Record, SourceId};
use crate::time::{self, Clock, Timestamp};

/// One source being read: a byte stream framed by a [`LineReader`] for
/// replay and standard input, or any other [`Lines`] (a followed file,
/// the kernel log) in follow mode.
pub(super) struct Source<L = LineReader<ByteStream>> {
    pub(super) id: SourceId,
    pub(super) name: String,
    pub(super) reader: L,
    pub(super) clock: Clock,
    pub(super) last_time: Option<Timestamp>,
    /// The parsed head line: its envelope, time and whether inherited.
    pub(super) head: Option<(Envelope, Option<Timestamp>, bool)>,
    pub(super) done: bool,
    /// The earliest and latest times read from wall-clock stamps.
    pub(super) wall_span: Option<(Timestamp, Timestamp)>,
    /// The same for kernel stamps counted from boot, as the clock's boot
    /// time placed them.
    pub(super) boot_span: Option<(Timestamp, Timestamp)>,
}

impl Source {
    pub(super) fn new(
        id: SourceId,
        name: String,
        stream: ByteStream,
        config: &Config,
        reference: Timestamp,
    ) -> Source {
        let reader =
            LineReader::with_limits(stream, framing::BLOCK, config.max_line);
        Source::with_lines(id, name, reader, config, reference)
    }
}

impl<L: Lines> Source<L> {
    /// A source reading `reader`, with a clock for `config` whose year
    /// comes from `reference` (a file's mtime, or now).
    pub(super) fn with_lines(
        id: SourceId,
        name: String,
        reader: L,
        config: &Config,
        reference: Timestamp,
    ) -> Source<L> {
        let mut clock = Clock::new(config.zone, reference);
        match config.boot_time {
            Some(b) => {
                clock.boot_time = Some(b);
                clock.boot_time_known = true;
            }
            None => clock.boot_time = time::host_boot_time(),
        }
        Source {
            id,
            name,
            reader,
            clock,
            last_time: None,
            head: None,
            done: false,
            wall_span: None,
            boot_span: None,
        }
    }

    /// Read and parse the next line if none is waiting. Returns false at
    /// the end of the source.
    pub(super) fn fill(&mut self) -> io::Result<bool> {
        if self.head.is_some() {
            return Ok(true);
        }
        if self.done || !self.reader.fill_line()? {
            self.done = true;
            return Ok(false);
        }
        let line = self.reader.current().expect("filled");
        let (env, time, inherited) = if line.continuation {
            (Envelope::bare(), self.last_time, true)
        } else {
            let content = Record {
                source: self.id,
                line: 0,
                offset: 0,
                raw: line.raw,
            }
            .content();
            let env = envelope::parse(content, &self.clock);
            let from_boot = matches!(env.stamp, Stamp::Monotonic(_));
            match env.stamp.resolve(&mut self.clock) {
                Some(t) => {
                    let span = if from_boot {
                        &mut self.boot_span
                    } else {
                        &mut self.wall_span
                    };
                    widen(span, t);
                    (env, Some(t), false)
                }
                None => (env, self.last_time, true),
            }
        };
        self.head = Some((env, time, inherited));
        Ok(true)
    }

    pub(super) fn head_time(&self) -> Option<Timestamp> {
        self.head.as_ref().and_then(|h| h.1)
    }
}

impl Source {
    /// Take from whole lines just passed over unread (`range` of the
    /// reader's buffer) what the lines after them inherit: the time of
    /// the last one whose stamp resolves, which becomes `last_time`, and
    /// the pid of the last one with an envelope, which is returned (the
    /// outer `None` when none has one). Reads them from the end, and
    /// usually only the last.
    pub(super) fn inherit_from(
        &mut self,
        range: std::ops::Range<usize>,
    ) -> Option<Option<u32>> {
        let mut time = None;
        let mut pid = None;
        let mut end = range.len();
        while end > 0 && (time.is_none() || pid.is_none()) {
            let bytes = self.reader.buffered(range.clone());
            let start =
                memchr::memrchr(b'\n', &bytes[..end - 1]).map_or(0, |i| i + 1);
            let content = Record {
                source: self.id,
                line: 0,
                offset: 0,
                raw: &bytes[start..end],
            }
            .content();
            let env = envelope::parse(content, &self.clock);
            if pid.is_none() && env.format != envelope::Format::None {
                pid = Some(env.pid);
            }
            if time.is_none() {
                let from_boot = matches!(env.stamp, Stamp::Monotonic(_));
                time = env.stamp.resolve(&mut self.clock);
                if let Some(t) = time {
                    self.last_time = Some(t);
                    let span = if from_boot {
                        &mut self.boot_span
                    } else {
                        &mut self.wall_span
                    };
                    widen(span, t);
                }
            }
            end = start;
        }
        pid
    }
}

/// Stretch `span` to hold `t`.
fn widen(span: &mut Option<(Timestamp, Timestamp)>, t: Timestamp) {
    *span = Some(match *span {
        Some((lo, hi)) => (lo.min(t), hi.max(t)),
        None => (t, t),
    });
}
