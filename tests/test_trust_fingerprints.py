"""Issue 10, fingerprints and SARIF correctness: no two results share a fingerprint (a module
file instantiated by two root modules gives each instance its own), fingerprints survive line
moves, and every SARIF result is schema-valid and obeys SARIF 2.1.0 3.27.10 (level "none"
exactly when kind is not "fail")."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app

from conftest import CORPUS
from test_sarif import assert_schema_valid

runner = CliRunner()

MODULE = """\
variable "name" {
  type = string
}

resource "aws_backup_vault" "this" {
  name = var.name
}
"""

CALLER = """\
module "vault" {{
  source = "../../modules/vault"
  name   = "{name}"
}}
"""


def _lint(tmp_path: Path, monkeypatch, fmt: str, *paths: str) -> dict:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / f"out.{fmt}"
    outcome = runner.invoke(app, ["lint", *paths, "--format", fmt, "-o", str(out)])
    assert outcome.exit_code in (0, 1, 2), outcome.output
    return json.loads(out.read_text(encoding="utf-8"))


def _shared(results: list[dict]) -> list[list[dict]]:
    groups = collections.defaultdict(list)
    for r in results:
        groups[r["fingerprint"]].append(r)
    return [g for g in groups.values() if len(g) > 1]


def _two_callers(root: Path, prefix: str = "") -> None:
    (root / "modules" / "vault").mkdir(parents=True)
    (root / "modules" / "vault" / "main.tf").write_text(prefix + MODULE, encoding="utf-8")
    for env in ("dev", "prod"):
        (root / "envs" / env).mkdir(parents=True)
        (root / "envs" / env / "main.tf").write_text(CALLER.format(name=f"{env}-vault"), encoding="utf-8")


def test_two_callers_of_one_module_get_distinct_fingerprints(tmp_path, monkeypatch):
    _two_callers(tmp_path)
    results = _lint(tmp_path, monkeypatch, "json", ".")["results"]
    vaults = [r for r in results if r["rule_id"] == "BG201"]
    assert len(vaults) == 2, vaults  # one per instance: neither hides the other
    assert {r["resource_id"] for r in vaults} == {"module.vault.aws_backup_vault.this"}
    assert not _shared(results)


def test_instance_fingerprints_survive_line_moves(tmp_path, monkeypatch):
    _two_callers(tmp_path / "a")
    _two_callers(tmp_path / "b", prefix="\n\n\n# moved\n")
    before = {(r["rule_id"], r["message"]): r for r in _lint(tmp_path / "a", monkeypatch, "json", ".")["results"]}
    after = {(r["rule_id"], r["message"]): r for r in _lint(tmp_path / "b", monkeypatch, "json", ".")["results"]}
    assert before.keys() == after.keys() and before
    moved = 0
    for key, r in before.items():
        assert after[key]["fingerprint"] == r["fingerprint"], key
        moved += after[key]["line"] != r["line"]
    assert moved


def test_root_module_fingerprints_do_not_name_the_root(tmp_path, monkeypatch):
    """A root's own resources keep the fingerprint they always had (their file names the root)."""
    from backupguard.results import fingerprint

    (tmp_path / "main.tf").write_text(MODULE.replace("var.name", '"v"'), encoding="utf-8")
    r = next(r for r in _lint(tmp_path, monkeypatch, "json", ".")["results"] if r["rule_id"] == "BG201")
    assert r["fingerprint"] == fingerprint("BG201", "main.tf", "aws_backup_vault.this", None, "")


def test_sarif_of_two_callers_is_valid_and_distinct(tmp_path, monkeypatch):
    _two_callers(tmp_path)
    log = _lint(tmp_path, monkeypatch, "sarif", ".")
    assert_schema_valid(log)
    fps = [r["partialFingerprints"]["backupguard/v1"] for r in log["runs"][0]["results"]]
    assert len(fps) == len(set(fps)) and fps


# ---------------------------------------------------------------------------------------------
# the shared corpus


@pytest.fixture(scope="module")
def corpus_outputs(tmp_path_factory):
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not present")
    out = tmp_path_factory.mktemp("corpus")
    outcome = runner.invoke(app, ["lint", str(CORPUS), "--output", f"json={out / 'r.json'}",
                                  "--output", f"sarif={out / 'r.sarif'}"])
    assert outcome.exit_code in (0, 1, 2), outcome.output
    return (json.loads((out / "r.json").read_text(encoding="utf-8")),
            json.loads((out / "r.sarif").read_text(encoding="utf-8")))


def test_corpus_results_never_share_a_fingerprint(corpus_outputs):
    doc, _ = corpus_outputs
    shared = _shared(doc["results"])
    assert not shared, [[(r["rule_id"], r["status"], r["file"], r["resource_id"]) for r in g] for g in shared[:5]]


def test_corpus_sarif_is_spec_valid(corpus_outputs):
    _, log = corpus_outputs
    assert_schema_valid(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["results"]
    for result in run["results"]:
        # SARIF 2.1.0 3.27.10: kind "fail" has a level other than "none"; any other kind has "none"
        if result["kind"] == "fail":
            assert result["level"] in ("note", "warning", "error"), result
        else:
            assert result["level"] == "none", result
        status = result["properties"]["status"]
        assert (status == "unknown") == (result["kind"] == "open") == result["ruleId"].endswith("/unknown")
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        if status != "fail":  # undecided results and input errors are never security alerts
            assert "security-severity" not in rule["properties"], rule["id"]
        assert "primaryLocationLineHash" not in result["partialFingerprints"]
    fps = [r["partialFingerprints"]["backupguard/v1"] for r in run["results"]]
    assert len(fps) == len(set(fps))
