//! The correlate stage: joins symptoms to causes within windows of log
//! time, and decides each symptom when the watermark passes its window.
//!
//! Events arrive in (roughly) time order through [`Correlator::push`].
//! Kernel OOM report lines are gathered onto their kill first
//! ([`oom_report`]). Every event that some explain rule could use as a
//! cause is kept in a bounded store; every event that some rule could
//! explain waits as a pending symptom. [`Correlator::advance`] tells the
//! correlator how far log time is complete (the watermark); a symptom
//! whose window the watermark has passed is decided then, and one with a
//! high-confidence cause already in hand is decided at once.
//!
//! Deciding is a search: each explain rule whose symptom selector
//! matches looks for causes in its window that satisfy one of its joins;
//! a cause that can itself be explained (a child exit explained by an
//! OOM kill) extends the chain, up to [`MAX_CHAIN`] links. The best
//! chain wins by confidence, then rule priority, then nearness in time.

pub mod explanation;
mod join;
pub mod oom_report;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::event::Event;
use crate::record::SourceId;
use crate::rules::{Confidence, Explain};
use crate::time::{NANOS_PER_SEC, Timestamp};

pub use explanation::{Alternative, Cause, Explanation};
use oom_report::{Assembler, TaskRow};

/// The longest chain of links from a symptom to its root cause.
pub const MAX_CHAIN: usize = 3;

/// The most causes one rule examines for one symptom (the nearest in
/// time); see `Correlator::candidates`.
pub const MAX_CANDIDATES: usize = 64;

/// The most stored events of one kind scanned for one symptom.
pub const MAX_SCAN: usize = 256;

/// The most pending symptoms one arriving cause re-examines.
pub const MAX_RECHECKS: usize = 64;

/// Bounds on the correlator's memory; see [`Limits::default`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most events kept as possible causes; the oldest go first.
    pub max_stored: usize,
    /// Most symptoms waiting for their window to close.
    pub max_pending: usize,
    /// Clock disagreement allowed between sources: windows widen by it,
    /// and decisions wait for it.
    pub skew: i64,
}

impl Default for Limits {
    /// 100,000 stored events (a few tens of MB at worst), 10,000 pending
    /// symptoms, 2 s of skew.
    fn default() -> Limits {
        Limits {
            max_stored: 100_000,
            max_pending: 10_000,
            skew: 2 * NANOS_PER_SEC,
        }
    }
}

/// Counters of what the bounds cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub events: u64,
    pub explanations: u64,
    /// Stored events dropped before their window had passed.
    pub dropped_events: u64,
    /// Symptoms decided early because too many were pending.
    pub forced_decisions: u64,
    pub dropped_task_rows: u64,
    /// Causes not examined because a window held more than
    /// [`MAX_CANDIDATES`] of them.
    pub skipped_candidates: u64,
}

/// The outcome for one symptom: its explanation, or none.
#[derive(Clone, Debug)]
pub struct Decision {
    pub source: SourceId,
    pub line: u64,
    pub explanation: Option<Explanation>,
}

impl Decision {
    fn of(symptom: &Event, explanation: Option<Explanation>) -> Decision {
        Decision {
            source: symptom.origin.source,
            line: symptom.origin.line,
            explanation,
        }
    }
}

/// A kept event with what the chain search needs of it.
#[derive(Debug)]
struct Stored {
    event: Arc<Event>,
    tasks: Option<Arc<Vec<TaskRow>>>,
    seq: u64,
    /// The rules whose symptom selector takes this event.
    as_symptom: RuleBits,
    /// The rules whose cause selector takes this event.
    as_cause: RuleBits,
}

/// One bit per explain rule, by its index. The chain search asks for
/// every stored cause and every rule whether the rule's selector takes
/// the event; matching selectors (kind names, field values) once, when
/// the event arrives, keeps a flood of causes in one window from
/// costing a string comparison per cause, rule and symptom.
#[derive(Debug, Default)]
struct RuleBits(Box<[u64]>);

