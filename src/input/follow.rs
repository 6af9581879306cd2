//! Following a file by name through rotation, as `tail -F` does, but
//! line by line and without losing or repeating any.
//!
//! A [`FollowedFile`] is a name (`worker.log`, or a Kubernetes symlink
//! in `/var/log/containers`) and the open files that name has stood for
//! and that may still hold unread lines: the current file and rotated
//! ones being drained, oldest first. [`FollowedFile::refresh`], called
//! whenever the file system says something changed (and on a slow tick
//! as a safety net), notices what happened to the name:
//!
//! - rename and re-create (logrotate `create`), delete and re-create, a
//!   symlink pointed elsewhere: the name now has another device and
//!   inode. The old file stays open and is drained until it has been
//!   quiet for [`ROTATE_WAIT`], because a writer keeps writing to it
//!   until it reopens the name;
//! - copy and truncate (logrotate `copytruncate`): the file shrank below
//!   what was read, or its first bytes changed. What was not read yet is
//!   read from the copy, found beside it by its fingerprint, and the
//!   truncated file is read again from its start;
//! - a name that does not exist yet, or no longer: nothing to read until
//!   it appears, and then it is read from its first byte.
//!
//! Reads never go past the size each file had when `refresh` looked,
//! and those sizes are taken newest file first: a line the writer put in
//! the new file after its last line in the old one is then never handed
//! out before that old line. [`Lines`] gives the lines of all the files
//! in order, as one stream with one line count; [`FollowedFile::marks`]
//! says where each file stands, for the checkpoint (`input::state`).

mod handle;

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::framing::{Line, Lines};
use super::state::FileMark;
pub use handle::{Fingerprint, Identity};
use handle::{
    Handle, MIN_COPY_FINGERPRINT, birth_time, dir_or_dot, find_copy,
    last_line_end,
};

/// How many of a file's first bytes identify it beside its inode.
pub const FINGERPRINT_BYTES: usize = 1024;

/// How long a rotated file must have been quiet before it is closed: a
/// writer goes on writing to it until it reopens the name.
pub const ROTATE_WAIT: Duration = Duration::from_secs(5);

/// Most files open per name (current plus rotated ones being drained);
/// past it the oldest rotated file is closed early, and counted.
pub const MAX_FILES: usize = 8;

/// Read size for followed files; lines longer than this grow the buffer
/// up to the maximum line length.
pub const BLOCK: usize = 64 * 1024;

/// What a [`FollowedFile`] needs to know besides its name.
#[derive(Clone, Debug)]
pub struct Options {
    pub max_line: usize,
    pub block: usize,
    pub rotate_wait: Duration,
    pub max_files: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_line: super::framing::MAX_LINE,
            block: BLOCK,
            rotate_wait: ROTATE_WAIT,
            max_files: MAX_FILES,
        }
    }
}

/// Where to begin when the name is first looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// At the first byte of the file the name stands for.
    Beginning,
    /// After the last complete line already written.
    End,
    /// Where a checkpoint says: the files it lists, at their offsets,
    /// and the line count so far. A file the checkpoint does not know is
    /// read from its first byte.
    Resume { lines: u64, files: Vec<FileMark> },
}

/// Whether the name can be read, for reporting on stderr and in metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// The name stands for a file that is open.
    Following,
    /// The name does not exist (yet, or any more).
    Missing,
    /// The name exists but cannot be opened or read.
    Unreadable(String),
}

/// Something that happened to a followed name, for the driver to log
/// and count. Only the variants that lose or may lose lines are
/// warnings; the others are the normal life of a log file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A file was opened for the name, reading from `offset`.
    Opened { path: PathBuf, offset: u64 },
    /// The name now stands for another file (rename, delete, symlink).
    Rotated,
    /// The file shrank or was rewritten below what had been read; the
    /// unread rest came from `copy` when one was found beside it.
    Truncated { at: u64, copy: Option<PathBuf> },
    /// A rotated file was drained and closed.
    Closed,
    /// A rotated file was closed before it was quiet, because the name
    /// had [`Options::max_files`] open.
    ClosedEarly,
    /// A file the checkpoint lists was not found again: what it held
    /// past `offset` is lost.
    ResumeLost { ino: u64, offset: u64 },
    /// Reading a file failed; it was closed.
    ReadFailed { error: String },
}

/// A name followed through rotation; see the module documentation.
pub struct FollowedFile {
    path: PathBuf,
    opts: Options,
    /// Applied at the first refresh.
    start: Option<Start>,
    /// Open files, oldest first.
    handles: VecDeque<Handle>,
    /// The file the name stands for now.
    current: Option<Identity>,
    /// Index of the handle whose line is current.
    cur: Option<usize>,
    /// Lines handed out so far.
    number: u64,
    /// Overlong lines of files already closed.
    closed_long_lines: u64,
    health: Health,
    changes: Vec<Change>,
}

