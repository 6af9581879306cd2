//! Envelope tests. Lines named `real_` were captured on this project's
//! machine (dmesg, /dev/kmsg, the fixture worker's Python logging);
//! lines named `synthetic_` were written to the documented format of a
//! tool not running here (syslog, journald).

use super::*;
use crate::time::{Clock, Timestamp, Zone};

fn utc_clock() -> Clock {
    let mut c = Clock::new(
        Zone::parse("UTC").unwrap(),
        Timestamp::parse_user("2026-12-03T13:30:00Z").unwrap(),
    );
    c.boot_time = Timestamp::parse_user("2026-12-03T13:08:28Z");
    c
}

fn message<'a>(line: &'a str, env: &Envelope) -> &'a str {
    &line[env.message..]
}

fn wall(env: &Envelope, clock: &mut Clock) -> String {
    env.stamp.resolve(clock).unwrap().to_rfc3339()
}

#[test]
fn real_dmesg_line() {
    let line = "[  884.628791] Memory cgroup out of memory: Killed process 11075 (claude) total-vm:1180680kB";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::Dmesg);
    assert!(env.kernel);
    assert_eq!(env.stamp, Stamp::Monotonic(884_628_791_000));
    assert!(message(line, &env).starts_with("Memory cgroup"));
    assert_eq!(wall(&env, &mut clock), "2026-12-03T13:23:12.628Z");
}

#[test]
fn real_dmesg_iso_line() {
    let line = "2026-12-03T13:25:10,357963+00:00 Memory cgroup out of memory: Killed process 12951 (claude)";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::DmesgIso);
    assert!(env.kernel);
    assert_eq!(wall(&env, &mut clock), "2026-12-03T13:25:10.357Z");
    assert!(message(line, &env).starts_with("Memory cgroup"));
}

#[test]
fn real_kmsg_record_and_continuation() {
    let line = "3,1404,719351573,-;Memory cgroup out of memory: Killed process 8253 (claude)";
    let clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::Kmsg);
    assert_eq!(env.stamp, Stamp::Monotonic(719_351_573_000));
    assert!(message(line, &env).starts_with("Memory cgroup"));

    let cont = parse(b" SUBSYSTEM=pci", &clock);
    assert_eq!(cont.format, Format::KmsgContinuation);
    assert_eq!(cont.stamp, Stamp::None);
}

#[test]
fn real_kmsg_record_with_caller_field() {
    let env = parse(
        b"4,427,1168679659,-,caller=T1729;x invoked oom-killer",
        &utc_clock(),
    );
    assert_eq!(env.format, Format::Kmsg);
    assert_eq!(env.stamp, Stamp::Monotonic(1_168_679_659_000));
}

#[test]
fn real_python_logging_line_with_tag() {
    let line = "2026-12-03 13:23:12,947 ERROR worker[11072]: job 2: claude CLI pid 11075 exited with returncode -9";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::Python);
    assert_eq!(env.pid, Some(11072));
    assert_eq!(&line[env.level.unwrap().0..env.level.unwrap().1], "ERROR");
    assert_eq!(
        &line[env.program.unwrap().0..env.program.unwrap().1],
        "worker"
    );
    assert!(message(line, &env).starts_with("job 2:"));
    assert_eq!(wall(&env, &mut clock), "2026-12-03T13:23:12.947Z");
}

#[test]
fn real_python_logger_name_with_dots() {
    let line = "2026-12-03 13:23:12,942 ERROR claude_agent_sdk._internal.query[11072]: Fatal error in message reader: x";
    let env = parse(line.as_bytes(), &utc_clock());
    assert_eq!(env.pid, Some(11072));
    assert!(message(line, &env).starts_with("Fatal error"));
}

#[test]
fn python_stamp_is_read_in_the_clock_zone() {
    let line = "2026-12-03 13:23:12,947 ERROR worker[1]: x";
    let mut clock = utc_clock();
    clock.zone = Zone::parse("+02:00").unwrap();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(wall(&env, &mut clock), "2026-12-03T11:23:12.947Z");
}

#[test]
fn traceback_lines_have_no_stamp() {
    let env = parse(b"  File \"/x.py\", line 67, in run", &utc_clock());
    assert_eq!(env.stamp, Stamp::None);
    let env = parse(b"Traceback (most recent call last):", &utc_clock());
    assert_eq!(env.stamp, Stamp::None);
}

