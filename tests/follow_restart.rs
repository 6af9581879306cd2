//! Restarts with `--state`: truecause is killed at random points (SIGKILL,
//! as a crash, and SIGTERM, as a stop) while a writer goes on writing and
//! rotating, and started again from its checkpoint. Across all the runs,
//! every line must come out, in order; a crash may repeat only the lines
//! in flight when it happened, a stop none.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use common::{Running, SECOND};

/// Most lines a crash may repeat: those written out after the last
/// checkpoint, one batch. The writer writes a line every 2 ms and a
/// batch is what arrived since the last wake, so this is generous.
const MAX_REPEATED: usize = 50;

/// Writes numbered lines, and rotates the file (rename and re-create, or
/// copy and truncate) now and then, but only while truecause runs: a
/// file created and rotated away while nobody watches cannot be found.
fn writer(
    path: PathBuf,
    stop: Arc<AtomicBool>,
    up: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
) {
    let mut n = 0u64;
    let mut rotations = 0u32;
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        writeln!(file, "restart line {n}").unwrap();
        count.store(n, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(2));
        if n.is_multiple_of(150) && up.load(Ordering::SeqCst) {
            rotations += 1;
            let aside = format!("{}.{rotations}", path.display());
            if rotations.is_multiple_of(2) {
                fs::rename(&path, &aside).unwrap();
                file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .unwrap();
            } else {
                fs::copy(&path, &aside).unwrap();
                OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
            }
        }
    }
}

fn start(log: &Path, state: &Path) -> Running {
    Running::start_ready(&[
        "--follow",
        "--from",
        "start",
        "--state",
        state.to_str().unwrap(),
        log.to_str().unwrap(),
    ])
}

/// The line numbers of one run's output.
fn numbers(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .map(|l| {
            l.strip_prefix("restart line ")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected output line {l:?}"))
        })
        .collect()
}

#[test]
fn restarts_from_the_checkpoint_lose_nothing_and_repeat_only_what_was_in_flight()
 {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("worker.log");
    let state = dir.path().join("state.json");
    let stop = Arc::new(AtomicBool::new(false));
    let up = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let w = {
        let (log, stop, up, count) =
            (log.clone(), stop.clone(), up.clone(), count.clone());
        thread::spawn(move || writer(log, stop, up, count))
    };

    let mut runs: Vec<(bool, Vec<u64>)> = Vec::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..8 {
        let tc = start(&log, &state);
        up.store(true, Ordering::SeqCst);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        thread::sleep(Duration::from_millis(150 + seed % 350));
        up.store(false, Ordering::SeqCst);
        // Every other restart is a crash.
        let crash = round % 2 == 0;
        let (_, lines, stderr) = if crash {
            tc.signal(libc::SIGKILL);
            tc.finish(10 * SECOND)
        } else {
            tc.stop()
        };
        assert!(
            !stderr.contains("ERROR") && !stderr.contains("WARN"),
            "round {round}: {stderr}"
        );
        runs.push((crash, numbers(&lines)));
    }

    // The last run reads to the end.
    stop.store(true, Ordering::SeqCst);
    w.join().unwrap();
    let total = count.load(Ordering::SeqCst);
    let tc = start(&log, &state);
    let caught_up = tc.wait_for(10 * SECOND, |l| {
        l.last()
            .is_some_and(|x| x == &format!("restart line {total}"))
    });
    let (code, lines, _) = tc.stop();
    assert!(caught_up && code == Some(0), "last run did not catch up");
    runs.push((false, numbers(&lines)));

    check_runs(&runs, total);
}

/// Each run's lines in order; each run goes on where the one before
/// stopped, without a gap; after a crash a few lines may come again,
/// after a stop none; and in the end every line came out.
fn check_runs(runs: &[(bool, Vec<u64>)], total: u64) {
    let mut next = 1u64;
    for (i, (_, nums)) in runs.iter().enumerate() {
        let crashed_before = i > 0 && runs[i - 1].0;
        assert!(
            nums.windows(2).all(|w| w[1] == w[0] + 1),
            "run {i}: lines out of order or missing: {nums:?}"
        );
        let Some(&first) = nums.first() else { continue };
        assert!(first <= next, "run {i}: lines {next}..{first} lost");
        let repeated = (next - first) as usize;
        if crashed_before {
            assert!(repeated <= MAX_REPEATED, "run {i}: {repeated} repeated");
        } else {
            assert_eq!(repeated, 0, "run {i}: lines repeated after a stop");
        }
        next = next.max(*nums.last().unwrap() + 1);
    }
    assert_eq!(next, total + 1, "every line came out");
}

#[test]
fn kernel_log_resumes_after_its_last_record() {
    if !common::is_root() || fs::metadata("/dev/kmsg").is_err() {
        common::skip_or_fail("needs root to write to /dev/kmsg");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let tag = format!("truecause-restart-{}", std::process::id());
    let state_arg = state.to_str().unwrap().to_owned();
    let mut runs = Vec::new();
    let mut written = 0;
    let number = |lines: Vec<String>| -> Vec<u64> {
        lines
            .iter()
            .filter(|l| l.contains(&tag))
            .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
            .collect()
    };
    for round in 0..4 {
        let tc = Running::start_ready(&["--kmsg", "--state", &state_arg]);
        for _ in 0..5 {
            written += 1;
            fs::write("/dev/kmsg", format!("<6>{tag} record {written}\n"))
                .unwrap();
        }
        let last = format!("{tag} record {written}");
        assert!(tc.wait_line(&last, 5 * SECOND), "round {round}");
        let crash = round % 2 == 1;
        tc.signal(if crash { libc::SIGKILL } else { libc::SIGTERM });
        let (_, lines, _) = tc.finish(10 * SECOND);
        runs.push((crash, number(lines)));
        // Logged while truecause is down: read after the restart, since
        // the checkpoint holds the sequence number.
        written += 1;
        fs::write("/dev/kmsg", format!("<6>{tag} record {written}\n"))
            .unwrap();
    }
    let tc = Running::start_ready(&["--kmsg", "--state", &state_arg]);
    let last = format!("{tag} record {written}");
    assert!(tc.wait_line(&last, 5 * SECOND));
    let (_, lines, _) = tc.stop();
    runs.push((false, number(lines)));
    check_runs(&runs, written);
}
