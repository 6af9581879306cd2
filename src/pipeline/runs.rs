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
//!
//! The sources take turns: a turn ([`Lane::advance`]) takes one source's
//! lines up to the first that comes after another source's next line,
//! and its lines go out as one span, appended to the sink's buffer
//! ([`Runs`]). A worker's log and the kernel's interleave every few
//! lines, so a turn is short, and what it costs beyond its lines is kept
//! small: the next times sit in one array, and what the lines leave for
//! their source is handed over once a merge ([`Keys`]).
//!
//! [`Runs`]: crate::output::Runs

use std::io;

use super::replay::fill_or_drop;
use super::source::{Source, Stamps};
use super::{Stages, content_of};
use crate::envelope::{self, Format, Hour, InHour, PyHour};
use crate::input::newlines::LineIndex;
use crate::output::Sink;
use crate::time::Timestamp;

/// One source's part in the merge: where its lines are read in place.
struct Lane {
    /// The end of the whole lines that hold no literal of the rules.
    clear_end: usize,
    /// Where the lines taken and not yet written start, where the next
    /// line not taken starts, and how many lines were taken.
    from: usize,
    pos: usize,
    taken: usize,
    /// The line after the last taken, read for its time: where it ends,
    /// its time for the merge, and the pid it leaves (see
    /// [`Stamps::read_time`]). Stale once `ended`.
    ///
    /// [`Stamps::read_time`]: super::source::Stamps::read_time
    next: Next,
    /// Whether the clear lines ran out: there is no next line to read.
    ended: bool,
    /// The pid of the last line taken with an envelope, if any had one.
    pid: Option<Pid>,
    /// The ends of the lines after `next`.
    index: LineIndex,
    /// The kind of line the source's lines are read as in a tight loop
    /// ([`stretch`]), if any: as [`Source::fill`] would read them, but
    /// with what they leave behind handed over later ([`Keys`]).
    fast: Option<Fast>,
    /// The times `fast` read and did not hand to the source yet.
    keys: Keys,
}

/// The times a lane's fast way read, as its keys (see [`Reading`]),
/// kept back from the source's [`Stamps`] and handed over once
/// ([`Lane::settle`]): when the merge hands back, or before the lane
/// reads a line the general way, which uses them. Sources taking turns
/// every few lines would otherwise hand them over every few lines.
#[derive(Clone, Copy)]
struct Keys {
    /// The earliest, latest and last of the times read, the line a
    /// stretch stopped at included, as [`Stamps::read_time`] keeps it;
    /// `lo > hi` when none was read.
    lo: i64,
    hi: i64,
    last: i64,
    /// The latest time of the lines taken, for the watermark.
    top: i64,
}

impl Keys {
    const NONE: Keys = Keys {
        lo: i64::MAX,
        hi: i64::MIN,
        last: i64::MIN,
        top: i64::MIN,
    };

    /// Keep the key of a line read and not taken.
    #[inline]
    fn read(&mut self, key: i64) {
        (self.lo, self.hi, self.last) =
            (self.lo.min(key), self.hi.max(key), key);
    }
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

    /// Take the lines from `pos` on as [`stretch`] does.
    #[inline]
    fn stretch(
        &self,
        region: &[u8],
        index: &mut LineIndex,
        pos: usize,
        limit: i64,
        keys: &mut Keys,
    ) -> Stretch {
        match *self {
            Fast::Celery(h) => {
                stretch(region, index, pos, limit, Hourly(h), keys)
            }
            Fast::Dmesg(boot) => {
                stretch(region, index, pos, limit, Dmesg(boot), keys)
            }
            Fast::Python(h) => {
                stretch(region, index, pos, limit, Hourly(h), keys)
            }
        }
    }

    /// The time of a line of key `key` (see [`Reading::time`]).
    #[inline]
    fn time(&self, key: i64) -> Timestamp {
        match *self {
            Fast::Celery(h) => Hourly(h).time(key),
            Fast::Dmesg(boot) => Dmesg(boot).time(key),
            Fast::Python(h) => Hourly(h).time(key),
        }
    }

    /// The pid the line at `start..end`, read this way, leaves.
    #[inline]
    fn leaves(&self, (start, end): (usize, usize)) -> Pid {
        match self {
            Fast::Python(_) => Pid::OfLine(start, end),
            _ => Pid::Known(None),
        }
    }
}

