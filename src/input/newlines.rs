//! Line ends found a stretch of bytes at a time, for loops that walk
//! many short lines of one buffer in order.
//!
//! A search call per line (`memchr`) pays its setup on every line, and a
//! log line is short: the setup costs about as much as the search.
//! [`LineIndex`] instead notes the ends of all the lines of the next
//! 4 KiB or so in one pass, 64 bytes per step (with AVX-512BW or AVX2
//! where the processor has it, SSE2 otherwise, all on x86-64; `memchr`
//! elsewhere), and hands them out one by one.

/// How many bytes one pass indexes, at least: enough lines to spread the
/// pass's setup, and the mispredicted end of a loop over its ends, thin;
/// few enough that the lines indexed and not needed when a merge hands
/// back cost little. A lane keeps its index between turns, so a turn
/// does not waste it. With 1 KiB (eight log lines), every line to
/// /dev/null took 2.5% longer on the benchmark input (paired rounds,
/// BENCHMARKS.md); 8 KiB was no faster than 4.
const STRETCH: usize = 4096;

/// The ends of the lines of a buffer, from a starting point on.
#[derive(Debug, Default)]
pub struct LineIndex {
    /// Ends (past the `\n`) of lines not handed out yet, from `next` on.
    ends: Vec<usize>,
    next: usize,
    /// Where indexing stopped: no end before it is missing from `ends`.
    indexed_to: usize,
}

impl LineIndex {
    /// Start over at `from`, a line start in the buffer to be indexed.
    pub fn reset(&mut self, from: usize) {
        self.ends.clear();
        self.next = 0;
        self.indexed_to = from;
    }

    /// The end of the next line in `hay` (past its `\n`), or `None` when
    /// no `\n` is left. `hay` is the same buffer on every call since the
    /// last [`LineIndex::reset`].
    #[inline]
    pub fn next_end(&mut self, hay: &[u8]) -> Option<usize> {
        if self.next == self.ends.len() {
            self.index_more(hay)?;
        }
        let end = self.ends[self.next];
        self.next += 1;
        Some(end)
    }

    /// The ends indexed and not handed out yet, indexing the next
    /// stretch of `hay` first if there are none: empty only when no `\n`
    /// is left. For a loop over many lines, which keeps the slice in
    /// registers where [`LineIndex::next_end`] reads and writes the index
    /// on every line; [`LineIndex::take`] hands out what it used.
    #[inline]
    pub fn pending(&mut self, hay: &[u8]) -> &[usize] {
        if self.next == self.ends.len() && self.index_more(hay).is_none() {
            return &[];
        }
        &self.ends[self.next..]
    }

    /// Hand out the first `n` ends of [`LineIndex::pending`].
    #[inline]
    pub fn take(&mut self, n: usize) {
        self.next = (self.next + n).min(self.ends.len());
    }

    /// Index the next stretch of `hay`, until it holds a line end or
    /// `hay` ends.
    #[inline(never)]
    fn index_more(&mut self, hay: &[u8]) -> Option<()> {
        self.ends.clear();
        self.next = 0;
        while self.ends.is_empty() && self.indexed_to < hay.len() {
            let to = (self.indexed_to + STRETCH).min(hay.len());
            self.indexed_to =
                push_ends(hay, self.indexed_to, to, &mut self.ends);
        }
        (!self.ends.is_empty()).then_some(())
    }
}

