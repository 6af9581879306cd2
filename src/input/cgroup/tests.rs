use std::fs;
use std::time::{Duration, Instant};

use super::*;

/// This machine's mountinfo lines for its cgroup file systems (v1
/// controllers and the v2 `unified` mount), as the kernel printed them.
const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

#[test]
fn names_a_cgroup_as_the_kernel_does() {
    let name = |p: &str| name_in_hierarchy(Path::new(p), MOUNTINFO);
    assert_eq!(
        name("/sys/fs/cgroup/memory/truecause-live").as_deref(),
        Some("/truecause-live")
    );
    assert_eq!(name("/sys/fs/cgroup/unified/a/b").as_deref(), Some("/a/b"));
    assert_eq!(name("/sys/fs/cgroup/memory").as_deref(), Some("/"));
    assert_eq!(name("/tmp/x"), None);
}

#[test]
fn a_container_sees_its_mount_root_in_the_name() {
    let info = "1 0 0:30 /kubepods/pod1/ctr /sys/fs/cgroup ro - cgroup2 \
                cgroup2 rw\n";
    assert_eq!(
        name_in_hierarchy(Path::new("/sys/fs/cgroup"), info).as_deref(),
        Some("/kubepods/pod1/ctr")
    );
}

#[test]
fn parses_v1_and_v2_counters() {
    let v2 = parse_counters(
        "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 1\n",
    );
    assert_eq!((v2.oom, v2.oom_kill, v2.oom_group_kill), (3, 2, 1));
    let v1 = parse_counters("oom_kill_disable 0\nunder_oom 1\noom_kill 4\n");
    assert_eq!((v1.oom_kill, v1.under_oom), (4, true));
}

#[test]
fn parses_psi_totals() {
    // /sys/fs/cgroup/unified/memory.pressure on this machine.
    let text = "some avg10=0.20 avg60=0.20 avg300=0.82 total=48150963\n\
                full avg10=0.00 avg60=0.01 avg300=0.63 total=44653790\n";
    assert_eq!(parse_psi(text), Some((48_150_963, 44_653_790)));
    assert_eq!(parse_psi("nonsense"), None);
}

/// A folder laid out like a v2 memory cgroup, written by the test.
fn synthetic_v2() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_events(dir.path(), 0, 0);
    write_psi(dir.path(), 0);
    dir
}

fn write_events(dir: &Path, oom: u64, kills: u64) {
    fs::write(
        dir.join("memory.events"),
        format!(
            "low 0\nhigh 0\nmax 0\noom {oom}\noom_kill {kills}\n\
             oom_group_kill 0\n"
        ),
    )
    .unwrap();
}

fn write_psi(dir: &Path, some_us: u64) {
    fs::write(
        dir.join("memory.pressure"),
        format!(
            "some avg10=0.00 avg60=0.00 avg300=0.00 total={some_us}\n\
             full avg10=0.00 avg60=0.00 avg300=0.00 total={}\n",
            some_us / 2
        ),
    )
    .unwrap();
}

#[test]
fn synthetic_v2_kill_increases_are_observed_once() {
    let dir = synthetic_v2();
    let mut cg = Cgroup::open(dir.path(), Options::default()).unwrap();
    assert_eq!(cg.version(), Version::V2);
    let t0 = Instant::now();
    assert!(cg.check(t0).unwrap().is_empty());

    write_events(dir.path(), 2, 2);
    cg.notified(t0);
    let seen = cg.check(t0 + Duration::from_millis(5)).unwrap();
    assert_eq!(
        seen,
        [Observation::OomKill {
            file: "memory.events",
            increase: 2,
            count: 2,
            group: false
        }]
    );
    assert!(cg.check(t0 + Duration::from_millis(30)).unwrap().is_empty());

    let event = seen[0].event(cg.name(), 3, 1, Timestamp(0));
    assert_eq!(&*event.kind, "oom_kill");
    assert_eq!(event.int("count"), Some(2));
    assert_eq!(event.str("cgroup"), Some(cg.name()));
    assert!(event.get("pid").is_none(), "the counters name no victim");
}

#[test]
fn synthetic_v2_oom_without_kill_becomes_a_stall_after_the_recheck() {
    let dir = synthetic_v2();
    let mut cg = Cgroup::open(dir.path(), Options::default()).unwrap();
    let t0 = Instant::now();
    cg.check(t0).unwrap();
    write_events(dir.path(), 1, 0);
    cg.notified(t0);
    assert!(cg.check(t0 + Duration::from_millis(10)).unwrap().is_empty());
    let later = cg.check(t0 + Duration::from_millis(1500)).unwrap();
    assert!(
        matches!(&later[..], [Observation::Stall(s)] if s.reason == "oom_without_kill"),
        "{later:?}"
    );
}

