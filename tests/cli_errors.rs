//! Bad input gets a clear error and loses nothing: an unreadable file is
//! named and the others are still read; a broken rule file is pointed at
//! by file:line:column; a closed pipe ends the program quietly.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use common::fixture;

fn truecause() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("truecause").unwrap()
}

#[test]
fn an_unreadable_file_is_named_and_the_rest_still_read() {
    let dir = fixture("kill9");
    let out = truecause()
        .current_dir(&dir)
        .args(["--tz", "UTC", "no-such-file.log", "worker.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no-such-file.log: no such file or directory"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let worker = std::fs::read_to_string(dir.join("worker.log")).unwrap();
    let kept: String = stdout
        .lines()
        .filter(|l| !l.starts_with("[truecause]"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(kept, worker);
}

#[test]
fn a_broken_rule_file_is_pointed_at_and_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("synthetic-broken.toml");
    std::fs::write(
        &rule,
        "[[pattern]]\nid = \"mine\"\nkind = \"child_exit\"\nregex = '''exited (?P<pid\\d+)'''\n",
    )
    .unwrap();
    let out = truecause()
        .arg("--rules")
        .arg(&rule)
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "{}:4:26: error: pattern \"mine\": the regex does not compile: \
         invalid capture group character; fix it at this column",
        rule.display()
    );
    assert!(stderr.contains(&want), "{stderr}");
}

#[test]
fn bad_flag_values_say_what_to_write() {
    let out = truecause()
        .args(["--boot-time", "yesterday"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("neither RFC 3339 nor epoch seconds")
    );
    let out = truecause()
        .args(["--tz", "Mars"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tz \"Mars\""));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // Enough output that the writer meets the closed pipe mid-stream.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.log");
    let line = "2026-12-03 13:23:12,947 INFO worker[1]: nothing to see here\n";
    std::fs::write(&big, line.repeat(200_000)).unwrap();
    let mut child = Command::cargo_bin("truecause")
        .unwrap()
        .arg(&big)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn stdin_is_a_live_stream_that_still_explains() {
    let dir = fixture("subprocess-oom");
    let worker = std::fs::read_to_string(dir.join("worker.log")).unwrap();
    let kernel = std::fs::read_to_string(dir.join("dmesg-iso.txt")).unwrap();
    // The kernel's lines first, as `journalctl -f` would show them.
    let mut child = Command::cargo_bin("truecause")
        .unwrap()
        .args(["--tz", "UTC", "--annotations-only", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(kernel.as_bytes()).unwrap();
    stdin.write_all(worker.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let found = common::parse_lines(&out.stdout);
    assert!(!found.is_empty());
    assert!(found.iter().all(|e| e["cause"]["kind"] == "oom_kill"));
    assert!(found.iter().all(|e| e["symptom"]["source"] == "-"));
}

#[test]
fn the_shipped_man_page_is_current() {
    let out = truecause().arg("man").output().unwrap();
    let shipped = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/truecause.1"),
    )
    .unwrap();
    assert!(
        out.stdout == shipped,
        "docs/truecause.1 is stale: run `cargo run -- man > docs/truecause.1`"
    );
}

/// A kernel log read with the wrong boot time: the real subprocess-oom
/// capture's `dmesg.txt` placed a day late. Nothing joins, and truecause
/// says so on stderr, naming the file and the boot time it used; with
/// the capture's own boot time there is no such warning and the OOM
/// kill is found.
#[test]
fn a_kernel_log_read_with_the_wrong_boot_time_is_warned_about() {
    let dir = fixture("subprocess-oom");
    let boot = common::meta(&dir)["boot_time"].as_i64().unwrap();
    let run = |boot: i64| {
        truecause()
            .current_dir(&dir)
            .args(["--tz", "UTC", "--boot-time", &boot.to_string()])
            .args(["--annotations-only", "worker.log", "dmesg.txt"])
            .output()
            .unwrap()
    };

    let wrong = run(boot + 86_400);
    assert_eq!(wrong.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains(
            "dmesg.txt: its kernel stamps, counted from the boot time given"
        ) && stderr.contains("pass that boot's wall time with --boot-time"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&wrong.stdout).contains("oom_kill]"));

    let right = run(boot);
    let stderr = String::from_utf8_lossy(&right.stderr);
    assert!(!stderr.contains("kernel stamps"), "{stderr}");
    assert!(String::from_utf8_lossy(&right.stdout).contains("oom_kill]"));
}
