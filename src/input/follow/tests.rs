//! The model test of following: random sequences of writes, renames,
//! truncations, deletions, re-created files, re-pointed symlinks and
//! restarts, checked against a reference that knows every byte written.
//! Whatever happens, the lines handed out must be exactly the bytes
//! written, once each and in order.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

/// One thing that happens to the followed file.
#[derive(Clone, Debug)]
enum Op {
    /// The writer appends whole lines.
    Write(u8),
    /// The writer appends the first part of a line, finished later.
    Partial,
    /// The reader looks and reads what there is.
    Poll,
    /// logrotate `create`: rename the file aside.
    Rename,
    /// logrotate `copytruncate`: copy aside, truncate in place.
    CopyTruncate,
    /// The file is deleted (the writer keeps writing to it).
    Delete,
    /// The writer finishes its line and opens the name again.
    Reopen,
    /// The symlink is pointed at a new file (a plain name is renamed).
    Repoint,
    /// The reader is stopped and started again from its checkpoint.
    Restart,
    /// Time passes: the writer has reopened, rotated files go quiet.
    Wait,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u8..4).prop_map(Op::Write),
        2 => Just(Op::Partial),
        6 => Just(Op::Poll),
        1 => Just(Op::Rename),
        1 => Just(Op::CopyTruncate),
        1 => Just(Op::Delete),
        2 => Just(Op::Reopen),
        1 => Just(Op::Repoint),
        1 => Just(Op::Restart),
        1 => Just(Op::Wait),
    ]
}

/// The writer and the reference: every byte written, in order.
struct World {
    dir: PathBuf,
    /// The followed name.
    name: PathBuf,
    symlink: bool,
    /// The file the writer writes to, until it reopens.
    writer: Option<File>,
    /// The rest of a line begun by `Partial`.
    unfinished: Option<Vec<u8>>,
    written: Vec<u8>,
    lines: u64,
    rotations: u32,
    /// A file was deleted, or written to after it was deleted, since the
    /// reader last read.
    deleted_since_poll: bool,
}

impl World {
    fn new(dir: &Path, symlink: bool) -> World {
        let name = dir.join("worker.log");
        let w = World {
            dir: dir.to_owned(),
            name,
            symlink,
            writer: None,
            unfinished: None,
            written: Vec::new(),
            lines: 0,
            rotations: 0,
            deleted_since_poll: false,
        };
        if symlink {
            std::os::unix::fs::symlink(w.target_for(0), &w.name).unwrap();
        }
        w
    }

    fn target_for(&self, n: u32) -> PathBuf {
        self.dir.join(format!("pods-{n}.log"))
    }

    /// The path the writer opens: the name, or what its symlink names.
    fn target(&self) -> PathBuf {
        if self.symlink {
            self.dir.join(fs::read_link(&self.name).unwrap())
        } else {
            self.name.clone()
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.writer.is_none() {
            self.open();
        }
        let w = self.writer.as_mut().unwrap();
        w.write_all(bytes).unwrap();
        if w.metadata().is_ok_and(|m| m.nlink() == 0) {
            self.deleted_since_poll = true;
        }
        self.written.extend_from_slice(bytes);
    }

    fn open(&mut self) {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.target())
            .unwrap();
        self.writer = Some(f);
    }

    fn finish_line(&mut self) {
        if let Some(rest) = self.unfinished.take() {
            self.write(&rest);
        }
    }

