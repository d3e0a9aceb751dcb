"""The real third-party templates in ../shared/corpus: no crash, and agreement with their authors' verdicts.

Skipped when ../shared/corpus is absent (a fresh clone of this repository alone).
"""

from __future__ import annotations

import pytest

from backupguard.results import Result

from conftest import CORPUS, lint_paths

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")


def test_whole_corpus_scans_without_internal_errors():
    results = lint_paths([CORPUS])
    errors = [r for r in results if r.status == "error"]
    assert all(isinstance(r, Result) for r in results)
    assert len(results) > 100
    # Every error is a located input problem, never an internal failure.
    assert not [r for r in errors if "internal" in r.message]
    assert all(r.file and r.line >= 1 for r in errors)


def test_labelled_verdicts_agree():
    from corpus_labels import comparisons, disputed

    rows = comparisons()
    assert len(rows) >= 150
    # a resource we do not see is either disputed or a module call we cannot follow (agreeing only vacuously)
    assert all(row["present"] or disputed(row) or row["resource"].startswith("module.") for row in rows)
    unexplained = [row for row in rows if not row["agrees"] and not disputed(row)]
    assert not unexplained, unexplained
    # A disputed label that we now agree with should leave the list.
    assert not [row for row in rows if row["agrees"] and disputed(row)]


def test_corpus_results_are_deterministic():
    first = [r.to_dict() for r in lint_paths([CORPUS])]
    second = [r.to_dict() for r in lint_paths([CORPUS])]
    assert first == second


def test_the_cli_renders_the_whole_corpus_without_an_internal_error(tmp_path):
    import json

    from typer.testing import CliRunner

    from backupguard.cli import app

    out = tmp_path / "corpus.json"
    result = CliRunner().invoke(app, ["lint", str(CORPUS), "--output", f"json={out}"])
    assert result.exit_code == 2, result.output  # the corpus holds broken files: exit 2, not a crash
    assert "internal error" not in result.output
    doc = json.loads(out.read_text())
    assert len(doc["inventory"]) > 200 and len(doc["results"]) > 1000
