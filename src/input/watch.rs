//! File system notifications that wake the follow loop.
//!
//! [`Watch`] asks the kernel (inotify, through the `notify` crate) to
//! report changes in the folders of the followed names, and in the
//! folders their symlinks lead to, since a write goes to the file a
//! symlink names, not to the link. A followed name's folder can be busy
//! (`/var/log`), so only events about the name itself or about files
//! whose name begins with it (`worker.log.1`, `0.log.20260101-120000`)
//! wake the loop; single files (a cgroup's `memory.events`) are watched
//! directly. Waking is all a notification does: the loop then looks at
//! every followed name, so a missed or merged event costs nothing but
//! the wait for the next tick.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

/// What events wake the loop.
#[derive(Debug, Default)]
struct Interest {
    /// A folder and a file name prefix in it.
    prefixes: Vec<(PathBuf, OsString)>,
    /// Single files, and the flag their events raise.
    files: Vec<(PathBuf, Arc<AtomicBool>)>,
}

impl Interest {
    fn wants(&self, path: &Path) -> bool {
        if let Some((_, flag)) = self.files.iter().find(|(f, _)| f == path) {
            flag.store(true, Ordering::SeqCst);
            return true;
        }
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return false;
        };
        self.prefixes.iter().any(|(d, prefix)| {
            d == dir
                && name
                    .as_encoded_bytes()
                    .starts_with(prefix.as_encoded_bytes())
        })
    }
}

/// Notifications for the followed names; see the module documentation.
pub struct Watch {
    watcher: Option<RecommendedWatcher>,
    watched: HashSet<PathBuf>,
    interest: Arc<Mutex<Interest>>,
}

impl Watch {
    /// Start the notification thread; `wake` is called (on that thread)
    /// for every event of interest. Without notifications (no inotify
    /// instances left) the loop still runs on its tick.
    pub fn new(wake: impl Fn() + Send + 'static) -> Watch {
        let interest = Arc::new(Mutex::new(Interest::default()));
        let seen = interest.clone();
        let handler = move |res: notify::Result<notify::Event>| match res {
            Ok(event) => {
                if matches!(event.kind, EventKind::Access(_)) {
                    return;
                }
                let wanted = event.need_rescan()
                    || seen
                        .lock()
                        .is_ok_and(|i| event.paths.iter().any(|p| i.wants(p)));
                if wanted {
                    wake();
                }
            }
            Err(_) => wake(),
        };
        let watcher = match notify::recommended_watcher(handler) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(
                    "file system notifications are not available ({e}); \
                     followed files are looked at on every tick instead"
                );
                None
            }
        };
        Watch {
            watcher,
            watched: HashSet::new(),
            interest,
        }
    }

    /// Watch a followed name: its folder, and every folder its symlinks
    /// lead through. Call again after a rotation: a re-pointed symlink
    /// may lead somewhere new.
    pub fn name(&mut self, path: &Path) {
        let mut hop = absolute(path);
        for _ in 0..8 {
            let (Some(dir), Some(name)) = (hop.parent(), hop.file_name())
            else {
                break;
            };
            let (dir, name) = (dir.to_owned(), name.to_owned());
            self.add_prefix(&dir, name);
            self.watch(&dir);
            match std::fs::read_link(&hop) {
                Ok(target) => hop = dir.join(target),
                Err(_) => break,
            }
        }
    }

    /// Watch one file (a cgroup's `memory.events`); its events also
    /// raise `flag`, so the loop knows which file changed.
    pub fn file(&mut self, path: &Path, flag: Arc<AtomicBool>) {
        let path = absolute(path);
        if let Ok(mut i) = self.interest.lock() {
            i.files.retain(|(f, _)| *f != path);
            i.files.push((path.clone(), flag));
        }
        self.watch(&path);
    }

    fn add_prefix(&mut self, dir: &Path, name: OsString) {
        if let Ok(mut i) = self.interest.lock()
            && !i.prefixes.iter().any(|(d, n)| d == dir && *n == name)
        {
            i.prefixes.push((dir.to_owned(), name));
        }
    }

    fn watch(&mut self, path: &Path) {
        let Some(w) = self.watcher.as_mut() else {
            return;
        };
        if self.watched.contains(path) {
            return;
        }
        match w.watch(path, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.watched.insert(path.to_owned());
            }
            Err(e) => tracing::debug!(
                "{}: cannot watch ({e}); looked at on every tick",
                path.display()
            ),
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_name_and_its_rotated_files_are_of_interest() {
        let i = Interest {
            prefixes: vec![("/var/log".into(), "worker.log".into())],
            files: vec![(
                "/sys/fs/cgroup/x/memory.events".into(),
                Arc::new(AtomicBool::new(false)),
            )],
        };
        assert!(i.wants(Path::new("/var/log/worker.log")));
        assert!(i.wants(Path::new("/var/log/worker.log.1")));
        assert!(!i.wants(Path::new("/var/log/syslog")));
        assert!(!i.wants(Path::new("/var/worker.log")));
        assert!(i.wants(Path::new("/sys/fs/cgroup/x/memory.events")));
        assert!(i.files[0].1.load(Ordering::SeqCst), "the file's flag");
    }

    #[test]
    fn a_write_to_a_watched_name_wakes() {
        use std::sync::mpsc;
        use std::time::Duration;
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let mut w = Watch::new(move || {
            let _ = tx.send(());
        });
        w.name(&dir.path().join("w.log"));
        std::fs::write(dir.path().join("other.txt"), b"x").unwrap();
        std::fs::write(dir.path().join("w.log"), b"x\n").unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok());
    }
}
