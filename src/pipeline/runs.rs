//! Replay's fast lane when every line is printed: the lines no rule can
//! match, merged by time where they lie in the sources' buffers and
//! written out as spans, without going through the per-line stages.
//!
//! [`merge_plain`] takes over from replay's loop while every source's
//! next line is such a line: it holds no literal of the rules, no rule
//! context is open, and its time comes before the earliest moment a
//! waiting symptom may be decided. It picks lines exactly as that loop
//! does (the earliest, the first source on a tie), reads only each
//! line's time and the pid it leaves, as [`Source::fill`] would read them
//! (runs of Celery, Python logging or dmesg lines in one tight loop,
//! [`stretch`]; any other line through `Stamps::read_time`), and hands
//! back with every source's head filled, as the loop expects.
//! The output is the same, byte for byte; `tests/reference.rs` holds it
//! to the plain path, which never takes this lane.

use std::io;

use super::replay::fill_or_drop;
use super::source::{Source, Stamps};
use super::{Stages, content_of};
use crate::envelope::{self, Format, Hour, InHour, PyHour};
use crate::input::newlines::LineIndex;
use crate::output::{OutLine, Sink};
use crate::time::Timestamp;

/// One source's part in the merge: where its lines are read in place.
struct Lane {
    /// The end of the whole lines that hold no literal of the rules.
    clear_end: usize,
    /// Where the next line not yet written starts, and how many lines
    /// were taken.
    pos: usize,
    taken: usize,
    /// The number of the first line of the lane.
    first_number: u64,
    /// The next line, read for its time: where it ends, its time for
    /// the merge, and the pid it leaves (see [`Stamps::read_time`]).
    ///
    /// [`Stamps::read_time`]: super::source::Stamps::read_time
    next: Option<Next>,
    /// The pid of the last line taken with an envelope, if any had one.
    pid: Option<Pid>,
    /// The ends of the lines after `next`.
    index: LineIndex,
    /// The kind of line the source's lines are read as in a tight loop
    /// ([`stretch`]), if any: as [`Source::fill`] would read them, but
    /// with what they leave behind handed over once per stretch.
    fast: Option<Fast>,
}

/// Lines that [`stretch`] reads.
#[derive(Clone, Copy)]
enum Fast {
    /// Celery lines of the hour the source's quick way knows, if its
    /// zone's offset is fixed.
    Celery(Hour),
    /// `dmesg` lines, their stamps counted from this boot time.
    Dmesg(Timestamp),
    /// Python logging lines of the hour the source's quick way knows.
    Python(PyHour),
}

impl Fast {
    /// What a source reads fast, from what its stamps know now.
    fn of(stamps: &Stamps<'_>) -> Option<Fast> {
        if let Some(hour) = stamps.hour() {
            return Some(Fast::Celery(hour));
        }
        if let Some(hour) = stamps.python_hour() {
            return Some(Fast::Python(hour));
        }
        stamps.boot_time().map(Fast::Dmesg)
    }
}

/// A line read ahead: where it ends, its time (`i64::MIN` for none,
/// which goes first as in [`super::replay`]'s merge), and the pid it
/// leaves for the lines after it.
#[derive(Clone, Copy)]
struct Next {
    end: usize,
    at: i64,
    pid: Option<Pid>,
}

/// The pid a line leaves for the lines after it: known, or that of the
/// Python logging line at this range of the buffer, which is read only
/// if it is still the last line with an envelope when the merge hands
/// back (a Python line's pid is in its tag, which [`stretch`] does not
/// read).
#[derive(Clone, Copy)]
enum Pid {
    Known(Option<u32>),
    OfLine(usize, usize),
}

