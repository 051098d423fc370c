"""The marts are plain Parquet that DuckDB, Polars and pyarrow read, with the same rows that
`flowlake sql` returns; the notebooks run against them."""

import json
import os
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from conftest import REPO, flowlake_sql

MARTS = ["dim_people", "fct_pull_requests", "fct_deployments", "fct_incidents", "mart_dora", "mart_developer_weekly"]


@pytest.mark.parametrize("mart", MARTS)
def test_readers_agree_with_flowlake_sql(lake, mart):
    path = lake / "marts" / mart / "data.parquet"
    n_flowlake = flowlake_sql(lake, f"select count(*) as n from {mart}")[0]["n"]
    n_duckdb = duckdb.sql(f"select count(*) from '{path}'").fetchone()[0]
    n_polars = pl.read_parquet(path).height
    n_arrow = pq.read_table(path).num_rows
    assert n_flowlake == n_duckdb == n_polars == n_arrow
    assert n_flowlake > 0 or mart == "fct_incidents"


def test_timestamps_are_utc_and_columns_match_the_contract(lake):
    prs = pl.read_parquet(lake / "marts" / "fct_pull_requests" / "data.parquet")
    for col in ["pr_key", "repo", "number", "author_person_id", "team", "created_at", "first_commit_at",
                "first_review_at", "approved_at", "merged_at", "closed_at", "deployed_at", "additions",
                "deletions", "reviews", "coding_time_h", "pickup_time_h", "review_time_h", "deploy_time_h",
                "cycle_time_h", "state", "workspace"]:
        assert col in prs.columns, col
    assert str(prs.schema["created_at"].time_zone) == "UTC"
    dora = duckdb.sql(f"select * from '{lake}/marts/mart_dora/data.parquet'").pl()
    assert set(dora["grain"].unique()) == {"week", "month"}
    assert set(dora["scope_type"].unique()) >= {"org", "repo"}


def test_org_deployments_match_a_duckdb_recount(lake):
    """mart_dora's org-level monthly deployment counts, recomputed by DuckDB from fct_deployments."""
    d = f"{lake}/marts"
    mismatches = duckdb.sql(f"""
        with recount as (
            select date_trunc('month', finished_at at time zone 'UTC') as m, count(*) as n
            from '{d}/fct_deployments/data.parquet' where status = 'success' group by 1
        )
        select r.m, r.n, x.deployments
        from recount r join '{d}/mart_dora/data.parquet' x
          on x.grain = 'month' and x.scope_type = 'org'
         and date_trunc('month', x.period_start at time zone 'UTC') = r.m
        where r.n <> x.deployments
    """).fetchall()
    assert mismatches == []


def test_notebooks_run_against_the_lake(lake, monkeypatch):
    monkeypatch.setenv("FLOWLAKE_LAKE", str(lake))
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert notebooks
    for nb_path in notebooks:
        nb = json.loads(nb_path.read_text())
        scope: dict = {}
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                code = "".join(cell["source"])
                exec(compile(code, f"{nb_path.name}", "exec"), scope)
        # Notebooks read marts only: a column they need belongs in a mart.
        text = nb_path.read_text()
        assert "raw/" not in text and "stg_" not in text, nb_path
