//! The rule file format, as serde reads it.
//!
//! A rule file holds `[[pattern]]` tables (a regex that turns a message
//! into an event) and `[[explain]]` tables (which event explains which).
//! Unknown keys are errors, so a misspelt key is reported with its
//! position instead of being silently ignored. docs/rules.md is the
//! user-facing description of every key here.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// One rule file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub pattern: Vec<PatternDef>,
    #[serde(default)]
    pub explain: Vec<ExplainDef>,
}

/// A pattern rule: a regex with named captures that yields one event.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternDef {
    pub id: Spanned<String>,
    /// The event kind, such as `oom_kill` or `child_exit`.
    pub kind: String,
    #[serde(default)]
    pub description: String,
    /// Matched against the message (the text after the envelope).
    pub regex: Spanned<String>,
    /// Only lines from the kernel (`dmesg`, kmsg, syslog `kernel:`).
    #[serde(default)]
    pub kernel: bool,
    /// Literals of which at least one must occur in a message for the
    /// regex to be tried. Derived from the regex when absent.
    #[serde(default)]
    pub literals: Option<Vec<String>>,
    /// The type of each named capture; captures not listed are strings.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldType>,
    /// Constant fields added to every event of this rule.
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
    /// Per capture, a table that rewrites captured text to a value.
    #[serde(default)]
    pub map: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// Lines that double as tests: each must yield the given fields.
    #[serde(default)]
    pub example: Vec<ExampleDef>,
    /// Lines that must not match this rule.
    #[serde(default)]
    pub counterexample: Vec<Spanned<String>>,
    /// Texts that veto a match: a message holding any of them yields no
    /// event from this rule (the regex crate has no look-around).
    #[serde(default)]
    pub unless: Vec<String>,
    /// Pattern ids that open this pattern's context: it is tried only on
    /// the lines of a log that follow a line one of them matched (a
    /// table's rows, after the line that starts the report holding it).
    #[serde(default)]
    pub after: Vec<Spanned<String>>,
    /// Pattern ids that close the context before `within_lines` runs out.
    #[serde(default)]
    pub until: Vec<Spanned<String>>,
    /// How many lines after its opening line the context lasts at most.
    #[serde(default)]
    pub within_lines: Option<Spanned<u64>>,
}

/// How a captured string becomes a field value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Text, as captured.
    Str,
    /// A decimal integer, sign allowed.
    Int,
    /// A signal, given as a number (`9`, `-9`), a name (`SIGKILL`, `KILL`)
    /// or a word (`killed`): stored as its number.
    Signal,
}

/// An inline example of a pattern rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleDef {
    /// A whole input line, envelope included.
    pub line: Spanned<String>,
    /// Where the line was seen: a fixture path or a public address.
    #[serde(default)]
    pub seen: Option<String>,
    /// Fields the event must have, with these values.
    #[serde(default)]
    pub fields: BTreeMap<String, toml::Value>,
}

