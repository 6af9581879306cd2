//! Envelopes inside a prefix: lines that a collector or a multiplexer
//! has labelled before the program's own envelope.
//!
//! - `talosctl dmesg`: `kern:    info: [2024-08-22T17:52:26.351725011Z]:
//!   msg`, and with several nodes, the node's address before it
//!   (`10.200.70.91: kern: ...`). The facility word says whose line it is:
//!   `kern` is the kernel's.
//! - a label and a separator: `docker compose logs` (`web_1  | `), pm2
//!   (`0|app  | `), the NixOS test driver (`machine # `). The text after
//!   the separator is parsed again; the prefix is kept only when an
//!   envelope is found after it, so a table row with ` | ` in it is
//!   not mistaken for a labelled line.

use super::{Envelope, Format, Stamp, date_time, digit_run, offset};
use crate::time::{Clock, fraction_nanos, utc_from_fields};

/// How far into a line a label's separator may be.
const MAX_LABEL: usize = 64;

/// How many labels deep a line may be (`svc | nginx.1 | ...`).
const MAX_DEPTH: u8 = 2;

/// `[node: ]facility: level: [RFC 3339]: msg`, as `talosctl dmesg`
/// prints it.
pub(super) fn talos(line: &[u8]) -> Option<Envelope> {
    let start = node_address(line).unwrap_or(0);
    let facility_len = facility(&line[start..])?;
    let mut at = start + facility_len + 1;
    while line.get(at) == Some(&b' ') {
        at += 1;
    }
    let level_len = line[at..]
        .iter()
        .take(12)
        .take_while(|b| b.is_ascii_lowercase())
        .count();
    let level = (at, at + level_len);
    at += level_len;
    if level_len == 0 || line.get(at..at + 3) != Some(b": [") {
        return None;
    }
    let (date, time, after) = date_time(line, at + 3)?;
    let mut nanos = 0;
    let mut end = after;
    if line.get(end) == Some(&b'.') {
        let n = digit_run(line, end + 1);
        nanos = fraction_nanos(&line[end + 1..end + 1 + n]);
        end += 1 + n;
    }
    let (off, end) = offset(line, end)?;
    if line.get(end..end + 2) != Some(b"]:") {
        return None;
    }
    let message = if line.get(end + 2) == Some(&b' ') {
        end + 3
    } else {
        end + 2
    };
    let kernel = &line[start..start + facility_len] == b"kern";
    Some(Envelope {
        format: Format::Talos,
        stamp: Stamp::Wall(utc_from_fields(date, time, nanos, off)?),
        host: start.checked_sub(2).map(|end| (0, end)),
        program: Some((start, start + facility_len)),
        pid: None,
        level: Some(level),
        message,
        kernel,
    })
}

/// The length of the facility word (`kern`) at the start of `rest`, if
/// a `:` follows it.
fn facility(rest: &[u8]) -> Option<usize> {
    let len = rest
        .iter()
        .take(12)
        .take_while(|b| b.is_ascii_lowercase())
        .count();
    (len > 0 && rest.get(len) == Some(&b':')).then_some(len)
}

/// Whether [`talos`] may take `line`, which starts with a letter (so
/// with no node address): false only where it surely does not.
pub(super) fn may_be_talos(line: &[u8]) -> bool {
    facility(line).is_some()
}

/// The end of an IPv4 address and `: ` at the start of `line`.
fn node_address(line: &[u8]) -> Option<usize> {
    let len = line
        .iter()
        .take(16)
        .take_while(|b| b.is_ascii_digit() || **b == b'.')
        .count();
    let dots = line[..len].iter().filter(|&&b| b == b'.').count();
    (dots == 3 && line.get(len..len + 2) == Some(b": ")).then_some(len + 2)
}

/// A labelled line: `label | rest` or `label # rest`, where `rest` holds
/// an envelope that `parse_inner` recognizes. The envelope's ranges are
/// shifted to index the whole line.
pub(super) fn labelled(
    line: &[u8],
    clock: &Clock,
    depth: u8,
    parse_inner: fn(&[u8], &Clock, u8) -> Option<Envelope>,
) -> Option<Envelope> {
    if depth >= MAX_DEPTH {
        return None;
    }
    let start = label_end(line)?;
    let inner = parse_inner(&line[start..], clock, depth + 1)?;
    Some(shifted(inner, start))
}

/// Where the text after a label and its separator starts, if `line`
/// starts with them (`web_1  | `, `machine # `).
fn label_end(line: &[u8]) -> Option<usize> {
    let head = &line[..line.len().min(MAX_LABEL)];
    let label_len = head
        .iter()
        .take_while(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'|')
        })
        .count();
    if label_len == 0 {
        return None;
    }
    let mut sep = label_len;
    while head.get(sep) == Some(&b' ') {
        sep += 1;
    }
    if sep == label_len
        || !matches!(head.get(sep), Some(b'|' | b'#'))
        || line.get(sep + 1) != Some(&b' ')
    {
        return None;
    }
    Some(sep + 2)
}

/// Whether [`labelled`] may take `line`: false only where it surely
/// does not (no label and separator at its start).
pub(super) fn may_be_labelled(line: &[u8]) -> bool {
    label_end(line).is_some()
}

/// An envelope parsed from `line[by..]`, with its ranges made to index
/// `line`.
fn shifted(env: Envelope, by: usize) -> Envelope {
    let move_ =
        |span: Option<(usize, usize)>| span.map(|(s, e)| (s + by, e + by));
    Envelope {
        host: move_(env.host),
        program: move_(env.program),
        level: move_(env.level),
        message: env.message + by,
        ..env
    }
}
