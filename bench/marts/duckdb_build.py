#!/usr/bin/env python3
"""Build flowlake's marts with DuckDB over the same raw Parquet files, time it, and check the
result row for row against the marts flowlake wrote.

The DuckDB models are a mechanical translation of `sql/` (see `translate`): the two dialects
share almost everything the models use (quantile_cont, string_agg ... order
by, date_trunc, date_part('epoch', ...), greatest/least, interval arithmetic); only the regex
predicate is spelled differently. `--write-translation DIR` writes the translated models out
for reading.

    python3 bench/marts/duckdb_build.py --lake ./lake                 # build + time + check
    python3 bench/marts/duckdb_build.py --lake ./lake --no-check      # build + time only

Exit status: 0 when every compared mart matches (or --no-check), 1 on a mismatch, 2 on a
usage error. Needs `pip install duckdb pyarrow`. DuckDB reads local files only here (no
httpfs), so the lake must be a folder.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]

# Mirrors crates/marts/src/raw.rs (the contract of docs/raw-zone.md).
S, I, B, T, F = "VARCHAR", "BIGINT", "BOOLEAN", "TIMESTAMPTZ", "DOUBLE"
RAW_TABLES = {
    "raw/github/pull_requests": [
        ("repo", S), ("pr_id", S), ("number", I), ("title", S), ("state", S), ("is_draft", B),
        ("author_login", S), ("author_type", S), ("created_at", T), ("updated_at", T),
        ("closed_at", T), ("merged_at", T), ("merge_commit_sha", S), ("base_ref", S),
        ("head_ref", S), ("additions", I), ("deletions", I), ("changed_files", I), ("labels", S),
        ("commits_total", I), ("reviews_total", I), ("deleted_at", T)],
    "raw/github/pull_request_commits": [
        ("repo", S), ("pr_number", I), ("sha", S), ("authored_at", T), ("committed_at", T),
        ("author_name", S), ("author_email", S), ("author_login", S), ("message", S),
        ("additions", I), ("deletions", I)],
    "raw/github/pull_request_reviews": [
        ("repo", S), ("pr_number", I), ("review_id", S), ("reviewer_login", S),
        ("reviewer_type", S), ("state", S), ("submitted_at", T), ("comments_total", I)],
    "raw/github/commits": [
        ("repo", S), ("sha", S), ("committed_at", T), ("authored_at", T), ("author_name", S),
        ("author_email", S), ("author_login", S), ("message", S), ("parents", I)],
    "raw/github/deployments": [
        ("repo", S), ("deployment_id", S), ("database_id", I), ("sha", S), ("environment", S),
        ("task", S), ("ref_name", S), ("created_at", T), ("updated_at", T), ("state", S),
        ("finished_at", T), ("creator_login", S)],
    "raw/github/workflow_runs": [
        ("repo", S), ("run_id", I), ("workflow_id", I), ("name", S), ("path", S), ("event", S),
        ("head_branch", S), ("head_sha", S), ("status", S), ("conclusion", S),
        ("run_attempt", I), ("run_number", I), ("created_at", T), ("updated_at", T),
        ("run_started_at", T)],
    "raw/github/releases": [
        ("repo", S), ("release_id", I), ("tag_name", S), ("name", S), ("target_commitish", S),
        ("is_draft", B), ("is_prerelease", B), ("created_at", T), ("published_at", T),
        ("author_login", S)],
    "raw/github/issues": [
        ("repo", S), ("issue_id", I), ("number", I), ("title", S), ("state", S), ("labels", S),
        ("author_login", S), ("created_at", T), ("updated_at", T), ("closed_at", T)],
    "raw/events/deployments": [
        ("source", S), ("deployment_id", S), ("service", S), ("environment", S), ("sha", S),
        ("status", S), ("started_at", T), ("finished_at", T)],
    "raw/events/incidents": [
        ("source", S), ("incident_id", S), ("service", S), ("title", S), ("opened_at", T),
        ("resolved_at", T), ("severity", S)],
    "raw/jira/issues": [
        ("issue_id", S), ("issue_key", S), ("project_key", S), ("issue_type", S), ("summary", S),
        ("status", S), ("status_id", S), ("status_category", S), ("priority", S),
        ("created_at", T), ("updated_at", T), ("resolution_date", T), ("story_points", F),
        ("epic_key", S), ("parent_key", S), ("sprint_id", I), ("sprint_ids", S),
        ("assignee_account_id", S), ("assignee_name", S), ("assignee_email", S),
        ("reporter_account_id", S), ("labels", S), ("components", S), ("fix_versions", S),
        ("changelog_total", I), ("deleted_at", T), ("deleted_reason", S)],
    "raw/jira/changelog_items": [
        ("issue_id", S), ("issue_key", S), ("changelog_id", S), ("item_index", I),
        ("created_at", T), ("author_account_id", S), ("field", S), ("field_id", S),
        ("field_type", S), ("from_value", S), ("from_string", S), ("to_value", S),
        ("to_string", S)],
    "raw/jira/sprints": [
        ("sprint_id", I), ("board_id", I), ("origin_board_id", I), ("name", S), ("state", S),
        ("start_date", T), ("end_date", T), ("complete_date", T), ("goal", S)],
    "raw/jira/boards": [("board_id", I), ("name", S), ("board_type", S), ("project_key", S)],
    "raw/jira/statuses": [("status_id", S), ("name", S), ("category_key", S)],
}

# Defaults of flowlake_marts::MartsConfig.
CONFIG = {
    "production_env_regex": ("'^(prod|production)$'", S),
    "deploy_workflow_regex": ("'(?i)deploy'", S),
    "releases_are_deploys": ("false", B),
    "hotfix_regex": ("'(?i)(hotfix|revert)'", S),
    "incident_label": ("'incident'", S),
    "incident_window_h": ("72.0", "DOUBLE"),
    "dora_bands_version": ("'2023'", S),
    "stale_percentile": ("0.85", "DOUBLE"),
}

COMPARED = ["mart_dora", "fct_pull_requests", "fct_deployments", "fct_incidents", "dim_people",
            "mart_developer_weekly"]


def raw_name(rel: str) -> str:
    return "raw_" + rel[len("raw/"):].replace("/", "_")


def translate(sql: str) -> str:
    """DataFusion SQL -> DuckDB SQL for the constructs sql/ uses."""
    # regexp_like(text, pattern) is regexp_matches(text, pattern) in DuckDB (RE2, which also
    # understands the (?i) flag the default patterns use).
    sql = re.sub(r"\bregexp_like\s*\(", "regexp_matches(", sql)
    sql = re.sub(r"\bmake_array\s*\(", "list_value(", sql)
    # DuckDB's quantile takes a constant fraction: the config's stale_percentile is inlined
    # (the peer runs with the default config).
    return re.sub(
        r"quantile_cont\(([^,()]+),\s*c\.stale_percentile\)",
        lambda m: f"quantile_cont({m.group(1)}, {CONFIG['stale_percentile'][0]})",
        sql,
    )


def layer(name: str) -> str | None:
    if name.startswith("stg_"):
        return "staging"
    if name.startswith("int_"):
        return "intermediate"
    if name.startswith(("fct_", "dim_", "mart_")):
        return "mart"
    return None


def strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def reads(sql: str) -> set[str]:
    body = strip_comments(sql).lower()
    ctes = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s+as\s*\(", body))
    tables = set(re.findall(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)", body))
    return tables - ctes


def discover(sql_dir: Path) -> list[tuple[str, str, str]]:
    """(name, layer, sql) of every model, dependencies first (same rule as flowlake)."""
    models = {}
    for path in sorted(sql_dir.rglob("*.sql")):
        name = path.stem.lower()
        if layer(name) is None:
            continue
        models[name] = path.read_text()
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, stack: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise SystemExit("cycle: " + " -> ".join(stack + [name]))
        state[name] = "visiting"
        for dep in sorted(reads(models[name])):
            if dep in models:
                visit(dep, stack + [name])
        state[name] = "done"
        order.append(name)

    rank = {"staging": 0, "intermediate": 1, "mart": 2}
    for name in sorted(models, key=lambda n: (rank[layer(n)], n)):
        visit(name, [])
    return [(n, layer(n), models[n]) for n in order]


def arrow_table(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query's result as a pyarrow Table, across DuckDB versions."""
    result = con.sql(sql)
    for method in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        if hasattr(result, method):
            table = getattr(result, method)()
            return table.read_all() if isinstance(table, pa.RecordBatchReader) else table
    raise RuntimeError("this duckdb cannot return Arrow tables")