/// A line read ahead: where it ends, its time (`i64::MIN` for none,
/// which goes first as in [`super::replay`]'s merge), and the pid it
/// leaves for the lines after it: as `pid` says, or, for a line the
/// lane's fast way read (`fast`), as that way says ([`Fast::leaves`]).
///
/// A line the fast way stops at is taken on the lane's next turn, often
/// right after; the pid it leaves is worked out then rather than stored
/// here, which a processor would then read back before the store is done.
#[derive(Clone, Copy)]
struct Next {
    end: usize,
    at: i64,
    pid: Option<Pid>,
    fast: bool,
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
    // The sink's buffer, where each turn's lines go.
    let Some(mut out) = stage.emitter.runs() else {
        return Ok(false);
    };

    let mut lanes: Vec<Option<Lane>> = Vec::with_capacity(sources.len());
    for src in sources.iter_mut() {
        let Some(head) = src.head.take() else {
            lanes.push(None);
            continue;
        };
        let line = src.reader.current().expect("a head is filled");
        let len = line.raw.len();
        src.reader.unfill();
        let span = src.reader.clear_span(scanner).expect("the head is whole");
        let (env, time, _) = head;
        let fast = Fast::of(&src.split().1);
        let mut index = std::mem::take(&mut src.line_index);
        index.reset(span.start + len);
        lanes.push(Some(Lane {
            clear_end: span.end,
            from: span.start,
            pos: span.start,
            taken: 0,
            next: Next {
                end: span.start + len,
                at: time.map_or(i64::MIN, |t| t.0),
                pid: (env.format != Format::None)
                    .then_some(Pid::Known(env.pid)),
                fast: false,
            },
            ended: false,
            pid: None,
            index,
            fast,
            keys: Keys::NONE,
        }));
    }

    // Each turn ends at a line that comes after another lane's next one
    // (or is due): the lanes take turns, and each turn's lines are
    // written as one span. The next lines' times are kept apart from the
    // lanes, where the choice of the next turn reads them in one place
    // (`i64::MAX` for a source with no lane, which is never chosen and
    // bounds no other).
    let mut ats: Vec<i64> = lanes
        .iter()
        .map(|l| l.as_ref().map_or(i64::MAX, |l| l.next.at))
        .collect();
    let mut latest = i64::MIN;
    while let Some((i, limit)) = turn(&ats, due) {
        let (lane, source) =
            (lanes[i].as_mut().expect("picked"), &mut sources[i]);
        lane.advance(source, limit, &mut latest);
        out.push(source.reader.buffered(lane.from..lane.pos))?;
        lane.from = lane.pos;
        if lane.ended {
            break;
        }
        ats[i] = lane.next.at;
    }

