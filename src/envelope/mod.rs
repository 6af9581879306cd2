//! Envelopes: the stamp, program and pid that wrap a message, recognized
//! from the first bytes of a line.
//!
//! [`parse`] looks at one line and returns an [`Envelope`] whose ranges
//! point into the line, so nothing is copied. Each format lives in its
//! own module; this one dispatches on the first byte, which is enough to
//! tell them apart cheaply:
//!
//! | first byte | formats |
//! | --- | --- |
//! | `[` | dmesg `[ 1168.679659] `, Celery `[2026-12-03 12:42:33,454: ERROR/...]`, gunicorn `[2024-01-09 13:24:39 +0000] [1637] [CRITICAL]`, `dmesg -T` `[Mon Dec  8 17:51:31 2025]` |
//! | digit | `/dev/kmsg` `4,427,1168679659,-;`, ISO dates (dmesg iso, journald short-iso, RFC 3339, Python logging), Go's and nginx's `2026/12/03 14:04:18`, `talosctl dmesg` after a node address |
//! | letter | classic syslog `Dec  3 12:42:33 host prog[pid]:` (any language's month), `kernel: `, `talosctl dmesg` `kern:    info: [...]: ` |
//!
//! When nothing is recognized at the start, a label before a separator
//! (`web_1  | `, `machine # `) is taken off and the rest parsed again
//! ([`prefix::labelled`]).
//!
//! Times come back as a [`Stamp`], not yet a UTC instant: kernel stamps
//! are monotonic and need the source's [`Clock`] to become wall time,
//! which [`Stamp::resolve`] does.

mod app;
mod kernel;
mod prefix;
mod quick;
mod syslog;

pub use quick::{Hour, InHour, PyHour, QuickTime};

use crate::time::{Clock, Timestamp};

/// The format an envelope was recognized as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `dmesg` default: `[ 1168.679659] msg`.
    Dmesg,
    /// `dmesg --time-format iso`: `2026-12-03T12:42:33,454321+00:00 msg`.
    DmesgIso,
    /// `dmesg -T`: `[Mon Dec  8 17:51:31 2025] msg`.
    DmesgCtime,
    /// A bare `kernel: msg`, with no stamp before it.
    KernelTag,
    /// `talosctl dmesg`: `kern:    info: [2024-08-22T17:52:26Z]: msg`.
    Talos,
    /// gunicorn: `[2024-01-09 13:24:39 +0000] [1637] [CRITICAL] msg`.
    Gunicorn,
    /// Go's log package and nginx: `2026/12/03 14:04:18.508995 msg`.
    SlashDate,
    /// A raw `/dev/kmsg` record: `4,427,1168679659,-;msg`.
    Kmsg,
    /// A `/dev/kmsg` continuation line (` SUBSYSTEM=...`): no stamp.
    KmsgContinuation,
    /// Classic syslog: `Dec  3 12:42:33 host prog[pid]: msg`.
    Syslog,
    /// ISO stamp, host and tag: `journalctl -o short-iso`, rsyslog's
    /// high-precision format.
    JournalIso,
    /// Python logging's default asctime: `2026-12-03 12:34:08,719 ...`.
    Python,
    /// Celery: `[2026-12-03 12:42:33,454: ERROR/ForkPoolWorker-2] msg`.
    Celery,
    /// A bare RFC 3339 stamp followed by the message.
    Rfc3339,
    /// Nothing recognized: the whole line is the message.
    None,
}

/// A line's time as its envelope gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// No stamp: the line inherits its source's previous time.
    None,
    /// A UTC instant.
    Wall(Timestamp),
    /// Nanoseconds since boot (dmesg, kmsg).
    Monotonic(i64),
    /// Both, as in a syslog kernel line that keeps the `[ 1168.679659]`
    /// stamp: the pair tells the boot time of the host that wrote it.
    Both { wall: Timestamp, since_boot: i64 },
}

impl Stamp {
    /// The UTC instant of this stamp, if it has one or the clock knows
    /// the boot time. A `Both` stamp teaches the clock its boot time.
    pub fn resolve(self, clock: &mut Clock) -> Option<Timestamp> {
        match self {
            Stamp::None => None,
            Stamp::Wall(t) => Some(t),
            Stamp::Monotonic(m) => clock.from_monotonic(m),
            Stamp::Both { wall, since_boot } => {
                if !clock.boot_time_known {
                    clock.boot_time = Some(wall.shifted(-since_boot));
                    clock.boot_time_known = true;
                }
                Some(wall)
            }
        }
    }
}

/// A half-open byte range `start..end` into the line.
pub type Span = (usize, usize);

