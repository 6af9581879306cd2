//! `truecause rules check|test|list`: what the binary prints for rule
//! authors, and the exit status it maps the outcome to.
//!
//! `check` prints every problem as `file:line:column: error: what; how to
//! fix`. `test` reads like a test runner: one `test NAME ... ok` line per
//! example and scenario, the failures again with their file and line at
//! the end, and a last line `N passed, M failed` that CI reads. `list`
//! prints one rule a line: id, kind, file, description.

use std::io::{self, Write};
use std::sync::Arc;

use truecause::rules::testing::{self, Outcome};
use truecause::rules::{LoadOptions, RuleError, RuleSet};

/// Whether `rules check` or `rules test` found nothing wrong.
pub enum Verdict {
    Clean,
    Problems,
}

/// Print every problem and a summary; problems that are errors fail.
pub fn check(
    out: &mut impl Write,
    set: &RuleSet,
    problems: &[RuleError],
) -> io::Result<Verdict> {
    for p in problems {
        writeln!(out, "{p}")?;
    }
    let errors = problems.iter().filter(|p| !p.warning).count();
    writeln!(
        out,
        "{} pattern(s), {} explain rule(s): {errors} error(s), {} warning(s)",
        set.patterns.len(),
        set.explains.len(),
        problems.len() - errors
    )?;
    Ok(if errors > 0 {
        Verdict::Problems
    } else {
        Verdict::Clean
    })
}

/// Run the examples and scenarios of the rules from `load.paths` (of
/// every loaded rule when no path is given) and report like a test
/// runner.
pub fn test(
    out: &mut impl Write,
    set: &RuleSet,
    problems: &[RuleError],
    load: &LoadOptions,
) -> io::Result<Verdict> {
    let errors: Vec<&RuleError> =
        problems.iter().filter(|p| !p.warning).collect();
    if !errors.is_empty() {
        for e in &errors {
            writeln!(out, "{e}")?;
        }
        writeln!(out, "the rules do not load; fix the errors above first")?;
        writeln!(out, "0 passed, {} failed", errors.len())?;
        return Ok(Verdict::Problems);
    }

    let chosen: Vec<Arc<str>> = load
        .paths
        .iter()
        .map(|p| Arc::from(p.display().to_string()))
        .collect();
    let outcomes: Vec<Outcome> = testing::run_all(set)
        .into_iter()
        .filter(|o| chosen.is_empty() || from_paths(&o.file, &chosen))
        .collect();
    let files = {
        let mut f: Vec<&str> = outcomes.iter().map(|o| &*o.file).collect();
        f.sort_unstable();
        f.dedup();
        f.len()
    };
    writeln!(
        out,
        "running {} test(s) from {files} rule file(s)",
        outcomes.len()
    )?;
    for o in &outcomes {
        let status = if o.failure.is_some() { "FAILED" } else { "ok" };
        writeln!(out, "test {} ... {status}", o.name)?;
    }

    let failed: Vec<&Outcome> =
        outcomes.iter().filter(|o| o.failure.is_some()).collect();
    if !failed.is_empty() {
        writeln!(out, "\nfailures:\n")?;
        for o in &failed {
            writeln!(out, "---- {} ({}:{}) ----", o.name, o.file, o.line)?;
            writeln!(out, "{}\n", o.failure.as_deref().unwrap_or(""))?;
        }
        writeln!(out, "failures:")?;
        for o in &failed {
            writeln!(out, "    {}", o.name)?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} passed, {} failed",
        outcomes.len() - failed.len(),
        failed.len()
    )?;
    Ok(if failed.is_empty() {
        Verdict::Clean
    } else {
        Verdict::Problems
    })
}

/// Whether a rule's file is one of the paths given, or inside one.
fn from_paths(file: &str, paths: &[Arc<str>]) -> bool {
    paths.iter().any(|p| {
        file == &**p
            || file
                .strip_prefix(&**p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// One line per rule: id, kind, file, description, in aligned columns.
pub fn list(out: &mut impl Write, set: &RuleSet) -> io::Result<()> {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for p in &set.patterns {
        rows.push([
            p.id.to_string(),
            format!("pattern {}", p.kind),
            p.file.to_string(),
            p.description.clone(),
        ]);
    }
    for x in &set.explains {
        // A rule that speaks when no cause is found says what it reports.
        let cause = x.cause.as_ref().map_or_else(
            || {
                format!(
                    "(none) => {}",
                    x.reports.as_deref().unwrap_or("unknown")
                )
            },
            |c| c.kinds.join("|"),
        );
        rows.push([
            x.id.to_string(),
            format!("explain {} <- {cause}", x.symptom.kinds.join("|")),
            x.file.to_string(),
            x.description.clone(),
        ]);
    }
    let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    for [id, kind, file, description] in &rows {
        writeln!(out, "{id:w0$}  {kind:w1$}  {file:w2$}  {description}")?;
    }
    Ok(())
}
