//! Writes SYNTHETIC benchmark inputs: a Celery worker log, a kernel log
//! in `dmesg` form, and the ground truth of which worker lines truecause
//! must explain. Everything is drawn from one seeded generator, so a
//! seed and a size always give the same bytes.
//!
//! The line shapes follow the real captures in `fixtures/` (Celery's
//! `[stamp: LEVEL/ProcessName]` header, the SDK's ProcessError and
//! initialize-timeout tracebacks, the kernel's full memory-cgroup OOM
//! report with its call trace, counters and task table); the noise
//! around them is made from templates of common kernel and Celery
//! messages. The data is synthetic by nature, and its file names say so.
//!
//! ```text
//! cargo run --release --example generate -- --seed 1 --size 1250M --out DIR
//! ```
//!
//! writes `DIR/synthetic-worker.log`, `DIR/synthetic-dmesg.txt`,
//! `DIR/synthetic-truth.tsv` (one `file<TAB>line<TAB>cause kind` row per
//! line that must be explained) and `DIR/synthetic-args.txt` (the
//! `--boot-time` and `--tz` to replay them with).

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Wall time of the first line: 2026-11-23T00:00:00Z.
const START: i64 = 1_795_392_000;

/// The host booted this long before the first line.
const UPTIME_AT_START: i64 = 3_600;

/// The boot time to replay the kernel log with (`--boot-time`).
pub(crate) const BOOT_TIME: i64 = START - UPTIME_AT_START;

/// How long the logs span: a week.
const SPAN_SECS: i64 = 7 * 24 * 3600;

/// Share of the noise events that go to the worker log.
const WORKER_SHARE: f64 = 0.85;

/// One incident (explained or not) per this many bytes of output.
const BYTES_PER_INCIDENT: u64 = 4_000_000;

/// Incidents are at least this far apart, so that no window of one
/// reaches another (the rules' widest window is 65 s before, 10 s after,
/// plus 2 s of skew).
const MIN_GAP_SECS: i64 = 200;

fn main() -> ExitCode {
    match parse_args().and_then(|a| generate(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate: {e}");
            ExitCode::from(2)
        }
    }
}

/// What to write: the seed, the total size in bytes, and the folder.
pub(crate) struct Args {
    pub(crate) seed: u64,
    pub(crate) size: u64,
    pub(crate) out: PathBuf,
}

fn parse_args() -> io::Result<Args> {
    let mut args = Args {
        seed: 1,
        size: 100_000_000,
        out: PathBuf::from("."),
    };
    let mut it = std::env::args().skip(1);
    let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
    while let Some(a) = it.next() {
        let mut value =
            || it.next().ok_or_else(|| bad(format!("{a} needs a value")));
        match a.as_str() {
            "--seed" => {
                let v = value()?;
                args.seed =
                    v.parse().map_err(|_| bad(format!("bad seed {v:?}")))?;
            }
            "--size" => {
                let v = value()?;
                args.size = parse_size(&v)
                    .ok_or_else(|| bad(format!("bad size {v:?}")))?;
            }
            "--out" => args.out = PathBuf::from(value()?),
            _ => {
                return Err(bad(format!(
                    "unknown argument {a:?}; usage: generate [--seed N] \
                     [--size 100M] [--out DIR]"
                )));
            }
        }
    }
    Ok(args)
}

/// `1250M`, `4G`, `300K` or plain bytes (powers of 1000).
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, scale) = match t.as_bytes().last()? {
        b'K' | b'k' => (&t[..t.len() - 1], 1_000),
        b'M' | b'm' => (&t[..t.len() - 1], 1_000_000),
        b'G' | b'g' => (&t[..t.len() - 1], 1_000_000_000),
        _ => (t, 1),
    };
    let n: f64 = num.parse().ok()?;
    (n > 0.0).then_some((n * scale as f64) as u64)
}

/// SplitMix64: small, fast, and the same on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Which file a line goes to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Stream {
    Worker,
    Kernel,
}

