//! Live: standard input taken as it arrives.
//!
//! The watermark is the latest log time seen. Reads wait at most a tick;
//! when input goes quiet, the watermark moves on with the wall clock so
//! that a symptom whose cause never comes is still decided, and output
//! is flushed so a reader downstream sees every line at once.

use std::io;
use std::time::Instant;

use super::source::Source;
use super::{Config, Stages, lower};
use crate::input::ByteStream;
use crate::input::stdin::PollingReader;
use crate::output::Sink;
use crate::time::{self, Timestamp};

/// Live: take standard input as it comes.
pub(super) fn drive_live<S: Sink>(
    config: &Config,
    stage: &mut Stages<S>,
) -> io::Result<()> {
    let stream: ByteStream =
        Box::new(PollingReader::new(io::stdin(), config.tick_ms));
    let mut src = Source::new(0, "-".to_owned(), stream, config, time::now());
    let mut latest: Option<Timestamp> = None;
    let mut last_arrival = Instant::now();
    loop {
        match src.fill() {
            Ok(true) => {}
            Ok(false) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                // Quiet input: let the wall clock move the watermark.
                if let Some(t) = latest {
                    let idle = last_arrival.elapsed().as_nanos() as i64;
                    stage
                        .correlator
                        .advance(t.shifted(idle), &mut stage.decisions);
                    stage.deliver()?;
                    stage.emitter.flush()?;
                }
                continue;
            }
            Err(e) => {
                tracing::error!("-: read error: {}", lower(&e));
                stage.summary.failed_sources.push("-".to_owned());
                break;
            }
        }
        last_arrival = Instant::now();
        let (env, time, inherited) = src.head.take().expect("filled");
        if let Some(t) = time {
            src.last_time = Some(t);
            latest = Some(latest.map_or(t, |l| l.max(t)));
        }
        let line = src.reader.current().expect("filled");
        stage.line(src.id, &line, &env, time, inherited)?;
        src.reader.consume();
        if let Some(t) = latest {
            stage.correlator.advance(t, &mut stage.decisions);
        }
        stage.deliver()?;
        stage.emitter.release_all()?;
        if !src.reader.has_buffered_line() {
            stage.emitter.flush()?;
        }
    }
    stage.summary.long_lines += src.reader.long_lines;
    Ok(())
}
