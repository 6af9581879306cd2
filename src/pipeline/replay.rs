//! Replay: several files merged by the log time of their next line.
//!
//! Each source's head line is parsed for its time, and the earliest goes
//! next (a line without a stamp of its own carries its predecessor's, so
//! a traceback stays with its header). The watermark is the time of the
//! line being processed: every source is complete up to it.

use std::io;

use super::source::Source;
use super::{Config, Input, Path, Stages, Summary, lower, message_of};
use crate::extract::Found;
use crate::input::{self, ByteStream};
use crate::output::Sink;
use crate::record::SourceId;
use crate::time::{self, Timestamp};

pub(super) fn open_sources(
    config: &Config,
    summary: &mut Summary,
) -> Vec<Source> {
    let mut sources = Vec::new();
    let now = time::now();
    for (i, inp) in config.inputs.iter().enumerate() {
        let opened: io::Result<(ByteStream, Timestamp)> = match inp {
            Input::Stdin => Ok((Box::new(io::stdin()), now)),
            Input::File(p) => input::open_file(p)
                .map(|s| (s, input::modified(p).unwrap_or(now))),
        };
        match opened {
            Ok((stream, reference)) => sources.push(Source::new(
                i as SourceId,
                inp.name(),
                stream,
                config,
                reference,
            )),
            Err(e) => {
                tracing::error!("{}: {}", inp.name(), lower(&e));
                summary.failed_sources.push(inp.name());
            }
        }
    }
    sources
}

/// Replay: merge sources by the time of their next line.
pub(super) fn drive_replay<S: Sink>(
    stage: &mut Stages<S>,
    mut sources: Vec<Source>,
) -> io::Result<()> {
    for src in sources.iter_mut() {
        fill_or_drop(stage, src);
    }
    // The earliest head goes next (the first source on a tie); a head
    // without time goes at once. Only the source a line was taken from
    // needs its head filled again.
    while let Some(i) = earliest(&sources) {
        let src = &mut sources[i];
        take_head(stage, src)?;
        fill_or_drop(stage, src);
    }
    stage.summary.long_lines +=
        sources.iter().map(|s| s.reader.long_lines).sum::<u64>();
    stage
        .summary
        .warnings
        .extend(boot_time_mismatches(&sources));
    Ok(())
}

/// How far apart a kernel log's times and the other logs' may lie and
/// still be from the same run: wider than any shipped rule's window.
const BOOT_SLACK_SECS: i64 = 15 * 60;

/// A warning for each kernel log whose boot-relative stamps, placed by
/// the clock's boot time, land nowhere near the wall-clock logs beside
/// it. Nothing can then join across them by time, and the likely cause
/// is a `dmesg` from another host or an earlier boot read with this
/// host's boot time (or a wrong `--boot-time`): its OOM kills are
/// missed, and a SIGKILL would be blamed on something else.
fn boot_time_mismatches(sources: &[Source]) -> Vec<String> {
    let wall = sources
        .iter()
        .filter_map(|s| s.wall_span)
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)));
    let Some((first, last)) = wall else {
        return Vec::new();
    };
    let slack = BOOT_SLACK_SECS * 1_000_000_000;
    sources
        .iter()
        .filter_map(|s| {
            let (lo, hi) = s.boot_span?;
            if hi.shifted(slack) >= first && lo.shifted(-slack) <= last {
                return None;
            }
            let boot = s.clock.boot_time?;
            let whence = if s.clock.boot_time_known {
                "the boot time given"
            } else {
                "this host's boot time"
            };
            Some(format!(
                "{}: its kernel stamps, counted from {whence} ({}), fall \
                 between {} and {}, far from the other logs ({} to {}), so \
                 nothing in it can be joined to them by time; if it comes \
                 from another host or an earlier boot, pass that boot's \
                 wall time with --boot-time",
                s.name,
                boot.to_rfc3339(),
                lo.to_rfc3339(),
                hi.to_rfc3339(),
                first.to_rfc3339(),
                last.to_rfc3339()
            ))
        })
        .collect()
}

/// Fill a source's head; a source that fails to read is reported and
/// dropped, and the others go on.
fn fill_or_drop<S: Sink>(stage: &mut Stages<S>, src: &mut Source) {
    if src.done {
        return;
    }
    if let Err(e) = src.fill() {
        tracing::error!(
            "{}: read error after line {}: {}",
            src.name,
            src.reader.current().map_or(0, |l| l.number),
            lower(&e)
        );
        stage.summary.failed_sources.push(src.name.clone());
        src.done = true;
        src.head = None;
    }
}

/// The source whose head goes next, if any has one.
fn earliest(sources: &[Source]) -> Option<usize> {
    let mut best: Option<(usize, i64)> = None;
    for (i, s) in sources.iter().enumerate() {
        if s.head.is_some() {
            let t = s.head_time().map_or(i64::MIN, |t| t.0);
            if best.is_none_or(|(_, b)| t < b) {
                best = Some((i, t));
            }
        }
    }
    best.map(|(i, _)| i)
}

/// Hand a source's head line to the stages, consume it, and move the
/// watermark to its time.
fn take_head<S: Sink>(
    stage: &mut Stages<S>,
    src: &mut Source,
) -> io::Result<()> {
    let Some((env, time, inherited)) = &src.head else {
        return Ok(());
    };
    let (time, inherited) = (*time, *inherited);
    if time.is_some() {
        src.last_time = time;
    }

    // Which lines need the rules is decided by literal searches over
    // whole buffers, and for short literals over the message.
    let scanner = stage.extractor.scanner();
    let candidate = if stage.path == Path::Plain
        || scanner.is_some_and(|f| src.reader.current_has_match(f))
    {
        Some(Found::Unknown)
    } else {
        let number = src.reader.current().expect("filled").number;
        let in_context = stage.in_context(src.id, number);
        let line = src.reader.current().expect("filled");
        stage
            .extractor
            .needs_message(
                env.kernel_or_bare(),
                message_of(line.raw, env),
                in_context,
            )
            .then_some(Found::ShortOnly)
    };
    let line = src.reader.current().expect("filled");
    stage.line_with(src.id, &line, env, time, inherited, candidate)?;
    src.reader.consume();
    src.head = None;
    if let Some(t) = time {
        stage.correlator.advance(t, &mut stage.decisions);
        stage.deliver()?;
    }
    Ok(())
}
