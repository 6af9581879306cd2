//! The fast path against the plain one: replaying the same inputs with
//! literal prefilters (what every run uses) and with every regex on
//! every line ([`Path::Plain`]) must print the same bytes, in text with
//! every line and in JSON explanations, on the real captures in
//! `fixtures/` and on a small synthetic input from the benchmark
//! generator. And `--annotations-only`, which reads only the lines that
//! may yield events, must explain what a run printing every line does.

#[allow(dead_code)]
#[path = "../benches/generate.rs"]
mod generate;

use std::path::{Path as FsPath, PathBuf};

use truecause::input::{self, ByteStream};
use truecause::pipeline::{self, Config, Format, Path, Summary};
use truecause::rules::{self, LoadOptions};
use truecause::time::{Timestamp, Zone};

/// The output of one replay of `files`, and its summary.
fn replay(
    files: &[PathBuf],
    config: &Config,
    path: Path,
) -> (Vec<u8>, Summary) {
    let (set, problems) = rules::load(&LoadOptions::default());
    assert!(
        problems.iter().all(|p| p.warning),
        "shipped rules load: {problems:?}"
    );
    let streams: Vec<(String, ByteStream)> = files
        .iter()
        .map(|f| {
            let stream = input::open_file(f).expect("input opens");
            (f.display().to_string(), stream)
        })
        .collect();
    let mut out = Vec::new();
    let summary =
        pipeline::run_streams_on(config, set, streams, &mut out, path)
            .expect("replay runs");
    (out, summary)
}

/// Replay `files` both ways in every output mode and compare. Returns
/// how many explanations the fast path printed in text mode.
fn assert_paths_agree(files: &[PathBuf], boot_time: Timestamp) -> u64 {
    assert_paths_agree_in(files, boot_time, "UTC")
}

/// [`assert_paths_agree`] with the worker logs read in `zone`.
fn assert_paths_agree_in(
    files: &[PathBuf],
    boot_time: Timestamp,
    zone: &str,
) -> u64 {
    let mut explained = 0;
    for (format, annotations_only) in [
        (Format::Text, false),
        (Format::Text, true),
        (Format::Json, true),
    ] {
        let config = Config {
            format,
            annotations_only,
            boot_time: Some(boot_time),
            zone: Zone::parse(zone).expect("a zone"),
            ..Config::default()
        };
        let (fast, fast_summary) = replay(files, &config, Path::Fast);
        let (plain, plain_summary) = replay(files, &config, Path::Plain);
        if fast != plain {
            let fast = String::from_utf8_lossy(&fast);
            let plain = String::from_utf8_lossy(&plain);
            let at = fast
                .lines()
                .zip(plain.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{files:?} ({format:?}, annotations only: \
                 {annotations_only}): outputs differ from line {}:\n\
                 fast:  {:?}\nplain: {:?}",
                at + 1,
                fast.lines().nth(at),
                plain.lines().nth(at)
            );
        }
        assert_eq!(fast_summary.lines, plain_summary.lines);
        assert_eq!(fast_summary.stats.events, plain_summary.stats.events);
        if format == Format::Text && !annotations_only {
            explained = fast_summary.explanations;
        }
    }
    assert_modes_agree(files, boot_time);
    explained
}

