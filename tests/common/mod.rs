//! Helpers shared by the command-line tests: where the fixtures are, what
//! their capture recorded, and running the binary to parsed JSON.

#![allow(dead_code)]

mod follow;

#[allow(unused_imports)]
pub use follow::*;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The repository's `fixtures/NAME` folder.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The capture's `meta.json`.
pub fn meta(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("meta.json"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    serde_json::from_str(&text).expect("meta.json parses")
}

/// The truecause binary with the capture's boot time and zone.
pub fn truecause_for(dir: &Path) -> Command {
    let m = meta(dir);
    let mut cmd = Command::cargo_bin("truecause").unwrap();
    cmd.current_dir(dir)
        .arg("--boot-time")
        .arg(m["boot_time"].to_string())
        .arg("--tz")
        .arg("UTC");
    cmd
}

/// Run with `--format json --annotations-only` on `files` of `dir` and
/// parse every output line.
pub fn explanations(dir: &Path, files: &[&str]) -> Vec<Value> {
    let out = truecause_for(dir)
        .args(["--format", "json", "--annotations-only"])
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "truecause failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_lines(&out.stdout)
}

/// Parse JSON lines, failing on any line that is not an object.
pub fn parse_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .expect("json output is utf-8")
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
        })
        .collect()
}

/// The 1-based number of the first line of `file` in `dir` that contains
/// `needle`.
pub fn line_of(dir: &Path, file: &str, needle: &str) -> u64 {
    let text = std::fs::read(dir.join(file)).unwrap();
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("{file} has no line with {needle:?}"))
}
