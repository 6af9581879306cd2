//! A line's time the cheap way, for runs of lines in one format.
//!
//! Replay that prints every line merges its sources by the time of each
//! line, and a full [`super::parse`] of every line costs more than the
//! rest of that merge. Lines in a row mostly share their date and hour,
//! so [`QuickTime`] compares those bytes with the last line it learnt
//! from and reads only the minutes, seconds and fraction. It answers
//! only where the full parse would give the same format, pid and time;
//! anything else (another format, another hour, a line with no stamp)
//! is `None`, and the caller parses the line in full.
//!
//! It learns from Celery lines and from Python logging's default stamp
//! (`2026-12-03 13:32:03,418 INFO worker[812]: ...`). A Celery line's
//! whole envelope is known from its stamp and header; a Python line's
//! pid is in its tag, so for those only the time is answered
//! ([`PyHour`]), and a loop over many reads the pid of the last alone.

use super::{Envelope, Format, Stamp, date_time};
use crate::time::{Clock, Timestamp, Zone};

/// What the last line learnt from said: the bytes of its stamp down to
/// the hour (`2026-12-03 12` of `[2026-12-03 12:42:33,454: ...]`), or,
/// for a Celery line, down to the second where the zone's offset changes
/// in that hour (a change need not fall on the hour), and the UTC time
/// those bytes start at.
#[derive(Clone, Debug, Default)]
pub struct QuickTime {
    learnt: Option<Learnt>,
}

#[derive(Clone, Debug)]
struct Learnt {
    /// What kind of line it was: a learnt Celery hour says nothing of a
    /// Python line's, whose stamp stands one byte to the left.
    kind: Kind,
    prefix: [u8; 19],
    /// How much of `prefix` is compared: 13 (the hour) or 19.
    len: usize,
    start: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Celery,
    Python,
}

/// Where things are in a Celery line: the date, the minutes, and the
/// `:` after the milliseconds.
const DATE_AT: usize = 1;
const MINUTES_AT: usize = 15;
const COLON_AT: usize = 24;

impl QuickTime {
    /// Learn from a line (terminator removed) that [`super::parse`] read
    /// as `env`, at `time`, with `clock`: a Celery line with
    /// milliseconds teaches its hour (or second), and so does a Python
    /// logging line with milliseconds, where its hour reads as one piece
    /// in the clock's zone ([`Zone::hour_is_linear`]).
    pub fn learn(
        &mut self,
        line: &[u8],
        env: &Envelope,
        time: Timestamp,
        clock: &Clock,
    ) {
        if env.format == Format::Python {
            self.learn_python(line, env, time, clock);
            return;
        }
        if env.format != Format::Celery
            || env.pid.is_some()
            || !matches!(env.stamp, Stamp::Wall(_))
        {
            return;
        }
        let Some((minutes, seconds, millis)) =
            line.get(..=COLON_AT).and_then(clock_parts)
        else {
            return;
        };
        let mut prefix = [0; 19];
        prefix.copy_from_slice(&line[DATE_AT..DATE_AT + 19]);
        let hourly = self.hourly(Kind::Celery, &prefix, clock.zone);
        let into = if hourly {
            (minutes * 60 + seconds) * 1_000_000_000 + millis * 1_000_000
        } else {
            millis * 1_000_000
        };
        self.learnt = Some(Learnt {
            kind: Kind::Celery,
            prefix,
            len: if hourly { 13 } else { 19 },
            start: time.shifted(-into),
        });
    }

    /// Whether the hour of a stamp starting `prefix` (`2026-12-03 13`)
    /// reads as one piece in `zone` ([`Zone::hour_is_linear`]); known
    /// without asking the zone when it is the hour learnt last.
    fn hourly(&self, kind: Kind, prefix: &[u8; 19], zone: Zone) -> bool {
        if let Some(l) = &self.learnt
            && l.kind == kind
            && l.len == 13
            && l.prefix[..13] == prefix[..13]
        {
            return true;
        }
        date_time(prefix, 0).is_some_and(|(date, (hour, _, _), _)| {
            zone.hour_is_linear(date, hour)
        })
    }

