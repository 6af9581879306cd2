//! Loading rule files: the embedded set, then the user's files and
//! folders, where a rule whose id matches an earlier one replaces it.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::EMBEDDED;
use super::compile::{self, Explain, Pattern};
use super::schema::RuleFile;

/// A problem in a rule file, positioned for an editor to jump to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    /// 1-based; 0 when the problem is with the file as a whole.
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// A warning does not stop the rules from loading.
    pub warning: bool,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = if self.warning { "warning" } else { "error" };
        if self.line == 0 {
            write!(f, "{}: {level}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {level}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for RuleError {}

/// Collects the problems of one file, turning byte spans into lines and
/// columns.
pub(crate) struct Problems<'a> {
    file: &'a str,
    text: &'a str,
    pub(crate) found: Vec<RuleError>,
}

impl<'a> Problems<'a> {
    fn new(file: &'a str, text: &'a str) -> Problems<'a> {
        Problems {
            file,
            text,
            found: Vec::new(),
        }
    }

    pub(crate) fn at(&mut self, span: Range<usize>, message: String) {
        self.push(span, message, false);
    }

    pub(crate) fn warn_at(&mut self, span: Range<usize>, message: String) {
        self.push(span, message, true);
    }

    fn push(&mut self, span: Range<usize>, message: String, warning: bool) {
        let (line, column) = line_column(self.text, span.start);
        self.found.push(RuleError {
            file: self.file.to_owned(),
            line,
            column,
            message,
            warning,
        });
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Where to take rules from.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Leave out the rules compiled into the binary.
    pub no_default_rules: bool,
    /// Rule files, or folders whose `*.toml` files are read in name order.
    pub paths: Vec<PathBuf>,
}

/// The compiled rules, in load order, with overrides applied.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub patterns: Vec<Pattern>,
    pub explains: Vec<Explain>,
}

impl RuleSet {
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty() && self.explains.is_empty()
    }
}

/// Load and compile rules. Returns the rules that compiled and every
/// problem found; the caller decides whether errors are fatal.
pub fn load(opts: &LoadOptions) -> (RuleSet, Vec<RuleError>) {
    let mut loader = Loader::default();
    if !opts.no_default_rules {
        for (name, text) in EMBEDDED {
            loader.add_text(name, text, true);
        }
    }
    for path in &opts.paths {
        loader.add_path(path);
    }
    (loader.set, loader.problems)
}

/// Load rules from one text, as if from a file of that name. For tests
/// and `rules test` on a scenario.
pub fn load_text(name: &str, text: &str) -> (RuleSet, Vec<RuleError>) {
    let mut loader = Loader::default();
    loader.add_text(name, text, false);
    (loader.set, loader.problems)
}

#[derive(Default)]
struct Loader {
    set: RuleSet,
    problems: Vec<RuleError>,
    /// id to (index, embedded?) for patterns and explains.
    pattern_ids: HashMap<Arc<str>, (usize, bool, Arc<str>)>,
    explain_ids: HashMap<Arc<str>, (usize, bool, Arc<str>)>,
}

impl Loader {
    fn add_path(&mut self, path: &Path) {
        let files = if path.is_dir() {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    let mut files: Vec<PathBuf> = entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                        .collect();
                    files.sort();
                    files
                }
                Err(e) => {
                    self.file_problem(
                        path,
                        format!("cannot read folder: {}", io_message(&e)),
                    );
                    return;
                }
            }
        } else {
            vec![path.to_path_buf()]
        };
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => {
                    self.add_text(&file.display().to_string(), &text, false)
                }
                Err(e) => self.file_problem(
                    &file,
                    format!("cannot read: {}", io_message(&e)),
                ),
            }
        }
    }

    fn file_problem(&mut self, path: &Path, message: String) {
        self.problems.push(RuleError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message,
            warning: false,
        });
    }

    fn add_text(&mut self, name: &str, text: &str, embedded: bool) {
        let mut problems = Problems::new(name, text);
        let parsed: RuleFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                problems.at(span, describe_toml_error(&e));
                self.problems.extend(problems.found);
                return;
            }
        };
        let file: Arc<str> = Arc::from(name);

        for def in parsed.pattern {
            let span = def.id.span();
            let id: Arc<str> = Arc::from(def.id.get_ref().as_str());
            if let Some(p) = compile::pattern(def, &file, &mut problems) {
                if p.literals.is_empty() {
                    problems.warn_at(
                        span.clone(),
                        format!(
                            "pattern {id:?} has no literal text every match \
                             contains, so it runs on every line; add \
                             `literals = [...]` to keep the prefilter fast"
                        ),
                    );
                }
                place(
                    &mut self.set.patterns,
                    &mut self.pattern_ids,
                    id,
                    p,
                    embedded,
                    &file,
                    span,
                    &mut problems,
                    "pattern",
                );
            }
        }
        for def in parsed.explain {
            let span = def.id.span();
            let id: Arc<str> = Arc::from(def.id.get_ref().as_str());
            if let Some(x) = compile::explain(def, &file, &mut problems) {
                place(
                    &mut self.set.explains,
                    &mut self.explain_ids,
                    id,
                    x,
                    embedded,
                    &file,
                    span,
                    &mut problems,
                    "explain",
                );
            }
        }
        self.problems.extend(problems.found);
    }
}

