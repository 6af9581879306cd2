//! A memory cgroup's own account of OOM kills and memory stalls: the
//! only evidence there is inside a container, where the kernel log
//! cannot be read.
//!
//! [`Cgroup`] reads the counters of one cgroup folder and turns their
//! changes into [`Observation`]s:
//!
//! - kills: cgroup v2 `memory.events` (`oom`, `oom_kill`,
//!   `oom_group_kill`; the kernel raises a modify notification on it),
//!   cgroup v1 `memory.oom_control` (`oom_kill`, `under_oom`; the kernel
//!   signals an eventfd registered through `cgroup.event_control` when
//!   the group runs out of memory). Each increase of `oom_kill` is one
//!   observation, carrying the increase and the new count; the victim's
//!   pid is not in the counters.
//! - stalls: a group can sit at its limit without killing anything, its
//!   tasks stalled in reclaim. v2 `memory.pressure` (PSI: the share of
//!   time some task waited for memory) and v1 `memory.failcnt` (how
//!   often a charge hit the limit) are sampled every
//!   [`Options::sample_every`]; crossing the threshold makes a stall
//!   observation, repeated every [`Options::stall_repeat`] while it
//!   lasts, so that a timeout long after the stall began still finds it
//!   in its window. v1 `under_oom` (tasks paused because the OOM killer
//!   is disabled) counts as a stall too.
//!
//! [`Observation::event`] makes the `oom_kill` and `memory_stall` events
//! the explain rules of `rules/cgroup-events.toml` join.

use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::event::{Event, Value, Writer};
use crate::record::{Origin, SourceId};
use crate::time::Timestamp;

/// Thresholds and rates; see [`Options::default`].
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How often pressure is sampled.
    pub sample_every: Duration,
    /// v2: share of the sample during which some task was stalled on
    /// memory that counts as a stall.
    pub stall_ratio: f64,
    /// v1: limit hits per second that count as a stall.
    pub failcnt_per_sec: f64,
    /// How often a stall that goes on is observed again.
    pub stall_repeat: Duration,
    /// After a notification, counters are read again for this long: the
    /// kernel signals the out-of-memory condition before its kill is
    /// counted.
    pub recheck_for: Duration,
}

impl Default for Options {
    /// Sample every second; a stall is 10% of the time stalled (v2) or
    /// 10,000 limit hits a second (v1); repeat every 30 s; re-read
    /// counters for 1 s after a notification. The thrashing captured in
    /// fixtures/cgroup-stall stalled 35-45% of the time and hit its limit
    /// about 90,000 times a second.
    fn default() -> Options {
        Options {
            sample_every: Duration::from_secs(1),
            stall_ratio: 0.10,
            failcnt_per_sec: 10_000.0,
            stall_repeat: Duration::from_secs(30),
            recheck_for: Duration::from_secs(1),
        }
    }
}

/// The cgroup interface of the folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// Why a cgroup could not be watched.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error(
        "{0}: not a memory cgroup: it has neither memory.events (v2) nor \
         memory.oom_control (v1)"
    )]
    NotMemory(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Something the counters said.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    /// `oom_kill` went up by `increase` to `count`.
    OomKill {
        file: &'static str,
        increase: u64,
        count: u64,
        /// `oom_group_kill` went up too: the whole group was killed.
        group: bool,
    },
    /// The group was stalled on memory.
    Stall(Stall),
}

/// A stall, as measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Stall {
    /// `psi`, `failcnt`, `under_oom` or `oom_without_kill`.
    pub reason: &'static str,
    /// What was measured, in words, for the explanation.
    pub detail: String,
    /// v2: percent of the sample with some task stalled.
    pub some_pct: Option<i64>,
    /// v2: percent of the sample with every task stalled.
    pub full_pct: Option<i64>,
    /// v1: limit hits per second.
    pub failcnt_per_sec: Option<i64>,
}

/// The counters last read.
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    oom: u64,
    oom_kill: u64,
    oom_group_kill: u64,
    under_oom: bool,
}

