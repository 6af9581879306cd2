//! Correlation behaviours on synthetic inputs (lines written here in the
//! formats the real captures have, with times and pids chosen by the
//! test): windows in either direction, ambiguity, and what a weak join
//! says about itself.

use proptest::prelude::*;
use serde_json::Value;
use truecause::input::ByteStream;
use truecause::pipeline::{self, Config, Format};
use truecause::rules::RuleSet;
use truecause::rules::{self, LoadOptions};
use truecause::time::{Timestamp, Zone};

/// The shipped rules, compiled once for all cases.
fn shipped_rules() -> RuleSet {
    static RULES: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    RULES
        .get_or_init(|| rules::load(&LoadOptions::default()).0)
        .clone()
}

fn explain(sources: &[(&str, Vec<String>)]) -> Vec<Value> {
    let rules = shipped_rules();
    let config = Config {
        format: Format::Json,
        annotations_only: true,
        zone: Zone::parse("UTC").unwrap(),
        boot_time: Some(Timestamp(0)),
        ..Config::default()
    };
    let streams = sources
        .iter()
        .map(|(name, lines)| {
            let text: String =
                lines.iter().map(|l| format!("{l}\n")).collect();
            let s: ByteStream =
                Box::new(std::io::Cursor::new(text.into_bytes()));
            (name.to_string(), s)
        })
        .collect();
    let mut out = Vec::new();
    pipeline::run_streams(&config, rules, streams, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `2026-12-03 12:00:00,000` moved by `ms`.
fn python_stamp(ms: i64) -> String {
    let t = Timestamp::parse_user("2026-12-03T12:00:00Z")
        .unwrap()
        .shifted(ms * 1_000_000);
    let iso = t.to_rfc3339();
    format!("{} {},{}", &iso[..10], &iso[11..19], &iso[20..23])
}

/// `2026-12-03T12:00:00,000000+00:00` moved by `ms`, as dmesg iso writes.
fn dmesg_iso_stamp(ms: i64) -> String {
    let t = Timestamp::parse_user("2026-12-03T12:00:00Z")
        .unwrap()
        .shifted(ms * 1_000_000);
    let iso = t.to_rfc3339();
    format!("{},{}000+00:00", &iso[..19], &iso[20..23])
}

fn kill_line(ms: i64, pid: u32) -> String {
    format!(
        "{} Memory cgroup out of memory: Killed process {pid} (claude) total-vm:1180680kB, anon-rss:195836kB, file-rss:40788kB, shmem-rss:0kB, UID:0 pgtables:844kB oom_score_adj:0",
        dmesg_iso_stamp(ms)
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A child's exit is explained by the kill of its pid whether the
    /// kernel line comes before or after it, within the window; outside,
    /// it is a SIGKILL without OOM evidence.
    #[test]
    fn synthetic_join_holds_in_either_order_within_the_window(offset_s in -80i64..20) {
        let worker = vec![format!(
            "{} ERROR worker[100]: child 4242 exited with returncode -9",
            python_stamp(0)
        )];
        let kernel = vec![kill_line(offset_s * 1000, 4242)];
        let found = explain(&[("worker.log", worker), ("kern.log", kernel)]);
        prop_assert_eq!(found.len(), 1);
        let e = &found[0];
        // The rule's window: 65 s before, 10 s after, plus 2 s of skew.
        let inside = (-67..=12).contains(&offset_s);
        let want = if inside { "oom_kill" } else { "sigkill" };
        prop_assert_eq!(&e["cause"]["kind"], want, "offset {}s: {}", offset_s, e);
        prop_assert_eq!(&e["cause"]["pid"], 4242);
    }
}

#[test]
fn synthetic_kill_of_another_pid_is_only_a_caveated_guess() {
    // The log's pid 4242 may be a container's view of the host's 5555;
    // with nothing else linking them, that is said, at low confidence.
    let worker = vec![format!(
        "{} ERROR worker[100]: child 4242 exited with returncode -9",
        python_stamp(0)
    )];
    let kernel = vec![kill_line(-500, 5555)];
    let found = explain(&[("worker.log", worker), ("kern.log", kernel)]);
    let e = &found[0];
    assert_eq!(e["confidence"], "low", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("pid 4242"), "{message}");
    assert!(message.contains("container"), "{message}");
}

#[test]
fn synthetic_two_same_name_kills_without_task_tables_are_ambiguous() {
    let worker = vec![format!(
        "{} ERROR app: Fatal error in message reader: Command failed with exit code -9 (exit code: -9)",
        python_stamp(0)
    )];
    let kernel = vec![kill_line(-3000, 11), kill_line(-800, 22)];
    let found = explain(&[("worker.log", worker), ("kern.log", kernel)]);
    assert_eq!(found.len(), 1);
    let e = &found[0];
    assert_eq!(e["cause"]["kind"], "oom_kill");
    assert_eq!(e["cause"]["pid"], 22, "the nearest is taken");
    assert_eq!(e["confidence"], "medium");
    assert_eq!(e["candidates"], 2);
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("ambiguous"), "{message}");
    assert!(
        message.contains("only the process name and time"),
        "{message}"
    );
}

#[test]
fn synthetic_timeout_with_no_kill_in_the_window_does_not_blame_memory() {
    let worker = vec![format!(
        "{} ERROR app: Exception: Control request timeout: initialize",
        python_stamp(0)
    )];
    let kernel = vec![kill_line(-600_000, 22)];
    let found = explain(&[("worker.log", worker), ("kern.log", kernel)]);
    assert!(
        found.iter().all(|e| e["cause"]["kind"] != "oom_kill"),
        "{found:?}"
    );
}
