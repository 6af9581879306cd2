//! Application envelopes: Python logging's default stamp, Celery's
//! bracketed header, and a bare RFC 3339 stamp.
//!
//! Python and Celery write local time without a zone, so their stamps are
//! read in the source clock's zone (`--tz`, or this machine's).

use super::{
    Envelope, Format, Span, Stamp, clock_time, date_time, digit_run, digits,
    offset, skip_spaces, tag,
};
use crate::time::{Clock, Timestamp, fraction_nanos, utc_from_fields};

const LEVELS: [&[u8]; 9] = [
    b"DEBUG",
    b"INFO",
    b"WARNING",
    b"WARN",
    b"ERROR",
    b"CRITICAL",
    b"FATAL",
    b"NOTICE",
    b"TRACE",
];

/// `2026-12-03 12:34:08,719 LEVEL name[pid]: msg`. After the stamp, an
/// optional level word and an optional `name[pid]:` tag are taken into
/// the envelope; anything else is the message.
pub(super) fn python(line: &[u8], clock: &Clock) -> Option<Envelope> {
    let (date, time, after) = date_time(line, 0)?;
    if line.get(10) != Some(&b' ') {
        return None;
    }
    let (nanos, mut at) = fraction(line, after, b',')
        .or_else(|| fraction(line, after, b'.'))
        .unwrap_or((0, after));
    let wall = clock.local(date, time, nanos)?;
    let mut env = Envelope {
        format: Format::Python,
        stamp: Stamp::Wall(wall),
        host: None,
        program: None,
        pid: None,
        level: None,
        message: skip_spaces(line, at),
        kernel: false,
    };

    // Optional level word, possibly followed by ` - ` or `:`.
    at = skip_spaces(line, at);
    if let Some(level) = level_at(line, at) {
        env.level = Some(level);
        at = skip_separator(line, level.1);
        env.message = at;
    }

    // Optional `name[pid]:` or `name:` tag.
    if let Some((program, pid, message)) = tag(line, at) {
        env.program = Some(program);
        env.pid = pid;
        env.message = message;
    }
    Some(env)
}

/// `[2026-12-03 12:42:33,454: ERROR/ForkPoolWorker-2] msg`.
pub(super) fn celery(line: &[u8], clock: &Clock) -> Option<Envelope> {
    let (date, time, after) = date_time(line, 1)?;
    let (nanos, at) = fraction(line, after, b',').unwrap_or((0, after));
    if line.get(at) != Some(&b':') {
        return None;
    }
    let wall = clock.local(date, time, nanos)?;
    celery_header(line, at + 1, wall)
}

/// Whether [`celery_header`] finds the `]` that closes the header.
pub(super) fn celery_header_closes(line: &[u8], at: usize) -> bool {
    let level_at_ = skip_spaces(line, at).min(line.len());
    let reach = &line[level_at_..(level_at_ + 96).min(line.len())];
    // The `]` is nearly always in the first 32 bytes: a test of all of
    // them at once, which compiles to a few vector instructions, saves a
    // search call on every line of a replay.
    if let Some(first) = reach.first_chunk::<32>()
        && first.iter().fold(false, |seen, &b| seen | (b == b']'))
    {
        return true;
    }
    memchr::memchr(b']', reach).is_some()
}

/// The rest of a Celery envelope, after the `:` that ends its stamp at
/// `at - 1`: the level, a `/` and the program, up to the `]` that closes
/// the header within 96 bytes.
pub(super) fn celery_header(
    line: &[u8],
    at: usize,
    wall: Timestamp,
) -> Option<Envelope> {
    let level_at_ = skip_spaces(line, at).min(line.len());
    let close = level_at_
        + memchr::memchr(
            b']',
            &line[level_at_..(level_at_ + 96).min(line.len())],
        )?;
    let slash = memchr::memchr(b'/', &line[level_at_..close]);
    let (level, program): (Span, Option<Span>) = match slash {
        Some(s) => {
            ((level_at_, level_at_ + s), Some((level_at_ + s + 1, close)))
        }
        None => ((level_at_, close), None),
    };
    Some(Envelope {
        format: Format::Celery,
        stamp: Stamp::Wall(wall),
        host: None,
        program,
        pid: None,
        level: Some(level),
        message: skip_spaces(line, close + 1),
        kernel: false,
    })
}

