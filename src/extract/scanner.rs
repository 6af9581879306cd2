//! The search for the rules' distinctive literals over whole buffers,
//! which decides for most lines that no rule needs them.
//!
//! With the shipped library that is some eighty strings. An
//! Aho-Corasick automaton with that many has no prefilter to skip ahead
//! with, and walks every byte at about 500 MB/s on this project's
//! machines; the packed Teddy searcher (SIMD, from the same crate)
//! scans the same buffers at 1.3 to 1.9 GB/s and builds in a tenth of a
//! millisecond instead of two. The crate only offers Teddy for more
//! than 64 strings when its heuristic limit is turned off, which this
//! does: the literals are distinctive, so Teddy's verification step
//! rarely runs. Where Teddy cannot be built (no SSSE3, too many or too
//! short strings) the automaton is used.

use std::ops::Range;

use aho_corasick::packed::{self, MatchKind};
use aho_corasick::{AhoCorasick, Input, Span};

/// Finds the first of a set of literals in a haystack.
pub struct Scanner {
    kind: Kind,
}

enum Kind {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Scanner {
    /// A scanner for `literals`; `None` when there are none. It may also
    /// report lines that hold only part of a literal (see [`tail`]), so
    /// a line it finds must still be searched for the literals
    /// themselves.
    pub fn new<L: AsRef<[u8]>>(literals: &[L]) -> Option<Scanner> {
        if literals.is_empty() {
            return None;
        }
        let mut tails: Vec<&[u8]> =
            literals.iter().map(|l| tail(l.as_ref())).collect();
        tails.sort_unstable();
        tails.dedup();
        let packed = packed::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .heuristic_pattern_limits(false)
            .builder()
            .extend(&tails)
            .build();
        let kind = match packed {
            Some(searcher) => Kind::Packed(searcher),
            None => Kind::Automaton(
                AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                    .build(literals)
                    .ok()?,
            ),
        };
        Some(Scanner { kind })
    }

    /// Where the first literal found in `haystack[span]` starts.
    pub fn find(&self, haystack: &[u8], span: Range<usize>) -> Option<usize> {
        match &self.kind {
            Kind::Packed(s) => {
                s.find_in(haystack, Span::from(span)).map(|m| m.start())
            }
            Kind::Automaton(ac) => {
                ac.find(Input::new(haystack).span(span)).map(|m| m.start())
            }
        }
    }

    /// Whether any literal occurs in `haystack`.
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.find(haystack, 0..haystack.len()).is_some()
    }
}

/// The part of `literal` to search for: from the window of four bytes
/// least likely to occur in log text to the end. Teddy filters on the
/// first four bytes of each string, so a string starting with a space
/// and common letters (`(terminated by SIGKILL`) would stop it at
/// nearly every word; `SIGKILL` lets it skip ahead.
fn tail(literal: &[u8]) -> &[u8] {
    const WINDOW: usize = 4;
    if literal.len() <= WINDOW {
        return literal;
    }
    let cost = |w: &[u8]| w.iter().map(|&b| commonness(b) as u32).sum::<u32>();
    let best = (0..=literal.len() - WINDOW)
        .min_by_key(|&i| cost(&literal[i..i + WINDOW]))
        .unwrap_or(0);
    &literal[best..]
}

/// How common a byte is in log text, roughly: spaces most, then
/// frequent lowercase letters, digits and everyday punctuation, then
/// capitals; anything else is rare.
fn commonness(b: u8) -> u8 {
    match b {
        b' ' => 255,
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 240,
        b'h' | b'l' | b'd' | b'c' | b'u' | b'm' => 220,
        b'0'..=b'9' => 220,
        b'f' | b'p' | b'g' | b'w' | b'y' | b'b' | b'v' => 200,
        b'.' | b':' | b',' | b'-' | b'_' | b'/' | b'=' => 200,
        b'[' | b']' | b'(' | b')' | b'"' | b'\'' => 170,
        b'k' | b'x' | b'j' | b'q' | b'z' => 150,
        b'A'..=b'Z' => 120,
        _ => 60,
    }
}

#[cfg(test)]
mod tests {
    use super::Scanner;

    #[test]
    fn finds_the_leftmost_literal_in_a_span() {
        let s =
            Scanner::new(&["oom-kill", "Killed process", "SIGKILL"]).unwrap();
        let hay = b"noise SIGKILL then Killed process 42 and oom-kill";
        assert_eq!(s.find(hay, 0..hay.len()), Some(6));
        assert_eq!(s.find(hay, 7..hay.len()), Some(19));
        assert_eq!(s.find(hay, 7..30), None);
        assert!(!s.is_match(b"short"));
        assert!(Scanner::new::<&str>(&[]).is_none());
    }

    #[test]
    fn searches_from_the_rarest_window() {
        assert_eq!(super::tail(b"(terminated by SIGKILL"), b"SIGKILL");
        assert_eq!(super::tail(b" due to "), b" due to ");
        assert_eq!(super::tail(b"SIGKILL"), b"SIGKILL");
        assert_eq!(super::tail(b"abc"), b"abc");
    }
}
