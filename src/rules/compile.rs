//! Compiled rules: what the extract stage and the correlator run.
//!
//! Compiling checks everything a rule file can get wrong beyond its
//! syntax: a regex that does not build, a field typed but never
//! captured, a window that is not a duration, a join key that names no
//! known key. Each check reports through [`Problems`] with the position
//! of the offending value.

use std::collections::HashMap;
use std::sync::Arc;

use super::lazy_regex::{self, LazyRegex};
use super::literal::{anchored_first_bytes, required_literals};
use super::load::Problems;
use super::schema::{
    Confidence, ExampleDef, ExplainDef, FieldType, PatternDef, ScenarioDef,
};
use crate::event::Value;
use crate::time::parse_duration;

/// A compiled pattern rule.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub id: Arc<str>,
    pub kind: Arc<str>,
    pub description: String,
    /// Parsed when loaded, compiled when a line first needs it.
    pub regex: LazyRegex,
    pub kernel_only: bool,
    /// At least one must occur in a message for the regex to be tried;
    /// empty means the regex is tried on every message.
    pub literals: Vec<String>,
    /// For a regex anchored at the start of the message, the bytes its
    /// match can start with: a check that costs nothing per message,
    /// for patterns whose literals are too common to search for.
    pub first_bytes: Option<Box<[bool; 256]>>,
    pub captures: Vec<Capture>,
    pub set: Vec<(Arc<str>, Value)>,
    /// The file the rule came from.
    pub file: Arc<str>,
    pub examples: Vec<Located<ExampleDef>>,
    pub counterexamples: Vec<Located<String>>,
    /// A message holding any of these yields no event from this rule.
    pub unless: Vec<String>,
    /// The lines this pattern is tried on, when not every line.
    pub context: Option<Context>,
}

/// A pattern's context: it is tried only on the lines of a log that
/// follow a line matched by one of `after`, for at most `within` lines,
/// and not once one of `until` has matched since. A pattern with no
/// literal worth searching for (a table's rows) is then looked for only
/// where it can occur, so the rest of a log can be skipped unread.
#[derive(Clone, Debug)]
pub struct Context {
    /// Pattern ids, as written.
    pub after: Vec<Arc<str>>,
    pub until: Vec<Arc<str>>,
    pub within: u64,
    /// `after` and `until` as indexes into the rule set's patterns,
    /// filled in once every rule file is loaded.
    pub opened_by: Vec<u32>,
    pub closed_by: Vec<u32>,
    /// Line and column of each id of `after` then `until`, for the
    /// errors found only once every file is loaded.
    pub at: Vec<(usize, usize)>,
}

/// How many lines a context lasts when its rule does not say: more than
/// the longest kernel report, tasks table included, seen in fixtures.
pub const DEFAULT_WITHIN_LINES: u64 = 10_000;

/// One named capture of a pattern and how it becomes a field.
#[derive(Clone, Debug)]
pub struct Capture {
    pub index: usize,
    pub name: Arc<str>,
    pub ty: FieldType,
    pub map: Option<HashMap<String, Value>>,
}

impl Capture {
    /// The field value of captured `text`: the rule's `map` entry for it
    /// (or its `"*"` entry, for any text the map does not list), else the
    /// text converted to the capture's type.
    pub fn value(&self, text: &str) -> Option<Value> {
        if let Some(map) = &self.map
            && let Some(v) = map.get(text).or_else(|| map.get("*"))
        {
            return Some(v.clone());
        }
        typed(text, self.ty)
    }
}

/// Chooses events by kind and field values.
#[derive(Clone, Debug)]
pub struct Selector {
    /// The event must be of one of these kinds.
    pub kinds: Vec<Arc<str>>,
    /// Field name and the values it may have.
    pub conditions: Vec<(String, Vec<Value>)>,
}

impl Selector {
    pub fn matches(&self, event: &crate::event::Event) -> bool {
        self.kinds.contains(&event.kind)
            && self.conditions.iter().all(|(name, allowed)| {
                event.get(name).is_some_and(|have| {
                    allowed.iter().any(|want| values_equal(have, want))
                })
            })
    }
}

