//! The command line, as clap reads it. `main` turns it into a validated
//! [`truecause::pipeline::Config`].

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  truecause worker.log dmesg.txt           replay files, merged by time
  journalctl -f | truecause                explain a live stream
  celery -A app worker 2>&1 | truecause
  truecause --format json --annotations-only worker.log kern.log

Every input line is printed unchanged; explanations follow their symptom
line on lines that start with [truecause], so `grep -v '^\\[truecause\\]'`
restores the input.

Exit status: 0 when the input was read, whether or not anything was
explained; 1 when `rules check` or `rules test` found a problem; 2 for a
usage error, a rule file that does not load, or an input that could not be
read (the other inputs are still processed). A closed output pipe ends the
program quietly with status 0.";

/// Tells the real reason a worker failed: joins worker logs to kernel OOM
/// kills and other SIGKILLs, and annotates the misleading line.
#[derive(Debug, Parser)]
#[command(name = "truecause", version, after_help = AFTER_HELP)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Log files to replay, merged by time (plain or gzip). None, or `-`
    /// alone, reads standard input as a live stream.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Print only explanations, not the input lines.
    #[arg(long)]
    pub annotations_only: bool,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Boot time of the host whose kernel log is read (RFC 3339 or epoch
    /// seconds), to turn `[ 1168.679659]` stamps into wall time. Default:
    /// this host's (/proc/stat btime), unless the log itself carries both
    /// stamps.
    #[arg(long, value_name = "TIME")]
    pub boot_time: Option<String>,

    /// Zone of stamps that carry none (syslog, Python, Celery): `UTC`,
    /// `local` or an offset such as `+02:00`. Default: local (TZ).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,

    /// Colour the annotations.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Longest line kept whole, in bytes; longer lines pass through in
    /// pieces and rules see only the first.
    #[arg(long, value_name = "BYTES", default_value_t = truecause::input::framing::MAX_LINE)]
    pub max_line: usize,

    /// Diagnostics on stderr: error, warn, info, debug or trace.
    #[arg(long, value_name = "LEVEL", default_value = "warn")]
    pub log_level: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RuleArgs {
    /// Add a rule file or a folder of them; a rule whose id is a shipped
    /// rule's replaces it. May be repeated.
    #[arg(long = "rules", value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Leave out the rules compiled into truecause.
    #[arg(long)]
    pub no_default_rules: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check, test or list rules.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Print the man page (roff) to standard output.
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// Validate rule files: syntax, regexes, unknown keys, duplicate ids.
    Check {
        /// Rule files or folders; none checks the shipped rules.
        paths: Vec<PathBuf>,
        #[arg(long)]
        no_default_rules: bool,
    },
    /// Run every rule's inline examples and scenarios.
    Test {
        paths: Vec<PathBuf>,
        #[arg(long)]
        no_default_rules: bool,
    },
    /// List the loaded rules: id, kind, file, description.
    List {
        paths: Vec<PathBuf>,
        #[arg(long)]
        no_default_rules: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
