//! Opening follow mode's sources: the checkpoint to start from, the
//! followed files, the kernel log, the memory cgroup and the metrics
//! server. A source that cannot be opened at all is an error that stops
//! the run; a followed file that is missing is not (it is waited for).

use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use super::super::source::Source;
use super::super::{Config, lower};
use super::checkpoint::kmsg_start;
use super::health::Tracked;
use super::{FollowConfig, FromWhere};
use crate::input::cgroup::{self, Cgroup};
use crate::input::follow::{self, FollowedFile, Start};
use crate::input::kmsg::Kmsg;
use crate::input::state::State;
use crate::input::watch::Watch;
use crate::metrics::{Metrics, server};
use crate::record::SourceId;
use crate::time;

/// The memory cgroup and its source.
pub(super) struct CgroupInput {
    pub(super) cg: Cgroup,
    pub(super) id: SourceId,
    pub(super) observed: u64,
    /// Raised by the notification thread when `memory.events` changed.
    pub(super) changed: Arc<AtomicBool>,
    pub(super) failing: bool,
}

/// The checkpoint to start from; a bad one is reported and ignored.
pub(super) fn load_state(fc: &FollowConfig) -> Option<State> {
    let path = fc.state.as_ref()?;
    match State::load(path) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("{e}; starting as if there were no checkpoint");
            None
        }
    }
}

/// The followed files, from the checkpoint or `--from`, watched.
pub(super) fn files(
    config: &Config,
    fc: &FollowConfig,
    state: &Option<State>,
    watch: &mut Watch,
    tracked: &mut Vec<Tracked>,
    now: Instant,
) -> Vec<Source<FollowedFile>> {
    let opts = follow::Options {
        max_line: config.max_line,
        rotate_wait: fc.rotate_wait,
        ..follow::Options::default()
    };
    let mut files = Vec::new();
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
        let followed = FollowedFile::new(path.clone(), start, opts.clone());
        watch.name(path);
        let id = tracked.len() as SourceId;
        files.push(Source::with_lines(
            id,
            name.clone(),
            followed,
            config,
            time::now(),
        ));
        tracked.push(Tracked::new(name, "file", now));
    }
    files
}

/// The kernel log, from the checkpoint's record or its end.
pub(super) fn kmsg(
    config: &Config,
    fc: &FollowConfig,
    state: &Option<State>,
    tracked: &mut Vec<Tracked>,
    now: Instant,
) -> io::Result<Option<Source<Kmsg>>> {
    let Some(path) = &fc.kmsg else {
        return Ok(None);
    };
    let id = tracked.len() as SourceId;
    let name = path.display().to_string();
    let (start, lines) = kmsg_start(state, &name);
    let k = Kmsg::open(path, start, lines).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("{name}: cannot read the kernel log: {}", lower(&e)),
        )
    })?;
    tracked.push(Tracked::new(name.clone(), "kmsg", now));
    Ok(Some(Source::with_lines(id, name, k, config, time::now())))
}

/// The memory cgroup, its `memory.events` watched (v2).
pub(super) fn cgroup(
    fc: &FollowConfig,
    watch: &mut Watch,
    tracked: &mut Vec<Tracked>,
    now: Instant,
) -> io::Result<Option<CgroupInput>> {
    let Some(dir) = &fc.cgroup else {
        return Ok(None);
    };
    let id = tracked.len() as SourceId;
    let cg = Cgroup::open(dir, fc.cgroup_options)
        .map_err(|e| io::Error::other(e.to_string()))?;
    let changed = Arc::new(AtomicBool::new(false));
    if let Some(events) = cg.events_file() {
        watch.file(&events, changed.clone());
    }
    let version = match cg.version() {
        cgroup::Version::V1 => 1,
        cgroup::Version::V2 => 2,
    };
    tracing::info!(
        "{}: watching memory cgroup {} (v{version})",
        dir.display(),
        cg.name()
    );
    tracked.push(Tracked::new(dir.display().to_string(), "cgroup", now));
    Ok(Some(CgroupInput {
        cg,
        id,
        observed: 0,
        changed,
        failing: false,
    }))
}

/// The metrics server, when asked for.
pub(super) fn metrics(
    fc: &FollowConfig,
    tracked: &[Tracked],
) -> io::Result<Option<Arc<Metrics>>> {
    let Some(addr) = fc.metrics else {
        return Ok(None);
    };
    let m = Arc::new(Metrics::new(
        tracked.iter().map(|t| t.health.clone()).collect(),
    ));
    let bound = server::serve(addr, m.clone()).map_err(|e| {
        io::Error::new(e.kind(), format!("--metrics {addr}: {}", lower(&e)))
    })?;
    tracing::info!("metrics at http://{bound}/metrics");
    Ok(Some(m))
}