/// One pressure sample: when, and the cumulative counters.
#[derive(Clone, Copy, Debug)]
struct Sample {
    at: Instant,
    /// v2 `some` and `full` stall totals in microseconds; v1 failcnt.
    some: u64,
    full: u64,
}

/// A watched memory cgroup; see the module documentation.
pub struct Cgroup {
    dir: PathBuf,
    /// The cgroup's path as the kernel names it in OOM reports
    /// (`/kubepods/pod1`), or the folder when that cannot be told.
    name: String,
    version: Version,
    options: Options,
    counters: Counters,
    /// `oom` increases not matched by a kill yet (v2).
    unmatched_oom: u64,
    /// v1: the eventfd the kernel signals, and the control file it was
    /// registered for (kept open for the registration to last).
    eventfd: Option<(OwnedFd, File)>,
    last_sample: Option<Sample>,
    stalled_since: Option<Instant>,
    last_stall: Option<Instant>,
    recheck_until: Option<Instant>,
    /// When the kernel last signalled, while counters are re-read.
    notified_at: Option<Instant>,
    next_sample: Instant,
    /// Why pressure cannot be sampled, once known.
    pub no_pressure: Option<String>,
}

impl Cgroup {
    /// Start watching `dir`. Reads the counters once, so that only later
    /// increases are observed.
    pub fn open(dir: &Path, options: Options) -> Result<Cgroup, CgroupError> {
        let version = if dir.join("memory.events").is_file() {
            Version::V2
        } else if dir.join("memory.oom_control").is_file() {
            Version::V1
        } else {
            return Err(CgroupError::NotMemory(dir.to_owned()));
        };
        let mut cg = Cgroup {
            dir: dir.to_owned(),
            name: kernel_name(dir),
            version,
            options,
            counters: Counters::default(),
            unmatched_oom: 0,
            eventfd: None,
            last_sample: None,
            stalled_since: None,
            last_stall: None,
            recheck_until: None,
            notified_at: None,
            next_sample: Instant::now(),
            no_pressure: None,
        };
        cg.counters =
            cg.read_counters().map_err(|source| CgroupError::Io {
                path: cg.counters_path(),
                source,
            })?;
        if version == Version::V1 {
            match register_oom_eventfd(dir) {
                Ok(pair) => cg.eventfd = Some(pair),
                Err(e) => tracing::warn!(
                    "{}: cannot register for OOM notifications ({e}); \
                     memory.oom_control is read every {:?} instead",
                    dir.display(),
                    options.sample_every
                ),
            }
        }
        Ok(cg)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cgroup's path as the kernel names it.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The file whose modification means "read the counters" (v2).
    pub fn events_file(&self) -> Option<PathBuf> {
        (self.version == Version::V2).then(|| self.dir.join("memory.events"))
    }

    /// The eventfd to wait on with `poll(2)` (v1).
    pub fn notify_fd(&self) -> Option<RawFd> {
        self.eventfd.as_ref().map(|(fd, _)| fd.as_raw_fd())
    }

    /// How soon [`Cgroup::check`] wants to run again.
    pub fn next_check(&self, now: Instant) -> Duration {
        let sample = self.next_sample.saturating_duration_since(now);
        match self.recheck_until {
            Some(until) if until > now => {
                sample.min(Duration::from_millis(20))
            }
            _ => sample,
        }
    }

    /// The kernel said something changed (notification or eventfd):
    /// read the counters now and for a little while.
    pub fn notified(&mut self, now: Instant) {
        if let Some((fd, _)) = &self.eventfd {
            let mut count = [0u8; 8];
            // SAFETY: reading 8 bytes into an 8-byte buffer from an
            // eventfd we own; a failure (nothing pending) is harmless.
            unsafe {
                libc::read(fd.as_raw_fd(), count.as_mut_ptr().cast(), 8);
            }
        }
        self.recheck_until = Some(now + self.options.recheck_for);
        self.notified_at = Some(now);
    }

    /// When the kernel signalled the change being re-read, if it did: a
    /// kill observed now happened between then and now, nearer then (v1
    /// signals when the group runs out of memory, just before the kill).
    pub fn notified_at(&self) -> Option<Instant> {
        self.notified_at
    }

    /// Read the counters (and, when due, sample pressure); what changed
    /// comes back as observations.
    pub fn check(&mut self, now: Instant) -> io::Result<Vec<Observation>> {
        let mut out = Vec::new();
        let sampling = now >= self.next_sample;
        if sampling || self.recheck_until.is_some() {
            self.check_counters(now, &mut out)?;
        }
        if self.unmatched_oom == 0
            && self.recheck_until.is_some_and(|u| now > u)
        {
            self.recheck_until = None;
            self.notified_at = None;
        }
        if sampling {
            self.next_sample = now + self.options.sample_every;
            self.sample(now, &mut out);
        }
        Ok(out)
    }

    fn counters_path(&self) -> PathBuf {
        match self.version {
            Version::V2 => self.dir.join("memory.events"),
            Version::V1 => self.dir.join("memory.oom_control"),
        }
    }

    fn read_counters(&self) -> io::Result<Counters> {
        let text = fs::read_to_string(self.counters_path())?;
        Ok(parse_counters(&text))
    }

    fn check_counters(
        &mut self,
        now: Instant,
        out: &mut Vec<Observation>,
    ) -> io::Result<()> {
        let new = self.read_counters()?;
        let old = std::mem::replace(&mut self.counters, new);
        let file = match self.version {
            Version::V2 => "memory.events",
            Version::V1 => "memory.oom_control",
        };
        let killed = new.oom_kill.saturating_sub(old.oom_kill);
        if killed > 0 {
            out.push(Observation::OomKill {
                file,
                increase: killed,
                count: new.oom_kill,
                group: new.oom_group_kill > old.oom_group_kill,
            });
        }

        // An `oom` the kill has not followed yet may still be followed;
        // once the recheck time is over, it is a stall of its own: the
        // allocation failed, or the OOM killer found nothing to kill.
        self.unmatched_oom = (self.unmatched_oom
            + new.oom.saturating_sub(old.oom))
        .saturating_sub(killed);
        if self.unmatched_oom > 0 {
            match self.recheck_until {
                None => {
                    self.recheck_until = Some(now + self.options.recheck_for)
                }
                Some(until) if now > until => {
                    let n = std::mem::take(&mut self.unmatched_oom);
                    self.recheck_until = None;
                    out.push(Observation::Stall(Stall {
                        reason: "oom_without_kill",
                        detail: format!(
                            "memory.events counted {n} OOM event{} with no \
                             kill",
                            if n == 1 { "" } else { "s" }
                        ),
                        some_pct: None,
                        full_pct: None,
                        failcnt_per_sec: None,
                    }));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Sample pressure; a stall observation when it crosses the
    /// threshold, and again every `stall_repeat` while it lasts.
    fn sample(&mut self, now: Instant, out: &mut Vec<Observation>) {
        let reading = match self.read_pressure() {
            Ok(r) => r,
            Err(e) => {
                if self.no_pressure.is_none() {
                    self.no_pressure = Some(e.to_string());
                }
                return;
            }
        };
        let sample = Sample {
            at: now,
            some: reading.0,
            full: reading.1,
        };
        let Some(last) = self.last_sample.replace(sample) else {
            return;
        };
        let stall = self.measure(&last, &sample);
        let Some(stall) = stall else {
            self.stalled_since = None;
            return;
        };
        let due = match (self.stalled_since, self.last_stall) {
            (None, _) | (_, None) => true,
            (Some(_), Some(prev)) => {
                now.duration_since(prev) >= self.options.stall_repeat
            }
        };
        self.stalled_since.get_or_insert(now);
        if due {
            self.last_stall = Some(now);
            out.push(Observation::Stall(stall));
        }
    }

    /// v2: (some, full) stall microseconds; v1: (failcnt, 0).
    fn read_pressure(&self) -> io::Result<(u64, u64)> {
        match self.version {
            Version::V2 => {
                let text =
                    fs::read_to_string(self.dir.join("memory.pressure"))?;
                parse_psi(&text).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        "memory.pressure has no `some ... total=` line",
                    )
                })
            }
            Version::V1 => {
                let text =
                    fs::read_to_string(self.dir.join("memory.failcnt"))?;
                let n = text.trim().parse().map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        "memory.failcnt is not a number",
                    )
                })?;
                Ok((n, 0))
            }
        }
    }

    /// Whether the interval between two samples was a stall.
    fn measure(&self, last: &Sample, now: &Sample) -> Option<Stall> {
        let secs = now.at.duration_since(last.at).as_secs_f64();
        if secs <= 0.0 {
            return None;
        }
        match self.version {
            Version::V2 => {
                let micros = secs * 1e6;
                let some = now.some.saturating_sub(last.some) as f64 / micros;
                let full = now.full.saturating_sub(last.full) as f64 / micros;
                (some >= self.options.stall_ratio).then(|| Stall {
                    reason: "psi",
                    detail: format!(
                        "memory.pressure: some task waited for memory {:.0}% \
                         of {secs:.1} s, all tasks {:.0}%",
                        some * 100.0,
                        full * 100.0
                    ),
                    some_pct: Some((some * 100.0).round() as i64),
                    full_pct: Some((full * 100.0).round() as i64),
                    failcnt_per_sec: None,
                })
            }
            Version::V1 => {
                let hits = now.some.saturating_sub(last.some);
                let rate = hits as f64 / secs;
                if self.counters.under_oom {
                    return Some(Stall {
                        reason: "under_oom",
                        detail: format!(
                            "memory.oom_control: under_oom 1 (tasks paused \
                             at the limit, the OOM killer disabled); \
                             memory.failcnt +{hits} in {secs:.1} s"
                        ),
                        some_pct: None,
                        full_pct: None,
                        failcnt_per_sec: Some(rate.round() as i64),
                    });
                }
                (rate >= self.options.failcnt_per_sec).then(|| Stall {
                    reason: "failcnt",
                    detail: format!(
                        "memory.failcnt +{hits} in {secs:.1} s: the cgroup \
                         kept hitting its limit and reclaiming"
                    ),
                    some_pct: None,
                    full_pct: None,
                    failcnt_per_sec: Some(rate.round() as i64),
                })
            }
        }
    }
}

