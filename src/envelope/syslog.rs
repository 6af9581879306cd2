//! Syslog envelopes: the classic BSD form and the ISO-stamped form that
//! `journalctl -o short-iso` and rsyslog's high-precision template write.
//!
//! Both carry a host and a tag (`prog[pid]:`). When the program is
//! `kernel` and the message still begins with the kernel's own
//! `[ 1168.679659]` stamp, the envelope reports both stamps, which lets
//! the source's clock learn that host's boot time.

use super::{
    Envelope, Format, Span, Stamp, clock_time, date_time, digit_run, digits,
    kernel, month_number, offset, skip_spaces, tag,
};
use crate::time::{Clock, fraction_nanos, utc_from_fields};

/// The longest month name taken, in bytes: `сентября`-length words of
/// a localized `journalctl` are longer than the English three letters.
const MAX_MONTH_BYTES: usize = 16;

/// `Dec  3 12:42:33 host prog[pid]: msg`. The month may be another
/// language's word (`апр 28 01:23:30`, `mars 01 14:37:27`), as
/// `journalctl` prints it under a non-English locale; such a line is
/// still split into host, tag and message, but its stamp cannot be read
/// (no month number), so it inherits the time of the line before.
pub(super) fn classic(line: &[u8], clock: &Clock) -> Option<Envelope> {
    let word = month_word(line)?;
    let month = month_number(&line[..word]);
    let at = word + 1;
    let day = match (line.get(at)?, line.get(at + 1)?) {
        (b' ', d) if d.is_ascii_digit() => u32::from(d - b'0'),
        _ => digits(line, at, 2)?,
    };
    if line.get(at + 2) != Some(&b' ') {
        return None;
    }
    let time = clock_time(line, at + 3)?;
    let mut after = at + 11;
    let mut nanos = 0;
    if line.get(after) == Some(&b'.') {
        let n = digit_run(line, after + 1);
        nanos = fraction_nanos(&line[after + 1..after + 1 + n]);
        after += 1 + n;
    }
    if line.get(after) != Some(&b' ') {
        return None;
    }
    let stamp = match month {
        Some(month) => {
            let year = clock.year_for_month(month);
            Stamp::Wall(clock.local((year, month, day), time, nanos)?)
        }
        None => Stamp::None,
    };
    Some(host_and_tag(line, after + 1, Format::Syslog, stamp))
}

/// Where the word a [`classic`] line starts with ends, if the line
/// starts with one: 3 to [`MAX_MONTH_BYTES`] letters (or bytes of a
/// non-ASCII month name), then a space.
fn month_word(line: &[u8]) -> Option<usize> {
    let word = line
        .iter()
        .take(MAX_MONTH_BYTES + 1)
        .take_while(|&&b| b.is_ascii_alphabetic() || b >= 0x80)
        .count();
    ((3..=MAX_MONTH_BYTES).contains(&word) && line.get(word) == Some(&b' '))
        .then_some(word)
}

/// Whether [`classic`] may take `line`: false only where it surely does
/// not (no month word, or no day after it), for a caller that must not
/// miss a line it takes.
pub(super) fn may_be_classic(line: &[u8]) -> bool {
    month_word(line)
        .is_some_and(|w| matches!(line.get(w + 1), Some(b' ' | b'0'..=b'9')))
}

/// `2026-12-03T12:42:33+0000 host kernel: msg`, with an optional fraction.
pub(super) fn journal_iso(line: &[u8]) -> Option<Envelope> {
    let (date, time, mut after) = date_time(line, 0)?;
    if line.get(10) != Some(&b'T') {
        return None;
    }
    let mut nanos = 0;
    if line.get(after) == Some(&b'.') {
        let n = digit_run(line, after + 1);
        nanos = fraction_nanos(&line[after + 1..after + 1 + n]);
        after += 1 + n;
    }
    let (off, end) = offset(line, after)?;
    if line.get(end) != Some(&b' ') {
        return None;
    }
    // A host and a tag must follow, or this is a bare RFC 3339 line.
    let host_end =
        end + 1 + line[end + 1..].iter().position(|&b| b == b' ')?;
    tag(line, host_end + 1)?;
    let wall = utc_from_fields(date, time, nanos, off)?;
    Some(host_and_tag(
        line,
        end + 1,
        Format::JournalIso,
        Stamp::Wall(wall),
    ))
}

/// Read `host tag: msg` from `at`, after a stamp. The host may be
/// missing (`Aug 19 00:32:49 kernel: msg`, as some forwarders write it).
fn host_and_tag(
    line: &[u8],
    at: usize,
    format: Format,
    stamp: Stamp,
) -> Envelope {
    let at = skip_spaces(line, at);
    let mut env = Envelope {
        format,
        stamp,
        host: None,
        program: None,
        pid: None,
        level: None,
        message: at,
        kernel: false,
    };
    let (host, tagged) = match tag(line, at) {
        Some(tagged) => (None, tagged),
        None => {
            let Some(host_len) = line[at..].iter().position(|&b| b == b' ')
            else {
                return env;
            };
            let host: Span = (at, at + host_len);
            let Some(tagged) = tag(line, at + host_len + 1) else {
                return env;
            };
            (Some(host), tagged)
        }
    };
    let (program, pid, message) = tagged;
    env.host = host;
    env.program = Some(program);
    env.pid = pid;
    env.message = message;
    if &line[program.0..program.1] == b"kernel" {
        env.kernel = true;
        if let Some((since_boot, after)) =
            kernel::inner_monotonic(line, message)
        {
            env.stamp = match stamp {
                Stamp::Wall(wall) => Stamp::Both { wall, since_boot },
                _ => Stamp::Monotonic(since_boot),
            };
            env.message = after;
        }
    }
    env
}
