//! Follow: files followed by name through rotation, the kernel log, and
//! a memory cgroup's counters, taken as they come until a signal says
//! stop. This is the sidecar: it runs for weeks beside a worker.
//!
//! The loop sleeps until something can have changed (a file system
//! notification, a kernel record, a cgroup's OOM eventfd, a signal) or a
//! tick passes. Then it looks at every followed name, reads what the
//! cgroup says, and takes the lines now available from all sources,
//! earliest log time first, through the same [`Stages::line`] as replay
//! and live. Each line is written out at once; an explanation follows as
//! soon as its evidence is complete (a kill joined by pid is decided on
//! arrival), or when its window closes. The watermark is the latest log
//! time seen; while the sources are quiet the wall clock moves it on.
//! After each batch the output is flushed and the checkpoint written.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::source::Source;
use super::wake::{self, Waker};
use super::{Config, Stages, lower};
use crate::input::cgroup::{self, Cgroup, Observation};
use crate::input::follow::{self, Change, FollowedFile, Health, Start};
use crate::input::framing::Lines;
use crate::input::kmsg::{self, Kmsg};
use crate::input::state::{Journal, KmsgState, NameState, State};
use crate::input::watch::Watch;
use crate::metrics::{Metrics, SourceHealth, server};
use crate::output::{Notice, NoticeLevel, Sink};
use crate::record::SourceId;
use crate::time::{self, Timestamp, human_duration};

/// Where a followed file is first read from when no checkpoint says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FromWhere {
    /// Its first byte.
    Start,
    /// After its last complete line.
    End,
}

/// What follow mode follows, and how.
#[derive(Clone, Debug)]
pub struct FollowConfig {
    /// Followed by name; each is a source named as given.
    pub files: Vec<PathBuf>,
    /// `/dev/kmsg`, or a FIFO or file of kmsg records.
    pub kmsg: Option<PathBuf>,
    /// A memory cgroup folder; the followed files' writers run in it.
    pub cgroup: Option<PathBuf>,
    /// The checkpoint file.
    pub state: Option<PathBuf>,
    /// Serve metrics here.
    pub metrics: Option<SocketAddr>,
    pub from: FromWhere,
    pub rotate_wait: Duration,
    pub cgroup_options: cgroup::Options,
    /// Warn when a followed file produced no line for this long (zero:
    /// never).
    pub silence: Duration,
    /// Least time between two checkpoint writes (zero: after every
    /// batch that moved a position).
    pub state_interval: Duration,
    /// Watch standard output, to stop when its reader goes away even
    /// while nothing is written.
    pub watch_stdout: bool,
}

impl Default for FollowConfig {
    fn default() -> FollowConfig {
        FollowConfig {
            files: Vec::new(),
            kmsg: None,
            cgroup: None,
            state: None,
            metrics: None,
            from: FromWhere::End,
            rotate_wait: follow::ROTATE_WAIT,
            cgroup_options: cgroup::Options::default(),
            silence: Duration::from_secs(300),
            state_interval: Duration::ZERO,
            watch_stdout: false,
        }
    }
}

impl FollowConfig {
    /// Source names, in source id order: files, kernel log, cgroup.
    pub fn source_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.files.iter().map(|p| p.display().to_string()).collect();
        names.extend(self.kmsg.iter().map(|p| p.display().to_string()));
        names.extend(self.cgroup.iter().map(|p| p.display().to_string()));
        names
    }
}

/// Most lines taken in one batch before the loop looks at signals and
/// timers again (a long backlog at start is read in several batches).
const BATCH: usize = 4096;

/// How often the loop wakes without being woken while something waits
/// on time: a symptom's window, a rotated file going quiet, a name to
/// appear. This bounds how late a window-closing explanation comes.
const TICK: Duration = Duration::from_millis(250);

/// How often it wakes when nothing waits: only the safety net for a
/// missed notification, and the silence check.
const IDLE_TICK: Duration = Duration::from_secs(2);

/// How long a followed name may be missing before it is reported (a
/// rotation leaves it missing for a moment).
const MISSING_GRACE: Duration = Duration::from_secs(5);

/// A source's health as the loop tracks it, for stderr and metrics.
struct Tracked {
    health: SourceHealth,
    /// Since when the source has been silent, missing or unreadable,
    /// and whether that was reported.
    quiet_since: Instant,
    silence_reported: bool,
    trouble_since: Option<Instant>,
    trouble_reported: bool,
}

