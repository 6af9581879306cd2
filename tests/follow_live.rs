//! Follow mode's live behaviour, through the binary: lines pass at once,
//! an explanation comes as soon as its evidence does, a waiting symptom
//! holds nothing back, signals flush, a gone reader ends quietly, and the
//! kernel log, a cgroup's counters and the metrics work end to end.
//!
//! The log lines these tests write are made up in the formats of the
//! real ones (Python logging, `dmesg --time-format iso`, kmsg records):
//! the tests that use them say `synthetic` in their names.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use common::{Running, SECOND, append};

/// A Python logging stamp for now, in UTC.
fn py_now() -> String {
    Utc::now().format("%Y-%m-%d %H:%M:%S,%3f").to_string()
}

/// A `dmesg --time-format iso` stamp for now.
fn iso_now() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S,%6f+00:00").to_string()
}

fn child_exit_line(pid: u32) -> String {
    format!(
        "{} ERROR worker[4100]: job 1: child {pid} exited with returncode -9 \
         after 2.1s (0 bytes of output)\n",
        py_now()
    )
}

fn kernel_kill_line(pid: u32) -> String {
    format!(
        "{} Memory cgroup out of memory: Killed process {pid} (claude) \
         total-vm:1180680kB, anon-rss:189380kB, file-rss:47360kB, \
         shmem-rss:0kB, UID:0 pgtables:820kB oom_score_adj:0\n",
        iso_now()
    )
}

fn follow(dir: &Path, extra: &[&str], files: &[&str]) -> Running {
    let mut args: Vec<String> =
        vec!["--follow".into(), "--tz".into(), "UTC".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(files.iter().map(|f| dir.join(f).display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Running::start_ready(&refs)
}

#[test]
fn lines_pass_through_as_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    fs::write(&log, "before the start\n").unwrap();
    let tc = follow(dir.path(), &[], &["worker.log"]);
    append(&log, "first\n");
    assert!(tc.wait_line("first", 5 * SECOND), "{:?}", tc.lines());
    append(&log, "second\n");
    assert!(tc.wait_line("second", 5 * SECOND));
    let (code, lines, _) = tc.stop();
    assert_eq!(code, Some(0));
    assert_eq!(
        lines,
        ["first", "second"],
        "--from end skips what was there"
    );
}

#[test]
fn synthetic_an_explanation_comes_as_soon_as_its_evidence_does() {
    let dir = tempfile::tempdir().unwrap();
    let tc = follow(
        dir.path(),
        &["--from", "start"],
        &["worker.log", "kern.log"],
    );
    append(&dir.path().join("worker.log"), &child_exit_line(4242));
    append(&dir.path().join("kern.log"), &kernel_kill_line(4242));
    // The join by pid is certain: no need to wait for the window (10 s
    // after the symptom, plus the allowed skew) to close.
    assert!(
        tc.wait_line("killed by the kernel OOM killer", 4 * SECOND),
        "{:?}",
        tc.lines()
    );
    let (code, lines, _) = tc.stop();
    assert_eq!(code, Some(0));
    let text = lines.join("\n");
    assert!(text.contains("claude (pid 4242)"), "{text}");
    assert!(text.contains("[high confidence, oom_kill]"), "{text}");
}

#[test]
fn synthetic_a_waiting_symptom_holds_back_no_other_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    let tc = follow(dir.path(), &["--from", "start"], &["worker.log"]);
    append(&log, &child_exit_line(777));
    assert!(tc.wait_line("child 777", 5 * SECOND));
    append(&log, "an unrelated line\n");
    assert!(tc.wait_line("an unrelated line", 5 * SECOND));
    assert!(
        !tc.lines().iter().any(|l| l.starts_with("[truecause]")),
        "the symptom is still waiting for its window"
    );

    // SIGTERM decides what is pending, prints it, and exits 0.
    let (code, lines, stderr) = tc.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let last = lines.last().unwrap();
    assert!(
        last.contains("worker.log:1: root cause:")
            && last.contains("no OOM kill"),
        "{lines:?}"
    );
}

#[test]
fn a_closed_output_ends_the_program_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    fs::write(&log, "").unwrap();
    let mut child = std::process::Command::new(common::bin())
        .args(["--follow", log.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(child.stdout.take());
    // Nothing is written: the loop notices the reader is gone by itself.
    let deadline = std::time::Instant::now() + 5 * SECOND;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(stderr, "");
}

#[test]
fn synthetic_kmsg_fifo_records_lost_ones_and_dictionary_lines() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("kmsg");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let kmsg_arg = format!("--kmsg={}", fifo.display());
    let tc = Running::start_ready(&["--format", "json", &kmsg_arg]);
    let mut w = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    w.write_all(
        b"6,100,1000,-;usb 1-1: new device\n SUBSYSTEM=usb\n\
          6,101,2000,-;next\n6,105,3000,-;after a gap\n",
    )
    .unwrap();
    assert!(tc.wait_line("after a gap", 5 * SECOND), "{:?}", tc.lines());
    let (code, lines, _) = tc.stop();
    assert_eq!(code, Some(0));
    let objs: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dict = objs
        .iter()
        .find(|o| o["text"] == " SUBSYSTEM=usb")
        .expect("dictionary line");
    assert_eq!(dict["continuation"], true);
    assert_eq!(dict["line"], 1, "attached to its record");
    let notice = objs
        .iter()
        .find(|o| o["type"] == "notice")
        .expect("a notice for the lost records");
    assert_eq!(notice["level"], "warning");
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .starts_with("3 kernel log records"),
        "{notice}"
    );
    let pos =
        |t: &str| objs.iter().position(|o| o["text"].as_str() == Some(t));
    assert!(
        objs.iter().position(|o| o["type"] == "notice")
            < pos("6,105,3000,-;after a gap"),
        "the warning comes before the record after the gap"
    );
}

