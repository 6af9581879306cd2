//! Join keys: whether one symptom and one candidate cause satisfy a key.

use super::oom_report::{TaskRow, same_comm};
use crate::event::{Event, Value};
use crate::rules::{Explain, JoinKey, values_equal};

/// One side of a join: the event and, for a kernel kill, the task table
/// of the cgroup it happened in.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub event: &'a Event,
    pub tasks: Option<&'a [TaskRow]>,
}

/// Whether `key` holds between `symptom` and `cause` under `rule`.
pub fn holds(
    key: &JoinKey,
    rule: &Explain,
    symptom: Side,
    cause: Side,
) -> bool {
    let (s, c) = (symptom.event, cause.event);
    match key {
        JoinKey::Field {
            symptom: sf,
            cause: cf,
        } => match (s.get(sf), c.get(cf)) {
            (Some(Value::Str(a)), Some(Value::Str(b)))
                if sf == "comm" || cf == "comm" =>
            {
                same_comm(a, b)
            }
            (Some(a), Some(b)) => values_equal(a, b),
            _ => false,
        },
        JoinKey::Writer => {
            s.origin.source == c.origin.source
                && match (s.writer.pid, c.writer.pid) {
                    (Some(a), Some(b)) => a == b,
                    _ => {
                        s.writer.program == c.writer.program
                            || s.writer.program.is_none()
                            || c.writer.program.is_none()
                    }
                }
        }
        JoinKey::WriterInTasks => {
            let Some(pid) =
                s.writer.pid.map(i64::from).or_else(|| s.int("writer_pid"))
            else {
                return false;
            };
            cause
                .tasks
                .is_some_and(|rows| rows.iter().any(|r| r.pid == pid))
        }
        JoinKey::NoTaskTable => cause.tasks.is_none(),
        JoinKey::ForeignPid => {
            let Some(pid) = s.int("pid") else {
                return false;
            };
            let listed = |p: i64| {
                cause
                    .tasks
                    .is_some_and(|rows| rows.iter().any(|r| r.pid == p))
            };
            // A task table that lists the writer shows the log and the
            // kernel share one pid namespace: then a different pid is a
            // different process, not a foreign view of the same one.
            let same_namespace =
                s.writer.pid.is_some_and(|w| listed(i64::from(w)));
            c.int("pid") != Some(pid) && !listed(pid) && !same_namespace
        }
        JoinKey::Victim => c.str("comm").is_some_and(|comm| {
            rule.victims.iter().any(|v| same_comm(v, comm))
        }),
        JoinKey::Cgroup => match (s.str("cgroup"), c.str("cgroup")) {
            (Some(a), Some(b)) => cgroup_related(a, b),
            _ => false,
        },
        JoinKey::Time => true,
    }
}

/// Two cgroup paths name the same group, or one contains the other. A
/// container sees its own cgroup as `/`, so a path is also compared by
/// its last components.
pub fn cgroup_related(a: &str, b: &str) -> bool {
    let a = a.trim_end_matches('/');
    let b = b.trim_end_matches('/');
    if a == b {
        return true;
    }
    let within = |outer: &str, inner: &str| {
        !outer.is_empty()
            && inner.starts_with(outer)
            && inner.as_bytes().get(outer.len()) == Some(&b'/')
    };
    let suffix = |long: &str, short: &str| {
        long.ends_with(short)
            && (short.starts_with('/')
                || long
                    .len()
                    .checked_sub(short.len() + 1)
                    .and_then(|i| long.as_bytes().get(i))
                    == Some(&b'/'))
    };
    within(a, b) || within(b, a) || suffix(a, b) || suffix(b, a)
}

#[cfg(test)]
mod tests {
    use super::cgroup_related;

    #[test]
    fn cgroups_relate_by_containment_and_suffix() {
        assert!(cgroup_related("/kubepods/pod1", "/kubepods/pod1/ctr"));
        assert!(cgroup_related("/oomtest", "/oomtest/"));
        assert!(!cgroup_related("/a", "/ab"));
        assert!(cgroup_related("/system.slice/x.service", "x.service"));
        assert!(!cgroup_related("/system.slice/data.service", "a.service"));
    }
}
