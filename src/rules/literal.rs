//! Required literals of a regex, for the prefilter, and the first bytes
//! of an anchored one.
//!
//! A message can only match a pattern if it contains one string of each
//! finite part of the pattern's top-level sequence: a literal run, an
//! alternation of literals, an optional literal. Joining neighbouring
//! finite parts gives sets of strings, one of which every match holds
//! (`(?:exitCode|ExitCode)":` gives `exitCode":` and `ExitCode":`); the
//! prefilter searches for the best such set. A case-insensitive or fully
//! open regex has none; such a rule is tried on every message, which
//! `rules check` warns about since it costs speed.
//!
//! A regex anchored at the start of the message (`^\[\s*\d+\]`) is
//! better served by the set of bytes its match can start with, checked
//! in constant time per message, than by a short literal that occurs
//! everywhere.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// Sets larger than this are not formed: a prefilter of that many
/// strings would cost more than it saves.
const MAX_SET: usize = 16;

/// Lengths beyond this do not make a literal rarer in practice; past it,
/// a set of fewer strings is preferred over a longer one.
const ENOUGH: usize = 12;

/// Whether a literal is rare enough in logs to be searched for over
/// whole buffers: four bytes or more, two of them letters. Digits,
/// spaces and brackets (`137`, `]  `) occur in almost every log line.
pub fn is_distinctive(literal: &str) -> bool {
    literal.len() >= 4
        && literal.bytes().filter(u8::is_ascii_alphabetic).count() >= 2
}

/// How good a candidate set is, best highest: its shortest string's
/// length up to [`ENOUGH`], then fewer strings, then the shortest
/// string's full length.
type Score = (usize, isize, usize);

/// The strings of which every match of the parsed regex `hir` contains
/// at least one, each at least `min_len` bytes long; empty when there
/// is no such set.
pub fn required_literals(hir: &Hir, min_len: usize) -> Vec<String> {
    let parts: Vec<&Hir> = match top(hir).kind() {
        HirKind::Concat(parts) => parts.iter().map(top).collect(),
        _ => vec![top(hir)],
    };
    let finite: Vec<Option<Vec<Vec<u8>>>> =
        parts.iter().map(|p| strings(p)).collect();

    // Every run of neighbouring finite parts, joined, is a candidate.
    let mut best: Option<(Vec<Vec<u8>>, Score)> = None;
    for start in 0..finite.len() {
        let mut joined = vec![Vec::new()];
        for part in &finite[start..] {
            let Some(set) = part else { break };
            joined = match cross(&joined, set) {
                Some(j) => j,
                None => break,
            };
            let shortest = joined.iter().map(Vec::len).min().unwrap_or(0);
            if shortest < min_len
                || joined.iter().any(|s| std::str::from_utf8(s).is_err())
            {
                continue;
            }
            let key =
                (shortest.min(ENOUGH), -(joined.len() as isize), shortest);
            if best.as_ref().is_none_or(|(_, k)| key > *k) {
                best = Some((joined.clone(), key));
            }
        }
    }
    best.map(|(set, _)| {
        let mut set: Vec<String> = set
            .into_iter()
            .filter_map(|s| String::from_utf8(s).ok())
            .collect();
        set.dedup();
        set
    })
    .unwrap_or_default()
}

/// The bytes a match can start with, when the regex is anchored at the
/// start of the message; `None` when it is not, or when that set
/// cannot be worked out.
pub fn anchored_first_bytes(hir: &Hir) -> Option<Box<[bool; 256]>> {
    let parts: Vec<&Hir> = match top(hir).kind() {
        HirKind::Concat(parts) => parts.iter().collect(),
        _ => return None,
    };
    match parts.first()?.kind() {
        HirKind::Look(Look::Start) => {}
        _ => return None,
    }
    let mut set = Box::new([false; 256]);
    first_bytes(parts.get(1)?, &mut set)?;
    Some(set)
}

