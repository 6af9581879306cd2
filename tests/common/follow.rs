//! Running `truecause` in follow mode from tests: a child process whose
//! standard output is read on a thread, so a test can wait for a line to
//! appear, send signals, and collect what was printed.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("truecause")
}

/// What a running truecause has printed so far.
#[derive(Default)]
struct Seen {
    lines: Vec<String>,
    ended: bool,
}

/// A truecause process, its output collected as it comes.
pub struct Running {
    child: Child,
    seen: Arc<(Mutex<Seen>, Condvar)>,
    stderr: Arc<(Mutex<Seen>, Condvar)>,
}

impl Running {
    /// Start `truecause ARGS` with `RUST_LOG`-style diagnostics off
    /// unless asked, and collect its output.
    pub fn start(args: &[&str]) -> Running {
        let mut child = Command::new(bin())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("truecause starts");
        let seen = Arc::new((Mutex::new(Seen::default()), Condvar::new()));
        let out = child.stdout.take().unwrap();
        let s = seen.clone();
        thread::spawn(move || collect(out, s));
        let stderr = Arc::new((Mutex::new(Seen::default()), Condvar::new()));
        let err = child.stderr.take().unwrap();
        let e = stderr.clone();
        thread::spawn(move || collect(err, e));
        Running {
            child,
            seen,
            stderr,
        }
    }

    /// Start `truecause ARGS --log-level info` and wait until it says it
    /// is following (its sources are open, reading from where they
    /// start).
    pub fn start_ready(args: &[&str]) -> Running {
        let mut all = args.to_vec();
        all.extend(["--log-level", "info"]);
        let tc = Running::start(&all);
        let ready = wait_in(&tc.stderr, Duration::from_secs(20), |l| {
            l.iter().any(|x| x.contains("following "))
        });
        assert!(ready, "truecause did not start: {:?}", tc.stderr_lines());
        tc
    }

    /// Diagnostics printed so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.0.lock().unwrap().lines.clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lines printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.seen.0.lock().unwrap().lines.clone()
    }

    /// Wait until `done` holds for the lines printed so far; false when
    /// `timeout` passed first (or the output ended).
    pub fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[String]) -> bool,
    ) -> bool {
        wait_in(&self.seen, timeout, done)
    }

    /// Wait for a line containing `needle`.
    pub fn wait_line(&self, needle: &str, timeout: Duration) -> bool {
        self.wait_for(timeout, |l| l.iter().any(|x| x.contains(needle)))
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// Wait for the process to end (killing it after `timeout`); its exit
    /// code (None when killed by a signal), all its output and stderr.
    pub fn finish(
        mut self,
        timeout: Duration,
    ) -> (Option<i32>, Vec<String>, String) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            thread::sleep(Duration::from_millis(10));
        };
        // Let the reader threads see the end of the pipes.
        let (lock, cv) = &*self.seen;
        let mut seen = lock.lock().unwrap();
        while !seen.ended {
            seen = cv.wait_timeout(seen, Duration::from_secs(5)).unwrap().0;
        }
        let lines = seen.lines.clone();
        drop(seen);
        wait_in(&self.stderr, Duration::from_secs(5), |_| false);
        let stderr = self.stderr_lines().join("\n");
        (status.code(), lines, stderr)
    }

    /// SIGTERM, then [`Running::finish`].
    pub fn stop(self) -> (Option<i32>, Vec<String>, String) {
        self.signal(libc::SIGTERM);
        self.finish(Duration::from_secs(10))
    }
}

/// Wait until `done` holds for the lines collected so far; false when
/// `timeout` passed first or the stream ended without it.
fn wait_in(
    seen: &(Mutex<Seen>, Condvar),
    timeout: Duration,
    done: impl Fn(&[String]) -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    let (lock, cv) = seen;
    let mut seen = lock.lock().unwrap();
    loop {
        if done(&seen.lines) {
            return true;
        }
        let now = Instant::now();
        if now >= deadline || seen.ended {
            return false;
        }
        seen = cv.wait_timeout(seen, deadline - now).unwrap().0;
    }
}

fn collect(out: impl Read, seen: Arc<(Mutex<Seen>, Condvar)>) {
    let mut reader = BufReader::new(out);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf)
                    .trim_end_matches('\n')
                    .to_owned();
                let (lock, cv) = &*seen;
                lock.lock().unwrap().lines.push(line);
                cv.notify_all();
            }
        }
    }
    let (lock, cv) = &*seen;
    lock.lock().unwrap().ended = true;
    cv.notify_all();
}

/// Append to a file, creating it.
pub fn append(path: &std::path::Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Skip a test that cannot run on this machine, with the reason; under
/// `CI=true` the test must run, so this fails instead.
pub fn skip_or_fail(reason: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("cannot run under CI=true: {reason}");
    }
    eprintln!("skipped: {reason}");
}

pub const SECOND: Duration = Duration::from_secs(1);