/// Add a rule, or replace an earlier one with its id. A user rule may
/// replace a shipped one; two rules with one id from the same side
/// (shipped, or the user's) are an error.
#[allow(clippy::too_many_arguments)]
fn place<T>(
    list: &mut Vec<T>,
    ids: &mut HashMap<Arc<str>, (usize, bool, Arc<str>)>,
    id: Arc<str>,
    rule: T,
    embedded: bool,
    file: &Arc<str>,
    span: Range<usize>,
    problems: &mut Problems,
    what: &str,
) {
    match ids.get(&id) {
        Some(&(index, was_embedded, ref first))
            if was_embedded != embedded =>
        {
            tracing::debug!(%id, file = %file, replaces = %first, "rule replaced");
            list[index] = rule;
            ids.insert(id, (index, embedded, file.clone()));
        }
        Some((_, _, first)) => {
            problems.at(
                span,
                format!(
                    "duplicate {what} id {id:?} (first defined in {first}); \
                     give each rule its own id"
                ),
            );
        }
        None => {
            ids.insert(id, (list.len(), embedded, file.clone()));
            list.push(rule);
        }
    }
}

/// An I/O error as our messages read: lowercase, without the os error
/// number.
fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = s.split(" (os error").next().unwrap_or(&s);
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The toml crate's message, reduced to its first line and lowercased at
/// the start, with a hint for the common mistakes.
fn describe_toml_error(e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_owned();
    let hint = if msg.contains("unknown field") {
        "; check the key's spelling against docs/rules.md"
    } else if msg.contains("missing field") {
        "; every rule needs it"
    } else {
        ""
    };
    let mut m = msg.lines().next().unwrap_or("").to_owned();
    if let Some(first) = m.get(..1) {
        m.replace_range(..1, &first.to_lowercase());
    }
    format!("{m}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_regex_is_reported_with_position() {
        let text =
            "[[pattern]]\nid = \"x\"\nkind = \"k\"\nregex = '(unclosed'\n";
        let (_, problems) = load_text("bad.toml", text);
        let e = &problems[0];
        assert_eq!((e.line, e.column), (4, 9), "{e}");
        assert!(e.message.contains("regex does not compile"), "{e}");
    }

    #[test]
    fn unknown_key_is_reported_with_position() {
        let text = "[[pattern]]\nid = \"x\"\nkind = \"k\"\nregx = 'a'\n";
        let (_, problems) = load_text("bad.toml", text);
        let e = &problems[0];
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("unknown field"), "{e}");
        assert!(e.to_string().starts_with("bad.toml:4:"), "{e}");
    }

    #[test]
    fn duplicate_ids_in_one_side_are_errors() {
        let rule = "[[pattern]]\nid = \"x\"\nkind = \"k\"\nregex = 'abc'\n";
        let (set, problems) = load_text("d.toml", &rule.repeat(2));
        assert_eq!(set.patterns.len(), 1);
        assert!(problems[0].message.contains("duplicate pattern id"));
    }

    #[test]
    fn embedded_rules_load_without_errors() {
        let (set, problems) = load(&LoadOptions::default());
        let errors: Vec<_> = problems.iter().filter(|p| !p.warning).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert!(!set.patterns.is_empty());
    }
}
