//! Explanations: a symptom joined to its root cause, with the evidence
//! between them, and the sentence a user reads.

use std::sync::Arc;

use crate::event::{Event, Value};
use crate::rules::Confidence;
use crate::time::human_duration;

/// A symptom explained.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// The explain rule that made the first link of the chain.
    pub rule: Arc<str>,
    pub confidence: Confidence,
    /// The join keys of every link, first link first.
    pub joined_on: Vec<String>,
    pub message: String,
    pub symptom: Arc<Event>,
    pub cause: Cause,
    /// Events between symptom and cause, nearest the symptom first.
    pub evidence: Vec<Arc<Event>>,
    /// How many causes joined as well as the chosen one; above 1 means
    /// the choice was ambiguous and the nearest in time was taken.
    pub candidates: usize,
    /// A different root cause that also joined, less likely.
    pub alternative: Option<Alternative>,
}

/// The root cause: an event, reported under the kind the chain decided
/// (`oom_kill`, or `sigkill` for a SIGKILL with no OOM evidence).
#[derive(Clone, Debug)]
pub struct Cause {
    pub kind: Arc<str>,
    pub event: Arc<Event>,
}

/// A second root cause that also had evidence.
#[derive(Clone, Debug)]
pub struct Alternative {
    pub kind: Arc<str>,
    pub rule: Arc<str>,
    pub confidence: Confidence,
    pub event: Arc<Event>,
    /// How its rule names this cause.
    pub message: String,
    pub joined_on: Vec<String>,
    /// Why the chosen cause is the likelier one.
    pub reason: String,
}

/// One of two competing causes, as [`likelier`] compares them.
pub struct Ranked<'a> {
    pub kind: &'a str,
    pub confidence: Confidence,
    pub joined_on: &'a [String],
    /// Nanoseconds between symptom and cause.
    pub distance: i64,
    /// The rule's own reason to win a tie, if it gives one.
    pub precedence: Option<&'a str>,
}

/// Why `best` is likelier than `other`: a stronger join, the rule's
/// stated precedence, or nearness in time, in that order.
pub fn likelier(best: Ranked, other: Ranked) -> String {
    let name = |kind: &str| match kind {
        "oom_kill" => "the kernel's OOM kill".to_owned(),
        "time_limit" => "the time limit".to_owned(),
        "sigkill" => "a SIGKILL from elsewhere".to_owned(),
        other => format!("the {other}"),
    };
    let because = if best.confidence > other.confidence {
        format!(
            "it joined on {} ({} confidence), the other only on {} ({})",
            best.joined_on.join(", then "),
            best.confidence.as_str(),
            other.joined_on.join(", then "),
            other.confidence.as_str()
        )
    } else if let Some(p) = best.precedence {
        p.to_owned()
    } else if best.distance < other.distance {
        format!(
            "it is nearer in time ({} against {})",
            human_duration(best.distance),
            human_duration(other.distance)
        )
    } else {
        "its rule takes precedence".to_owned()
    };
    format!("{} is the likelier cause: {because}", name(best.kind))
}

impl Explanation {
    /// The symptom's position, for a live stream's late annotation.
    pub fn symptom_ref(&self, source_name: &str) -> String {
        format!("{source_name}:{}", self.symptom.origin.line)
    }
}

/// Fill a rule's message template.
///
/// Placeholders: `{victim}` (name and pid of the cause), `{child}` (the
/// symptom's pid as "the child (pid N)"), `{when}` (the
/// cause's time and its distance from the symptom), `{memory}` (the
/// memory math, empty when the kernel printed none), `{joined}` (how
/// the join was made), `{symptom.F}` and `{cause.F}` for any field F, and
/// `{evidence.F}` for a field of the first evidence event.
///
/// `anchor` is the line the reader sees the annotation under: `{when}`
/// is said relative to it, even when `symptom` is a later link's.
pub fn render(
    template: &str,
    anchor: &Event,
    symptom: &Event,
    cause: &Event,
    evidence: &[Arc<Event>],
    joined: &str,
) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&placeholder(
            name, anchor, symptom, cause, evidence, joined,
        ));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    squeeze(&out)
}