/// The memory cgroup and its source.
struct CgroupInput {
    cg: Cgroup,
    id: SourceId,
    observed: u64,
    /// Raised by the notification thread when `memory.events` changed.
    changed: Arc<AtomicBool>,
    failing: bool,
}

/// Everything one follow run holds. `watch` is declared (and so dropped)
/// before `waker`, whose eventfd its thread writes to.
struct Follow<'c> {
    config: &'c FollowConfig,
    watch: Watch,
    waker: Waker,
    files: Vec<Source<FollowedFile>>,
    kmsg: Option<Source<Kmsg>>,
    cgroup: Option<CgroupInput>,
    tracked: Vec<Tracked>,
    metrics: Option<Arc<Metrics>>,
    /// This boot's id, read once, for the kernel log's checkpoint.
    boot_id: Option<String>,
    journal: Option<Journal>,
    /// The checkpoint last written, to write only changes.
    last_state: Option<State>,
    state_written: Option<Instant>,
    state_failed: bool,
    latest: Option<Timestamp>,
    last_arrival: Instant,
}

/// Follow until a signal, or until the output's reader goes away.
pub(super) fn drive_follow<S: Sink>(
    config: &Config,
    stage: &mut Stages<S>,
) -> io::Result<()> {
    let fc = config.follow.as_ref().expect("follow mode has a config");
    let mut run = Follow::start(config, fc, stage)?;
    let result = run.run(stage);
    let flushed = result.and_then(|()| {
        stage.deliver()?;
        stage.emitter.release_all()?;
        stage.emitter.flush()
    });
    run.checkpoint(true);
    wake::forget_waker();
    flushed
}