    /// [`QuickTime::learn`] for a Python logging line. Only an hour is
    /// learnt, and only one that reads as one piece in the source's zone:
    /// a loop over many lines is all that asks for a Python line's time
    /// the quick way.
    fn learn_python(
        &mut self,
        line: &[u8],
        env: &Envelope,
        time: Timestamp,
        clock: &Clock,
    ) {
        if !matches!(env.stamp, Stamp::Wall(_)) {
            return;
        }
        let Some((minutes, seconds, millis)) = python_clock_parts(line) else {
            return;
        };
        let mut prefix = [0; 19];
        prefix.copy_from_slice(&line[..19]);
        if !self.hourly(Kind::Python, &prefix, clock.zone) {
            return;
        }
        let into =
            (minutes * 60 + seconds) * 1_000_000_000 + millis * 1_000_000;
        self.learnt = Some(Learnt {
            kind: Kind::Python,
            prefix,
            len: 13,
            start: time.shifted(-into),
        });
    }

    /// The envelope of `line` (terminator removed) as the full parse
    /// would give it, if that is a Celery line without a pid in the hour
    /// (or second) learnt last; `None` otherwise.
    pub fn celery(&self, line: &[u8]) -> Option<Envelope> {
        let wall = self.stamp(line)?;
        super::app::celery_header(line, COLON_AT + 1, wall)
    }

    /// The time [`QuickTime::celery`] would give `line`, without working
    /// out where its level, program and message are.
    pub fn celery_time(&self, line: &[u8]) -> Option<Timestamp> {
        let wall = self.stamp(line)?;
        super::app::celery_header_closes(line, COLON_AT + 1).then_some(wall)
    }

    /// The time of a stamp in the hour (or second) learnt last.
    fn stamp(&self, line: &[u8]) -> Option<Timestamp> {
        let learnt =
            self.learnt.as_ref().filter(|l| l.kind == Kind::Celery)?;
        let stamp = line.get(..=COLON_AT)?;
        if stamp[0] != b'[' || !same_prefix(&stamp[DATE_AT..], learnt) {
            return None;
        }
        let (minutes, seconds, millis) = clock_parts(stamp)?;
        let into = if learnt.len == 13 {
            (minutes * 60 + seconds) * 1_000_000_000 + millis * 1_000_000
        } else {
            millis * 1_000_000
        };
        Some(learnt.start.shifted(into))
    }
}

/// The hour learnt last, copied out for a loop over many lines: what
/// [`QuickTime::celery_time`] answers, with the learnt bytes held as
/// words and the common case of the header's close tested in one go.
/// Only where the learnt prefix is an hour (see [`QuickTime::learn`]).
#[derive(Clone, Copy, Debug)]
pub struct Hour {
    date: u64,
    hour: u32,
    last: u8,
    /// The line's first 14 bytes as [`Hour::millis`] compares them, as
    /// two overlapping words: `[` and the date down to the hour.
    head: [u64; 2],
    start: Timestamp,
}

impl QuickTime {
    /// The hour learnt last, if it was learnt from a Celery line and
    /// whole (see [`QuickTime::learn`]).
    pub fn hour(&self) -> Option<Hour> {
        let learnt = self
            .learnt
            .as_ref()
            .filter(|l| l.len == 13 && l.kind == Kind::Celery)?;
        let p = &learnt.prefix;
        let mut line = [b'['; 14];
        line[1..].copy_from_slice(&p[..13]);
        Some(Hour {
            date: u64::from_ne_bytes(p[..8].try_into().expect("8 bytes")),
            hour: u32::from_ne_bytes(p[8..12].try_into().expect("4 bytes")),
            last: p[12],
            head: head_words(&line),
            start: learnt.start,
        })
    }
}

