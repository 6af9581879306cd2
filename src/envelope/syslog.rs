//! Syslog envelopes: the classic BSD form and the ISO-stamped form that
//! `journalctl -o short-iso` and rsyslog's high-precision template write.
//!
//! Both carry a host and a tag (`prog[pid]:`). When the program is
//! `kernel` and the message still begins with the kernel's own
//! `[ 1168.679659]` stamp, the envelope reports both stamps, which lets
//! the source's clock learn that host's boot time.

use super::{
    Envelope, Format, Span, Stamp, clock_time, date_time, digit_run, digits,
    kernel, offset, skip_spaces, tag,
};
use crate::time::{Clock, fraction_nanos, utc_from_fields};

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep",
    b"Oct", b"Nov", b"Dec",
];

/// `Dec  3 12:42:33 host prog[pid]: msg`.
pub(super) fn classic(line: &[u8], clock: &Clock) -> Option<Envelope> {
    let month = MONTHS.iter().position(|m| line.get(..3) == Some(&m[..]))? + 1;
    if line.get(3) != Some(&b' ') {
        return None;
    }
    let day = match (line.get(4)?, line.get(5)?) {
        (b' ', d) if d.is_ascii_digit() => u32::from(d - b'0'),
        _ => digits(line, 4, 2)?,
    };
    if line.get(6) != Some(&b' ') {
        return None;
    }
    let time = clock_time(line, 7)?;
    let mut after = 15;
    let mut nanos = 0;
    if line.get(after) == Some(&b'.') {
        let n = digit_run(line, after + 1);
        nanos = fraction_nanos(&line[after + 1..after + 1 + n]);
        after += 1 + n;
    }
    if line.get(after) != Some(&b' ') {
        return None;
    }
    let year = clock.year_for_month(month as u32);
    let wall = clock.local((year, month as u32, day), time, nanos)?;
    Some(host_and_tag(line, after + 1, Format::Syslog, wall))
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
    Some(host_and_tag(line, end + 1, Format::JournalIso, wall))
}

/// Read `host tag: msg` from `at`, after a wall stamp.
fn host_and_tag(
    line: &[u8],
    at: usize,
    format: Format,
    wall: crate::time::Timestamp,
) -> Envelope {
    let at = skip_spaces(line, at);
    let mut env = Envelope {
        format,
        stamp: Stamp::Wall(wall),
        host: None,
        program: None,
        pid: None,
        level: None,
        message: at,
        kernel: false,
    };
    let Some(host_len) = line[at..].iter().position(|&b| b == b' ') else {
        return env;
    };
    let host: Span = (at, at + host_len);
    let Some((program, pid, message)) = tag(line, at + host_len + 1) else {
        return env;
    };
    env.host = Some(host);
    env.program = Some(program);
    env.pid = pid;
    env.message = message;
    if &line[program.0..program.1] == b"kernel" {
        env.kernel = true;
        if let Some((since_boot, after)) =
            kernel::inner_monotonic(line, message)
        {
            env.stamp = Stamp::Both { wall, since_boot };
            env.message = after;
        }
    }
    env
}
