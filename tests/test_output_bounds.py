"""Output proportional to findings: a message or an inventory row does not grow with the number of
plans that select a resource, and reports are written as they are rendered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from typer.testing import CliRunner

from backupguard.cli import app

runner = CliRunner()


def _selected_by(plans: int) -> str:
    """A volume that ``plans`` plans select, each through its own tag selection."""
    lines = ["Resources:", "  Volume:", "    Type: AWS::EC2::Volume", "    Properties:",
             "      AvailabilityZone: us-east-1a", "      Size: 10", "      Tags:", "        - {Key: backup, Value: daily}"]
    for i in range(plans):
        lines += [
            f"  Plan{i}:", "    Type: AWS::Backup::BackupPlan", "    Properties:", "      BackupPlan:",
            f"        BackupPlanName: plan-{i}", "        BackupPlanRule:", "          - RuleName: daily",
            "            TargetBackupVault: main", "            ScheduleExpression: cron(0 5 ? * * *)",
            f"  Selection{i}:", "    Type: AWS::Backup::BackupSelection", "    Properties:",
            f"      BackupPlanId: !Ref Plan{i}", "      BackupSelection:", f"        SelectionName: selection-{i}",
            "        IamRoleArn: arn:aws:iam::111122223333:role/backup", "        ListOfTags:",
            "          - {ConditionType: STRINGEQUALS, ConditionKey: backup, ConditionValue: daily}",
        ]
    return "\n".join(lines) + "\n"


def _document(tmp_path: Path, plans: int) -> dict:
    template = tmp_path / "template.yaml"
    template.write_text(_selected_by(plans), encoding="utf-8")
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["lint", str(template), "-o", f"json={out}", "--fail-on", "never", "-q"])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text("utf-8"))


def _clause(i: int) -> str:
    return f"plan 'plan-{i}' (selection 'selection-{i}': tag backup=daily)"


def test_a_resource_selected_by_many_plans_names_three_and_counts_the_rest(tmp_path: Path):
    doc = _document(tmp_path, 12)
    (bg401,) = [r for r in doc["results"] if r["rule_id"] == "BG401"]
    brief = "; ".join(_clause(i) for i in range(3)) + "; and 9 more"
    assert bg401["message"] == f"protected by {brief}"
    assert bg401["values"]["protected_by"] == brief
    (row,) = doc["inventory"]
    assert row["protected_by"] == brief
    assert row["plans"] == sorted(f"plan-{i}" for i in range(12))  # every plan, once per resource


def test_three_plans_or_fewer_are_all_named(tmp_path: Path):
    doc = _document(tmp_path, 3)
    (bg401,) = [r for r in doc["results"] if r["rule_id"] == "BG401"]
    assert bg401["message"] == "protected by " + "; ".join(_clause(i) for i in range(3))
    assert doc["inventory"][0]["protected_by"] == bg401["values"]["protected_by"]


def test_messages_do_not_grow_with_the_plans_that_select_a_resource(tmp_path: Path):
    sizes = []
    for plans in (4, 40):
        (tmp_path / str(plans)).mkdir()
        doc = _document(tmp_path / str(plans), plans)
        volume = [r for r in doc["results"] if r["resource_id"] == "Volume"]
        sizes.append(sum(len(json.dumps(r)) for r in volume) + len(json.dumps(doc["inventory"][0]["protected_by"])))
    assert sizes[1] - sizes[0] < 200  # "and 1 more" -> "and 37 more", "elements_total": 4 -> 40


def test_the_html_coverage_table_keeps_the_count_of_a_bounded_protected_by():
    from backupguard.reports.html import _first_clauses

    brief = "; ".join(_clause(i) for i in range(3)) + "; and 9 more"
    assert _first_clauses(brief) == brief
    assert _first_clauses("; ".join(_clause(i) for i in range(5))) == "; ".join(_clause(i) for i in range(3)) + "; and 2 more"
    assert _first_clauses(brief, keep=2) == "; ".join(_clause(i) for i in range(2)) + "; and 10 more"
    assert _first_clauses("and 4 more") == "and 4 more"


# -- reports written as they are rendered -------------------------------------------------------------

HOSTILE = "\u202e\x85\u2028 bidi and C1"


def _many_results(count: int) -> list:
    from backupguard.results import Result

    return [Result(rule_id="BG101", status=("fail", "pass", "unknown")[i % 3], severity="high", resource_id=f"R{i}",
                   resource_type="AWS::Backup::BackupPlan", file="stack.yaml", line=i + 1, column=3,
                   message=f"retention {i} days {HOSTILE}", values={"days": i}, fingerprint=f"{i:032x}")
            for i in range(count)]


def _whole_json(doc: dict) -> str:
    """The JSON text as it was rendered before it was streamed: one string."""
    from backupguard.reports.printable import json_safe

    parts = []
    for key, value in doc.items():
        value = list(value) if key == "results" else value  # the document's results, as the dicts it held
        if key in ("results", "inventory") and isinstance(value, list) and value:
            text = "[\n    " + ",\n    ".join(json.dumps(item, ensure_ascii=False) for item in value) + "\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return json_safe("{\n" + ",\n".join(parts) + "\n}\n")


def test_the_json_document_is_written_in_pieces_with_the_same_bytes():
    from backupguard.reports import stream
    from backupguard.reports.json_report import _LINES_PER_PIECE, document

    results = _many_results(1000)
    doc = document(results, [], {"paths": ["."], "notes": [HOSTILE]}, [], [{"resource_id": f"R{i}"} for i in range(300)])
    pieces = list(stream("json", doc))
    assert "".join(pieces) == _whole_json(doc)
    assert len(pieces) > 1000 // _LINES_PER_PIECE
    assert max(piece.count("\n") for piece in pieces) <= _LINES_PER_PIECE + 1  # no piece holds the whole list
    for empty in ({}, document([], [], {}, [])):
        assert "".join(stream("json", empty)) == _whole_json(empty)


def test_junit_is_written_suite_by_suite():
    from backupguard.reports import render, stream
    from backupguard.reports.json_report import document

    results = _many_results(30)
    results += [type(r)(**{**{f: getattr(r, f) for f in r.__dataclass_fields__}, "rule_id": "BG201"}) for r in results[:5]]
    doc = json.loads(render("json", document(results, [{"id": "BG101", "name": "a"}, {"id": "BG201", "name": "b"}], {}, [])))
    pieces = list(stream("junit", doc))
    assert len(pieces) == 2 + 2 + 1  # declaration, <testsuites>, one per rule, </testsuites>
    text = render("junit", doc)
    assert text == "".join(pieces)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="backupguard" tests="35" '
                           'failures="12" errors="0" time="0">\n  <testsuite name="BG101 a" tests="30" failures="10" '
                           'errors="0" skipped="10" time="0">\n    <testcase ')
    assert text.endswith("  </testsuite>\n</testsuites>\n")


def test_the_cli_writes_a_report_file_piece_by_piece(tmp_path: Path, monkeypatch):
    import tempfile

    real, writes = tempfile.NamedTemporaryFile, []

    class Counting:
        def __init__(self, *args, **kwargs):
            self._file = real(*args, **kwargs)

        def write(self, text: str) -> int:
            writes.append(len(text))
            return self._file.write(text)

        def __getattr__(self, name):
            return getattr(self._file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._file.close()

    template = tmp_path / "template.yaml"
    template.write_text(_selected_by(2), encoding="utf-8")
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", Counting)
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["lint", str(template), "-o", f"json={out}", "--fail-on", "never", "-q"])
    assert result.exit_code == 0, result.output
    assert len(writes) > 5 and sum(writes) == len(out.read_text("utf-8"))


def test_the_document_holds_the_results_not_a_copy_of_each():
    from backupguard.reports.json_report import document, results_of

    results = _many_results(5)
    doc = document(results, [], {}, [])
    assert all(a is b for a, b in zip(results_of(doc), results))  # the reports read the results themselves
    assert list(doc["results"]) == [r.to_dict() for r in results] == doc["results"]
    assert doc["results"][1] == results[1].to_dict() and doc["results"][1:3] == [r.to_dict() for r in results[1:3]]
    assert len(doc["results"]) == 5 and not document([], [], {}, [])["results"]
    saved = json.loads(json.dumps({**doc, "results": list(doc["results"])}))
    assert results_of(saved) == results  # a saved document's objects become results again


def test_batch_collector_turns_the_cyclic_collector_off_and_restores_it():
    """A run does without the cyclic collector (it walked the whole estate again and again, a
    tenth to a quarter of a 10,000-resource run, to find almost no garbage), and an embedding
    process gets its collector back, even when the run fails, and only if it had it on."""
    import gc

    from backupguard.pipeline import batch_collector

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with batch_collector():
            assert not gc.isenabled()
            raise RuntimeError("the run failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with batch_collector():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()
