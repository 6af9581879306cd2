//! Properties that must hold for every input: text output without
//! annotations is the input byte for byte, whatever the bytes, line
//! lengths and terminators; and no input makes the pipeline panic.

use proptest::prelude::*;
use truecause::input::ByteStream;
use truecause::pipeline::{self, Config, Format, Path};
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

fn run(inputs: Vec<Vec<u8>>, max_line: usize, format: Format) -> Vec<u8> {
    run_on(inputs, max_line, format, false, Path::Fast)
}

/// One replay of `inputs`, printing every line or explanations only,
/// extracting the way `path` says.
fn run_on(
    inputs: Vec<Vec<u8>>,
    max_line: usize,
    format: Format,
    annotations_only: bool,
    path: Path,
) -> Vec<u8> {
    let rules = shipped_rules();
    let config = Config {
        format,
        annotations_only,
        zone: Zone::parse("UTC").unwrap(),
        boot_time: Some(Timestamp(0)),
        max_line,
        ..Config::default()
    };
    let streams = inputs
        .into_iter()
        .enumerate()
        .map(|(i, bytes)| {
            let s: ByteStream = Box::new(std::io::Cursor::new(bytes));
            (format!("in{i}"), s)
        })
        .collect();
    let mut out = Vec::new();
    pipeline::run_streams_on(&config, rules, streams, &mut out, path).unwrap();
    out
}

/// Pieces of real lines (envelopes, rule literals) and hostile bytes, so
/// that random inputs reach the parsers' interesting paths.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"[  884.628791] ".to_vec()),
        Just(b"2026-12-03 13:23:12,947 ERROR worker[11072]: ".to_vec()),
        Just(b"[2026-12-03 13:26:19,682: ERROR/MainProcess] ".to_vec()),
        Just(b"3,1404,719351573,-;".to_vec()),
        Just(b"Dec  3 13:24:50 vm kernel: ".to_vec()),
        Just(b"Memory cgroup out of memory: Killed process ".to_vec()),
        Just(b"Command failed with exit code -9".to_vec()),
        Just(b"exited with returncode -9".to_vec()),
        Just(b" invoked oom-killer: gfp_mask=0xcc0".to_vec()),
        Just(b"(claude) total-vm:1kB, anon-rss:2kB, file-rss:3kB".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xff\xfe\x00".to_vec()),
        "[0-9 :,.\\-\\[\\]]{0,12}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..24),
    ]
}

fn text_without_annotations(out: &[u8]) -> Vec<u8> {
    let mut kept = Vec::new();
    for piece in out.split_inclusive(|&b| b == b'\n') {
        if !piece.starts_with(b"[truecause]") {
            kept.extend_from_slice(piece);
        }
    }
    kept
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_bytes_pass_through_exactly(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        max_line in 16usize..512,
    ) {
        let out = run(vec![bytes.clone()], max_line, Format::Text);
        prop_assert_eq!(out, bytes);
    }

    #[test]
    fn log_like_inputs_never_panic_and_lose_nothing(
        parts in proptest::collection::vec(fragment(), 0..80),
        other in proptest::collection::vec(fragment(), 0..40),
    ) {
        let a: Vec<u8> = parts.concat();
        let b: Vec<u8> = other.concat();
        let out = run(vec![a.clone(), b.clone()], 4096, Format::Text);
        let kept = text_without_annotations(&out);
        // Two sources are merged by time, so compare as multisets of
        // lines (an unterminated last line may gain a newline when an
        // annotation follows it).
        let norm = |bytes: &[u8]| {
            let mut lines: Vec<Vec<u8>> = bytes
                .split(|&c| c == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect();
            lines.sort();
            lines
        };
        let mut both = a.clone();
        both.push(b'\n');
        both.extend_from_slice(&b);
        prop_assert_eq!(norm(&kept), norm(&both));

        // The fast path (skipping, runs merged in place) prints what the
        // plain one does, whatever the mix of envelopes and literals.
        for annotations_only in [false, true] {
            let fast = run_on(
                vec![a.clone(), b.clone()], 4096, Format::Text,
                annotations_only, Path::Fast,
            );
            let plain = run_on(
                vec![a.clone(), b.clone()], 4096, Format::Text,
                annotations_only, Path::Plain,
            );
            prop_assert_eq!(fast, plain);
        }

        let json = run(vec![a, b], 4096, Format::Json);
        for line in json.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(line).unwrap();
            prop_assert!(v["type"] == "record" || v["type"] == "explanation");
        }
    }
}

#[test]
fn invalid_utf8_lines_keep_their_bytes_in_json() {
    let out = run(vec![b"ok\n\xff\xfebad\n".to_vec()], 4096, Format::Json);
    let lines: Vec<serde_json::Value> = out
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert!(lines[0].get("bytes").is_none());
    assert_eq!(lines[1]["bytes"], "//5iYWQ=");
    assert_eq!(lines[1]["line"], 2);
}

#[test]
fn a_line_of_many_megabytes_passes_through() {
    let mut input = vec![b'a'; 9 * 1024 * 1024];
    input.extend_from_slice(b"\nnext\n");
    let out = run(vec![input.clone()], 1024 * 1024, Format::Text);
    assert_eq!(out, input);
}
