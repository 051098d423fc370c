#!/usr/bin/env python3
"""NumPy peer of `forecast_bench`: the same "when will 200 items be done?" Monte Carlo.

A straightforward vectorised implementation: draw a (trials x horizon) matrix of daily
throughputs from the 90-day history, cumulative-sum along the days, and count the days before
the backlog is reached. Prints one JSON line with trials/s (NumPy runs on one core).

Usage: python3 numpy_when.py [TRIALS]
"""

import json
import sys
import time

import numpy as np

# The bench history, as in crates/forecast/examples/forecast_bench.rs.
PATTERN = [0, 1, 3, 2, 0, 5, 2, 1, 4, 0, 2, 3, 1, 6, 0]
DAYS = 90
ITEMS = 200


def simulate(history: np.ndarray, items: int, trials: int, rng: np.random.Generator) -> np.ndarray:
    """Days to finish `items` in each trial (day 1 = the start date)."""
    horizon = int(np.ceil(3 * items / history.mean())) + 10
    draws = history[rng.integers(0, history.size, size=(trials, horizon))]
    done = draws.cumsum(axis=1)
    days = (done < items).sum(axis=1) + 1
    if (done[:, -1] < items).any():
        raise RuntimeError("horizon too short")
    return days


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    history = np.resize(np.array(PATTERN, dtype=np.int32), DAYS)
    rng = np.random.default_rng(1)
    simulate(history, ITEMS, trials, rng)  # warm up
    runs = []
    started = time.perf_counter()
    while len(runs) < 5 or (time.perf_counter() - started < 2.0 and len(runs) < 1000):
        t = time.perf_counter()
        days = simulate(history, ITEMS, trials, rng)
        runs.append(time.perf_counter() - t)
    seconds = sorted(runs)[len(runs) // 2]
    print(json.dumps({
        "bench": "numpy_when",
        "numpy": np.__version__,
        "history_days": DAYS,
        "items": ITEMS,
        "trials": trials,
        "sim_ms": round(seconds * 1e3, 3),
        "trials_per_sec": round(trials / seconds),
        "p85_days": int(np.percentile(days, 85, method="inverted_cdf")),
    }))


if __name__ == "__main__":
    main()