impl RuleBits {
    fn of(rules: &[Explain], take: impl Fn(&Explain) -> bool) -> RuleBits {
        let mut words = vec![0u64; rules.len().div_ceil(64)];
        for (i, rule) in rules.iter().enumerate() {
            if take(rule) {
                words[i / 64] |= 1 << (i % 64);
            }
        }
        RuleBits(words.into_boxed_slice())
    }

    fn has(&self, rule: usize) -> bool {
        self.0
            .get(rule / 64)
            .is_some_and(|w| w & (1 << (rule % 64)) != 0)
    }

    fn any(&self) -> bool {
        self.0.iter().any(|&w| w != 0)
    }
}

#[derive(Debug)]
struct Pending {
    stored: Arc<Stored>,
    /// Log time after which the symptom is decided; `None` waits for the
    /// end of the input (or the pending cap).
    deadline: Option<Timestamp>,
}

/// Joins symptoms to causes.
pub struct Correlator {
    rules: Vec<Explain>,
    limits: Limits,
    /// Kept causes by kind, each in arrival order.
    store: HashMap<Arc<str>, VecDeque<Arc<Stored>>>,
    pending: VecDeque<Pending>,
    assembler: Assembler,
    seq: u64,
    cause_kinds: Vec<Arc<str>>,
    max_after: i64,
    max_reach: i64,
    watermark: Option<Timestamp>,
    /// The earliest time at the front of any kind's store, or earlier:
    /// until the horizon passes it, advancing has nothing to forget.
    prune_at: Option<Timestamp>,
    /// The earliest deadline of a pending symptom, or earlier.
    due_at: Option<Timestamp>,
    stats: Stats,
    /// Candidates left out by [`MAX_CANDIDATES`]; a Cell because the
    /// chain search borrows the correlator immutably.
    skipped_candidates: std::cell::Cell<u64>,
}

/// The best chain from each cause searched so far, by seq.
type Memo = HashMap<u64, Option<Chain>>;

/// One way a symptom could be explained.
#[derive(Clone, Debug)]
struct Chain {
    rule: usize,
    confidence: Confidence,
    priority: i32,
    distance: i64,
    joined_on: Vec<String>,
    root_kind: Arc<str>,
    root: Arc<Event>,
    /// Intermediate events, nearest the symptom first.
    evidence: Vec<Arc<Event>>,
    /// Seq of the first link's cause, to count distinct candidates.
    first_seq: u64,
    join_index: usize,
}