/// What wraps a message. Every range indexes the line given to
/// [`parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub format: Format,
    pub stamp: Stamp,
    /// Host name, where the format carries one.
    pub host: Option<Span>,
    /// Program or logger name (`kernel`, `celery`, `ForkPoolWorker-2`).
    pub program: Option<Span>,
    pub pid: Option<u32>,
    /// Level word (`ERROR`, `warning`), or the kmsg priority digit.
    pub level: Option<Span>,
    /// Where the message starts; it runs to the end of the line.
    pub message: usize,
    /// True when the message is the kernel's.
    pub kernel: bool,
}

impl Envelope {
    /// Whether kernel-only patterns apply to the line: it is the
    /// kernel's, or bare (see `extract::LineInfo::kernel_or_bare`).
    pub fn kernel_or_bare(&self) -> bool {
        self.kernel || self.message == 0
    }

    /// An envelope that recognized nothing: the line is the message.
    pub fn bare() -> Envelope {
        Envelope {
            format: Format::None,
            stamp: Stamp::None,
            host: None,
            program: None,
            pid: None,
            level: None,
            message: 0,
            kernel: false,
        }
    }
}

/// Recognize the envelope of one line (terminator already removed).
/// Never fails: a line with no known envelope is all message.
pub fn parse(line: &[u8], clock: &Clock) -> Envelope {
    parse_at(line, clock, 0).unwrap_or_else(Envelope::bare)
}

/// The stamp of a `dmesg` line (`[ 1168.679659] msg`) in nanoseconds
/// since boot, if [`parse`] reads `line` as one: it tries that format
/// first for a line starting with `[`. The envelope of such a line is
/// the kernel's, with no pid.
pub fn dmesg_since_boot(line: &[u8]) -> Option<i64> {
    if line.first() != Some(&b'[') {
        return None;
    }
    kernel::dmesg_since_boot(line)
}

/// Text every line holds that can teach a [`Clock`] its boot time: a
/// syslog or journal kernel line that kept the kernel's own stamp
/// (`... kernel: [ 1168.679659] msg`, [`Stamp::Both`]). A reader that
/// passes lines over unread must not pass over these while the boot time
/// is unknown.
pub const BOOT_TEACHER: &[u8] = b"kernel: [";

/// Whether `line` has no envelope, told by its first bytes alone: an
/// indented line (a traceback's, a continued message) that is not a
/// `/dev/kmsg` continuation (` KEY=value`), or a line that starts with a
/// word no format starts with (`Traceback (most recent call last):`,
/// `ValueError: ...`). [`parse`] gives such a line [`Envelope::bare`];
/// `false` says nothing either way. A line's terminator, left on, does
/// not change the answer.
#[inline]
pub fn plainly_bare(line: &[u8]) -> bool {
    match line.first() {
        Some(b'\t') => true,
        Some(b' ') => kernel::kmsg_continuation(line).is_none(),
        Some(b) if b.is_ascii_alphabetic() => no_format_takes_word(line),
        _ => false,
    }
}

/// Whether no format `parse_at` tries for a line that starts with a
/// letter may take `line`, each asked only whether it may. A `kernel:`
/// line (`kernel::kernel_tag`) is one talos's facility may start.
#[inline(never)]
fn no_format_takes_word(line: &[u8]) -> bool {
    !(prefix::may_be_talos(line)
        || syslog::may_be_classic(line)
        || prefix::may_be_labelled(line))
}

/// The envelope of `line`, if one is recognized; `depth` counts the
/// labels already taken off (see [`prefix::labelled`]).
fn parse_at(line: &[u8], clock: &Clock, depth: u8) -> Option<Envelope> {
    let parsed = match line.first()? {
        b'[' => kernel::dmesg(line)
            .or_else(|| app::celery(line, clock))
            .or_else(|| app::gunicorn(line))
            .or_else(|| kernel::dmesg_ctime(line, clock)),
        b'0'..=b'9' => kernel::kmsg(line)
            .or_else(|| kernel::dmesg_iso(line))
            .or_else(|| syslog::journal_iso(line))
            .or_else(|| app::python(line, clock))
            .or_else(|| app::rfc3339(line))
            .or_else(|| app::slash_date(line, clock))
            .or_else(|| prefix::talos(line)),
        b'A'..=b'Z' => syslog::classic(line, clock),
        b'a'..=b'z' => kernel::kernel_tag(line)
            .or_else(|| prefix::talos(line))
            .or_else(|| syslog::classic(line, clock)),
        0x80.. => syslog::classic(line, clock),
        b' ' => kernel::kmsg_continuation(line),
        _ => None,
    };
    parsed.or_else(|| prefix::labelled(line, clock, depth, parse_at))
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep",
    b"Oct", b"Nov", b"Dec",
];

