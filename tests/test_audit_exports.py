"""Audit Manager-style CSV/JSON exports and the Markdown summary: exact rows, status mapping, escaping."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.reports import audit, control_summary, markdown, render
from backupguard.reports.json_report import document
from backupguard.results import Result, Suppression

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

RULES = [{"id": rule_id, "name": f"rule-{rule_id}", "title": f"Rule {rule_id}"}
         for rule_id in ("BG101", "BG401", "BG403", "BG404")]
FRAMEWORK = {
    "id": "fw-a", "title": "Framework A",
    "controls": [
        {"id": "C1", "title": "Plans", "rules": ["BG101"]},
        {"id": "C2", "title": "Protected", "rules": ["BG401", "BG403"]},
        {"id": "C3", "title": "Nothing in scope", "rules": ["BG404"]},
    ],
}
SCAN = {"paths": ["."], "files": ["bad.yaml", "t.yaml"], "region": "eu-west-1", "account_id": "111122223333",
        "notes": []}


def result(rule_id: str, status: str, resource_id: str | None, line: int, *, file: str = "t.yaml",
           resource_type: str | None = None, element: str | None = None, tags: tuple[str, ...] = (),
           waiver: str | None = None, message: str | None = None, severity: str = "high",
           values: dict | None = None) -> Result:
    return Result(
        rule_id=rule_id, status=status, severity=severity, resource_id=resource_id,
        resource_type=resource_type if resource_type is not None else ("AWS::X::Y" if resource_id else None),
        file=file, line=line, column=3, message=message or f"{rule_id} {status} {resource_id} {line}",
        element=element, values=values or {}, frameworks=tags, fingerprint=f"{rule_id}{resource_id}{line}",
        suppression=Suppression("waiver", waiver) if waiver else None,
    )


def crafted_results() -> list[Result]:
    return [
        result("BG000", "error", None, 1, file="bad.yaml", message="cannot parse"),
        result("BG101", "pass", "Plan1", 10, resource_type="AWS::Backup::BackupPlan", tags=("fw-a:C1",)),
        result("BG101", "fail", "Plan2", 20, resource_type="AWS::Backup::BackupPlan", element="rule 'a'",
               tags=("fw-a:C1",), message="rule 'a': 7 days"),
        result("BG101", "fail", "Plan2", 25, resource_type="AWS::Backup::BackupPlan", element="rule 'b'",
               tags=("fw-a:C1",), message="rule 'b': 14 days"),
        result("BG401", "pass", "Table", 30, resource_type="AWS::DynamoDB::Table", tags=("fw-a:C2",)),
        result("BG403", "unknown", "Table", 30, resource_type="AWS::DynamoDB::Table", tags=("fw-a:C2",),
               message="Cannot decide: Region unknown", values={"copy": {"unknown": "the Region is not known"}}),
        result("BG401", "fail", "Db", 40, resource_type="AWS::RDS::DBInstance", tags=("fw-a:C2",),
               waiver="legacy, OPS-1", message="no plan selects Db"),
        result("BG403", "not_applicable", "Db", 40, resource_type="AWS::RDS::DBInstance", tags=("fw-a:C2",),
               message="needs live evidence"),
    ]


def make_doc(results: list[Result], frameworks: bool = True, scan: dict | None = None) -> dict:
    selected = control_summary(results, [FRAMEWORK]) if frameworks else []
    return json.loads(render("json", document(results, RULES, scan if scan is not None else SCAN, selected)))


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


A = ("111122223333", "eu-west-1")


# -- resource compliance -------------------------------------------------------------------------


def test_resource_rows_per_framework_control_and_resource():
    rows = read_csv(render("csv-resources", make_doc(crafted_results())))
    assert list(rows[0]) == list(audit.RESOURCE_COLUMNS)
    got = [tuple(row.values()) for row in rows]
    assert got == [
        (*A, "fw-a", "Framework A", "C1", "Plan1", "AWS::Backup::BackupPlan", "COMPLIANT", "t.yaml", "10", "BG101",
         "BG101 pass Plan1 10", ""),
        # Two failing plan rules (elements) of one plan: one row, worst status, both messages, first line.
        (*A, "fw-a", "Framework A", "C1", "Plan2", "AWS::Backup::BackupPlan", "NON_COMPLIANT", "t.yaml", "20",
         "BG101", "rule 'a': 7 days | rule 'b': 14 days", ""),
        # Two rules of one control on one resource: pass + unknown -> UNKNOWN, decided by BG403.
        (*A, "fw-a", "Framework A", "C2", "Table", "AWS::DynamoDB::Table", "UNKNOWN", "t.yaml", "30", "BG403",
         "Cannot decide: Region unknown", ""),
        (*A, "fw-a", "Framework A", "C2", "Db", "AWS::RDS::DBInstance", "WAIVED", "t.yaml", "40", "BG401",
         "no plan selects Db", "legacy, OPS-1"),
        # Untagged results (input errors) keep a row: an unreadable file never vanishes from the export.
        (*A, "", "", "BG000", "", "", "ERROR", "bad.yaml", "1", "BG000", "cannot parse", ""),
    ]


def test_resource_rows_per_rule_without_frameworks():
    rows = read_csv(audit.resource_compliance_csv(make_doc(crafted_results(), frameworks=False)))
    got = [(r["frameworkName"], r["controlName"], r["resourceId"], r["resourceComplianceStatus"], r["line"], r["ruleId"])
           for r in rows]
    assert got == [
        ("", "BG000", "", "ERROR", "1", "BG000"),
        ("", "BG101", "Plan1", "COMPLIANT", "10", "BG101"),
        ("", "BG101", "Plan2", "NON_COMPLIANT", "20", "BG101"),
        ("", "BG401", "Table", "COMPLIANT", "30", "BG401"),
        ("", "BG401", "Db", "WAIVED", "40", "BG401"),
        ("", "BG403", "Table", "UNKNOWN", "30", "BG403"),
        ("", "BG403", "Db", "NOT_APPLICABLE", "40", "BG403"),
    ]


@pytest.mark.parametrize(("status", "waiver", "expected"), [
    ("pass", None, "COMPLIANT"),
    ("fail", None, "NON_COMPLIANT"),
    ("unknown", None, "UNKNOWN"),
    ("error", None, "ERROR"),
    ("not_applicable", None, "NOT_APPLICABLE"),
    ("fail", "accepted", "WAIVED"),
    ("unknown", "accepted", "WAIVED"),
])
def test_status_mapping(status, waiver, expected):
    doc = make_doc([result("BG101", status, "P", 1, tags=("fw-a:C1",), waiver=waiver)])
    (row,) = [r for r in audit.resource_compliance_rows(doc) if r["controlName"] == "C1"]
    assert row["resourceComplianceStatus"] == expected
    control = next(r for r in audit.control_compliance_rows(doc) if r["controlName"] == "C1")
    assert control["controlComplianceStatus"] == expected
    assert audit.STATUS[status if waiver is None else "waived"] == expected


def test_worst_status_order():
    for statuses, expected in [
        (("pass", "fail"), "NON_COMPLIANT"),
        (("unknown", "error"), "UNKNOWN"),
        (("error", "pass"), "ERROR"),
        (("pass", "not_applicable"), "COMPLIANT"),
    ]:
        doc = make_doc([result(f"BG10{i}", s, "P", 1, tags=("fw-a:C1",)) for i, s in enumerate(statuses)])
        assert audit.resource_compliance_rows(doc)[0]["resourceComplianceStatus"] == expected, statuses


# -- control compliance --------------------------------------------------------------------------


def test_control_rows_exact_csv():
    text = render("csv-controls", make_doc(crafted_results()))
    assert text == (
        "accountId,region,frameworkName,frameworkDescription,controlName,controlComplianceStatus,"
        "numResourcesCompliant,numResourcesNonCompliant,numResourcesUnknown,numResourcesError,numResourcesWaived,"
        "numResourcesNotApplicable,rules\n"
        "111122223333,eu-west-1,fw-a,Framework A,C1,NON_COMPLIANT,1,1,0,0,0,0,BG101\n"
        "111122223333,eu-west-1,fw-a,Framework A,C2,UNKNOWN,0,0,1,0,1,0,BG401 BG403\n"
        "111122223333,eu-west-1,fw-a,Framework A,C3,NO_RESOURCES,0,0,0,0,0,0,BG404\n"
        "111122223333,eu-west-1,,,BG000,ERROR,0,0,0,1,0,0,BG000\n"
    )


def test_control_rows_per_rule_without_frameworks_and_no_scan_identity():
    doc = make_doc(crafted_results(), frameworks=False, scan={"paths": ["."], "files": [], "notes": []})
    rows = audit.control_compliance_rows(doc)
    assert [(r["accountId"], r["region"], r["controlName"], r["controlComplianceStatus"], r["rules"]) for r in rows] == [
        ("", "", "BG000", "ERROR", "BG000"),
        ("", "", "BG101", "NON_COMPLIANT", "BG101"),
        ("", "", "BG401", "WAIVED", "BG401"),
        ("", "", "BG403", "UNKNOWN", "BG403"),
        ("", "", "BG404", "NO_RESOURCES", "BG404"),  # ran, found nothing
    ]


def test_json_exports_hold_the_same_rows():
    doc = make_doc(crafted_results())
    resources = json.loads(audit.resource_compliance_json(doc))
    controls = json.loads(audit.control_compliance_json(doc))
    assert list(resources) == ["reportItems"] and list(controls) == ["reportItems"]
    assert resources["reportItems"] == audit.resource_compliance_rows(doc)
    assert controls["reportItems"] == audit.control_compliance_rows(doc)
    assert resources["reportItems"][0]["line"] == 10 and controls["reportItems"][0]["numResourcesCompliant"] == 1
    as_csv = read_csv(audit.resource_compliance_csv(doc))
    assert [{k: str(v) for k, v in row.items()} for row in resources["reportItems"]] == as_csv


def test_csv_quotes_hostile_values_and_is_deterministic():
    hostile = 'a,b "quoted"\nnext line'
    doc = make_doc([result("BG101", "fail", hostile, 3, tags=("fw-a:C1",), message=hostile)])
    text = audit.resource_compliance_csv(doc)
    row = read_csv(text)[0]
    assert row["resourceId"] == hostile and row["message"] == hostile
    assert audit.resource_compliance_csv(json.loads(json.dumps(doc))) == text


def test_examples_control_verdicts_agree_with_the_document(tmp_path):
    out = tmp_path / "doc.json"
    CliRunner().invoke(app, ["lint", str(EXAMPLES), "--framework", "aws-backup-audit-manager", "--region", "us-east-1",
                             "--account-id", "111122223333", "-f", "json", "-o", str(out)])
    doc = json.loads(out.read_text(encoding="utf-8"))
    rows = audit.control_compliance_rows(doc)
    expected = {c["id"]: c["status"] for c in doc["frameworks"][0]["controls"]}
    mapped = {**audit.STATUS, "no_resources": audit.NO_RESOURCES}
    assert {r["controlName"]: r["controlComplianceStatus"] for r in rows} == {k: mapped[v] for k, v in expected.items()}
    assert {(r["accountId"], r["region"]) for r in rows} == {("111122223333", "us-east-1")}
    resources = audit.resource_compliance_rows(doc)
    for row in rows:  # the counts are the control's resource rows
        mine = [r for r in resources if r["controlName"] == row["controlName"]]
        assert sum(row[c] for c in audit.CONTROL_COLUMNS if c.startswith("numResources")) == len(mine)


# -- Markdown summary ----------------------------------------------------------------------------

CELL_SPLIT = re.compile(r"(?<!\\)\|")


def test_markdown_headline_and_sections():
    text = markdown.render(make_doc(crafted_results()))
    lines = text.splitlines()
    assert lines[0] == "### ❌ backupguard: 2 fail · 1 unknown · 1 error · 2 pass · 1 waived"
    assert lines[2] == ("8 results in 2 files · 1 not applicable (need live evidence) · account 111122223333 · "
                        "Region eu-west-1")
    assert "#### Frameworks" in lines
    assert "| C2: Protected | ⚠️ unknown | 0 | 1 | 0 | 1 | 1 | 1 |" in lines
    assert "| C3: Nothing in scope | ➖ no resources | 0 | 0 | 0 | 0 | 0 | 0 |" in lines
    # Errors first at equal severity; waived failures are not findings.
    start = lines.index("#### Findings (3)")
    assert lines[start + 2: start + 8] == [
        "| Severity | Rule | Resource | Location | Message |",
        "| --- | --- | --- | --- | --- |",
        "| high (error) | BG000 | – | bad.yaml:1 | cannot parse |",
        "| high | BG101 | Plan2 | t.yaml:20 | rule 'a': 7 days |",
        "| high | BG101 | Plan2 | t.yaml:25 | rule 'b': 14 days |",
        "",
    ]
    assert "| 1 | the Region is not known |" in lines  # unknown reasons from the values
    assert "#### Frameworks" not in markdown.render(make_doc(crafted_results(), frameworks=False))
    assert text == render("markdown", json.loads(json.dumps(make_doc(crafted_results()))))


def test_markdown_headline_icons():
    assert markdown.render(make_doc([result("BG101", "pass", "P", 1)])).startswith(
        "### ✅ backupguard: 0 fail · 0 unknown · 0 error · 1 pass · 0 waived\n")
    assert markdown.render(make_doc([result("BG101", "unknown", "P", 1)])).startswith("### ⚠️ backupguard:")


def test_markdown_escapes_hostile_cell_values():
    hostile_id = "x|y`z<script>alert(1)</script>&amp;"
    message = "a | b\n## heading [link](javascript:alert(1)) @org/team $x$ *bold* _u_ ~s~ <img src=x onerror=y>"
    doc = make_doc([result("BG101", "fail", hostile_id, 7, file="dir|x/`t`.yaml", message=message)], frameworks=False)
    text = markdown.render(doc)
    row = next(line for line in text.splitlines() if line.startswith("| high |"))
    cells = CELL_SPLIT.split(row)
    assert len(cells) == 7 and cells[0] == "" and cells[-1] == ""  # five cells, no pipe leaked
    assert cells[3].strip() == r"x\|y\`z&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;"
    assert cells[4].strip() == r"dir\|x/\`t\`.yaml:7"
    assert "<script" not in text and "<img" not in text
    assert cells[5].strip() == (r"a \| b \#\# heading \[link\](javascript:alert(1)) @" "\u200b"
                                r"org/team \$x\$ \*bold\* \_u\_ \~s\~ &lt;img src=x onerror=y&gt;")


def test_markdown_escape_edge_cases():
    assert markdown.escape("- item") == r"\- item"
    assert markdown.escape("+ item") == r"\+ item"
    assert markdown.escape("12. item") == r"12\. item"
    assert markdown.escape("a\\b") == r"a\\b"
    assert markdown.escape("mail ops@example.com") == "mail ops@example.com"  # not a mention
    assert markdown.escape("ctl\x00\x1b\x7fchars") == "ctlchars"
    assert markdown.escape(None) == ""
    assert markdown.escape("abcdefghij", limit=5) == "abcd…"


def test_markdown_findings_truncated_with_count():
    results = [result("BG101", "fail", f"Plan{i:02d}", i + 1, message="x" * 500) for i in range(60)]
    results += [result("BG401", "fail", "Same", 99, severity="low")] * 3  # identical rows collapse
    text = markdown.render(make_doc(results, frameworks=False))
    lines = text.splitlines()
    table = [line for line in lines if line.startswith("| high |") or line.startswith("| low |")]
    assert len(table) == markdown.MAX_FINDINGS
    assert "… and 13 more (the JSON, SARIF and text reports list them all)." in lines
    assert "#### Findings (63)" in lines
    assert table[0].endswith("| " + "x" * (markdown.MAX_MESSAGE - 1) + "… |")

    few = markdown.render(make_doc(results[-3:], frameworks=False))
    assert "| low | BG401 | Same | t.yaml:99 | BG401 fail Same 99 (×3) |" in few.splitlines()
    assert "more (the JSON" not in few


def test_markdown_unknown_reasons_and_notes():
    results = [result("BG101", "unknown", f"P{i}", i, values={"a": {"unknown": "module.x was not followed"}})
               for i in range(3)]
    results.append(result("BG101", "unknown", "Q", 9, message="Cannot decide: something else"))
    notes = [f"note {i} <b>" for i in range(12)]
    text = markdown.render(make_doc(results, frameworks=False, scan={**SCAN, "notes": notes}))
    lines = text.splitlines()
    assert "#### Unknown (4)" in lines
    reasons = lines[lines.index("| ---: | --- |") + 1: lines.index("| ---: | --- |") + 3]
    assert reasons == ["| 3 | module.x was not followed |", "| 1 | something else |"]
    assert "- note 0 &lt;b&gt;" in lines and "- note 9 &lt;b&gt;" in lines and "- note 10 &lt;b&gt;" not in lines
    assert "- … and 2 more (the JSON document lists them all)" in lines


def test_csv_cells_cannot_run_as_spreadsheet_formulas():
    from backupguard.reports.audit import _csv

    text = _csv(("a", "b"), [{"a": "=HYPERLINK(\"http://x\")", "b": "-1+2"}])
    assert text.splitlines()[1] == "\"'=HYPERLINK(\"\"http://x\"\")\",'-1+2"
