"""Output proportional to findings: a message or an inventory row does not grow with the number of
plans that select a resource, and reports are written as they are rendered."""

from __future__ import annotations

import json
from pathlib import Path

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