impl Correlator {
    pub fn new(rules: Vec<Explain>, limits: Limits) -> Correlator {
        let mut cause_kinds: Vec<Arc<str>> = Vec::new();
        for r in &rules {
            if let Some(c) = &r.cause {
                for kind in &c.kinds {
                    if !cause_kinds.contains(kind) {
                        cause_kinds.push(kind.clone());
                    }
                }
            }
        }
        let max_after =
            rules.iter().map(|r| r.after).max().unwrap_or(0) + limits.skew;
        let max_before = rules.iter().map(|r| r.before).max().unwrap_or(0);
        Correlator {
            rules,
            limits,
            store: HashMap::new(),
            pending: VecDeque::new(),
            prune_at: None,
            due_at: None,
            assembler: Assembler::default(),
            seq: 0,
            cause_kinds,
            max_after,
            max_reach: max_before + max_after + limits.skew,
            watermark: None,
            stats: Stats::default(),
            skipped_candidates: std::cell::Cell::new(0),
        }
    }

    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.dropped_task_rows = self.assembler.dropped_tasks;
        s.skipped_candidates = self.skipped_candidates.get();
        s
    }

    /// Symptoms waiting for their window to close.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The earliest time at which [`Correlator::advance`] may decide a
    /// waiting symptom: until the watermark reaches it, advancing does
    /// nothing that shows in the output.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.due_at
    }

    /// How long after a symptom (in log time) its decision may wait.
    pub fn decision_delay(&self) -> i64 {
        self.max_after
    }

    /// Whether any explain rule could take `event` as its symptom.
    pub fn is_symptom(&self, event: &Event) -> bool {
        self.rules.iter().any(|r| r.symptom.matches(event))
    }

    /// Take in one event. Decisions made at once go to `out`.
    pub fn push(&mut self, mut event: Event, out: &mut Vec<Decision>) {
        self.stats.events += 1;
        let tasks = if event.from_kernel {
            self.assembler.observe(&mut event)
        } else {
            None
        };
        let is_cause = self.cause_kinds.contains(&event.kind);
        let as_symptom =
            RuleBits::of(&self.rules, |r| r.symptom.matches(&event));
        let is_symptom = as_symptom.any();
        if !is_cause && !is_symptom {
            return;
        }
        let as_cause = RuleBits::of(&self.rules, |r| {
            r.cause.as_ref().is_some_and(|c| c.matches(&event))
        });
        self.seq += 1;
        let stored = Arc::new(Stored {
            event: Arc::new(event),
            tasks,
            seq: self.seq,
            as_symptom,
            as_cause,
        });
        if is_cause {
            let kept =
                self.store.entry(stored.event.kind.clone()).or_default();
            if kept.len() >= self.limits.max_stored {
                kept.pop_front();
                self.stats.dropped_events += 1;
            }
            kept.push_back(stored.clone());
            if let Some(t) = stored.event.origin.time {
                self.prune_at = Some(self.prune_at.map_or(t, |p| p.min(t)));
            }
        }

        // A new cause may complete a pending symptom.
        if is_cause && !self.pending.is_empty() {
            self.decide_confident(&stored, out);
        }
        if is_symptom {
            // A symptom with no time of its own (a log without stamps)
            // waits from the watermark; with no watermark yet, until the
            // end of the input, since its cause may be anywhere in it.
            let deadline = stored
                .event
                .origin
                .time
                .or(self.watermark)
                .map(|t| t.shifted(self.max_after));
            if self.pending.len() >= self.limits.max_pending
                && let Some(oldest) = self.pending.pop_front()
            {
                self.stats.forced_decisions += 1;
                self.decide(&oldest.stored, out);
            }
            if !self.try_confident(&stored, out) {
                if let Some(d) = deadline {
                    self.due_at = Some(self.due_at.map_or(d, |a| a.min(d)));
                }
                self.pending.push_back(Pending { stored, deadline });
            }
        }
    }

    /// Log time is complete up to `watermark`: decide the symptoms whose
    /// windows it has passed and forget what no window can reach.
    pub fn advance(&mut self, watermark: Timestamp, out: &mut Vec<Decision>) {
        if self.watermark.is_some_and(|w| w >= watermark) {
            return;
        }
        self.watermark = Some(watermark);
        // Called for nearly every line: most calls have nothing due and
        // nothing to forget, and must cost no more than two comparisons.
        if self.due_at.is_some_and(|d| d <= watermark) {
            let (due, waiting): (VecDeque<Pending>, VecDeque<Pending>) =
                std::mem::take(&mut self.pending)
                    .into_iter()
                    .partition(|p| p.deadline.is_some_and(|d| d <= watermark));
            self.pending = waiting;
            self.due_at = self.pending.iter().filter_map(|p| p.deadline).min();
            for p in due {
                self.decide(&p.stored, out);
            }
        }
        let horizon = watermark.shifted(-self.max_reach);
        if self.prune_at.is_some_and(|t| t < horizon) {
            for kept in self.store.values_mut() {
                while kept
                    .front()
                    .and_then(|f| f.event.origin.time)
                    .is_some_and(|t| t < horizon)
                {
                    kept.pop_front();
                }
            }
            self.prune_at = self
                .store
                .values()
                .filter_map(|k| k.front().and_then(|f| f.event.origin.time))
                .min();
        }
    }

    /// End of input: decide everything still pending.
    pub fn finish(&mut self, out: &mut Vec<Decision>) {
        while let Some(p) = self.pending.pop_front() {
            self.decide(&p.stored, out);
        }
    }

    /// Whether a rule of higher priority than `best`'s could still explain
    /// `symptom` with a cause yet to come.
    fn could_be_outranked(&self, symptom: &Event, best: &Chain) -> bool {
        self.rules.iter().any(|r| {
            r.cause.is_some()
                && r.priority > best.priority
                && r.symptom.matches(symptom)
        })
    }

    /// Decide pending symptoms that `cause` may have completed with a
    /// high-confidence chain. Only symptoms whose widest window reaches
    /// the cause are looked at, nearest first, at most
    /// [`MAX_RECHECKS`] of them: a flood of causes cannot make every
    /// arrival re-examine every pending symptom (those left wait for
    /// their window to close, which decides them just as well).
    fn decide_confident(&mut self, cause: &Stored, out: &mut Vec<Decision>) {
        let reach = self.max_reach;
        let n = self.pending.len();
        let mut decided = Vec::new();
        for i in (n.saturating_sub(MAX_RECHECKS)..n).rev() {
            let stored = self.pending[i].stored.clone();
            let near =
                match (stored.event.origin.time, cause.event.origin.time) {
                    (Some(s), Some(c)) => s.since(c).abs() <= reach,
                    _ => true,
                };
            if near
                && self.joins_directly(&stored, cause)
                && self.try_confident(&stored, out)
            {
                decided.push(i);
            }
        }
        // Descending indices, so each removal leaves the rest in place.
        for i in decided {
            self.pending.remove(i);
        }
    }

    /// Whether some rule takes `cause` as a high-confidence cause of
    /// `symptom` right now: the cheap test before a full chain search.
    fn joins_directly(&self, symptom: &Stored, cause: &Stored) -> bool {
        self.rules.iter().enumerate().any(|(ri, rule)| {
            cause.as_cause.has(ri)
                && symptom.as_symptom.has(ri)
                && self.in_window(rule, &symptom.event, &cause.event).is_some()
                && rule.joins.iter().any(|j| {
                    j.confidence == Confidence::High
                        && j.applies_to(&symptom.event)
                        && j.keys.iter().all(|k| {
                            join::holds(k, rule, side(symptom), side(cause))
                        })
                })
        })
    }

    /// Decide `p` now if its best chain is already of high confidence
    /// and ends at a root cause no later event could better: no rule of
    /// higher priority could still find a cause for it (a time limit of
    /// the very pid waits, in case the kernel's kill of it is logged a
    /// moment later).
    fn try_confident(
        &mut self,
        stored: &Arc<Stored>,
        out: &mut Vec<Decision>,
    ) -> bool {
        let chains = self.chains(stored, 0, &mut Vec::new(), &mut Memo::new());
        let best = pick(&chains);
        match best {
            Some(b)
                if b.confidence == Confidence::High
                    && &*b.root_kind != "sigkill"
                    && self.rules[b.rule].absent.is_empty()
                    && !self.could_be_outranked(&stored.event, b) =>
            {
                let e = self.explanation(stored, b, &chains);
                self.stats.explanations += 1;
                out.push(Decision::of(&stored.event, Some(e)));
                true
            }
            _ => false,
        }
    }

    fn decide(&mut self, stored: &Arc<Stored>, out: &mut Vec<Decision>) {
        let chains = self.chains(stored, 0, &mut Vec::new(), &mut Memo::new());
        if let Some(best) = pick(&chains) {
            let e = self.explanation(stored, best, &chains);
            self.stats.explanations += 1;
            out.push(Decision::of(&stored.event, Some(e)));
        } else {
            out.push(Decision::of(&stored.event, None));
            tracing::debug!(
                rule = %stored.event.rule,
                line = stored.event.origin.line,
                "symptom left unexplained: no cause joined in any window"
            );
        }
    }

    /// Every chain that explains `symptom`, searching causes recursively.
    ///
    /// `memo` keeps the best chain found for each cause already searched
    /// in this decision, so a cause shared by many candidates (one OOM
    /// kill behind many child exits) is searched once.
    fn chains(
        &self,
        symptom: &Arc<Stored>,
        depth: usize,
        visiting: &mut Vec<u64>,
        memo: &mut Memo,
    ) -> Vec<Chain> {
        let mut found = Vec::new();
        if depth >= MAX_CHAIN || visiting.contains(&symptom.seq) {
            return found;
        }
        visiting.push(symptom.seq);
        let event = &symptom.event;
        for (ri, rule) in self.rules.iter().enumerate() {
            let Some(cause_sel) = &rule.cause else {
                continue;
            };
            if !symptom.as_symptom.has(ri) {
                continue;
            }
            for (cand, distance) in
                self.candidates(ri, rule, cause_sel, symptom)
            {
                let Some((ji, join)) =
                    rule.joins.iter().enumerate().find(|(_, j)| {
                        j.applies_to(event)
                            && j.keys.iter().all(|k| {
                                join::holds(
                                    k,
                                    rule,
                                    side(symptom),
                                    side(&cand),
                                )
                            })
                    })
                else {
                    continue;
                };
                let link_keys: Vec<String> =
                    join.keys.iter().map(|k| k.name()).collect();
                let next = match memo.get(&cand.seq) {
                    Some(known) => known.clone(),
                    None => {
                        let deeper =
                            self.chains(&cand, depth + 1, visiting, memo);
                        let best = pick(&deeper).cloned();
                        memo.insert(cand.seq, best.clone());
                        best
                    }
                };
                match next.as_ref() {
                    Some(next) => {
                        let mut evidence = vec![cand.event.clone()];
                        evidence.extend(next.evidence.iter().cloned());
                        let mut joined_on = link_keys.clone();
                        joined_on.extend(next.joined_on.iter().cloned());
                        found.push(Chain {
                            rule: ri,
                            confidence: join.confidence.min(next.confidence),
                            priority: rule.priority,
                            distance,
                            joined_on,
                            root_kind: next.root_kind.clone(),
                            root: next.root.clone(),
                            evidence,
                            first_seq: cand.seq,
                            join_index: ji,
                        });
                    }
                    None => found.push(Chain {
                        rule: ri,
                        confidence: join.confidence,
                        priority: rule.priority,
                        distance,
                        joined_on: link_keys,
                        root_kind: cand.event.kind.clone(),
                        root: cand.event.clone(),
                        evidence: Vec::new(),
                        first_seq: cand.seq,
                        join_index: ji,
                    }),
                }
            }
        }

        // Rules that speak when the cause they name is absent.
        for (ri, rule) in self.rules.iter().enumerate() {
            let absent = &rule.absent;
            if absent.is_empty()
                || rule.cause.is_some()
                || !symptom.as_symptom.has(ri)
            {
                continue;
            }
            if found.iter().any(|c| absent.contains(&c.root_kind)) {
                continue;
            }
            found.push(Chain {
                rule: ri,
                confidence: rule.confidence,
                priority: rule.priority - 1000,
                distance: 0,
                joined_on: vec![format!(
                    "no {} in the window",
                    absent.join(" or ")
                )],
                root_kind: rule
                    .reports
                    .clone()
                    .unwrap_or_else(|| Arc::from("unknown")),
                root: event.clone(),
                evidence: Vec::new(),
                first_seq: symptom.seq,
                join_index: 0,
            });
        }
        visiting.pop();
        found
    }

    /// The stored events `rule` could take as the cause of `symptom`:
    /// of the selected kinds, in the window, not the symptom itself, and
    /// at most [`MAX_CANDIDATES`] of them, the nearest in time first. The
    /// cut costs nothing in a normal log (a window holds a handful of
    /// kills); in a flood it keeps each decision bounded, and what it
    /// leaves out is counted.
    fn candidates(
        &self,
        ri: usize,
        rule: &Explain,
        cause_sel: &crate::rules::Selector,
        symptom: &Stored,
    ) -> Vec<(Arc<Stored>, i64)> {
        let mut found: Vec<(Arc<Stored>, i64)> = Vec::new();
        for kind in &cause_sel.kinds {
            let Some(kept) = self.store.get(kind) else {
                continue;
            };
            // Newest first: the store is in arrival order, which is log
            // time order give or take the skew, so the scan stops at the
            // first event too old for any window, or after MAX_SCAN.
            let oldest = symptom
                .event
                .origin
                .time
                .map(|t| t.shifted(-(rule.before + 2 * self.limits.skew)));
            for cand in kept.iter().rev().take(MAX_SCAN) {
                let too_old = match (cand.event.origin.time, oldest) {
                    (Some(t), Some(o)) => t < o,
                    _ => false,
                };
                if too_old {
                    break;
                }
                if cand.seq == symptom.seq || !cand.as_cause.has(ri) {
                    continue;
                }
                if let Some(d) =
                    self.in_window(rule, &symptom.event, &cand.event)
                {
                    found.push((cand.clone(), d));
                }
            }
        }
        if found.len() > MAX_CANDIDATES {
            found.select_nth_unstable_by_key(MAX_CANDIDATES, |(_, d)| *d);
            let cut = found.len() - MAX_CANDIDATES;
            self.skipped_candidates
                .set(self.skipped_candidates.get() + cut as u64);
            found.truncate(MAX_CANDIDATES);
        }
        found.sort_by_key(|(c, d)| (*d, c.seq));
        found
    }

    /// The distance in time between symptom and cause, if the cause is
    /// within the rule's window (widened by the allowed skew).
    fn in_window(
        &self,
        rule: &Explain,
        symptom: &Event,
        cause: &Event,
    ) -> Option<i64> {
        let (Some(s), Some(c)) = (symptom.origin.time, cause.origin.time)
        else {
            return Some(i64::MAX / 4);
        };
        let gap = s.since(c);
        let ok = gap <= rule.before + self.limits.skew
            && -gap <= rule.after + self.limits.skew;
        ok.then_some(gap.abs())
    }

    fn explanation(
        &self,
        symptom: &Arc<Stored>,
        best: &Chain,
        all: &[Chain],
    ) -> Explanation {
        let rule = &self.rules[best.rule];
        let candidates = all
            .iter()
            .filter(|c| {
                c.rule == best.rule
                    && c.join_index == best.join_index
                    && c.confidence == best.confidence
            })
            .map(|c| c.first_seq)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let mut message = self.chain_message(symptom, best, false);
        if candidates > 1 {
            message.push_str(&format!(
                " (ambiguous: {candidates} candidates joined equally; the \
                 nearest in time was taken)"
            ));
        }

        // A different root cause that joined too is named, with why it
        // is the less likely one.
        let alternative = all
            .iter()
            .filter(|c| c.root_kind != best.root_kind)
            .max_by(|a, b| rank(a).cmp(&rank(b)))
            .map(|c| {
                let reason = explanation::likelier(
                    explanation::Ranked {
                        kind: &best.root_kind,
                        confidence: best.confidence,
                        joined_on: &best.joined_on,
                        distance: best.distance,
                        precedence: self.rules[best.rule]
                            .precedence
                            .as_deref(),
                    },
                    explanation::Ranked {
                        kind: &c.root_kind,
                        confidence: c.confidence,
                        joined_on: &c.joined_on,
                        distance: c.distance,
                        precedence: None,
                    },
                );
                Alternative {
                    kind: c.root_kind.clone(),
                    rule: self.rules[c.rule].id.clone(),
                    confidence: c.confidence,
                    event: c.root.clone(),
                    message: self.chain_message(symptom, c, true),
                    joined_on: c.joined_on.clone(),
                    reason,
                }
            });
        if let Some(alt) = &alternative {
            message.push_str(&format!(
                "; also possible: {} ({} confidence, joined on {}); {}",
                alt.message,
                alt.confidence.as_str(),
                alt.joined_on.join(", then "),
                alt.reason
            ));
        }
        Explanation {
            rule: rule.id.clone(),
            confidence: best.confidence,
            joined_on: best.joined_on.clone(),
            message,
            symptom: symptom.event.clone(),
            cause: Cause {
                kind: best.root_kind.clone(),
                event: best.root.clone(),
            },
            evidence: best.evidence.clone(),
            candidates,
            alternative,
        }
    }

    /// The sentence for one chain. The message comes from the rule of the
    /// last link, which knows the root cause; the first link's rule names
    /// the symptom. As an alternative, a rule's `also` wording is used
    /// when it has one.
    fn chain_message(
        &self,
        symptom: &Arc<Stored>,
        chain: &Chain,
        as_alternative: bool,
    ) -> String {
        let rule = &self.rules[chain.rule];
        let template = |r: &'_ Explain| -> String {
            match (&r.also, as_alternative) {
                (Some(also), true) => also.clone(),
                _ => r.message.clone(),
            }
        };
        let joined = describe_join(&chain.joined_on, 1);
        let root_rule = self.root_rule(chain).unwrap_or(rule);
        let mut message = explanation::render(
            &template(rule),
            &symptom.event,
            &symptom.event,
            &chain.root,
            &chain.evidence,
            &joined,
        );
        if root_rule.id != rule.id {
            let why = explanation::render(
                &template(root_rule),
                &symptom.event,
                chain.evidence.last().unwrap_or(&symptom.event),
                &chain.root,
                &[],
                &joined,
            );
            message = format!("{message}: {why}");
        }
        message
    }

    /// The rule that made the last link of a chain, found again from its
    /// evidence: the rule explaining the last evidence event by the root.
    fn root_rule(&self, chain: &Chain) -> Option<&Explain> {
        let last = chain.evidence.last()?;
        self.rules.iter().filter(|r| r.symptom.matches(last)).find(
            |r| match &r.cause {
                Some(c) => c.matches(&chain.root),
                None => {
                    !r.absent.is_empty()
                        && r.reports.as_deref() == Some(&*chain.root_kind)
                }
            },
        )
    }
}

fn side(s: &Stored) -> join::Side<'_> {
    join::Side {
        event: &s.event,
        tasks: s.tasks.as_ref().map(|t| t.as_slice()),
    }
}

fn rank(c: &Chain) -> (Confidence, i32, std::cmp::Reverse<i64>) {
    (c.confidence, c.priority, std::cmp::Reverse(c.distance))
}

fn pick(chains: &[Chain]) -> Option<&Chain> {
    chains.iter().max_by(|a, b| rank(a).cmp(&rank(b)))
}

/// `joined on pid` or `joined on writer, then pid`, with a word about
/// what a join without a pid rests on.
fn describe_join(keys: &[String], _candidates: usize) -> String {
    let mut s = String::from("joined on ");
    s.push_str(&keys.join(", then "));
    let strong = ["pid", "writer_in_tasks"];
    let has = |k: &str| keys.iter().any(|x| x == k);
    if !strong.iter().any(|k| has(k))
        && !keys.iter().any(|k| k.starts_with("no "))
    {
        if has("victim") || has("comm") {
            s.push_str("; no pid links them, only the process name and time");
        } else if has("time") {
            s.push_str("; nothing links them but time");
        }
    }
    s
}
