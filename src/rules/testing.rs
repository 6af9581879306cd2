//! Running rules' inline examples as tests: what `truecause rules test`
//! and the crate's own test suite do.
//!
//! A pattern example is a whole input line: it goes through envelope
//! recognition like any input, the pattern must match its message, and
//! every field the example lists must come out with that value. A
//! counterexample must not match. An explain rule's scenario is a few
//! lines per source, replayed through the whole pipeline; the symptom it
//! names must be explained with the cause kind and fields it lists.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::compile::toml_value;
use super::{RuleSet, values_equal};
use crate::envelope;
use crate::extract::{LineInfo, apply};
use crate::pipeline::{self, Config, Format};
use crate::time::{Clock, Timestamp, Zone};

/// The outcome of one example.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// `pattern-id example 2`, `explain-id scenario 1`.
    pub name: String,
    pub file: Arc<str>,
    /// The line of the rule file the example is on.
    pub line: usize,
    /// `None` when it passed; otherwise what went wrong.
    pub failure: Option<String>,
}

/// Run every example of every rule in `set`. Each scenario runs a
/// pipeline of its own with a copy of `set`.
pub fn run_all(set: &RuleSet) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut clock = Clock::new(Zone::parse("UTC").expect("utc"), Timestamp(0));
    clock.boot_time = Some(Timestamp(0));
    clock.boot_time_known = true;

    for p in &set.patterns {
        for (i, ex) in p.examples.iter().enumerate() {
            let line = ex.item.line.get_ref();
            let failure =
                check_example(p, line, Some(&ex.item.fields), &clock);
            outcomes.push(Outcome {
                name: format!("{} example {}", p.id, i + 1),
                file: p.file.clone(),
                line: ex.line,
                failure,
            });
        }
        for (i, c) in p.counterexamples.iter().enumerate() {
            let line = &c.item;
            let failure = match check_example(p, line, None, &clock) {
                None => Some(format!("counterexample matched: {line}")),
                Some(_) => None,
            };
            outcomes.push(Outcome {
                name: format!("{} counterexample {}", p.id, i + 1),
                file: p.file.clone(),
                line: c.line,
                failure,
            });
        }
    }
    for x in &set.explains {
        for (i, sc) in x.scenarios.iter().enumerate() {
            outcomes.push(Outcome {
                name: format!("{} scenario {}", x.id, i + 1),
                file: x.file.clone(),
                line: sc.line,
                failure: check_scenario(&sc.item, set.clone()).err(),
            });
        }
    }
    outcomes
}

/// `None` when `line` yields an event with `fields` (or, with `fields`
/// absent, when it matches at all); otherwise why not.
fn check_example(
    p: &super::Pattern,
    line: &str,
    fields: Option<&BTreeMap<String, toml::Value>>,
    clock: &Clock,
) -> Option<String> {
    let content = line.as_bytes();
    let env = envelope::parse(content, clock);
    if p.kernel_only && !env.kernel && env.message != 0 {
        return Some(format!(
            "the rule takes kernel lines only, and this line's envelope \
             ({:?}) is not a kernel one: {line}",
            env.format
        ));
    }
    let info = LineInfo::standalone(content, &env);
    let message = &content[env.message.min(content.len())..];
    let Some(event) = apply(p, message, &info) else {
        return Some(format!("no match: {line}"));
    };
    let fields = fields?;
    let mut wrong = Vec::new();
    for (name, want) in fields {
        let Some(want) = toml_value(want) else {
            continue;
        };
        match event.get(name) {
            Some(have) if values_equal(have, &want) => {}
            Some(have) => wrong.push(format!(
                "{name} = {}, want {}",
                shown(have),
                shown(&want)
            )),
            None => {
                wrong.push(format!("{name} missing, want {}", shown(&want)))
            }
        }
    }
    (!wrong.is_empty()).then(|| format!("{}: {line}", wrong.join("; ")))
}

/// A field value as a rule file writes it: `12`, `"claude"`.
fn shown(v: &crate::event::Value) -> String {
    match v {
        crate::event::Value::Int(i) => i.to_string(),
        crate::event::Value::Str(s) => format!("{s:?}"),
    }
}

fn check_scenario(
    sc: &super::ScenarioDef,
    rules: RuleSet,
) -> Result<(), String> {
    let mut config = Config {
        format: Format::Json,
        annotations_only: true,
        zone: Zone::parse("UTC").expect("utc"),
        ..Config::default()
    };
    config.boot_time = match &sc.boot_time {
        Some(t) => Some(
            Timestamp::parse_user(t)
                .ok_or_else(|| format!("boot_time {t:?} is not a time"))?,
        ),
        None => Some(Timestamp(0)),
    };
    let streams = sc
        .sources
        .iter()
        .map(|(name, lines)| {
            let text =
                lines.iter().map(|l| format!("{l}\n")).collect::<String>();
            let stream: crate::input::ByteStream =
                Box::new(std::io::Cursor::new(text.into_bytes()));
            (name.clone(), stream)
        })
        .collect();
    let mut out = Vec::new();
    pipeline::run_streams(&config, rules, streams, &mut out)
        .map_err(|e| format!("pipeline failed: {e}"))?;
    let text = String::from_utf8_lossy(&out);
    let explanations: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let symptom = sc.symptom.get_ref();
    let (want_source, want_line) = symptom
        .rsplit_once(':')
        .and_then(|(s, l)| Some((s, l.parse::<u64>().ok()?)))
        .ok_or_else(|| format!("symptom {symptom:?} is not SOURCE:LINE"))?;
    let found = explanations.iter().find(|e| {
        e["symptom"]["source"] == want_source
            && e["symptom"]["line"] == want_line
    });
    match (found, sc.cause.as_str()) {
        (None, "none") => Ok(()),
        (Some(e), "none") => Err(format!(
            "expected no explanation for {symptom}, got: {}",
            e["message"]
        )),
        (None, _) => Err(format!("no explanation for {symptom}")),
        (Some(e), want_kind) => {
            let mut wrong = Vec::new();
            if e["cause"]["kind"] != want_kind {
                wrong.push(format!(
                    "cause kind {}, want {want_kind}",
                    e["cause"]["kind"]
                ));
            }
            for (name, want) in &sc.fields {
                let have = &e["cause"][name];
                let ok = match toml_value(want) {
                    Some(crate::event::Value::Int(i)) => {
                        have.as_i64() == Some(i)
                    }
                    Some(crate::event::Value::Str(s)) => {
                        have.as_str() == Some(&s)
                    }
                    None => false,
                };
                if !ok {
                    wrong.push(format!("cause.{name} = {have}, want {want}"));
                }
            }
            if let Some(want) = &sc.alternative {
                let have = e["alternative"]["kind"].as_str().unwrap_or("none");
                if have != want {
                    wrong.push(format!("alternative {have}, want {want}"));
                }
            }
            if let Some(c) = sc.confidence
                && e["confidence"] != c.as_str()
            {
                wrong.push(format!(
                    "confidence {}, want {}",
                    e["confidence"],
                    c.as_str()
                ));
            }
            if wrong.is_empty() {
                Ok(())
            } else {
                Err(wrong.join("; "))
            }
        }
    }
}