/// A line's first 14 bytes as two overlapping words (at 0 and 6), which
/// [`InHour::millis`] compares with the learnt hour's in two compares.
#[inline(always)]
fn head_words(line: &[u8; 14]) -> [u64; 2] {
    let word = |at: usize| {
        u64::from_le_bytes(line[at..at + 8].try_into().expect("8 bytes"))
    };
    [word(0), word(6)]
}

impl Hour {
    /// What [`QuickTime::celery_time`] gives `line` when it learnt this
    /// hour last. The line's terminator may be left on: `\r` and `\n`
    /// are neither the stamp's bytes nor the header's `]`, so they change
    /// nothing, and a loop over raw lines saves trimming each.
    #[inline(always)]
    pub fn time(&self, line: &[u8]) -> Option<Timestamp> {
        let stamp: &[u8; COLON_AT + 1] = line.first_chunk()?;
        let date = &stamp[DATE_AT..];
        if stamp[0] != b'['
            || u64::from_ne_bytes(date[..8].try_into().expect("8 bytes"))
                != self.date
            || u32::from_ne_bytes(date[8..12].try_into().expect("4 bytes"))
                != self.hour
            || date[12] != self.last
        {
            return None;
        }
        let (minutes, seconds, millis) = clock_parts(stamp)?;
        // The `]` is nearly always within 32 bytes of the stamp, and only
        // spaces may come between the two: finding it there is what
        // `celery_header_closes` would find.
        let closes = match line[COLON_AT + 1..].first_chunk::<32>() {
            Some(next) => {
                next.iter().fold(false, |seen, &b| seen | (b == b']'))
                    || super::app::celery_header_closes(line, COLON_AT + 1)
            }
            None => super::app::celery_header_closes(line, COLON_AT + 1),
        };
        let into =
            (minutes * 60 + seconds) * 1_000_000_000 + millis * 1_000_000;
        closes.then(|| self.start.shifted(into))
    }
}

/// An hour learnt by the quick way, copied out for a loop over many
/// lines that compares and keeps one small number a line, and turns it
/// into a time only where it stops.
pub trait InHour: Copy {
    /// Whether a line's pid is in its tag, so that a loop must read the
    /// last one's, as the lines after it inherit it.
    const PID_IN_TAG: bool = false;

    /// The line's time as the milliseconds into the hour, which order
    /// the lines as their times do; `None` where the quick way would not
    /// answer. The line's terminator may be left on.
    fn millis(&self, line: &[u8]) -> Option<i64>;

    /// When the hour starts.
    fn start(&self) -> Timestamp;

    /// The time of a line `millis` milliseconds into the hour.
    #[inline]
    fn at(&self, millis: i64) -> Timestamp {
        self.start().shifted(millis * 1_000_000)
    }

    /// The most milliseconds into the hour whose time ([`InHour::at`]) is
    /// `bound` or earlier; below zero when the hour starts after it.
    /// Exact while the hour's start plus an hour does not overflow, as
    /// for any time a stamp can give.
    #[inline]
    fn millis_up_to(&self, bound: i64) -> i64 {
        bound.saturating_sub(self.start().0).div_euclid(1_000_000)
    }
}

/// [`Hour::time`], in milliseconds.
impl InHour for Hour {
    #[inline(always)]
    fn millis(&self, line: &[u8]) -> Option<i64> {
        // The usual line is long enough for every test at once; a
        // shorter one takes the general way.
        let Some(s) = line.first_chunk::<{ COLON_AT + 33 }>() else {
            return self.time(line).map(|t| (t.0 - self.start.0) / 1_000_000);
        };
        // `[` and the date down to the hour, as two overlapping words.
        if head_words(s.first_chunk().expect("14 bytes")) != self.head {
            return None;
        }
        let (minutes, seconds, millis) = clock_parts(&s[..=COLON_AT])?;
        // The header's `]` within the 32 bytes after the stamp, as in
        // [`Hour::time`].
        let next: &[u8; 32] = s[COLON_AT + 1..].try_into().expect("32 bytes");
        if !next.iter().fold(false, |seen, &b| seen | (b == b']'))
            && !super::app::celery_header_closes(line, COLON_AT + 1)
        {
            return None;
        }
        Some((minutes * 60 + seconds) * 1000 + millis)
    }