/// `--annotations-only` merges only the lines that yield events and
/// passes over the rest unread; it must still explain what a run that
/// prints every line explains, each symptom the same way.
fn assert_modes_agree(files: &[PathBuf], boot_time: Timestamp) {
    let explanations = |annotations_only: bool| -> Vec<String> {
        let config = Config {
            format: Format::Json,
            annotations_only,
            boot_time: Some(boot_time),
            zone: Zone::parse("UTC").expect("utc"),
            ..Config::default()
        };
        let (out, _) = replay(files, &config, Path::Fast);
        let mut found: Vec<String> = String::from_utf8_lossy(&out)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a json line"))
            .flat_map(|v: serde_json::Value| {
                if annotations_only {
                    vec![v]
                } else {
                    match v.get("explanation") {
                        Some(e) => vec![e.clone()],
                        None => v
                            .get("explanations")
                            .and_then(|e| e.as_array().cloned())
                            .unwrap_or_default(),
                    }
                }
            })
            .map(|v| v.to_string())
            .collect();
        found.sort();
        found
    };
    let every_line = explanations(false);
    let only = explanations(true);
    assert_eq!(
        every_line.len(),
        only.len(),
        "{files:?}: explanations with every line and with annotations only"
    );
    for (a, b) in every_line.iter().zip(&only) {
        assert_eq!(a, b, "{files:?}: an explanation differs between modes");
    }
}

/// Every `fixtures/<scenario>/` with a `meta.json`: its worker log with
/// each of its kernel logs, at the boot time the capture recorded.
fn fixture_runs() -> Vec<(Vec<PathBuf>, Timestamp)> {
    let root = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut runs = Vec::new();
    let Ok(entries) = std::fs::read_dir(&root) else {
        return runs;
    };
    let mut dirs: Vec<PathBuf> =
        entries.filter_map(Result::ok).map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let Ok(meta) = std::fs::read_to_string(dir.join("meta.json")) else {
            continue;
        };
        let meta: serde_json::Value =
            serde_json::from_str(&meta).expect("meta.json parses");
        // A capture with no kernel side (fixtures/parents) has no boot
        // time and nothing to join.
        let Some(boot) = meta["boot_time"].as_i64() else {
            continue;
        };
        let boot = Timestamp::from_parts(boot, 0);
        // The application's log: worker.log, or the one `.log` file a
        // capture of another program (gunicorn.log) has.
        let Some(app) = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .min()
        else {
            continue;
        };
        for kernel in ["dmesg.txt", "dmesg-iso.txt", "kmsg.txt", "syslog.txt"]
        {
            let k = dir.join(kernel);
            if k.exists() {
                runs.push((vec![app.clone(), k], boot));
            }
        }
    }
    runs
}

#[test]
fn fast_and_plain_paths_explain_the_real_captures_alike() {
    let runs = fixture_runs();
    for (files, boot) in &runs {
        assert_paths_agree(files, *boot);
    }
    eprintln!("compared {} fixture replays", runs.len());
}

#[test]
fn fast_and_plain_paths_explain_synthetic_input_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    for seed in [1, 2] {
        let out = dir.path().join(format!("seed-{seed}"));
        generate::generate(&generate::Args {
            seed,
            size: 2_000_000,
            out: out.clone(),
        })
        .expect("generator writes");
        let files = vec![
            out.join("synthetic-worker.log"),
            out.join("synthetic-dmesg.txt"),
        ];
        let boot = Timestamp::from_parts(generate::BOOT_TIME, 0);
        let explained = assert_paths_agree(&files, boot);
        let truth = std::fs::read_to_string(out.join("synthetic-truth.tsv"))
            .expect("truth written");
        assert_eq!(explained, truth.lines().count() as u64, "seed {seed}");
    }
}