impl Observation {
    /// The event the explain rules see: `oom_kill` without a pid, or
    /// `memory_stall`, with the cgroup's name as `cgroup`.
    pub fn event(
        &self,
        cgroup: &str,
        source: SourceId,
        line: u64,
        time: Timestamp,
    ) -> Event {
        let mut fields: Vec<(Arc<str>, Value)> =
            vec![(Arc::from("cgroup"), Value::Str(cgroup.to_owned()))];
        let mut field = |k: &str, v: Value| fields.push((Arc::from(k), v));
        let (kind, rule) = match self {
            Observation::OomKill {
                file,
                increase,
                count,
                group,
            } => {
                field("counter", Value::Str("oom_kill".into()));
                field("file", Value::Str((*file).into()));
                field("increase", Value::Int(*increase as i64));
                field("count", Value::Int(*count as i64));
                field("signal", Value::Int(9));
                if *group {
                    field("group_kill", Value::Int(1));
                }
                ("oom_kill", "cgroup.oom-kill-counter")
            }
            Observation::Stall(s) => {
                field("reason", Value::Str(s.reason.into()));
                field("detail", Value::Str(s.detail.clone()));
                for (k, v) in [
                    ("some_pct", s.some_pct),
                    ("full_pct", s.full_pct),
                    ("failcnt_per_sec", s.failcnt_per_sec),
                ] {
                    if let Some(v) = v {
                        field(k, Value::Int(v));
                    }
                }
                ("memory_stall", "cgroup.memory-stall")
            }
        };
        Event {
            kind: Arc::from(kind),
            rule: Arc::from(rule),
            fields,
            origin: Origin {
                source,
                line,
                time: Some(time),
                time_inherited: false,
            },
            writer: Writer::default(),
            from_kernel: false,
            text: self.describe(),
        }
    }

