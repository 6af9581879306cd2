//! The extract stage: messages to events, with the rules' prefilter.
//!
//! Most lines match no rule, so the cost that matters is deciding that
//! quickly. Every pattern has required literals; one Aho-Corasick
//! automaton searches a message for all of them at once, and only the
//! patterns whose literal occurs run their regex. Patterns without a
//! literal run on every message (`rules check` warns about those).
//!
//! Replay asks first, for whole buffers, which lines hold any of the
//! *distinctive* literals ([`Extractor::scanner`], searched by the input
//! stage). A literal that is not distinctive (`137`, three spaces)
//! would occur in line after line, so it is looked for only in the
//! messages of lines its patterns apply to ([`Extractor::needs_message`]);
//! and a pattern anchored at the message's start with such literals is
//! checked by the message's first byte instead. A pattern with a context
//! (the task table's rows) is tried only where [`Contexts`] says one of
//! its `after` patterns opened it; outside every context, when all other
//! patterns have distinctive literals ([`Extractor::scanner_suffices`]),
//! a line the scanner passes over cannot yield an event, and replay may
//! skip it unread. [`Extractor::extract_all`] is the plain path that runs
//! every regex on every message, against which the prefiltered path is
//! tested.

mod scanner;

use aho_corasick::{
    AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind,
};
use memchr::memmem;

pub use scanner::Scanner;

use crate::envelope::Envelope;
use crate::event::{Event, Value, Writer};
use crate::record::Origin;
use crate::rules::{Pattern, is_distinctive};

/// Turns messages into events with the compiled pattern rules.
pub struct Extractor {
    patterns: Vec<Pattern>,
    prefilter: Option<AhoCorasick>,
    /// For each literal of the automaton, the patterns that need it.
    literal_patterns: Vec<Vec<u32>>,
    /// Patterns with no literal, tried on every message (of their
    /// context).
    always: Vec<u32>,
    /// Every literal, for whole-buffer scans by the input stage.
    literals: Vec<String>,
    /// The distinctive literals, for whole-buffer scans.
    scanner: Option<Scanner>,
    /// The literals that are not distinctive: a searcher, the index of
    /// the literal, whether all its patterns are kernel-only (so only
    /// kernel messages need looking at), and whether all of them have a
    /// context (so only lines in one need looking at).
    short: Vec<(memmem::Finder<'static>, usize, bool, bool)>,
    /// Patterns checked by the first byte of the message: the pattern,
    /// and whether it is kernel-only.
    anchored: Vec<(u32, bool)>,
    /// Whether some short literal or anchored pattern applies beyond
    /// the kernel's messages.
    short_beyond_kernel: bool,
    /// The patterns that open or close a context, whose matches
    /// [`Contexts`] remembers.
    marks: Vec<bool>,
    /// The patterns that have a context.
    gated: Vec<u32>,
    /// Whether a line outside every context can yield an event only if
    /// the scanner finds a literal in it.
    scanner_suffices: bool,
}

/// The extract stage's memory of one log: the line on which each
/// pattern that opens or closes a context last matched.
#[derive(Clone, Debug, Default)]
pub struct Contexts {
    /// By pattern index; 0 for never.
    fired: Vec<u64>,
    /// Every context counts as open: a line looked at on its own (a
    /// corpus case), where there is no log around it.
    everywhere: bool,
}

impl Contexts {
    /// For a line looked at on its own: every pattern is tried.
    pub fn everywhere() -> Contexts {
        Contexts {
            fired: Vec::new(),
            everywhere: true,
        }
    }
}

/// What the literal searches found in a line, from which
/// [`Extractor::extract`] picks the patterns to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Nothing found, or nothing searched yet: search the message for
    /// every literal.
    Unknown,
    /// No distinctive literal in the line: only the short literals and
    /// anchored patterns need looking at.
    ShortOnly,
}

