//! Kernel OOM reports: the lines of one kill, gathered into its
//! `oom_kill` event.
//!
//! The kernel prints a kill as a burst of lines: `... invoked
//! oom-killer`, the memory counters (`memory: usage ..kB, limit ..kB`),
//! the `Tasks state` table of every process in the cgroup that ran out,
//! the `oom-kill:constraint=...` summary, and finally `Killed process N
//! (comm)`. Only the last names the victim, but the others hold what an
//! explanation needs: the limit, the cgroup, and who else was there.
//! [`Assembler`] keeps the burst per source and copies it onto the kill.

use std::collections::HashMap;
use std::sync::Arc;

use crate::event::{Event, Value};
use crate::record::SourceId;
use crate::time::NANOS_PER_SEC;

/// One row of a kernel report's `Tasks state` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRow {
    pub pid: i64,
    pub comm: String,
    pub rss_pages: Option<i64>,
}

/// What the lines before a kill said.
#[derive(Debug, Default)]
struct Report {
    started: Option<i64>,
    fields: Vec<(Arc<str>, Value)>,
    tasks: Vec<TaskRow>,
}

/// A burst older than this when its kill line arrives is not the kill's.
const REPORT_SPAN: i64 = 5 * NANOS_PER_SEC;

/// The most task rows kept per report; a huge cgroup's table is cut.
const MAX_TASKS: usize = 4096;

/// Gathers report lines per source.
#[derive(Debug, Default)]
pub struct Assembler {
    open: HashMap<SourceId, Report>,
    /// Task rows dropped because a table passed [`MAX_TASKS`].
    pub dropped_tasks: u64,
}

impl Assembler {
    /// Take in a kernel event. Returns the task table to attach when the
    /// event is a kill (the event itself is enriched in place).
    pub fn observe(&mut self, event: &mut Event) -> Option<Arc<Vec<TaskRow>>> {
        let source = event.origin.source;
        let now = event.origin.time.map(|t| t.0);
        match &*event.kind {
            "oom_invoke" => {
                let mut report = Report {
                    started: now,
                    ..Report::default()
                };
                if let Some(comm) = event.str("comm") {
                    report
                        .fields
                        .push((Arc::from("invoker"), Value::Str(comm.into())));
                }
                self.open.insert(source, report);
                None
            }
            "memcg_usage" => {
                let report = self.open.entry(source).or_default();
                for key in ["usage_kb", "limit_kb", "failcnt"] {
                    if let Some(v) = event.get(key)
                        && !report.fields.iter().any(|(k, _)| &**k == key)
                    {
                        report.fields.push((Arc::from(key), v.clone()));
                    }
                }
                None
            }
            "oom_task" => {
                let report = self.open.entry(source).or_default();
                if report.tasks.len() >= MAX_TASKS {
                    self.dropped_tasks += 1;
                } else if let (Some(pid), Some(comm)) =
                    (event.int("pid"), event.str("comm"))
                {
                    report.tasks.push(TaskRow {
                        pid,
                        comm: comm.to_owned(),
                        rss_pages: event.int("rss_pages"),
                    });
                }
                None
            }
            "oom_summary" | "memcg_killed_as_result" => {
                let report = self.open.entry(source).or_default();
                for (k, v) in &event.fields {
                    if matches!(&**k, "pid" | "comm" | "uid") {
                        continue;
                    }
                    report.fields.retain(|(old, _)| old != k);
                    report.fields.push((k.clone(), v.clone()));
                }
                None
            }
            "oom_kill" => {
                let report = self.open.get(&source)?;
                let fresh = match (report.started, now) {
                    (Some(s), Some(n)) => n - s <= REPORT_SPAN,
                    _ => true,
                };
                if !fresh {
                    self.open.remove(&source);
                    return None;
                }
                for (k, v) in &report.fields {
                    if event.get(k).is_none() {
                        event.fields.push((k.clone(), v.clone()));
                    }
                }
                if event.get("cgroup").is_none()
                    && let Some(cg) =
                        event.str("task_memcg").map(str::to_owned)
                {
                    event.set("cgroup", Value::Str(cg));
                }
                let comm = event.str("comm").map(str::to_owned);
                if let Some(comm) = comm
                    && !report.tasks.is_empty()
                {
                    let alive = report
                        .tasks
                        .iter()
                        .filter(|t| same_comm(&t.comm, &comm))
                        .count();
                    event.set("same_name_alive", Value::Int(alive as i64));
                    event.set(
                        "tasks_in_cgroup",
                        Value::Int(report.tasks.len() as i64),
                    );
                }
                // The report stays open: a group kill names several
                // victims after one table.
                (!report.tasks.is_empty())
                    .then(|| Arc::new(report.tasks.clone()))
            }
            _ => None,
        }
    }
}

/// Process names as the kernel keeps them: cut to 15 bytes. Two names
/// are the same process name if they agree on those bytes.
pub fn same_comm(a: &str, b: &str) -> bool {
    let cut = |s: &str| {
        let bytes = s.as_bytes();
        bytes[..bytes.len().min(15)].to_vec()
    };
    a == b || cut(a) == cut(b)
}

#[cfg(test)]
mod tests {
    use super::same_comm;

    #[test]
    fn comm_compares_on_the_kernels_fifteen_bytes() {
        assert!(same_comm("chromium-browser-x", "chromium-browse"));
        assert!(same_comm("claude", "claude"));
        assert!(!same_comm("claude", "node"));
    }
}
