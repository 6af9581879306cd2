//! Writing follow mode's checkpoint, and reading where the kernel log
//! starts from it. The files' positions themselves are the followed
//! files' marks (`input::follow`); the format is `input::state`'s.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::super::lower;
use super::super::source::Source;
use crate::input::follow::FollowedFile;
use crate::input::kmsg::{self, Kmsg};
use crate::input::state::{Journal, KmsgState, NameState, State};

/// The checkpoint file of a run, and what was last written to it.
pub(super) struct Checkpoint {
    path: PathBuf,
    journal: Journal,
    interval: Duration,
    /// This boot's id, read once.
    boot_id: Option<String>,
    /// The checkpoint last written, to write only changes.
    last: Option<State>,
    written: Option<Instant>,
    failed: bool,
}

impl Checkpoint {
    pub(super) fn new(path: PathBuf, interval: Duration) -> Checkpoint {
        Checkpoint {
            journal: Journal::new(path.clone()),
            path,
            interval,
            boot_id: kmsg::boot_id(),
            last: None,
            written: None,
            failed: false,
        }
    }

    /// Write where every source stands, if that changed (and, unless
    /// `force`, if the interval has passed).
    pub(super) fn write(
        &mut self,
        files: &[Source<FollowedFile>],
        kmsg: Option<&Source<Kmsg>>,
        force: bool,
    ) {
        if !force
            && self.written.is_some_and(|at| at.elapsed() < self.interval)
        {
            return;
        }
        let mut state = State::new();
        for src in files {
            state.files.insert(
                src.name.clone(),
                NameState {
                    lines: src.reader.lines(),
                    files: src.reader.marks(),
                },
            );
        }
        if let Some(k) = kmsg
            && let Some(seq) = k.reader.last_seq()
        {
            state.kmsg = Some(KmsgState {
                path: k.name.clone(),
                boot_id: self.boot_id.clone(),
                seq,
                lines: k.reader.lines(),
            });
        }
        if self.last.as_ref() == Some(&state) {
            return;
        }
        match self.journal.write(&state) {
            Ok(()) => {
                self.last = Some(state);
                self.written = Some(Instant::now());
                self.failed = false;
            }
            Err(e) => {
                if !self.failed {
                    tracing::error!(
                        "{}: cannot write the state file: {}; a restart \
                         would repeat or skip lines",
                        self.path.display(),
                        lower(&e)
                    );
                    self.failed = true;
                }
            }
        }
    }
}

/// Where the kernel log starts: after the checkpoint's record when it is
/// of this boot, at the oldest record when the host rebooted since (the
/// records of the new boot were never read), else at the end.
pub(super) fn kmsg_start(
    state: &Option<State>,
    name: &str,
) -> (kmsg::Start, u64) {
    let Some(k) = state.as_ref().and_then(|s| s.kmsg.as_ref()) else {
        return (kmsg::Start::End, 0);
    };
    if k.path != name {
        return (kmsg::Start::End, 0);
    }
    if k.boot_id.is_some() && k.boot_id != kmsg::boot_id() {
        tracing::info!(
            "{name}: the host rebooted since the checkpoint; reading the \
             kernel log from its oldest record"
        );
        return (kmsg::Start::Beginning, 0);
    }
    (kmsg::Start::After(k.seq), k.lines)
}