    #[inline]
    fn start(&self) -> Timestamp {
        self.start
    }
}

/// The hour learnt last from a Python logging line, for a loop over
/// many lines: each line's time as the full parse gives it, where that is
/// a Python line of the same hour with exactly three digits of fraction
/// (`2026-12-03 13:32:03,418 ...`).
#[derive(Clone, Copy, Debug)]
pub struct PyHour {
    /// The line's first 14 bytes, the date down to the hour and the `:`
    /// after it, as two overlapping words.
    head: [u64; 2],
    start: Timestamp,
}

impl QuickTime {
    /// The hour learnt last, if it was learnt from a Python logging line.
    pub fn python_hour(&self) -> Option<PyHour> {
        let learnt =
            self.learnt.as_ref().filter(|l| l.kind == Kind::Python)?;
        let mut line = [b':'; 14];
        line[..13].copy_from_slice(&learnt.prefix[..13]);
        Some(PyHour {
            head: head_words(&line),
            start: learnt.start,
        })
    }
}

/// The milliseconds into the hour of a line whose terminator may be left
/// on (`\r` and `\n` are not digits, so they end the fraction as the
/// line's end would): `None` unless the full parse reads it as a Python
/// logging line of this hour with three digits of fraction.
impl InHour for PyHour {
    const PID_IN_TAG: bool = true;

    // A line with the learnt hour's first 14 bytes, valid minutes and
    // seconds, and a `,` fraction is read by the full parse as Python's:
    // the formats tried before it want a `T` or a `;`-ended list of
    // numbers where this line has a space and a date.
    #[inline(always)]
    fn millis(&self, line: &[u8]) -> Option<i64> {
        let s = line.first_chunk::<23>()?;
        if head_words(s.first_chunk().expect("14 bytes")) != self.head
            || line.get(23).is_some_and(u8::is_ascii_digit)
        {
            return None;
        }
        let tail: &[u8; 10] = s[13..].try_into().expect("10 bytes");
        let (minutes, seconds, millis) = clock_digits(tail)?;
        Some((minutes * 60 + seconds) * 1000 + millis)
    }

    #[inline]
    fn start(&self) -> Timestamp {
        self.start
    }
}

/// Whether `date` starts with the bytes `learnt` compares: as three
/// loads and compares rather than a call to `memcmp`, once per line.
fn same_prefix(date: &[u8], learnt: &Learnt) -> bool {
    fn word<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
        b[at..at + N].try_into().expect("in bounds")
    }
    // Both are at least 19 bytes: `date` runs to the stamp's `:`.
    let (a, b) = (&date[..19], &learnt.prefix[..]);
    let hour = word::<8>(a, 0) == word::<8>(b, 0)
        && word::<4>(a, 8) == word::<4>(b, 8)
        && a[12] == b[12];
    if learnt.len == 13 {
        hour
    } else {
        hour && word::<4>(a, 13) == word::<4>(b, 13)
            && word::<2>(a, 17) == word::<2>(b, 17)
    }
}

/// The minutes, seconds and milliseconds of a Celery stamp (the line up
/// to the `:` after it), where they are as a fixed-offset clock accepts
/// them: `HH:MM:SS,mmm:`, seconds up to 59, exactly three digits of
/// fraction.
#[inline(always)]
fn clock_parts(stamp: &[u8]) -> Option<(i64, i64, i64)> {
    let tail: &[u8; 11] =
        stamp.get(MINUTES_AT - 1..=COLON_AT)?.try_into().ok()?;
    if tail[10] != b':' {
        return None;
    }
    clock_digits(tail[..10].try_into().expect("10 bytes"))
}

