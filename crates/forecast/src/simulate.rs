//! The Monte Carlo engine: a precomputed sample table, a fast inner loop, and deterministic
//! parallel chunks.
//!
//! All simulation works in **working days**: the k-th working day after the start is mapped to
//! a date afterwards, so the inner loop never looks at a calendar.

use rand::rngs::SmallRng;
use rand::{Rng, RngExt, SeedableRng};

use crate::error::Result;
use crate::options::{Options, RiskImpact};

/// Trials per chunk. Each chunk has its own RNG derived from `(seed, chunk index)`, so the
/// result does not depend on how chunks are spread over threads.
pub(crate) const CHUNK: u32 = 2048;

/// The empirical sample, laid out for sampling.
///
/// Besides the single-day table it keeps the table of all ordered pairs of days
/// (`pair[a * n + b] = single[a] + single[b]`): a uniform index into it is two independent
/// uniform days, so the inner loop advances two days per draw and uses both halves of each
/// 64-bit random number (four days per RNG call).
pub(crate) struct Table {
    single: Vec<u32>,
    pair: Vec<u32>,
    n: u64,
    n_pair: u64,
}

/// Above this many pairs the pair table would leave the L1/L2 cache: sample single days.
const MAX_PAIR_TABLE: usize = 1 << 16;

impl Table {
    pub fn new(values: &[u32]) -> Self {
        let n = values.len();
        let pair = if n * n <= MAX_PAIR_TABLE {
            values
                .iter()
                .flat_map(|&a| values.iter().map(move |&b| a.saturating_add(b)))
                .collect()
        } else {
            Vec::new()
        };
        Self {
            single: values.to_vec(),
            n_pair: pair.len() as u64,
            pair,
            n: n as u64,
        }
    }

    /// Uniform index in `0..len` from 32 random bits (Lemire's multiply-shift; the bias is
    /// below `len / 2^32`, far under the simulation noise).
    #[inline(always)]
    fn index(bits: u32, len: u64) -> usize {
        ((u64::from(bits) * len) >> 32) as usize
    }

    /// Working days until the cumulative throughput reaches `need` (≥ 1), or `None` if more
    /// than `max_days` would be needed.
    #[inline]
    pub fn days_to_reach(&self, rng: &mut SmallRng, need: u64, max_days: u32) -> Option<u32> {
        let mut done = 0u64;
        let mut days = 0u32;
        if self.pair.is_empty() {
            loop {
                let r = rng.next_u64();
                for bits in [r as u32, (r >> 32) as u32] {
                    done += u64::from(self.single[Self::index(bits, self.n)]);
                    days += 1;
                    if done >= need {
                        return (days <= max_days).then_some(days);
                    }
                }
                if days >= max_days {
                    return None;
                }
            }
        }
        loop {
            let r = rng.next_u64();
            for bits in [r as u32, (r >> 32) as u32] {
                let i = Self::index(bits, self.n_pair);
                let two = u64::from(self.pair[i]);
                if done + two >= need {
                    let first = u64::from(self.single[i / self.n as usize]);
                    let days = days + if done + first >= need { 1 } else { 2 };
                    return (days <= max_days).then_some(days);
                }
                done += two;
                days += 2;
            }
            if days >= max_days {
                return None;
            }
        }
    }

    /// Total throughput of `days` independent working days.
    #[inline]
    pub fn sum_of_days(&self, rng: &mut SmallRng, days: u32) -> u64 {
        let mut total = 0u64;
        let (table, len, per_draw) = if self.pair.is_empty() {
            (&self.single, self.n, 1)
        } else {
            (&self.pair, self.n_pair, 2)
        };
        let draws = days / per_draw;
        let mut left = draws;
        while left >= 2 {
            let r = rng.next_u64();
            total += u64::from(table[Self::index(r as u32, len)]);
            total += u64::from(table[Self::index((r >> 32) as u32, len)]);
            left -= 2;
        }
        if left == 1 {
            total += u64::from(table[Self::index(rng.next_u32(), len)]);
        }
        if days % per_draw == 1 {
            total += u64::from(self.single[Self::index(rng.next_u32(), self.n)]);
        }
        total
    }

    /// One day's throughput.
    #[inline]
    pub fn one_day(&self, rng: &mut SmallRng) -> u64 {
        u64::from(self.single[Self::index(rng.next_u32(), self.n)])
    }
}

/// One trial's scenario: scope growth and risks, drawn from their own RNG stream so that a
/// risk that never fires leaves the throughput draws, and so the result, unchanged.
pub(crate) struct Scenario {
    pub growth_factor: f64,
    pub added_items: u64,
    pub delay_days: u32,
}