    /// A new name beside `target` for a rotated file or a copy.
    fn aside(&mut self, target: &Path) -> PathBuf {
        self.rotations += 1;
        PathBuf::from(format!("{}.{}", target.display(), self.rotations))
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Write(n) => {
                self.finish_line();
                for _ in 0..*n {
                    self.lines += 1;
                    let line = format!(
                        "2026-12-03 12:00:00,000 INFO worker[1]: line {} of \
                         the model run\n",
                        self.lines
                    );
                    self.write(line.as_bytes());
                }
            }
            Op::Partial => {
                self.finish_line();
                self.lines += 1;
                let line = format!("partial line {} ", self.lines);
                self.write(line.as_bytes());
                self.unfinished = Some(b"finished\n".to_vec());
            }
            Op::Rename => {
                let target = self.target();
                if target.exists() {
                    fs::rename(&target, self.aside(&target)).unwrap();
                }
            }
            Op::CopyTruncate => {
                let target = self.target();
                let writes_there = self
                    .writer
                    .as_ref()
                    .is_some_and(|w| same_file(w, &target));
                if writes_there {
                    fs::copy(&target, self.aside(&target)).unwrap();
                    OpenOptions::new()
                        .write(true)
                        .open(&target)
                        .unwrap()
                        .set_len(0)
                        .unwrap();
                }
            }
            Op::Delete => {
                if fs::remove_file(self.target()).is_ok() {
                    self.deleted_since_poll = true;
                }
            }
            Op::Reopen => {
                self.finish_line();
                self.open();
            }
            Op::Repoint => {
                if self.symlink {
                    self.rotations += 1;
                    let next = self.target_for(self.rotations);
                    let tmp = self.dir.join("worker.log.tmp");
                    std::os::unix::fs::symlink(&next, &tmp).unwrap();
                    fs::rename(&tmp, &self.name).unwrap();
                } else {
                    self.apply(&Op::Rename);
                }
            }
            Op::Poll | Op::Restart | Op::Wait => {}
        }
    }
}

