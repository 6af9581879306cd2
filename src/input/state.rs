//! The checkpoint of a follow run: where each followed file and the
//! kernel log were read up to, so that a restart goes on from there.
//!
//! A followed name can stand for several files at once (the current one
//! and rotated ones still being drained), so each name keeps a list of
//! [`FileMark`]s: the file's identity (device and inode), a fingerprint
//! of its first bytes (an inode number can be reused by a new file), and
//! the offset of the first byte not yet written out. The kernel log keeps
//! the sequence number of the last record written out and the boot it
//! belongs to, since sequence numbers restart at boot.
//!
//! The file is a journal of JSON lines, one whole checkpoint per line;
//! the last complete line is the checkpoint. [`Journal::write`] appends a
//! line with one `write(2)`: a crash in the middle leaves a line that
//! does not parse, and the one before it counts, so a reader never sees
//! half a checkpoint. Appending is cheap enough to checkpoint after every
//! batch of lines (renaming a new file over the old one each time made
//! ext4 write the file back at once, and cost a third of truecause's CPU
//! time at 2,000 lines a second). When the journal passes
//! [`COMPACT_AT`] bytes it is replaced, by rename, with its last line.
//! The format is documented in docs/sidecar.md.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The version written into every checkpoint; a file with another is
/// not read.
pub const VERSION: u32 = 1;

/// Journal size past which it is compacted to its last line.
pub const COMPACT_AT: u64 = 64 * 1024;

/// Where one file was read up to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMark {
    pub dev: u64,
    pub ino: u64,
    /// How many of the file's first bytes the fingerprint covers.
    pub fingerprint_len: u32,
    /// FNV-1a (64 bits) of those bytes, in hex.
    pub fingerprint: String,
    /// Offset of the first byte not yet written out.
    pub offset: u64,
    /// The file was being read to its end to be closed (a copy left by
    /// copytruncate, or a rotated file gone quiet): nobody writes to it.
    #[serde(default)]
    pub closing: bool,
}

/// One followed name: its files, oldest first, and how many lines it
/// has handed out (so line numbers go on after a restart).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameState {
    pub lines: u64,
    pub files: Vec<FileMark>,
}

/// Where the kernel log was read up to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsgState {
    /// The path read (`/dev/kmsg`, or a FIFO in tests).
    pub path: String,
    /// `/proc/sys/kernel/random/boot_id` when the mark was taken.
    pub boot_id: Option<String>,
    /// Sequence number of the last record written out.
    pub seq: u64,
    /// Records handed out, so line numbers go on after a restart.
    pub lines: u64,
}

/// A whole checkpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Followed names as given on the command line.
    pub files: BTreeMap<String, NameState>,
    #[serde(default)]
    pub kmsg: Option<KmsgState>,
}

/// Why a checkpoint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: cannot read the state file: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: not a truecause state file: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(
        "{path}: state file version {found}, this truecause reads {VERSION}"
    )]
    Version { path: PathBuf, found: u32 },
}

impl State {
    pub fn new() -> State {
        State {
            version: VERSION,
            ..State::default()
        }
    }

    /// Read the checkpoint (the journal's last complete line that
    /// parses); `Ok(None)` when there is none yet.
    pub fn load(path: &Path) -> Result<Option<State>, StateError> {
        let text = match fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let mut last_error = None;
        let complete = match text.iter().rposition(|&b| b == b'\n') {
            Some(end) => &text[..end],
            None => &text[..0],
        };
        for line in complete.rsplit(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<State>(line) {
                Ok(state) if state.version == VERSION => {
                    return Ok(Some(state));
                }
                Ok(state) => {
                    return Err(StateError::Version {
                        path: path.to_owned(),
                        found: state.version,
                    });
                }
                // A line torn by a crash: the one before it counts.
                Err(e) => last_error = last_error.or(Some(e.to_string())),
            }
        }
        match last_error {
            Some(message) => Err(StateError::Parse {
                path: path.to_owned(),
                message,
            }),
            None => Ok(None),
        }
    }

    /// The checkpoint as one journal line.
    pub fn to_line(&self) -> String {
        let mut text = serde_json::to_string(self).expect("state serializes");
        text.push('\n');
        text
    }

