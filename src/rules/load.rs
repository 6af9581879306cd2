//! Loading rule files: the embedded set, then the user's files and
//! folders, where a rule whose id matches an earlier one replaces it.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::compile::{self, Examples, Explain, Pattern};
use super::literal::is_distinctive;
use super::schema::RuleFile;
use super::{EMBEDDED, EMBEDDED_LEAN};

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
    /// Where each line of `text` starts: every rule and example is
    /// placed by line, and counting lines from the top for each made
    /// that a fifth of startup.
    line_starts: Vec<usize>,
    pub(crate) found: Vec<RuleError>,
}

impl<'a> Problems<'a> {
    fn new(file: &'a str, text: &'a str) -> Problems<'a> {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        Problems {
            file,
            text,
            line_starts,
            found: Vec::new(),
        }
    }

    /// How many quote characters open the string at `offset`: 3 for
    /// `'''` or `"""`, 1 for `'` or `"`, 0 otherwise.
    pub(crate) fn quote_len(&self, offset: usize) -> usize {
        let rest = self.text.get(offset..).unwrap_or("");
        if rest.starts_with("'''") || rest.starts_with("\"\"\"") {
            3
        } else if rest.starts_with(['\'', '"']) {
            1
        } else {
            0
        }
    }

    /// The 1-based line and column of a byte offset.
    pub(crate) fn locate(&self, offset: usize) -> (usize, usize) {
        line_column(self.text, &self.line_starts, offset)
    }

    /// The 1-based line of the file a byte offset is on.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.locate(offset).0
    }

    pub(crate) fn at(&mut self, span: Range<usize>, message: String) {
        self.push(span, message, false);
    }

    pub(crate) fn warn_at(&mut self, span: Range<usize>, message: String) {
        self.push(span, message, true);
    }

    fn push(&mut self, span: Range<usize>, message: String, warning: bool) {
        let (line, column) = self.locate(span.start);
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
/// `line_starts` are where `text`'s lines start.
fn line_column(
    text: &str,
    line_starts: &[usize],
    offset: usize,
) -> (usize, usize) {
    let offset = offset.min(text.len());
    // The last line starting at or before `offset`.
    let line = line_starts.partition_point(|&s| s <= offset).max(1);
    let start = line_starts[line - 1];
    let column = text.get(start..offset).map_or(0, |s| s.chars().count());
    (line, column + 1)
}

/// Where to take rules from.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Leave out the rules compiled into the binary.
    pub no_default_rules: bool,
    /// Rule files, or folders whose `*.toml` files are read in name order.
    pub paths: Vec<PathBuf>,
    /// Compile every regex while loading, so that one too large to build
    /// is a rule error; otherwise each is compiled on first use (see
    /// [`super::LazyRegex`]). For `rules check` and `rules test`.
    pub compile_regexes: bool,
    /// Load the shipped rules without their examples and comments
    /// ([`super::EMBEDDED_LEAN`]), for a run: parsing them took a quarter
    /// of the instructions an empty run takes, and only `rules test`
    /// reads them.
    pub lean: bool,
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
    let mut loader = Loader {
        eager: opts.compile_regexes,
        ..Loader::default()
    };
    if !opts.no_default_rules {
        let (files, examples) = if opts.lean {
            (EMBEDDED_LEAN, Examples::LeftOut)
        } else {
            (EMBEDDED, Examples::InText)
        };
        for (name, text) in files {
            loader.add_text(name, text, Origin::Embedded(examples));
        }
    }
    for path in &opts.paths {
        loader.add_path(path);
    }
    loader.resolve_contexts();
    (loader.set, loader.problems)
}

/// Load rules from one text, as if from a file of that name. For tests
/// and `rules test` on a scenario.
pub fn load_text(name: &str, text: &str) -> (RuleSet, Vec<RuleError>) {
    let mut loader = Loader {
        eager: true,
        ..Loader::default()
    };
    loader.add_text(name, text, Origin::User);
    loader.resolve_contexts();
    (loader.set, loader.problems)
}

