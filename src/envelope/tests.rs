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