/// The synthetic input again, its worker log rewritten SYNTHETICALLY
/// into Python logging's default format (`2026-11-23 00:00:00,313 INFO
/// worker[107]: msg`), with the pid changing from line to line: the
/// every-line merge reads such lines' times the quick way and only the
/// last one's pid, which must leave the same pid as reading each does.
#[test]
fn fast_and_plain_paths_agree_on_python_logging_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("seed-3");
    generate::generate(&generate::Args {
        seed: 3,
        size: 2_000_000,
        out: out.clone(),
    })
    .expect("generator writes");
    let celery = std::fs::read(out.join("synthetic-worker.log"))
        .expect("worker log written");
    let mut python = Vec::with_capacity(celery.len());
    for (n, line) in celery.split_inclusive(|&b| b == b'\n').enumerate() {
        // `[STAMP: LEVEL/PROCESS] msg`: the stamp is 23 bytes.
        let close = line.iter().position(|&b| b == b']');
        let slash = line.iter().position(|&b| b == b'/');
        match (line.first(), slash, close) {
            (Some(b'['), Some(slash), Some(close)) if slash < close => {
                python.extend_from_slice(&line[1..24]);
                python.push(b' ');
                python.extend_from_slice(&line[26..slash]);
                let pid = 100 + (n * 7919) % 13;
                python
                    .extend_from_slice(format!(" worker[{pid}]:").as_bytes());
                python.extend_from_slice(&line[close + 1..]);
            }
            _ => python.extend_from_slice(line),
        }
    }
    let worker = out.join("synthetic-python-worker.log");
    std::fs::write(&worker, &python).expect("written");
    let files = vec![worker.clone(), out.join("synthetic-dmesg.txt")];
    let boot = Timestamp::from_parts(generate::BOOT_TIME, 0);
    let explained = assert_paths_agree(&files, boot);
    assert!(explained > 0, "some symptoms are still explained");
    // The log twice over: the two take turns at nearly every line, so
    // that lines the merge stopped at, taken on the lane's next turn, are
    // often the last with a pid before a symptom.
    assert_paths_agree(&[worker.clone(), worker], boot);
    // This machine's zone: the quick way reads an hour of it as one piece
    // only where no change of offset falls in the hour.
    assert_paths_agree_in(&files, boot, "Local");
}

/// A kernel log pasted without its stamps (the real `sdk-oom` capture's
/// `dmesg.txt`, each line's `[ seconds]` taken off): no envelope is
/// recognized, yet kernel-only patterns apply to such bare lines
/// (`LineInfo::kernel_or_bare`) on both paths, and the fast path must
/// find the task table's rows (anchored patterns, checked by the
/// message's first byte) as the plain path does.
#[test]
fn fast_and_plain_paths_agree_on_a_kernel_log_without_stamps() {
    let root = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let dmesg = std::fs::read_to_string(root.join("sdk-oom/dmesg.txt"))
        .expect("fixture reads");
    let bare: String = dmesg
        .lines()
        .map(|l| match l.split_once("] ") {
            Some((stamp, rest)) if stamp.starts_with('[') => rest,
            _ => l,
        })
        .flat_map(|l| [l, "\n"])
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("excerpt.txt");
    std::fs::write(&file, bare).expect("excerpt written");

    // JSON with every line lists each line's events.
    let config = Config {
        format: Format::Json,
        zone: Zone::parse("UTC").expect("utc"),
        ..Config::default()
    };
    let files = [file];
    let (fast, _) = replay(&files, &config, Path::Fast);
    let (plain, _) = replay(&files, &config, Path::Plain);
    let rows = dmesg
        .lines()
        .filter(|l| l.contains("] [ ") && !l.contains("pid  ]"))
        .count();
    let found = String::from_utf8_lossy(&plain)
        .matches(r#""kind":"oom_task""#)
        .count();
    assert!(rows >= 3, "the capture has a task table");
    assert_eq!(found, rows, "the plain path finds every row");
    assert_eq!(
        String::from_utf8_lossy(&fast),
        String::from_utf8_lossy(&plain)
    );
}

/// SYNTHETIC distortions of two real captures (`fixtures/celery-oom`, in
/// Celery's format, and `fixtures/sdk-oom`, in Python logging's), for
/// the merge's edge cases: every third worker line ends in `\r\n`, every
/// fifth pair of worker lines is swapped (stamps out of order), a worker
/// line is doubled with its stamp (a tie with itself), a 1.5 MiB line
/// with no envelope is put in the middle (cut into pieces), the kernel
/// log's last line loses its newline, and the worker log starts with
/// lines that have no stamp at all. Both paths, and both output modes,
/// must still agree.
#[test]
fn fast_and_plain_paths_agree_on_distorted_real_logs() {
    for capture in ["celery-oom", "sdk-oom"] {
        agree_on_distorted(capture);
    }
}

fn agree_on_distorted(capture: &str) {
    let root = FsPath::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(capture);
    let worker = std::fs::read(root.join("worker.log"))
        .expect("the capture's worker log");
    let dmesg = std::fs::read(root.join("dmesg.txt"))
        .expect("the capture's kernel log");
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("meta.json")).expect("meta.json"),
    )
    .expect("meta.json parses");
    let boot = Timestamp::from_parts(
        meta["boot_time"].as_i64().expect("a boot time"),
        0,
    );

    let mut lines: Vec<Vec<u8>> = worker
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    for pair in lines.chunks_mut(10) {
        if pair.len() > 5 {
            pair.swap(4, 5);
        }
    }
    for line in lines.iter_mut().step_by(3) {
        if line.ends_with(b"\n") {
            line.pop();
            line.extend_from_slice(b"\r\n");
        }
    }
    let middle = lines.len() / 2;
    let doubled = lines[middle].clone();
    lines.insert(middle, doubled);
    let mut long = vec![b'x'; 1536 * 1024];
    long.push(b'\n');
    lines.insert(middle, long);
    let mut out = b"no stamp on this line\n  nor on this one\n".to_vec();
    out.extend(lines.concat());

    let mut kernel = dmesg.clone();
    while kernel.last() == Some(&b'\n') {
        kernel.pop();
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let files = vec![
        dir.path().join("synthetic-distorted-worker.log"),
        dir.path().join("synthetic-distorted-dmesg.txt"),
    ];
    std::fs::write(&files[0], &out).expect("written");
    std::fs::write(&files[1], &kernel).expect("written");
    let explained = assert_paths_agree(&files, boot);
    assert!(explained > 0, "{capture}: the OOM kill is still explained");
}