/// Where a rule file's text comes from: the binary, with or without its
/// examples, or the user.
#[derive(Clone, Copy)]
enum Origin {
    Embedded(Examples),
    User,
}

#[derive(Default)]
struct Loader {
    set: RuleSet,
    problems: Vec<RuleError>,
    /// id to where it was placed, for patterns and explains.
    pattern_ids: HashMap<Arc<str>, Placed>,
    explain_ids: HashMap<Arc<str>, Placed>,
    /// Compile regexes while loading rather than on first use.
    eager: bool,
}

/// Where a rule id was first placed: its index in the set, whether it is
/// a shipped rule, and its file and line.
#[derive(Clone)]
struct Placed {
    index: usize,
    embedded: bool,
    file: Arc<str>,
    line: usize,
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
                Ok(text) => self.add_text(
                    &file.display().to_string(),
                    &text,
                    Origin::User,
                ),
                Err(e) => self.file_problem(
                    &file,
                    format!("cannot read: {}", io_message(&e)),
                ),
            }
        }
    }

    /// Turn the pattern ids of every context into indexes, once all
    /// files are in (a context may name a pattern of a later file, or one
    /// a user's file replaced). A context that names no pattern, or its
    /// own, is an error, and its pattern is never tried.
    fn resolve_contexts(&mut self) {
        let index: HashMap<Arc<str>, u32> = self
            .set
            .patterns
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i as u32))
            .collect();
        let mut broken = Vec::new();
        for (i, p) in self.set.patterns.iter_mut().enumerate() {
            let Some(cx) = &mut p.context else { continue };
            let named = cx.after.iter().chain(&cx.until).zip(&cx.at);
            let mut found = Vec::new();
            for (n, (id, &(line, column))) in named.enumerate() {
                let problem = match index.get(id) {
                    Some(&j) if j as usize == i => {
                        "a pattern cannot open or close its own context"
                    }
                    Some(&j) => {
                        found.push((n < cx.after.len(), j));
                        continue;
                    }
                    None => "no pattern has that id",
                };
                self.problems.push(RuleError {
                    file: p.file.to_string(),
                    line,
                    column,
                    message: format!(
                        "pattern {:?}: its context names {id:?}, but {problem}; \
                         name the ids of patterns that match the lines \
                         around the ones this pattern looks for",
                        p.id
                    ),
                    warning: false,
                });
                broken.push(i);
            }
            cx.opened_by = found.iter().filter(|f| f.0).map(|f| f.1).collect();
            cx.closed_by =
                found.iter().filter(|f| !f.0).map(|f| f.1).collect();
        }
        // Removing the pattern would shift the indexes just resolved.
        for i in broken {
            if let Some(cx) = &mut self.set.patterns[i].context {
                cx.opened_by.clear();
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

    fn add_text(&mut self, name: &str, text: &str, origin: Origin) {
        let embedded = matches!(origin, Origin::Embedded(_));
        let examples = match origin {
            Origin::Embedded(examples) => examples,
            Origin::User => Examples::InText,
        };
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
            if let Some(p) = compile::pattern(
                def,
                &file,
                self.eager,
                examples,
                &mut problems,
            ) {
                let common: Vec<&String> =
                    p.literals.iter().filter(|l| !is_distinctive(l)).collect();
                if p.first_bytes.is_some() || p.context.is_some() {
                    // Checked by the message's first byte, or only in
                    // its context: cheap enough.
                } else if p.literals.is_empty() {
                    problems.warn_at(
                        span.clone(),
                        format!(
                            "pattern {id:?} has no literal text every match \
                             contains, so it runs on every line; add \
                             `literals = [...]` to keep the prefilter fast"
                        ),
                    );
                } else if !common.is_empty() {
                    problems.warn_at(
                        span.clone(),
                        format!(
                            "pattern {id:?}: the literal {:?} is too common \
                             to search whole files for, so every line it \
                             may apply to is searched for it; give \
                             `literals = [...]` of four bytes or more with \
                             two letters, or anchor the regex with `^`",
                            common[0]
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
    ids: &mut HashMap<Arc<str>, Placed>,
    id: Arc<str>,
    rule: T,
    embedded: bool,
    file: &Arc<str>,
    span: Range<usize>,
    problems: &mut Problems,
    what: &str,
) {
    let line = problems.line_of(span.start);
    let index = match ids.get(&id).cloned() {
        Some(first) if first.embedded != embedded => {
            tracing::debug!(%id, file = %file, replaces = %first.file, "rule replaced");
            list[first.index] = rule;
            first.index
        }
        Some(first) => {
            problems.at(
                span,
                format!(
                    "duplicate {what} id {id:?}, first defined at {}:{}; give \
                     each rule its own id (a rule in your own files may \
                     replace a shipped one by taking its id)",
                    first.file, first.line
                ),
            );
            return;
        }
        None => {
            list.push(rule);
            list.len() - 1
        }
    };
    let file = file.clone();
    ids.insert(
        id,
        Placed {
            index,
            embedded,
            file,
            line,
        },
    );
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
/// the start, with what to do about it.
fn describe_toml_error(e: &toml::de::Error) -> String {
    let msg = e.message().trim();
    let mut what = msg.lines().next().unwrap_or("").to_owned();
    if let Some(first) = what.get(..1) {
        what.replace_range(..1, &first.to_lowercase());
    }
    let names = backticked(msg);
    let how = if msg.starts_with("unknown field") {
        unknown_key_hint(&names)
    } else if msg.starts_with("missing field") {
        let key = names.first().map_or("", String::as_str);
        format!(
            "add `{key} = ...` to this table (docs/rules.md lists the keys \
             each table needs)"
        )
    } else if msg.starts_with("unknown variant") {
        "use one of the values listed".to_owned()
    } else {
        "this is a TOML syntax error; a regex is easiest to write as a \
         literal string, '''...''', where backslashes need no escaping"
            .to_owned()
    };
    format!("{what}; {how}")
}

/// The keys each table of a rule file takes, by table.
const TABLE_KEYS: [(&str, &[&str]); 5] = [
    (
        "[[pattern]]",
        &[
            "id",
            "kind",
            "description",
            "regex",
            "kernel",
            "literals",
            "fields",
            "set",
            "map",
            "example",
            "counterexample",
            "unless",
        ],
    ),
    (
        "[[explain]]",
        &[
            "id",
            "description",
            "symptom",
            "cause",
            "absent",
            "reports",
            "confidence",
            "precedence",
            "before",
            "after",
            "victims",
            "join",
            "priority",
            "message",
            "also",
            "example",
        ],
    ),
    ("[[pattern.example]]", &["line", "seen", "fields"]),
    ("[[explain.join]]", &["on", "confidence", "if_missing"]),
    (
        "[[explain.example]]",
        &[
            "seen",
            "sources",
            "boot_time",
            "symptom",
            "cause",
            "fields",
            "confidence",
            "alternative",
        ],
    ),
];

/// What to do about an unknown key: `names` is the key, then the keys
/// the table takes.
fn unknown_key_hint(names: &[String]) -> String {
    let Some((key, expected)) = names.split_first() else {
        return "check the key's spelling against docs/rules.md".to_owned();
    };

    // A key of the enclosing rule, written after a sub-table's header,
    // lands in that sub-table: TOML has no way back out of it.
    let here = TABLE_KEYS.iter().find(|(_, keys)| {
        keys.len() == expected.len()
            && keys.iter().all(|k| expected.iter().any(|e| e == k))
    });
    let owner = TABLE_KEYS
        .iter()
        .find(|(_, keys)| keys.contains(&key.as_str()));
    if let (Some((sub, _)), Some((parent, _))) = (here, owner) {
        let rule = parent.trim_end_matches("]]");
        if sub != parent && sub.starts_with(rule) {
            return format!(
                "`{key}` is a key of {parent}, but it follows a {sub} header \
                 and so belongs to that table; move it above the rule's \
                 first {sub}"
            );
        }
    }

    match expected.iter().min_by_key(|e| edit_distance(key, e)) {
        Some(near) if edit_distance(key, near) <= 2 => {
            format!("did you mean `{near}`?")
        }
        _ => "check the key's spelling against docs/rules.md".to_owned(),
    }
}

/// The names quoted in backticks in a message, in order.
fn backticked(msg: &str) -> Vec<String> {
    msg.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Levenshtein distance, for "did you mean" on short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_regex_is_reported_at_the_column_the_regex_crate_points_at() {
        let text =
            "[[pattern]]\nid = \"x\"\nkind = \"k\"\nregex = 'ab(unclosed'\n";
        let (_, problems) = load_text("bad.toml", text);
        let e = &problems[0];
        assert_eq!((e.line, e.column), (4, 12), "{e}");
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
    fn a_context_naming_no_pattern_is_reported_where_it_is_named() {
        let text = "[[pattern]]\nid = \"row\"\nkind = \"k\"\nregex = '^x'\n\
                    after = [\"head\", \"row\"]\n";
        let (set, problems) = load_text("cx.toml", text);
        let errors: Vec<String> = problems
            .iter()
            .filter(|e| !e.warning)
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].starts_with("cx.toml:5:10: error:"), "{errors:#?}");
        assert!(errors[0].contains("no pattern has that id"), "{errors:#?}");
        assert!(errors[1].contains("its own context"), "{errors:#?}");
        let cx = set.patterns[0].context.as_ref().expect("kept");
        assert!(cx.opened_by.is_empty(), "never tried");
    }

    #[test]
    fn until_without_after_is_an_error() {
        let text = "[[pattern]]\nid = \"x\"\nkind = \"k\"\nregex = 'abc'\n\
                    until = [\"y\"]\n";
        let (_, problems) = load_text("u.toml", text);
        let problems: Vec<_> =
            problems.iter().filter(|e| !e.warning).collect();
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(problems[0].line, 5);
        assert!(problems[0].message.contains("add `after"), "{problems:#?}");
    }

    #[test]
    fn a_context_may_name_a_pattern_defined_after_it() {
        let text = "[[pattern]]\nid = \"row\"\nkind = \"k\"\nregex = '^x'\n\
                    after = [\"head\"]\nuntil = [\"tail\"]\nwithin_lines = 3\n\
                    [[pattern]]\nid = \"head\"\nkind = \"k\"\nregex = 'start here'\n\
                    [[pattern]]\nid = \"tail\"\nkind = \"k\"\nregex = 'stop here'\n";
        let (set, problems) = load_text("ok.toml", text);
        assert!(problems.iter().all(|p| p.warning), "{problems:#?}");
        let cx = set.patterns[0].context.as_ref().expect("context");
        assert_eq!(
            (&cx.opened_by[..], &cx.closed_by[..]),
            (&[1][..], &[2][..])
        );
        assert_eq!(cx.within, 3);
    }

    #[test]
    fn duplicate_ids_in_one_side_are_errors() {
        let rule = "[[pattern]]\nid = \"x\"\nkind = \"k\"\nregex = 'abc'\n";
        let (set, problems) = load_text("d.toml", &rule.repeat(2));
        assert_eq!(set.patterns.len(), 1);
        let e = problems.iter().find(|p| !p.warning).expect("an error");
        assert!(e.message.contains("duplicate pattern id"), "{e}");
        assert!(e.message.contains("first defined at d.toml:2"), "{e}");
    }

    #[test]
    fn embedded_rules_load_without_errors_or_warnings() {
        let (set, problems) = load(&LoadOptions::default());
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(!set.patterns.is_empty());
    }

    /// `build.rs` blanks the shipped files' comments and examples for a
    /// run by reading their TOML only as far as they need: the rules
    /// they load must be the same, each at the same line, with or
    /// without.
    #[test]
    fn lean_embedded_rules_are_the_rules_without_their_examples() {
        let (mut full, problems) = load(&LoadOptions::default());
        assert!(problems.is_empty(), "{problems:#?}");
        let lean_opts = LoadOptions {
            lean: true,
            ..LoadOptions::default()
        };
        let (lean, problems) = load(&lean_opts);
        assert!(problems.is_empty(), "{problems:#?}");

        for p in &mut full.patterns {
            assert!(!p.examples.is_empty(), "{} has examples", p.id);
            p.examples.clear();
            p.counterexamples.clear();
        }
        let scenarios: usize =
            full.explains.iter().map(|x| x.scenarios.len()).sum();
        assert!(scenarios > 0);
        for x in &mut full.explains {
            x.scenarios.clear();
        }
        // A capture's map is a hash map, whose order differs from one
        // instance to the next: compared apart, then left out.
        let (mut lean, mut maps) = (lean, 0);
        for (f, l) in full.patterns.iter_mut().zip(&mut lean.patterns) {
            for (a, b) in f.captures.iter_mut().zip(&mut l.captures) {
                assert_eq!(a.map.take(), b.map.take(), "{}", f.id);
                maps += 1;
            }
        }
        assert!(maps > 0);
        let (full, lean) = (format!("{full:#?}"), format!("{lean:#?}"));
        // The first line that differs, with the lines before it, rather
        // than two whole rule sets.
        if let Some(at) =
            full.lines().zip(lean.lines()).position(|(a, b)| a != b)
        {
            let near = |s: &str| {
                let lines: Vec<&str> = s.lines().collect();
                lines[at.saturating_sub(12)..=at].join("\n")
            };
            panic!("full:\n{}\nlean:\n{}", near(&full), near(&lean));
        }
        assert_eq!(full.len(), lean.len());

        let size = |files: &[(&str, &str)]| {
            files.iter().map(|(_, t)| t.len()).sum::<usize>()
        };
        assert!(size(EMBEDDED_LEAN) * 2 < size(EMBEDDED), "less than half");

        // What stays stays where it was, so that a message about a
        // shipped rule points into the file as written.
        for ((name, text), (lean_name, lean_text)) in
            EMBEDDED.iter().zip(EMBEDDED_LEAN)
        {
            assert_eq!(name, lean_name);
            assert_eq!(text.lines().count(), lean_text.lines().count());
            for (n, (line, kept)) in
                text.lines().zip(lean_text.lines()).enumerate()
            {
                assert!(line.starts_with(kept), "{name}:{}", n + 1);
                assert!(
                    !kept.trim_start().starts_with('#'),
                    "{name}:{}",
                    n + 1
                );
            }
        }
    }

    #[test]
    fn a_regex_too_large_to_build_is_an_error_only_when_compiling_eagerly() {
        let rule = "[[pattern]]\nid = \"big\"\nkind = \"k\"\n\
                    regex = '\\w{1000}\\w{1000}\\w{1000} killed'\n";
        let (set, problems) = load_text("big.toml", rule);
        assert!(set.patterns.is_empty());
        let e = problems.iter().find(|p| !p.warning).expect("an error");
        assert!(e.message.contains("does not compile"), "{e}");
        assert_eq!((e.line, e.column), (4, 10), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, rule).unwrap();
        let lazy = LoadOptions {
            no_default_rules: true,
            paths: vec![path],
            compile_regexes: false,
            lean: false,
        };
        let (set, problems) = load(&lazy);
        assert!(problems.iter().all(|p| p.warning), "{problems:#?}");
        assert!(!set.patterns[0].regex.is_match(b"x killed"));
    }

    #[test]
    fn a_key_after_a_sub_table_header_is_explained() {
        let text = "[[pattern]]\nid = \"x\"\nkind = \"k\"\nregex = 'abc'\n\
                    [[pattern.example]]\nline = 'abc'\nunless = ['x']\n";
        let (_, problems) = load_text("u.toml", text);
        let e = &problems[0];
        assert!(e.message.contains("move it above"), "{e}");
    }

    #[test]
    fn a_misspelt_key_gets_a_suggestion() {
        let text = "[[explain]]\nid = \"x\"\nsymptom = \"a\"\n\
                    absent = \"b\"\nmesage = \"m\"\n";
        let (_, problems) = load_text("m.toml", text);
        assert!(problems[0].message.contains("did you mean `message`?"));
    }
}