/// The line an event is extracted from, as the pipeline knows it.
pub struct LineInfo<'a> {
    /// The whole line without its terminator.
    pub content: &'a [u8],
    /// Where the message starts in `content`.
    pub message_start: usize,
    pub origin: Origin,
    pub writer: Writer,
    pub kernel: bool,
}

impl<'a> LineInfo<'a> {
    /// A line read on its own, as line 1 of source 0 with no time: a
    /// rule's example, or a line of the test corpus. The writer is the
    /// program and pid its envelope names.
    pub fn standalone(content: &'a [u8], env: &Envelope) -> LineInfo<'a> {
        let span = |(s, e): (usize, usize)| {
            String::from_utf8_lossy(&content[s..e]).into_owned()
        };
        LineInfo {
            content,
            message_start: env.message,
            origin: Origin {
                source: 0,
                line: 1,
                time: None,
                time_inherited: false,
            },
            writer: Writer {
                program: env.program.map(span),
                pid: env.pid,
            },
            kernel: env.kernel,
        }
    }

    /// Whether a kernel-only pattern may look at this line: it is the
    /// kernel's, or no envelope was recognized at all (the message is
    /// the whole line), as in an excerpt pasted without its stamps. A
    /// line that some program's envelope claims is never the kernel's.
    pub fn kernel_or_bare(&self) -> bool {
        self.kernel || self.message_start == 0
    }
}

impl Extractor {
    pub fn new(patterns: Vec<Pattern>) -> Extractor {
        let mut literals: Vec<String> = Vec::new();
        let mut literal_patterns: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        let mut anchored = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let weak = p.literals.iter().any(|l| !is_distinctive(l));
            if p.first_bytes.is_some() && (weak || p.literals.is_empty()) {
                anchored.push((i as u32, p.kernel_only));
                continue;
            }
            if p.literals.is_empty() {
                always.push(i as u32);
            }
            for lit in &p.literals {
                match literals.iter().position(|l| l == lit) {
                    Some(j) => literal_patterns[j].push(i as u32),
                    None => {
                        literals.push(lit.clone());
                        literal_patterns.push(vec![i as u32]);
                    }
                }
            }
        }
        // Run only on candidate lines, so built for a quick start (a
        // tenth of the time of a DFA) rather than the fastest search.
        let prefilter = (!literals.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(&literals)
                .expect("rule literals always build an automaton")
        });
        let distinctive: Vec<&String> =
            literals.iter().filter(|l| is_distinctive(l)).collect();
        let scanner = Scanner::new(&distinctive);
        let has_context: Vec<bool> =
            patterns.iter().map(|p| p.context.is_some()).collect();
        let patterns_len = patterns.len() as u32;
        let gated = |i: &u32| has_context[*i as usize];
        let short = literals
            .iter()
            .zip(&literal_patterns)
            .enumerate()
            .filter(|(_, (l, _))| !is_distinctive(l))
            .map(|(j, (l, ps))| {
                let kernel =
                    ps.iter().all(|&i| patterns[i as usize].kernel_only);
                let finder = memmem::Finder::new(l.as_bytes()).into_owned();
                (finder, j, kernel, ps.iter().all(gated))
            })
            .collect::<Vec<_>>();
        let short_beyond_kernel =
            short.iter().any(|s| !s.2) || anchored.iter().any(|(_, k)| !k);
        let mut marks = vec![false; patterns.len()];
        for cx in patterns.iter().filter_map(|p| p.context.as_ref()) {
            for &i in cx.opened_by.iter().chain(&cx.closed_by) {
                marks[i as usize] = true;
            }
        }
        let scanner_suffices = always.iter().all(gated)
            && short.iter().all(|s| s.3)
            && anchored.iter().all(|(i, _)| gated(i));
        Extractor {
            patterns,
            prefilter,
            literal_patterns,
            always,
            literals,
            scanner,
            short,
            anchored,
            short_beyond_kernel,
            marks,
            gated: (0..patterns_len)
                .filter(|&i| has_context[i as usize])
                .collect(),
            scanner_suffices,
        }
    }

    /// Whether a line outside every context yields an event only where
    /// the [`Extractor::scanner`] finds a literal: then a log's lines
    /// between the scanner's finds can be passed over without being
    /// parsed, as long as no context is open ([`Extractor::in_context`]).
    pub fn scanner_suffices(&self) -> bool {
        self.scanner.is_some() && self.scanner_suffices
    }

    /// Whether `p` is tried on line `line` of a log with contexts `cx`.
    fn applies(&self, p: &Pattern, cx: &Contexts, line: u64) -> bool {
        let Some(context) = &p.context else {
            return true;
        };
        if cx.everywhere {
            return true;
        }
        let fired = |i: u32| cx.fired.get(i as usize).copied().unwrap_or(0);
        let Some(opened) = context.opened_by.iter().map(|&i| fired(i)).max()
        else {
            return false;
        };
        opened > 0
            && opened < line
            && line - opened <= context.within
            && context.closed_by.iter().all(|&i| fired(i) <= opened)
    }

    /// Whether some pattern with a context is tried on line `line`.
    pub fn in_context(&self, cx: &Contexts, line: u64) -> bool {
        self.gated
            .iter()
            .any(|&i| self.applies(&self.patterns[i as usize], cx, line))
    }

    /// Remember that pattern `i` matched on line `line`.
    fn mark(&self, i: usize, cx: &mut Contexts, line: u64) {
        if self.marks[i] && !cx.everywhere {
            if cx.fired.len() < self.patterns.len() {
                cx.fired.resize(self.patterns.len(), 0);
            }
            cx.fired[i] = line;
        }
    }

    /// The searcher for distinctive literals: a line in which it finds
    /// nothing needs [`Extractor::extract`] only if
    /// [`Extractor::needs_message`] says so. `None` when no pattern has
    /// a distinctive literal.
    pub fn scanner(&self) -> Option<&Scanner> {
        self.scanner.as_ref()
    }

    /// Whether a message whose line holds no distinctive literal may
    /// still yield an event: some pattern has no literal, a short
    /// literal occurs in it, or an anchored pattern may start at its
    /// first byte. `kernel` says whether kernel-only patterns apply to
    /// the line ([`LineInfo::kernel_or_bare`]).
    /// `in_context` says whether the line is in some context
    /// ([`Extractor::in_context`]); outside, patterns with one are left
    /// out.
    pub fn needs_message(
        &self,
        kernel: bool,
        message: &[u8],
        in_context: bool,
    ) -> bool {
        let gated = |i: u32| self.patterns[i as usize].context.is_some();
        if self.always.iter().any(|&i| in_context || !gated(i)) {
            return true;
        }
        if !kernel && !self.short_beyond_kernel {
            return false;
        }
        self.anchored_at(kernel, message)
            .any(|i| in_context || !gated(i))
            || self.short.iter().any(|(finder, _, kernel_only, gated)| {
                (kernel || !kernel_only)
                    && (in_context || !gated)
                    && finder.find(message).is_some()
            })
    }

    /// The anchored patterns that may match `message`, by its first
    /// byte.
    fn anchored_at(
        &self,
        kernel: bool,
        message: &[u8],
    ) -> impl Iterator<Item = u32> + '_ {
        let first = message.first().copied();
        self.anchored
            .iter()
            .filter(move |(i, kernel_only)| {
                (kernel || !kernel_only)
                    && first.is_some_and(|b| {
                        self.patterns[*i as usize]
                            .first_bytes
                            .as_ref()
                            .is_some_and(|set| set[b as usize])
                    })
            })
            .map(|(i, _)| *i)
    }

    /// Every required literal of the loaded patterns.
    pub fn literals(&self) -> &[String] {
        &self.literals
    }

    /// True when no pattern runs without a literal, so a buffer with no
    /// literal in it holds no event.
    pub fn literals_are_complete(&self) -> bool {
        self.always.is_empty()
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Whether any pattern could match `message`, whose line is the
    /// kernel's (or bare) if `kernel`.
    pub fn is_candidate(
        &self,
        kernel: bool,
        message: &[u8],
        in_context: bool,
    ) -> bool {
        self.scanner.as_ref().is_some_and(|s| s.is_match(message))
            || self.needs_message(kernel, message, in_context)
    }

    /// Append the events `line` yields to `out`. `scratch` is reused
    /// between calls so that a line that matches nothing allocates
    /// nothing.
    pub fn extract(
        &self,
        line: &LineInfo<'_>,
        found: Found,
        cx: &mut Contexts,
        scratch: &mut Vec<u32>,
        out: &mut Vec<Event>,
    ) {
        let message =
            &line.content[line.message_start.min(line.content.len())..];
        scratch.clear();
        scratch.extend_from_slice(&self.always);
        scratch.extend(self.anchored_at(line.kernel_or_bare(), message));
        match (found, &self.prefilter) {
            (Found::ShortOnly, _) => {
                for (finder, j, _, _) in &self.short {
                    if finder.find(message).is_some() {
                        scratch.extend_from_slice(&self.literal_patterns[*j]);
                    }
                }
            }
            (Found::Unknown, Some(ac)) => {
                for m in ac.find_overlapping_iter(message) {
                    scratch.extend_from_slice(
                        &self.literal_patterns[m.pattern().as_usize()],
                    );
                }
            }
            (Found::Unknown, None) => {}
        }
        if scratch.is_empty() {
            return;
        }
        scratch.sort_unstable();
        scratch.dedup();
        for &i in scratch.iter() {
            self.try_pattern(i as usize, message, line, cx, out);
        }
    }

    /// Run pattern `i` on `message` if it applies to `line`, remembering
    /// a match that opens or closes a context.
    fn try_pattern(
        &self,
        i: usize,
        message: &[u8],
        line: &LineInfo<'_>,
        cx: &mut Contexts,
        out: &mut Vec<Event>,
    ) {
        let p = &self.patterns[i];
        if p.kernel_only && !line.kernel_or_bare() {
            return;
        }
        if !self.applies(p, cx, line.origin.line) {
            return;
        }
        if let Some(event) = apply(p, message, line) {
            self.mark(i, cx, line.origin.line);
            out.push(event);
        }
    }
}