/// An explain rule: which event explains a symptom, and how they join.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainDef {
    pub id: Spanned<String>,
    #[serde(default)]
    pub description: String,
    pub symptom: Selector,
    /// The explaining event. Absent together with `absent`: the rule then
    /// explains the symptom by itself when no event of that kind joins.
    #[serde(default)]
    pub cause: Option<Selector>,
    /// The rule applies only when no explanation whose root cause is of
    /// one of these kinds was found for the symptom: the "it was not the
    /// OOM killer" rules. A string or an array of strings.
    #[serde(default, deserialize_with = "one_or_many")]
    pub absent: Vec<String>,
    /// The confidence of a rule that fires on `absent` (default medium).
    #[serde(default)]
    pub confidence: Option<Confidence>,
    /// Why this rule's cause is the likelier one when another rule's
    /// cause joins the same symptom just as well: a clause that follows
    /// "because" in the explanation (`the kernel names this very pid as
    /// its victim`).
    #[serde(default)]
    pub precedence: Option<String>,
    /// The root cause kind to report when the rule fires on `absent`.
    #[serde(default)]
    pub reports: Option<String>,
    /// How far before the symptom the cause may be (`90s`).
    #[serde(default = "default_before")]
    pub before: Spanned<String>,
    /// How far after the symptom the cause may be (`5s`).
    #[serde(default = "default_after")]
    pub after: Spanned<String>,
    /// Process names the cause is expected to have, for the `victim`
    /// join (the kernel cuts names to 15 bytes; that is allowed for).
    #[serde(default)]
    pub victims: Vec<String>,
    /// Ways to join, best first; the first that finds a cause decides
    /// the confidence.
    #[serde(default)]
    pub join: Vec<JoinDef>,
    /// Ties between rules: higher wins at equal confidence.
    #[serde(default)]
    pub priority: i32,
    /// The annotation, with `{placeholders}`; see docs/rules.md.
    pub message: String,
    /// How the cause is named when it is the less likely of two (the
    /// explanation says "also possible: ..."); `message` when absent.
    #[serde(default)]
    pub also: Option<String>,
    /// A scenario that doubles as a test: lines, and what must be said.
    #[serde(default)]
    pub example: Vec<ScenarioDef>,
}

/// Chooses events: a kind (or an array of kinds) and fields that must
/// have given values (an array value means any one of them).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Selector {
    Kind(#[serde(deserialize_with = "one_or_many")] Vec<String>),
    Full {
        #[serde(deserialize_with = "one_or_many")]
        kind: Vec<String>,
        #[serde(default, rename = "where")]
        where_: BTreeMap<String, toml::Value>,
    },
}

/// One way of joining a symptom to a cause.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinDef {
    /// Join keys, all of which must hold: a field name shared by both
    /// sides (`pid`), `symptom_field=cause_field`, or one of the special
    /// keys `writer`, `writer_in_tasks`, `foreign_pid`, `victim`,
    /// `cgroup`, `time`.
    pub on: Vec<String>,
    pub confidence: Confidence,
    /// The join is tried only when the symptom lacks all of these
    /// fields: a weak join by name or time must not override what a
    /// logged pid says.
    #[serde(default)]
    pub if_missing: Vec<String>,
}

/// How sure an explanation is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// An explain rule's example scenario: input lines by source, and the
/// explanation that must come out.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDef {
    /// Where the lines were seen: a fixture capture or a public address.
    #[serde(default)]
    pub seen: Option<String>,
    /// Source name to its lines, in order.
    pub sources: BTreeMap<String, Vec<String>>,
    /// Boot time for kernel monotonic stamps (RFC 3339 or epoch).
    #[serde(default)]
    pub boot_time: Option<String>,
    /// Expected: the symptom's source and 1-based line.
    pub symptom: Spanned<String>,
    /// Expected root cause kind, or `none` when nothing must be said.
    pub cause: String,
    /// Expected cause fields.
    #[serde(default)]
    pub fields: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub confidence: Option<Confidence>,
    /// Expected: the kind of the other cause the explanation names as
    /// also possible, or `none` when it must name none.
    #[serde(default)]
    pub alternative: Option<String>,
}

/// A string, or an array of strings.
fn one_or_many<'de, D>(d: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

fn default_before() -> Spanned<String> {
    Spanned::new(0..0, "90s".to_owned())
}

fn default_after() -> Spanned<String> {
    Spanned::new(0..0, "10s".to_owned())
}

impl Selector {
    pub fn kinds(&self) -> &[String] {
        match self {
            Selector::Kind(k) | Selector::Full { kind: k, .. } => k,
        }
    }

    pub fn conditions(&self) -> Option<&BTreeMap<String, toml::Value>> {
        match self {
            Selector::Kind(_) => None,
            Selector::Full { where_, .. } => Some(where_),
        }
    }
}
