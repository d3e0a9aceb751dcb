"""Issue 8 item 9: a UTF-16, deeply nested or wrongly typed ``--parameters-file`` is a clear error, not an internal one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app

from conftest import PARAM_TEMPLATE

runner = CliRunner()
TEMPLATE = PARAM_TEMPLATE


def lint(tmp_path: Path, content: bytes):
    (tmp_path / "t.yaml").write_text(TEMPLATE)
    params = tmp_path / "params.json"
    params.write_bytes(content)
    return runner.invoke(app, ["lint", str(tmp_path / "t.yaml"), "--format", "json", "--parameters-file", str(params)]), params


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_a_parameters_file_with_a_byte_order_mark_is_read(tmp_path: Path, encoding: str):
    text = json.dumps([{"ParameterKey": "Days", "ParameterValue": "3"}])
    data = text.encode(encoding) if encoding != "utf-16-be" else b"\xfe\xff" + text.encode("utf-16-be")
    result, _ = lint(tmp_path, data)
    messages = [r["message"] for r in json.loads(result.stdout)["results"] if r["rule_id"] == "BG101"]
    assert any("3 days" in m for m in messages), messages


@pytest.mark.parametrize(("content", "message"), [
    (b"[" * 100000 + b"]" * 100000, ":1: parameters file nests deeper than 4 levels"),
    (b'[{"ParameterKey": "Days", "ParameterValue": null}]',
     ":1: parameters file: the value of 'Days' is null, not text or a number"),
    (b'{\n"Days": ', ":2: parameters file is not valid JSON: Expecting value"),
    (b'"35"', ":1: parameters file must hold an object or a list of ParameterKey/ParameterValue objects"),
    (b'{"Days": "\xff"}', ":1: parameters file is not UTF-8 or UTF-16 (with a BOM) text"),
])
def test_a_wrong_parameters_file_is_a_clear_located_error(tmp_path: Path, content: bytes, message: str):
    result, params = lint(tmp_path, content)
    assert result.exit_code == 2
    assert result.stderr == f"backupguard: error: {params}{message}\n"