/// A compiled explain rule.
#[derive(Clone, Debug)]
pub struct Explain {
    pub id: Arc<str>,
    pub description: String,
    pub symptom: Selector,
    pub cause: Option<Selector>,
    /// Root cause kinds whose absence lets this rule fire; empty for a
    /// rule with a cause.
    pub absent: Vec<Arc<str>>,
    pub reports: Option<Arc<str>>,
    /// The confidence of a rule that fires on `absent`.
    pub confidence: Confidence,
    /// Why this rule's cause wins a tie with another's, if it says.
    pub precedence: Option<String>,
    /// Nanoseconds the cause may precede the symptom.
    pub before: i64,
    /// Nanoseconds the cause may follow the symptom.
    pub after: i64,
    pub victims: Vec<String>,
    pub joins: Vec<Join>,
    pub priority: i32,
    pub message: String,
    /// How the cause is named as the less likely of two.
    pub also: Option<String>,
    pub file: Arc<str>,
    pub scenarios: Vec<Located<ScenarioDef>>,
}

/// A rule's inline test case, with the line of the rule file it is on.
#[derive(Clone, Debug)]
pub struct Located<T> {
    pub line: usize,
    pub item: T,
}

/// One way of joining, with the confidence it gives.
#[derive(Clone, Debug)]
pub struct Join {
    pub keys: Vec<JoinKey>,
    pub confidence: Confidence,
    /// Tried only when the symptom has none of these fields.
    pub if_missing: Vec<String>,
}

impl Join {
    /// Whether this join may be tried for `symptom`.
    pub fn applies_to(&self, symptom: &crate::event::Event) -> bool {
        self.if_missing.iter().all(|f| symptom.get(f).is_none())
    }
}

/// A join key: what must hold between a symptom and its cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinKey {
    /// The symptom's field equals the cause's (process names compare as
    /// the kernel cuts them, to 15 bytes).
    Field { symptom: String, cause: String },
    /// The cause was logged by the process that logged the symptom.
    Writer,
    /// The symptom's writer pid is in the cause's kernel task table: the
    /// kill happened in the writer's own cgroup.
    WriterInTasks,
    /// The symptom names a pid that is not the cause's and that the
    /// kernel did not list among the cause's cgroup's tasks: the pid may
    /// be from a container's pid namespace, so the kill may still be it.
    ForeignPid,
    /// The cause's process name is one of the rule's `victims`.
    Victim,
    /// The cause carries no task table (its report was cut, or it is not
    /// a kernel kill), so `writer_in_tasks` could neither hold nor fail.
    NoTaskTable,
    /// The cause's cgroup is the symptom's, or contains it.
    Cgroup,
    /// Nothing but the window.
    Time,
}

impl JoinKey {
    /// The word used in output's `joined_on`.
    pub fn name(&self) -> String {
        match self {
            JoinKey::Field { symptom, cause } if symptom == cause => {
                symptom.clone()
            }
            JoinKey::Field { symptom, cause } => format!("{symptom}={cause}"),
            JoinKey::Writer => "writer".into(),
            JoinKey::WriterInTasks => "writer_in_tasks".into(),
            JoinKey::ForeignPid => "foreign_pid".into(),
            JoinKey::Victim => "victim".into(),
            JoinKey::NoTaskTable => "no_task_table".into(),
            JoinKey::Cgroup => "cgroup".into(),
            JoinKey::Time => "time".into(),
        }
    }

    fn parse(text: &str) -> Option<JoinKey> {
        let ok_name = |s: &str| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        Some(match text {
            "writer" => JoinKey::Writer,
            "writer_in_tasks" => JoinKey::WriterInTasks,
            "foreign_pid" => JoinKey::ForeignPid,
            "victim" => JoinKey::Victim,
            "no_task_table" => JoinKey::NoTaskTable,
            "cgroup" => JoinKey::Cgroup,
            "time" => JoinKey::Time,
            _ => match text.split_once('=') {
                Some((s, c)) if ok_name(s) && ok_name(c) => JoinKey::Field {
                    symptom: s.to_owned(),
                    cause: c.to_owned(),
                },
                None if ok_name(text) => JoinKey::Field {
                    symptom: text.to_owned(),
                    cause: text.to_owned(),
                },
                _ => return None,
            },
        })
    }
}

/// The field a capture fills: `uid__rhel6` fills `uid`, so that the
/// alternatives of one regex can each capture the same field (the regex
/// crate forbids one name twice).
pub fn field_name(capture: &str) -> &str {
    capture.split_once("__").map_or(capture, |(f, _)| f)
}

/// Whether two field values are the same, comparing an integer with its
/// decimal text.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x), Value::Str(y)) | (Value::Str(y), Value::Int(x)) => {
            y.trim().parse::<i64>().is_ok_and(|y| y == *x)
        }
    }
}

/// A TOML value as a field value; tables and arrays have none.
pub fn toml_value(v: &toml::Value) -> Option<Value> {
    match v {
        toml::Value::Integer(i) => Some(Value::Int(*i)),
        toml::Value::String(s) => Some(Value::Str(s.clone())),
        toml::Value::Boolean(b) => Some(Value::Int(i64::from(*b))),
        _ => None,
    }
}