/// Write the plain lines that come next in merge order, as long as
/// every source's next line is plain (see the module's description).
/// Returns false, having changed nothing, when the first is not.
pub(super) fn merge_plain<S: Sink>(
    stage: &mut Stages<S>,
    sources: &mut [Source],
) -> io::Result<bool> {
    if !stage.emitter.takes_runs() {
        return Ok(false);
    }
    let due = stage.correlator.next_due().map_or(i64::MAX, |t| t.0);
    let Some(scanner) = stage.extractor.scanner() else {
        return Ok(false);
    };
    for src in sources.iter_mut() {
        let Some((_, time, _)) = &src.head else {
            continue;
        };
        let time = time.map_or(i64::MIN, |t| t.0);
        let line = src.reader.current().expect("a head is filled");
        let (number, whole) = (line.number, line.raw.last() == Some(&b'\n'));
        if line.continuation
            || !whole
            || time >= due
            || stage.in_context(src.id, number)
            || src.reader.current_has_match(scanner)
        {
            return Ok(false);
        }
    }

    let mut lanes: Vec<Option<Lane>> = Vec::with_capacity(sources.len());
    for src in sources.iter_mut() {
        let Some(head) = src.head.take() else {
            lanes.push(None);
            continue;
        };
        let line = src.reader.current().expect("a head is filled");
        let (number, len) = (line.number, line.raw.len());
        src.reader.unfill();
        let span = src.reader.clear_span(scanner).expect("the head is whole");
        let (env, time, _) = head;
        let fast = Fast::of(&src.split().1);
        let mut index = std::mem::take(&mut src.line_index);
        index.reset(span.start + len);
        lanes.push(Some(Lane {
            clear_end: span.end,
            pos: span.start,
            taken: 0,
            first_number: number,
            next: Some(Next {
                end: span.start + len,
                at: time.map_or(i64::MIN, |t| t.0),
                pid: (env.format != Format::None)
                    .then_some(Pid::Known(env.pid)),
            }),
            pid: None,
            index,
            fast,
        }));
    }

    // Whose lines are being written: the lane, and where and at which
    // line number its span starts.
    let mut writing: Option<(usize, usize, u64)> = None;
    let mut latest = i64::MIN;
    loop {
        let mut pick: Option<(usize, i64)> = None;
        let mut stalled = false;
        for (i, lane) in lanes.iter().enumerate() {
            let Some(lane) = lane else { continue };
            match &lane.next {
                Some(n) if pick.is_none_or(|(_, b)| n.at < b) => {
                    pick = Some((i, n.at));
                }
                Some(_) => {}
                None => stalled = true,
            }
        }
        let Some((i, t)) = pick else { break };
        if stalled || t >= due {
            break;
        }
        // Lane `i` goes on while its lines stay before the other lanes'
        // next lines (those of earlier sources win a tie) and the due
        // moment.
        let (mut before, mut up_to) = (due, i64::MAX);
        for (j, lane) in lanes.iter().enumerate() {
            let Some(at) = lane.as_ref().and_then(|l| l.next).map(|n| n.at)
            else {
                continue;
            };
            if j < i {
                before = before.min(at);
            } else if j > i {
                up_to = up_to.min(at);
            }
        }
        if writing.is_some_and(|(w, _, _)| w != i) {
            flush(stage, sources, &lanes, writing.take())?;
        }
        let lane = lanes[i].as_mut().expect("picked");
        writing.get_or_insert((
            i,
            lane.pos,
            lane.first_number + lane.taken as u64,
        ));
        let (reader, mut stamps) = sources[i].split();
        let mut next = lane.next.take().expect("picked");
        let (mut taken, mut pid) = (lane.taken, lane.pid);
        let region = reader.buffered(0..lane.clear_end);
        let mut pos;
        loop {
            pos = next.end;
            taken += 1;
            if next.pid.is_some() {
                pid = next.pid;
            }
            latest = latest.max(next.at);
            // Read the lines after it that are whole and clear: those of
            // the kind the source reads fast in a tight loop, any other
            // line the general way.
            let mut other = None;
            if let Some(fast) = lane.fast {
                let (index, bounds) = (&mut lane.index, (before, up_to));
                let run = match fast {
                    Fast::Celery(h) => {
                        stretch(region, index, pos, bounds, Hourly(h))
                    }
                    Fast::Dmesg(boot) => {
                        stretch(region, index, pos, bounds, Dmesg(boot))
                    }
                    Fast::Python(h) => {
                        stretch(region, index, pos, bounds, Hourly(h))
                    }
                };
                let from_boot = matches!(fast, Fast::Dmesg(_));
                // The pid the line from `start` to `end` leaves.
                let leaves = |start, end| match fast {
                    Fast::Python(_) => Pid::OfLine(start, end),
                    _ => Pid::Known(None),
                };
                let stop_start = run.pos;
                (pos, taken) = (run.pos, taken + run.taken);
                if let Some((lo, hi, last)) = run.span {
                    stamps.keep_span(lo, hi, last, from_boot);
                    pid = Some(leaves(run.last_line.0, run.last_line.1));
                    latest = latest.max(hi.0);
                }
                match run.stop {
                    Stop::End => break,
                    Stop::After(t, end) => {
                        stamps.keep_span(t, t, t, from_boot);
                        lane.next = Some(Next {
                            end,
                            at: t.0,
                            pid: Some(leaves(stop_start, end)),
                        });
                        break;
                    }
                    Stop::Other(end) => other = Some(end),
                }
            } else if pos >= lane.clear_end {
                break;
            }
            // The region ends with a whole line: there is a `\n` ahead.
            let end = other
                .or_else(|| lane.index.next_end(region))
                .unwrap_or(lane.clear_end);
            let (time, left) = stamps.read_time(content_of(&region[pos..end]));
            lane.fast = Fast::of(&stamps);
            next = Next {
                end,
                at: time.map_or(i64::MIN, |t| t.0),
                pid: left.map(Pid::Known),
            };
            if next.at >= before || next.at > up_to {
                lane.next = Some(next);
                break;
            }
        }
        (lane.pos, lane.taken, lane.pid) = (pos, taken, pid);
    }
    flush(stage, sources, &lanes, writing)?;

    for (src, lane) in sources.iter_mut().zip(lanes) {
        let Some(lane) = lane else { continue };
        src.line_index = lane.index;
        let pid = lane.pid.map(|pid| match pid {
            Pid::Known(pid) => pid,
            Pid::OfLine(start, end) => src.pid_of(start..end),
        });
        src.reader.consume_to(lane.pos, lane.taken);
        stage.summary.lines += lane.taken as u64;
        if let Some(pid) = pid {
            stage.set_record_pid(src.id, pid);
        }
        // The line read but not taken is the head: `fill` reads it
        // again, whole, as it would have.
        fill_or_drop(stage, src);
    }
    if latest > i64::MIN {
        stage
            .correlator
            .advance(Timestamp(latest), &mut stage.decisions);
        stage.deliver()?;
    }
    Ok(true)
}

