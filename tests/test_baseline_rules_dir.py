"""`backupguard baseline` takes lint's scan options, --rules-dir and --frameworks-dir included: a
baseline written without the user's rules would report every finding of theirs as new."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from backupguard.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom-rules"
DEPLOYMENT = ["--region", "us-east-1", "--account-id", "111122223333"]


def test_a_baseline_with_your_own_rules_accepts_their_findings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config file: the folders come from the options
    folders = ["--rules-dir", str(EXAMPLE / "rules"), "--frameworks-dir", str(EXAMPLE / "frameworks")]
    stacks = str(EXAMPLE / "stacks")
    runner = CliRunner()
    written = runner.invoke(app, ["baseline", stacks, *folders, "--framework", "acme-baseline", *DEPLOYMENT,
                                  "-o", "baseline.json"])
    assert written.exit_code == 0, written.stderr
    rules = {finding["rule_id"] for finding in json.loads((tmp_path / "baseline.json").read_text())["findings"]}
    assert rules == {"ACME-101", "BG201", "BG402"}
    linted = runner.invoke(app, ["lint", stacks, *folders, "--framework", "acme-baseline", *DEPLOYMENT,
                                 "--baseline", "baseline.json", "-f", "json"])
    assert linted.exit_code == 0, linted.stdout
    assert json.loads(linted.stdout)["summary"]["baseline"] == {"new": 0, "unchanged": 3, "fixed": 0}