impl Extractor {
    /// Append the events `line` yields to `out`, running every pattern's
    /// regex with no prefilter: the plain path, slow and obviously
    /// right, that tests compare the prefiltered one with.
    pub fn extract_all(
        &self,
        line: &LineInfo<'_>,
        cx: &mut Contexts,
        out: &mut Vec<Event>,
    ) {
        let message =
            &line.content[line.message_start.min(line.content.len())..];
        for i in 0..self.patterns.len() {
            self.try_pattern(i, message, line, cx, out);
        }
    }
}

/// Run one pattern on a message; the event it yields, if it matches.
pub fn apply(
    p: &Pattern,
    message: &[u8],
    line: &LineInfo<'_>,
) -> Option<Event> {
    // Most candidates do not match: a plain match test fails faster
    // than a search for captures.
    if !p.regex.is_match(message) {
        return None;
    }
    let caps = p.regex.captures(message)?;
    if p.unless
        .iter()
        .any(|u| memchr::memmem::find(message, u.as_bytes()).is_some())
    {
        return None;
    }
    let mut fields = Vec::with_capacity(p.captures.len() + p.set.len());
    for c in &p.captures {
        let Some(m) = caps.get(c.index) else { continue };
        let text = String::from_utf8_lossy(m.as_bytes());
        if let Some(v) = c.value(&text) {
            fields.push((c.name.clone(), v));
        }
    }
    for (name, v) in &p.set {
        if !fields.iter().any(|(n, _)| n == name) {
            fields.push((name.clone(), v.clone()));
        }
    }
    derive_signal(&mut fields);
    Some(Event {
        kind: p.kind.clone(),
        rule: p.id.clone(),
        fields,
        origin: line.origin.clone(),
        writer: line.writer.clone(),
        // A kernel-only rule vouches for a bare line being the kernel's.
        from_kernel: line.kernel || p.kernel_only,
        text: String::from_utf8_lossy(line.content).into_owned(),
    })
}