    /// One line saying what was observed.
    pub fn describe(&self) -> String {
        match self {
            Observation::OomKill {
                file,
                increase,
                count,
                group,
            } => format!(
                "{file}: oom_kill {} -> {count}{}: the kernel OOM killer \
                 killed {increase} process{} in this cgroup",
                count - increase,
                if *group { " (group kill)" } else { "" },
                if *increase == 1 { "" } else { "es" }
            ),
            Observation::Stall(s) => format!("memory stall: {}", s.detail),
        }
    }
}

/// `oom`, `oom_kill`, `oom_group_kill` (v2 `memory.events`) or
/// `oom_kill`, `under_oom` (v1 `memory.oom_control`) from a flat
/// `key value` file; absent keys read as zero.
fn parse_counters(text: &str) -> Counters {
    let mut c = Counters::default();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(key), Some(value)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(v) = value.parse::<u64>() else {
            continue;
        };
        match key {
            "oom" => c.oom = v,
            "oom_kill" => c.oom_kill = v,
            "oom_group_kill" => c.oom_group_kill = v,
            "under_oom" => c.under_oom = v != 0,
            _ => {}
        }
    }
    c
}

/// The `total=` microseconds of the `some` and `full` lines of a PSI
/// file (`some avg10=0.00 avg60=0.00 avg300=0.00 total=123`).
fn parse_psi(text: &str) -> Option<(u64, u64)> {
    let total = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))?
            .split_whitespace()
            .find_map(|w| w.strip_prefix("total="))?
            .parse::<u64>()
            .ok()
    };
    Some((total("some ")?, total("full ").unwrap_or(0)))
}