/// The minutes, seconds and milliseconds of a Python logging stamp
/// (`2026-12-03 13:32:03,418`), where exactly three digits of fraction
/// end it (the line ends, or a byte that is not a digit follows), and
/// the date's bytes are where the full parse wants them.
fn python_clock_parts(line: &[u8]) -> Option<(i64, i64, i64)> {
    let s = line.first_chunk::<23>()?;
    if date_time(s, 0).is_none()
        || s[10] != b' '
        || line.get(23).is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    clock_digits(s[13..].try_into().expect("10 bytes"))
}

/// The minutes, seconds and milliseconds of `:MM:SS,mmm`, seconds and
/// minutes up to 59.
#[inline(always)]
fn clock_digits(tail: &[u8; 10]) -> Option<(i64, i64, i64)> {
    if tail[0] != b':' || tail[3] != b':' || tail[6] != b',' {
        return None;
    }
    // `MM:SS,mm` as one word, each byte less `'0'`: the digits' bytes
    // are then their values. One addition tests them all: 0x76 more makes
    // a byte's top bit set from 10 up, and 0x7a from 6 up (the tens of
    // minutes and seconds); a byte already 0x80 or more shows in the word
    // itself. A carry out of a byte comes only from one that fails.
    const ADD: u64 = 0x7676_0076_7a00_767a;
    const TOPS: u64 = 0x8080_0080_8000_8080;
    let word = u64::from_le_bytes(tail[1..9].try_into().expect("8 bytes"));
    let x = word ^ 0x3030_3030_3030_3030;
    let last = tail[9].wrapping_sub(b'0');
    if (x | x.wrapping_add(ADD)) & TOPS != 0 || last > 9 {
        return None;
    }
    // Each pair of digits as one number, all at once: with the `:` and
    // `,` bytes cleared, each byte plus ten times the byte before it is
    // at most 99, so no byte carries into the next, and bytes 1, 4 and 7
    // hold the minutes, the seconds and the fraction's first two digits.
    let digits = x & 0xffff_00ff_ff00_ffff;
    let pairs = digits.wrapping_add(digits.wrapping_mul(10) << 8);
    let byte = |i: u32| ((pairs >> (8 * i)) & 0xff) as i64;
    let millis = byte(7) * 10 + i64::from(last);
    Some((byte(1), byte(4), millis))
}

#[cfg(test)]
mod tests {
    use super::{InHour, QuickTime, clock_digits};
    use crate::envelope::parse;
    use crate::time::{Clock, Timestamp, Zone};

    /// Every line of the real captures' worker logs: where the quick way
    /// answers, the full parse reads a Celery line with the same time
    /// and no pid.
    #[test]
    fn agrees_with_the_full_parse_on_the_real_worker_logs() {
        let lines = crate::envelope::tests::fixture_lines(&["worker.log"]);
        let mut answered = 0;
        for zone in ["UTC", "+05:30", "Local"] {
            let clock = Clock::new(Zone::parse(zone).unwrap(), Timestamp(0));
            let mut quick = QuickTime::default();
            for line in lines.iter().map(Vec::as_slice) {
                let env = parse(line, &clock);
                let full = env.stamp.resolve(&mut clock.clone());
                let time = quick.celery(line).and_then(|e| match e.stamp {
                    crate::envelope::Stamp::Wall(t) => Some(t),
                    _ => None,
                });
                assert_eq!(quick.celery_time(line), time);
                if let Some(q) = quick.celery(line) {
                    answered += 1;
                    assert_eq!(q, env, "{}", String::from_utf8_lossy(line));
                    assert_eq!(q.stamp.resolve(&mut clock.clone()), full);
                }
                if let Some(t) = full {
                    quick.learn(line, &env, t, &clock);
                }
            }
        }
        assert!(answered > 0, "some lines share a second");
    }

