"""Issue 8 item 9: ``backupguard report`` validates saved documents against the shipped JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.reports.json_report import _validator

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()
RESULT = {"rule_id": "BG101", "status": "fail", "severity": "high", "resource_id": "Plan", "resource_type": None,
          "file": "a.yaml", "line": 3, "column": 1, "message": "m"}


def test_the_schema_is_valid_draft_2020_12_and_ships_with_the_package():
    Draft202012Validator.check_schema(_validator().schema)
    assert _validator().schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_what_lint_writes_conforms_to_the_schema(tmp_path: Path):
    out = tmp_path / "doc.json"
    runner.invoke(app, ["lint", str(EXAMPLES), "--framework", "aws-backup-audit-manager", "-o", f"json={out}"])
    doc = json.loads(out.read_text("utf-8"))
    assert doc["frameworks"] and doc["results"]
    assert not list(_validator().iter_errors(doc))


@pytest.mark.parametrize(("document", "message"), [
    ([1], "not a backupguard result document (schema version 1); found a JSON array"),
    (5, "not a backupguard result document (schema version 1); found a JSON number"),
    ({"schema_version": 2, "results": []}, "not a backupguard result document (schema version 1); found schema_version 2"),
    ({"schema_version": 1, "results": [1]}, "not a valid result document: results[0]: 1 is not of type 'object'"),
    ({"schema_version": 1, "results": "junk"}, "not a valid result document: results: 'junk' is not of type 'array'"),
    ({"schema_version": 1, "results": [{k: v for k, v in RESULT.items() if k != "line"}]},
     "not a valid result document: results[0]: 'line' is a required property"),
    ({"schema_version": 1, "results": [{**RESULT, "status": "bogus"}]},
     "not a valid result document: results[0].status: 'bogus' is not one of "
     "['fail', 'unknown', 'error', 'pass', 'not_applicable']"),
    ({"schema_version": 1, "results": [{**RESULT, "severity": "urgent"}]},
     "not a valid result document: results[0].severity: 'urgent' is not one of "
     "['info', 'low', 'medium', 'high', 'critical']"),
    ({"schema_version": 1, "results": [], "frameworks": [{"id": "f"}]},
     "not a valid result document: frameworks[0]: 'controls' is a required property (and 1 more)"),
])
def test_report_on_a_wrong_document_is_a_clear_error(tmp_path: Path, document, message: str):
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"backupguard: error: {path}: {message}\n"


@pytest.mark.parametrize(("content", "start"), [
    (b"\xff\xfe{}", "not a JSON result document: 'utf-8' codec can't decode byte 0xff"),
    (b'{"schema_version": ' + b"1" * 5000 + b"}", "not a JSON result document: Exceeds the limit"),
    (b"[" * 100000 + b"]" * 100000, "not a JSON result document: nested too deeply"),
])
def test_report_on_unreadable_json_is_a_clear_error(tmp_path: Path, content: bytes, start: str):
    path = tmp_path / "doc.json"
    path.write_bytes(content)
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"backupguard: error: {path}: {start}"), result.stderr
    assert "internal error" not in result.stderr and "\n" not in result.stderr.rstrip("\n")


def test_the_contract_is_documented():
    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "result-document.md").read_text("utf-8")
    assert "results.schema.json" in doc and "2020-12" in doc
    assert "docs/result-document.md" in (root / "README.md").read_text("utf-8")