/// Convert captured text to a typed value.
pub fn typed(text: &str, ty: FieldType) -> Option<Value> {
    match ty {
        FieldType::Str => Some(Value::Str(text.to_owned())),
        FieldType::Int => text.trim().parse().ok().map(Value::Int),
        FieldType::Signal => signal_number(text).map(Value::Int),
    }
}

/// A signal's number from `9`, `-9`, `SIGKILL`, `KILL`, `killed`.
pub fn signal_number(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(n.abs());
    }
    let upper = t.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    Some(match name {
        "HUP" | "HANGUP" => 1,
        "INT" | "INTERRUPT" => 2,
        "QUIT" => 3,
        "ILL" => 4,
        "TRAP" => 5,
        "ABRT" | "ABORTED" | "IOT" => 6,
        "BUS" => 7,
        "FPE" => 8,
        "KILL" | "KILLED" => 9,
        "USR1" => 10,
        "SEGV" => 11,
        "USR2" => 12,
        "PIPE" => 13,
        "ALRM" => 14,
        "TERM" | "TERMINATED" => 15,
        "XCPU" => 24,
        "XFSZ" => 25,
        _ => return None,
    })
}

/// Whether a rule file's text holds its rules' examples: the shipped
/// rules are loaded for a run without them ([`super::EMBEDDED_LEAN`]),
/// and a pattern is then not held to having one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Examples {
    InText,
    LeftOut,
}

pub(super) fn pattern(
    def: PatternDef,
    file: &Arc<str>,
    eager: bool,
    examples: Examples,
    problems: &mut Problems,
) -> Option<Pattern> {
    let id = def.id.get_ref().clone();
    let source = def.regex.get_ref();
    let hir = match lazy_regex::parse(source) {
        Ok(hir) => hir,
        Err((detail, at)) => {
            regex_problem(&def, &detail, at, problems);
            return None;
        }
    };
    let regex = LazyRegex::new(source);
    if eager && let Err(e) = regex.compile() {
        let detail = e.to_string();
        let detail = detail.lines().last().unwrap_or("").trim();
        regex_problem(&def, detail.trim_start_matches("error: "), 0, problems);
        return None;
    }

    let names = lazy_regex::capture_names(&hir);
    for name in def.fields.keys().chain(def.map.keys()) {
        if !names.iter().flatten().any(|n| field_name(n) == name) {
            problems.at(
                def.regex.span(),
                format!(
                    "pattern {id:?}: field {name:?} is typed or mapped but \
                     the regex has no capture group (?P<{name}>...)"
                ),
            );
        }
    }

    let mut captures = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let Some(name) = name.as_deref().map(field_name) else {
            continue;
        };
        let map = def.map.get(name).map(|table| {
            table
                .iter()
                .filter_map(|(k, v)| toml_value(v).map(|v| (k.clone(), v)))
                .collect()
        });
        captures.push(Capture {
            index,
            name: Arc::from(name),
            ty: def.fields.get(name).copied().unwrap_or(FieldType::Str),
            map,
        });
    }

    let mut set = Vec::new();
    for (name, v) in &def.set {
        match toml_value(v) {
            Some(v) => set.push((Arc::from(name.as_str()), v)),
            None => problems.at(
                def.id.span(),
                format!(
                    "pattern {id:?}: set.{name} must be a string, integer \
                     or boolean"
                ),
            ),
        }
    }

    if def.example.is_empty() && examples == Examples::InText {
        problems.warn_at(
            def.id.span(),
            format!(
                "pattern {id:?} has no [[pattern.example]]; add a real line \
                 it must match, so that `truecause rules test` checks it"
            ),
        );
    }
    for ex in def.example.iter().filter(|e| e.seen.is_none()) {
        problems.warn_at(
            ex.line.span(),
            format!(
                "pattern {id:?}: this example has no `seen`; say where the \
                 line was seen (an address, or a file and its capture)"
            ),
        );
    }

    let context = context(&def, problems);
    let literals = match def.literals {
        Some(l) => l,
        None => required_literals(&hir, 3),
    };

    Some(Pattern {
        id: Arc::from(id.as_str()),
        kind: Arc::from(def.kind.as_str()),
        description: def.description,
        regex,
        kernel_only: def.kernel,
        literals,
        first_bytes: anchored_first_bytes(&hir),
        captures,
        set,
        file: file.clone(),
        examples: def
            .example
            .into_iter()
            .map(|item| Located {
                line: problems.line_of(item.line.span().start),
                item,
            })
            .collect(),
        counterexamples: def
            .counterexample
            .into_iter()
            .map(|c| Located {
                line: problems.line_of(c.span().start),
                item: c.into_inner(),
            })
            .collect(),
        unless: def.unless,
        context,
    })
}