/// What [`stretch`] took, and why it stopped.
struct Stretch {
    /// Where the line after the last taken starts, how many were taken,
    /// and the earliest, latest and last of their own times, if any had
    /// one (the lines without an envelope have none).
    pos: usize,
    taken: usize,
    span: Option<(Timestamp, Timestamp, Timestamp)>,
    /// Where the last line with a time of its own starts and ends, if
    /// [`Reading::LAST_LINE`].
    last_line: (usize, usize),
    stop: Stop,
}

enum Stop {
    /// At the end of the region.
    End,
    /// At a line read at time `.0` and ending at `.1`, which comes after
    /// the next line of another lane or the due moment.
    After(Timestamp, usize),
    /// At a line `read` has no time for, ending at `.0`, for the general
    /// way to read.
    Other(usize),
}

/// How [`stretch`] reads the lines of one kind: each line's time as a
/// key, a number that orders the lines as their times do and is cheaper
/// to compare and keep than the time, turned into the time only where
/// the loop stops.
trait Reading {
    /// Whether the loop must say where the last line with a time of its
    /// own is, for its pid (see [`Pid`]).
    const LAST_LINE: bool = false;

    /// The line's key, given the line with its terminator; `None` when
    /// [`Stamps::read_time`] would read the line without it differently
    /// (another kind of line, or no time of its own).
    ///
    /// [`Stamps::read_time`]: super::source::Stamps::read_time
    fn key(&self, line: &[u8]) -> Option<i64>;

    /// The greatest key of a time at `bound` or before.
    fn key_up_to(&self, bound: i64) -> i64;

    /// The time of a line of key `key`.
    fn time(&self, key: i64) -> Timestamp;
}

/// The lines of an hour the quick way learnt (Celery's or Python
/// logging's): the key is the milliseconds into it.
#[derive(Clone, Copy)]
struct Hourly<H>(H);

impl<H: InHour> Reading for Hourly<H> {
    const LAST_LINE: bool = H::PID_IN_TAG;

    #[inline(always)]
    fn key(&self, line: &[u8]) -> Option<i64> {
        self.0.millis(line)
    }