impl<'c> Follow<'c> {
    /// Open every source; an input that cannot be opened at all (no
    /// kernel log, not a cgroup, a metrics address in use) is an error.
    fn start<S: Sink>(
        config: &Config,
        fc: &'c FollowConfig,
        stage: &mut Stages<S>,
    ) -> io::Result<Follow<'c>> {
        let now = Instant::now();
        let state = match &fc.state {
            Some(path) => match State::load(path) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(
                        "{e}; starting as if there were no checkpoint"
                    );
                    None
                }
            },
            None => None,
        };

        let waker = Waker::new()?;
        wake::catch_stop_signals(&waker)?;
        let handle = waker.handle();
        let mut watch = Watch::new(move || handle.wake());

        let mut tracked = Vec::new();
        let mut files = Vec::new();
        let opts = follow::Options {
            max_line: config.max_line,
            rotate_wait: fc.rotate_wait,
            ..follow::Options::default()
        };
        for path in &fc.files {
            let name = path.display().to_string();
            let start = match state.as_ref().and_then(|s| s.files.get(&name)) {
                Some(ns) => Start::Resume {
                    lines: ns.lines,
                    files: ns.files.clone(),
                },
                None => match fc.from {
                    FromWhere::Start => Start::Beginning,
                    FromWhere::End => Start::End,
                },
            };
            let followed =
                FollowedFile::new(path.clone(), start, opts.clone());
            watch.name(path);
            let id = files.len() as SourceId;
            files.push(Source::with_lines(
                id,
                name.clone(),
                followed,
                config,
                time::now(),
            ));
            tracked.push(Tracked::new(name, "file", now));
        }

        let kmsg = match &fc.kmsg {
            Some(path) => {
                let id = tracked.len() as SourceId;
                let name = path.display().to_string();
                let (start, lines) = kmsg_start(&state, &name);
                let k = Kmsg::open(path, start, lines).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "{name}: cannot read the kernel log: {}",
                            lower(&e)
                        ),
                    )
                })?;
                tracked.push(Tracked::new(name.clone(), "kmsg", now));
                Some(Source::with_lines(id, name, k, config, time::now()))
            }
            None => None,
        };

        let cgroup = match &fc.cgroup {
            Some(dir) => {
                let id = tracked.len() as SourceId;
                let cg = Cgroup::open(dir, fc.cgroup_options)
                    .map_err(|e| io::Error::other(e.to_string()))?;
                let changed = Arc::new(AtomicBool::new(false));
                if let Some(events) = cg.events_file() {
                    watch.file(&events, changed.clone());
                }
                tracing::info!(
                    "{}: watching memory cgroup {} (v{})",
                    dir.display(),
                    cg.name(),
                    if cg.version() == cgroup::Version::V1 {
                        1
                    } else {
                        2
                    }
                );
                stage.source_cgroup = (0..files.len())
                    .map(|_| Some(cg.name().to_owned()))
                    .collect();
                tracked.push(Tracked::new(
                    dir.display().to_string(),
                    "cgroup",
                    now,
                ));
                Some(CgroupInput {
                    cg,
                    id,
                    observed: 0,
                    changed,
                    failing: false,
                })
            }
            None => None,
        };

        let metrics = match fc.metrics {
            Some(addr) => {
                let m = Arc::new(Metrics::new(
                    tracked.iter().map(|t| t.health.clone()).collect(),
                ));
                let bound = server::serve(addr, m.clone()).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("--metrics {addr}: {}", lower(&e)),
                    )
                })?;
                tracing::info!("metrics at http://{bound}/metrics");
                Some(m)
            }
            None => None,
        };

        let mut run = Follow {
            config: fc,
            watch,
            waker,
            files,
            kmsg,
            cgroup,
            tracked,
            metrics,
            boot_id: kmsg::boot_id(),
            journal: fc.state.clone().map(Journal::new),
            last_state: None,
            state_written: None,
            state_failed: false,
            latest: None,
            last_arrival: now,
        };
        run.refresh_files(now);
        Ok(run)
    }

    /// The loop: wait, look, read, decide, write, checkpoint.
    fn run<S: Sink>(&mut self, stage: &mut Stages<S>) -> io::Result<()> {
        let mut more = false;
        let names: Vec<&str> = self
            .tracked
            .iter()
            .map(|t| t.health.name.as_str())
            .collect();
        tracing::info!("following {}", names.join(", "));
        loop {
            // Wait for something to happen.
            let now = Instant::now();
            let waiting = stage.correlator.pending() > 0
                || self.files.iter().any(|f| {
                    f.reader.open_files() != 1
                        || *f.reader.health() != Health::Following
                });
            let mut timeout = match (more, waiting) {
                (true, _) => Duration::ZERO,
                (false, true) => TICK,
                (false, false) => IDLE_TICK,
            };
            if let Some(c) = &self.cgroup {
                timeout = timeout.min(c.cg.next_check(now));
            }
            let mut fds = vec![self.waker.fd()];
            if let Some(k) = self.kmsg.as_ref().filter(|k| !k.done) {
                fds.push(k.reader.as_raw_fd());
            }
            let cgroup_at =
                self.cgroup.as_ref().and_then(|c| c.cg.notify_fd()).map(
                    |fd| {
                        fds.push(fd);
                        fds.len() - 1
                    },
                );
            let output = self.config.watch_stdout.then_some(1);
            let ready = wake::wait(&fds, output, timeout)?;
            self.waker.drain();
            if let Some(signal) = wake::stop_signal() {
                tracing::info!("signal {signal}: flushing and stopping");
                return Ok(());
            }
            if ready.output_gone {
                return Err(io::ErrorKind::BrokenPipe.into());
            }

            // Look at the names and the cgroup.
            let now = Instant::now();
            self.refresh_files(now);
            if let Some(c) = self.cgroup.as_mut() {
                let eventfd = cgroup_at.is_some_and(|i| ready.readable[i]);
                if eventfd || c.changed.swap(false, Ordering::SeqCst) {
                    c.cg.notified(now);
                }
            }
            self.read_cgroup(stage, now)?;

            // Take the lines there are, earliest first.
            let taken = self.take_lines(stage)?;
            more = taken >= BATCH;

            // Decide what the watermark allows, and write it all out.
            if taken > 0 {
                self.last_arrival = now;
                if let Some(t) = self.latest {
                    stage.correlator.advance(t, &mut stage.decisions);
                }
            } else if let Some(t) = self.latest {
                let idle = self.last_arrival.elapsed().as_nanos() as i64;
                stage
                    .correlator
                    .advance(t.shifted(idle), &mut stage.decisions);
            }
            stage.deliver()?;
            stage.emitter.release_all()?;
            stage.emitter.flush()?;

            self.checkpoint(false);
            self.report_health(Instant::now());
            self.publish(stage);
        }
    }

    /// Look at every followed name, and say what happened to it.
    fn refresh_files(&mut self, now: Instant) {
        for (i, src) in self.files.iter_mut().enumerate() {
            src.reader.refresh(now);
            let t = &mut self.tracked[i];
            let mut rewatch = *src.reader.health() == Health::Missing;
            for change in src.reader.take_changes() {
                report_change(&src.name, &change, &mut t.health);
                rewatch |=
                    matches!(change, Change::Opened { .. } | Change::Rotated);
            }
            if rewatch {
                // A symlink may lead somewhere new: watch there too, before
                // the file it names appears.
                self.watch.name(src.reader.path());
            }
            let trouble = match src.reader.health() {
                Health::Following => None,
                Health::Missing => Some("does not exist".to_owned()),
                Health::Unreadable(e) => Some(format!("cannot be read: {e}")),
            };
            t.set_trouble(&src.name, trouble, now);
        }
    }

    /// Read the cgroup's counters; each change is a notice and an event.
    fn read_cgroup<S: Sink>(
        &mut self,
        stage: &mut Stages<S>,
        now: Instant,
    ) -> io::Result<()> {
        let Some(c) = self.cgroup.as_mut() else {
            return Ok(());
        };
        let observations = match c.cg.check(now) {
            Ok(o) => {
                if c.failing {
                    tracing::info!("{}: readable again", c.cg.dir().display());
                    c.failing = false;
                }
                o
            }
            Err(e) => {
                if !c.failing {
                    tracing::warn!(
                        "{}: cannot read the cgroup's counters: {}; OOM \
                         kills in it may go unseen",
                        c.cg.dir().display(),
                        lower(&e)
                    );
                    c.failing = true;
                }
                Vec::new()
            }
        };
        let t = &mut self.tracked[c.id as usize];
        t.health.up = !c.failing;
        for o in observations {
            c.observed += 1;
            // A kill seen while re-reading after the kernel's signal
            // happened at the signal, not when the counter was read.
            let at = match (&o, c.cg.notified_at()) {
                (Observation::OomKill { .. }, Some(signalled)) => {
                    let ago = now.saturating_duration_since(signalled);
                    time::now().shifted(-(ago.as_nanos() as i64))
                }
                _ => time::now(),
            };
            let event = o.event(c.cg.name(), c.id, c.observed, at);
            let notice = Notice {
                level: NoticeLevel::Info,
                source: c.id,
                time: Some(at),
                message: o.describe(),
            };
            tracing::info!("{}: {}", c.cg.dir().display(), notice.message);
            t.health.lines += 1;
            t.health.last_line = Some(now);
            self.latest = Some(self.latest.map_or(at, |l| l.max(at)));
            stage.event(event, &notice)?;
        }
        if let Some(why) = c.cg.no_pressure.take() {
            tracing::warn!(
                "{}: memory pressure cannot be sampled ({why}); stalls \
                 without a kill will not be seen",
                c.cg.dir().display()
            );
        }
        Ok(())
    }

    /// Take the lines available now from every source, earliest log
    /// time first, up to [`BATCH`]. Returns how many.
    fn take_lines<S: Sink>(
        &mut self,
        stage: &mut Stages<S>,
    ) -> io::Result<usize> {
        let mut taken = 0;
        while taken < BATCH {
            // Fill every head.
            for src in self.files.iter_mut() {
                fill(src, &mut self.tracked);
            }
            if let Some(k) = self.kmsg.as_mut() {
                fill(k, &mut self.tracked);
                let lost = k.reader.take_lost();
                if lost > 0 {
                    let notice = Notice {
                        level: NoticeLevel::Warning,
                        source: k.id,
                        time: k.head_time(),
                        message: format!(
                            "{lost} kernel log record{} lost (overwritten \
                             before they were read); evidence may be missing",
                            if lost == 1 { " was" } else { "s were" }
                        ),
                    };
                    tracing::warn!("{}: {}", k.name, notice.message);
                    stage.emitter.notice(&notice)?;
                }
            }

            // The earliest head goes next; a head without time at once.
            let key = |h: Option<Timestamp>| h.map_or(i64::MIN, |t| t.0);
            let file_pick = self
                .files
                .iter()
                .enumerate()
                .filter(|(_, s)| s.head.is_some())
                .min_by_key(|(_, s)| key(s.head_time()))
                .map(|(i, s)| (i, key(s.head_time())));
            let kmsg_time = self
                .kmsg
                .as_ref()
                .filter(|k| k.head.is_some())
                .map(|k| key(k.head_time()));
            let line_time = match (file_pick, kmsg_time) {
                (Some((i, ft)), Some(kt)) if ft <= kt => {
                    take(&mut self.files[i], stage, &mut self.tracked)?
                }
                (_, Some(_)) => take(
                    self.kmsg.as_mut().expect("has head"),
                    stage,
                    &mut self.tracked,
                )?,
                (Some((i, _)), None) => {
                    take(&mut self.files[i], stage, &mut self.tracked)?
                }
                (None, None) => break,
            };
            if let Some(t) = line_time {
                self.latest = Some(self.latest.map_or(t, |l| l.max(t)));
            }
            taken += 1;
        }
        Ok(taken)
    }

    /// Write the checkpoint if it changed (and, unless `force`, if the
    /// interval has passed).
    fn checkpoint(&mut self, force: bool) {
        let Some(path) = &self.config.state else {
            return;
        };
        if !force {
            if let Some(at) = self.state_written {
                if at.elapsed() < self.config.state_interval {
                    return;
                }
            }
        }
        let mut state = State::new();
        for src in &self.files {
            state.files.insert(
                src.name.clone(),
                NameState {
                    lines: src.reader.lines(),
                    files: src.reader.marks(),
                },
            );
        }
        if let Some(k) = &self.kmsg {
            if let Some(seq) = k.reader.last_seq() {
                state.kmsg = Some(KmsgState {
                    path: k.name.clone(),
                    boot_id: self.boot_id.clone(),
                    seq,
                    lines: k.reader.lines(),
                });
            }
        }
        if self.last_state.as_ref() == Some(&state) {
            return;
        }
        let Some(journal) = self.journal.as_mut() else {
            return;
        };
        match journal.write(&state) {
            Ok(()) => {
                self.last_state = Some(state);
                self.state_written = Some(Instant::now());
                self.state_failed = false;
            }
            Err(e) => {
                if !self.state_failed {
                    tracing::error!(
                        "{}: cannot write the state file: {}; a restart \
                         would repeat or skip lines",
                        path.display(),
                        lower(&e)
                    );
                    self.state_failed = true;
                }
            }
        }
    }

    /// Warn about followed files that went silent.
    fn report_health(&mut self, now: Instant) {
        let silence = self.config.silence;
        if silence.is_zero() {
            return;
        }
        for t in self.tracked.iter_mut().filter(|t| t.health.kind == "file") {
            let quiet = now.duration_since(t.quiet_since);
            if quiet >= silence && !t.silence_reported {
                tracing::warn!(
                    "{}: no line for {}",
                    t.health.name,
                    human_duration(quiet.as_nanos() as i64)
                );
                t.silence_reported = true;
            }
        }
    }

    /// Bring the metrics up to date.
    fn publish<S: Sink>(&self, stage: &Stages<S>) {
        let Some(m) = &self.metrics else { return };
        let stats = stage.correlator.stats();
        let lost = self.kmsg.as_ref().map_or(0, |k| k.reader.lost());
        m.update(|s| {
            for (slot, t) in s.sources.iter_mut().zip(&self.tracked) {
                *slot = t.health.clone();
            }
            s.explanations = stage.summary.by_cause.clone();
            s.dropped_events = stats.dropped_events;
            s.forced_decisions = stats.forced_decisions;
            s.kmsg_lost = lost;
        });
    }
}

