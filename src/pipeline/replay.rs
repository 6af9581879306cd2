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
    loop {
        // Fill every head; a source that fails to read is reported and
        // dropped, and the others go on.
        for src in sources.iter_mut().filter(|s| !s.done) {
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
        // The earliest head goes next; a head without time goes at once.
        let next = sources
            .iter()
            .enumerate()
            .filter(|(_, s)| s.head.is_some())
            .min_by_key(|(_, s)| s.head_time().map_or(i64::MIN, |t| t.0))
            .map(|(i, _)| i);
        let Some(i) = next else { break };
        let src = &mut sources[i];
        let (env, time, inherited) = src.head.take().expect("has head");
        if let Some(t) = time {
            src.last_time = Some(t);
        }
        // Which lines need the rules is decided by literal searches
        // over whole buffers, and for short literals over the message.
        let scanner = stage.extractor.scanner();
        let candidate = if stage.path == Path::Plain
            || scanner.is_some_and(|f| src.reader.current_has_match(f))
        {
            Some(Found::Unknown)
        } else {
            let line = src.reader.current().expect("filled");
            let message = message_of(line.raw, &env);
            stage
                .extractor
                .needs_message(env.kernel, message)
                .then_some(Found::ShortOnly)
        };
        let line = src.reader.current().expect("filled");
        stage.line_with(src.id, &line, &env, time, inherited, candidate)?;
        src.reader.consume();
        if let Some(t) = time {
            stage.correlator.advance(t, &mut stage.decisions);
            stage.deliver()?;
        }
    }
    stage.summary.long_lines +=
        sources.iter().map(|s| s.reader.long_lines).sum::<u64>();
    Ok(())
}
