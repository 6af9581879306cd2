//! The truecause binary: parse the command line into a validated
//! configuration, run, and map the outcome to an exit status.

mod cli;
mod rules_command;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;

use cli::{Cli, ColorChoice, Command, FromArg, OutputFormat, RulesAction};
use truecause::input::cgroup;
use truecause::pipeline::{
    self, Config, FollowConfig, Format, FromWhere, Input,
};
use truecause::rules::{self, LoadOptions, RuleSet};
use truecause::time::{Timestamp, Zone};

/// Exit statuses, as documented in `--help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Ok = 0,
    Problems = 1,
    Error = 2,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.run.log_level);
    let status = match run(cli) {
        Ok(s) => s,
        Err(e) => {
            if is_broken_pipe(&e) {
                Status::Ok
            } else {
                eprintln!("truecause: {e:#}");
                Status::Error
            }
        }
    };
    ExitCode::from(status as u8)
}

/// Diagnostics go to stderr as `truecause: <level>: <message> k=v...`,
/// the same shape as the binary's own error lines.
fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRUECAUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .event_format(Plain)
        .init();
}

/// The event formatter for [`init_logging`].
struct Plain;

impl<S, N> tracing_subscriber::fmt::FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber
        + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let level = event.metadata().level().as_str().to_ascii_lowercase();
        write!(writer, "truecause: {level}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

fn run(cli: Cli) -> anyhow::Result<Status> {
    match cli.command {
        Some(Command::Rules { action }) => rules_command(action),
        Some(Command::Man) => {
            let page = clap_mangen::Man::new(
                <Cli as clap::CommandFactory>::command(),
            );
            let mut out = io::stdout().lock();
            page.render(&mut out)?;
            Ok(Status::Ok)
        }
        None => analyze(cli.run),
    }
}

fn analyze(args: cli::RunArgs) -> anyhow::Result<Status> {
    let load = LoadOptions {
        no_default_rules: args.rules.no_default_rules,
        paths: args.rules.paths.clone(),
        compile_regexes: false,
        lean: true,
    };
    let rules = load_rules(&load)?;
    let config = config_from(&args)?;
    let stdout = io::stdout();
    let out = io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let what = if config.follow.is_some() {
        "cannot follow"
    } else {
        "cannot write output"
    };
    let summary = pipeline::run(&config, rules, out).context(what)?;
    if summary.long_lines > 0 {
        tracing::warn!(
            lines = summary.long_lines,
            max = config.max_line,
            "lines longer than --max-line passed through in pieces; rules saw only their first piece"
        );
    }
    for warning in &summary.warnings {
        tracing::warn!("{warning}");
    }
    if summary.stats.dropped_events > 0 {
        tracing::warn!(
            dropped = summary.stats.dropped_events,
            "events dropped by the store's bound before their window closed; some explanations may be missing"
        );
    }
    if !summary.failed_sources.is_empty() {
        return Ok(Status::Error);
    }
    Ok(Status::Ok)
}

fn config_from(args: &cli::RunArgs) -> anyhow::Result<Config> {
    let inputs = match args.files.as_slice() {
        [] => vec![Input::Stdin],
        files => files
            .iter()
            .map(|f| {
                if f.as_os_str() == "-" {
                    Input::Stdin
                } else {
                    Input::File(f.clone())
                }
            })
            .collect(),
    };
    let boot_time = match &args.boot_time {
        Some(t) => Some(Timestamp::parse_user(t).with_context(|| {
            format!("--boot-time {t:?} is neither RFC 3339 nor epoch seconds")
        })?),
        None => None,
    };
    let zone = match &args.tz {
        Some(z) => match Zone::parse(z) {
            Some(zone) => zone,
            None => {
                bail!("--tz {z:?} is not UTC, local, or an offset like +02:00")
            }
        },
        None => Zone::Local,
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let follow = follow_from(args, &inputs)?;
    Ok(Config {
        follow,
        inputs,
        format: match args.format {
            OutputFormat::Text => Format::Text,
            OutputFormat::Json => Format::Json,
        },
        annotations_only: args.annotations_only,
        color: color && args.format == OutputFormat::Text,
        boot_time,
        zone,
        max_line: args.max_line.max(1024),
        ..Config::default()
    })
}

/// The follow configuration, when --follow, --kmsg or --cgroup asks for
/// follow mode; --state and --metrics make sense only there.
fn follow_from(
    args: &cli::RunArgs,
    inputs: &[Input],
) -> anyhow::Result<Option<FollowConfig>> {
    let f = &args.follow;
    if !(f.follow || f.kmsg.is_some() || f.cgroup.is_some()) {
        if f.state.is_some() || f.metrics.is_some() {
            bail!("--state and --metrics need --follow, --kmsg or --cgroup");
        }
        return Ok(None);
    }
    let mut files = Vec::new();
    for input in inputs {
        match input {
            Input::File(p) => files.push(p.clone()),
            Input::Stdin if args.files.is_empty() => {}
            Input::Stdin => {
                bail!(
                    "standard input (-) cannot be followed; pipe it in without --follow"
                )
            }
        }
    }
    if files.is_empty() && f.kmsg.is_none() && f.cgroup.is_none() {
        bail!("--follow needs files to follow (or --kmsg, --cgroup)");
    }
    let duration = |flag: &str, text: &str| {
        truecause::time::parse_duration(text)
            .map(|n| std::time::Duration::from_nanos(n as u64))
            .with_context(|| {
                format!(
                    "{flag} {text:?} is not a duration like 5s, 500ms or 2m"
                )
            })
    };
    if !(0.0..=100.0).contains(&f.stall_psi) || f.stall_failcnt < 0.0 {
        bail!(
            "--stall-psi is a percentage (0-100) and --stall-failcnt a rate (>= 0)"
        );
    }
    Ok(Some(FollowConfig {
        files,
        kmsg: f.kmsg.clone(),
        cgroup: f.cgroup.clone(),
        state: f.state.clone(),
        metrics: f.metrics,
        from: match f.from {
            FromArg::Start => FromWhere::Start,
            FromArg::End => FromWhere::End,
        },
        rotate_wait: duration("--rotate-wait", &f.rotate_wait)?,
        cgroup_options: cgroup::Options {
            stall_ratio: f.stall_psi / 100.0,
            failcnt_per_sec: f.stall_failcnt,
            ..cgroup::Options::default()
        },
        silence: duration("--silence", &f.silence)?,
        state_interval: duration("--state-interval", &f.state_interval)?,
        watch_stdout: true,
    }))
}

/// Load rules; any error is fatal for a run (warnings go to stderr).
fn load_rules(load: &LoadOptions) -> anyhow::Result<RuleSet> {
    let started = std::time::Instant::now();
    let (set, problems) = rules::load(load);
    tracing::debug!(
        patterns = set.patterns.len(),
        explains = set.explains.len(),
        elapsed = ?started.elapsed(),
        "rules loaded"
    );
    let mut errors = 0;
    for p in &problems {
        if p.warning {
            tracing::warn!("{p}");
        } else {
            eprintln!("truecause: {p}");
            errors += 1;
        }
    }
    if errors > 0 {
        bail!(
            "{errors} problem(s) in rule files; `truecause rules check` lists them"
        );
    }
    Ok(set)
}

fn rules_command(action: RulesAction) -> anyhow::Result<Status> {
    let (paths, no_default_rules) = match &action {
        RulesAction::Check {
            paths,
            no_default_rules,
        }
        | RulesAction::Test {
            paths,
            no_default_rules,
        }
        | RulesAction::List {
            paths,
            no_default_rules,
        } => (paths.clone(), *no_default_rules),
    };
    let load = LoadOptions {
        no_default_rules,
        paths,
        compile_regexes: true,
        lean: false,
    };
    let (set, problems) = rules::load(&load);
    let mut out = io::stdout().lock();
    let verdict = match action {
        RulesAction::Check { .. } => {
            rules_command::check(&mut out, &set, &problems)?
        }
        RulesAction::Test { .. } => {
            rules_command::test(&mut out, &set, &problems, &load)?
        }
        RulesAction::List { .. } => {
            for p in problems.iter().filter(|p| !p.warning) {
                eprintln!("truecause: {p}");
            }
            rules_command::list(&mut out, &set)?;
            rules_command::Verdict::Clean
        }
    };
    out.flush()?;
    Ok(match verdict {
        rules_command::Verdict::Clean => Status::Ok,
        rules_command::Verdict::Problems => Status::Problems,
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