impl Tracked {
    fn new(name: String, kind: &'static str, now: Instant) -> Tracked {
        Tracked {
            health: SourceHealth::new(name, kind),
            quiet_since: now,
            silence_reported: false,
            trouble_since: None,
            trouble_reported: false,
        }
    }

    /// A line came.
    fn line(&mut self, name: &str, now: Instant) {
        self.health.lines += 1;
        self.health.last_line = Some(now);
        if self.silence_reported {
            tracing::info!("{name}: lines again");
            self.silence_reported = false;
        }
        self.quiet_since = now;
    }

    /// The source is missing or unreadable (`Some`), or fine.
    fn set_trouble(
        &mut self,
        name: &str,
        trouble: Option<String>,
        now: Instant,
    ) {
        match trouble {
            None => {
                if self.trouble_reported {
                    tracing::info!("{name}: readable again");
                }
                self.trouble_since = None;
                self.trouble_reported = false;
                self.health.up = true;
            }
            Some(why) => {
                let since = *self.trouble_since.get_or_insert(now);
                self.health.up = false;
                let missing = why == "does not exist";
                if !self.trouble_reported
                    && (!missing || now.duration_since(since) >= MISSING_GRACE)
                {
                    if missing {
                        tracing::warn!(
                            "{name}: does not exist; it will be read from \
                             its first line when it appears"
                        );
                    } else {
                        tracing::error!("{name}: {why}");
                    }
                    self.trouble_reported = true;
                }
            }
        }
    }
}