#[test]
fn synthetic_celery_header() {
    let line = "[2026-12-03 12:42:33,454: ERROR/ForkPoolWorker-2] Task failed";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::Celery);
    assert_eq!(
        &line[env.program.unwrap().0..env.program.unwrap().1],
        "ForkPoolWorker-2"
    );
    assert_eq!(message(line, &env), "Task failed");
    assert_eq!(wall(&env, &mut clock), "2026-12-03T12:42:33.454Z");
}

#[test]
fn synthetic_classic_syslog_kernel_line_teaches_boot_time() {
    let line = "Dec  3 12:42:33 web-1 kernel: [ 1168.679659] Out of memory: Killed process 4242 (claude)";
    let mut clock = utc_clock();
    clock.boot_time = None;
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::Syslog);
    assert!(env.kernel);
    assert!(message(line, &env).starts_with("Out of memory"));
    assert_eq!(wall(&env, &mut clock), "2026-12-03T12:42:33.000Z");
    let boot = clock.boot_time.unwrap();
    assert_eq!(boot.to_rfc3339(), "2026-12-03T12:23:04.320Z");
}

#[test]
fn synthetic_syslog_year_from_reference_over_new_year() {
    let line = "Dec 31 23:59:59 h app[7]: x";
    let mut clock = Clock::new(
        Zone::parse("UTC").unwrap(),
        Timestamp::parse_user("2027-01-01T00:10:00Z").unwrap(),
    );
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.pid, Some(7));
    assert_eq!(wall(&env, &mut clock), "2026-12-31T23:59:59.000Z");
}

#[test]
fn synthetic_journal_short_iso() {
    let line = "2026-12-03T12:42:33+0000 web-1 kernel: Memory cgroup out of memory: Killed process 4242 (claude)";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::JournalIso);
    assert!(env.kernel);
    assert!(message(line, &env).starts_with("Memory cgroup"));
    assert_eq!(wall(&env, &mut clock), "2026-12-03T12:42:33.000Z");

    let precise = "2026-12-03T12:42:33.123456+01:00 web-1 celery[99]: boom";
    let env = parse(precise.as_bytes(), &clock);
    assert_eq!(env.pid, Some(99));
    assert_eq!(wall(&env, &mut clock), "2026-12-03T11:42:33.123Z");
}

#[test]
fn synthetic_bare_rfc3339() {
    let line =
        "2026-12-03T12:34:08.875Z ERROR Control request timeout: initialize";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::Rfc3339);
    assert_eq!(wall(&env, &mut clock), "2026-12-03T12:34:08.875Z");
    assert!(message(line, &env).starts_with("ERROR"));
}

#[test]
fn garbage_is_all_message_and_never_panics() {
    for line in [
        &b""[..],
        b"[",
        b"[ 12.",
        b"[ 12.3",
        b"2026-",
        b"2026-12-03T",
        b"2026-12-03 99:99:99,1 x",
        b"Dec",
        b"Dec  3 12:42:33",
        b"1,2,3,-",
        b"\xff\xfe\x00[ 1.0] x",
        b" ",
    ] {
        let env = parse(line, &utc_clock());
        assert!(env.message <= line.len());
    }
}

// Formats seen in public issue threads (each line is a case of
// tests/corpus/, where its address is cited).

#[test]
fn real_dmesg_ctime_line_is_the_kernels_in_local_time() {
    let line = "[Mon Dec  8 17:51:31 2025] postgres invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP), order=0, oom_score_adj=0";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::DmesgCtime);
    assert!(env.kernel);
    assert!(message(line, &env).starts_with("postgres invoked"));
    assert_eq!(wall(&env, &mut clock), "2025-12-08T17:51:31.000Z");
}

#[test]
fn real_apache_stamp_with_fraction_is_not_dmesg_ctime() {
    let line = "[Fri Jan 12 01:00:57.396486 2024] [mpm_prefork:notice] [pid 2455110] AH00169: caught SIGTERM, shutting down";
    let env = parse(line.as_bytes(), &utc_clock());
    assert!(!env.kernel);
}

