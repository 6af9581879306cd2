//! `truecause rules check|test|list` as a user runs them: on the shipped
//! rules, and on broken rule files written for these tests
//! (tests/data/synthetic_*.toml, synthetic by nature).

use assert_cmd::Command;

fn truecause() -> Command {
    let mut cmd = Command::cargo_bin("truecause").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Run `truecause ARGS`, returning exit code and stdout.
fn run(args: &[&str]) -> (i32, String) {
    let out = truecause().args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 output"),
    )
}

#[test]
fn shipped_rules_check_clean() {
    let (code, out) = run(&["rules", "check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("0 error(s), 0 warning(s)\n"), "{out}");
}

#[test]
fn shipped_rules_pass_their_own_tests_and_say_so_on_the_last_line() {
    let (code, out) = run(&["rules", "test"]);
    assert_eq!(code, 0, "{out}");
    let last = out.lines().last().unwrap_or("");
    let (passed, failed) = last
        .split_once(" passed, ")
        .expect("last line is `N passed, M failed`");
    assert!(passed.parse::<u32>().unwrap() > 200, "{last}");
    assert_eq!(failed, "0 failed");
    assert!(out.starts_with("running "), "{out}");
    assert!(out.contains("test kernel.oom.killed-process example 1 ... ok"));
    assert!(out.contains("test child-exit.time-limit scenario 1 ... ok"));
}

/// Each broken file, and what its error must say.
const BROKEN: &[(&str, &str, &str)] = &[
    (
        "synthetic_bad_regex.toml",
        ":5:19: error:",
        "the regex does not compile: unclosed group; fix it at this column",
    ),
    (
        "synthetic_unknown_key.toml",
        ":5:1: error:",
        "did you mean `regex`?",
    ),
    (
        "synthetic_duplicate_id.toml",
        ":8:6: error:",
        "first defined at tests/data/synthetic_duplicate_id.toml:3",
    ),
    (
        "synthetic_misplaced_counterexample.toml",
        ":11:1: error:",
        "move it above the rule's first [[pattern.example]]",
    ),
    (
        "synthetic_bad_window.toml",
        ":6:10: error:",
        "is not a duration; write it like \"90s\"",
    ),
    (
        "synthetic_bad_scenario.toml",
        ":14:11: error:",
        "names line 9 of \"worker.log\", which has 1 line(s)",
    ),
    (
        "synthetic_toml_syntax.toml",
        ":3:23: error:",
        "this is a TOML syntax error",
    ),
    (
        "synthetic_bad_field_type.toml",
        ":6:18: error:",
        "unknown variant `integer`, expected one of `str`, `int`, `signal`",
    ),
    (
        "synthetic_missing_regex.toml",
        ":2:1: error:",
        "missing field `regex`; add `regex = ...` to this table",
    ),
];

#[test]
fn rules_check_points_at_each_mistake_and_says_how_to_fix_it() {
    for (file, position, says) in BROKEN {
        let path = format!("tests/data/{file}");
        let (code, out) = run(&["rules", "check", &path]);
        assert_eq!(code, 1, "{file}: {out}");
        let line = out
            .lines()
            .find(|l| l.contains(": error: "))
            .unwrap_or_else(|| panic!("{file}: no error line in {out}"));
        assert!(
            line.starts_with(&format!("{path}{position}")),
            "{file}: {line}"
        );
        assert!(line.contains(says), "{file}: {line}");
        // What is wrong, then how to fix it.
        assert!(line.contains("; "), "{file}: {line}");
        assert!(out.ends_with("warning(s)\n"), "{file}: {out}");
    }
}

#[test]
fn rules_test_reports_a_failing_example_like_a_test_runner() {
    let path = "tests/data/synthetic_failing_example.toml";
    let (code, out) = run(&["rules", "test", path]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("running 2 test(s) from 1 rule file(s)\n"));
    assert!(out.contains("test synthetic.failing example 1 ... FAILED\n"));
    assert!(
        out.contains("test synthetic.failing counterexample 1 ... FAILED\n")
    );
    assert!(out.contains(&format!(
        "---- synthetic.failing example 1 ({path}:12) ----\n\
         pid = 12, want 13: synthetic worker 12 died\n"
    )));
    assert!(out.contains("counterexample matched:"), "{out}");
    assert!(out.ends_with("\n0 passed, 2 failed\n"), "{out}");
}

#[test]
fn rules_test_on_a_file_that_does_not_load_fails_with_the_error() {
    let path = "tests/data/synthetic_bad_regex.toml";
    let (code, out) = run(&["rules", "test", path]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with(&format!("{path}:5:19: error:")), "{out}");
    assert!(out.ends_with("0 passed, 1 failed\n"), "{out}");
}

#[test]
fn rules_list_gives_id_kind_file_and_description() {
    let (code, out) = run(&["rules", "list"]);
    assert_eq!(code, 0);
    let row = out
        .lines()
        .find(|l| l.starts_with("kernel.oom.killed-process "))
        .expect("the kernel kill pattern is listed");
    let cols: Vec<&str> = row.split("  ").filter(|c| !c.is_empty()).collect();
    assert_eq!(cols[1].trim(), "pattern oom_kill", "{row}");
    assert_eq!(cols[2].trim(), "rules/kernel-oom.toml", "{row}");
    assert_eq!(
        cols[3].trim(),
        "The process the OOM killer killed, with its memory"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("child-exit.sigkill-not-oom ")
                && l.contains("explain child_exit <- (none) => sigkill"))
    );
}

#[test]
fn the_documented_worked_example_passes_its_tests() {
    let (code, out) = run(&["rules", "test", "docs/examples/rq.toml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("3 passed, 0 failed\n"), "{out}");
}