/// The real `sdk-oom` syslog capture, SYNTHETICALLY stripped of its
/// syslog prefixes (`Dec  3 13:35:19 vm `), so that its lines keep only
/// the kernel's stamp counted from boot, after a preamble of its own
/// call-trace lines, also stripped but for one. That one, holding no
/// rule's literal and outside any rule context, is the only line that
/// tells the boot time. Replayed with no `--boot-time`, the clock must
/// learn it on both paths, although the fast path passes most lines
/// over unread: else the kill is placed by this host's boot time, and
/// nothing joins it.
#[test]
fn a_line_that_tells_the_boot_time_is_never_passed_over() {
    let root = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let syslog = std::fs::read_to_string(root.join("sdk-oom/syslog.txt"))
        .expect("the capture's syslog");
    let lines: Vec<&str> = syslog.lines().collect();
    let strip = |line: &str| {
        let kernel = line.find("kernel: [").expect("a kernel line");
        line[kernel..].to_owned()
    };
    let mut distorted = String::new();
    for (i, line) in lines[1..20].iter().enumerate() {
        distorted.push_str(&if i == 10 {
            line.to_string()
        } else {
            strip(line)
        });
        distorted.push('\n');
    }
    for line in &lines {
        distorted.push_str(&strip(line));
        distorted.push('\n');
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let kernel = dir.path().join("synthetic-stripped-syslog.txt");
    std::fs::write(&kernel, distorted).expect("written");
    let files = vec![root.join("sdk-oom/worker.log"), kernel];
    for annotations_only in [true, false] {
        let config = Config {
            annotations_only,
            boot_time: None,
            zone: Zone::parse("UTC").expect("utc"),
            ..Config::default()
        };
        let (fast, summary) = replay(&files, &config, Path::Fast);
        let (plain, _) = replay(&files, &config, Path::Plain);
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&plain)
        );
        assert!(summary.explanations > 0, "the OOM kill joins the worker");
    }
}