/// Fill a source's head, reporting read errors (the source stays and is
/// tried again on the next wake).
fn fill<L: Lines>(src: &mut Source<L>, tracked: &mut [Tracked]) {
    match src.fill() {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => {
            let t = &mut tracked[src.id as usize];
            if !t.trouble_reported {
                tracing::error!("{}: read error: {}", src.name, lower(&e));
                t.trouble_reported = true;
                t.health.up = false;
            }
        }
    }
}

/// Put a source's head line through the stages. Returns its time.
fn take<L: Lines, S: Sink>(
    src: &mut Source<L>,
    stage: &mut Stages<S>,
    tracked: &mut [Tracked],
) -> io::Result<Option<Timestamp>> {
    let (env, time, inherited) = src.head.take().expect("has head");
    if let Some(t) = time {
        src.last_time = Some(t);
    }
    let line = src.reader.current().expect("filled");
    if !line.continuation {
        tracked[src.id as usize].line(&src.name, Instant::now());
    }
    stage.line(src.id, &line, &env, time, inherited)?;
    src.reader.consume();
    Ok(if inherited { None } else { time })
}

/// Where the kernel log starts: after the checkpoint's record when it is
/// of this boot, at the oldest record when the host rebooted since (the
/// records of the new boot were never read), else at the end.
fn kmsg_start(state: &Option<State>, name: &str) -> (kmsg::Start, u64) {
    let Some(k) = state.as_ref().and_then(|s| s.kmsg.as_ref()) else {
        return (kmsg::Start::End, 0);
    };
    if k.path != name {
        return (kmsg::Start::End, 0);
    }
    if k.boot_id.is_some() && k.boot_id != kmsg::boot_id() {
        tracing::info!(
            "{name}: the host rebooted since the checkpoint; reading the \
             kernel log from its oldest record"
        );
        return (kmsg::Start::Beginning, 0);
    }
    (kmsg::Start::After(k.seq), k.lines)
}

