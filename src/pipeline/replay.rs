//! Replay: several files merged by the log time of their next line.
//!
//! Each source's head line is parsed for its time, and the earliest goes
//! next (a line without a stamp of its own carries its predecessor's, so
//! a traceback stays with its header). The watermark is the time of the
//! line being processed: every source is complete up to it.
//!
//! With `--annotations-only` only the lines that yield events matter, so
//! only they are merged ([`drive_events`]): each source reads ahead to
//! its next such line, and the earliest goes next; the watermark moves
//! with them. Lines between two finds of the rules' literal scanner are
//! then counted rather than read, which is most of a replay's speed.

use std::io;

use memchr::memmem;

use super::runs::merge_plain;
use super::source::Source;
use super::{Config, Input, Path, Stages, Summary, lower, message_of};
use crate::envelope;
use crate::event::Event;
use crate::extract::Found;
use crate::input::{self, ByteStream};
use crate::output::{OutLine, Sink};
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
    // needs its head filled again. Printing text, stretches of lines that
    // yield nothing go through `merge_plain` instead, in the same order.
    let runs = stage.path == Path::Fast
        && stage.extractor.scanner_suffices()
        && stage.emitter.takes_runs();
    while let Some(i) = earliest(&sources) {
        if runs && merge_plain(stage, &mut sources)? {
            continue;
        }
        take_head(stage, &mut sources[i])?;
        fill_or_drop(stage, &mut sources[i]);
    }
    sum_up(stage, &sources);
    Ok(())
}

/// What replay reports of its sources once they are read.
fn sum_up<S: Sink>(stage: &mut Stages<S>, sources: &[Source]) {
    stage.summary.long_lines +=
        sources.iter().map(|s| s.reader.long_lines).sum::<u64>();
    stage.summary.warnings.extend(boot_time_mismatches(sources));
}

/// A line that yielded events, read ahead of its turn.
pub(super) struct EventLine {
    number: u64,
    time: Option<Timestamp>,
    raw: Vec<u8>,
    events: Vec<Event>,
}

/// Replay for `--annotations-only`: merge sources by the time of their
/// next line that yields events, the only lines that reach the output.
///
/// Both extraction paths take lines this way, so they give the same
/// output by construction. The lines in between still count where they
/// leave a trace: a line without a stamp or envelope takes its time and
/// writer from the lines before it, and a rule's context is counted in
/// lines. They do not move the watermark, and are not held by the output
/// while a symptom waits.
pub(super) fn drive_events<S: Sink>(
    stage: &mut Stages<S>,
    mut sources: Vec<Source>,
) -> io::Result<()> {
    let teachers = memmem::Finder::new(envelope::BOOT_TEACHER);
    let mut heads: Vec<Option<EventLine>> = Vec::new();
    for src in sources.iter_mut() {
        heads.push(next_or_drop(stage, src, &teachers));
    }
    while let Some(i) = earliest_event(&heads) {
        let line = heads[i].take().expect("the earliest has a line");
        stage.events = line.events;
        let out = OutLine {
            source: sources[i].id,
            line: line.number,
            time: line.time,
            raw: &line.raw,
            continuation: false,
        };
        stage.correlate_line(&out)?;
        if let Some(t) = line.time {
            stage.correlator.advance(t, &mut stage.decisions);
            stage.deliver()?;
        }
        heads[i] = next_or_drop(stage, &mut sources[i], &teachers);
    }
    sum_up(stage, &sources);
    Ok(())
}

/// The source whose next event line goes next.
fn earliest_event(heads: &[Option<EventLine>]) -> Option<usize> {
    earliest_of(heads.iter().map(|h| h.as_ref().map(|h| h.time)))
}

/// A source's next event line; a source that fails to read is reported
/// and dropped, and the others go on.
fn next_or_drop<S: Sink>(
    stage: &mut Stages<S>,
    src: &mut Source,
    teachers: &memmem::Finder<'_>,
) -> Option<EventLine> {
    if src.done {
        return None;
    }
    next_event_line(stage, src, teachers).unwrap_or_else(|e| {
        drop_source(stage, src, &e);
        None
    })
}