/// A folder laid out like a v2 memory cgroup, written by the test.
fn synthetic_cgroup(dir: &Path) -> std::path::PathBuf {
    let cg = dir.join("cgroup");
    fs::create_dir(&cg).unwrap();
    write_events(&cg, 0);
    write_pressure(&cg, 0);
    cg
}

/// Follow `worker.log` from its start with a synthetic cgroup; `extra`
/// flags added.
fn follow_with_cgroup(
    dir: &Path,
    extra: &[&str],
) -> (std::path::PathBuf, Running) {
    let cg = synthetic_cgroup(dir);
    let cg_arg = cg.display().to_string();
    let mut args = vec!["--from", "start", "--cgroup", &cg_arg];
    args.extend_from_slice(extra);
    let tc = follow(dir, &args, &["worker.log"]);
    (cg, tc)
}

fn write_events(cg: &Path, kills: u64) {
    fs::write(
        cg.join("memory.events"),
        format!("low 0\nhigh 0\nmax 0\noom {kills}\noom_kill {kills}\n"),
    )
    .unwrap();
}

fn write_pressure(cg: &Path, some_us: u64) {
    fs::write(
        cg.join("memory.pressure"),
        format!(
            "some avg10=0.00 avg60=0.00 avg300=0.00 total={some_us}\n\
             full avg10=0.00 avg60=0.00 avg300=0.00 total={some_us}\n"
        ),
    )
    .unwrap();
}

#[test]
fn synthetic_cgroup_kill_count_explains_a_sigkilled_child_without_kernel_log()
{
    let dir = tempfile::tempdir().unwrap();
    let (cg, tc) = follow_with_cgroup(dir.path(), &[]);
    write_events(&cg, 1);
    assert!(
        tc.wait_line("oom_kill 0 -> 1", 5 * SECOND),
        "{:?}",
        tc.lines()
    );
    append(&dir.path().join("worker.log"), &child_exit_line(31337));
    let (code, lines, stderr) = {
        // The cgroup's count names no victim: medium confidence, decided
        // when the window closes, or at SIGTERM.
        std::thread::sleep(Duration::from_millis(500));
        tc.stop()
    };
    assert_eq!(code, Some(0), "{stderr}");
    let text = lines.join("\n");
    assert!(
        text.contains("the child (pid 31337) died of SIGKILL just as the kernel OOM killer killed a process in its memory cgroup"),
        "{text}"
    );
    assert!(text.contains("[medium confidence, oom_kill]"), "{text}");
}

