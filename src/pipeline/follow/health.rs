//! The health of follow mode's sources, for operators: what happened to
//! a followed name (logged at the level it deserves), sources that went
//! silent, missing or unreadable (reported once per episode on stderr),
//! and the per-source figures the metrics serve.

use std::time::{Duration, Instant};

use crate::input::follow::Change;
use crate::metrics::SourceHealth;
use crate::time::human_duration;

/// How long a followed name may be missing before it is reported (a
/// rotation leaves it missing for a moment).
const MISSING_GRACE: Duration = Duration::from_secs(5);

/// A source's health as the loop tracks it, for stderr and metrics.
pub(super) struct Tracked {
    pub(super) health: SourceHealth,
    /// Since when the source has been silent, missing or unreadable,
    /// and whether that was reported.
    quiet_since: Instant,
    silence_reported: bool,
    trouble_since: Option<Instant>,
    pub(super) trouble_reported: bool,
}

impl Tracked {
    pub(super) fn new(
        name: String,
        kind: &'static str,
        now: Instant,
    ) -> Tracked {
        Tracked {
            health: SourceHealth::new(name, kind),
            quiet_since: now,
            silence_reported: false,
            trouble_since: None,
            trouble_reported: false,
        }
    }

    /// A line came.
    pub(super) fn line(&mut self, name: &str, now: Instant) {
        self.health.lines += 1;
        self.health.last_line = Some(now);
        if self.silence_reported {
            tracing::info!("{name}: lines again");
            self.silence_reported = false;
        }
        self.quiet_since = now;
    }

    /// The source is missing or unreadable (`Some`), or fine.
    pub(super) fn set_trouble(
        &mut self,
        name: &str,
        trouble: Option<String>,
        now: Instant,
    ) {
        match trouble {
            None => {
                if self.trouble_reported {
                    tracing::info!("{name}: readable again");
                }
                if self.trouble_since.take().is_some() {
                    // Silence is counted from when it could be read.
                    self.quiet_since = now;
                }
                self.trouble_reported = false;
                self.health.up = true;
            }
            Some(why) => {
                let since = *self.trouble_since.get_or_insert(now);
                self.health.up = false;
                let missing = why == "does not exist";
                if !self.trouble_reported
                    && (!missing || now.duration_since(since) >= MISSING_GRACE)
                {
                    if missing {
                        tracing::warn!(
                            "{name}: does not exist; it will be read from \
                             its first line when it appears"
                        );
                    } else {
                        tracing::error!("{name}: {why}");
                    }
                    self.trouble_reported = true;
                }
            }
        }
    }

    /// Warn once when the source has produced nothing for `silence`.
    pub(super) fn check_silence(&mut self, silence: Duration, now: Instant) {
        let quiet = now.duration_since(self.quiet_since);
        // A missing or unreadable source is reported as such already.
        if quiet >= silence
            && !self.silence_reported
            && self.trouble_since.is_none()
        {
            tracing::warn!(
                "{}: no line for {}",
                self.health.name,
                human_duration(quiet.as_nanos() as i64)
            );
            self.silence_reported = true;
        }
    }
}

/// Log one change of a followed name at the level it deserves.
pub(super) fn report_change(
    name: &str,
    change: &Change,
    health: &mut SourceHealth,
) {
    match change {
        Change::Opened { path, offset } => tracing::debug!(
            "{name}: opened {} at byte {offset}",
            path.display()
        ),
        Change::Rotated => {
            health.rotations += 1;
            tracing::debug!("{name}: rotated; draining the old file");
        }
        Change::Truncated {
            at,
            copy: Some(copy),
        } => {
            health.truncations += 1;
            tracing::info!(
                "{name}: truncated at byte {at}; the rest comes from the \
                 copy {}",
                copy.display()
            );
        }
        Change::Truncated { at, copy: None } => {
            health.truncations += 1;
            tracing::warn!(
                "{name}: truncated at byte {at} and no copy found beside \
                 it; lines written just before the truncation may be missing"
            );
        }
        Change::Closed => {
            tracing::debug!("{name}: a rotated file was drained")
        }
        Change::ClosedEarly => tracing::warn!(
            "{name}: too many rotated files open; the oldest was closed \
             before it went quiet, and later lines written to it are lost"
        ),
        Change::ResumeLost { ino, offset } => tracing::warn!(
            "{name}: the file (inode {ino}) the checkpoint left at byte \
             {offset} is gone; what it held past that is lost"
        ),
        Change::ReadFailed { error } => {
            tracing::error!("{name}: read failed, file closed: {error}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_said_once_and_not_for_a_missing_file() {
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        let mut t = Tracked::new("w.log".into(), "file", t0);
        t.set_trouble("w.log", Some("does not exist".into()), t0);
        t.check_silence(minute, t0 + 2 * minute);
        assert!(!t.silence_reported, "missing is reported as missing");

        // It appears: silence counts from then.
        t.set_trouble("w.log", None, t0 + 2 * minute);
        t.check_silence(minute, t0 + 2 * minute);
        assert!(!t.silence_reported);
        t.check_silence(minute, t0 + 3 * minute);
        assert!(t.silence_reported);

        t.line("w.log", t0 + 4 * minute);
        assert!(!t.silence_reported, "a line ends the silence");
        assert_eq!(t.health.lines, 1);
    }

    #[test]
    fn a_missing_name_is_reported_after_the_grace_an_unreadable_one_at_once() {
        let t0 = Instant::now();
        let mut t = Tracked::new("w.log".into(), "file", t0);
        t.set_trouble("w.log", Some("does not exist".into()), t0);
        assert!(!t.trouble_reported, "a rotation leaves it missing briefly");
        t.set_trouble(
            "w.log",
            Some("does not exist".into()),
            t0 + MISSING_GRACE,
        );
        assert!(t.trouble_reported && !t.health.up);

        let mut u = Tracked::new("x.log".into(), "file", t0);
        u.set_trouble("x.log", Some("cannot be read: denied".into()), t0);
        assert!(u.trouble_reported);
        u.set_trouble("x.log", None, t0);
        assert!(!u.trouble_reported && u.health.up);
    }
}