/// A scope-growth factor in `[1 + lo, 1 + hi]` (1 without scope growth).
pub(crate) fn draw_growth(options: &Options, rng: &mut SmallRng) -> f64 {
    match options.scope_growth {
        Some(g) if g.hi > g.lo => 1.0 + rng.random_range(g.lo..=g.hi),
        Some(g) => 1.0 + g.lo,
        None => 1.0,
    }
}

pub(crate) fn draw_scenario(options: &Options, rng: &mut SmallRng) -> Scenario {
    let growth_factor = draw_growth(options, rng);
    let mut added_items = 0;
    let mut delay_days = 0;
    for risk in &options.risks {
        if rng.random::<f64>() < risk.likelihood {
            match risk.impact {
                RiskImpact::Items { lo, hi } => added_items += rng.random_range(lo..=hi),
                RiskImpact::DelayDays { lo, hi } => delay_days += rng.random_range(lo..=hi),
            }
        }
    }
    Scenario {
        growth_factor,
        added_items,
        delay_days,
    }
}

/// `items` grown by `factor`, rounded up.
pub(crate) fn grow(items: u64, factor: f64) -> u64 {
    if factor == 1.0 {
        items
    } else {
        ((items as f64 * factor).ceil() as u64).max(items)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The RNG of one stream of one chunk.
pub(crate) fn chunk_rng(seed: u64, chunk: u64, stream: u64) -> SmallRng {
    SmallRng::seed_from_u64(splitmix64(
        splitmix64(seed ^ splitmix64(chunk)).wrapping_add(stream),
    ))
}

/// Worker threads for `options`.
pub(crate) fn thread_count(options: &Options) -> usize {
    options.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
    })
}

/// Runs `trials` in chunks of [`CHUNK`] over `threads` scoped threads.
///
/// `work(acc, chunk_index, trials_in_chunk)` adds a chunk's results into a thread's
/// accumulator; `merge` must be commutative and associative (histogram sums are), which is
/// what makes the result independent of the thread count.
pub(crate) fn run_chunks<T, W, M>(
    trials: u32,
    threads: usize,
    init: impl Fn() -> T + Sync,
    work: W,
    merge: M,
) -> Result<T>
where
    T: Send,
    W: Fn(&mut T, u64, u32) -> Result<()> + Sync,
    M: Fn(&mut T, T),
{
    let chunks = trials.div_ceil(CHUNK);
    let threads = threads.clamp(1, chunks.max(1) as usize);
    let size = |c: u32| CHUNK.min(trials - c * CHUNK);
    if threads == 1 {
        let mut acc = init();
        for c in 0..chunks {
            work(&mut acc, u64::from(c), size(c))?;
        }
        return Ok(acc);
    }
    let results: Vec<Result<T>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (init, work) = (&init, &work);
                s.spawn(move || {
                    let mut acc = init();
                    for c in (t as u32..chunks).step_by(threads) {
                        work(&mut acc, u64::from(c), size(c))?;
                    }
                    Ok(acc)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("forecast worker panicked"))
            .collect()
    });
    let mut out = init();
    for r in results {
        merge(&mut out, r?);
    }
    Ok(out)
}

/// Adds `b` into `a`, growing `a` as needed.
pub(crate) fn add_hist(a: &mut Vec<u64>, b: &[u64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Increments bucket `i`, growing the histogram as needed.
#[inline]
pub(crate) fn bump(h: &mut Vec<u64>, i: usize) {
    if i >= h.len() {
        h.resize(i + 1, 0);
    }
    h[i] += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_and_single_tables_agree_in_distribution() {
        let values: Vec<u32> = (0..20).map(|i| (i * 7 % 5) as u32).collect();
        let with_pairs = Table::new(&values);
        let mut singles = Table::new(&values);
        singles.pair.clear();
        let mean = |t: &Table| {
            let mut rng = chunk_rng(1, 0, 0);
            let n = 20_000;
            (0..n)
                .map(|_| f64::from(t.days_to_reach(&mut rng, 30, 1000).unwrap()))
                .sum::<f64>()
                / f64::from(n)
        };
        let (a, b) = (mean(&with_pairs), mean(&singles));
        assert!((a - b).abs() < 0.15, "{a} vs {b}");
    }

    #[test]
    fn constant_table_is_exact() {
        let t = Table::new(&[3; 10]);
        let mut rng = chunk_rng(0, 0, 0);
        for need in 1..50 {
            assert_eq!(
                t.days_to_reach(&mut rng, need, 100),
                Some(need.div_ceil(3) as u32)
            );
            assert_eq!(t.sum_of_days(&mut rng, need as u32), 3 * need);
        }
        assert_eq!(t.days_to_reach(&mut rng, 31, 10), None);
    }
}