fn same_file(f: &File, path: &Path) -> bool {
    match (f.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The reader under test, with a clock the test moves.
struct Reader {
    follower: FollowedFile,
    out: Vec<u8>,
    epoch: Instant,
    elapsed: Duration,
}

impl Reader {
    fn new(name: &Path, start: Start, epoch: Instant) -> Reader {
        Reader {
            follower: FollowedFile::new(name.to_owned(), start, options()),
            out: Vec::new(),
            epoch,
            elapsed: Duration::ZERO,
        }
    }

    fn poll(&mut self) {
        self.follower.refresh(self.epoch + self.elapsed);
        let mut expected_number = self.follower.lines() + 1;
        loop {
            match self.follower.fill_line() {
                Ok(true) => {}
                Ok(false) => panic!("a followed file never ends"),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("read failed: {e}"),
            }
            let line = self.follower.current().unwrap();
            if !line.continuation {
                assert_eq!(line.number, expected_number, "line numbers");
                expected_number += 1;
            }
            self.out.extend_from_slice(line.raw);
            self.follower.consume();
        }
    }

    /// Stop and start again from a checkpoint, as after a crash.
    fn restart(&mut self, name: &Path) {
        let start = Start::Resume {
            lines: self.follower.lines(),
            files: self.follower.marks(),
        };
        self.follower = FollowedFile::new(name.to_owned(), start, options());
    }
}

fn options() -> Options {
    Options {
        max_line: 4096,
        block: 64,
        ..Options::default()
    }
}

fn run_model(ops: &[Op], symlink: bool, exists_at_start: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::new(dir.path(), symlink);
    if exists_at_start {
        world.apply(&Op::Write(2));
    }
    let mut reader =
        Reader::new(&world.name, Start::Beginning, Instant::now());
    for op in ops {
        if matches!(
            op,
            Op::Rename | Op::CopyTruncate | Op::Delete | Op::Repoint
        ) {
            // The notification of the file's creation came before it
            // was rotated: the reader has it open, maybe unread. (A file
            // created and rotated away unseen cannot be followed.)
            reader.follower.refresh(reader.epoch + reader.elapsed);
        }
        world.apply(op);
        match op {
            Op::Poll => {
                reader.poll();
                world.deleted_since_poll = false;
            }
            Op::Restart => {
                // What only a deleted file holds cannot be found again by
                // a new process: a restart loses it, as it would for any
                // follower. The model lets the reader catch up on deleted
                // files first, and the writer leave them.
                if world.writer.as_ref().is_some_and(|w| {
                    w.metadata().is_ok_and(|m| m.nlink() == 0)
                }) {
                    world.apply(&Op::Reopen);
                    reader.poll();
                } else if world.deleted_since_poll {
                    reader.poll();
                }
                reader.restart(&world.name)
            }
            Op::Wait => {
                world.apply(&Op::Reopen);
                reader.poll();
                reader.elapsed += ROTATE_WAIT + Duration::from_secs(1);
                reader.poll();
            }
            _ => {}
        }
        assert!(
            world.written.starts_with(&reader.out),
            "output is not a prefix of what was written after {op:?}"
        );
    }

    // The writer settles; everything must come out, once.
    world.apply(&Op::Reopen);
    reader.poll();
    reader.elapsed += ROTATE_WAIT + Duration::from_secs(1);
    reader.poll();
    if reader.out != world.written {
        let out = String::from_utf8_lossy(&reader.out);
        let want = String::from_utf8_lossy(&world.written);
        let (o, w): (Vec<&str>, Vec<&str>) =
            (out.lines().collect(), want.lines().collect());
        let first = o.iter().zip(&w).position(|(a, b)| a != b);
        panic!(
            "read {} lines, {} were written; first difference at {:?}; \
             last read {:?}",
            o.len(),
            w.len(),
            first,
            o.last()
        );
    }
    assert!(
        reader.follower.open_files() <= 1,
        "rotated files are closed"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_byte_written_is_read_once_in_order(
        ops in prop::collection::vec(op(), 1..60),
        symlink in any::<bool>(),
        exists_at_start in any::<bool>(),
    ) {
        run_model(&ops, symlink, exists_at_start);
    }
}

#[test]
fn a_rename_with_a_lagging_writer_loses_nothing() {
    use Op::*;
    run_model(
        &[
            Write(2),
            Poll,
            Rename,
            Poll,
            Write(1),
            Poll,
            Reopen,
            Write(2),
            Poll,
        ],
        false,
        true,
    );
}

#[test]
fn copytruncate_finishes_from_the_copy() {
    use Op::*;
    // The truncation comes before the reader saw the last lines: they
    // are read from the copy.
    run_model(&[Poll, Write(3), CopyTruncate, Write(1), Poll], false, true);
}

#[test]
fn a_file_that_does_not_exist_yet_is_read_from_its_start() {
    use Op::*;
    run_model(&[Poll, Poll, Write(2), Poll], false, false);
}

#[test]
fn a_restart_resumes_a_rotated_file_still_being_drained() {
    use Op::*;
    run_model(
        &[
            Write(2),
            Poll,
            Rename,
            Write(1),
            Restart,
            Poll,
            Reopen,
            Poll,
        ],
        false,
        true,
    );
}

#[test]
fn a_repointed_symlink_is_followed_to_its_new_file() {
    use Op::*;
    run_model(
        &[Write(1), Poll, Repoint, Write(1), Reopen, Write(2), Poll],
        true,
        true,
    );
}

#[test]
fn start_at_end_skips_what_was_there_and_a_partial_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.log");
    fs::write(&path, b"old 1\nold 2\nhalf").unwrap();
    let mut reader = Reader::new(&path, Start::End, Instant::now());
    reader.poll();
    assert!(reader.out.is_empty());
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b" done\nnew\n").unwrap();
    reader.poll();
    assert_eq!(reader.out, b"half done\nnew\n");
}

#[test]
fn a_quiet_rotated_file_is_closed_after_the_wait() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.log");
    fs::write(&path, b"a\n").unwrap();
    let mut reader = Reader::new(&path, Start::Beginning, Instant::now());
    reader.poll();
    fs::rename(&path, dir.path().join("w.log.1")).unwrap();
    fs::write(&path, b"b\n").unwrap();
    reader.poll();
    assert_eq!(reader.follower.open_files(), 2);
    reader.elapsed += ROTATE_WAIT;
    reader.poll();
    reader.poll();
    assert_eq!(reader.follower.open_files(), 1);
    assert_eq!(reader.out, b"a\nb\n");
    let changes = reader.follower.take_changes();
    assert!(changes.contains(&Change::Rotated), "{changes:?}");
    assert!(changes.contains(&Change::Closed), "{changes:?}");
}

#[test]
fn a_checkpointed_file_that_is_gone_is_reported_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.log");
    fs::write(&path, b"a\nb\n").unwrap();
    let mut reader = Reader::new(&path, Start::Beginning, Instant::now());
    reader.poll();
    let marks = reader.follower.marks();
    fs::remove_file(&path).unwrap();
    fs::write(&path, b"c\n").unwrap();
    let mut again = Reader::new(
        &path,
        Start::Resume {
            lines: 2,
            files: marks,
        },
        Instant::now(),
    );
    again.poll();
    assert_eq!(again.out, b"c\n");
    let changes = again.follower.take_changes();
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::ResumeLost { offset: 4, .. })),
        "{changes:?}"
    );
}
