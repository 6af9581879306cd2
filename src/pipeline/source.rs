//! One source being read: its line reader, its clock, and the parsed
//! line at its head, which replay and follow compare across sources to
//! merge them by time.

use std::io;

use super::{Config, content_of};
use crate::envelope::{self, Envelope, QuickTime, Stamp};
use crate::input::ByteStream;
use crate::input::framing::{self, LineReader, Lines};
use crate::input::newlines::LineIndex;
use crate::record::SourceId;
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
    /// Reads the time of lines like the last one parsed, cheaply.
    pub(super) quick: QuickTime,
    /// Room for the line ends of an every-line replay's merge (see
    /// [`super::runs`]), kept between merges.
    pub(super) line_index: LineIndex,
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
            quick: QuickTime::default(),
            line_index: LineIndex::default(),
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
        let (reader, mut stamps) = self.split();
        let line = reader.current().expect("filled");
        let head = if line.continuation {
            (Envelope::bare(), *stamps.last_time, true)
        } else {
            stamps.read(content_of(line.raw))
        };
        self.head = Some(head);
        Ok(true)
    }

    /// The reader, and what reading a line's stamp uses and updates.
    pub(super) fn split(&mut self) -> (&mut L, Stamps<'_>) {
        (
            &mut self.reader,
            Stamps {
                clock: &mut self.clock,
                quick: &mut self.quick,
                last_time: &mut self.last_time,
                wall_span: &mut self.wall_span,
                boot_span: &mut self.boot_span,
            },
        )
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
        let (reader, mut stamps) = self.split();
        let bytes = reader.buffered(range);
        let (mut found_time, mut pid) = (false, None);
        let mut end = bytes.len();
        while end > 0 && (!found_time || pid.is_none()) {
            let start =
                memchr::memrchr(b'\n', &bytes[..end - 1]).map_or(0, |i| i + 1);
            let env =
                envelope::parse(content_of(&bytes[start..end]), stamps.clock);
            if pid.is_none() && env.format != envelope::Format::None {
                pid = Some(env.pid);
            }
            if !found_time {
                let from_boot = matches!(env.stamp, Stamp::Monotonic(_));
                if let Some(t) = env.stamp.resolve(stamps.clock) {
                    stamps.keep(t, from_boot);
                    found_time = true;
                }
            }
            end = start;
        }
        pid
    }

    /// The pid in the envelope of the whole line at `range` of the
    /// reader's buffer.
    pub(super) fn pid_of(&self, range: std::ops::Range<usize>) -> Option<u32> {
        let line = self.reader.buffered(range);
        envelope::parse(content_of(line), &self.clock).pid
    }
}

/// What reading a line's envelope and time uses and updates of its
/// source: apart from the reader, so that lines can be read while the
/// reader hands them out.
pub(super) struct Stamps<'a> {
    clock: &'a mut Clock,
    quick: &'a mut QuickTime,
    /// The time a line without one of its own takes.
    last_time: &'a mut Option<Timestamp>,
    wall_span: &'a mut Option<(Timestamp, Timestamp)>,
    boot_span: &'a mut Option<(Timestamp, Timestamp)>,
}

impl Stamps<'_> {
    /// What [`Stamps::read`] reads of a line, when only its time and
    /// what it leaves for the lines after it matter: the time (own or
    /// inherited), and the pid of its envelope if it has one (the outer
    /// `None` for a line with no envelope, whose writer is the line
    /// before's). Reading is idempotent: [`Stamps::read`] may follow for
    /// the whole envelope.
    pub(super) fn read_time(
        &mut self,
        content: &[u8],
    ) -> (Option<Timestamp>, Option<Option<u32>>) {
        if let Some(t) = self.quick.celery_time(content) {
            self.keep(t, false);
            return (Some(t), Some(None));
        }
        if envelope::plainly_bare(content) {
            return (*self.last_time, None);
        }
        if let Some(since_boot) = envelope::dmesg_since_boot(content) {
            let t = self.clock.from_monotonic(since_boot);
            if let Some(t) = t {
                self.keep(t, true);
            }
            return (t.or(*self.last_time), Some(None));
        }
        let (env, t, _) = self.read(content);
        (t, (env.format != envelope::Format::None).then_some(env.pid))
    }

    /// The Celery hour the quick way knows, for a loop that reads many
    /// lines in a row with [`envelope::Hour::time`].
    pub(super) fn hour(&self) -> Option<envelope::Hour> {
        self.quick.hour()
    }

    /// The Python logging hour the quick way knows, for a loop that
    /// reads many lines in a row with [`envelope::InHour::millis`].
    pub(super) fn python_hour(&self) -> Option<envelope::PyHour> {
        self.quick.python_hour()
    }

    /// The boot time the kernel's stamps are counted from, if known.
    pub(super) fn boot_time(&self) -> Option<Timestamp> {
        self.clock.boot_time
    }

    /// What [`Stamps::read_time`] leaves behind after reading stamps
    /// from `lo` to `hi`, the last of them at `last` (counted from boot
    /// if `from_boot`), as a loop that reads many lines itself hands it.
    #[inline]
    pub(super) fn keep_span(
        &mut self,
        lo: Timestamp,
        hi: Timestamp,
        last: Timestamp,
        from_boot: bool,
    ) {
        widen(self.span(from_boot), lo);
        widen(self.span(from_boot), hi);
        self.keep(last, from_boot);
    }

    fn span(
        &mut self,
        from_boot: bool,
    ) -> &mut Option<(Timestamp, Timestamp)> {
        if from_boot {
            &mut *self.boot_span
        } else {
            &mut *self.wall_span
        }
    }

    /// A line's own time `t`, from boot-relative stamp if `from_boot`: the
    /// time of the lines after it that have none, and a bound of the
    /// span its kind of stamp covers.
    #[inline]
    fn keep(&mut self, t: Timestamp, from_boot: bool) {
        widen(self.span(from_boot), t);
        *self.last_time = Some(t);
    }

    /// The envelope of a line (terminator removed), its time and whether
    /// the time is inherited from the lines before.
    pub(super) fn read(
        &mut self,
        content: &[u8],
    ) -> (Envelope, Option<Timestamp>, bool) {
        // Lines like the last are read the quick way; the full parse of
        // any other teaches the quick way its hour.
        let quick = self.quick.celery(content);
        let learn = quick.is_none();
        let env =
            quick.unwrap_or_else(|| envelope::parse(content, self.clock));
        let from_boot = matches!(env.stamp, Stamp::Monotonic(_));
        match env.stamp.resolve(self.clock) {
            Some(t) => {
                if learn {
                    self.quick.learn(content, &env, t, self.clock);
                }
                self.keep(t, from_boot);
                (env, Some(t), false)
            }
            None => (env, *self.last_time, true),
        }
    }
}

/// Stretch `span` to hold `t`.
#[inline]
fn widen(span: &mut Option<(Timestamp, Timestamp)>, t: Timestamp) {
    *span = Some(match *span {
        Some((lo, hi)) => (lo.min(t), hi.max(t)),
        None => (t, t),
    });
}