impl FollowedFile {
    /// Follow `path`. Nothing is opened until the first
    /// [`FollowedFile::refresh`].
    pub fn new(path: PathBuf, start: Start, opts: Options) -> FollowedFile {
        let number = match &start {
            Start::Resume { lines, .. } => *lines,
            _ => 0,
        };
        FollowedFile {
            path,
            opts,
            start: Some(start),
            handles: VecDeque::new(),
            current: None,
            cur: None,
            number,
            closed_long_lines: 0,
            health: Health::Missing,
            changes: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Lines handed out so far (kept across restarts by the checkpoint).
    pub fn lines(&self) -> u64 {
        self.number
    }

    /// Open files, current and rotated.
    pub fn open_files(&self) -> usize {
        self.handles.len()
    }

    /// What happened since the last call.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// Where every open file stands, oldest first, for the checkpoint
    /// (before the first refresh: the checkpoint it was started from).
    pub fn marks(&self) -> Vec<FileMark> {
        match &self.start {
            Some(Start::Resume { files, .. }) => files.clone(),
            _ => self.handles.iter().map(Handle::mark).collect(),
        }
    }

    /// Look at the name and the open files again: follow rotation and
    /// truncation, close rotated files that went quiet, and let reads go
    /// up to each file's present size.
    pub fn refresh(&mut self, now: Instant) {
        if self.cur.is_some() {
            // A line is current: its handle must stay where it is.
            return;
        }
        match self.start.take() {
            Some(start) => self.first_open(start, now),
            None => self.check_name(now),
        }
        self.check_truncation(now);
        self.retire(now);
        self.snapshot(now);
        if tracing::enabled!(tracing::Level::TRACE) {
            let files: Vec<String> =
                self.handles.iter().map(Handle::describe).collect();
            tracing::trace!(
                "{}: {:?}; files {}",
                self.path.display(),
                self.health,
                files.join(", ")
            );
        }
    }

    /// The first look: open what `start` says.
    fn first_open(&mut self, start: Start, now: Instant) {
        match start {
            Start::Beginning => self.check_name(now),
            Start::End => {
                self.check_name(now);
                if let Some(h) = self.handles.back_mut() {
                    let size =
                        h.chunk().file.metadata().map_or(0, |m| m.len());
                    let end = last_line_end(&h.chunk().file, size);
                    let chunk = h.reader.get_mut();
                    chunk.pos = end;
                    chunk.limit = end;
                    h.base = end;
                    if let Some(Change::Opened { offset, .. }) =
                        self.changes.last_mut()
                    {
                        *offset = end;
                    }
                }
            }
            Start::Resume { files, .. } => {
                for mark in &files {
                    self.resume(mark, now);
                }
                self.check_name(now);
                // Resumed files the name no longer stands for are
                // rotated ones: drain them.
                for h in self.handles.iter_mut() {
                    if Some(h.id) != self.current && h.replaced.is_none() {
                        h.replaced = Some(now);
                    }
                }
            }
        }
    }

    /// Reopen one file of a checkpoint, wherever rotation put it.
    fn resume(&mut self, mark: &FileMark, now: Instant) {
        let want = Identity {
            dev: mark.dev,
            ino: mark.ino,
        };
        let fp = Fingerprint::from_mark(mark);
        let candidates = self.candidates();
        // The file itself (renamed or not), else a copy of it that
        // copytruncate left while truecause was down.
        let find = |by_identity: bool| {
            candidates.iter().find_map(|p| {
                let meta = fs::metadata(p).ok()?;
                // Same device and inode, and born at the same time: an
                // inode number freed by a deleted file is reused.
                let born = birth_time(&meta);
                let same_id = Identity::of(&meta) == want
                    && (mark.born.is_none()
                        || born.is_none_or(|b| Some(b) == mark.born));
                // A copy is only looked for by a fingerprint long enough
                // not to match an unrelated file's first bytes.
                let weak = !by_identity
                    && (mark.fingerprint_len as usize) < MIN_COPY_FINGERPRINT;
                if same_id != by_identity
                    || weak
                    || !meta.is_file()
                    || (!by_identity && meta.len() < mark.offset)
                {
                    return None;
                }
                let file = File::open(p).ok()?;
                let same = fp.is_some_and(|fp| fp.len > 0 || by_identity)
                    && fp?.matches(&file).ok()?;
                same.then(|| {
                    (file, p.clone(), Identity::of(&meta), meta.len())
                })
            })
        };
        let found = find(true).or_else(|| find(false));
        let Some((file, path, id, size)) = found else {
            self.changes.push(Change::ResumeLost {
                ino: mark.ino,
                offset: mark.offset,
            });
            return;
        };
        let offset = if size < mark.offset {
            self.changes.push(Change::Truncated {
                at: mark.offset,
                copy: None,
            });
            0
        } else {
            mark.offset
        };
        match Handle::new(file, path.clone(), id, offset, &self.opts, now) {
            Ok(mut h) => {
                if id != want || mark.closing {
                    // A copy, or a file that was closing: nobody writes
                    // to it, read it to its end.
                    h.close();
                }
                self.handles.push_back(h);
                self.changes.push(Change::Opened { path, offset });
            }
            Err(e) => self.changes.push(Change::ReadFailed {
                error: e.to_string(),
            }),
        }
    }

    /// Paths where a file of this name may be after rotation: the name,
    /// its folder, and the folder of the file a symlink points to.
    fn candidates(&self) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(parent) = self.path.parent() {
            dirs.push(dir_or_dot(parent));
        }
        if let Ok(target) = fs::canonicalize(&self.path)
            && let Some(parent) = target.parent()
            && !dirs.iter().any(|d| d == parent)
        {
            dirs.push(parent.to_owned());
        }
        let mut paths = vec![self.path.clone()];
        for dir in dirs {
            if let Ok(entries) = fs::read_dir(&dir) {
                paths.extend(entries.filter_map(|e| Some(e.ok()?.path())));
            }
        }
        paths
    }

    /// Does the name still stand for the current file?
    fn check_name(&mut self, now: Instant) {
        let id = match fs::metadata(&self.path) {
            Ok(meta) => Identity::of(&meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if self.current.take().is_some() {
                    self.replace_current(now);
                    self.changes.push(Change::Rotated);
                }
                self.health = Health::Missing;
                return;
            }
            Err(e) => {
                self.health = Health::Unreadable(e.to_string());
                return;
            }
        };
        if self.current == Some(id) {
            self.health = Health::Following;
            return;
        }

        // Another file: the one before it is drained from now on.
        if self.current.is_some() {
            self.changes.push(Change::Rotated);
        }
        self.replace_current(now);
        if let Some(h) = self.handles.iter_mut().find(|h| h.id == id) {
            // Named again (a symlink pointed back): read it as current.
            h.replaced = None;
            self.current = Some(id);
            self.health = Health::Following;
            return;
        }
        let opened = File::open(&self.path).and_then(|f| {
            let meta = f.metadata()?;
            Ok((f, Identity::of(&meta)))
        });
        match opened {
            Ok((file, id)) => {
                if self.handles.iter().any(|h| h.id == id) {
                    // Rotated back between stat and open; next refresh.
                    return;
                }
                // The file's own path (a symlink resolved): its copies
                // and rotated names are beside it, not beside the link.
                let real = fs::canonicalize(&self.path)
                    .unwrap_or_else(|_| self.path.clone());
                match Handle::new(file, real, id, 0, &self.opts, now) {
                    Ok(h) => {
                        self.handles.push_back(h);
                        self.current = Some(id);
                        self.health = Health::Following;
                        self.changes.push(Change::Opened {
                            path: self.path.clone(),
                            offset: 0,
                        });
                    }
                    Err(e) => self.health = Health::Unreadable(e.to_string()),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.health = Health::Missing;
            }
            Err(e) => self.health = Health::Unreadable(e.to_string()),
        }
    }

    /// The current file, if any, becomes a rotated one.
    fn replace_current(&mut self, now: Instant) {
        for h in self.handles.iter_mut() {
            if h.replaced.is_none() {
                h.replaced = Some(now);
            }
        }
        self.current = None;
    }

    /// Find files that shrank below what was read, or whose first bytes
    /// changed: truncated (and maybe written again) in place.
    fn check_truncation(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.handles.len() {
            let h = &self.handles[i];
            if h.chunk().closing {
                i += 1;
                continue;
            }
            let read = h.chunk().pos;
            let truncated = match h.chunk().file.metadata() {
                Ok(meta) => {
                    meta.len() < read
                        || !h.fp.matches(&h.chunk().file).unwrap_or(false)
                }
                Err(_) => false,
            };
            if truncated {
                self.truncated(i, now);
                i += 1;
            }
            i += 1;
        }
    }

    /// Handle `i` was truncated: finish what was not read from its copy
    /// (or lose it), and read the file again from its start right after.
    fn truncated(&mut self, i: usize, now: Instant) {
        let h = &self.handles[i];
        let read = h.chunk().pos;
        let reopened = h.chunk().file.try_clone();
        let copy = if h.fp.len > 0 {
            find_copy(&h.path, h.id, h.fp, read)
        } else {
            None
        };
        let (id, path, was_replaced) = (h.id, h.path.clone(), h.replaced);

        let h = &mut self.handles[i];
        let mut copied_from = None;
        match copy {
            Some((file, copy_path, copy_id)) => {
                h.reader.get_mut().file = file;
                h.id = copy_id;
                h.path = copy_path.clone();
                copied_from = Some(copy_path);
                h.close();
            }
            // What was not read is gone with the truncation; the file
            // itself is read again from its start, just after.
            None => h.close_here(),
        }
        h.replaced = Some(now);
        self.changes.push(Change::Truncated {
            at: read,
            copy: copied_from,
        });

        match reopened
            .and_then(|f| Handle::new(f, path.clone(), id, 0, &self.opts, now))
        {
            Ok(mut fresh) => {
                fresh.replaced = was_replaced;
                self.handles.insert(i + 1, fresh);
            }
            Err(e) => {
                if self.current == Some(id) {
                    self.current = None;
                }
                self.changes.push(Change::ReadFailed {
                    error: e.to_string(),
                });
            }
        }
    }

    /// Close rotated files that have been quiet long enough, and the
    /// oldest ones past the bound on open files.
    fn retire(&mut self, now: Instant) {
        let wait = self.opts.rotate_wait;
        for h in self.handles.iter_mut() {
            if let Some(since) = h.replaced {
                let quiet = since.max(h.grew);
                if !h.chunk().closing && now.duration_since(quiet) >= wait {
                    h.close();
                }
            }
        }
        let mut open = self
            .handles
            .iter()
            .filter(|h| !h.reader.get_ref().closing)
            .count();
        for h in self.handles.iter_mut() {
            if open <= self.opts.max_files {
                break;
            }
            if h.replaced.is_some() && !h.chunk().closing {
                h.close();
                open -= 1;
                self.changes.push(Change::ClosedEarly);
            }
        }
    }

    /// Let reads go up to each file's present size, newest file first.
    fn snapshot(&mut self, now: Instant) {
        for h in self.handles.iter_mut().rev() {
            if h.chunk().closing {
                continue;
            }
            let Ok(meta) = h.chunk().file.metadata() else {
                continue;
            };
            let size = meta.len();
            if size > h.chunk().limit {
                h.grew = now;
            }
            if (h.fp.len as usize) < FINGERPRINT_BYTES
                && size > u64::from(h.fp.len)
                && let Ok(fp) = Fingerprint::of(&h.chunk().file, size)
            {
                h.fp = fp;
            }
            let chunk = h.reader.get_mut();
            chunk.limit = size.max(chunk.pos);
        }
    }
}

impl Lines for FollowedFile {
    /// The next line of the oldest file that has one. Never the end of
    /// input: `WouldBlock` when every file is read up to its limit.
    fn fill_line(&mut self) -> io::Result<bool> {
        if self.cur.is_some() {
            return Ok(true);
        }
        let mut i = 0;
        while i < self.handles.len() {
            match self.handles[i].reader.fill_line() {
                Ok(true) => {
                    self.cur = Some(i);
                    return Ok(true);
                }
                Ok(false) => {
                    let h = self.handles.remove(i).expect("index in range");
                    self.closed_long_lines += h.reader.long_lines;
                    if self.current == Some(h.id) {
                        self.current = None;
                    }
                    self.changes.push(Change::Closed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => i += 1,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let h = self.handles.remove(i).expect("index in range");
                    if self.current == Some(h.id) {
                        self.current = None;
                    }
                    self.changes.push(Change::ReadFailed {
                        error: e.to_string(),
                    });
                }
            }
        }
        Err(io::Error::from(io::ErrorKind::WouldBlock))
    }

    fn current(&self) -> Option<Line<'_>> {
        let h = &self.handles[self.cur?];
        let line = h.reader.current()?;
        Some(Line {
            raw: line.raw,
            number: if line.continuation {
                self.number
            } else {
                self.number + 1
            },
            offset: h.base + line.offset,
            continuation: line.continuation,
        })
    }

    fn consume(&mut self) {
        let Some(i) = self.cur.take() else { return };
        let continuation = self.handles[i]
            .reader
            .current()
            .is_some_and(|l| l.continuation);
        self.handles[i].reader.consume();
        if !continuation {
            self.number += 1;
        }
    }

    fn has_buffered_line(&self) -> bool {
        self.cur.is_some()
            || self.handles.iter().any(|h| h.reader.has_buffered_line())
    }

    fn long_lines(&self) -> u64 {
        self.closed_long_lines
            + self
                .handles
                .iter()
                .map(|h| h.reader.long_lines)
                .sum::<u64>()
    }
}

#[cfg(test)]
mod tests;