/// A line scheduled by an incident, at a wall time in nanoseconds.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Scheduled {
    /// Negated time and sequence, so the max-heap pops the earliest.
    key: (std::cmp::Reverse<i64>, std::cmp::Reverse<u64>),
    stream: Stream,
    /// A stamped line, or a continuation (traceback) line.
    stamped: bool,
    text: String,
    /// The cause kind truecause must report for this line, if any.
    truth: Option<&'static str>,
}

/// The two output files and the truth, with line counters.
struct Out {
    worker: BufWriter<File>,
    kernel: BufWriter<File>,
    truth: BufWriter<File>,
    worker_lines: u64,
    kernel_lines: u64,
    bytes: u64,
    /// The last kernel monotonic stamp written, in microseconds: the
    /// kernel's clock never goes back.
    last_mono_us: i64,
}

impl Out {
    fn worker_line(
        &mut self,
        at: i64,
        stamped: bool,
        text: &str,
    ) -> io::Result<()> {
        let n = if stamped {
            let (date, time, ms) = civil(at);
            writeln!(self.worker, "[{date} {time},{ms:03}: {text}")?;
            27 + text.len() as u64
        } else {
            writeln!(self.worker, "{text}")?;
            text.len() as u64 + 1
        };
        self.worker_lines += 1;
        self.bytes += n;
        Ok(())
    }

    fn kernel_line(&mut self, at: i64, text: &str) -> io::Result<()> {
        let mono_us = ((at - BOOT_TIME * 1_000_000_000) / 1000)
            .max(self.last_mono_us + 1);
        self.last_mono_us = mono_us;
        writeln!(
            self.kernel,
            "[{:5}.{:06}] {text}",
            mono_us / 1_000_000,
            mono_us % 1_000_000
        )?;
        self.kernel_lines += 1;
        self.bytes += 16 + text.len() as u64;
        Ok(())
    }

    fn write(&mut self, s: &Scheduled) -> io::Result<()> {
        let at = s.key.0.0;
        match s.stream {
            Stream::Worker => {
                self.worker_line(at, s.stamped, &s.text)?;
                if let Some(kind) = s.truth {
                    writeln!(
                        self.truth,
                        "synthetic-worker.log\t{}\t{kind}",
                        self.worker_lines
                    )?;
                }
            }
            Stream::Kernel => self.kernel_line(at, &s.text)?,
        }
        Ok(())
    }
}

/// `2026-11-23`, `00:00:01` and milliseconds of a UTC time in nanos.
fn civil(nanos: i64) -> (String, String, i64) {
    let secs = nanos.div_euclid(1_000_000_000);
    let ms = nanos.rem_euclid(1_000_000_000) / 1_000_000;
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Days since the epoch to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", tod / 3600, tod / 60 % 60, tod % 60),
        ms,
    )
}