#[test]
fn real_dmesg_with_caller_id_and_vendor_cpu_prefix() {
    let line = "[   37.128158][ T9185] Memory cgroup out of memory: Killed process 9188 (a.out)";
    let env = parse(line.as_bytes(), &utc_clock());
    assert_eq!(env.stamp, Stamp::Monotonic(37_128_158_000));
    assert!(message(line, &env).starts_with("Memory cgroup"));

    let line =
        "[2-3219.1870] vd-net-config invoked oom-killer: gfp_mask=0x80d0";
    let env = parse(line.as_bytes(), &utc_clock());
    assert_eq!(env.format, Format::Dmesg);
    assert!(message(line, &env).starts_with("vd-net-config"));
}

#[test]
fn real_bare_kernel_tag() {
    let line = "kernel: systemd invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=100";
    let env = parse(line.as_bytes(), &utc_clock());
    assert_eq!(env.format, Format::KernelTag);
    assert!(env.kernel);
    assert_eq!(message(line, &env), &line[8..]);
}

#[test]
fn real_syslog_without_host_and_with_inner_stamp() {
    let line = "Aug 19 00:32:49 kernel: [ 9655.029735] [17563] 10000 17563   991037    16209     378   128195             0 java";
    let env = parse(line.as_bytes(), &utc_clock());
    assert!(env.kernel);
    assert_eq!(env.host, None);
    assert!(message(line, &env).starts_with("[17563] 10000"));
}

#[test]
fn real_syslog_with_a_localized_month_has_no_time_but_a_tag() {
    let line = "апр 28 01:23:30 PC kernel: Out of memory: Kill process 27541 (bash) score 572 or sacrifice child";
    let env = parse(line.as_bytes(), &utc_clock());
    assert_eq!(env.format, Format::Syslog);
    assert!(env.kernel);
    assert_eq!(env.stamp, Stamp::None);
    assert!(message(line, &env).starts_with("Out of memory"));
}

#[test]
fn real_talosctl_lines_with_and_without_a_node() {
    let line = "10.200.70.91: kern:    info: [2025-06-04T04:51:57.572293906Z]: memory: usage 4194304kB, limit 4194304kB, failcnt 2084326";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::Talos);
    assert!(env.kernel);
    assert_eq!(
        &line[env.host.unwrap().0..env.host.unwrap().1],
        "10.200.70.91"
    );
    assert!(message(line, &env).starts_with("memory: usage"));
    assert_eq!(wall(&env, &mut clock), "2025-06-04T04:51:57.572Z");

    let line = "user: warning: [2026-01-12T20:27:31.913975631Z]: [talos] Sending SIGKILL to cgroup";
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::Talos);
    assert!(!env.kernel);
    assert!(message(line, &env).starts_with("[talos]"));
}

#[test]
fn real_labelled_lines_are_parsed_after_the_label() {
    let line = "percona # [   16.869199] mysqld invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0";
    let env = parse(line.as_bytes(), &utc_clock());
    assert_eq!(env.format, Format::Dmesg);
    assert!(env.kernel);
    assert!(message(line, &env).starts_with("mysqld invoked"));

    let line = "celery-slow_1  | [2021-08-25 23:24:53,573: ERROR/MainProcess] Process 'ForkPoolWorker-3' pid:27 exited with 'signal 9 (SIGKILL)'";
    let env = parse(line.as_bytes(), &utc_clock());
    assert_eq!(env.format, Format::Celery);
    assert_eq!(
        &line[env.program.unwrap().0..env.program.unwrap().1],
        "MainProcess"
    );
    assert!(message(line, &env).starts_with("Process 'ForkPoolWorker-3'"));
}

#[test]
fn real_label_without_an_envelope_after_it_is_all_message() {
    let line = "0|claude-code-ui  | SDK query error: Error: Claude Code process exited with code 1";
    let env = parse(line.as_bytes(), &utc_clock());
    assert_eq!(env.format, Format::None);
    assert_eq!(env.message, 0);
}

#[test]
fn real_gunicorn_line_gives_time_and_the_arbiters_pid() {
    let line = "[2024-11-05 09:26:00 +0000] [16] [ERROR] Worker (pid:17) was sent SIGKILL! Perhaps out of memory?";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::Gunicorn);
    assert_eq!(env.pid, Some(16));
    assert!(message(line, &env).starts_with("Worker (pid:17)"));
    assert_eq!(wall(&env, &mut clock), "2024-11-05T09:26:00.000Z");
}

