//! The pipeline: wires inputs, framing, envelopes, extraction,
//! correlation and output, and is the only module that knows their
//! order.
//!
//! Two ways to drive it share every step after reading a line:
//! - replay ([`Input::File`]s, or `-` among them): each source's next
//!   line is parsed for its time and the earliest goes next, so several
//!   files are merged by log time; the watermark is the time of the line
//!   being processed;
//! - live ([`Input::Stdin`] alone): lines are taken as they arrive, the
//!   watermark is the latest time seen, and when input goes quiet the
//!   watermark moves on with the wall clock so that pending symptoms are
//!   still decided;
//! - follow ([`Config::follow`]): files followed through rotation, the
//!   kernel log and a memory cgroup, woken by file system notifications;
//!   the lines available are merged by time, the watermark is the latest
//!   time seen, moved on by the wall clock when the sources are quiet.

mod follow;
mod live;
mod replay;
mod runs;
mod source;
mod wake;

use follow::drive_follow;
pub use follow::{FollowConfig, FromWhere};
use live::drive_live;
use replay::{drive_events, drive_replay, open_sources};
use source::Source;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;

use crate::correlate::{Correlator, Decision, Limits, Stats};
use crate::envelope::Envelope;
use crate::event::{Event, Value, Writer};
use crate::extract::{Contexts, Extractor, Found, LineInfo};
use crate::input::framing::Line;
use crate::input::{self, ByteStream};
use crate::output::json::JsonSink;
use crate::output::text::TextSink;
use crate::output::{Emitter, MAX_HELD, Notice, OutLine, Sink};
use crate::record::{Origin, SourceId, Sources};
use crate::rules::RuleSet;
use crate::time::{self, Timestamp, Zone};

/// Where lines come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input; alone, it is read as a live stream.
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".to_owned(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Everything a run needs, validated.
#[derive(Clone, Debug)]
pub struct Config {
    pub inputs: Vec<Input>,
    pub format: Format,
    pub annotations_only: bool,
    pub color: bool,
    /// Boot time for kernel monotonic stamps; `None` uses this host's.
    pub boot_time: Option<Timestamp>,
    pub zone: Zone,
    pub limits: Limits,
    pub max_line: usize,
    pub max_held: usize,
    /// Milliseconds a live stream waits for input before moving its
    /// watermark on by the wall clock.
    pub tick_ms: i32,
    /// Follow mode: what to follow instead of `inputs`.
    pub follow: Option<FollowConfig>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            inputs: vec![Input::Stdin],
            format: Format::Text,
            annotations_only: false,
            color: false,
            boot_time: None,
            zone: Zone::Local,
            limits: Limits::default(),
            max_line: input::framing::MAX_LINE,
            max_held: MAX_HELD,
            tick_ms: 250,
            follow: None,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub lines: u64,
    pub explanations: u64,
    /// Sources that could not be opened or read to the end.
    pub failed_sources: Vec<String>,
    /// Explanations printed away from their symptom line.
    pub late: u64,
    pub long_lines: u64,
    pub stats: Stats,
    /// True when output stopped because the reader went away.
    pub broken_pipe: bool,
    /// Explanations by root cause kind.
    pub by_cause: BTreeMap<String, u64>,
    /// What the run noticed about its inputs that the user should know
    /// (a kernel log whose times match none of the other logs').
    pub warnings: Vec<String>,
}

/// How lines are turned into events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Literal searches over whole buffers first; envelopes and regexes
    /// only where a literal occurs. What every run uses.
    Fast,
    /// Every line's envelope parsed and every pattern's regex run on
    /// every message, with no prefilter: slow on purpose, and obviously
    /// right, so the fast path is tested against it.
    Plain,
}

/// Run the pipeline over `config.inputs`, writing to `out`.
pub fn run<W: Write>(
    config: &Config,
    rules: RuleSet,
    out: W,
) -> io::Result<Summary> {
    let names: Vec<String> = match &config.follow {
        Some(f) => f.source_names(),
        None => config.inputs.iter().map(Input::name).collect(),
    };
    with_sink(config, &names, out, |sink| {
        drive(config, rules, sink, None, Path::Fast)
    })
}

/// Replay in-memory or already opened streams, named as given: for rule
/// scenarios and tests.
pub fn run_streams<W: Write>(
    config: &Config,
    rules: RuleSet,
    streams: Vec<(String, ByteStream)>,
    out: W,
) -> io::Result<Summary> {
    run_streams_on(config, rules, streams, out, Path::Fast)
}

/// Replay streams like [`run_streams`], extracting events the way
/// `path` says: [`Path::Plain`] is the reference that tests hold the
/// prefiltered path to (same events, same explanations).
pub fn run_streams_on<W: Write>(
    config: &Config,
    rules: RuleSet,
    streams: Vec<(String, ByteStream)>,
    out: W,
    path: Path,
) -> io::Result<Summary> {
    let names: Vec<String> = streams.iter().map(|(n, _)| n.clone()).collect();
    with_sink(config, &names, out, |sink| {
        drive(config, rules, sink, Some(streams), path)
    })
}