/// Add `signal` when only an exit code says it: Python reports death by
/// signal N as `-N`, shells and container runtimes as `128 + N`.
fn derive_signal(fields: &mut Vec<(std::sync::Arc<str>, Value)>) {
    if fields.iter().any(|(n, _)| &**n == "signal") {
        return;
    }
    let code = fields
        .iter()
        .find(|(n, _)| &**n == "exit_code")
        .and_then(|(_, v)| v.as_int());
    let signal = match code {
        Some(c) if (-64..0).contains(&c) => -c,
        Some(c) if (129..=192).contains(&c) => c - 128,
        _ => return,
    };
    fields.push((std::sync::Arc::from("signal"), Value::Int(signal)));
}

#[cfg(test)]
mod tests {
    use super::{Contexts, Extractor, Found, LineInfo};
    use crate::envelope::Envelope;
    use crate::rules::load_text;

    /// Which of `lines` (numbered from 1) yield a `row` event.
    fn rows(extractor: &Extractor, lines: &[&str]) -> Vec<u64> {
        let mut cx = Contexts::default();
        let mut found = Vec::new();
        for (n, text) in lines.iter().enumerate() {
            let mut info =
                LineInfo::standalone(text.as_bytes(), &Envelope::bare());
            info.origin.line = n as u64 + 1;
            let mut events = Vec::new();
            extractor.extract(
                &info,
                Found::Unknown,
                &mut cx,
                &mut Vec::new(),
                &mut events,
            );
            if events.iter().any(|e| &*e.kind == "row") {
                found.push(n as u64 + 1);
            }
        }
        found
    }

