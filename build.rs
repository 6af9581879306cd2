//! Embeds every `rules/*.toml` file into the binary, so the shipped rules
//! need no installation. The list is generated, sorted by file name, so a
//! new rule file is picked up without touching the code.
//!
//! Each file goes in twice: as written, for `truecause rules` and the
//! tests, and lean ([`lean`]), for a run. A run reads no comment and no
//! example, and they are two thirds of the files' bytes: parsing them was
//! a quarter of the instructions an empty run takes (BENCHMARKS.md).

use std::env;
use std::fs;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<String> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let out_dir = env::var("OUT_DIR").unwrap();
    let mut full = String::from("&[\n");
    let mut lean_list = String::from("&[\n");
    for name in &files {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        full.push_str(&format!(
            "    (\"rules/{name}\", include_str!({:?})),\n",
            path.display().to_string()
        ));
        let text = fs::read_to_string(&path).unwrap();
        let lean_path = Path::new(&out_dir).join(format!("lean-{name}"));
        fs::write(&lean_path, lean(&text)).unwrap();
        lean_list.push_str(&format!(
            "    (\"rules/{name}\", include_str!({:?})),\n",
            lean_path.display().to_string()
        ));
    }
    full.push_str("]\n");
    lean_list.push_str("]\n");
    let out = Path::new(&out_dir);
    fs::write(out.join("embedded_rules.rs"), full).unwrap();
    fs::write(out.join("embedded_rules_lean.rs"), lean_list).unwrap();
}

/// Where a line starts: in plain TOML, or inside a multi-line string
/// opened by `'''` or `"""` on an earlier line.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Plain,
    Multi(&'static str),
}

/// `text` with what a run does not read blanked out: comments, the
/// example tables of patterns and explains (`[[pattern.example]]`,
/// `[[explain.example]]` and the sub-tables under them) and
/// `counterexample` arrays. A blanked line stays, empty, and a comment
/// after a value is cut off where it starts, so that everything left
/// keeps its line and column: a message about a shipped rule points into
/// the file as written.
///
/// This reads TOML only as far as the shipped files need: strings of all
/// four kinds, comments, table headers on lines of their own, brackets.
/// A test in `src/rules/load.rs` holds the lean files to loading the
/// same rules as the full ones.
fn lean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut state = State::Plain;
    // Inside an example table, or a counterexample array (its bracket
    // depth).
    let mut in_example = false;
    let mut counter_depth = 0usize;
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let started_plain = state == State::Plain;
        if started_plain && let Some(path) = header(body) {
            in_example = path.starts_with("pattern.example")
                || path.starts_with("explain.example");
        }
        if started_plain && counter_depth == 0 && opens_counterexamples(body) {
            let (_, depth, next) = scan(body, state, 0);
            counter_depth = depth;
            state = next;
            out.push_str(newline);
            continue;
        }
        let in_counter = counter_depth > 0;
        let (comment_at, depth, next) = scan(body, state, counter_depth);
        state = next;
        if in_counter {
            counter_depth = depth;
        }
        if in_example || in_counter {
            out.push_str(newline);
            continue;
        }
        // Before a comment the line is plain TOML, and its trailing
        // blanks go too; a line without one may end inside a string.
        let kept = match comment_at {
            Some(at) => body[..at].trim_end_matches([' ', '\t']),
            None => body,
        };
        out.push_str(kept);
        out.push_str(newline);
    }
    out
}

/// Whether `line` starts a pattern's `counterexample = [...]`.
fn opens_counterexamples(line: &str) -> bool {
    line.trim_start()
        .strip_prefix("counterexample")
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// The dotted path of the table header `line` is, if it is one
/// (`[a.b]` or `[[a.b]]`, bare keys only, as the shipped files have).
fn header(line: &str) -> Option<&str> {
    let line = line.trim();
    let line = line.split_once('#').map_or(line, |(h, _)| h).trim_end();
    let inner = line.strip_prefix('[')?.strip_suffix(']')?;
    let inner = match inner.strip_prefix('[') {
        Some(rest) => rest.strip_suffix(']')?,
        None => inner,
    };
    let bare = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    (!inner.is_empty() && inner.chars().all(bare)).then_some(inner)
}

/// Read one line from `state`: where a comment starts in it (outside
/// strings), the bracket depth `depth` becomes with its brackets outside
/// strings, and the state the next line starts in.
fn scan(
    line: &str,
    mut state: State,
    mut depth: usize,
) -> (Option<usize>, usize, State) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &line[i..];
        match state {
            State::Multi(close) => match rest.find(close) {
                Some(at) => {
                    i += at + 3;
                    state = State::Plain;
                }
                None => return (None, depth, state),
            },
            State::Plain => {
                if rest.starts_with("'''") || rest.starts_with("\"\"\"") {
                    let close = if rest.starts_with("'''") {
                        "'''"
                    } else {
                        "\"\"\""
                    };
                    state = State::Multi(close);
                    i += 3;
                    continue;
                }
                match bytes[i] {
                    b'#' => return (Some(i), depth, state),
                    b'[' => depth += 1,
                    b']' => depth = depth.saturating_sub(1),
                    b'\'' => {
                        // A literal string: no escapes.
                        i +=
                            rest[1..].find('\'').map_or(rest.len(), |e| e + 1);
                    }
                    b'"' => {
                        // A basic string: `\"` does not end it.
                        let mut j = i + 1;
                        while j < bytes.len() && bytes[j] != b'"' {
                            j += if bytes[j] == b'\\' { 2 } else { 1 };
                        }
                        i = j;
                    }
                    _ => {}
                }
                i += 1;
            }
        }
    }
    (None, depth, state)
}