    /// Write `text` to `path` atomically: a temporary file in the same
    /// folder, renamed over the target.
    pub fn save_text(path: &Path, text: &str) -> io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp.{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let written = fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .and_then(|()| fs::rename(&tmp, path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }
}

/// The checkpoint file, open for appending.
pub struct Journal {
    path: PathBuf,
    file: Option<File>,
    size: u64,
}

impl Journal {
    /// A journal at `path`; nothing is opened before the first write.
    pub fn new(path: PathBuf) -> Journal {
        Journal {
            path,
            file: None,
            size: 0,
        }
    }

    /// Append `state` as a line; compact first when the journal is big
    /// (or was never opened by this run, so it starts from one line).
    pub fn write(&mut self, state: &State) -> io::Result<()> {
        let line = state.to_line();
        if self.file.is_none() || self.size >= COMPACT_AT {
            State::save_text(&self.path, &line)?;
            let file = OpenOptions::new().append(true).open(&self.path)?;
            self.size = file.metadata()?.len();
            self.file = Some(file);
            return Ok(());
        }
        let file = self.file.as_mut().expect("opened above");
        match file.write_all(line.as_bytes()) {
            Ok(()) => {
                self.size += line.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Start again from a fresh file next time.
                self.file = None;
                Err(e)
            }
        }
    }
}

/// FNV-1a, 64 bits: a stable hash for fingerprints (std's hasher may
/// change between Rust versions, and a checkpoint outlives a build).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seq: u64) -> State {
        let mut state = State::new();
        state.files.insert(
            "worker.log".into(),
            NameState {
                lines: 12,
                files: vec![FileMark {
                    dev: 2049,
                    ino: 77,
                    fingerprint_len: 12,
                    fingerprint: format!("{:016x}", fnv1a(b"hello")),
                    offset: 600 + seq,
                    closing: false,
                }],
            },
        );
        state.kmsg = Some(KmsgState {
            path: "/dev/kmsg".into(),
            boot_id: Some("b".into()),
            seq,
            lines: 3,
        });
        state
    }

    #[test]
    fn the_last_checkpoint_written_is_the_one_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut journal = Journal::new(path.clone());
        for seq in 1..=5 {
            journal.write(&sample(seq)).unwrap();
        }
        assert_eq!(State::load(&path).unwrap(), Some(sample(5)));
        let files = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 1, "no temporary file is left behind");
    }

    #[test]
    fn a_line_torn_by_a_crash_leaves_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut text = sample(1).to_line();
        let torn = sample(2).to_line();
        text.push_str(&torn[..torn.len() / 2]);
        fs::write(&path, &text).unwrap();
        assert_eq!(State::load(&path).unwrap(), Some(sample(1)));
        // Even a torn line that ends in a newline (garbage after power
        // loss) does not count.
        text.push('\n');
        fs::write(&path, &text).unwrap();
        assert_eq!(State::load(&path).unwrap(), Some(sample(1)));
    }

    #[test]
    fn a_big_journal_is_compacted_to_its_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut journal = Journal::new(path.clone());
        let per_line = sample(1).to_line().len() as u64;
        let writes = COMPACT_AT / per_line + 10;
        for seq in 1..=writes {
            journal.write(&sample(seq)).unwrap();
        }
        let size = fs::metadata(&path).unwrap().len();
        assert!(size < COMPACT_AT, "{size}");
        assert_eq!(State::load(&path).unwrap(), Some(sample(writes)));
    }

    #[test]
    fn a_missing_state_is_none_and_a_bad_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(State::load(&path).unwrap().is_none());
        fs::write(&path, "{\"version\": 1, \"files\": 3}\n").unwrap();
        let err = State::load(&path).unwrap_err().to_string();
        assert!(err.contains("not a truecause state file"), "{err}");
        fs::write(&path, "{\"version\": 7, \"files\": {}}\n").unwrap();
        let err = State::load(&path).unwrap_err().to_string();
        assert!(err.contains("version 7"), "{err}");
    }

    #[test]
    fn fnv1a_matches_the_published_test_vector() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