/// gunicorn's default: `[2024-01-09 13:24:39 +0000] [1637] [CRITICAL]
/// msg`, where the pid is that of the process that logged (the arbiter
/// for a worker's death).
pub(super) fn gunicorn(line: &[u8]) -> Option<Envelope> {
    let (date, time, after) = date_time(line, 1)?;
    if line.get(after) != Some(&b' ') {
        return None;
    }
    let (off, end) = offset(line, after + 1)?;
    if line.get(end..end + 3) != Some(b"] [") {
        return None;
    }
    let pid_len = digit_run(line, end + 3);
    let pid_end = end + 3 + pid_len;
    if pid_len == 0 || line.get(pid_end..pid_end + 3) != Some(b"] [") {
        return None;
    }
    let pid = std::str::from_utf8(&line[end + 3..pid_end])
        .ok()?
        .parse()
        .ok();
    let level_start = pid_end + 3;
    let level_len = alpha_run(line, level_start);
    let level = (level_start, level_start + level_len);
    if level_len == 0 || line.get(level.1) != Some(&b']') {
        return None;
    }
    Some(Envelope {
        format: Format::Gunicorn,
        stamp: Stamp::Wall(utc_from_fields(date, time, 0, off)?),
        host: None,
        program: None,
        pid,
        level: Some(level),
        message: skip_spaces(line, level.1 + 1),
        kernel: false,
    })
}

/// `2026/12/03 14:04:18.508995 msg`: Go's log package (the fraction is
/// there with Lmicroseconds), and nginx's error log, whose message starts
/// with `[level] pid#tid: `; the stamp is local time.
pub(super) fn slash_date(line: &[u8], clock: &Clock) -> Option<Envelope> {
    let y = digits(line, 0, 4)?;
    if line.get(4) != Some(&b'/') || line.get(7) != Some(&b'/') {
        return None;
    }
    let mo = digits(line, 5, 2)?;
    let d = digits(line, 8, 2)?;
    if line.get(10) != Some(&b' ') {
        return None;
    }
    let time = clock_time(line, 11)?;
    let (nanos, at) = fraction(line, 19, b'.').unwrap_or((0, 19));
    if line.get(at) != Some(&b' ') {
        return None;
    }
    let wall = clock.local((y as i32, mo, d), time, nanos)?;
    let mut env = Envelope::bare();
    env.format = Format::SlashDate;
    env.stamp = Stamp::Wall(wall);
    env.message = at + 1;

    // nginx: `[alert] 27#27: `.
    let rest = &line[at + 1..];
    if rest.first() == Some(&b'[') {
        let level_len = alpha_run(line, at + 2);
        let after_level = at + 2 + level_len;
        if level_len > 0
            && line.get(after_level..after_level + 2) == Some(b"] ")
        {
            let pid_at = after_level + 2;
            let pid_len = digit_run(line, pid_at);
            if pid_len > 0 && line.get(pid_at + pid_len) == Some(&b'#') {
                let tid_len = digit_run(line, pid_at + pid_len + 1);
                let colon = pid_at + pid_len + 1 + tid_len;
                if line.get(colon..colon + 2) == Some(b": ") {
                    env.level = Some((at + 2, after_level));
                    env.pid =
                        std::str::from_utf8(&line[pid_at..pid_at + pid_len])
                            .ok()
                            .and_then(|p| p.parse().ok());
                    env.message = colon + 2;
                }
            }
        }
    }
    Some(env)
}

/// `2026-12-03T12:34:08.875Z msg` (any offset).
pub(super) fn rfc3339(line: &[u8]) -> Option<Envelope> {
    let (date, time, after) = date_time(line, 0)?;
    if !matches!(line.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (nanos, at) = fraction(line, after, b'.').unwrap_or((0, after));
    let (off, end) = offset(line, at)?;
    let wall = utc_from_fields(date, time, nanos, off)?;
    let mut env = Envelope::bare();
    env.format = Format::Rfc3339;
    env.stamp = Stamp::Wall(wall);
    env.message = skip_spaces(line, end);
    if let Some(level) = level_at(line, env.message) {
        env.level = Some(level);
    }
    Some(env)
}

/// A fraction of a second introduced by `sep` at `at`.
fn fraction(line: &[u8], at: usize, sep: u8) -> Option<(i64, usize)> {
    if line.get(at) != Some(&sep) {
        return None;
    }
    let n = digit_run(line, at + 1);
    (n > 0).then(|| (fraction_nanos(&line[at + 1..at + 1 + n]), at + 1 + n))
}

/// A level word at `at`, ending at a space, `:` or the end of the line.
fn level_at(line: &[u8], at: usize) -> Option<Span> {
    let word_len = line[at.min(line.len())..]
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let word = &line[at..at + word_len];
    let known = LEVELS.iter().any(|l| word.eq_ignore_ascii_case(l));
    let ends = matches!(line.get(at + word_len), None | Some(b' ' | b':'));
    (known && ends).then_some((at, at + word_len))
}

/// Count the ASCII letters starting at `at`.
fn alpha_run(line: &[u8], at: usize) -> usize {
    line.get(at..).map_or(0, |rest| {
        rest.iter().take_while(|b| b.is_ascii_alphabetic()).count()
    })
}

/// Skip a separator after a level: spaces, a `:` or a ` - `.
fn skip_separator(line: &[u8], mut at: usize) -> usize {
    if line.get(at) == Some(&b':') {
        at += 1;
    }
    at = skip_spaces(line, at);
    if line.get(at) == Some(&b'-') && line.get(at + 1) == Some(&b' ') {
        at = skip_spaces(line, at + 1);
    }
    at
}
