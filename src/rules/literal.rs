//! Required literals of a regex, for the prefilter.
//!
//! A message can only match a pattern if it contains every literal run
//! that sits in the pattern's top-level sequence, outside any
//! alternation, repetition or optional part. The longest such run is the
//! one the prefilter searches for. A case-insensitive or fully
//! alternating regex has none; such a rule is tried on every message,
//! which `rules check` warns about since it costs speed.

use regex_syntax::hir::{Hir, HirKind};

/// The longest literal that every match of `pattern` contains, if it is
/// at least `min_len` bytes long.
pub fn required_literal(pattern: &str, min_len: usize) -> Option<String> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    let mut runs = Vec::new();
    collect(&hir, &mut runs);
    runs.into_iter()
        .filter(|r| r.len() >= min_len)
        .max_by_key(Vec::len)
        .and_then(|r| String::from_utf8(r).ok())
}

/// Collect the literal runs of the top-level concatenation.
fn collect(hir: &Hir, runs: &mut Vec<Vec<u8>>) {
    match hir.kind() {
        HirKind::Literal(lit) => runs.push(lit.0.to_vec()),
        HirKind::Capture(cap) => collect(&cap.sub, runs),
        HirKind::Concat(parts) => {
            let mut current = Vec::new();
            for part in parts {
                match part.kind() {
                    HirKind::Literal(lit) => current.extend_from_slice(&lit.0),
                    HirKind::Capture(cap) => {
                        if let HirKind::Literal(lit) = cap.sub.kind() {
                            current.extend_from_slice(&lit.0);
                        } else {
                            flush(&mut current, runs);
                            collect(&cap.sub, runs);
                        }
                    }
                    HirKind::Look(_) => {}
                    _ => flush(&mut current, runs),
                }
            }
            flush(&mut current, runs);
        }
        _ => {}
    }
}

fn flush(current: &mut Vec<u8>, runs: &mut Vec<Vec<u8>>) {
    if !current.is_empty() {
        runs.push(std::mem::take(current));
    }
}

#[cfg(test)]
mod tests {
    use super::required_literal;

    #[test]
    fn finds_the_longest_required_run() {
        let lit = required_literal(
            r"(?:Memory cgroup o|O)ut of memory: Killed process (?P<pid>\d+)",
            3,
        );
        assert_eq!(lit.as_deref(), Some("ut of memory: Killed process "));
    }

    #[test]
    fn optional_and_alternated_parts_are_not_required() {
        assert_eq!(required_literal(r"(abc|abd)x?", 2), None);
        assert_eq!(required_literal(r"(?i)killed process", 3), None);
    }
}