/// The context a pattern's `after`, `until` and `within_lines` give.
fn context(def: &PatternDef, problems: &mut Problems) -> Option<Context> {
    let id = def.id.get_ref();
    if def.after.is_empty() {
        let stray = def
            .until
            .first()
            .map(|u| u.span())
            .or_else(|| def.within_lines.as_ref().map(|w| w.span()));
        if let Some(span) = stray {
            problems.at(
                span,
                format!(
                    "pattern {id:?}: `until` and `within_lines` bound a \
                     context that `after` opens; add `after = [...]` with \
                     the ids of the patterns that open it, or remove them"
                ),
            );
        }
        return None;
    }
    let within = match &def.within_lines {
        Some(w) if *w.get_ref() == 0 => {
            problems.at(
                w.span(),
                format!(
                    "pattern {id:?}: within_lines must be 1 or more (the \
                     lines after the opening line the context lasts)"
                ),
            );
            return None;
        }
        Some(w) => *w.get_ref(),
        None => DEFAULT_WITHIN_LINES,
    };
    let ids = |list: &[toml::Spanned<String>]| -> Vec<Arc<str>> {
        list.iter()
            .map(|s| Arc::from(s.get_ref().as_str()))
            .collect()
    };
    Some(Context {
        after: ids(&def.after),
        until: ids(&def.until),
        within,
        opened_by: Vec::new(),
        closed_by: Vec::new(),
        at: def
            .after
            .iter()
            .chain(&def.until)
            .map(|s| problems.locate(s.span().start))
            .collect(),
    })
}

