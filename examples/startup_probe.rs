//! Where startup time goes: loading and compiling the embedded rules,
//! and building the extractor and correlator from them. Run with
//! `cargo run --release --example startup_probe`.

use std::time::Instant;

use truecause::correlate::{Correlator, Limits};
use truecause::extract::Extractor;
use truecause::rules::{self, LoadOptions, RuleSet};

fn main() {
    let t = Instant::now();
    let mut parsed = 0;
    for (name, text) in rules::EMBEDDED {
        let v: toml::Value = toml::from_str(text).expect(name);
        parsed += v.as_table().map_or(0, |t| t.len());
    }
    let toml_only = t.elapsed();

    let t = Instant::now();
    let (set, _) = rules::load(&LoadOptions::default());
    let load = t.elapsed();

    let t = Instant::now();
    let RuleSet { patterns, explains } = set;
    let extractor = Extractor::new(patterns);
    let extractor_build = t.elapsed();

    let t = Instant::now();
    let correlator = Correlator::new(explains, Limits::default());
    let correlator_build = t.elapsed();

    println!(
        "toml parse only: {toml_only:?} ({parsed} tables)\n\
         rules::load (parse + compile): {load:?}\n\
         extractor: {extractor_build:?} ({} literals)\n\
         correlator: {correlator_build:?}",
        extractor.literals().len()
    );
    drop(correlator);
}