    #[inline]
    fn key_up_to(&self, bound: i64) -> i64 {
        self.0.millis_up_to(bound)
    }

    #[inline]
    fn time(&self, key: i64) -> Timestamp {
        self.0.at(key)
    }
}

/// `dmesg` lines, their stamps counted from this boot time: the key is
/// the time.
struct Dmesg(Timestamp);

impl Reading for Dmesg {
    #[inline(always)]
    fn key(&self, line: &[u8]) -> Option<i64> {
        envelope::dmesg_since_boot(line).map(|ns| self.0.shifted(ns).0)
    }

    #[inline]
    fn key_up_to(&self, bound: i64) -> i64 {
        bound
    }

    #[inline]
    fn time(&self, key: i64) -> Timestamp {
        Timestamp(key)
    }
}

/// Take the lines that come next from `pos` on in `region` (whose ends
/// `index` gives) while `reading` gives each a time, and that time comes
/// before `before` and no later than `up_to`; and the lines without an
/// envelope among them (a traceback's indented lines).
///
/// Most lines of a worker's log or a kernel's are such lines, and this
/// loop is all the merge does for them. What they leave for the lines
/// after them (their time; no writer of their own) is the same for each,
/// so it is kept in registers and handed to the source once, by the
/// caller.
///
/// The two bounds are one: a time is before `before` and no later than
/// `up_to` when it is no later than the lesser of `before - 1` and
/// `up_to`, and that is a key. (With `before` at `i64::MIN`, no time is
/// before it, and the lesser is `i64::MIN`, which no stamp gives.)
///
/// A line without an envelope takes the time of the line before, which
/// was taken under the same bounds, so it is always taken, and changes
/// neither the times nor the writer the lines after it inherit.
/// [`envelope::plainly_bare`] tells it by its first bytes, which the
/// terminator does not change.
#[inline(always)]
fn stretch<R: Reading>(
    region: &[u8],
    index: &mut LineIndex,
    mut pos: usize,
    (before, up_to): (i64, i64),
    reading: R,
) -> Stretch {
    let limit = reading.key_up_to(before.saturating_sub(1).min(up_to));
    let (mut taken, mut timed) = (0, 0);
    let (mut lo, mut hi, mut last) = (i64::MAX, i64::MIN, 0);
    let mut last_line = (pos, pos);
    let stop = loop {
        let ends = index.pending(region);
        if ends.is_empty() {
            break Stop::End;
        }
        // The lines of this stretch of the index, until one stops the
        // loop; `used` is how many ends were looked at.
        let (used, stop) = 'lines: {
            for (k, &end) in ends.iter().enumerate() {
                let line = &region[pos..end];
                match reading.key(line) {
                    Some(key) if key <= limit => {
                        (lo, hi, last) = (lo.min(key), hi.max(key), key);
                        if R::LAST_LINE {
                            last_line = (pos, end);
                        }
                        (pos, taken, timed) = (end, taken + 1, timed + 1);
                    }
                    Some(key) => {
                        let at = reading.time(key);
                        break 'lines (k + 1, Some(Stop::After(at, end)));
                    }
                    None if envelope::plainly_bare(line) => {
                        (pos, taken) = (end, taken + 1);
                    }
                    None => break 'lines (k + 1, Some(Stop::Other(end))),
                }
            }
            (ends.len(), None)
        };
        index.take(used);
        if let Some(stop) = stop {
            break stop;
        }
    };
    Stretch {
        pos,
        taken,
        span: (timed > 0)
            .then(|| (reading.time(lo), reading.time(hi), reading.time(last))),
        last_line,
        stop,
    }
}

/// Write the lines taken from one source since `from`, as one span.
fn flush<S: Sink>(
    stage: &mut Stages<S>,
    sources: &[Source],
    lanes: &[Option<Lane>],
    writing: Option<(usize, usize, u64)>,
) -> io::Result<()> {
    let Some((i, from, number)) = writing else {
        return Ok(());
    };
    let Some(lane) = &lanes[i] else {
        return Ok(());
    };
    let out = OutLine {
        source: sources[i].id,
        line: number,
        time: None,
        raw: sources[i].reader.buffered(from..lane.pos),
        continuation: false,
    };
    stage.emitter.run(&out)
}
