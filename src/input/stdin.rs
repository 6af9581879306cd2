//! Standard input as a live stream that can report idleness.
//!
//! A live stream must decide pending symptoms even when no new line
//! arrives, so reads wait with `poll(2)` for at most a tick; when the
//! tick passes with nothing to read, the reader returns `TimedOut` and
//! the pipeline advances its watermark by the wall time that passed.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};

/// Reads a file descriptor, giving up with `TimedOut` after `tick_ms` of
/// silence.
pub struct PollingReader<R> {
    inner: R,
    fd: RawFd,
    tick_ms: i32,
}

impl<R: Read + AsRawFd> PollingReader<R> {
    pub fn new(inner: R, tick_ms: i32) -> PollingReader<R> {
        let fd = inner.as_raw_fd();
        PollingReader { inner, fd, tick_ms }
    }
}

impl<R: Read> Read for PollingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut pfd = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is a valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, self.tick_ms) };
        if ready < 0 {
            return Err(io::Error::last_os_error());
        }
        if ready == 0 {
            return Err(io::Error::from(io::ErrorKind::TimedOut));
        }
        self.inner.read(buf)
    }
}
