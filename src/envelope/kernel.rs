//! Kernel envelopes: `dmesg` in its default, ISO and `-T` forms, raw
//! `/dev/kmsg` records with their continuation lines, and a bare
//! `kernel: ` tag.

use super::{
    Envelope, Format, Stamp, clock_time, date_time, digit_run, digits, offset,
};
use crate::time::{Clock, fraction_nanos, utc_from_fields};

const WEEKDAYS: [&[u8; 3]; 7] =
    [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];

/// `[ 1168.679659] msg`: seconds since boot, padded with spaces. Two
/// variants are taken too: a kernel built with `CONFIG_PRINTK_CALLER`
/// adds the caller after the stamp (`[   12.345678][  T123] msg`), and
/// some vendor kernels put the CPU before the seconds (`[2-3219.1870]`).
pub(super) fn dmesg(line: &[u8]) -> Option<Envelope> {
    let mut i = 1;
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    let cpu_len = digit_run(line, i);
    if cpu_len > 0 && cpu_len <= 4 && line.get(i + cpu_len) == Some(&b'-') {
        i += cpu_len + 1;
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
    message = skip_caller(line, message);
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

/// The stamp of a line [`dmesg`] takes, in nanoseconds since boot, read
/// in one pass without building its envelope: for replay's merge, which
/// needs only the time of most lines. `None` exactly when [`dmesg`]
/// refuses the line (tested on every capture).
pub(super) fn dmesg_since_boot(line: &[u8]) -> Option<i64> {
    usual_since_boot(line).or_else(|| any_since_boot(line))
}

/// [`dmesg_since_boot`] for the stamp the kernel prints today: seconds
/// padded with spaces, and six digits of fraction (`[ 1168.679659]`), read
/// without a check per byte of whether the line has one more. `None` for
/// any other shape, which [`any_since_boot`] then reads.
#[inline]
fn usual_since_boot(line: &[u8]) -> Option<i64> {
    let head = line.get(..24).unwrap_or(line);
    let mut i = 1;
    while head.get(i) == Some(&b' ') {
        i += 1;
    }
    let (mut secs, from) = (0i64, i);
    while let Some(d) = head
        .get(i)
        .map(|b| b.wrapping_sub(b'0'))
        .filter(|&d| d < 10)
    {
        // Past 12 digits the line is refused below; until then no overflow.
        secs = secs.wrapping_mul(10).wrapping_add(i64::from(d));
        i += 1;
    }
    let fraction: &[u8; 8] = head.get(i..i + 8)?.try_into().ok()?;
    if !(1..=12).contains(&(i - from))
        || fraction[0] != b'.'
        || fraction[7] != b']'
    {
        return None;
    }
    let mut micros = 0i64;
    for &b in &fraction[1..7] {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        micros = micros * 10 + i64::from(d);
    }
    Some(secs * 1_000_000_000 + micros * 1_000)
}

/// [`dmesg_since_boot`] for any stamp [`dmesg`] takes: a CPU before the
/// seconds, any number of digits of fraction.
fn any_since_boot(line: &[u8]) -> Option<i64> {
    let mut i = 1;
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    let (mut value, mut n) = digits_at(line, i);
    if (1..=4).contains(&n) && line.get(i + n) == Some(&b'-') {
        i += n + 1;
        (value, n) = digits_at(line, i);
    }
    if n == 0 || n > 12 || line.get(i + n) != Some(&b'.') {
        return None;
    }
    let frac_at = i + n + 1;
    let mut nanos = 0i64;
    let mut k = 0;
    while let Some(d) = line.get(frac_at + k).and_then(|b| digit(*b)) {
        if k < 9 {
            nanos = nanos * 10 + d;
        }
        k += 1;
    }
    if k == 0 || line.get(frac_at + k) != Some(&b']') {
        return None;
    }
    for _ in k..9 {
        nanos *= 10;
    }
    Some(value * 1_000_000_000 + nanos)
}

/// The value of a decimal digit.
fn digit(b: u8) -> Option<i64> {
    b.is_ascii_digit().then(|| i64::from(b - b'0'))
}

/// The value of the run of digits at `at` (of its first 18, which no
/// caller here reaches) and its length.
fn digits_at(line: &[u8], at: usize) -> (i64, usize) {
    let (mut value, mut n) = (0i64, 0);
    while let Some(d) = line.get(at + n).and_then(|b| digit(*b)) {
        if n < 18 {
            value = value * 10 + d;
        }
        n += 1;
    }
    (value, n)
}

/// Skip a `CONFIG_PRINTK_CALLER` field (`[  T123]`, `[   C1]`) at `at`.
fn skip_caller(line: &[u8], at: usize) -> usize {
    if line.get(at) != Some(&b'[') {
        return at;
    }
    let mut i = at + 1;
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    if !matches!(line.get(i), Some(b'T' | b'C')) {
        return at;
    }
    let n = digit_run(line, i + 1);
    if n == 0 || line.get(i + 1 + n) != Some(&b']') {
        return at;
    }
    i + 2 + n
}

/// `dmesg -T` (`--ctime`): `[Mon Dec  8 17:51:31 2025] msg`, the boot
/// time already added, in the local time of the host that printed it
/// (read in the clock's zone). A fraction of a second marks another
/// program's log (Apache's error log has `[Fri Jan 12 01:00:57.396486
/// 2024]`), so it is refused.
pub(super) fn dmesg_ctime(line: &[u8], clock: &Clock) -> Option<Envelope> {
    let weekday = line.get(1..4)?;
    if !WEEKDAYS.iter().any(|d| &d[..] == weekday)
        || line.get(4) != Some(&b' ')
    {
        return None;
    }
    let month = super::month_number(line.get(5..8)?)?;
    let mut i = 8;
    while line.get(i) == Some(&b' ') {
        i += 1;
    }
    let day_len = digit_run(line, i);
    if !(1..=2).contains(&day_len) || line.get(i + day_len) != Some(&b' ') {
        return None;
    }
    let day = digits(line, i, day_len)?;
    let time = clock_time(line, i + day_len + 1)?;
    let year_at = i + day_len + 10;
    if line.get(year_at - 1) != Some(&b' ')
        || line.get(year_at + 4) != Some(&b']')
    {
        return None;
    }
    let year = digits(line, year_at, 4)? as i32;
    let wall = clock.local((year, month, day), time, 0)?;
    let mut message = year_at + 5;
    if line.get(message) == Some(&b' ') {
        message += 1;
    }
    Some(kernel_envelope(
        Format::DmesgCtime,
        Stamp::Wall(wall),
        message,
        None,
    ))
}

/// `kernel: msg`: the kernel's tag with no stamp or host before it, as
/// some log excerpts and `journalctl -o cat`-like tools leave it.
pub(super) fn kernel_tag(line: &[u8]) -> Option<Envelope> {
    let rest = line.strip_prefix(b"kernel:")?;
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    if spaces == 0 && !rest.is_empty() {
        return None;
    }
    let mut env = kernel_envelope(
        Format::KernelTag,
        Stamp::None,
        7 + spaces.min(1),
        None,
    );
    env.program = Some((0, 6));
    if let Some((since_boot, after)) = inner_monotonic(line, 8) {
        env.stamp = Stamp::Monotonic(since_boot);
        env.message = after;
    }
    Some(env)
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

pub(super) fn kernel_envelope(
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