/// Read `src` up to its next line that yields events. `teachers` finds
/// the lines that may teach its clock the boot time
/// ([`envelope::BOOT_TEACHER`]), which are not passed over unread.
fn next_event_line<S: Sink>(
    stage: &mut Stages<S>,
    src: &mut Source,
    teachers: &memmem::Finder<'_>,
) -> io::Result<Option<EventLine>> {
    let skips = stage.path == Path::Fast && stage.extractor.scanner_suffices();
    loop {
        if skips && !stage.in_context(src.id, src.reader.next_number()) {
            pass_over(stage, src, teachers);
        }
        if !src.fill()? {
            return Ok(None);
        }
        let Some((env, time, inherited)) = src.head.take() else {
            continue;
        };
        if time.is_some() {
            src.last_time = time;
        }
        let candidate = candidate(stage, src, &env);
        let line = src.reader.current().expect("filled");
        stage.extract_line(src.id, &line, &env, time, inherited, candidate);
        let found = (!stage.events.is_empty()).then(|| EventLine {
            number: line.number,
            time,
            raw: line.raw.to_vec(),
            events: std::mem::take(&mut stage.events),
        });
        src.reader.consume();
        if found.is_some() {
            return Ok(found);
        }
    }
}

/// Consume the whole lines before the scanner's next find in `src`,
/// keeping what the lines after them inherit.
fn pass_over<S: Sink>(
    stage: &mut Stages<S>,
    src: &mut Source,
    teachers: &memmem::Finder<'_>,
) {
    let Some(scanner) = stage.extractor.scanner() else {
        return;
    };
    let also = (!src.clock.boot_time_known).then_some(teachers);
    let Some(skipped) = src.reader.skip_unmatched(scanner, also) else {
        return;
    };
    stage.summary.lines += skipped.lines;
    if let Some(pid) = src.inherit_from(skipped.range) {
        stage.set_record_pid(src.id, pid);
    }
}

/// What the literal searches say of `src`'s current line, whose
/// envelope is `env`: `None` when no pattern can match it. They search
/// whole buffers, and the message only for short literals; the plain
/// path searches nothing.
fn candidate<S: Sink>(
    stage: &Stages<S>,
    src: &mut Source,
    env: &envelope::Envelope,
) -> Option<Found> {
    if stage.path == Path::Plain {
        return Some(Found::Unknown);
    }
    if stage
        .extractor
        .scanner()
        .is_some_and(|f| src.reader.current_has_match(f))
    {
        return Some(Found::Unknown);
    }
    let line = src.reader.current().expect("filled");
    let in_context = stage.in_context(src.id, line.number);
    stage
        .extractor
        .needs_message(
            env.kernel_or_bare(),
            message_of(line.raw, env),
            in_context,
        )
        .then_some(Found::ShortOnly)
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
pub(super) fn fill_or_drop<S: Sink>(stage: &mut Stages<S>, src: &mut Source) {
    if src.done {
        return;
    }
    if let Err(e) = src.fill() {
        drop_source(stage, src, &e);
    }
}

/// Report a source that failed to read, and read no more of it.
fn drop_source<S: Sink>(
    stage: &mut Stages<S>,
    src: &mut Source,
    e: &io::Error,
) {
    tracing::error!(
        "{}: read error after line {}: {}",
        src.name,
        src.reader.current().map_or(0, |l| l.number),
        lower(e)
    );
    stage.summary.failed_sources.push(src.name.clone());
    src.done = true;
    src.head = None;
}

/// The source whose head goes next, if any has one.
fn earliest(sources: &[Source]) -> Option<usize> {
    earliest_of(sources.iter().map(|s| s.head.as_ref().map(|h| h.1)))
}

/// Of sources' next lines (`None` for a source with none), the index of
/// the earliest: a line without time at once, the first on a tie.
fn earliest_of(
    heads: impl Iterator<Item = Option<Option<Timestamp>>>,
) -> Option<usize> {
    let mut best: Option<(usize, i64)> = None;
    for (i, head) in heads.enumerate() {
        if let Some(time) = head {
            let t = time.map_or(i64::MIN, |t| t.0);
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
    let Some((env, time, inherited)) = src.head.take() else {
        return Ok(());
    };
    if time.is_some() {
        src.last_time = time;
    }

    let candidate = candidate(stage, src, &env);
    let line = src.reader.current().expect("filled");
    stage.line_with(src.id, &line, &env, time, inherited, candidate)?;
    src.reader.consume();
    if let Some(t) = time {
        stage.correlator.advance(t, &mut stage.decisions);
        stage.deliver()?;
    }
    Ok(())
}