    /// The hour copied out for a loop answers as the quick way does, on
    /// every line of the real worker logs, with the line's terminator
    /// left on (`\n` or `\r\n`) or not.
    #[test]
    fn the_hour_copied_out_answers_as_the_quick_way() {
        let mut lines = crate::envelope::tests::fixture_lines(&["worker.log"]);
        // SYNTHETIC lines of one hour, for where the header's `]` is and
        // how the line ends.
        let long = format!("{}]", " ".repeat(60));
        let far = format!("{}]", " ".repeat(120));
        for made in [
            "[2026-12-03 12:42:33,454: INFO/MainProcess] first of the hour",
            "[2026-12-03 12:42:34,001: WARNING/ForkPoolWorker-12] x",
            "[2026-12-03 12:42:35,002: INFO/a]",
            "[2026-12-03 12:42:35,003: INFO/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa] late close",
            &format!("[2026-12-03 12:42:36,000:{long}"),
            &format!("[2026-12-03 12:42:36,000:{far}"),
            "[2026-12-03 12:42:37,000: INFO/MainProcess no close",
            "[2026-12-03 12:42:37,000:",
            "[2026-12-03 12:42:37,000: ]",
            "[2026-12-03 12:59:59,999: INFO/MainProcess] last of the hour",
            "[2026-12-03 12:60:00,000: INFO/MainProcess] no such minute",
        ] {
            lines.push(made.as_bytes().to_vec());
        }
        let clock = Clock::new(Zone::parse("UTC").unwrap(), Timestamp(0));
        let mut quick = QuickTime::default();
        let mut answered = 0;
        for line in lines.iter().map(Vec::as_slice) {
            if let Some(hour) = quick.hour() {
                let want = quick.celery_time(line);
                for end in [&b""[..], b"\n", b"\r\n"] {
                    let raw = [line, end].concat();
                    assert_eq!(
                        hour.time(&raw),
                        want,
                        "{}",
                        String::from_utf8_lossy(line)
                    );
                    let millis = hour.millis(&raw);
                    assert_eq!(millis.map(|m| hour.at(m)), want);
                    // The bound in milliseconds takes exactly the lines
                    // whose time is at or before it.
                    if let (Some(m), Some(t)) = (millis, want) {
                        for bound in [t.0 - 1, t.0, t.0 + 1, t.0 + 999_999] {
                            assert_eq!(
                                m <= hour.millis_up_to(bound),
                                t.0 <= bound
                            );
                        }
                    }
                }
                answered += usize::from(want.is_some());
            }
            let env = parse(line, &clock);
            if let Some(t) = env.stamp.resolve(&mut clock.clone()) {
                quick.learn(line, &env, t, &clock);
            }
        }
        assert!(answered > 10, "{answered} lines answered");
        // In this machine's zone, an hour is learnt exactly where the
        // zone says the hour reads as one piece.
        let local = Clock::new(Zone::parse("Local").unwrap(), Timestamp(0));
        let line = lines.iter().find(|l| l.starts_with(b"[")).unwrap();
        let mut quick = QuickTime::default();
        let env = parse(line, &local);
        let t = env.stamp.resolve(&mut local.clone()).unwrap();
        quick.learn(line, &env, t, &local);
        let digits = |r: std::ops::Range<usize>| -> u32 {
            std::str::from_utf8(&line[r]).unwrap().parse().unwrap()
        };
        let (date, hour) = (
            (digits(1..5) as i32, digits(6..8), digits(9..11)),
            digits(12..14),
        );
        assert_eq!(
            quick.hour().is_some(),
            local.zone.hour_is_linear(date, hour)
        );
    }

