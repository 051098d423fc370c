//! Detectors for what real throughput histories do that independent daily draws do not:
//! bulk clean-up days, regime changes and weekday-only work. Pure functions over counts, so
//! each is unit-tested on constructed series.

/// The count above which a day is a bulk clean-up: `max(min_items, factor × p90)`, where p90
/// is the 90th percentile of the days that finished anything. Clean-up days are rare, so they
/// barely move the 90th percentile; a team that closes a batch every week sets its own p90.
pub(crate) fn bulk_threshold(counts: &[u64], factor: f64, min_items: u64) -> u64 {
    let mut non_zero: Vec<u64> = counts.iter().copied().filter(|&c| c > 0).collect();
    if non_zero.is_empty() {
        return min_items.max(1);
    }
    non_zero.sort_unstable();
    // Nearest-rank percentile.
    let rank = ((0.9 * non_zero.len() as f64).ceil() as usize).clamp(1, non_zero.len());
    let p90 = non_zero[rank - 1] as f64;
    min_items.max((factor * p90).ceil() as u64)
}

/// Pettitt's test for one change in location (A. N. Pettitt, "A non-parametric approach to
/// the change-point problem", Applied Statistics 28(2), 1979).
///
/// `U_t = Σ_{i≤t} Σ_{j>t} sgn(x_i − x_j)`, computed with mid-ranks as `Σ_{i≤t} (2 R_i − n − 1)`;
/// the statistic is `K = max |U_t|` and its approximate two-sided p-value
/// `p ≈ 2 exp(−6 K² / (n³ + n²))`. Ties (many zero days) only make that approximation
/// conservative. Returns `(t, p)`: the change happens after index `t` (0-based: `x[..=t]` is
/// the first regime), or `None` for fewer than 3 values.
pub(crate) fn pettitt(xs: &[f64]) -> Option<(usize, f64)> {
    let n = xs.len();
    if n < 3 {
        return None;
    }
    let ranks = mid_ranks(xs);
    let mut u = 0.0f64;
    let mut best = (0usize, 0.0f64);
    // The last index is excluded: U_n is 0 by construction.
    for (t, r) in ranks.iter().enumerate().take(n - 1) {
        u += 2.0 * r - n as f64 - 1.0;
        if u.abs() > best.1 {
            best = (t, u.abs());
        }
    }
    let n = n as f64;
    let p = (2.0 * (-6.0 * best.1 * best.1 / (n.powi(3) + n.powi(2))).exp()).min(1.0);
    Some((best.0, p))
}

/// 1-based mid-ranks: tied values share the mean of the ranks they span.
fn mid_ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut ranks = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = mid;
        }
        i = j + 1;
    }
    ranks
}

/// The start (an index into `xs`) of the current regime: Pettitt's test applied again to the
/// part after each significant change (binary segmentation towards the present), stopping
/// when the test is no longer significant at `alpha` or the part after a change would be
/// shorter than `min_len`. `None` when the whole series is one regime.
pub(crate) fn current_regime_start(xs: &[f64], alpha: f64, min_len: usize) -> Option<usize> {
    let mut from = 0usize;
    let mut found = None;
    loop {
        let part = &xs[from..];
        if part.len() < 2 * min_len.max(2) {
            return found;
        }
        match pettitt(part) {
            Some((t, p)) if p < alpha && part.len() - (t + 1) >= min_len => {
                from += t + 1;
                found = Some(from);
            }
            _ => return found,
        }
    }
}

/// Whether the days look like weekday-only work: at least `min_items` items in all, of which
/// at most `max_weekend_share` were done on Saturdays and Sundays. `is_weekend` says which of
/// the counts fell on a weekend.
pub(crate) fn weekday_only(
    counts: impl IntoIterator<Item = (bool, u64)>,
    max_weekend_share: f64,
    min_items: u64,
) -> bool {
    let (mut weekend, mut total) = (0u64, 0u64);
    for (is_weekend, c) in counts {
        total += c;
        if is_weekend {
            weekend += c;
        }
    }
    total >= min_items && (weekend as f64) <= max_weekend_share * total as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn bulk_threshold_is_a_multiple_of_p90_with_a_floor() {
        let mut counts = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(bulk_threshold(&counts, 5.0, 20), 45); // p90 of 1..=10 is 9
        counts.push(400); // one clean-up day barely moves p90
        assert_eq!(bulk_threshold(&counts, 5.0, 20), 50);
        assert_eq!(bulk_threshold(&[0, 1, 1, 0], 5.0, 20), 20);
        assert_eq!(bulk_threshold(&[0, 0], 5.0, 20), 20);
    }

    #[test]
    fn pettitt_matches_a_hand_computed_case() {
        // x = 1 2 3 | 10 11 12: ranks 1..6, U_t = Σ (2r − 7) = −5, −8, −9, −6, −1; K = 9 at t=2.
        let (t, p) = pettitt(&[1.0, 2.0, 3.0, 10.0, 11.0, 12.0]).unwrap();
        assert_eq!(t, 2);
        let expected = 2.0 * (-6.0 * 81.0 / (216.0 + 36.0_f64)).exp();
        assert!((p - expected).abs() < 1e-12, "{p}");
        assert!(pettitt(&[1.0, 2.0]).is_none());
    }

    #[test]
    fn mid_ranks_share_ties() {
        assert_eq!(mid_ranks(&[0.0, 5.0, 0.0, 1.0]), vec![1.5, 4.0, 1.5, 3.0]);
    }

    #[test]
    fn weekday_only_needs_items_and_a_quiet_weekend() {
        let week = |sat: u64| [(false, 5), (false, 5), (true, sat), (true, 0)];
        assert!(weekday_only(week(0).repeat(3), 0.02, 20));
        assert!(!weekday_only(week(3).repeat(3), 0.02, 20));
        assert!(!weekday_only(week(0), 0.02, 20)); // 10 items: too few to tell
    }

    #[test]
    fn regime_start_is_found_for_a_step_and_not_for_noise() {
        let mut rng = StdRng::seed_from_u64(1);
        let noise = |rng: &mut StdRng, mean: f64| -> f64 {
            f64::from((0..8).filter(|_| rng.random_bool(mean / 8.0)).count() as u32)
        };
        let series: Vec<f64> = (0..200)
            .map(|i| noise(&mut rng, if i < 120 { 4.0 } else { 1.0 }))
            .collect();
        let start = current_regime_start(&series, 0.01, 20).unwrap();
        assert!((113..=127).contains(&start), "{start}");
        let flat: Vec<f64> = (0..200).map(|_| noise(&mut rng, 3.0)).collect();
        assert_eq!(current_regime_start(&flat, 0.01, 20), None);
    }
}
