"""GitLab Code Quality report (--format codequality) against GitLab's documented shape."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.reports import render
from backupguard.reports.json_report import document
from backupguard.results import Result, Suppression, fingerprint

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

# https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format: a JSON array of
# objects with these required fields (GitLab ignores others; we write none).
GITLAB_CODE_QUALITY = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "additionalProperties": False,
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1, "not": {"pattern": "^(/|\\./)"}},
                    "lines": {"type": "object", "additionalProperties": False, "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1}}},
                },
            },
        },
    },
}


def _result(rule_id, status, severity, resource, file, line, message, **extra) -> Result:
    return Result(rule_id=rule_id, status=status, severity=severity, resource_id=resource, resource_type="T",
                  file=file, line=line, column=1, message=message,
                  fingerprint=fingerprint(rule_id, file, resource, extra.get("element")), **extra)


def _doc(results):
    return document(results, [], {"paths": ["."], "files": [], "notes": [], "checks": []}, [])


def _issues(results) -> list[dict]:
    issues = json.loads(render("codequality", _doc(results)))
    jsonschema.validate(issues, GITLAB_CODE_QUALITY)
    return issues


def test_which_results_become_issues_and_how():
    issues = _issues([
        _result("BG201", "fail", "medium", "Vault", "stacks/a.yaml", 6, "vault 'main' uses aws/backup"),
        _result("BG202", "fail", "critical", "Vault", "stacks/a.yaml", 6, "no lock", element="rule 'x'"),
        _result("BG201", "pass", "medium", "Other", "stacks/a.yaml", 9, "fine"),
        _result("BG101", "unknown", "high", "Plan", "stacks/a.yaml", 12, "retention is unknown"),
        _result("BG101", "fail", "high", "Plan2", "stacks/a.yaml", 20, "7 days", suppression=Suppression("waiver", "ok")),
        _result("BG301", "fail", "medium", "Table", "stacks/a.yaml", 30, "no PITR", baseline="unchanged"),
        _result("BG407", "not_applicable", "high", "Table", "stacks/a.yaml", 30, "live only"),
        _result("BG000", "error", "high", None, "broken.yaml", 0, "not valid YAML"),
        _result("BG201", "fail", "medium", "arn:aws:backup:us-east-1:1:backup-vault:v", None, 0, "live",
                account_id="111122223333", region="us-east-1"),
    ])
    shown = {(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"], i["severity"]) for i in issues}
    assert shown == {
        ("BG201", "stacks/a.yaml", 6, "major"),
        ("BG202", "stacks/a.yaml", 6, "blocker"),
        ("BG101/unknown", "stacks/a.yaml", 12, "info"),
        ("BG301", "stacks/a.yaml", 30, "major"),  # in the baseline: still a problem (GitLab diffs the branches)
        ("BG000", "broken.yaml", 1, "major"),
    }
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    first = next(i for i in issues if i["check_name"] == "BG202")
    assert first["description"] == "BG202 Vault (rule 'x'): no lock"
    unknown = next(i for i in issues if i["check_name"] == "BG101/unknown")
    decided = fingerprint("BG101", "stacks/a.yaml", "Plan", None)
    assert unknown["fingerprint"] != decided  # decided later, it is a new issue


def test_nothing_to_report_is_an_empty_array():
    assert render("codequality", _doc([])) == "[]\n"


def test_hostile_text_is_made_printable():
    hostile = "evil\x1b]8;;https://x\x07\n::error::forged\u202e"
    [issue] = _issues([_result("BG201", "fail", "low", "V" + hostile, "a.yaml", 3, "m" + hostile)])
    raw = render("codequality", _doc([_result("BG201", "fail", "low", "V" + hostile, "a.yaml", 3, "m" + hostile)]))
    assert "\x1b" not in issue["description"] and "\n" not in issue["description"] and "\u202e" not in raw
    assert issue["severity"] == "minor"


def test_examples_from_the_command_line_and_from_a_saved_document(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out, saved = tmp_path / "gl-code-quality-report.json", tmp_path / "results.json"
    result = runner.invoke(app, ["lint", "examples/", "--region", "us-east-1", "--account-id", "111122223333",
                                 "-o", f"codequality={out}", "-o", f"json={saved}"])
    assert result.exit_code == 1
    issues = json.loads(out.read_text())
    jsonschema.validate(issues, GITLAB_CODE_QUALITY)
    doc = json.loads(saved.read_text())
    failing = [r for r in doc["results"] if r["status"] in ("fail", "unknown", "error") and not r["suppression"]]
    assert len(issues) == len(failing) > 20
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert all(i["location"]["path"].startswith("examples/") for i in issues)
    again = runner.invoke(app, ["report", str(saved), "-f", "codequality"])
    assert again.exit_code == 0 and json.loads(again.stdout) == issues