pub(super) fn explain(
    def: ExplainDef,
    file: &Arc<str>,
    problems: &mut Problems,
) -> Option<Explain> {
    let id = def.id.get_ref().clone();
    let mut ok = true;
    let mut window = |spanned: &toml::Spanned<String>, what: &str| {
        parse_duration(spanned.get_ref()).unwrap_or_else(|| {
            problems.at(
                spanned.span(),
                format!(
                    "explain {id:?}: {what} = {:?} is not a duration; write \
                     it like \"90s\", \"500ms\" or \"2m\"",
                    spanned.get_ref()
                ),
            );
            ok = false;
            0
        })
    };
    let before = window(&def.before, "before");
    let after = window(&def.after, "after");

    let mut joins = Vec::new();
    for j in &def.join {
        let mut keys = Vec::new();
        for key in &j.on {
            match JoinKey::parse(key) {
                Some(k) => keys.push(k),
                None => {
                    problems.at(
                        def.id.span(),
                        format!(
                            "explain {id:?}: join key {key:?} is neither a \
                             field name, `symptom_field=cause_field`, nor one \
                             of writer, writer_in_tasks, foreign_pid, \
                             no_task_table, victim, cgroup, time"
                        ),
                    );
                    ok = false;
                }
            }
        }
        if keys.contains(&JoinKey::Victim) && def.victims.is_empty() {
            problems.at(
                def.id.span(),
                format!(
                    "explain {id:?}: the `victim` join needs a `victims` \
                     list of process names"
                ),
            );
            ok = false;
        }
        joins.push(Join {
            keys,
            confidence: j.confidence,
            if_missing: j.if_missing.clone(),
        });
    }

    match (&def.cause, def.absent.is_empty()) {
        (Some(_), _) if joins.is_empty() => {
            problems.at(
                def.id.span(),
                format!(
                    "explain {id:?}: a rule with a cause needs at least one \
                     [[explain.join]] saying how symptom and cause join"
                ),
            );
            ok = false;
        }
        (None, true) => {
            problems.at(
                def.id.span(),
                format!(
                    "explain {id:?}: give a `cause` to join, or `absent` (and \
                     `reports`) for a rule that fires when no cause is found"
                ),
            );
            ok = false;
        }
        _ => {}
    }

    for template in std::iter::once(&def.message).chain(def.also.as_ref()) {
        for name in unknown_placeholders(template) {
            problems.warn_at(
                def.id.span(),
                format!(
                    "explain {id:?}: the message's {{{name}}} is no \
                     placeholder; use victim, child, when, memory, joined, \
                     or symptom.FIELD, cause.FIELD, evidence.FIELD"
                ),
            );
        }
    }
    for sc in &def.example {
        if let Some(why) = scenario_symptom_problem(sc) {
            problems.at(sc.symptom.span(), format!("explain {id:?}: {why}"));
            ok = false;
        }
    }

    let selector = |sel: &super::schema::Selector| Selector {
        kinds: sel.kinds().iter().map(|k| Arc::from(k.as_str())).collect(),
        conditions: sel
            .conditions()
            .map(|c| {
                c.iter()
                    .map(|(k, v)| {
                        let allowed = match v {
                            toml::Value::Array(items) => {
                                items.iter().filter_map(toml_value).collect()
                            }
                            one => toml_value(one).into_iter().collect(),
                        };
                        (k.clone(), allowed)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };

    ok.then(|| Explain {
        id: Arc::from(id.as_str()),
        description: def.description,
        symptom: selector(&def.symptom),
        cause: def.cause.as_ref().map(selector),
        absent: def.absent.iter().map(|k| Arc::from(k.as_str())).collect(),
        reports: def.reports.as_deref().map(Arc::from),
        confidence: def.confidence.unwrap_or(Confidence::Medium),
        precedence: def.precedence,
        before,
        after,
        victims: def.victims,
        joins,
        priority: def.priority,
        message: def.message,
        also: def.also,
        file: file.clone(),
        scenarios: def
            .example
            .into_iter()
            .map(|item| Located {
                line: problems.line_of(item.symptom.span().start),
                item,
            })
            .collect(),
    })
}

/// Report a regex that does not parse or build: `detail` says what is
/// wrong, `at` is the byte offset in the regex it points at (0 when not
/// known, or when the regex spans lines and the offset cannot be mapped
/// into the file).
fn regex_problem(
    def: &PatternDef,
    detail: &str,
    at: usize,
    problems: &mut Problems,
) {
    let source = def.regex.get_ref();
    let at = if source.contains('\n') {
        0
    } else {
        at.min(source.len())
    };
    let span = def.regex.span();
    let start = span.start + problems.quote_len(span.start) + at;
    problems.at(
        start..span.end,
        format!(
            "pattern {:?}: the regex does not compile: {detail}; fix it at \
             this column (Rust regex syntax: no look-around or \
             backreferences; a literal string, '''...''', keeps \
             backslashes as written)",
            def.id.get_ref()
        ),
    );
}

/// The `{names}` of a message template that no placeholder fills.
fn unknown_placeholders(template: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        let known =
            matches!(name, "victim" | "child" | "when" | "memory" | "joined")
                || name.split_once('.').is_some_and(|(side, field)| {
                    matches!(side, "symptom" | "cause" | "evidence")
                        && !field.is_empty()
                });
        if !known {
            unknown.push(name.to_owned());
        }
        rest = &rest[open + close + 1..];
    }
    unknown
}

/// What is wrong with a scenario's `symptom = "SOURCE:LINE"`, if anything.
fn scenario_symptom_problem(sc: &ScenarioDef) -> Option<String> {
    let symptom = sc.symptom.get_ref();
    let Some((source, line)) = symptom
        .rsplit_once(':')
        .and_then(|(s, l)| Some((s, l.parse::<usize>().ok()?)))
    else {
        return Some(format!(
            "scenario symptom {symptom:?} is not SOURCE:LINE; write it like \
             \"worker.log:3\""
        ));
    };
    let Some(lines) = sc.sources.get(source) else {
        let names: Vec<&str> = sc.sources.keys().map(String::as_str).collect();
        return Some(format!(
            "scenario symptom {symptom:?} names source {source:?}, which the \
             scenario's sources do not have (it has {names:?})"
        ));
    };
    (line == 0 || line > lines.len()).then(|| {
        format!(
            "scenario symptom {symptom:?} names line {line} of {source:?}, \
             which has {} line(s); lines count from 1",
            lines.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_numbers_from_every_spelling() {
        for s in ["9", "-9", "SIGKILL", "KILL", "killed", "Killed"] {
            assert_eq!(signal_number(s), Some(9), "{s}");
        }
        assert_eq!(signal_number("SIGTERM"), Some(15));
        assert_eq!(signal_number("banana"), None);
    }

    #[test]
    fn unknown_placeholders_are_found() {
        assert_eq!(
            unknown_placeholders("{victim} {victm} {cause.pid} {nope.x}"),
            ["victm", "nope.x"]
        );
    }

    #[test]
    fn join_keys_parse() {
        assert_eq!(JoinKey::parse("writer"), Some(JoinKey::Writer));
        assert_eq!(
            JoinKey::parse("child_pid=pid"),
            Some(JoinKey::Field {
                symptom: "child_pid".into(),
                cause: "pid".into()
            })
        );
        assert_eq!(JoinKey::parse("a b"), None);
    }
}
