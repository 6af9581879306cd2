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
    /// A scanner for `literals`; `None` when there are none.
    pub fn new<L: AsRef<[u8]>>(literals: &[L]) -> Option<Scanner> {
        if literals.is_empty() {
            return None;
        }
        let packed = packed::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .heuristic_pattern_limits(false)
            .builder()
            .extend(literals)
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
}
