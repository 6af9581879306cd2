//! The command line on the real captures in `fixtures/`: each was made on
//! this project's machine by the capture script in its folder, so the
//! pids, times and wording below are what the kernel, the Claude Agent
//! SDK and Python actually wrote.

mod common;

use common::{
    explanations, fixture, line_of, meta, parse_lines, truecause_for,
};
use serde_json::Value;

fn symptom_lines(found: &[Value]) -> Vec<u64> {
    found
        .iter()
        .map(|e| e["symptom"]["line"].as_u64().unwrap())
        .collect()
}

#[test]
fn sdk_oom_every_symptom_names_the_oom_killed_cli() {
    let dir = fixture("sdk-oom");
    let victim = &meta(&dir)["oom_victims"][0];
    let found = explanations(&dir, &["worker.log", "dmesg.txt"]);

    let fatal = line_of(&dir, "worker.log", "Fatal error in message reader");
    let process_error = line_of(&dir, "worker.log", "_errors.ProcessError");
    let exit_line = line_of(&dir, "worker.log", "exited with returncode -9");
    assert_eq!(symptom_lines(&found), [fatal, process_error, exit_line]);

    let kill_line = line_of(&dir, "dmesg.txt", "Killed process");
    for e in &found {
        assert_eq!(e["type"], "explanation");
        assert_eq!(e["confidence"], "high", "{e}");
        let cause = &e["cause"];
        assert_eq!(cause["kind"], "oom_kill");
        assert_eq!(cause["pid"], victim["pid"]);
        assert_eq!(cause["comm"], "claude");
        assert_eq!(cause["source"], "dmesg.txt");
        assert_eq!(cause["line"], kill_line);
        assert_eq!(cause["constraint"], "CONSTRAINT_MEMCG");
        assert_eq!(cause["cgroup"], meta(&dir)["cgroup_path"]);
        assert_eq!(
            cause["limit_kb"].as_i64().unwrap() * 1024,
            meta(&dir)["memory_limit_bytes"].as_i64().unwrap()
        );
        assert_eq!(cause["same_name_alive"], 2);
        let message = e["message"].as_str().unwrap();
        let pid = victim["pid"].to_string();
        assert!(
            message.contains(&format!("claude (pid {pid})")),
            "{message}"
        );
        let limit_mib =
            meta(&dir)["memory_limit_bytes"].as_i64().unwrap() >> 20;
        assert!(
            message.contains(&format!("limit {limit_mib} MiB")),
            "{message}"
        );
        assert_eq!(e["symptom"]["source"], "worker.log");
    }

    // The SDK never logs the CLI's pid: the first symptom is joined
    // through the worker's own pid in the kernel's task table.
    assert_eq!(
        found[0]["joined_on"],
        serde_json::json!(["writer_in_tasks", "victim"])
    );
    // A traceback line belongs to the record it follows, so it is the
    // worker's too.
    assert_eq!(found[1]["joined_on"], found[0]["joined_on"]);
    assert_eq!(found[2]["joined_on"], serde_json::json!(["pid"]));
}

#[test]
fn sdk_oom_reads_the_same_from_every_kernel_log_form() {
    let dir = fixture("sdk-oom");
    let victim = meta(&dir)["oom_victims"][0]["pid"].clone();
    let from_dmesg = explanations(&dir, &["worker.log", "dmesg.txt"]);
    for kernel in ["dmesg-iso.txt", "kmsg.txt", "syslog.txt"] {
        let found = explanations(&dir, &["worker.log", kernel]);
        assert_eq!(found.len(), from_dmesg.len(), "{kernel}");
        for (a, b) in found.iter().zip(&from_dmesg) {
            assert_eq!(a["cause"]["pid"], victim, "{kernel}");
            assert_eq!(a["cause"]["source"], kernel);
            assert_eq!(a["symptom"]["line"], b["symptom"]["line"], "{kernel}");
            // The same instant, whichever form the stamp had (dmesg
            // stamps are microseconds; syslog's are whole seconds).
            let ta = a["cause"]["time"].as_str().unwrap();
            let tb = b["cause"]["time"].as_str().unwrap();
            assert_eq!(ta[..19], tb[..19], "{kernel}");
        }
    }
}

#[test]
fn sdk_timeout_sixty_seconds_after_the_kill_is_still_explained() {
    let dir = fixture("sdk-oom-timeout");
    let victim = meta(&dir)["oom_victims"][0]["pid"].clone();
    let found = explanations(&dir, &["worker.log", "dmesg.txt"]);
    let timeout =
        line_of(&dir, "worker.log", "Control request timeout: initialize");
    let e = found
        .iter()
        .find(|e| e["symptom"]["line"] == timeout)
        .expect("the timeout line is explained");
    assert_eq!(e["cause"]["kind"], "oom_kill");
    assert_eq!(e["cause"]["pid"], victim);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("59 s before this line")
    );
}