proptest::proptest! {
    #[test]
    fn any_bytes_parse_without_panic(line in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
        let env = parse(&line, &utc_clock());
        proptest::prop_assert!(env.message <= line.len());
    }

    #[test]
    fn any_prefix_of_a_real_line_parses_without_panic(cut in 0usize..140) {
        for line in [
            "10.200.70.91: kern:    info: [2025-06-04T04:51:57.572293906Z]: memory: usage 4194304kB",
            "[Mon Dec  8 17:51:31 2025] postgres invoked oom-killer",
            "[2024-11-05 09:26:00 +0000] [16] [ERROR] Worker (pid:17) was sent SIGKILL!",
            "celery-slow_1  | [2021-08-25 23:24:53,573: ERROR/MainProcess] Process",
            "апр 28 01:23:30 PC kernel: Out of memory",
            "[   37.128158][ T9185] Memory cgroup out of memory",
        ] {
            let bytes = &line.as_bytes()[..cut.min(line.len())];
            let env = parse(bytes, &utc_clock());
            proptest::prop_assert!(env.message <= bytes.len());
        }
    }
}

#[test]
fn real_go_log_line_from_the_parents_capture() {
    // fixtures/parents/go-deadline.log
    let line = "2026/12/03 14:04:18.508995 sleep: signal: killed";
    let mut clock = utc_clock();
    let env = parse(line.as_bytes(), &clock);
    assert_eq!(env.format, Format::SlashDate);
    assert_eq!(message(line, &env), "sleep: signal: killed");
    assert_eq!(wall(&env, &mut clock), "2026-12-03T14:04:18.508Z");
}

#[test]
fn real_nginx_error_log_line_gives_the_masters_pid() {
    let line = "2014/09/15 11:34:24 [alert] 27#0: worker process 28 exited on signal 11";
    let env = parse(line.as_bytes(), &utc_clock());
    assert_eq!(env.format, Format::SlashDate);
    assert_eq!(env.pid, Some(27));
    assert_eq!(&line[env.level.unwrap().0..env.level.unwrap().1], "alert");
    assert_eq!(message(line, &env), "worker process 28 exited on signal 11");
}

#[test]
fn lines_told_bare_by_their_first_bytes_parse_bare() {
    let clock = utc_clock();
    for line in [
        &b"  File \"/app/tasks.py\", line 42, in run"[..],
        b"\tat java.lang.Thread.run(Thread.java:750)",
        b"    raise ProcessError(msg)",
        b" ",
        b"Traceback (most recent call last):",
        b"httpx.ConnectError: [Errno 111] Connection refused",
        b"During handling of the above exception, another exception occurred:",
        b"ValueError",
        b"Dec ",
        b"a |",
    ] {
        assert!(plainly_bare(line), "{}", String::from_utf8_lossy(line));
        assert_eq!(parse(line, &clock), Envelope::bare());
    }
    for line in fixture_lines(&["worker.log", "dmesg.txt", "kmsg.txt"]) {
        if plainly_bare(&line) {
            assert_eq!(parse(&line, &clock), Envelope::bare());
        }
    }
    for line in [
        &b" SUBSYSTEM=memory"[..],
        b"[ 1168.679659] x",
        b"",
        b"Dec  3 13:32:03 host kernel: x",
        b"mars 01 14:37:27 host prog: x",
        b"kernel: [ 1168.679659] x",
        b"kern:    info: [2024-08-22T17:52:26.351725011Z]: x",
        b"web_1  | [2026-12-03 13:32:03,418: INFO/MainProcess] x",
        b"machine # Dec  3 13:32:03 host prog: x",
    ] {
        assert!(!plainly_bare(line), "{}", String::from_utf8_lossy(line));
        // Each but the empty line has an envelope.
        assert_eq!(parse(line, &clock) == Envelope::bare(), line.is_empty());
    }
}