    for (src, lane) in sources.iter_mut().zip(lanes) {
        let Some(mut lane) = lane else { continue };
        lane.settle(&mut src.split().1, &mut latest);
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

/// Of the lanes whose next lines are at `ats`, the one whose line comes
/// next in merge order (the earliest, the first on a tie), and the latest
/// time its lines may have to go on: before the next lines of the lanes
/// ahead of it and the due moment, and no later than those of the lanes
/// after it. `None` when the next line is due.
#[inline]
fn turn(ats: &[i64], due: i64) -> Option<(usize, i64)> {
    let mut i = 0;
    for (j, &at) in ats.iter().enumerate() {
        if at < ats[i] {
            i = j;
        }
    }
    if ats.get(i).is_none_or(|&t| t >= due) {
        return None;
    }
    // Neither `due` nor the next time of a lane ahead is `i64::MIN`:
    // both are later than lane `i`'s.
    let mut limit = due - 1;
    for (j, &at) in ats.iter().enumerate() {
        if j < i {
            limit = limit.min(at - 1);
        } else if j > i {
            limit = limit.min(at);
        }
    }
    Some((i, limit))
}

impl Lane {
    /// Take the lane's next line and the lines after it whose times are
    /// no later than `limit`, reading the first line not taken for its
    /// time (or to the end of the clear lines, `ended`).
    fn advance(&mut self, source: &mut Source, limit: i64, latest: &mut i64) {
        loop {
            let next = self.next;
            match &self.fast {
                // The way that read it: it changes only at a general read.
                Some(fast) if next.fast => {
                    self.pid = Some(fast.leaves((self.pos, next.end)));
                }
                _ if next.pid.is_some() => self.pid = next.pid,
                _ => {}
            }
            self.pos = next.end;
            self.taken += 1;
            *latest = (*latest).max(next.at);
            // Read the lines after it that are whole and clear: those of
            // the kind the source reads fast in a tight loop, any other
            // line the general way.
            let region = source.reader.buffered(0..self.clear_end);
            let end = match &self.fast {
                Some(fast) => {
                    let (index, keys) = (&mut self.index, &mut self.keys);
                    let run =
                        fast.stretch(region, index, self.pos, limit, keys);
                    self.pos = run.pos;
                    self.taken += run.taken;
                    if run.timed {
                        self.pid = Some(fast.leaves(run.last_line));
                    }
                    match run.stop {
                        Stop::End => {
                            self.ended = true;
                            return;
                        }
                        Stop::After(key, end) => {
                            self.keys.read(key);
                            self.next = Next {
                                end,
                                at: fast.time(key).0,
                                pid: None,
                                fast: true,
                            };
                            return;
                        }
                        Stop::Other(end) => end,
                    }
                }
                None if self.pos >= self.clear_end => {
                    self.ended = true;
                    return;
                }
                // The region ends with a whole line: there is a `\n`
                // ahead.
                None => self.index.next_end(region).unwrap_or(self.clear_end),
            };
            self.read_next(source, end, latest);
            if self.next.at > limit {
                return;
            }
        }
    }

    /// Read the line from `pos` to `end` the general way, as the next
    /// line, handing it what the fast way kept back first.
    #[cold]
    #[inline(never)]
    fn read_next(
        &mut self,
        source: &mut Source,
        end: usize,
        latest: &mut i64,
    ) {
        let (reader, mut stamps) = source.split();
        self.settle(&mut stamps, latest);
        let line = content_of(reader.buffered(self.pos..end));
        let (time, left) = stamps.read_time(line);
        self.fast = Fast::of(&stamps);
        self.next = Next {
            end,
            at: time.map_or(i64::MIN, |t| t.0),
            pid: left.map(Pid::Known),
            fast: false,
        };
    }

    /// Hand the times the fast way kept back to the source's `stamps`,
    /// and the latest time taken to `latest`.
    fn settle(&mut self, stamps: &mut Stamps<'_>, latest: &mut i64) {
        let keys = std::mem::replace(&mut self.keys, Keys::NONE);
        let Some(fast) = &self.fast else { return };
        if keys.lo <= keys.hi {
            let from_boot = matches!(fast, Fast::Dmesg(_));
            let [lo, hi, last] =
                [keys.lo, keys.hi, keys.last].map(|k| fast.time(k));
            stamps.keep_span(lo, hi, last, from_boot);
        }
        if keys.top > i64::MIN {
            *latest = (*latest).max(fast.time(keys.top).0);
        }
    }
}

/// What [`stretch`] took, and why it stopped.
struct Stretch {
    /// Where the line after the last taken starts, how many were taken,
    /// and whether any had a time of its own (the lines without an
    /// envelope have none); their keys went into the lane's [`Keys`].
    pos: usize,
    taken: usize,
    timed: bool,
    /// Where the last line with a time of its own starts and ends, if
    /// [`Reading::LAST_LINE`].
    last_line: (usize, usize),
    stop: Stop,
}

enum Stop {
    /// At the end of the region.
    End,
    /// At a line read at key `.0` and ending at `.1`, which comes after
    /// the next line of another lane or the due moment.
    After(i64, usize),
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
/// `index` gives) while `reading` gives each a time no later than
/// `limit`; and the lines without an envelope among them (a traceback's
/// indented lines). Their keys go into `keys`.
///
/// Most lines of a worker's log or a kernel's are such lines, and this
/// loop is all the merge does for them. What they leave for the lines
/// after them (their time; no writer of their own) is the same for each,
/// so it is kept in registers and handed to the source later, by the
/// caller.
///
/// A line without an envelope takes the time of the line before, which
/// was taken under the same limit, so it is always taken, and changes
/// neither the times nor the writer the lines after it inherit.
/// [`envelope::plainly_bare`] tells it by its first bytes, which the
/// terminator does not change.
#[inline(always)]
fn stretch<R: Reading>(
    region: &[u8],
    index: &mut LineIndex,
    mut pos: usize,
    limit: i64,
    reading: R,
    keys: &mut Keys,
) -> Stretch {
    let limit = reading.key_up_to(limit);
    let (mut taken, mut timed) = (0, 0);
    let Keys {
        mut lo,
        mut hi,
        mut last,
        ..
    } = *keys;
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
                        break 'lines (k + 1, Some(Stop::After(key, end)));
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
    // The lines read before this stretch were all taken by now: the
    // latest taken is the latest read.
    *keys = Keys {
        lo,
        hi,
        last,
        top: hi,
    };
    Stretch {
        pos,
        taken,
        timed: timed > 0,
        last_line,
        stop,
    }
}