/// Ask the kernel to signal an eventfd when this v1 cgroup runs out of
/// memory: write `<eventfd> <fd of memory.oom_control>` to
/// `cgroup.event_control`.
fn register_oom_eventfd(dir: &Path) -> io::Result<(OwnedFd, File)> {
    let control = File::open(dir.join("memory.oom_control"))?;
    // SAFETY: eventfd(2) with valid flags; the result is checked.
    let raw =
        unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a new descriptor that nothing else owns.
    let efd = unsafe { OwnedFd::from_raw_fd(raw) };
    fs::write(
        dir.join("cgroup.event_control"),
        format!("{} {}", efd.as_raw_fd(), control.as_raw_fd()),
    )?;
    Ok((efd, control))
}

/// The cgroup's path inside its hierarchy, as the kernel prints it in an
/// OOM report: the folder relative to the cgroup file system's mount
/// point, under the mount's root (from `/proc/self/mountinfo`). A folder
/// that is not on a cgroup file system keeps its own path.
pub fn kernel_name(dir: &Path) -> String {
    let full = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    let mountinfo =
        fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    name_in_hierarchy(&full, &mountinfo)
        .unwrap_or_else(|| dir.display().to_string())
}

fn name_in_hierarchy(full: &Path, mountinfo: &str) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for line in mountinfo.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let fstype = post.split_whitespace().next().unwrap_or("");
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        let fields: Vec<&str> = pre.split_whitespace().collect();
        let (Some(root), Some(mount)) = (fields.get(3), fields.get(4)) else {
            continue;
        };
        let mount = unescape(mount);
        let Ok(rest) = full.strip_prefix(&mount) else {
            continue;
        };
        if best.as_ref().is_some_and(|(len, _)| *len >= mount.len()) {
            continue;
        }
        let root = unescape(root);
        let mut name = PathBuf::from(&root);
        name.push(rest);
        let mut text = name.display().to_string();
        if text.len() > 1 {
            text = text.trim_end_matches('/').to_owned();
        }
        best = Some((mount.len(), text));
    }
    best.map(|(_, name)| name)
}

/// Undo mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let oct = &field[i + 1..i + 4];
            if let Ok(v) = u8::from_str_radix(oct, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
