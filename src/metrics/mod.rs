//! Health for operators: what a follow run has read and said, as
//! Prometheus text.
//!
//! The follow loop keeps a [`Snapshot`] up to date after each batch of
//! lines (one lock per batch, none per line); [`server`] answers
//! `GET /metrics` from it on a thread of its own. docs/sidecar.md lists
//! every metric.

pub mod server;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// One source's health.
#[derive(Clone, Debug)]
pub struct SourceHealth {
    pub name: String,
    /// `file`, `kmsg` or `cgroup`.
    pub kind: &'static str,
    pub lines: u64,
    /// When the source last produced a line (or, for a cgroup, an
    /// event); `None` before the first.
    pub last_line: Option<Instant>,
    /// False while the source cannot be read.
    pub up: bool,
    pub rotations: u64,
    pub truncations: u64,
}

impl SourceHealth {
    pub fn new(name: String, kind: &'static str) -> SourceHealth {
        SourceHealth {
            name,
            kind,
            lines: 0,
            last_line: None,
            up: true,
            rotations: 0,
            truncations: 0,
        }
    }
}

/// Everything the metrics say.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub sources: Vec<SourceHealth>,
    /// Explanations by root cause kind.
    pub explanations: BTreeMap<String, u64>,
    /// Events the correlator dropped before their window closed.
    pub dropped_events: u64,
    /// Symptoms decided early because too many were pending.
    pub forced_decisions: u64,
    pub kmsg_lost: u64,
}

/// The shared metrics of one run.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    snapshot: Mutex<Snapshot>,
}

impl Metrics {
    pub fn new(sources: Vec<SourceHealth>) -> Metrics {
        Metrics {
            started: Instant::now(),
            snapshot: Mutex::new(Snapshot {
                sources,
                ..Snapshot::default()
            }),
        }
    }

    /// Change the snapshot.
    pub fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        if let Ok(mut s) = self.snapshot.lock() {
            change(&mut s);
        }
    }

    /// The Prometheus text exposition (format 0.0.4) as of `now`.
    pub fn render(&self, now: Instant) -> String {
        let s = match self.snapshot.lock() {
            Ok(s) => s.clone(),
            Err(_) => return String::new(),
        };
        let mut out = String::with_capacity(2048);
        let per_source =
            |out: &mut String,
             name: &str,
             kind: &str,
             help: &str,
             value: &dyn Fn(&SourceHealth) -> String| {
                head(out, name, kind, help);
                for src in &s.sources {
                    let _ = writeln!(
                        out,
                        "{name}{{source=\"{}\",kind=\"{}\"}} {}",
                        escape(&src.name),
                        src.kind,
                        value(src)
                    );
                }
            };
        per_source(
            &mut out,
            "truecause_lines_total",
            "counter",
            "Lines read, per source (events, for a cgroup).",
            &|src| src.lines.to_string(),
        );
        per_source(
            &mut out,
            "truecause_source_idle_seconds",
            "gauge",
            "Seconds since the source last produced a line (since start \
             when it has produced none).",
            &|src| {
                let since = src.last_line.unwrap_or(self.started);
                format!("{:.3}", now.duration_since(since).as_secs_f64())
            },
        );
        per_source(
            &mut out,
            "truecause_source_up",
            "gauge",
            "1 while the source can be read, 0 while it cannot.",
            &|src| u8::from(src.up).to_string(),
        );
        per_source(
            &mut out,
            "truecause_rotations_total",
            "counter",
            "Times a followed name came to stand for another file.",
            &|src| src.rotations.to_string(),
        );
        per_source(
            &mut out,
            "truecause_truncations_total",
            "counter",
            "Times a followed file was truncated in place.",
            &|src| src.truncations.to_string(),
        );

        head(
            &mut out,
            "truecause_explanations_total",
            "counter",
            "Explanations printed, per root cause kind.",
        );
        for (cause, n) in &s.explanations {
            let _ = writeln!(
                out,
                "truecause_explanations_total{{cause=\"{}\"}} {n}",
                escape(cause)
            );
        }
        for (name, help, value) in [
            (
                "truecause_dropped_events_total",
                "Events dropped by the correlator's bound before their \
                 window closed.",
                s.dropped_events,
            ),
            (
                "truecause_forced_decisions_total",
                "Symptoms decided early because too many were pending.",
                s.forced_decisions,
            ),
            (
                "truecause_kmsg_lost_records_total",
                "Kernel log records overwritten before they were read.",
                s.kmsg_lost,
            ),
        ] {
            head(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {value}");
        }
        head(
            &mut out,
            "truecause_uptime_seconds",
            "gauge",
            "Seconds since truecause started following.",
        );
        let _ = writeln!(
            out,
            "truecause_uptime_seconds {:.3}",
            now.duration_since(self.started).as_secs_f64()
        );
        out
    }
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_with_source_labels() {
        let m = Metrics::new(vec![
            SourceHealth::new("worker.log".into(), "file"),
            SourceHealth::new("/dev/kmsg".into(), "kmsg"),
        ]);
        m.update(|s| {
            s.sources[0].lines = 12;
            s.explanations.insert("oom_kill".into(), 2);
            s.kmsg_lost = 3;
        });
        let text = m.render(Instant::now());
        for want in [
            "truecause_lines_total{source=\"worker.log\",kind=\"file\"} 12",
            "truecause_explanations_total{cause=\"oom_kill\"} 2",
            "truecause_kmsg_lost_records_total 3",
            "truecause_source_up{source=\"/dev/kmsg\",kind=\"kmsg\"} 1",
            "# TYPE truecause_source_idle_seconds gauge",
        ] {
            assert!(text.contains(want), "{want} missing in:\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
