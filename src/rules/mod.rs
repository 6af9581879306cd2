//! Rules: the schema of rule files, loading the shipped set and the
//! user's, and compiling them for the pipeline.
//!
//! Loading gives a [`RuleSet`]: compiled [`Pattern`]s for the extract
//! stage and [`Explain`] rules for the correlator. Every problem found on
//! the way is a [`RuleError`] that names the file, line and column and
//! says what to fix; loading goes on past an error so that
//! `truecause rules check` can report them all at once.

mod compile;
mod lazy_regex;
mod literal;
mod load;
pub mod schema;
pub mod testing;

pub use compile::{
    Capture, Context, DEFAULT_WITHIN_LINES, Explain, Join, JoinKey, Located,
    Pattern, Selector, signal_number, toml_value, typed as compile_typed,
    values_equal,
};
pub use lazy_regex::LazyRegex;
pub use literal::is_distinctive;
pub use load::{LoadOptions, RuleError, RuleSet, load, load_text};
pub use schema::{Confidence, ExampleDef, FieldType, ScenarioDef};

/// The rule files compiled into the binary: (path, contents).
pub const EMBEDDED: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// The same files without their comments and examples, for a run, which
/// reads neither (see `build.rs`; [`LoadOptions::lean`]). Every rule
/// keeps its line and column.
pub const EMBEDDED_LEAN: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/embedded_rules_lean.rs"));