/// Add to `set` the bytes a match of `hir` can start with; `None` when
/// it may match the empty string or its start is not known.
fn first_bytes(hir: &Hir, set: &mut [bool; 256]) -> Option<()> {
    match hir.kind() {
        HirKind::Literal(lit) => {
            set[*lit.0.first()? as usize] = true;
            Some(())
        }
        HirKind::Class(Class::Bytes(class)) => {
            for r in class.iter() {
                for b in r.start()..=r.end() {
                    set[b as usize] = true;
                }
            }
            Some(())
        }
        HirKind::Class(Class::Unicode(class)) => {
            // The first byte of each scalar value's UTF-8 form: for a
            // range, every leading byte between its ends' covers it.
            for r in class.iter() {
                let mut lo = [0; 4];
                let mut hi = [0; 4];
                let lo = r.start().encode_utf8(&mut lo).as_bytes()[0];
                let hi = r.end().encode_utf8(&mut hi).as_bytes()[0];
                for b in lo..=hi {
                    set[b as usize] = true;
                }
            }
            Some(())
        }
        HirKind::Capture(cap) => first_bytes(&cap.sub, set),
        HirKind::Repetition(rep) if rep.min > 0 => first_bytes(&rep.sub, set),
        HirKind::Concat(parts) => first_bytes(parts.first()?, set),
        HirKind::Alternation(branches) => {
            for b in branches {
                first_bytes(b, set)?;
            }
            Some(())
        }
        _ => None,
    }
}

/// `hir` without the capture groups around it.
fn top(hir: &Hir) -> &Hir {
    match hir.kind() {
        HirKind::Capture(cap) => top(&cap.sub),
        _ => hir,
    }
}

/// Every string `hir` can match, when they are few; the empty string
/// for a zero-width assertion.
fn strings(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(lit) => Some(vec![lit.0.to_vec()]),
        HirKind::Capture(cap) => strings(&cap.sub),
        HirKind::Concat(parts) => {
            let mut joined = vec![Vec::new()];
            for part in parts {
                joined = cross(&joined, &strings(part)?)?;
            }
            Some(joined)
        }
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for b in branches {
                all.extend(strings(b)?);
                if all.len() > MAX_SET {
                    return None;
                }
            }
            Some(all)
        }
        HirKind::Repetition(rep) if rep.max == Some(1) => {
            let mut all = strings(&rep.sub)?;
            if rep.min == 0 {
                all.push(Vec::new());
            }
            Some(all)
        }
        _ => None,
    }
}

/// Each string of `a` followed by each of `b`, if there are few.
fn cross(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::lazy_regex::parse;

    fn literals(pattern: &str, min_len: usize) -> Vec<String> {
        super::required_literals(&parse(pattern).unwrap(), min_len)
    }

    #[test]
    fn finds_the_longest_required_run() {
        assert_eq!(
            literals(
                r"(?:Memory cgroup o|O)ut of memory: Killed process (?P<pid>\d+)",
                3,
            ),
            ["ut of memory: Killed process "]
        );
    }

    #[test]
    fn joins_alternations_and_optional_parts() {
        assert_eq!(
            literals(r#""(?:exitCode|ExitCode)":\s*(?P<code>137)\b"#, 3),
            [r#""exitCode":"#, r#""ExitCode":"#]
        );
        assert_eq!(
            literals(r"\bpid (\d+) .*?\breturn ?code[ =:]+(-9)\b", 3),
            ["return code", "returncode"]
        );
        assert_eq!(
            literals(r"\b(?:failed with|exit status) (-9)\b", 3),
            ["failed with -9", "exit status -9"]
        );
    }

    #[test]
    fn optional_and_alternated_parts_are_not_required_alone() {
        assert!(literals(r"(abc|abd)x?", 4).is_empty());
        assert_eq!(literals(r"(abc|abd)x?", 3), ["abc", "abd"]);
        assert!(literals(r"(?i)killed process", 3).is_empty());
        assert!(literals(r"a?bc", 3).is_empty());
    }

    #[test]
    fn first_bytes_of_anchored_regexes() {
        let first = |p: &str| {
            super::anchored_first_bytes(&parse(p).unwrap()).map(|set| {
                (0..=255u8).filter(|&b| set[b as usize]).collect::<Vec<_>>()
            })
        };
        assert_eq!(first(r"^\[\s*(?P<pid>\d+)\]"), Some(vec![b'[']));
        assert_eq!(first(r"^(?:Killed|Out)"), Some(vec![b'K', b'O']));
        let space = first(r"^\s+(\d+)").unwrap();
        assert!(space.contains(&b' ') && space.contains(&b'\t'));
        assert!(!space.contains(&b'1'));
        assert_eq!(first(r"Killed"), None);
        assert_eq!(first(r"^\s*x"), None);
    }
}