fn with_sink<W: Write>(
    config: &Config,
    names: &[String],
    out: W,
    go: impl FnOnce(Box<dyn Sink + '_>) -> io::Result<Summary>,
) -> io::Result<Summary> {
    let mut sources = Sources::default();
    for n in names {
        sources.add(n.clone());
    }
    let sink: Box<dyn Sink> = match config.format {
        Format::Text => Box::new(TextSink::new(
            out,
            sources,
            config.color,
            config.annotations_only,
        )),
        Format::Json => {
            Box::new(JsonSink::new(out, sources, config.annotations_only))
        }
    };
    go(sink)
}

fn drive<S: Sink>(
    config: &Config,
    rules: RuleSet,
    sink: S,
    streams: Option<Vec<(String, ByteStream)>>,
    path: Path,
) -> io::Result<Summary> {
    let RuleSet { patterns, explains } = rules;
    let mut stage = Stages {
        path,
        extractor: Extractor::new(patterns),
        correlator: Correlator::new(explains, config.limits),
        emitter: Emitter::new(sink, config.max_held),
        keep_events: config.format == Format::Json && !config.annotations_only,
        scratch: Vec::new(),
        events: Vec::new(),
        decisions: Vec::new(),
        summary: Summary::default(),
        record_pids: Vec::new(),
        contexts: Vec::new(),
        source_cgroup: Vec::new(),
    };
    let live = streams.is_none() && config.inputs == [Input::Stdin];
    let result = if streams.is_none() && config.follow.is_some() {
        drive_follow(config, &mut stage)
    } else if live {
        drive_live(config, &mut stage)
    } else {
        let sources = match streams {
            Some(streams) => streams
                .into_iter()
                .enumerate()
                .map(|(i, (name, stream))| {
                    Source::new(
                        i as SourceId,
                        name,
                        stream,
                        config,
                        time::now(),
                    )
                })
                .collect(),
            None => open_sources(config, &mut stage.summary),
        };
        if config.annotations_only {
            drive_events(&mut stage, sources)
        } else {
            drive_replay(&mut stage, sources)
        }
    };
    let finished = result.and_then(|()| stage.finish());
    match finished {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            stage.summary.broken_pipe = true;
        }
        Err(e) => return Err(e),
    }
    stage.summary.stats = stage.correlator.stats();
    stage.summary.explanations = stage.summary.stats.explanations;
    stage.summary.late = stage.emitter.late;
    Ok(stage.summary)
}

/// The stages after framing, and their reusable buffers.
pub(super) struct Stages<S> {
    path: Path,
    extractor: Extractor,
    correlator: Correlator,
    emitter: Emitter<S>,
    keep_events: bool,
    scratch: Vec<u32>,
    events: Vec<Event>,
    decisions: Vec<Decision>,
    summary: Summary,
    /// Per source, the pid of the last line whose envelope named one: a
    /// line with no envelope (a traceback's) belongs to that record, and
    /// takes its writer as it takes its time.
    record_pids: Vec<Option<u32>>,
    /// Per source, which contexts of the rules its lines are in.
    contexts: Vec<Contexts>,
    /// Per source, the cgroup its writer runs in (`--cgroup` with
    /// followed files): given to the events of its lines that name none,
    /// so that they join the cgroup's own events.
    source_cgroup: Vec<Option<String>>,
}

impl<S: Sink> Stages<S> {
    /// The writer pid of a line: its envelope's, or for a line with no
    /// envelope at all, that of the record it continues.
    fn writer_pid(&mut self, source: SourceId, env: &Envelope) -> Option<u32> {
        if env.format == crate::envelope::Format::None {
            self.record_pids.get(source as usize).copied().flatten()
        } else {
            self.set_record_pid(source, env.pid);
            env.pid
        }
    }

    /// Record that `source`'s last line with an envelope named `pid`.
    fn set_record_pid(&mut self, source: SourceId, pid: Option<u32>) {
        let slot = source as usize;
        if self.record_pids.len() <= slot {
            self.record_pids.resize(slot + 1, None);
        }
        self.record_pids[slot] = pid;
    }

    /// The contexts of `source`'s lines.
    fn contexts(&mut self, source: SourceId) -> &mut Contexts {
        let slot = source as usize;
        if self.contexts.len() <= slot {
            self.contexts.resize_with(slot + 1, Contexts::default);
        }
        &mut self.contexts[slot]
    }

    /// Whether line `number` of `source` is in a context of the rules.
    fn in_context(&self, source: SourceId, number: u64) -> bool {
        let extractor = &self.extractor;
        let slot = source as usize;
        self.contexts
            .get(slot)
            .is_some_and(|cx| extractor.in_context(cx, number))
    }

    /// The per-line path for a line whose literals were not searched
    /// ahead: the message is checked against every literal here.
    fn line(
        &mut self,
        source: SourceId,
        line: &Line<'_>,
        env: &Envelope,
        time: Option<Timestamp>,
        inherited: bool,
    ) -> io::Result<()> {
        let message = message_of(line.raw, env);
        let in_context = self.in_context(source, line.number);
        let candidate = self
            .extractor
            .is_candidate(env.kernel_or_bare(), message, in_context)
            .then_some(Found::Unknown);
        self.line_with(source, line, env, time, inherited, candidate)
    }

