//! Events: what a pattern rule recognized in a message, as a kind and
//! typed fields.
//!
//! Events are rare (most lines match nothing), so they own their data:
//! the correlator keeps them across lines and the output prints them
//! after the record that produced them is gone.

use std::fmt;
use std::sync::Arc;

use crate::record::Origin;

/// A field's value. Rule files declare each capture as `int` or `str`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(String),
}

impl Value {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Str(s) => s.trim().parse().ok(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Int(_) => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Str(s) => serde_json::Value::from(s.as_str()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}

/// Who wrote the line an event came from, as its envelope says: the
/// program and pid of a syslog or application log line. Used to join a
/// symptom to evidence the same process logged, and to find that process
/// among the victims' neighbours in a kernel report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Writer {
    pub program: Option<String>,
    pub pid: Option<u32>,
}

/// What a rule recognized in one message.
#[derive(Clone, Debug)]
pub struct Event {
    /// The kind, such as `oom_kill`, `child_exit` or `symptom`.
    pub kind: Arc<str>,
    /// The id of the pattern rule that recognized it.
    pub rule: Arc<str>,
    /// Fields in the order the rule declared its captures.
    pub fields: Vec<(Arc<str>, Value)>,
    pub origin: Origin,
    pub writer: Writer,
    /// True when the line came from the kernel (its envelope was a
    /// kernel one, or the syslog program was `kernel`).
    pub from_kernel: bool,
    /// The line's text (lossy UTF-8, terminator removed), kept for the
    /// explanation's quote.
    pub text: String,
}

impl Event {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(Value::as_int)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// Set a field, replacing an earlier value of the same name.
    pub fn set(&mut self, name: &str, value: Value) {
        match self.fields.iter_mut().find(|(k, _)| &**k == name) {
            Some((_, v)) => *v = value,
            None => self.fields.push((Arc::from(name), value)),
        }
    }
}