#[test]
fn subprocess_oom_each_killed_child_names_its_victim() {
    let dir = fixture("subprocess-oom");
    let victims: Vec<Value> = meta(&dir)["oom_victims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["pid"].clone())
        .collect();
    let found = explanations(&dir, &["worker.log", "dmesg.txt"]);
    assert_eq!(found.len(), victims.len());
    for e in &found {
        assert_eq!(e["cause"]["kind"], "oom_kill");
        assert!(victims.contains(&e["cause"]["pid"]), "{e}");
        let text = e["symptom"]["text"].as_str().unwrap();
        assert!(text.contains(&format!("child {} exited", e["cause"]["pid"])));
    }
}

#[test]
fn kill9_is_a_sigkill_without_oom_evidence() {
    let dir = fixture("kill9");
    let m = meta(&dir);
    let found = explanations(&dir, &["worker.log", "dmesg.txt"]);
    assert!(!found.is_empty());
    for e in &found {
        assert_eq!(e["cause"]["kind"], "sigkill", "{e}");
        assert_eq!(e["cause"]["pid"], m["killed_by_signal"]["pid"]);
        assert_eq!(e["cause"]["source"], "worker.log");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains("no OOM kill"), "{message}");
    }
}

#[test]
fn text_output_is_the_input_plus_marked_annotations() {
    let dir = fixture("sdk-oom");
    let out = truecause_for(&dir)
        .args(["worker.log", "dmesg.txt", "--color", "always"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let annotations: Vec<&str> =
        text.lines().filter(|l| l.contains("[truecause]")).collect();
    assert!(
        annotations
            .iter()
            .all(|l| l.starts_with("\x1b[1;33m[truecause]"))
    );

    // Without the marked lines, the output is both inputs' lines,
    // unchanged, each file's in its own order.
    let out = truecause_for(&dir)
        .args(["worker.log", "dmesg.txt"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("[truecause]"))
        .collect();
    let worker = std::fs::read_to_string(dir.join("worker.log")).unwrap();
    let dmesg = std::fs::read_to_string(dir.join("dmesg.txt")).unwrap();
    let mut expected: Vec<&str> =
        worker.lines().chain(dmesg.lines()).collect();
    assert_eq!(kept.len(), expected.len());
    let worker_order: Vec<&str> = kept
        .iter()
        .copied()
        .filter(|l| worker.lines().any(|w| w == *l))
        .collect();
    assert_eq!(worker_order, worker.lines().collect::<Vec<_>>());
    kept.sort_unstable();
    expected.sort_unstable();
    assert_eq!(kept, expected);

    // Each annotation follows its symptom line.
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.contains("Fatal error in message reader"))
        .unwrap();
    assert!(
        lines[i + 1]
            .starts_with("[truecause] root cause: the CLI claude (pid")
    );
}

#[test]
fn json_records_carry_every_line_and_the_explanation() {
    let dir = fixture("sdk-oom");
    let out = truecause_for(&dir)
        .args(["--format", "json", "worker.log", "dmesg.txt"])
        .output()
        .unwrap();
    let records = parse_lines(&out.stdout);
    let worker_lines = std::fs::read_to_string(dir.join("worker.log"))
        .unwrap()
        .lines()
        .count();
    let dmesg_lines = std::fs::read_to_string(dir.join("dmesg.txt"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(records.len(), worker_lines + dmesg_lines);
    assert!(records.iter().all(|r| r["type"] == "record"));
    let explained: Vec<&Value> = records
        .iter()
        .filter(|r| r.get("explanation").is_some())
        .collect();
    assert_eq!(explained.len(), 3);
    for r in explained {
        assert_eq!(r["explanation"]["symptom"]["line"], r["line"]);
        assert!(!r["events"].as_array().unwrap().is_empty());
    }
    let kill = records
        .iter()
        .find(|r| r["text"].as_str().unwrap().contains("Killed process"))
        .unwrap();
    assert_eq!(kill["events"][0]["kind"], "oom_kill");
    assert!(kill["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn celery_worker_lost_ten_seconds_later_is_chained_to_the_kill() {
    let dir = fixture("celery-oom");
    let victim = meta(&dir)["oom_victims"][0]["pid"].clone();
    let found = explanations(&dir, &["worker.log", "dmesg.txt"]);
    let lost = line_of(&dir, "worker.log", "WorkerLostError(");
    let pid_line =
        line_of(&dir, "worker.log", "exited with 'signal 9 (SIGKILL)'");
    for line in [pid_line, lost] {
        let e = found
            .iter()
            .find(|e| e["symptom"]["line"] == line)
            .unwrap_or_else(|| panic!("line {line} explained"));
        assert_eq!(e["cause"]["kind"], "oom_kill", "{e}");
        assert_eq!(e["cause"]["pid"], victim);
        assert_eq!(e["cause"]["comm"], "celery");
    }
}
