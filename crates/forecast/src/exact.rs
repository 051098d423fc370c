//! Exact mode: the distributions the simulation estimates, by convolution.
//!
//! Daily throughputs are independent draws from the empirical distribution of the window's
//! working days, so the total after k working days is the k-fold convolution of that
//! distribution. "When" keeps only the not-yet-done mass (totals below N) and moves the rest
//! into "done on day k"; "how many" convolves without truncation.

/// Below this much mass left undone, "when" stops: the tail can't move any percentile.
const TAIL: f64 = 1e-12;

/// The empirical pmf as `(value, probability)` pairs of the distinct values.
pub(crate) fn pmf(values: &[u32]) -> Vec<(usize, f64)> {
    let max = values.iter().copied().max().unwrap_or(0) as usize;
    let mut counts = vec![0u64; max + 1];
    for &v in values {
        counts[v as usize] += 1;
    }
    let n = values.len() as f64;
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(v, &c)| (v, c as f64 / n))
        .collect()
}

/// P(done on working day k) for k = 0.. (entry 0 is 0), or `None` if more than `TAIL` of
/// the mass is still undone after `max_days` working days.
pub(crate) fn when(values: &[u32], need: u64, max_days: u32) -> Option<Vec<f64>> {
    let max = u64::from(values.iter().copied().max().unwrap_or(0));
    if need > max.saturating_mul(u64::from(max_days)) {
        // Not reachable even at the best day every day; also keeps `alive` small.
        return None;
    }
    let pmf = pmf(values);
    let need = need as usize;
    let mut alive = vec![0.0; need];
    alive[0] = 1.0;
    let mut next = vec![0.0; need];
    let mut out = vec![0.0];
    let mut left = 1.0;
    for _ in 0..max_days {
        next.iter_mut().for_each(|x| *x = 0.0);
        let mut finished = 0.0;
        for &(v, p) in &pmf {
            if v >= need {
                finished += p * left;
                continue;
            }
            let cut = need - v;
            // Totals s < cut stay undone at s + v; totals s >= cut finish today.
            for (dst, &src) in next[v..].iter_mut().zip(&alive[..cut]) {
                *dst += src * p;
            }
            finished += p * alive[cut..].iter().sum::<f64>();
        }
        std::mem::swap(&mut alive, &mut next);
        out.push(finished);
        left = alive.iter().sum();
        if left < TAIL {
            return Some(out);
        }
    }
    None
}

/// P(total of `days` working days = x) for x = 0..
pub(crate) fn how_many(values: &[u32], days: u32) -> Vec<f64> {
    let pmf = pmf(values);
    let max = pmf.last().map_or(0, |&(v, _)| v);
    let mut dist = vec![1.0];
    for _ in 0..days {
        let mut next = vec![0.0; dist.len() + max];
        for &(v, p) in &pmf {
            for (dst, &src) in next[v..].iter_mut().zip(&dist) {
                *dst += src * p;
            }
        }
        dist = next;
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coin_flips() {
        // Half the days finish one item: done with 1 item on day k with P = 2^-k.
        let w = when(&[0, 1], 1, 200).unwrap();
        assert!((w[1] - 0.5).abs() < 1e-15 && (w[3] - 0.125).abs() < 1e-15);
        let h = how_many(&[0, 1], 2);
        assert_eq!(h, vec![0.25, 0.5, 0.25]);
    }

    #[test]
    fn horizon_is_bounded() {
        let v: Vec<u32> = std::iter::once(1)
            .chain(std::iter::repeat_n(0, 999))
            .collect();
        assert!(when(&v, 100, 50).is_none());
        assert!(when(&[1, 2], u64::MAX / 2, 3653).is_none());
    }
}
