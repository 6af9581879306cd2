//! Kernel envelopes: `dmesg` in its default and ISO forms, and raw
//! `/dev/kmsg` records with their continuation lines.

use super::{Envelope, Format, Stamp, date_time, digit_run, offset};
use crate::time::{fraction_nanos, utc_from_fields};

/// `[ 1168.679659] msg`: seconds since boot, padded with spaces.
pub(super) fn dmesg(line: &[u8]) -> Option<Envelope> {
    let mut i = 1;
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    let whole_len = digit_run(line, i);
    if whole_len == 0
        || whole_len > 12
        || line.get(i + whole_len) != Some(&b'.')
    {
        return None;
    }
    let secs: i64 = parse_i64(&line[i..i + whole_len])?;
    let frac_at = i + whole_len + 1;
    let frac_len = digit_run(line, frac_at);
    if frac_len == 0 || line.get(frac_at + frac_len) != Some(&b']') {
        return None;
    }
    let nanos = fraction_nanos(&line[frac_at..frac_at + frac_len]);
    let mut message = frac_at + frac_len + 1;
    if line.get(message) == Some(&b' ') {
        message += 1;
    }
    Some(kernel_envelope(
        Format::Dmesg,
        Stamp::Monotonic(secs * 1_000_000_000 + nanos),
        message,
        None,
    ))
}

/// The `[ 1168.679659] ` stamp at `at` inside a syslog or journald kernel
/// message: nanoseconds since boot and where the text after it starts.
pub(super) fn inner_monotonic(line: &[u8], at: usize) -> Option<(i64, usize)> {
    if line.get(at) != Some(&b'[') {
        return None;
    }
    let env = dmesg(&line[at..])?;
    match env.stamp {
        Stamp::Monotonic(m) => Some((m, at + env.message)),
        _ => None,
    }
}

/// `dmesg --time-format iso`: `2026-12-03T12:42:33,454321+00:00 msg`. The
/// comma before the fraction is what tells it from other ISO stamps.
pub(super) fn dmesg_iso(line: &[u8]) -> Option<Envelope> {
    let (date, time, after) = date_time(line, 0)?;
    if line.get(10) != Some(&b'T') || line.get(after) != Some(&b',') {
        return None;
    }
    let frac_len = digit_run(line, after + 1);
    if frac_len == 0 {
        return None;
    }
    let nanos = fraction_nanos(&line[after + 1..after + 1 + frac_len]);
    let (off, end) = offset(line, after + 1 + frac_len)?;
    if line.get(end) != Some(&b' ') {
        return None;
    }
    let wall = utc_from_fields(date, time, nanos, off)?;
    Some(kernel_envelope(
        Format::DmesgIso,
        Stamp::Wall(wall),
        end + 1,
        None,
    ))
}

/// A raw `/dev/kmsg` record: `prio,seq,usec,flags[,more];message`.
pub(super) fn kmsg(line: &[u8]) -> Option<Envelope> {
    let semi = memchr::memchr(b';', &line[..line.len().min(128)])?;
    let head = &line[..semi];
    let mut fields = head.split(|&b| b == b',');
    let prio = fields.next()?;
    let seq = fields.next()?;
    let usec = fields.next()?;
    let flag = fields.next()?;
    if prio.is_empty()
        || !prio.iter().all(u8::is_ascii_digit)
        || seq.is_empty()
        || !seq.iter().all(u8::is_ascii_digit)
        || flag.len() != 1
    {
        return None;
    }
    let micros = parse_i64(usec)?;
    let level_len = prio.len();
    Some(kernel_envelope(
        Format::Kmsg,
        Stamp::Monotonic(micros.saturating_mul(1000)),
        semi + 1,
        Some((0, level_len)),
    ))
}

/// A `/dev/kmsg` continuation line (` SUBSYSTEM=pci`): dictionary data
/// that belongs to the record before it.
pub(super) fn kmsg_continuation(line: &[u8]) -> Option<Envelope> {
    let key_len = line[1..]
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || **b == b'_')
        .count();
    if key_len == 0 || line.get(1 + key_len) != Some(&b'=') {
        return None;
    }
    Some(kernel_envelope(
        Format::KmsgContinuation,
        Stamp::None,
        1,
        None,
    ))
}

fn kernel_envelope(
    format: Format,
    stamp: Stamp,
    message: usize,
    level: Option<(usize, usize)>,
) -> Envelope {
    Envelope {
        format,
        stamp,
        host: None,
        program: None,
        pid: None,
        level,
        message,
        kernel: true,
    }
}

fn parse_i64(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || bytes.len() > 18 {
        return None;
    }
    let mut v = 0i64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(b - b'0');
    }
    Some(v)
}