/// Write the three files for `args`.
pub(crate) fn generate(args: &Args) -> io::Result<()> {
    std::fs::create_dir_all(&args.out)?;
    let create = |name: &str| -> io::Result<BufWriter<File>> {
        Ok(BufWriter::with_capacity(
            1 << 20,
            File::create(args.out.join(name))?,
        ))
    };
    let mut out = Out {
        worker: create("synthetic-worker.log")?,
        kernel: create("synthetic-dmesg.txt")?,
        truth: create("synthetic-truth.tsv")?,
        worker_lines: 0,
        kernel_lines: 0,
        bytes: 0,
        last_mono_us: 0,
    };
    let mut rng = Rng(args.seed ^ 0x7472_7565_6361_7573);
    let mut sim = Sim::new(args.size);

    // Noise lines come at random gaps whose mean spreads the size over
    // the span; incidents are planned at even intervals with jitter.
    let mean_line_bytes = 150.0;
    let lines = (args.size as f64 / mean_line_bytes).max(1.0);
    let mean_gap_ns = SPAN_SECS as f64 * 1e9 / lines;
    let incidents = (args.size / BYTES_PER_INCIDENT).max(12);
    let spacing = (SPAN_SECS / incidents as i64).max(MIN_GAP_SECS);
    let mut next_incident = 0u64;
    let incident_at = |i: u64, rng: &mut Rng| {
        (START + 100 + i as i64 * spacing) * 1_000_000_000
            + rng.range(0, (spacing - MIN_GAP_SECS).max(1) * 1000) * 1_000_000
    };
    let mut incident_time = incident_at(0, &mut rng);

    let mut now = START * 1_000_000_000;
    let mut heap: BinaryHeap<Scheduled> = BinaryHeap::new();
    let mut seq = 0u64;
    while out.bytes < args.size || !heap.is_empty() {
        // Scheduled incident lines go first when they are due.
        if heap.peek().is_some_and(|s| s.key.0.0 <= now) {
            let s = heap.pop().expect("peeked");
            out.write(&s)?;
            continue;
        }
        if out.bytes < args.size
            && next_incident < incidents
            && now >= incident_time
        {
            let lines = sim.incident(&mut rng, now, next_incident);
            for (offset_ms, stream, stamped, text, truth) in lines {
                seq += 1;
                heap.push(Scheduled {
                    key: (
                        std::cmp::Reverse(now + offset_ms * 1_000_000),
                        std::cmp::Reverse(seq),
                    ),
                    stream,
                    stamped,
                    text,
                    truth,
                });
            }
            next_incident += 1;
            incident_time = incident_at(next_incident, &mut rng);
            continue;
        }
        if out.bytes >= args.size {
            // Past the size: only the scheduled lines remain.
            now = heap.peek().map_or(now, |s| s.key.0.0);
            continue;
        }

        // A noise line; a worker line is sometimes stamped a little
        // earlier than the one before it, as several processes writing
        // one file do.
        let worker = rng.chance(WORKER_SHARE);
        if worker {
            let skew = if rng.chance(0.01) {
                rng.range(1, 40) * 1_000_000
            } else {
                0
            };
            for (stamped, text) in sim.worker_noise(&mut rng) {
                out.worker_line(now - skew, stamped, &text)?;
            }
        } else {
            let text = sim.kernel_noise(&mut rng);
            out.kernel_line(now, &text)?;
        }
        let gap = -(1.0 - (rng.next() >> 11) as f64 / (1u64 << 53) as f64)
            .ln()
            * mean_gap_ns;
        now += gap.max(1000.0) as i64;
    }
    out.worker.flush()?;
    out.kernel.flush()?;
    out.truth.flush()?;
    std::fs::write(
        args.out.join("synthetic-args.txt"),
        format!("--boot-time {BOOT_TIME} --tz UTC\n"),
    )?;
    eprintln!(
        "generate: {} bytes, {} worker lines, {} kernel lines, {} incidents",
        out.bytes, out.worker_lines, out.kernel_lines, next_incident
    );
    Ok(())
}