    #[test]
    fn a_pattern_with_a_context_is_tried_only_inside_it() {
        let rules = "[[pattern]]\nid = \"head\"\nkind = \"head\"\n\
                     regex = 'report starts'\n\
                     [[pattern]]\nid = \"tail\"\nkind = \"tail\"\n\
                     regex = 'report ends'\n\
                     [[pattern]]\nid = \"row\"\nkind = \"row\"\n\
                     regex = '^\\[\\s*\\d+\\]'\nafter = [\"head\"]\n\
                     until = [\"tail\"]\nwithin_lines = 3\n";
        let (set, problems) = load_text("cx.toml", rules);
        assert!(problems.iter().all(|p| p.warning), "{problems:#?}");
        let extractor = Extractor::new(set.patterns);
        assert!(extractor.scanner_suffices());
        let lines = [
            "[ 1] before any report",
            "report starts",
            "[ 2]",
            "[ 3]",
            "report ends",
            "[ 4] after the end",
            "report starts",
            "[ 5]",
            "noise between rows",
            "[ 6]",
            "[ 7] past within_lines",
        ];
        assert_eq!(rows(&extractor, &lines), vec![3, 4, 8, 10]);

        let mut cx = Contexts::default();
        assert!(!extractor.in_context(&cx, 1));
        cx.fired = vec![2, 0, 0];
        assert!(extractor.in_context(&cx, 5) && !extractor.in_context(&cx, 6));
        // A line on its own, as a corpus case is tested: every pattern.
        let row = LineInfo::standalone(b"[ 9]", &Envelope::bare());
        let mut events = Vec::new();
        extractor.extract_all(&row, &mut Contexts::everywhere(), &mut events);
        assert_eq!(events.len(), 1);
    }
}

#[cfg(test)]
mod shipped {
    use super::Extractor;
    use crate::rules::{LoadOptions, load};

    /// Replay passes lines over unread only when every pattern without a
    /// context has a distinctive literal; a rule edit that breaks this
    /// would leave the output right and make it several times slower.
    #[test]
    fn the_shipped_rules_let_replay_pass_lines_over() {
        let (set, _) = load(&LoadOptions::default());
        assert!(Extractor::new(set.patterns).scanner_suffices());
    }
}