/// Log one change of a followed name at the level it deserves.
fn report_change(name: &str, change: &Change, health: &mut SourceHealth) {
    match change {
        Change::Opened { path, offset } => tracing::debug!(
            "{name}: opened {} at byte {offset}",
            path.display()
        ),
        Change::Rotated => {
            health.rotations += 1;
            tracing::debug!("{name}: rotated; draining the old file");
        }
        Change::Truncated {
            at,
            copy: Some(copy),
        } => {
            health.truncations += 1;
            tracing::info!(
                "{name}: truncated at byte {at}; the rest comes from the \
                 copy {}",
                copy.display()
            );
        }
        Change::Truncated { at, copy: None } => {
            health.truncations += 1;
            tracing::warn!(
                "{name}: truncated at byte {at} and no copy found beside \
                 it; lines written just before the truncation may be missing"
            );
        }
        Change::Closed => {
            tracing::debug!("{name}: a rotated file was drained")
        }
        Change::ClosedEarly => tracing::warn!(
            "{name}: too many rotated files open; the oldest was closed \
             before it went quiet, and later lines written to it are lost"
        ),
        Change::ResumeLost { ino, offset } => tracing::warn!(
            "{name}: the file (inode {ino}) the checkpoint left at byte \
             {offset} is gone; what it held past that is lost"
        ),
        Change::ReadFailed { error } => {
            tracing::error!("{name}: read failed, file closed: {error}")
        }
    }
}