/// A line an incident schedules: milliseconds after its start, stream,
/// stamped or not, text, and the cause kind it must be explained by.
type Planned = (i64, Stream, bool, String, Option<&'static str>);

/// The simulated host: its pids, jobs and pool workers.
struct Sim {
    next_pid: u32,
    next_job: u64,
    tickets: u64,
}

const TASKS: [&str; 4] = [
    "app.tasks.summarise_ticket",
    "app.tasks.classify_email",
    "app.tasks.refresh_embeddings",
    "app.tasks.draft_reply",
];

const SITE: &str = "/srv/app/.venv/lib/python3.11/site-packages";

impl Sim {
    fn new(_size: u64) -> Sim {
        Sim {
            next_pid: 20_000,
            next_job: 1,
            tickets: 1000,
        }
    }

    fn pid(&mut self) -> u32 {
        self.next_pid += 1 + (self.next_pid % 7);
        if self.next_pid > 4_000_000 {
            self.next_pid = 20_000;
        }
        self.next_pid
    }

    /// One noise event of the worker: usually one line, sometimes a
    /// traceback of several.
    fn worker_noise(&mut self, rng: &mut Rng) -> Vec<(bool, String)> {
        let k = rng.range(1, 8);
        let task = rng.pick(&TASKS);
        let roll = rng.below(1000);
        let line = |s: String| vec![(true, s)];
        match roll {
            0..=219 => line(format!(
                "INFO/MainProcess] Task {task}[{}] received",
                rng.uuid()
            )),
            220..=429 => line(format!(
                "INFO/ForkPoolWorker-{k}] Task {task}[{}] succeeded in \
                 {}.{:03}s: {{'ticket': {}, 'status': 'done', 'tokens': {}}}",
                rng.uuid(),
                rng.range(0, 40),
                rng.range(0, 999),
                rng.range(1000, 99_999),
                rng.range(200, 9000)
            )),
            430..=619 => line(format!(
                "INFO/ForkPoolWorker-{k}] HTTP Request: POST \
                 http://llm-gateway.internal:8080/v1/messages \
                 \"HTTP/1.1 200 OK\""
            )),
            620..=699 => {
                self.next_job += 1;
                line(format!(
                    "INFO/ForkPoolWorker-{k}] job {}: starting query via \
                     /usr/local/bin/claude",
                    self.next_job
                ))
            }
            700..=759 => {
                let pid = self.pid();
                line(format!(
                    "INFO/ForkPoolWorker-{k}] job {}: claude CLI started, \
                     pid {pid}",
                    self.next_job
                ))
            }
            760..=799 => line(format!(
                "INFO/ForkPoolWorker-{k}] job {}: query finished: {} \
                 messages, {} tokens ({}.{}s)",
                self.next_job,
                rng.range(2, 30),
                rng.range(300, 20_000),
                rng.range(1, 90),
                rng.range(0, 9)
            )),
            800..=804 => {
                let pid = self.pid();
                line(format!(
                    "INFO/ForkPoolWorker-{k}] job {}: claude CLI pid {pid} \
                     exited with returncode 0",
                    self.next_job
                ))
            }
            805..=874 => {
                self.tickets += 1;
                line(format!(
                    "INFO/ForkPoolWorker-{k}] ticket {}: summary written \
                     ({} chars, {} attachments)",
                    self.tickets,
                    rng.range(80, 4000),
                    rng.range(0, 5)
                ))
            }
            875..=934 => line(format!(
                "WARNING/ForkPoolWorker-{k}] ticket {}: rate limited by \
                 gateway, retrying in {}s (attempt {}/5)",
                self.tickets,
                rng.range(1, 30),
                rng.range(1, 5)
            )),
            935..=964 => line(format!(
                "DEBUG/MainProcess] heartbeat_tick : for connection {}",
                rng.uuid().replace('-', "")
            )),
            965..=984 => line(rng
                .pick(&[
                    "INFO/MainProcess] mingle: searching for neighbors",
                    "INFO/MainProcess] mingle: all alone",
                    "INFO/MainProcess] Connected to redis://redis:6379/0",
                    "INFO/MainProcess] worker@app-7 ready.",
                    "INFO/MainProcess] Events of group task enabled by remote.",
                    "WARNING/MainProcess] consumer: Connection to broker lost. \
                     Trying to re-establish the connection...",
                ])
                .to_owned()),
            _ => self.task_traceback(rng, k, task),
        }
    }

    /// A task that failed for an ordinary reason, with its traceback.
    fn task_traceback(
        &mut self,
        rng: &mut Rng,
        k: i64,
        task: &str,
    ) -> Vec<(bool, String)> {
        let mut v = vec![(
            true,
            format!(
                "ERROR/ForkPoolWorker-{k}] Task {task}[{}] raised \
                 unexpected: ConnectError('[Errno 111] Connection refused')",
                rng.uuid()
            ),
        )];
        let frames = [
            (
                format!("{SITE}/celery/app/trace.py"),
                453,
                "trace_task",
                "R = retval = fun(*args, **kwargs)",
            ),
            (
                format!("{SITE}/celery/app/trace.py"),
                736,
                "__protected_call__",
                "return self.run(*args, **kwargs)",
            ),
            (
                "/srv/app/app/tasks.py".to_owned(),
                88,
                "summarise_ticket",
                "reply = client.post(url, json=payload, timeout=30)",
            ),
            (
                format!("{SITE}/httpx/_client.py"),
                1144,
                "post",
                "return self.request(",
            ),
            (
                format!("{SITE}/httpx/_transports/default.py"),
                118,
                "map_httpcore_exceptions",
                "raise mapped_exc(message) from exc",
            ),
        ];
        v.push((false, "Traceback (most recent call last):".to_owned()));
        for (file, line, func, code) in frames {
            v.push((
                false,
                format!("  File \"{file}\", line {line}, in {func}"),
            ));
            v.push((false, format!("    {code}")));
        }
        v.push((
            false,
            "httpx.ConnectError: [Errno 111] Connection refused".to_owned(),
        ));
        v
    }

    /// One kernel noise line.
    fn kernel_noise(&mut self, rng: &mut Rng) -> String {
        let mac = || "52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00";
        match rng.below(100) {
            0..=34 => format!(
                "[UFW BLOCK] IN=eth0 OUT= MAC={} SRC=203.0.113.{} \
                 DST=10.0.0.7 LEN={} TOS=0x00 PREC=0x00 TTL={} ID={} \
                 PROTO=TCP SPT={} DPT={} WINDOW=1024 RES=0x00 SYN URGP=0",
                mac(),
                rng.range(1, 254),
                rng.range(40, 60),
                rng.range(40, 250),
                rng.range(1, 65_535),
                rng.range(1024, 65_535),
                rng.pick(&["22", "23", "3389", "5900", "8080"])
            ),
            35..=54 => format!(
                "audit: type=1400 audit({}.{:03}:{}): apparmor=\"DENIED\" \
                 operation=\"open\" profile=\"snap.lxd.daemon\" \
                 name=\"/proc/{}/mounts\" pid={} comm=\"lxd\" \
                 requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0",
                START + rng.range(0, SPAN_SECS),
                rng.range(0, 999),
                rng.range(100, 90_000),
                rng.range(1, 99_999),
                rng.range(1, 99_999)
            ),
            55..=69 => {
                let veth = format!("veth{:07x}", rng.below(1 << 28));
                let port = rng.range(1, 12);
                match rng.below(4) {
                    0 => format!(
                        "docker0: port {port}({veth}) entered blocking state"
                    ),
                    1 => format!(
                        "docker0: port {port}({veth}) entered disabled state"
                    ),
                    2 => format!("device {veth} entered promiscuous mode"),
                    _ => format!(
                        "IPv6: ADDRCONF(NETDEV_CHANGE): {veth}: link becomes \
                         ready"
                    ),
                }
            }
            70..=79 => format!(
                "TCP: request_sock_TCP: Possible SYN flooding on port {}. \
                 Sending cookies.  Check SNMP counters.",
                rng.pick(&["443", "8080", "6379"])
            ),
            80..=87 => format!(
                "EXT4-fs (nvme0n1p{}): mounted filesystem with ordered data \
                 mode. Quota mode: none.",
                rng.range(1, 4)
            ),
            88..=92 => format!(
                "perf: interrupt took too long ({} > {}), lowering \
                 kernel.perf_event_max_sample_rate to {}",
                rng.range(2501, 9000),
                2500,
                rng.range(20_000, 79_750)
            ),
            93..=96 => format!(
                "python3[{}]: segfault at 0 ip 00007f3a{:08x} sp \
                 00007ffd{:08x} error 4 in libc.so.6[7f3a{:08x}+195000] \
                 likely on CPU {} (core 0, socket 0)",
                rng.range(1000, 99_999),
                rng.below(1 << 32),
                rng.below(1 << 32),
                rng.below(1 << 32),
                rng.below(2)
            ),
            _ => format!(
                "nfs: server files.internal not responding, still trying \
                 (xid {:#x})",
                rng.below(1 << 32)
            ),
        }
    }

    /// The lines of incident number `i`, starting at `now` (nanos).
    fn incident(&mut self, rng: &mut Rng, now: i64, i: u64) -> Vec<Planned> {
        let _ = now;
        let k = rng.range(1, 8);
        let worker_pid = self.pid();
        let victim = self.pid();
        let sibling = self.pid();
        self.next_job += 1;
        let job = self.next_job;
        let mut v: Vec<Planned> = Vec::new();
        let w = |ms: i64, text: String| {
            (ms, Stream::Worker, true, text, None::<&'static str>)
        };
        v.push(w(
            0,
            format!(
                "INFO/ForkPoolWorker-{k}] job {job}: starting query via \
                 /usr/local/bin/claude"
            ),
        ));
        v.push(w(
            12,
            format!(
                "INFO/ForkPoolWorker-{k}] job {job}: claude CLI started, pid \
                 {victim}"
            ),
        ));
        let cgroup = format!("/system.slice/celery-worker@{k}.service");
        match i % 6 {
            // A plain subprocess killed by the OOM killer.
            0 => {
                v.extend(oom_report(
                    rng, 600, &cgroup, worker_pid, victim, sibling,
                ));
                v.push((
                    950,
                    Stream::Worker,
                    true,
                    format!(
                        "ERROR/ForkPoolWorker-{k}] job {job}: child {victim} \
                         exited with returncode -9 after 0.9s (0 bytes of \
                         output)"
                    ),
                    Some("oom_kill"),
                ));
            }
            // The SDK's ProcessError after the OOM kill of its CLI.
            1 | 2 => {
                v.extend(oom_report(
                    rng, 500, &cgroup, worker_pid, victim, sibling,
                ));
                v.extend(process_error(k, job, victim, 900, "oom_kill"));
            }
            // The SDK's initialize timeout, 58 s after the kill.
            3 => {
                v.extend(oom_report(
                    rng, 700, &cgroup, worker_pid, victim, sibling,
                ));
                v.extend(init_timeout(k, job, victim, 58_700));
            }
            // A kill -9 with no OOM report.
            4 => v.extend(process_error(k, job, victim, 800, "sigkill")),
            // An OOM kill of something unrelated, and a near miss in the
            // worker: a CLI failing with exit code 1 explains nothing.
            _ => {
                v.extend(oom_report(
                    rng,
                    400,
                    "/system.slice/reindex.service",
                    self.next_pid + 3,
                    self.next_pid + 5,
                    self.next_pid + 9,
                ));
                v.push(w(
                    150_000,
                    format!(
                        "ERROR/ForkPoolWorker-{k}] Fatal error in message \
                         reader: Command failed with exit code 1 (exit code: \
                         1)"
                    ),
                ));
                v.push(w(
                    150_003,
                    format!(
                        "INFO/ForkPoolWorker-{k}] job {job}: claude CLI pid \
                         {victim} exited with returncode 1"
                    ),
                ));
            }
        }
        v
    }
}

/// The worker's side of an SDK ProcessError, as the fixtures show it:
/// the reader's fatal error, the traceback ending in ProcessError, and
/// the child's exit.
fn process_error(
    k: i64,
    job: u64,
    victim: u32,
    at: i64,
    cause: &'static str,
) -> Vec<Planned> {
    let sdk = format!("{SITE}/claude_agent_sdk");
    let mut v: Vec<Planned> = vec![
        (
            at,
            Stream::Worker,
            true,
            format!(
                "ERROR/ForkPoolWorker-{k}] Fatal error in message reader: \
                 Command failed with exit code -9 (exit code: -9)"
            ),
            Some(cause),
        ),
        (
            at,
            Stream::Worker,
            false,
            "Error output: Check stderr output for details".to_owned(),
            None,
        ),
        (
            at + 1,
            Stream::Worker,
            true,
            format!(
                "ERROR/ForkPoolWorker-{k}] job {job}: query failed after \
                 0.6s"
            ),
            None,
        ),
    ];
    let tb = [
        "Traceback (most recent call last):".to_owned(),
        "  File \"/srv/app/app/agent.py\", line 67, in run_sdk_query"
            .to_owned(),
        "    async for message in query(prompt=prompt, options=options):"
            .to_owned(),
        format!(
            "  File \"{sdk}/_internal/query.py\", line 445, in _read_messages"
        ),
        "    async for message in self.transport.read_messages():".to_owned(),
        format!(
            "  File \"{sdk}/_internal/transport/subprocess_cli.py\", line \
             1118, in _read_messages_impl"
        ),
        "    raise self._exit_error".to_owned(),
    ];
    for t in tb {
        v.push((at + 1, Stream::Worker, false, t, None));
    }
    v.push((
        at + 1,
        Stream::Worker,
        false,
        "claude_agent_sdk._errors.ProcessError: Command failed with exit \
         code -9 (exit code: -9)"
            .to_owned(),
        Some(cause),
    ));
    v.push((
        at + 1,
        Stream::Worker,
        false,
        "Error output: Check stderr output for details".to_owned(),
        None,
    ));
    v.push((
        at + 9,
        Stream::Worker,
        true,
        format!(
            "ERROR/ForkPoolWorker-{k}] job {job}: claude CLI pid {victim} \
             exited with returncode -9"
        ),
        Some(cause),
    ));
    v
}

/// The worker's side of an initialize timeout: the traceback ends in the
/// SDK's exception, then the child's exit is logged.
fn init_timeout(k: i64, job: u64, victim: u32, at: i64) -> Vec<Planned> {
    let sdk = format!("{SITE}/claude_agent_sdk");
    let mut v: Vec<Planned> = vec![(
        at,
        Stream::Worker,
        true,
        format!(
            "ERROR/ForkPoolWorker-{k}] job {job}: query failed after 60.1s"
        ),
        None,
    )];
    let tb = [
        "Traceback (most recent call last):".to_owned(),
        format!(
            "  File \"{sdk}/_internal/query.py\", line 393, in initialize"
        ),
        "    response = await self._send_control_request(".to_owned(),
        format!(
            "  File \"{sdk}/_internal/query.py\", line 806, in \
             _send_control_request"
        ),
        "    raise Exception(f\"Control request timeout: \
         {request.get('subtype')}\") from e"
            .to_owned(),
    ];
    for t in tb {
        v.push((at, Stream::Worker, false, t, None));
    }
    v.push((
        at,
        Stream::Worker,
        false,
        "Exception: Control request timeout: initialize".to_owned(),
        Some("oom_kill"),
    ));
    v.push((
        at + 5,
        Stream::Worker,
        true,
        format!(
            "ERROR/ForkPoolWorker-{k}] job {job}: claude CLI pid {victim} \
             exited with returncode -9"
        ),
        Some("oom_kill"),
    ));
    v
}

/// A memory-cgroup OOM report as this machine's kernel printed it
/// (fixtures/*/dmesg.txt): the invocation, call trace, registers,
/// counters, task table, summary and kill, all within a millisecond.
fn oom_report(
    rng: &mut Rng,
    at: i64,
    cgroup: &str,
    worker: u32,
    victim: u32,
    sibling: u32,
) -> Vec<Planned> {
    let limit_kb = 64 * rng.range(4000, 16_000);
    let rss = limit_kb * 1024 - rng.range(0, 4096) * 4096;
    let mut lines: Vec<String> = vec![
        "claude invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, \
         oom_score_adj=0"
            .to_owned(),
        format!(
            "CPU: {} UID: 0 PID: {victim} Comm: claude Not tainted \
             6.18.44-fc-v1147 #1 PREEMPT(none) ",
            rng.below(2)
        ),
        "Call Trace:".to_owned(),
        " <TASK>".to_owned(),
    ];
    for f in [
        "dump_stack_lvl+0x59/0x90",
        "dump_header+0x43/0x1c0",
        "oom_kill_process.cold+0x8/0x8a",
        "out_of_memory+0x214/0x500",
        "mem_cgroup_out_of_memory+0xe8/0x130",
        "try_charge_memcg+0x439/0x700",
        "charge_memcg+0x2f/0x90",
        "__mem_cgroup_charge+0x2c/0x90",
        "do_anonymous_page+0x220/0xaa0",
        "? srso_alias_return_thunk+0x5/0xfbef5",
        "? ___pte_offset_map+0x17/0x100",
        "__handle_mm_fault+0xa64/0xf80",
        "handle_mm_fault+0xd0/0x310",
        "exc_page_fault+0x176/0x770",
        "asm_exc_page_fault+0x22/0x30",
    ] {
        lines.push(format!(" {f}"));
    }
    lines.push(format!("RIP: 0033:0x7fd6{:08x}", rng.below(1 << 32)));
    lines.push(
        "Code: c5 fe 7f 07 c5 fe 7f 47 20 c5 fe 7f 47 40 c5 fe 7f 47 60 c5 \
         f8 77 c3 66 0f 1f 84 00 00 00 00 00 40 0f b6 c6 48 89 d1 48 89 fa \
         <f3> aa 48 89 d0 c5 f8 77 c3 66 66 2e 0f 1f 84 00 00 00 00 00 66 90"
            .to_owned(),
    );
    let reg = |rng: &mut Rng| format!("{:016x}", rng.next() >> 20);
    lines.push(format!("RSP: 002b:{} EFLAGS: 00010206", reg(rng)));
    for names in [
        ["RAX", "RBX", "RCX"],
        ["RDX", "RSI", "RDI"],
        ["RBP", "R08", "R09"],
        ["R10", "R11", "R12"],
        ["R13", "R14", "R15"],
    ] {
        lines.push(format!(
            "{}: {} {}: {} {}: {}",
            names[0],
            reg(rng),
            names[1],
            reg(rng),
            names[2],
            reg(rng)
        ));
    }
    lines.push(" </TASK>".to_owned());
    lines.push(format!(
        "memory: usage {limit_kb}kB, limit {limit_kb}kB, failcnt {}",
        rng.range(0, 40)
    ));
    lines.push(format!(
        "memory+swap: usage {limit_kb}kB, limit {limit_kb}kB, failcnt 0"
    ));
    lines.push(format!(
        "kmem: usage {}kB, limit 9007199254740988kB, failcnt 0",
        rng.range(1000, 9000)
    ));
    lines.push(format!("Memory cgroup stats for {cgroup}:"));
    for prefix in ["", "total_"] {
        for (name, value) in [
            ("cache", 4096),
            ("rss", rss),
            ("rss_huge", 0),
            ("shmem", 0),
            ("mapped_file", 0),
            ("dirty", 4096),
            ("writeback", 0),
            ("workingset_refault_anon", 0),
            ("workingset_refault_file", rng.range(0, 200)),
            ("swap", 0),
            ("swapcached", 0),
            ("pgpgin", rng.range(100_000, 200_000)),
            ("pgpgout", rng.range(2000, 3000)),
            ("pgfault", rng.range(100_000, 200_000)),
            ("pgmajfault", rng.range(0, 9)),
            ("inactive_anon", rss - 12_288),
            ("active_anon", 12_288),
            ("inactive_file", 4096),
            ("active_file", 0),
            ("unevictable", 0),
        ] {
            lines.push(format!("{prefix}{name} {value}"));
        }
        if prefix.is_empty() {
            lines.push(format!(
                "hierarchical_memory_limit {}",
                limit_kb * 1024
            ));
            lines
                .push(format!("hierarchical_memsw_limit {}", limit_kb * 1024));
        }
    }
    lines.push("Tasks state (memory values in pages):".to_owned());
    lines.push(
        "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem \
         pgtables_bytes swapents oom_score_adj name"
            .to_owned(),
    );
    for (pid, comm) in
        [(worker, "celery"), (victim, "claude"), (sibling, "claude")]
    {
        let rss_pages = rng.range(17_000, 70_000);
        lines.push(format!(
            "[{pid:>7}]     0 {pid:>5} {:>8} {rss_pages:>8} {:>8} {:>8}         0 \
             {:>14}        0             0 {comm}",
            rng.range(57_000, 300_000),
            rss_pages * 5 / 6,
            rss_pages / 6,
            rng.range(200_000, 900_000)
        ));
    }
    lines.push(format!(
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,\
         mems_allowed=0,oom_memcg={cgroup},task_memcg={cgroup},task=claude,\
         pid={victim},uid=0"
    ));
    lines.push(format!(
        "Memory cgroup out of memory: Killed process {victim} (claude) \
         total-vm:{}kB, anon-rss:{}kB, file-rss:{}kB, shmem-rss:0kB, UID:0 \
         pgtables:{}kB oom_score_adj:0",
        rng.range(1_100_000, 1_300_000),
        rng.range(150_000, 260_000),
        rng.range(30_000, 45_000),
        rng.range(700, 1000)
    ));
    lines
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            // The burst takes about a millisecond; keep its order.
            let _ = i;
            (at, Stream::Kernel, true, text, None)
        })
        .collect()
}