    #[test]
    fn declines_what_it_cannot_vouch_for() {
        let clock = Clock::new(Zone::parse("UTC").unwrap(), Timestamp(0));
        let first = b"[2026-12-03 12:42:33,454: INFO/MainProcess] ready";
        let env = parse(first, &clock);
        let t = env.stamp.resolve(&mut clock.clone()).unwrap();
        let mut quick = QuickTime::default();
        assert_eq!(quick.celery(first), None, "nothing learnt yet");
        quick.learn(first, &env, t, &clock);
        let time = |line: &[u8]| {
            quick
                .celery(line)
                .map(|e| e.stamp.resolve(&mut clock.clone()))
        };
        let later = b"[2026-12-03 12:42:33,999: ERROR/ForkPoolWorker-2] x";
        assert_eq!(time(later), Some(Some(t.shifted(545_000_000))));
        let minute = b"[2026-12-03 12:43:00,454: INFO/MainProcess] y";
        assert_eq!(time(minute), Some(Some(t.shifted(27_000_000_000))));
        assert_eq!(quick.celery(later), Some(parse(later, &clock)));
        for other in [
            &b"[2026-12-03 13:00:00,000: INFO/MainProcess] next hour"[..],
            b"[2026-12-03 12:42:60,000: INFO/MainProcess] a leap second",
            b"[2026-12-03 12:60:00,000: INFO/MainProcess] minute sixty",
            b"[2026-12-03 12:4/:00,000: INFO/MainProcess] below a digit",
            b"[2026-12-03 12:4::00,000: INFO/MainProcess] above a digit",
            b"[2026-12-03 12:42:00,00\xb9: INFO/MainProcess] high byte",
            b"[2026-12-03 12:42:0\xf9,000: INFO/MainProcess] high byte",
            b"[2026-12-03 12:\xff2:00,000: INFO/MainProcess] carry",
            b"[2026-12-03 12:42:33,45: INFO/MainProcess] two digits",
            b"[2026-12-03 12:42:33,454 INFO/MainProcess] no colon",
            b"[2026-12-03 12:42:33,454: no closing bracket",
            b"Traceback (most recent call last):",
        ] {
            assert_eq!(
                quick.celery(other),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    /// The Python hour copied out for a loop answers only where the full
    /// parse reads a Python logging line, and then with its time: on
    /// every line of the real worker logs (the SDK workers log in
    /// Python's default format), with the terminator on or not, and on
    /// SYNTHETIC lines around the edges of what it takes.
    #[test]
    fn the_python_hour_answers_as_the_full_parse() {
        let mut lines = crate::envelope::tests::fixture_lines(&["worker.log"]);
        for made in [
            "2026-12-03 13:32:03,418 INFO worker[812]: first of the hour",
            "2026-12-03 13:32:03,418",
            "2026-12-03 13:32:03,4181 INFO worker[812]: four digits",
            "2026-12-03 13:32:03,41 INFO worker[812]: two digits",
            "2026-12-03 13:32:03.418 INFO worker[812]: a dot",
            "2026-12-03 13:32:03 INFO worker[812]: no fraction",
            "2026-12-03 13:60:03,418 INFO worker[812]: minute sixty",
            "2026-12-03 13:32:60,418 INFO worker[812]: second sixty",
            "2026-12-03 13:3/:03,418 INFO worker[812]: below a digit",
            "2026-12-03T13:32:03,418000+00:00 kernel: a T",
            "2026-12-03 13:59:59,999 ERROR worker[813]: last of the hour",
            "2026-12-03 14:00:00,000 INFO worker[812]: next hour",
            "[2026-12-03 13:42:33,454: INFO/MainProcess] celery",
        ] {
            lines.push(made.as_bytes().to_vec());
        }
        let mut answered = 0;
        for zone in ["UTC", "+05:30", "Local"] {
            let clock = Clock::new(Zone::parse(zone).unwrap(), Timestamp(0));
            let mut quick = QuickTime::default();
            for line in lines.iter().map(Vec::as_slice) {
                let env = parse(line, &clock);
                let full = env.stamp.resolve(&mut clock.clone());
                if let Some(hour) = quick.python_hour() {
                    for end in [&b""[..], b"\n", b"\r\n"] {
                        let raw = [line, end].concat();
                        let Some(m) = hour.millis(&raw) else { continue };
                        let shown = String::from_utf8_lossy(line);
                        assert_eq!(
                            env.format,
                            crate::envelope::Format::Python
                        );
                        assert_eq!(full, Some(hour.at(m)), "{shown}");
                        let t = hour.at(m);
                        for bound in [t.0 - 1, t.0, t.0 + 1, t.0 + 999_999] {
                            assert_eq!(
                                m <= hour.millis_up_to(bound),
                                t.0 <= bound
                            );
                        }
                        answered += usize::from(end.is_empty());
                    }
                }
                if let Some(t) = full {
                    quick.learn(line, &env, t, &clock);
                }
            }
        }
        assert!(answered > 10, "{answered} lines answered");
    }

    /// A Python hour is not a Celery one, nor the reverse, and this
    /// machine's zone learns one where its hour reads as one piece.
    #[test]
    fn each_kind_answers_only_for_its_own_lines() {
        let clock = Clock::new(Zone::parse("UTC").unwrap(), Timestamp(0));
        let python = b"2026-12-03 13:32:03,418 INFO worker[812]: x";
        let celery = b"[2026-12-03 13:32:03,418: INFO/MainProcess] x";
        let learnt = |line: &[u8], clock: &Clock| {
            let env = parse(line, clock);
            let t = env.stamp.resolve(&mut clock.clone()).unwrap();
            let mut quick = QuickTime::default();
            quick.learn(line, &env, t, clock);
            quick
        };
        let quick = learnt(python, &clock);
        assert!(quick.python_hour().is_some());
        assert!(quick.hour().is_none());
        assert_eq!(quick.celery(celery), None);
        assert_eq!(quick.celery_time(celery), None);
        let quick = learnt(celery, &clock);
        assert!(quick.python_hour().is_none());
        assert!(quick.hour().is_some());
        let local = Clock::new(Zone::parse("Local").unwrap(), Timestamp(0));
        assert_eq!(
            learnt(python, &local).python_hour().is_some(),
            local.zone.hour_is_linear((2026, 12, 3), 13)
        );
    }

    /// `clock_digits` against reading each digit on its own, over every
    /// valid minute, second and millisecond, and over each position
    /// holding each byte that is not what it wants (SYNTHETIC clocks).
    #[test]
    fn clock_digits_reads_each_digit_as_a_plain_reading_does() {
        fn plain(tail: &[u8; 10]) -> Option<(i64, i64, i64)> {
            let digit = |i: usize| {
                tail[i].is_ascii_digit().then(|| i64::from(tail[i] - b'0'))
            };
            if tail[0] != b':' || tail[3] != b':' || tail[6] != b',' {
                return None;
            }
            let minutes = digit(1)? * 10 + digit(2)?;
            let seconds = digit(4)? * 10 + digit(5)?;
            let millis = digit(7)? * 100 + digit(8)? * 10 + digit(9)?;
            (minutes < 60 && seconds < 60)
                .then_some((minutes, seconds, millis))
        }
        let tail = |m: i64, s: i64, ms: i64| -> [u8; 10] {
            format!(":{m:02}:{s:02},{ms:03}")
                .into_bytes()
                .try_into()
                .unwrap()
        };
        for m in 0..60 {
            for s in 0..60 {
                for ms in (0..1000).step_by(37).chain([1, 9, 99, 999]) {
                    let t = tail(m, s, ms);
                    assert_eq!(clock_digits(&t), Some((m, s, ms)), "{t:?}");
                }
            }
        }
        let base = tail(59, 59, 999);
        for at in 0..10 {
            for b in 0..=255u8 {
                let mut t = base;
                t[at] = b;
                assert_eq!(clock_digits(&t), plain(&t), "{t:?}");
            }
        }
    }
}
