//! The shipped rules' examples are facts: every line a rule file quotes
//! must be found where the rule says it was seen.
//!
//! - `seen = "https://..."`: the line is a case of tests/corpus/ whose
//!   `source` is that address (the corpus holds the lines quoted from
//!   public threads and pages);
//! - `seen = "fixtures/DIR[/FILE], capture of STAMP"`: the line is in that
//!   capture's file(s), checked when fixtures/DIR/meta.json says it is the
//!   capture of STAMP (a capture run again has other pids, and its lines
//!   are checked when the rule's examples are updated to it);
//! - a counterexample is a corpus line.
//!
//! Every pattern must also have at least one example.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use truecause::rules::EMBEDDED;

/// Corpus lines by source address, and all corpus lines.
struct Corpus {
    by_source: HashMap<String, HashSet<String>>,
    all: HashSet<String>,
}

fn corpus() -> Corpus {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut c = Corpus {
        by_source: HashMap::new(),
        all: HashSet::new(),
    };
    for entry in std::fs::read_dir(dir).expect("tests/corpus") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        let doc: toml::Table = toml::from_str(&text).expect("corpus parses");
        for case in doc["case"].as_array().expect("cases") {
            let line = case["text"].as_str().expect("text").to_owned();
            let source = case["source"].as_str().expect("source").to_owned();
            c.by_source.entry(source).or_default().insert(line.clone());
            c.all.insert(line);
        }
    }
    c
}

/// The lines of a cited capture, or `None` when the repository holds
/// another capture (or none) of that scenario.
fn capture_lines(seen: &str) -> Option<HashSet<String>> {
    let (path, stamp) = seen.split_once(", capture of ")?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = Path::new(path);
    let dir = rel.iter().take(2).collect::<std::path::PathBuf>();
    let meta =
        std::fs::read_to_string(root.join(&dir).join("meta.json")).ok()?;
    let meta: serde_json::Value = serde_json::from_str(&meta).ok()?;
    if meta["captured_at"].as_str() != Some(stamp) {
        return None;
    }
    let files: Vec<std::path::PathBuf> = if rel.iter().count() > 2 {
        vec![root.join(rel)]
    } else {
        std::fs::read_dir(root.join(&dir))
            .ok()?
            .map(|e| e.expect("entry").path())
            .collect()
    };
    let mut lines = HashSet::new();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(f) {
            lines.extend(text.lines().map(str::to_owned));
        }
    }
    Some(lines)
}

/// Check one quoted line against its citation; `None` when it holds or
/// cannot be checked here.
fn verify(corpus: &Corpus, seen: &str, line: &str) -> Option<String> {
    if seen.starts_with("http://") || seen.starts_with("https://") {
        let found =
            corpus.by_source.get(seen).is_some_and(|s| s.contains(line));
        return (!found)
            .then(|| format!("not a corpus line with source {seen}: {line}"));
    }
    if seen.starts_with("fixtures/") {
        let lines = capture_lines(seen)?;
        return (!lines.contains(line))
            .then(|| format!("not in {seen}: {line}"));
    }
    Some(format!(
        "`seen` is neither an address nor a fixture: {seen}"
    ))
}

#[test]
fn every_quoted_line_is_found_where_its_rule_says_it_was_seen() {
    let corpus = corpus();
    let mut wrong = Vec::new();
    let mut checked = 0;
    // The shipped rules, and the worked examples of docs/rules.md.
    let examples_dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    let documented: Vec<(String, String)> = std::fs::read_dir(&examples_dir)
        .expect("docs/examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            (p.display().to_string(), text)
        })
        .collect();
    let files = EMBEDDED
        .iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .chain(documented);
    for (file, text) in files {
        let doc: toml::Table =
            toml::from_str(&text).expect("rule file parses");
        for p in doc
            .get("pattern")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let id = p["id"].as_str().unwrap_or("?");
            let examples = p.get("example").and_then(|v| v.as_array());
            if examples.is_none_or(|e| e.is_empty()) {
                wrong.push(format!("{file}: pattern {id} has no example"));
            }
            for ex in examples.into_iter().flatten() {
                let line = ex["line"].as_str().expect("line");
                let Some(seen) = ex.get("seen").and_then(|s| s.as_str())
                else {
                    wrong.push(format!("{file}: {id}: example without seen"));
                    continue;
                };
                checked += 1;
                wrong.extend(
                    verify(&corpus, seen, line)
                        .map(|w| format!("{file}: {id}: {w}")),
                );
            }
            for c in p
                .get("counterexample")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let line = c.as_str().expect("counterexample");
                checked += 1;
                if !corpus.all.contains(line) {
                    wrong.push(format!("{file}: {id}: counterexample not in the corpus: {line}"));
                }
            }
        }
        for x in doc
            .get("explain")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let id = x["id"].as_str().unwrap_or("?");
            for sc in x
                .get("example")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let Some(seen) = sc.get("seen").and_then(|s| s.as_str())
                else {
                    wrong.push(format!("{file}: {id}: scenario without seen"));
                    continue;
                };
                let sources = sc["sources"].as_table().expect("sources");
                for lines in sources.values() {
                    for line in lines.as_array().expect("lines") {
                        checked += 1;
                        let line = line.as_str().expect("line");
                        wrong.extend(
                            verify(&corpus, seen, line)
                                .map(|w| format!("{file}: {id}: {w}")),
                        );
                    }
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} lines checked");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
