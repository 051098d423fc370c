# flowlake — thin targets; CI runs the same ones (`.ci/run` calls `make test`).
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO      ?= cargo
TOOLS      := $(CURDIR)/.tools
VENV       := $(CURDIR)/.venv
PY         := $(VENV)/bin/python
S3S_FS     := $(TOOLS)/bin/s3s-fs
DEMO_LAKE  ?= ./lake
export S3S_FS_BIN := $(S3S_FS)
export FLOWLAKE_PYTHON := $(PY)

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

build: ## Build the flowlake binary (dev profile)

# The demo runs the dev build that `make test` shares (a small org takes seconds even
# unoptimised); `make bench` builds the optimised `demo` profile for fair timings.
demo: ## Simulated org → real connector → local lake → marts → DORA summary (no credentials)
	$(CARGO) build -p flowlake-cli
	./target/debug/flowlake demo --lake $(DEMO_LAKE)
	@echo
	./target/debug/flowlake sql --lake $(DEMO_LAKE) -e "select grain, period_start, scope, deployments, lead_time_p50_h from mart_dora where scope_type = 'org' order by grain, period_start desc limit 5"

$(S3S_FS):
	@echo "installing s3s-fs (a real S3-compatible server) into $(TOOLS)"
	$(CARGO) install s3s-fs --version 0.14.1 --locked --features binary --root $(TOOLS)

$(VENV)/.installed: tests/python/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
	touch $@

tools: $(S3S_FS) $(VENV)/.installed ## Install test tools: s3s-fs, Python (duckdb, polars, pyarrow, pytest)

test: tools ## Install what tests need, then run every test (Rust and Python interop)
	$(CARGO) nextest run --workspace --no-fail-fast
	$(CARGO) test --workspace --doc --quiet
	$(PY) -m pytest -q tests/python
	$(MAKE) --no-print-directory check-features

lint: ## rustfmt, clippy (warnings are errors), and no SQL in Rust strings outside tests
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	scripts/no-sql-in-rust.sh

deps-check: ## Arrows point down: forecast pulls no datafusion, connectors no marts
	@! $(CARGO) tree -p flowlake-forecast --edges normal | grep -qE 'datafusion|object_store|tokio ' || (echo "flowlake-forecast must stay pure"; exit 1)
	@! $(CARGO) tree -p flowlake-github --edges normal | grep -q 'flowlake-marts' || (echo "connectors must not depend on marts"; exit 1)
	@! $(CARGO) tree -p flowlake-sim --edges normal | grep -qE 'flowlake-(github|lake|marts)' || (echo "sim must not depend on connectors"; exit 1)
	@echo "crate arrows ok"

bench: $(VENV)/.installed ## Benchmarks: connector requests, ingest throughput, build vs DuckDB, forecast vs NumPy, forecast coverage on pathological histories
	$(CARGO) build --profile demo -p flowlake-cli
	./target/demo/flowlake bench --scale medium --python $(PY)
	CARGO_PROFILE=demo bench/forecast/run.sh
	$(CARGO) run --quiet --profile demo -p flowlake-forecast --example scenario_study -- 8 \
	  plain bulk change-point weekdays auto-window calibrate detectors all-no-cp all-no-auto all

clean: ## Remove build output, tools and the demo lake
	rm -rf target $(TOOLS) $(VENV) lake

.PHONY: help build demo tools test lint deps-check bench clean

# `--no-default-features` leaves the simulator (flowlake-sim, axum) out of the binary. Built in
# its own target dir so the target/debug/flowlake that tests and `make demo` run stays whole.
NODEMO_BIN := target/nodemo/debug/flowlake
check-features: ## Without the `demo` feature: no simulator, no `sim`; `demo`, `bench`, `sim` exit 2 naming the feature
	$(CARGO) build -p flowlake-cli --no-default-features --target-dir target/nodemo
	@if $(CARGO) tree -p flowlake-cli --no-default-features --edges normal | grep -E 'flowlake-sim|axum'; then \
	  echo "flowlake-cli --no-default-features still pulls in the simulator"; exit 1; fi
	@if $(NODEMO_BIN) --help | grep -E '^  sim '; then echo "--help lists sim without the demo feature"; exit 1; fi
	@for c in demo bench sim; do \
	  out=$$($(NODEMO_BIN) $$c --lake memory:// 2>&1); code=$$?; \
	  if [ $$code -ne 2 ] || ! grep -qF 'built without the `demo` feature' <<<"$$out"; then \
	    echo "flowlake $$c without the demo feature: exit $$code, $$out"; exit 1; fi; \
	done
	@echo "features ok: without \`demo\` no flowlake-sim or axum, no \`sim\`; demo, bench and sim exit 2 naming the feature"

.PHONY: check-features
