"""Shared fixture: one lake built by the real `flowlake demo` binary for every interop test."""

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / "target" / "debug" / "flowlake"


@pytest.fixture(scope="session")
def lake(tmp_path_factory):
    assert BIN.exists(), f"{BIN} missing: run `cargo build -p flowlake-cli` (make test does)"
    path = tmp_path_factory.mktemp("interop") / "lake"
    subprocess.run([str(BIN), "demo", "--lake", str(path), "--json"], check=True, capture_output=True)
    return path


def flowlake_sql(lake: Path, sql: str):
    out = subprocess.run(
        [str(BIN), "sql", "--lake", str(lake), "--format", "json", "-e", sql],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)
