//! One open file of a followed name: its identity (device, inode and a
//! fingerprint of its first bytes), a line reader that reads it up to a
//! limit the follower moves as the file grows, and the helpers that find
//! a file again (a truncated file's copy, the end of its last line).

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{BLOCK, FINGERPRINT_BYTES, Options};
use crate::input::framing::LineReader;
use crate::input::state::{FileMark, fnv1a};

/// A file's device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
}

impl Identity {
    pub(super) fn of(meta: &fs::Metadata) -> Identity {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// The first bytes of a file, hashed: tells a reused inode, or a file
/// truncated and written again, from the file that was read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub len: u32,
    pub hash: u64,
}

impl Fingerprint {
    /// The fingerprint of the first `min(size, FINGERPRINT_BYTES)` bytes.
    pub fn of(file: &File, size: u64) -> io::Result<Fingerprint> {
        let want = size.min(FINGERPRINT_BYTES as u64) as usize;
        let mut buf = [0u8; FINGERPRINT_BYTES];
        let got = read_full_at(file, &mut buf[..want], 0)?;
        Ok(Fingerprint {
            len: got as u32,
            hash: fnv1a(&buf[..got]),
        })
    }

    /// Whether `file` still begins with the bytes fingerprinted.
    pub fn matches(&self, file: &File) -> io::Result<bool> {
        if self.len == 0 {
            return Ok(true);
        }
        let mut buf = [0u8; FINGERPRINT_BYTES];
        let want = self.len as usize;
        let got = read_full_at(file, &mut buf[..want], 0)?;
        Ok(got == want && fnv1a(&buf[..got]) == self.hash)
    }

    pub(super) fn from_mark(mark: &FileMark) -> Option<Fingerprint> {
        Some(Fingerprint {
            len: mark.fingerprint_len,
            hash: u64::from_str_radix(&mark.fingerprint, 16).ok()?,
        })
    }
}

pub(super) fn read_full_at(
    file: &File,
    buf: &mut [u8],
    at: u64,
) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads one open file up to a limit that moves as the file grows.
pub(super) struct Chunk {
    pub(super) file: File,
    /// Next offset to read.
    pub(super) pos: u64,
    /// Reads stop here until the next refresh moves it.
    pub(super) limit: u64,
    /// Read to the real end and report the end of input: the file will
    /// not be read again.
    pub(super) closing: bool,
}

impl Read for Chunk {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let idle = || {
            if self.closing {
                Ok(0)
            } else {
                Err(io::Error::from(io::ErrorKind::WouldBlock))
            }
        };
        let room = self.limit.saturating_sub(self.pos);
        if room == 0 || buf.is_empty() {
            return idle();
        }
        let want = buf.len().min(room.min(usize::MAX as u64) as usize);
        let got = self.file.read_at(&mut buf[..want], self.pos)?;
        if got == 0 {
            return idle();
        }
        self.pos += got as u64;
        Ok(got)
    }
}

/// One open file of a name.
pub(super) struct Handle {
    pub(super) id: Identity,
    /// The path it was opened by, to look for a truncated file's copy.
    pub(super) path: PathBuf,
    pub(super) reader: LineReader<Chunk>,
    /// Offset in the file of the reader's first byte.
    pub(super) base: u64,
    pub(super) fp: Fingerprint,
    /// When the name stopped standing for this file.
    pub(super) replaced: Option<Instant>,
    /// When the file last grew.
    pub(super) grew: Instant,
}

impl Handle {
    pub(super) fn new(
        file: File,
        path: PathBuf,
        id: Identity,
        offset: u64,
        opts: &Options,
        now: Instant,
    ) -> io::Result<Handle> {
        let size = file.metadata()?.len();
        let fp = Fingerprint::of(&file, size)?;
        let chunk = Chunk {
            file,
            pos: offset,
            limit: offset,
            closing: false,
        };
        Ok(Handle {
            id,
            path,
            reader: LineReader::with_limits(chunk, opts.block, opts.max_line),
            base: offset,
            fp,
            replaced: None,
            grew: now,
        })
    }

    pub(super) fn chunk(&self) -> &Chunk {
        self.reader.get_ref()
    }

    /// Read what is left, then end.
    pub(super) fn close(&mut self) {
        let chunk = self.reader.get_mut();
        chunk.closing = true;
        chunk.limit = u64::MAX;
    }

    /// End without reading more: hand out what is buffered (a partial
    /// line) and stop.
    pub(super) fn close_here(&mut self) {
        let chunk = self.reader.get_mut();
        chunk.closing = true;
        chunk.limit = chunk.pos;
    }

    /// `inode 12 read 300/420 draining` for trace logs.
    pub(super) fn describe(&self) -> String {
        let c = self.chunk();
        let state = match (c.closing, self.replaced.is_some()) {
            (true, _) => " closing",
            (false, true) => " draining",
            (false, false) => "",
        };
        format!("inode {} read {}/{}{state}", self.id.ino, c.pos, c.limit)
    }

    /// Offset of the first byte not yet handed out.
    pub(super) fn consumed(&self) -> u64 {
        self.base + self.reader.position()
    }

    pub(super) fn mark(&self) -> FileMark {
        FileMark {
            dev: self.id.dev,
            ino: self.id.ino,
            fingerprint_len: self.fp.len,
            fingerprint: format!("{:016x}", self.fp.hash),
            offset: self.consumed(),
            closing: self.chunk().closing,
        }
    }
}

/// `"."` for the empty parent of a bare file name.
pub(super) fn dir_or_dot(parent: &Path) -> PathBuf {
    if parent.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        parent.to_owned()
    }
}

/// A copy of a truncated file beside it: another file that begins with
/// the same bytes and holds at least `read` of them (logrotate's
/// `copytruncate` copies first, then truncates).
pub(super) fn find_copy(
    path: &Path,
    id: Identity,
    fp: Fingerprint,
    read: u64,
) -> Option<(File, PathBuf, Identity)> {
    let dir = dir_or_dot(path.parent()?);
    for entry in fs::read_dir(dir).ok()?.flatten() {
        let p = entry.path();
        let Ok(meta) = fs::metadata(&p) else { continue };
        let other = Identity::of(&meta);
        if other == id || !meta.is_file() || meta.len() < read {
            continue;
        }
        let Ok(file) = File::open(&p) else { continue };
        if fp.matches(&file).unwrap_or(false) {
            return Some((file, p, other));
        }
    }
    None
}

/// The offset just after the last newline of the file's first `size`
/// bytes, looking back at most [`BLOCK`] bytes; `size` when there is
/// none so near the end.
pub(super) fn last_line_end(file: &File, size: u64) -> u64 {
    let back = size.min(BLOCK as u64);
    let mut buf = vec![0u8; back as usize];
    let Ok(got) = read_full_at(file, &mut buf, size - back) else {
        return size;
    };
    match memchr::memrchr(b'\n', &buf[..got]) {
        Some(i) => size - back + i as u64 + 1,
        None if size <= BLOCK as u64 => 0,
        None => size,
    }
}
