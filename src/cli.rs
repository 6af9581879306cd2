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
  truecause --follow worker.log --kmsg --cgroup /sys/fs/cgroup/memory/app \
      --state /var/lib/truecause/state.json --metrics 127.0.0.1:9464
                                           a sidecar (see docs/sidecar.md)

Every input line is printed unchanged; explanations follow their symptom
line on lines that start with [truecause], so `grep -v '^\\[truecause\\]'`
restores the input.

Exit status: 0 when the input was read, whether or not anything was
explained; 1 when `rules check` or `rules test` found a problem; 2 for a
usage error, a rule file that does not load, or an input that could not be
read (the other inputs are still processed). A closed output pipe ends the
program quietly with status 0. In follow mode SIGINT and SIGTERM print the
explanations still pending and exit with status 0.";

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

    #[command(flatten)]
    pub follow: FollowArgs,
}

/// Follow mode: the sidecar's flags.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Follow mode (a sidecar)")]
pub struct FollowArgs {
    /// Keep reading the files as they grow, by name, through rotation
    /// (rename, copytruncate, delete and re-create, re-pointed symlinks),
    /// until SIGINT or SIGTERM.
    #[arg(short = 'F', long)]
    pub follow: bool,

    /// Also read the kernel log live (implies --follow): /dev/kmsg, or
    /// the FIFO or file of kmsg records given as --kmsg=PATH.
    #[arg(
        long,
        value_name = "PATH",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = truecause::input::kmsg::DEV_KMSG
    )]
    pub kmsg: Option<PathBuf>,

    /// Watch a memory cgroup's OOM kill counters and memory pressure
    /// (implies --follow). The followed files' writers are taken to run
    /// in it, so their symptoms join its kills by cgroup and time.
    #[arg(long, value_name = "DIR")]
    pub cgroup: Option<PathBuf>,

    /// Checkpoint file: where each file and the kernel log were read up
    /// to; a restart goes on from there.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Serve Prometheus metrics at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,

    /// Where to start a file that has no checkpoint: its first line, or
    /// after its last one. Files that appear later are read from their
    /// start.
    #[arg(long, value_enum, default_value_t = FromArg::End)]
    pub from: FromArg,

    /// How long a rotated file must be quiet before it is closed.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub rotate_wait: String,

    /// cgroup v2: the share of time (percent) some task waited for
    /// memory that counts as a memory stall.
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub stall_psi: f64,

    /// cgroup v1: limit hits per second (memory.failcnt) that count as a
    /// memory stall.
    #[arg(long, value_name = "PER_SECOND", default_value_t = 10_000.0)]
    pub stall_failcnt: f64,

    /// Warn on stderr when a followed file produced no line for this
    /// long (0 never warns).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub silence: String,

    /// Least time between two checkpoint writes (0: after every batch of
    /// lines written out).
    #[arg(long, value_name = "DURATION", default_value = "0s")]
    pub state_interval: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FromArg {
    Start,
    End,
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
    /// Validate rule files: syntax, regexes, unknown keys, duplicate ids,
    /// windows, scenarios. Prints `file:line:column: error: what; how to
    /// fix it`; exit status 1 when there is an error.
    Check {
        /// Rule files or folders, checked with the shipped rules; none
        /// checks the shipped rules alone.
        paths: Vec<PathBuf>,
        /// Leave out the shipped rules.
        #[arg(long)]
        no_default_rules: bool,
    },
    /// Run the rules' examples, counterexamples and scenarios like a test
    /// runner; the last line reads `N passed, M failed`, and the exit
    /// status is 1 when a test fails.
    Test {
        /// Rule files or folders whose rules are tested (the shipped rules
        /// are still loaded for scenarios); none tests every loaded rule.
        paths: Vec<PathBuf>,
        /// Leave out the shipped rules.
        #[arg(long)]
        no_default_rules: bool,
    },
    /// List the loaded rules, one a line: id, kind, file, description.
    List {
        /// Rule files or folders to load with the shipped rules.
        paths: Vec<PathBuf>,
        /// Leave out the shipped rules.
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
