//! The corpus test: every real log line in `tests/corpus/*.toml` goes
//! through the real envelope parser and the [`Extractor`] built from the
//! shipped rules, and must yield what its case says.
//!
//! What a case asserts:
//! - `kind = "<kind>"`: the line yields exactly one event, of that kind,
//!   and every field the case lists has that value (fields it does not
//!   list are not checked). One event, not "at least one": a line that
//!   two rules both recognize would be counted twice by the correlator.
//! - `kind = "none"` (a near miss): the line yields no event at all, of
//!   any kind. A line that reports a different event than the one it
//!   resembles is not a near miss: a V8 `JavaScript heap out of memory`
//!   is a `heap_oom` positive, so the rules must say "heap", never
//!   `oom_kill`; only lines that report no event are near misses.
//!
//! Every failure is collected and printed before the test fails, so one
//! run shows the whole picture.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use truecause::envelope;
use truecause::event::Event;
use truecause::extract::{Contexts, Extractor, Found, LineInfo};
use truecause::rules::{self, LoadOptions, values_equal};
use truecause::time::{Clock, Timestamp, Zone};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    text: String,
    source: String,
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    fields: BTreeMap<String, toml::Value>,
}

/// Every corpus case, with the file it came from.
fn cases() -> Vec<(String, Case)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable file");
        let file: CorpusFile = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        all.extend(file.case.into_iter().map(|c| (name.clone(), c)));
    }
    all
}

/// The events the shipped rules yield for one line.
fn events_of(extractor: &Extractor, clock: &Clock, text: &str) -> Vec<Event> {
    let content = text.as_bytes();
    let env = envelope::parse(content, clock);
    let info = LineInfo::standalone(content, &env);
    let mut events = Vec::new();
    extractor.extract(
        &info,
        Found::Unknown,
        &mut Contexts::everywhere(),
        &mut Vec::new(),
        &mut events,
    );
    events
}

/// What is wrong with `events` for `case`, if anything.
fn verdict(case: &Case, events: &[Event]) -> Option<String> {
    let found = || {
        events
            .iter()
            .map(|e| format!("{} ({})", e.kind, e.rule))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if case.kind == "none" {
        return (!events.is_empty())
            .then(|| format!("near miss yielded {}", found()));
    }
    let [event] = events else {
        return Some(format!(
            "want one {} event, got {}: [{}]",
            case.kind,
            events.len(),
            found()
        ));
    };
    if *event.kind != *case.kind {
        return Some(format!("want {}, got {}", case.kind, found()));
    }
    let mut wrong = Vec::new();
    for (name, want) in &case.fields {
        let Some(want) = rules::toml_value(want) else {
            wrong.push(format!("{name}: the case's value is not a scalar"));
            continue;
        };
        match event.get(name) {
            Some(have) if values_equal(have, &want) => {}
            Some(have) => wrong.push(format!("{name} = {have}, want {want}")),
            None => wrong.push(format!("{name} missing, want {want}")),
        }
    }
    (!wrong.is_empty()).then(|| {
        format!("{} ({}): {}", event.kind, event.rule, wrong.join("; "))
    })
}

#[test]
fn every_corpus_line_yields_its_event_and_near_misses_yield_none() {
    let (set, problems) = rules::load(&LoadOptions::default());
    let errors: Vec<_> = problems.iter().filter(|p| !p.warning).collect();
    assert!(errors.is_empty(), "shipped rules do not load: {errors:#?}");
    let extractor = Extractor::new(set.patterns);
    let mut clock = Clock::new(Zone::parse("UTC").unwrap(), Timestamp(0));
    clock.boot_time = Some(Timestamp(0));
    clock.boot_time_known = true;

    let all = cases();
    assert!(all.len() > 300, "the corpus has {} cases", all.len());
    let mut failures = Vec::new();
    for (file, case) in &all {
        let events = events_of(&extractor, &clock, &case.text);
        if let Some(why) = verdict(case, &events) {
            failures.push(format!(
                "{file}: {why}\n    line:   {}\n    source: {}",
                case.text, case.source
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
