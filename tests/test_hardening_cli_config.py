"""Issue 8 items 3 and 9 (config part): the config file is bounded and its mistakes are located errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.config import MAX_CONFIG_BYTES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
)


def lint_with(tmp_path: Path, config: bytes):
    path = tmp_path / ".backupguard.yaml"
    path.write_bytes(config)
    return runner.invoke(app, ["lint", str(EXAMPLES / "compliant"), "--config", str(path)]), path


def test_yaml_aliases_are_refused_at_once(tmp_path: Path):
    start = time.monotonic()
    result, path = lint_with(tmp_path, LAUGHS.encode())
    assert time.monotonic() - start < 5
    assert result.exit_code == 2
    assert result.stderr == f"backupguard: error: {path}:1: YAML anchors and aliases are not allowed in the config\n"


def test_a_config_over_the_size_cap_is_refused(tmp_path: Path):
    result, path = lint_with(tmp_path, b"exclude: []\n" + b"# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    assert result.exit_code == 2
    assert result.stderr == f"backupguard: error: {path}: the config file is larger than {MAX_CONFIG_BYTES // 1024} KiB\n"


@pytest.mark.parametrize(("config", "message"), [
    (b"frameworks: 5\n", ":1: 'frameworks' must be a list of strings"),
    (b"strict: false\nexclude: 5\n", ":2: 'exclude' must be a list of strings"),
    (b"exclude:\n  - [a]\n", ":2: 'exclude' must be a list of strings"),
    (b"fail_on: [high]\n", ":1: 'fail_on' must be a severity or 'never'"),
    (b"exclude: []\n# caf\xe9\n", ":2: the config file is not UTF-8 text"),
])
def test_config_type_and_encoding_mistakes_are_clear_located_errors(tmp_path: Path, config: bytes, message: str):
    result, path = lint_with(tmp_path, config)
    assert result.exit_code == 2
    assert result.stderr == f"backupguard: error: {path}{message}\n"
