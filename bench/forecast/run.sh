#!/usr/bin/env bash
# Forecast bench: flowlake's Monte Carlo against a vectorised NumPy peer, same question
# (200 items, 90-day history), same trial count, in the same run.
# Usage: bench/forecast/run.sh [TRIALS]   (default 10000)
set -euo pipefail
cd "$(dirname "$0")/../.."
trials="${1:-10000}"

PY="${FLOWLAKE_PYTHON:-python3}"
"$PY" -c "import numpy" 2>/dev/null || "$PY" -m pip install --quiet numpy

rust_json="$(cargo run --quiet -p flowlake-forecast --example forecast_bench --profile demo -- "$trials")"
numpy_json="$("$PY" bench/forecast/numpy_when.py "$trials")"
echo "$rust_json"
echo "$numpy_json"

"$PY" - "$rust_json" "$numpy_json" <<'PY'
import json, sys
rust, numpy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ratio = rust["trials_per_sec_per_core"] / numpy["trials_per_sec"]
print(json.dumps({
    "bench": "forecast_speedup",
    "trials": rust["trials"],
    "flowlake_trials_per_sec_per_core": rust["trials_per_sec_per_core"],
    "numpy_trials_per_sec": numpy["trials_per_sec"],
    "speedup": round(ratio, 1),
    "exact_ms": rust["exact_ms"],
}))
PY