#[test]
fn synthetic_v2_pressure_over_the_threshold_is_a_stall_repeated_while_it_lasts()
 {
    let dir = synthetic_v2();
    let opts = Options::default();
    let mut cg = Cgroup::open(dir.path(), opts).unwrap();
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    assert!(
        cg.check(at(0)).unwrap().is_empty(),
        "first sample: baseline"
    );

    // 5% of a second stalled: below the 10% threshold.
    write_psi(dir.path(), 50_000);
    assert!(cg.check(at(1)).unwrap().is_empty());

    // 40%: a stall.
    write_psi(dir.path(), 450_000);
    let seen = cg.check(at(2)).unwrap();
    let [Observation::Stall(s)] = &seen[..] else {
        panic!("{seen:?}")
    };
    assert_eq!(
        (s.reason, s.some_pct, s.full_pct),
        ("psi", Some(40), Some(20))
    );

    // Still stalled a second later: not said again so soon...
    write_psi(dir.path(), 850_000);
    assert!(cg.check(at(3)).unwrap().is_empty());
    // ...but again once `stall_repeat` has passed.
    let mut total = 850_000;
    let mut repeated = 0;
    for s in 4..=33 {
        total += 400_000;
        write_psi(dir.path(), total);
        repeated += cg.check(at(s)).unwrap().len();
    }
    assert_eq!(repeated, 1);
}

#[test]
fn a_folder_without_memory_counters_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Cgroup::open(dir.path(), Options::default()).err().unwrap();
    assert!(err.to_string().contains("not a memory cgroup"), "{err}");
}

/// One row of fixtures/cgroup-stall/samples.tsv: a real stall without a
/// kill, sampled every 0.2 s (see the capture script there).
struct Row {
    t: f64,
    phase: String,
    failcnt: u64,
    under_oom: u64,
    oom_kill: u64,
    psi_some: u64,
    psi_full: u64,
}

fn captured_stall() -> Vec<Row> {
    let text = include_str!("../../../fixtures/cgroup-stall/samples.tsv");
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let int = |i: usize| f[i].parse::<u64>().unwrap_or(0);
            Row {
                t: f[0].parse().unwrap(),
                phase: f[1].to_owned(),
                failcnt: int(2),
                under_oom: int(4),
                oom_kill: int(5),
                psi_some: int(6),
                psi_full: int(7),
            }
        })
        .collect()
}

/// Replay the captured counters through a watched folder laid out as v1
/// or v2, and say in which phases stalls (or kills) were observed.
fn replay(v2: bool) -> Vec<(String, Observation)> {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let write_row = |r: &Row| {
        if v2 {
            write_events(d, 0, r.oom_kill);
            fs::write(
                d.join("memory.pressure"),
                format!(
                    "some avg10=0.00 avg60=0.00 avg300=0.00 total={}\n\
                     full avg10=0.00 avg60=0.00 avg300=0.00 total={}\n",
                    r.psi_some, r.psi_full
                ),
            )
            .unwrap();
        } else {
            fs::write(
                d.join("memory.oom_control"),
                format!(
                    "oom_kill_disable 0\nunder_oom {}\noom_kill {}\n",
                    r.under_oom, r.oom_kill
                ),
            )
            .unwrap();
            fs::write(d.join("memory.failcnt"), format!("{}\n", r.failcnt))
                .unwrap();
        }
    };
    let rows = captured_stall();
    write_row(&rows[0]);
    let mut cg = Cgroup::open(d, Options::default()).unwrap();
    assert_eq!(cg.version(), if v2 { Version::V2 } else { Version::V1 });
    let t0 = Instant::now();
    let mut seen = Vec::new();
    for r in &rows {
        write_row(r);
        let at = t0 + Duration::from_secs_f64(r.t);
        for o in cg.check(at).unwrap() {
            seen.push((r.phase.clone(), o));
        }
    }
    seen
}

#[test]
fn a_captured_stall_is_seen_in_failcnt_and_psi_and_quiet_is_not() {
    for v2 in [false, true] {
        let seen = replay(v2);
        assert!(!seen.is_empty(), "v2={v2}: no stall seen");
        for (phase, o) in &seen {
            let Observation::Stall(s) = o else {
                panic!("v2={v2}: nothing was killed, yet {o:?}")
            };
            // A sample that ends just after the process does still
            // covers the stall.
            assert!(phase != "before", "v2={v2}: {phase}: {s:?}");
            assert_eq!(s.reason, if v2 { "psi" } else { "failcnt" });
        }
        // A stall that goes on is said once, then again only after
        // `stall_repeat` (30 s; the capture's stall is shorter).
        assert_eq!(seen.len(), 1, "v2={v2}: {seen:?}");
    }
}