/// The number (1-12) of an English three-letter month name.
pub(crate) fn month_number(word: &[u8]) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| word == &m[..])
        .map(|i| i as u32 + 1)
}

/// Parse exactly `n` ASCII digits at `at`.
pub(crate) fn digits(line: &[u8], at: usize, n: usize) -> Option<u32> {
    let bytes = line.get(at..at + n)?;
    let mut value = 0u32;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// Count the ASCII digits starting at `at`.
pub(crate) fn digit_run(line: &[u8], at: usize) -> usize {
    line.get(at..).map_or(0, |rest| {
        rest.iter().take_while(|b| b.is_ascii_digit()).count()
    })
}

/// A calendar date: year, month, day.
pub(crate) type Date = (i32, u32, u32);

/// A time of day: hours, minutes, seconds.
pub(crate) type Clock3 = (u32, u32, u32);

/// Parse `YYYY-MM-DD?HH:MM:SS` at `at` with any single separator between
/// date and time. Returns the date, the time and the index after it.
pub(crate) fn date_time(
    line: &[u8],
    at: usize,
) -> Option<(Date, Clock3, usize)> {
    let y = digits(line, at, 4)?;
    if line.get(at + 4) != Some(&b'-') || line.get(at + 7) != Some(&b'-') {
        return None;
    }
    let mo = digits(line, at + 5, 2)?;
    let d = digits(line, at + 8, 2)?;
    let (h, mi, s) = clock_time(line, at + 11)?;
    Some(((y as i32, mo, d), (h, mi, s), at + 19))
}

/// Parse `HH:MM:SS` at `at`.
pub(crate) fn clock_time(line: &[u8], at: usize) -> Option<(u32, u32, u32)> {
    let h = digits(line, at, 2)?;
    if line.get(at + 2) != Some(&b':') || line.get(at + 5) != Some(&b':') {
        return None;
    }
    let mi = digits(line, at + 3, 2)?;
    let s = digits(line, at + 6, 2)?;
    (h < 24 && mi < 60 && s < 61).then_some((h, mi, s))
}

/// Parse a UTC offset at `at`: `Z`, `+00:00`, `+0000`, `-05`. Returns
/// the offset in seconds and the index after it.
pub(crate) fn offset(line: &[u8], at: usize) -> Option<(i32, usize)> {
    match line.get(at)? {
        b'Z' | b'z' => Some((0, at + 1)),
        b'+' | b'-' => {
            let sign = if line[at] == b'-' { -1 } else { 1 };
            let h = digits(line, at + 1, 2)? as i32;
            let (m, end) = if line.get(at + 3) == Some(&b':') {
                (digits(line, at + 4, 2)? as i32, at + 6)
            } else if let Some(m) = digits(line, at + 3, 2) {
                (m as i32, at + 5)
            } else {
                (0, at + 3)
            };
            Some((sign * (h * 3600 + m * 60), end))
        }
        _ => None,
    }
}

/// Skip spaces from `at`.
pub(crate) fn skip_spaces(line: &[u8], mut at: usize) -> usize {
    while line.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// Parse a syslog tag at `at`: `prog[pid]:` or `prog:`, followed by a
/// space. Returns the program span, the pid and the message start.
pub(crate) fn tag(
    line: &[u8],
    at: usize,
) -> Option<(Span, Option<u32>, usize)> {
    let rest = line.get(at..)?;
    let limit = rest.len().min(128);
    let mut i = 0;
    while i < limit {
        match rest[i] {
            b':' => {
                if i == 0 {
                    return None;
                }
                let after = at + i + 1;
                let after = if line.get(after) == Some(&b' ') {
                    after + 1
                } else if after == line.len() {
                    after
                } else {
                    return None;
                };
                return Some(((at, at + i), None, after));
            }
            b'[' => {
                let n = digit_run(rest, i + 1);
                if i == 0 || n == 0 || rest.get(i + 1 + n) != Some(&b']') {
                    return None;
                }
                let pid = std::str::from_utf8(&rest[i + 1..i + 1 + n])
                    .ok()?
                    .parse()
                    .ok();
                if rest.get(i + 2 + n) != Some(&b':') {
                    return None;
                }
                let after = skip_one_space(line, at + i + 3 + n);
                return Some(((at, at + i), pid, after));
            }
            b' ' | b'\t' => return None,
            _ => i += 1,
        }
    }
    None
}

fn skip_one_space(line: &[u8], at: usize) -> usize {
    if line.get(at) == Some(&b' ') {
        at + 1
    } else {
        at
    }
}

#[cfg(test)]
mod tests;
