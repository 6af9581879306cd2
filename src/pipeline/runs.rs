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
//! (`Stamps::read_time`: the quick way for Celery and dmesg lines), and
//! hands back with every source's head filled, as the loop expects.
//! The output is the same, byte for byte; `tests/reference.rs` holds it
//! to the plain path, which never takes this lane.

use std::io;

use super::replay::fill_or_drop;
use super::source::Source;
use super::{Stages, content_of};
use crate::envelope::Format;
use crate::output::{OutLine, Sink};
use crate::time::Timestamp;

/// Finds line ends. `memchr::memchr` picks its SIMD routine on every
/// call, which for a line of a hundred bytes costs about as much as the
/// search; a searcher chosen once does not.
struct LineEnds {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl LineEnds {
    fn new() -> LineEnds {
        LineEnds {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(b'\n'),
        }
    }

    /// The length of the first line of `rest`, its `\n` included.
    #[inline]
    fn first_line(&self, rest: &[u8]) -> usize {
        #[cfg(target_arch = "x86_64")]
        if let Some(one) = &self.avx2 {
            return one.find(rest).map_or(rest.len(), |n| n + 1);
        }
        memchr::memchr(b'\n', rest).map_or(rest.len(), |n| n + 1)
    }
}

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
    pid: Option<Option<u32>>,
}

/// A line read ahead: where it ends, its time (`i64::MIN` for none,
/// which goes first as in [`super::replay`]'s merge), and the pid it
/// leaves for the lines after it.
#[derive(Clone, Copy)]
struct Next {
    end: usize,
    at: i64,
    pid: Option<Option<u32>>,
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
        lanes.push(Some(Lane {
            clear_end: span.end,
            pos: span.start,
            taken: 0,
            first_number: number,
            next: Some(Next {
                end: span.start + len,
                at: time.map_or(i64::MIN, |t| t.0),
                pid: (env.format != Format::None).then_some(env.pid),
            }),
            pid: None,
        }));
    }

    // Whose lines are being written: the lane, and where and at which
    // line number its span starts.
    let mut writing: Option<(usize, usize, u64)> = None;
    let mut latest = i64::MIN;
    let ends = LineEnds::new();
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
        let mut pos;
        loop {
            pos = next.end;
            taken += 1;
            if next.pid.is_some() {
                pid = next.pid;
            }
            latest = latest.max(next.at);
            // Read the line after it, if it is whole and clear.
            if pos >= lane.clear_end {
                break;
            }
            let rest = reader.buffered(pos..lane.clear_end);
            let len = ends.first_line(rest);
            let (time, left) = stamps.read_time(content_of(&rest[..len]));
            next = Next {
                end: pos + len,
                at: time.map_or(i64::MIN, |t| t.0),
                pid: left,
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
        src.reader.consume_to(lane.pos, lane.taken);
        stage.summary.lines += lane.taken as u64;
        if let Some(pid) = lane.pid {
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
