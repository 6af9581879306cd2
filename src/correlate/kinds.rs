//! Event kinds as small numbers: the chain search tests every stored
//! event against every rule's kinds, and comparing an integer there
//! instead of a string is what keeps a burst of kills cheap.

use std::collections::HashMap;
use std::sync::Arc;

use crate::rules::Explain;

/// The id of a kind no rule names.
pub const UNKNOWN: u32 = u32::MAX;

/// Every kind the explain rules name, numbered.
#[derive(Debug, Default)]
pub struct KindTable {
    ids: HashMap<Arc<str>, u32>,
}

/// One rule's symptom and cause kinds, as ids.
#[derive(Debug)]
pub struct RuleKinds {
    pub symptom: Vec<u32>,
    pub cause: Vec<u32>,
}

impl KindTable {
    /// Number the kinds of `rules`, and give each rule its ids.
    pub fn new(rules: &[Explain]) -> (KindTable, Vec<RuleKinds>) {
        let mut table = KindTable::default();
        let per_rule = rules
            .iter()
            .map(|r| RuleKinds {
                symptom: table.intern(&r.symptom.kinds),
                cause: r
                    .cause
                    .as_ref()
                    .map(|c| table.intern(&c.kinds))
                    .unwrap_or_default(),
            })
            .collect();
        (table, per_rule)
    }

    fn intern(&mut self, kinds: &[Arc<str>]) -> Vec<u32> {
        kinds
            .iter()
            .map(|k| {
                let next = self.ids.len() as u32;
                *self.ids.entry(k.clone()).or_insert(next)
            })
            .collect()
    }

    /// The id of `kind`, or [`UNKNOWN`].
    pub fn id(&self, kind: &str) -> u32 {
        self.ids.get(kind).copied().unwrap_or(UNKNOWN)
    }
}
