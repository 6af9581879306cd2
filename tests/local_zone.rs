//! Replay in a local zone whose offset changes: the every-line merge
//! reads a whole hour of worker stamps from one of them only where the
//! zone says that hour reads as one piece, and must print what the plain
//! path prints around the change.
//!
//! This test sets `TZ` for its process, so it lives alone in its own
//! test binary: no other test reads the environment meanwhile.

use std::io::Cursor;

use truecause::input::ByteStream;
use truecause::pipeline::{self, Config, Format, Path};
use truecause::rules::{self, LoadOptions};
use truecause::time::{Timestamp, Zone};

/// SYNTHETIC worker logs written across the night New York's clocks go
/// back (2026-11-01, 02:00 EDT becomes 01:00 EST, so 01:00 to 01:59
/// happens twice), one in Celery's format and one in Python logging's,
/// a line every 7 s, in local time as a worker writes it.
fn logs() -> (Vec<u8>, Vec<u8>) {
    let (mut celery, mut python) = (Vec::new(), Vec::new());
    // From 00:00 EDT for three real hours: 00:00 to 00:59 EDT, 01:00 to
    // 01:59 EDT, 01:00 to 01:59 EST.
    for n in 0..(3 * 3600 / 7) {
        let secs = n * 7;
        let local = if secs < 2 * 3600 { secs } else { secs - 3600 };
        let (h, m, s) = (local / 3600, local / 60 % 60, local % 60);
        let ms = (n * 37) % 1000;
        let stamp = format!("2026-11-01 {h:02}:{m:02}:{s:02},{ms:03}");
        celery.extend(
            format!("[{stamp}: INFO/MainProcess] heartbeat {n}\n").as_bytes(),
        );
        python.extend(
            format!("{stamp} INFO worker[{}]: tick {n}\n", 100 + n % 7)
                .as_bytes(),
        );
    }
    (celery, python)
}

#[test]
fn a_repeated_hour_reads_alike_on_both_paths() {
    if !std::path::Path::new("/usr/share/zoneinfo/America/New_York").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have the time zone database"
        );
        eprintln!("skipped: no /usr/share/zoneinfo/America/New_York");
        return;
    }
    // SAFETY: this test binary runs this one test; nothing else reads
    // or writes the environment while it is set.
    unsafe { std::env::set_var("TZ", "America/New_York") };
    let (celery, python) = logs();
    let config = Config {
        format: Format::Text,
        zone: Zone::parse("local").expect("local"),
        boot_time: Some(Timestamp::from_parts(1_793_000_000, 0)),
        ..Config::default()
    };
    let replay = |path: Path| {
        let (set, _) = rules::load(&LoadOptions::default());
        let streams: Vec<(String, ByteStream)> = [
            ("synthetic-celery.log", celery.clone()),
            ("synthetic-python.log", python.clone()),
        ]
        .into_iter()
        .map(|(name, bytes)| {
            let stream: ByteStream = Box::new(Cursor::new(bytes));
            (name.to_string(), stream)
        })
        .collect();
        let mut out = Vec::new();
        pipeline::run_streams_on(&config, set, streams, &mut out, path)
            .expect("replay runs");
        out
    };
    let (fast, plain) = (replay(Path::Fast), replay(Path::Plain));
    assert_eq!(
        String::from_utf8_lossy(&fast),
        String::from_utf8_lossy(&plain)
    );
    // The two logs, each in its own order, merged: every line once.
    assert_eq!(
        fast.iter().filter(|&&b| b == b'\n').count(),
        2 * (3 * 3600 / 7)
    );
}
