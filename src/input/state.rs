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
//! [`State::save`] writes a temporary file beside the target and renames
//! it over, so a reader (or a restart after a crash) sees the old
//! checkpoint or the new one, never half of one. The format is JSON,
//! documented in docs/sidecar.md.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The version written into every checkpoint; a file with another is
/// not read.
pub const VERSION: u32 = 1;

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

    /// Read a checkpoint; `Ok(None)` when there is none yet.
    pub fn load(path: &Path) -> Result<Option<State>, StateError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let state: State =
            serde_json::from_str(&text).map_err(|e| StateError::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        if state.version != VERSION {
            return Err(StateError::Version {
                path: path.to_owned(),
                found: state.version,
            });
        }
        Ok(Some(state))
    }

    /// The checkpoint as the text [`State::save`] writes.
    pub fn to_text(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(self).expect("state serializes");
        text.push('\n');
        text
    }

    /// Write `text` (from [`State::to_text`]) to `path` atomically: a
    /// temporary file in the same folder, renamed over the target.
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

    #[test]
    fn a_saved_state_loads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
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
                    offset: 600,
                    closing: false,
                }],
            },
        );
        state.kmsg = Some(KmsgState {
            path: "/dev/kmsg".into(),
            boot_id: Some("b".into()),
            seq: 9,
            lines: 3,
        });
        State::save_text(&path, &state.to_text()).unwrap();
        assert_eq!(State::load(&path).unwrap(), Some(state));
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn a_missing_state_is_none_and_a_bad_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(State::load(&path).unwrap().is_none());
        fs::write(&path, "{\"version\": 1, \"files\": 3}").unwrap();
        let err = State::load(&path).unwrap_err().to_string();
        assert!(err.contains("not a truecause state file"), "{err}");
        fs::write(&path, "{\"version\": 7, \"files\": {}}").unwrap();
        let err = State::load(&path).unwrap_err().to_string();
        assert!(err.contains("version 7"), "{err}");
    }

    #[test]
    fn fnv1a_matches_the_published_test_vector() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