    /// The per-line path: envelope already parsed, and `candidate` `None`
    /// only when no pattern can match the line (else what the literal
    /// searches found); extract, correlate, emit. Allocates nothing for
    /// a line that is no candidate.
    fn line_with(
        &mut self,
        source: SourceId,
        line: &Line<'_>,
        env: &Envelope,
        time: Option<Timestamp>,
        inherited: bool,
        candidate: Option<Found>,
    ) -> io::Result<()> {
        self.extract_line(source, line, env, time, inherited, candidate);
        // Most lines: nothing extracted, and nothing to print or hold.
        if self.events.is_empty() && self.emitter.skips_plain_lines() {
            return Ok(());
        }
        let out = OutLine {
            source,
            line: line.number,
            time,
            raw: line.raw,
            continuation: line.continuation,
        };
        self.correlate_line(&out)
    }

    /// Count a line, keep its writer for the lines after it, and put the
    /// events it yields in `self.events`. `candidate` is `None` when no
    /// pattern can match the line (else what the literal searches
    /// found). Allocates nothing for a line that is no candidate.
    fn extract_line(
        &mut self,
        source: SourceId,
        line: &Line<'_>,
        env: &Envelope,
        time: Option<Timestamp>,
        inherited: bool,
        candidate: Option<Found>,
    ) {
        if !line.continuation {
            self.summary.lines += 1;
        }
        // Kept for every line, even one not extracted from: a traceback
        // line takes its writer from the record before it.
        let writer_pid = self.writer_pid(source, env);
        let extract = match self.path {
            Path::Fast => candidate,
            Path::Plain => Some(Found::Unknown),
        };
        let (false, Some(found)) = (line.continuation, extract) else {
            return;
        };
        let content = content_of(line.raw);
        let info = LineInfo {
            content,
            message_start: env.message,
            origin: Origin {
                source,
                line: line.number,
                time,
                time_inherited: inherited,
            },
            writer: Writer {
                program: env.program.map(|(s, e)| {
                    String::from_utf8_lossy(&content[s..e]).into_owned()
                }),
                pid: writer_pid,
            },
            kernel: env.kernel,
        };
        self.contexts(source);
        let cx = &mut self.contexts[source as usize];
        match self.path {
            Path::Fast => self.extractor.extract(
                &info,
                found,
                cx,
                &mut self.scratch,
                &mut self.events,
            ),
            Path::Plain => {
                self.extractor.extract_all(&info, cx, &mut self.events)
            }
        }
        if let Some(Some(cgroup)) = self.source_cgroup.get(source as usize) {
            for event in self.events.iter_mut() {
                if !event.from_kernel && event.get("cgroup").is_none() {
                    event.set("cgroup", Value::Str(cgroup.clone()));
                }
            }
        }
    }

    /// Hand `self.events`, the events of line `out`, to the correlator,
    /// and the line to the output.
    fn correlate_line(&mut self, out: &OutLine<'_>) -> io::Result<()> {
        let mut waiting = 0;
        let mut kept = Vec::new();
        for event in self.events.drain(..) {
            if self.correlator.is_symptom(&event) {
                waiting += 1;
            }
            if self.keep_events {
                kept.push(event.clone());
            }
            self.correlator.push(event, &mut self.decisions);
        }
        self.emitter.line(out, kept, waiting)?;
        self.deliver()
    }

    pub(super) fn deliver(&mut self) -> io::Result<()> {
        if self.decisions.is_empty() {
            return Ok(());
        }
        for d in self.decisions.drain(..) {
            if let Some(e) = &d.explanation {
                *self
                    .summary
                    .by_cause
                    .entry(e.cause.kind.to_string())
                    .or_default() += 1;
            }
            self.emitter.decision(d)?;
        }
        Ok(())
    }

    /// An event made by code rather than by a rule (a cgroup counter
    /// moved): said as a notice, then correlated like any other.
    fn event(&mut self, event: Event, notice: &Notice) -> io::Result<()> {
        self.emitter.notice(notice)?;
        self.correlator.push(event, &mut self.decisions);
        self.deliver()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.correlator.finish(&mut self.decisions);
        self.deliver()?;
        self.emitter.release_all()?;
        self.emitter.flush()
    }
}

/// A line without its terminator.
#[inline]
fn content_of(raw: &[u8]) -> &[u8] {
    crate::record::Record {
        source: 0,
        line: 0,
        offset: 0,
        raw,
    }
    .content()
}

/// The message of a line whose envelope is `env`.
fn message_of<'a>(raw: &'a [u8], env: &Envelope) -> &'a [u8] {
    let content = content_of(raw);
    &content[env.message.min(content.len())..]
}

/// An I/O error's message starting in lowercase, as ours do.
pub fn lower(e: &io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s).to_owned();
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => s,
    }
}
