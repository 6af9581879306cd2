//! Text output for people: the input, byte for byte, with each
//! explanation as a few lines under its symptom.
//!
//! Every added line begins with [`MARKER`], so `grep -v '^\[truecause\]'`
//! gives back the input exactly (except that a last input line without a
//! newline gets one when an annotation must follow it).

use std::io::{self, Write};

use super::{Notice, OutLine, Runs, SPILL, Sink, spill, spill_pages};
use crate::correlate::Explanation;
use crate::event::Event;
use crate::record::Sources;

/// The fixed start of every line truecause adds.
pub const MARKER: &str = "[truecause]";

/// Writes text, optionally coloured.
pub struct TextSink<W: Write> {
    /// What is written goes here first, and to `out` in whole pages once
    /// it holds [`SPILL`] bytes or more (the rest on flush): the
    /// every-line merge appends to it directly ([`Sink::runs`]).
    buf: Vec<u8>,
    out: W,
    sources: Sources,
    color: bool,
    annotations_only: bool,
    /// The last bytes written ended a line without a newline (a source's
    /// unterminated last line). Anything written after it starts with a
    /// newline, so that two sources' lines never run together; at the end
    /// of output nothing is added, so a single input comes back exact.
    open_line: bool,
}

impl<W: Write> TextSink<W> {
    pub fn new(
        out: W,
        sources: Sources,
        color: bool,
        annotations_only: bool,
    ) -> Self {
        TextSink {
            buf: Vec::new(),
            out,
            sources,
            color,
            annotations_only,
            open_line: false,
        }
    }

    fn marker(&self) -> String {
        if self.color {
            format!("\x1b[1;33m{MARKER}\x1b[0m")
        } else {
            MARKER.to_owned()
        }
    }

    fn write_explanation(
        &mut self,
        e: &Explanation,
        reference: bool,
    ) -> io::Result<()> {
        self.close_line();
        let m = self.marker();
        let head = if reference || self.annotations_only {
            format!("{}: ", self.where_(&e.symptom))
        } else {
            String::new()
        };
        writeln!(
            self.buf,
            "{m} {head}root cause: {} [{} confidence, {}]",
            e.message,
            e.confidence.as_str(),
            e.cause.kind
        )?;
        if e.cause.event.origin != e.symptom.origin {
            writeln!(
                self.buf,
                "{m}   cause    {}  {}",
                self.where_(&e.cause.event),
                e.cause.event.text.trim()
            )?;
        }
        for ev in &e.evidence {
            if ev.origin == e.cause.event.origin {
                continue;
            }
            writeln!(
                self.buf,
                "{m}   evidence {}  {}",
                self.where_(ev),
                ev.text.trim()
            )?;
        }
        if let Some(alt) = &e.alternative {
            writeln!(
                self.buf,
                "{m}   also possible ({} confidence): {} at {}",
                alt.confidence.as_str(),
                alt.kind,
                self.where_(&alt.event)
            )?;
        }
        Ok(())
    }

    fn close_line(&mut self) {
        if self.open_line {
            self.open_line = false;
            self.buf.push(b'\n');
        }
    }

    /// Write out the buffer's whole pages once it holds [`SPILL`] bytes
    /// or more.
    fn spill_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= SPILL {
            return spill_pages(&mut self.buf, &mut self.out);
        }
        Ok(())
    }

    fn where_(&self, e: &Event) -> String {
        format!("{}:{}", self.sources.name(e.origin.source), e.origin.line)
    }
}

/// What is still buffered goes out when the sink does, as a buffered
/// writer's would: a run cut short by an error still shows the lines
/// read before it. A failure to write here has nowhere to be reported.
impl<W: Write> Drop for TextSink<W> {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let _ = spill(&mut self.buf, &mut self.out);
        }
    }
}

impl<W: Write> Sink for TextSink<W> {
    fn line(
        &mut self,
        line: &OutLine<'_>,
        _events: &[Event],
        explanations: &[Explanation],
    ) -> io::Result<()> {
        if !self.annotations_only {
            if !line.continuation {
                self.close_line();
            }
            self.buf.extend_from_slice(line.raw);
            self.open_line = line.raw.last() != Some(&b'\n');
        }
        for e in explanations {
            self.write_explanation(e, false)?;
        }
        self.spill_full()
    }

    fn late(&mut self, explanation: &Explanation) -> io::Result<()> {
        self.write_explanation(explanation, true)?;
        self.spill_full()
    }

    fn prints_lines(&self) -> bool {
        !self.annotations_only
    }

    fn takes_runs(&self) -> bool {
        !self.annotations_only
    }

    fn runs(&mut self) -> Option<Runs<'_>> {
        if self.annotations_only {
            return None;
        }
        self.close_line();
        Some(Runs::new(&mut self.buf, &mut self.out))
    }

    fn notice(&mut self, notice: &Notice) -> io::Result<()> {
        let m = self.marker();
        writeln!(
            self.buf,
            "{m} {}: {}: {}",
            notice.level.as_str(),
            self.sources.name(notice.source),
            notice.message
        )?;
        self.spill_full()
    }

    fn flush(&mut self) -> io::Result<()> {
        spill(&mut self.buf, &mut self.out)?;
        self.out.flush()
    }
}