#[test]
fn synthetic_cgroup_memory_stall_explains_an_sdk_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (cg, tc) = follow_with_cgroup(dir.path(), &[]);
    // Pressure is sampled every second: the first sample (as the loop
    // starts) is the base, the next one sees 3 s of stall in about 1 s.
    std::thread::sleep(Duration::from_millis(300));
    write_pressure(&cg, 3_000_000);
    assert!(tc.wait_line("memory stall", 5 * SECOND), "{:?}", tc.lines());
    append(
        &dir.path().join("worker.log"),
        &format!(
            "{} ERROR worker[4100]: Exception: Control request timeout: \
             initialize\n",
            py_now()
        ),
    );
    std::thread::sleep(Duration::from_millis(300));
    let (code, lines, _) = tc.stop();
    assert_eq!(code, Some(0));
    let text = lines.join("\n");
    assert!(
        text.contains("was stalled at its memory limit")
            && text.contains("this is not a protocol error"),
        "{text}"
    );
}

#[test]
fn metrics_count_lines_per_source() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    fs::write(&log, "").unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let tc = follow(dir.path(), &["--metrics", &addr], &["worker.log"]);
    append(&log, "one\ntwo\n");
    assert!(tc.wait_line("two", 5 * SECOND));
    std::thread::sleep(Duration::from_millis(100));
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    let (code, _, _) = tc.stop();
    assert_eq!(code, Some(0));
    let want = format!(
        "truecause_lines_total{{source=\"{}\",kind=\"file\"}} 2",
        log.display()
    );
    assert!(body.contains(&want), "{body}");
    assert!(body.contains("truecause_source_idle_seconds{"), "{body}");
}

#[test]
fn standard_input_cannot_be_followed() {
    let out = std::process::Command::new(common::bin())
        .args(["--follow", "a.log", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be followed")
    );
}

#[test]
fn records_written_to_the_kernel_log_are_read_live() {
    // Writing to /dev/kmsg needs root.
    if !common::is_root() || fs::metadata("/dev/kmsg").is_err() {
        common::skip_or_fail("needs root and /dev/kmsg");
        return;
    }
    let tc = Running::start_ready(&["--kmsg"]);
    let marker =
        format!("truecause-test-{} reads kmsg live", std::process::id());
    fs::write("/dev/kmsg", format!("<6>{marker}\n")).unwrap();
    assert!(tc.wait_line(&marker, 5 * SECOND));
    let (code, lines, _) = tc.stop();
    assert_eq!(code, Some(0));
    assert!(
        lines.iter().all(|l| !l.contains("truecause-test-0")),
        "older records are not read: it starts at the end"
    );
}

#[test]
fn synthetic_cgroup_kill_count_explains_an_sdk_process_error() {
    let dir = tempfile::tempdir().unwrap();
    let (cg, tc) = follow_with_cgroup(dir.path(), &["--format", "json"]);
    write_events(&cg, 1);
    assert!(
        tc.wait_line("oom_kill 0 -> 1", 5 * SECOND),
        "{:?}",
        tc.lines()
    );
    append(
        &dir.path().join("worker.log"),
        &format!(
            "{} ERROR claude_agent_sdk._internal.query[4100]: Fatal error in \
             message reader: Command failed with exit code -9 (exit code: \
             -9)\n",
            py_now()
        ),
    );
    assert!(tc.wait_line("exit code -9", 5 * SECOND));
    let (code, lines, _) = tc.stop();
    assert_eq!(code, Some(0));
    let explanations: Vec<serde_json::Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|o| o["type"] == "explanation")
        .collect();
    let e = explanations.first().expect("explained at SIGTERM");
    assert_eq!(e["rule"], "cgroup.sdk-cli-oom-killed");
    assert_eq!(e["cause"]["kind"], "oom_kill");
    assert_eq!(e["cause"]["counter"], "oom_kill");
    assert_eq!(e["confidence"], "medium");
    assert_eq!(e["joined_on"], serde_json::json!(["cgroup"]));
}