/// Push the index past each `\n` of `hay` from `from` to at least `to`,
/// in whole blocks of 64 bytes except at the end of `hay`; returns where
/// it stopped.
fn push_ends(
    hay: &[u8],
    from: usize,
    to: usize,
    out: &mut Vec<usize>,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if x86::has_avx512() {
            // SAFETY: the processor has AVX-512BW, POPCNT and BMI1,
            // checked just above.
            unsafe { x86::push_ends_avx512(hay, from, to, out) }
        } else if x86::has_avx2() {
            // SAFETY: the processor has AVX2, POPCNT and BMI1, checked
            // just above.
            unsafe { x86::push_ends_avx2(hay, from, to, out) }
        } else {
            x86::push_ends_sse2(hay, from, to, out)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let ends = memchr::memchr_iter(b'\n', &hay[from..to]);
        out.extend(ends.map(|i| from + i + 1));
        to
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_set1_epi8, _mm256_cmpeq_epi8, _mm256_loadu_si256,
        _mm256_movemask_epi8, _mm256_set1_epi8, _mm512_cmpeq_epi8_mask,
        _mm512_loadu_si512, _mm512_set1_epi8,
    };

    /// [`super::push_ends`] with `mask` marking the `\n`s of each 64
    /// bytes (bit `i` for byte `i`). The ends are written into room
    /// reserved beforehand and counted in a register, rather than pushed
    /// one by one: a push reloads and stores the vector's length.
    #[inline(always)]
    fn push_ends_with(
        hay: &[u8],
        mut from: usize,
        to: usize,
        out: &mut Vec<usize>,
        mask: impl Fn(&[u8; 64]) -> u64,
    ) -> usize {
        // Blocks may pass `to` by less than 64 bytes: at most one end a
        // byte up to there, and two more written past the last end.
        out.reserve(to.saturating_sub(from) + 64 + 2);
        let room = out.spare_capacity_mut();
        // Write end `k` of this call. `n`, the ends written before a
        // block, is at most the bytes before it, and a block's `k`s go
        // no further than its `\n`s or two: every `k` is below the bytes
        // read plus two, less than `to - from + 66`, `room`'s length at
        // least. The bounds checks the compiler could not drop were a
        // fifth of the loop's instructions.
        let mut put = |k: usize, end: usize| {
            debug_assert!(k < room.len());
            // SAFETY: `k` is in bounds, as said above.
            unsafe { room.get_unchecked_mut(k) }.write(end);
        };
        let mut n = 0;
        while from < to && from + 64 <= hay.len() {
            // SAFETY: `from + 64 <= hay.len()`, checked just above.
            let block: &[u8; 64] =
                unsafe { &*hay.as_ptr().add(from).cast::<[u8; 64]>() };
            let mut m = mask(block);
            // A block of log text holds one line end or none, rarely
            // more: the first two are written whether they exist or not
            // (the room past the count is written over later), and only
            // a third takes a branch, which is then seldom mispredicted
            // as a loop over the bits would be on nearly every block.
            let count = m.count_ones() as usize;
            let second = m & m.wrapping_sub(1);
            put(n, from + m.trailing_zeros() as usize + 1);
            put(n + 1, from + second.trailing_zeros() as usize + 1);
            if count > 2 {
                m = second & second.wrapping_sub(1);
                let mut k = n + 2;
                while m != 0 {
                    put(k, from + m.trailing_zeros() as usize + 1);
                    k += 1;
                    m &= m - 1;
                }
            }
            n += count;
            from += 64;
        }
        // The last bytes of `hay`, fewer than 64.
        if from < to {
            for (i, &b) in hay[from..to].iter().enumerate() {
                if b == b'\n' {
                    room[n].write(from + i + 1);
                    n += 1;
                }
            }
            from = to;
        }
        let len = out.len() + n;
        // SAFETY: the `n` places after the vector's length were written
        // just above.
        unsafe { out.set_len(len) };
        from
    }

    /// Whether the processor has what [`push_ends_avx2`] is built for:
    /// AVX2, and the bit counting instructions that come with it (without
    /// them a count of a block's line ends is a dozen instructions).
    pub(super) fn has_avx2() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("bmi1")
    }

    /// Whether the processor has what [`push_ends_avx512`] is built for:
    /// AVX-512BW (a block's 64 compares in one instruction, straight into
    /// a mask) and the same bit counting.
    pub(super) fn has_avx512() -> bool {
        std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("bmi1")
    }

    /// [`super::push_ends`] with AVX-512BW.
    ///
    /// # Safety
    ///
    /// The processor must have AVX-512BW, POPCNT and BMI1
    /// ([`has_avx512`]).
    #[target_feature(enable = "avx512bw,popcnt,bmi1")]
    pub(super) unsafe fn push_ends_avx512(
        hay: &[u8],
        from: usize,
        to: usize,
        out: &mut Vec<usize>,
    ) -> usize {
        push_ends_with(hay, from, to, out, |block| {
            let newline = _mm512_set1_epi8(b'\n' as i8);
            // SAFETY: the load is unaligned and reads the 64 bytes of
            // `block`; the caller vouches for AVX-512BW.
            let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
            _mm512_cmpeq_epi8_mask(v, newline)
        })
    }

    /// [`super::push_ends`] with AVX2.
    ///
    /// # Safety
    ///
    /// The processor must have AVX2, POPCNT and BMI1 ([`has_avx2`]).
    #[target_feature(enable = "avx2,popcnt,bmi1")]
    pub(super) unsafe fn push_ends_avx2(
        hay: &[u8],
        from: usize,
        to: usize,
        out: &mut Vec<usize>,
    ) -> usize {
        push_ends_with(hay, from, to, out, |block| {
            let p = block.as_ptr().cast::<__m256i>();
            let newline = _mm256_set1_epi8(b'\n' as i8);
            // SAFETY: both loads are unaligned and read within `block`;
            // the caller vouches for AVX2.
            let (a, b) = unsafe {
                (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
            };
            let low =
                _mm256_movemask_epi8(_mm256_cmpeq_epi8(a, newline)) as u32;
            let high =
                _mm256_movemask_epi8(_mm256_cmpeq_epi8(b, newline)) as u32;
            u64::from(low) | u64::from(high) << 32
        })
    }

    /// [`super::push_ends`] with SSE2.
    pub(super) fn push_ends_sse2(
        hay: &[u8],
        from: usize,
        to: usize,
        out: &mut Vec<usize>,
    ) -> usize {
        push_ends_with(hay, from, to, out, |block| {
            let mut mask = 0;
            for (i, part) in block.chunks_exact(16).enumerate() {
                // SAFETY: SSE2 is part of every x86-64 processor, and the
                // unaligned load reads the 16 bytes of `part`.
                let m = unsafe {
                    let v = _mm_loadu_si128(part.as_ptr().cast::<__m128i>());
                    _mm_movemask_epi8(_mm_cmpeq_epi8(
                        v,
                        _mm_set1_epi8(b'\n' as i8),
                    ))
                };
                mask |= u64::from(m as u16) << (16 * i);
            }
            mask
        })
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    fn ends(hay: &[u8], from: usize) -> Vec<usize> {
        let mut index = LineIndex::default();
        index.reset(from);
        let one_by_one: Vec<usize> =
            std::iter::from_fn(|| index.next_end(hay)).collect();
        // The same, a stretch at a time, taking one and then the rest.
        index.reset(from);
        let mut by_stretch = Vec::new();
        loop {
            let pending = index.pending(hay).to_vec();
            let Some(&first) = pending.first() else { break };
            by_stretch.push(first);
            index.take(1);
            let rest = index.pending(hay).to_vec();
            if pending.len() > 1 {
                assert_eq!(rest, pending[1..]);
                by_stretch.extend(&rest);
                index.take(rest.len());
            }
        }
        assert_eq!(one_by_one, by_stretch);
        one_by_one
    }

    fn expected(hay: &[u8], from: usize) -> Vec<usize> {
        (from..hay.len())
            .filter(|&i| hay[i] == b'\n')
            .map(|i| i + 1)
            .collect()
    }

    #[test]
    fn finds_every_line_end_across_blocks_and_stretches() {
        // Lines of every length from 0 to 2100 bytes in steps, so that
        // ends fall on each position of a block and of a stretch, on
        // their edges, several per block, and none in a whole stretch;
        // then empty lines.
        let mut hay = Vec::new();
        for len in (0..150).chain([1023, 1024, 1025, 2100]) {
            hay.extend(std::iter::repeat_n(b'x', len));
            hay.push(b'\n');
        }
        // Blocks of nothing but line ends: the most a block writes.
        hay.extend(std::iter::repeat_n(b'\n', 200));
        hay.extend_from_slice(b"no end");
        for from in [0, 1, 63, 64, 65, 200, 1000, hay.len() - 3, hay.len()] {
            assert_eq!(ends(&hay, from), expected(&hay, from), "from {from}");
        }
        assert_eq!(ends(b"", 0), Vec::<usize>::new());
        assert_eq!(ends(b"\n", 0), vec![1]);
    }

    #[test]
    fn bytes_like_a_newline_are_not_one() {
        // 0x8a and 0x0b share bits with `\n`; a signed compare or a
        // masked one would take them.
        let hay: Vec<u8> =
            (0..=255u8).chain([b'\n']).cycle().take(2570).collect();
        assert_eq!(ends(&hay, 0), expected(&hay, 0));
    }

    #[test]
    fn every_instruction_set_agrees_with_a_plain_search() {
        #[cfg(target_arch = "x86_64")]
        {
            let hay: Vec<u8> = (0..5000u32)
                .map(|i| {
                    if (i * 7919) % 97 < 2 {
                        b'\n'
                    } else {
                        (i % 251) as u8
                    }
                })
                .collect();
            for from in [0, 5, 64, 999] {
                let want = expected(&hay, from);
                // Each way the processor has, against the plain search.
                let check = |push: &dyn Fn(&mut Vec<usize>) -> usize| {
                    let mut ends = Vec::new();
                    assert_eq!(push(&mut ends), hay.len());
                    assert_eq!(ends, want);
                };
                let len = hay.len();
                check(&|out| super::x86::push_ends_sse2(&hay, from, len, out));
                if super::x86::has_avx2() {
                    // SAFETY: checked just above.
                    check(&|out| unsafe {
                        super::x86::push_ends_avx2(&hay, from, len, out)
                    });
                }
                if super::x86::has_avx512() {
                    // SAFETY: checked just above.
                    check(&|out| unsafe {
                        super::x86::push_ends_avx512(&hay, from, len, out)
                    });
                }
            }
        }
    }
}
