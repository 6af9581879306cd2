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
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

mod checkpoint;
mod health;
mod open;

use checkpoint::Checkpoint;
use health::{Tracked, report_change};
use open::CgroupInput;

use super::source::Source;
use super::wake::{self, Waker};
use super::{Config, Stages, lower};
use crate::input::cgroup::{self, Observation};
use crate::input::follow::{self, Change, FollowedFile, Health};
use crate::input::framing::Lines;
use crate::input::kmsg::Kmsg;
use crate::input::watch::Watch;
use crate::metrics::Metrics;
use crate::output::{Notice, NoticeLevel, Sink};
use crate::time::{self, Timestamp};

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
    checkpoint: Option<Checkpoint>,
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
        let state = open::load_state(fc);
        let waker = Waker::new()?;
        wake::catch_stop_signals(&waker)?;
        let handle = waker.handle();
        let mut watch = Watch::new(move || handle.wake());

        let mut tracked = Vec::new();
        let files =
            open::files(config, fc, &state, &mut watch, &mut tracked, now);
        let kmsg = open::kmsg(config, fc, &state, &mut tracked, now)?;
        let cgroup = open::cgroup(fc, &mut watch, &mut tracked, now)?;
        if let Some(c) = &cgroup {
            // The followed files' writers run in the cgroup.
            stage.source_cgroup =
                files.iter().map(|_| Some(c.cg.name().to_owned())).collect();
        }
        let metrics = open::metrics(fc, &tracked)?;

        let mut run = Follow {
            config: fc,
            watch,
            waker,
            files,
            kmsg,
            cgroup,
            tracked,
            metrics,
            checkpoint: fc
                .state
                .clone()
                .map(|p| Checkpoint::new(p, fc.state_interval)),
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

    /// Write the checkpoint, if there is one to write.
    fn checkpoint(&mut self, force: bool) {
        if let Some(c) = self.checkpoint.as_mut() {
            c.write(&self.files, self.kmsg.as_ref(), force);
        }
    }

    /// Warn about followed files that went silent.
    fn report_health(&mut self, now: Instant) {
        let silence = self.config.silence;
        if silence.is_zero() {
            return;
        }
        for t in self.tracked.iter_mut().filter(|t| t.health.kind == "file") {
            t.check_silence(silence, now);
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
