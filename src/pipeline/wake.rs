//! Waking the follow loop, and stopping it.
//!
//! The loop sleeps in `poll(2)` on a few descriptors: an eventfd
//! ([`Waker`]) that file system notifications and signal handlers write
//! to, the kernel log, a cgroup's OOM eventfd, and standard output (to
//! notice a reader that went away while nothing is written). SIGINT and
//! SIGTERM only set a flag and wake the loop; the loop then flushes what
//! is pending and returns. The handlers reset themselves, so a second
//! Ctrl-C stops at once.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// The eventfd the signal handler writes to (-1 before installation).
static SIGNAL_WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// The signal that asked to stop, 0 while none did.
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// An eventfd: any number of wakes between two waits count as one.
pub(super) struct Waker {
    fd: Arc<OwnedFd>,
}

impl Waker {
    pub(super) fn new() -> io::Result<Waker> {
        // SAFETY: eventfd(2) with valid flags; the result is checked.
        let raw = unsafe {
            libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC)
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor nothing else owns.
        Ok(Waker {
            fd: Arc::new(unsafe { OwnedFd::from_raw_fd(raw) }),
        })
    }

    /// A handle other threads can wake the loop with.
    pub(super) fn handle(&self) -> WakeHandle {
        WakeHandle {
            fd: self.fd.clone(),
        }
    }

    pub(super) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Reset after a wake.
    pub(super) fn drain(&self) {
        let mut count = [0u8; 8];
        // SAFETY: an 8-byte read into an 8-byte buffer; EAGAIN (nothing
        // pending) is fine.
        unsafe {
            libc::read(self.fd.as_raw_fd(), count.as_mut_ptr().cast(), 8);
        }
    }
}

/// Wakes a [`Waker`] from another thread; keeps the eventfd open for as
/// long as that thread may still use it.
#[derive(Clone)]
pub(super) struct WakeHandle {
    fd: Arc<OwnedFd>,
}

impl WakeHandle {
    pub(super) fn wake(&self) {
        write_one(self.fd.as_raw_fd());
    }
}

fn write_one(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to an eventfd; the result
    // does not matter (a full counter still wakes the reader).
    unsafe {
        libc::write(fd, (&one as *const u64).cast(), 8);
    }
}

extern "C" fn on_stop_signal(signal: libc::c_int) {
    // Only async-signal-safe work here: atomics and write(2).
    STOP_SIGNAL.store(signal, Ordering::SeqCst);
    let fd = SIGNAL_WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        write_one(fd);
    }
}

/// Make SIGINT and SIGTERM set the stop flag and wake `waker`.
pub(super) fn catch_stop_signals(waker: &Waker) -> io::Result<()> {
    SIGNAL_WAKE_FD.store(waker.fd(), Ordering::SeqCst);
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction with a handler that only touches
        // atomics and write(2); SA_RESETHAND restores the default after
        // the first delivery.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as *const () as usize;
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Stop sending signal wakes to `waker` (it is about to close). The
/// handlers stay: a signal then only sets the flag.
pub(super) fn forget_waker() {
    SIGNAL_WAKE_FD.store(-1, Ordering::SeqCst);
}

/// The signal that asked the loop to stop, if one did.
pub(super) fn stop_signal() -> Option<i32> {
    match STOP_SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// What a wait found.
pub(super) struct Ready {
    /// Per descriptor given, whether it is readable.
    pub(super) readable: Vec<bool>,
    /// The output descriptor reported an error or hang-up: its reader is
    /// gone.
    pub(super) output_gone: bool,
}

/// Wait until one of `fds` is readable, `output` fails, or `timeout`
/// passes. An interrupted wait (a signal) returns as if timed out.
pub(super) fn wait(
    fds: &[RawFd],
    output: Option<RawFd>,
    timeout: Duration,
) -> io::Result<Ready> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    if let Some(fd) = output {
        pfds.push(libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        });
    }
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `pfds` is a valid array of pollfd for the call.
    let rc = unsafe {
        libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms)
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
        for p in pfds.iter_mut() {
            p.revents = 0;
        }
    }
    let bad = libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;
    Ok(Ready {
        readable: pfds[..fds.len()]
            .iter()
            .map(|p| p.revents & (libc::POLLIN | libc::POLLHUP) != 0)
            .collect(),
        output_gone: output.is_some()
            && pfds.last().is_some_and(|p| p.revents & bad != 0),
    })
}