def register_raw(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    for rel, columns in RAW_TABLES.items():
        cols = [("workspace", S), *columns, ("_run_id", S), ("_ingested_at", T)]
        folder = lake / rel
        files = glob.glob(str(folder / "**" / "*.parquet"), recursive=True)
        name = raw_name(rel)
        if files:
            select = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in cols)
            con.execute(
                f"create view {name} as select {select}, cast(ingest_date as varchar) as ingest_date "
                f"from read_parquet('{folder}/**/*.parquet', hive_partitioning = true, "
                f"union_by_name = true, hive_types = {{'ingest_date': VARCHAR}})"
            )
        else:
            ddl = ", ".join(f'"{c}" {t}' for c, t in cols)
            con.execute(f"create table {name} ({ddl}, ingest_date VARCHAR)")


def register_config(con: duckdb.DuckDBPyConnection) -> None:
    select = ", ".join(f"cast({v} as {t}) as {k}" for k, (v, t) in CONFIG.items())
    con.execute(f"create table flowlake_config as select {select}")
    con.execute("create table flowlake_teams (kind VARCHAR, name VARCHAR, team VARCHAR)")
    con.execute(
        "create table flowlake_identity_aliases (person VARCHAR, kind VARCHAR, value VARCHAR)"
    )
    # Defaults of flowlake_marts::FlowConfig.
    con.execute(
        "create table flowlake_flow_config as select "
        "cast('(?i)^(blocked|on hold|waiting( .*)?)$' as VARCHAR) as waiting_status_regex, "
        "cast(null as DOUBLE) as cycle_time_window_d, cast(null as TIMESTAMPTZ) as as_of"
    )
    con.execute(
        "create table flowlake_status_overrides (status_name VARCHAR, status_category VARCHAR)"
    )