fn placeholder(
    name: &str,
    anchor: &Event,
    symptom: &Event,
    cause: &Event,
    evidence: &[Arc<Event>],
    joined: &str,
) -> String {
    match name {
        "victim" => victim(cause),
        "child" => match symptom.int("pid") {
            Some(p) => format!("the child (pid {p})"),
            None => "the child".to_owned(),
        },
        "when" => when(anchor, cause),
        "memory" => memory(cause),
        "joined" => joined.to_owned(),
        _ => {
            let (side, field) = name.split_once('.').unwrap_or(("", name));
            let event = match side {
                "symptom" => Some(symptom),
                "cause" => Some(cause),
                "evidence" => evidence.first().map(|e| &**e),
                _ => None,
            };
            event
                .and_then(|e| e.get(field))
                .map(Value::to_string)
                .unwrap_or_else(|| "?".to_owned())
        }
    }
}

/// `claude (pid 2002)`, `pid 2002`, or `the process`.
pub fn victim(cause: &Event) -> String {
    match (cause.str("comm"), cause.int("pid")) {
        (Some(c), Some(p)) => format!("{c} (pid {p})"),
        (None, Some(p)) => format!("pid {p}"),
        (Some(c), None) => c.to_owned(),
        (None, None) => "the process".to_owned(),
    }
}

/// `at 12:34:08.702 UTC, 0.2 s before this line`.
pub fn when(symptom: &Event, cause: &Event) -> String {
    let (Some(c), Some(s)) = (cause.origin.time, symptom.origin.time) else {
        return match cause.origin.time {
            Some(c) => format!("at {} UTC", c.clock_time()),
            None => "at an unknown time".to_owned(),
        };
    };
    let gap = s.since(c);
    let relation = if gap >= 0 { "before" } else { "after" };
    format!(
        "at {} UTC, {} {relation} this line",
        c.clock_time(),
        human_duration(gap)
    )
}

/// The memory math: the victim's resident memory, the cgroup's limit and
/// usage, and how many processes of the same name were alive.
pub fn memory(cause: &Event) -> String {
    let mut parts = Vec::new();
    if let Some(anon) = cause.int("anon_rss_kb") {
        let mut rss = format!("{} resident (anon-rss)", kib(anon));
        if let Some(file) = cause.int("file_rss_kb").filter(|f| *f > 0) {
            rss.push_str(&format!(" + {} file-backed", kib(file)));
        }
        parts.push(rss);
    }
    let cgroup = cause.str("cgroup").or_else(|| cause.str("oom_memcg"));
    match (cause.int("limit_kb"), cause.int("usage_kb")) {
        (Some(limit), usage) if limit < (1 << 50) => {
            let mut s = format!("cgroup limit {}", kib(limit));
            if let Some(cg) = cgroup {
                s = format!("cgroup {cg} limit {}", kib(limit));
            }
            if let Some(u) = usage {
                s.push_str(&format!(", usage {} at the kill", kib(u)));
            }
            parts.push(s);
        }
        _ => {
            if let Some(c) = cause.str("constraint") {
                let scope = match c {
                    "CONSTRAINT_MEMCG" => "a memory cgroup ran out",
                    "CONSTRAINT_NONE" => "the whole host ran out",
                    other => other,
                };
                parts.push(match cgroup {
                    Some(cg) => format!("{scope} (cgroup {cg})"),
                    None => scope.to_owned(),
                });
            }
        }
    }
    if let (Some(alive), Some(comm)) =
        (cause.int("same_name_alive"), cause.str("comm"))
    {
        let total = cause.int("tasks_in_cgroup").unwrap_or(alive);
        parts.push(format!(
            "{alive} {comm} process{} alive at the kill, of {total} in the \
             cgroup",
            if alive == 1 { " was" } else { "es were" }
        ));
    }
    parts.join("; ")
}

/// Kibibytes as people read them: `712 MiB`, `1.4 GiB`, `980 KiB`.
pub fn kib(kb: i64) -> String {
    let kb = kb.max(0) as f64;
    if kb >= 1024.0 * 1024.0 {
        format!("{:.1} GiB", kb / (1024.0 * 1024.0))
    } else if kb >= 1024.0 {
        format!("{:.0} MiB", kb / 1024.0)
    } else {
        format!("{kb:.0} KiB")
    }
}

/// Collapse the doubled spaces and dangling `; ` an empty placeholder
/// leaves behind.
fn squeeze(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.replace(" ()", "")
        .replace("()", "")
        .replace(" ;", ";")
        .replace(";;", ";")
        .trim_end_matches([';', ' '])
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kib_reads_like_a_person_would() {
        assert_eq!(kib(980), "980 KiB");
        assert_eq!(kib(65536), "64 MiB");
        assert_eq!(kib(1_468_000), "1.4 GiB");
    }

    #[test]
    fn squeeze_removes_what_empty_placeholders_leave() {
        assert_eq!(squeeze("killed  ()  now; "), "killed now");
    }
}
