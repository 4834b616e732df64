//! Where the counterfeit probe ([`super::probe`]) writes and reads: a
//! plan that makes every wrap size of a whole number of MiB fold some read
//! onto some written block, with about `2·√(claimed / 1 MiB)` blocks
//! rather than one per MiB.
//!
//! A card wrapping at `N` returns, for a read at `y`, the block last
//! written at `y mod N`; a read at `y` shows a written block `s` exactly
//! when `N` divides `y - s`. So the differences between read and written
//! positions must include a multiple of every `N` to be caught. The plan
//! is a baby-step giant-step grid: `a` blocks written at `g + i·u`
//! (`0 ≤ i < a`, `u` = 1 MiB) and blocks read at `g + j·a·u`, whose
//! differences `(j·a − i)·u` are every multiple of `u` up to the claimed
//! size; the top `a·u`, where `g + N + i·u` would fall past the end, is
//! read MiB by MiB. Reads cost no restore, writes three operations (saved,
//! stamped, restored), so `a ≈ √(span / 3u)`. Reads at `g + 2^k ± 4 KiB`
//! add the wraps one block off a power of two, and the last block and four
//! random blocks past the image's end are written for limbo cards.
//!
//! What it cannot catch, and why: a wrap at a size that is not a whole
//! number of `u` and not `2^k`, `2^k ± 4 KiB` or a divisor of a fold the
//! random samples happen to make. Catching every 4 KiB-granular size needs
//! differences covering every multiple of 4 KiB — about `2·√(claimed /
//! 4 KiB)` blocks, 4 MiB of I/O on a 1 GiB card — past the probe's
//! budget; the flash chips fakes are built from hold whole MiB. On cards
//! claiming more than 16 GiB, `u` grows (a power of two times 1 MiB) so
//! the grid stays within 16384 multiples; wraps between its steps are
//! then missed the same way. `--probe full` catches every size.

use super::probe::{B, MIB};

/// Cells of the grid at most: 16 GiB at 1 MiB.
const MAX_MULTIPLES: u64 = 1 << 14;

/// The probe's positions, each sorted and disjoint from the other.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Stamped, then read back: the grid's column, the last block, the
    /// tail samples.
    pub written: Vec<u64>,
    /// Only read: the grid's row, the top MiBs, `2^k ± B`.
    pub read: Vec<u64>,
}

impl Plan {
    /// The plan for a card whose last block is `last`, the reference block
    /// `g` (known good: the first block after the partition table's MiB).
    pub(crate) fn new(
        g: u64,
        last: u64,
        image_end: Option<u64>,
        random: &mut impl Iterator<Item = u64>,
    ) -> Plan {
        let span = last - g;
        let mut u = MIB;
        while span / u > MAX_MULTIPLES {
            u *= 2;
        }
        let multiples = span / u;
        let a = (multiples / 3).isqrt().max(1) + 1;
        let mut written: Vec<u64> = (0..a).map(|i| g + i * u).collect();
        written.push(last);
        let tail_from = image_end.unwrap_or(0).max(g + B).div_ceil(B) * B;
        if tail_from < last {
            let blocks = (last - tail_from) / B;
            written.extend(random.take(4).map(|r| tail_from + (r % blocks) * B));
        }
        let mut read: Vec<u64> = (1..)
            .map(|j| g + j * a * u)
            .take_while(|&p| p <= last)
            .collect();
        read.extend((multiples.saturating_sub(a)..=multiples).map(|m| g + m * u));
        for k in 20..64 {
            let Some(p) = g.checked_add(1 << k) else {
                break;
            };
            read.extend([p - B, p + B].into_iter().filter(|&q| q <= last));
            if p > last {
                break;
            }
        }
        finish(written, read)
    }
}

/// Sorts both lists, drops duplicates and positions out of range, and
/// keeps a position that is both written and read only in `written`
/// (reading it back covers it).
fn finish(mut written: Vec<u64>, mut read: Vec<u64>) -> Plan {
    written.sort_unstable();
    written.dedup();
    read.sort_unstable();
    read.dedup();
    read.retain(|p| written.binary_search(p).is_err() && *p > written[0]);
    Plan { written, read }
}

#[cfg(test)]
#[path = "probe_plan_tests.rs"]
mod tests;