def normalise(table: pa.Table) -> tuple[list[str], list[tuple]]:
    """Column names and rows with timestamps as epoch microseconds (no pytz needed)."""
    names = table.column_names
    columns = []
    for name in names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = pc.cast(col.cast(pa.timestamp("us", tz="UTC")), pa.int64())
        elif pa.types.is_integer(col.type) or pa.types.is_decimal(col.type):
            col = col.cast(pa.float64()) if pa.types.is_decimal(col.type) else col.cast(pa.int64())
        elif pa.types.is_large_string(col.type) or pa.types.is_string_view(col.type):
            col = col.cast(pa.string())
        columns.append(col.to_pylist())
    return names, list(zip(*columns)) if columns else []


def sort_key(row: tuple) -> tuple:
    return tuple(
        (0, 0) if v is None else (1, round(v, 4) if isinstance(v, float) else v) for v in row
    )


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6)
    return a == b


def compare(model: str, flowlake: pa.Table, duck: pa.Table) -> list[str]:
    fl_names, fl_rows = normalise(flowlake)
    dk_names, dk_rows = normalise(duck)
    if fl_names != dk_names:
        return [f"{model}: columns differ\n  flowlake {fl_names}\n  duckdb   {dk_names}"]
    problems = []
    if len(fl_rows) != len(dk_rows):
        problems.append(f"{model}: {len(fl_rows)} rows in flowlake, {len(dk_rows)} in duckdb")
    for i, (x, y) in enumerate(zip(sorted(fl_rows, key=sort_key), sorted(dk_rows, key=sort_key))):
        bad = [n for n, a, b in zip(fl_names, x, y) if not same(a, b)]
        if bad:
            problems.append(f"{model}: row {i} differs in {bad}\n  flowlake {x}\n  duckdb   {y}")
            if len(problems) > 5:
                break
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake", required=True, type=Path, help="lake folder (holds raw/ and marts/)")
    parser.add_argument("--sql-dir", type=Path, default=REPO / "sql")
    parser.add_argument("--out", type=Path, default=REPO / "bench/marts/results/duckdb.json")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-check", action="store_true", help="skip the comparison with flowlake's marts")
    parser.add_argument("--write-translation", type=Path, help="write the DuckDB models here")
    args = parser.parse_args()
    if not (args.lake / "raw").is_dir():
        print(f"duckdb_build: no raw/ folder under {args.lake}", file=sys.stderr)
        return 2

    models = discover(args.sql_dir)
    if args.write_translation:
        for name, lyr, sql in models:
            target = args.write_translation / lyr / f"{name}.sql"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(translate(sql))

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set threads = {args.threads}")
    started = time.perf_counter()
    register_raw(con, args.lake)
    register_config(con)
    timings = []
    for name, lyr, sql in models:
        t0 = time.perf_counter()
        # Like `flowlake build`: every model is computed once (staging and intermediate kept in
        # memory, marts materialized).
        con.execute(f"create table {name} as {translate(sql)}")
        rows = con.execute(f"select count(*) from {name}").fetchall()[0][0]
        timings.append({"model": name, "layer": lyr, "rows": rows,
                        "seconds": round(time.perf_counter() - t0, 4)})
    total = time.perf_counter() - started
    print(f"duckdb {duckdb.__version__}: {len(models)} models in {total:.3f} s ({args.threads} threads)")
    for t in timings:
        print(f"  {t['model']:<36} {t['rows']:>9} rows {t['seconds']:>8.3f} s")

    problems: list[str] = []
    compared = []
    if not args.no_check:
        for model in COMPARED:
            path = args.lake / "marts" / model / "data.parquet"
            if not path.is_file():
                problems.append(f"{model}: {path} not found (run `flowlake build` first)")
                continue
            duck = arrow_table(con, f"select * from {model}")
            found = compare(model, pq.read_table(path), duck)
            compared.append({"model": model, "rows": duck.num_rows, "equal": not found})
            problems.extend(found)
        for p in problems:
            print(p, file=sys.stderr)
        print("equal: " + ("yes" if not problems else "NO") + f" ({len(compared)} marts compared)")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "engine": "duckdb", "version": duckdb.__version__, "threads": args.threads,
        "lake": str(args.lake), "seconds": round(total, 4), "models": timings,
        "compared": compared, "equal": None if args.no_check else not problems,
    }, indent=2) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