/// A line told bare by its first bytes parses bare, over the real
/// captures' lines with SYNTHETIC starts put before them (words, labels,
/// month names, the kernel's tag, a facility) and each cut short at
/// every length up to 40 bytes: where a format almost starts.
#[test]
fn lines_told_bare_parse_bare_wherever_a_format_almost_starts() {
    let clock = utc_clock();
    let starts: [&[u8]; 14] = [
        b"",
        b"Word ",
        b"word: ",
        b"web_1  | ",
        b"machine # ",
        b"a|b | ",
        b"kernel: ",
        b"kernel:",
        b"Dec ",
        b"Dec  3 ",
        b"mars 01 ",
        b"kern: ",
        b"kern:    info: ",
        b"Traceback ",
    ];
    let lines = fixture_lines(&["worker.log", "dmesg.txt", "kmsg.txt"]);
    let mut told = 0;
    for line in lines.iter().step_by(lines.len() / 400 + 1) {
        for start in starts {
            let whole = [start, &line[..]].concat();
            for cut in (1..=40.min(whole.len())).chain([whole.len()]) {
                let line = &whole[..cut];
                if plainly_bare(line) {
                    told += 1;
                    assert_eq!(
                        parse(line, &clock),
                        Envelope::bare(),
                        "{:?}",
                        String::from_utf8_lossy(line)
                    );
                }
            }
        }
    }
    assert!(told > 1000, "only {told} lines told bare");
}

/// The every-line merge asks of a line still carrying its terminator:
/// the answer must be the one for the line without it.
#[test]
fn a_terminator_does_not_change_whether_a_line_is_plainly_bare() {
    let mut lines = fixture_lines(&["worker.log", "dmesg.txt", "kmsg.txt"]);
    for made in [
        &b" "[..],
        b"\t",
        b" KEY",
        b" KEY=",
        b" A_B=c",
        b"",
        b"x",
        b"Dec ",
        b"Dec 3",
        b"kern:",
        b"kernel:",
        b"a |",
        b"a | ",
        b"Traceback",
    ] {
        lines.push(made.to_vec());
    }
    for line in lines {
        for end in [&b"\n"[..], b"\r\n"] {
            let raw = [&line[..], end].concat();
            assert_eq!(
                plainly_bare(&raw),
                plainly_bare(&line),
                "{:?}",
                String::from_utf8_lossy(&raw)
            );
        }
    }
}

#[test]
fn dmesg_since_boot_agrees_with_the_dmesg_parser() {
    let mut lines = fixture_lines(&[
        "dmesg.txt",
        "dmesg-iso.txt",
        "kmsg.txt",
        "worker.log",
    ]);
    for made in [
        &b"[2-3219.187000] cpu before the seconds"[..],
        b"[   12.345678][  T123] caller after",
        b"[1234567890123.5] too many digits",
        b"[12345678901234567890123.123456] far too many digits",
        b"[   12.345678] six digits of fraction",
        b"[   12.34567] five",
        b"[   12.3456789] seven",
        b"[12.345678] unpadded",
        b"[   12.34x678] not a digit",
        b"[ 12.] no fraction",
        b"[ 12.3456789012] long fraction",
        b"[ 12.5 no bracket",
        b"[12345-12.5] cpu too long",
    ] {
        lines.push(made.to_vec());
    }
    let clock = utc_clock();
    let mut taken = 0;
    for line in &lines {
        let full = match parse(line, &clock) {
            Envelope {
                format: Format::Dmesg,
                stamp: Stamp::Monotonic(ns),
                pid: None,
                ..
            } => Some(ns),
            _ => None,
        };
        assert_eq!(
            dmesg_since_boot(line),
            full,
            "{}",
            String::from_utf8_lossy(line)
        );
        taken += usize::from(full.is_some());
    }
    assert!(taken > 100, "{taken} dmesg lines");
}

/// Every line of the named files of every capture in `fixtures/`.
pub(super) fn fixture_lines(names: &[&str]) -> Vec<Vec<u8>> {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut lines = Vec::new();
    for dir in std::fs::read_dir(&root).expect("fixtures") {
        let dir = dir.expect("entry").path();
        for name in names {
            if let Ok(text) = std::fs::read(dir.join(name)) {
                lines.extend(text.split(|&b| b == b'\n').map(<[u8]>::to_vec));
            }
        }
    }
    lines
}
