"""Every run manifest the demo leaves validates against the documented JSON Schema
(docs/run-manifest.schema.json, generated from the Rust type and checked for drift by
`cargo test -p flowlake-lake`), and the published-build pointer names every mart."""

import json
from pathlib import Path

import jsonschema

REPO = Path(__file__).resolve().parents[2]


def test_manifests_validate_against_the_documented_schema(lake):
    schema = json.loads((REPO / "docs" / "run-manifest.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    manifests = sorted((lake / "runs").glob("*.json"))
    assert len(manifests) >= 3, manifests  # ingest github, ingest jira, build
    commands = set()
    for path in manifests:
        doc = json.loads(path.read_text())
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{path.name}: {[e.message for e in errors]}"
        assert doc["run_id"] == path.stem
        assert doc["outcome"] == "succeeded"
        assert doc["config_hash"] and doc["version"] and doc["host"]
        commands.add(doc["command"])
    assert commands == {"demo", "build"}, commands
    # A manifest missing a required field does not validate: the check can fail.
    broken = json.loads(manifests[0].read_text())
    del broken["run_id"]
    assert list(validator.iter_errors(broken))


def test_the_pointer_names_every_published_mart(lake):
    pointer = json.loads((lake / "marts" / "_current.json").read_text())
    names = {m["name"] for m in pointer["marts"]}
    plain = {p.parent.name for p in (lake / "marts").glob("*/data.parquet")}
    assert names == plain, (names ^ plain)
    for m in pointer["marts"]:
        assert (lake / m["path"]).is_file()
        assert m["path"].startswith(f"marts/_builds/{pointer['build_id']}/")
