//! A pattern's regex, checked when the rules load and compiled when a
//! line first needs it.
//!
//! Compiling the shipped library's regexes (Unicode classes, capture
//! groups, the meta engine's prefilters) takes tens of milliseconds,
//! which would be most of truecause's startup; yet on a typical input
//! only the few patterns whose literals occur ever run. So loading only
//! parses each regex (with `regex-syntax`, the same parser the regex
//! crate uses, in the same byte-oriented mode), which catches every
//! syntax error with its position and gives the capture names, and the
//! compiled form is built on first use.
//!
//! What parsing cannot catch is a regex too large to compile within the
//! regex crate's size limit. `rules check`, `rules test` and
//! [`super::load_text`] compile eagerly and report that as a rule
//! error; a run reports it on first use, once, and the pattern then
//! matches nothing.

use std::fmt;
use std::sync::OnceLock;

use regex::bytes::{Captures, Regex};
use regex_syntax::hir::{Hir, HirKind};

/// A regex compiled on first use. Cloning keeps whatever was compiled.
#[derive(Clone)]
pub struct LazyRegex {
    source: Box<str>,
    compiled: OnceLock<Result<Regex, regex::Error>>,
}

impl LazyRegex {
    /// A regex for `source`, which the caller has parsed already.
    pub(super) fn new(source: &str) -> LazyRegex {
        LazyRegex {
            source: source.into(),
            compiled: OnceLock::new(),
        }
    }

    /// The regex as written in the rule.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Compile now, if not done yet; the error if it does not build.
    pub fn compile(&self) -> Result<&Regex, &regex::Error> {
        self.compiled
            .get_or_init(|| Regex::new(&self.source))
            .as_ref()
    }

    /// The compiled regex, or `None` if it cannot be compiled (said once
    /// on stderr, by whichever call compiled it).
    pub fn get(&self) -> Option<&Regex> {
        let first = self.compiled.get().is_none();
        match self.compile() {
            Ok(r) => Some(r),
            Err(e) => {
                if first {
                    tracing::error!(
                        "a rule's regex does not compile, so it matches \
                         nothing: {}",
                        e.to_string().lines().last().unwrap_or("").trim()
                    );
                }
                None
            }
        }
    }

    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.get().is_some_and(|r| r.is_match(haystack))
    }

    pub fn captures<'h>(&self, haystack: &'h [u8]) -> Option<Captures<'h>> {
        self.get()?.captures(haystack)
    }
}

impl fmt::Debug for LazyRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyRegex")
            .field("source", &self.source)
            .field("compiled", &self.compiled.get().is_some())
            .finish()
    }
}

/// A regex parsed as `regex::bytes::Regex` parses it: its syntax tree,
/// or the error's description and byte offset in `source`.
pub(super) fn parse(source: &str) -> Result<Hir, (String, usize)> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(source)
        .map_err(|e| match &e {
            regex_syntax::Error::Parse(e) => {
                (e.kind().to_string(), e.span().start.offset)
            }
            regex_syntax::Error::Translate(e) => {
                (e.kind().to_string(), e.span().start.offset)
            }
            _ => (e.to_string(), 0),
        })
}

/// The capture groups of `hir` in index order, `None` for an unnamed
/// group; index 0 (the whole match) first, as `Regex::capture_names`
/// gives them.
pub(super) fn capture_names(hir: &Hir) -> Vec<Option<String>> {
    let mut names = vec![None];
    collect_captures(hir, &mut names);
    names
}

fn collect_captures(hir: &Hir, names: &mut Vec<Option<String>>) {
    match hir.kind() {
        HirKind::Capture(cap) => {
            let index = cap.index as usize;
            if names.len() <= index {
                names.resize(index + 1, None);
            }
            names[index] = cap.name.as_deref().map(str::to_owned);
            collect_captures(&cap.sub, names);
        }
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            for part in parts {
                collect_captures(part, names);
            }
        }
        HirKind::Repetition(rep) => collect_captures(&rep.sub, names),
        HirKind::Empty
        | HirKind::Literal(_)
        | HirKind::Class(_)
        | HirKind::Look(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_names_follow_the_compiled_regex() {
        for source in [
            r"a(?P<x>b)(c)(?:d(?P<y>e|(?P<z>f)))*",
            r"Killed process (?P<pid>\d+) \((?P<comm>[^)]*)\)",
            r"(?P<first>x)|(?P<second>y)",
            r"plain",
        ] {
            let hir = parse(source).unwrap();
            let compiled = Regex::new(source).unwrap();
            let want: Vec<Option<String>> = compiled
                .capture_names()
                .map(|n| n.map(str::to_owned))
                .collect();
            assert_eq!(capture_names(&hir), want, "{source}");
        }
    }

    #[test]
    fn parse_errors_carry_the_offset() {
        let (what, at) = parse(r"ok (unclosed").unwrap_err();
        assert!(what.contains("unclosed group"), "{what}");
        assert_eq!(at, 3);
        let (what, at) = parse(r"ab\q").unwrap_err();
        assert!(what.contains("escape"), "{what}");
        assert_eq!(at, 2);
    }

    #[test]
    fn compiles_once_on_first_use() {
        let lazy = LazyRegex::new(r"out of memory: Killed process (\d+)");
        assert!(lazy.compiled.get().is_none());
        assert!(lazy.is_match(b"oom: out of memory: Killed process 42"));
        assert!(lazy.compiled.get().is_some());
        let caps = lazy.captures(b"out of memory: Killed process 7").unwrap();
        assert_eq!(&caps[1], b"7");
    }

    #[test]
    fn a_regex_over_the_size_limit_matches_nothing() {
        // Parses, but exceeds the regex crate's default compiled size.
        let source = r"\w{1000}\w{1000}\w{1000}";
        assert!(parse(source).is_ok());
        let lazy = LazyRegex::new(source);
        assert!(lazy.compile().is_err());
        assert!(!lazy.is_match(b"abc"));
        assert!(lazy.compile().is_err());
    }
}
