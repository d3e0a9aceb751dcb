"""JUnit XML: the structure GitHub, GitLab and Jenkins readers need, statuses, escaping, determinism.

No PyPI package ships a JUnit XSD, so these tests assert what junit-10.xsd (the
Jenkins xunit plugin's schema) and GitLab require instead of validating: the
required attributes, unique classname+name pairs, counts that add up, one
status element per test case, and well-formed XML whatever the input holds.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.reports import control_summary, render
from backupguard.reports.json_report import document
from backupguard.reports.junit import clean
from backupguard.results import Result, Suppression

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

RULES = [
    {"id": "BG101", "name": "plan-min-frequency-and-retention", "title": "Backup plan backs up often enough",
     "remediation": "Set DeleteAfterDays to at least 35.", "source_url": "https://docs.aws.amazon.com/x.html"},
    {"id": "BG201", "name": "vault-encrypted-with-cmk", "title": "Vault uses a CMK", "remediation": "Use a CMK."},
    {"id": "BG401", "name": "resource-protected-by-backup-plan", "title": "Resource is protected",
     "remediation": "Tag it."},
    {"id": "BG407", "name": "last-recovery-point-created", "title": "Recent recovery point", "remediation": "-"},
]
FRAMEWORK = {
    "id": "fw-a", "title": "Framework A",
    "controls": [
        {"id": "PLANS", "title": "Plans", "rules": ["BG101"]},
        {"id": "PROTECTED", "title": "Protected", "rules": ["BG401"]},
        {"id": "COPIES", "title": "Copies", "rules": ["BG401"]},
        {"id": "FRESH", "title": "Fresh", "rules": ["BG407"]},
    ],
}


def result(rule_id: str, status: str, resource_id: str | None, line: int, *, file: str = "stack.yaml",
           element: str | None = None, tags: tuple[str, ...] = (), waiver: str | None = None,
           message: str | None = None, severity: str = "high") -> Result:
    return Result(
        rule_id=rule_id, status=status, severity=severity, resource_id=resource_id,
        resource_type="AWS::Backup::BackupPlan" if resource_id else None, file=file, line=line, column=3,
        message=message or f"{rule_id} {status} on {resource_id}", element=element, frameworks=tags,
        fingerprint=f"{rule_id}-{resource_id}-{element}",
        suppression=Suppression("waiver", waiver) if waiver else None,
    )


def crafted_results() -> list[Result]:
    return [
        result("BG000", "error", None, 1, file="broken.yaml", message="could not parse: bad indentation"),
        result("BG101", "pass", "GoodPlan", 10, tags=("fw-a:PLANS",)),
        result("BG101", "fail", "BadPlan", 20, element="rule 'a'", tags=("fw-a:PLANS",), severity="medium",
               message='retention 7 < 35 & schedule "<weekly>"'),
        result("BG101", "unknown", "ParamPlan", 30, tags=("fw-a:PLANS",),
               message="Cannot decide: retention_days is unknown: parameter 'Days' has no default"),
        result("BG201", "fail", "Vault", 40, waiver="accepted: legacy vault, ticket OPS-1"),
        result("BG401", "fail", "Table", 50, tags=("fw-a:PROTECTED", "fw-a:COPIES")),
        # The same finding twice (a file linted in two scenarios): GitLab would drop the second.
        result("BG401", "fail", "Table", 50, tags=("fw-a:PROTECTED", "fw-a:COPIES")),
        result("BG407", "not_applicable", "Table", 50, tags=("fw-a:FRESH",),
               message="needs live evidence (recovery points) that a template cannot show"),
    ]


def make_doc(results: list[Result], frameworks: bool = False) -> dict:
    selected = control_summary(results, [FRAMEWORK]) if frameworks else []
    scan = {"paths": ["."], "files": sorted({r.file for r in results if r.file}), "notes": []}
    # A JSON round trip: the renderers read saved documents.
    return json.loads(render("json", document(results, RULES, scan, selected)))


def parse(doc: dict) -> ET.Element:
    return ET.fromstring(render("junit", doc).encode("utf-8"))


def status_child(case: ET.Element) -> ET.Element | None:
    children = [c for c in case if c.tag in ("failure", "error", "skipped")]
    assert len(children) <= 1, ET.tostring(case)
    return children[0] if children else None


def assert_reader_structure(root: ET.Element) -> None:
    """What junit-10.xsd requires and GitLab/GitHub readers rely on."""
    assert root.tag == "testsuites"
    assert root.get("name") == "backupguard"
    # junit-10.xsd allows no "skipped" on <testsuites>; the xunit plugin would reject the file.
    assert set(root.attrib) == {"name", "tests", "failures", "errors", "time"}
    totals = Counter()
    pairs = Counter()
    for suite in root:
        assert suite.tag == "testsuite"
        for attribute in ("name", "tests", "failures", "errors", "skipped", "time"):
            assert suite.get(attribute) is not None, (suite.attrib, attribute)
        assert suite.get("name")
        cases = list(suite)
        assert all(case.tag == "testcase" for case in cases)
        found = Counter(child.tag for case in cases if (child := status_child(case)) is not None)
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == found["failure"]
        assert int(suite.get("errors")) == found["error"]
        assert int(suite.get("skipped")) == found["skipped"]
        for case in cases:
            assert case.get("name") and case.get("classname") and case.get("time") == "0"
            pairs[(case.get("classname"), case.get("name"))] += 1
        totals.update({"tests": len(cases), "failures": found["failure"], "errors": found["error"]})
    for attribute in ("tests", "failures", "errors"):
        assert int(root.get(attribute)) == totals[attribute]
    assert [pair for pair, n in pairs.items() if n > 1] == []  # GitLab drops repeated classname+name


def cases_of(root: ET.Element) -> list[ET.Element]:
    return [case for suite in root for case in suite]


def test_rule_suites_structure_and_status_elements():
    root = parse(make_doc(crafted_results()))
    assert_reader_structure(root)
    assert [s.get("name") for s in root] == [
        "BG000 input-error", "BG101 plan-min-frequency-and-retention", "BG201 vault-encrypted-with-cmk",
        "BG401 resource-protected-by-backup-plan", "BG407 last-recovery-point-created",
    ]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "3", "1")
    by_name = {case.get("name"): case for case in cases_of(root) if case.get("classname") != "BG407"}
    names = [(case.get("classname"), case.get("name")) for case in cases_of(root)]
    assert names == [
        ("BG000", "broken.yaml:1"),
        ("BG101", "stack.yaml:10 GoodPlan"),
        ("BG101", "stack.yaml:20 BadPlan rule 'a'"),
        ("BG101", "stack.yaml:30 ParamPlan"),
        ("BG201", "stack.yaml:40 Vault"),
        ("BG401", "stack.yaml:50 Table"),
        ("BG401", "stack.yaml:50 Table #2"),
        ("BG407", "stack.yaml:50 Table"),
    ]
    assert status_child(by_name["stack.yaml:10 GoodPlan"]) is None  # passes are listed, with no child

    failure = status_child(by_name["stack.yaml:20 BadPlan rule 'a'"])
    assert failure.tag == "failure" and failure.get("type") == "medium"
    assert failure.get("message") == 'retention 7 < 35 & schedule "<weekly>"'
    assert "stack.yaml:20:3" in failure.text
    assert "remediation: Set DeleteAfterDays to at least 35." in failure.text
    assert "https://docs.aws.amazon.com/x.html" in failure.text

    error = status_child(by_name["broken.yaml:1"])
    assert error.tag == "error" and error.get("message") == "could not parse: bad indentation"

    unknown = status_child(by_name["stack.yaml:30 ParamPlan"])
    assert unknown.tag == "skipped" and unknown.get("message").startswith("unknown: Cannot decide:")

    waived = status_child(by_name["stack.yaml:40 Vault"])
    assert waived.tag == "skipped"
    assert waived.get("message") == "waived: accepted: legacy vault, ticket OPS-1 (was fail: BG201 fail on Vault)"

    not_applicable = [c for c in cases_of(root) if c.get("classname") == "BG407"][0]
    assert status_child(not_applicable).get("message").startswith("not applicable: needs live evidence")


def test_unknown_can_be_rendered_as_failure():
    from backupguard.reports import junit

    root = ET.fromstring(junit.render(make_doc(crafted_results()), unknown="failure"))
    assert_reader_structure(root)
    case = next(c for c in cases_of(root) if c.get("name") == "stack.yaml:30 ParamPlan")
    assert status_child(case).tag == "failure" and status_child(case).get("type") == "unknown"
    assert root.get("failures") == "4"
    with pytest.raises(ValueError):
        junit.render(make_doc(crafted_results()), unknown="error")


def test_framework_suites_name_cases_with_their_control():
    root = parse(make_doc(crafted_results(), frameworks=True))
    assert_reader_structure(root)
    # One suite per framework; results tagged with no selected control keep their rule suite.
    assert [s.get("name") for s in root] == ["fw-a", "BG000 input-error", "BG201 vault-encrypted-with-cmk"]
    framework = root[0]
    names = [(c.get("classname"), c.get("name")) for c in framework]
    assert names == [
        ("BG101", "fw-a:PLANS stack.yaml:10 GoodPlan"),
        ("BG101", "fw-a:PLANS stack.yaml:20 BadPlan rule 'a'"),
        ("BG101", "fw-a:PLANS stack.yaml:30 ParamPlan"),
        ("BG401", "fw-a:PROTECTED stack.yaml:50 Table"),
        ("BG401", "fw-a:PROTECTED stack.yaml:50 Table #2"),
        ("BG401", "fw-a:COPIES stack.yaml:50 Table"),  # the same result under each of its controls
        ("BG401", "fw-a:COPIES stack.yaml:50 Table #2"),
        ("BG407", "fw-a:FRESH stack.yaml:50 Table"),
    ]
    assert (framework.get("tests"), framework.get("failures"), framework.get("errors"), framework.get("skipped")) \
        == ("8", "5", "0", "2")
    assert root.get("tests") == "10"


def test_illegal_xml_characters_are_removed_and_special_characters_escaped():
    hostile = "bad\x00\x01\x08\x0b\x0c\x1b\x1f\ufffe\ufffftext \ud800<&>\"' é ✓"
    results = [
        result("BG101", "fail", f"Plan{hostile}", 5, message=f"message {hostile}\nsecond line\twith tab"),
        result("BG101", "error", None, 6, file=f"dir/{hostile}.yaml", message=hostile),
        result("BG101", "not_applicable", "Plan", 7, message=hostile),
    ]
    text = render("junit", make_doc(results))
    for char in "\x00\x01\x08\x0b\x0c\x1b\x1f\ufffe\uffff\ud800":
        assert char not in text
    assert text.encode("utf-8")  # no lone surrogate left
    assert "&lt;&amp;&gt;&quot;" in text
    root = ET.fromstring(text.encode("utf-8"))
    assert_reader_structure(root)
    failure = root.find(".//failure")
    assert failure.get("message") == "message badtext <&>\"' é ✓\nsecond line\twith tab"
    assert failure.text.startswith("message badtext <&>\"' é ✓\nsecond line\twith tab\n")
    assert root.find(".//testcase").get("name") == "stack.yaml:5 Planbadtext <&>\"' é ✓"
    assert clean("a\x01b\tc\nd\re\U0001F600") == "ab\tc\nd\re\U0001F600"


def test_utf8_declaration_and_identical_bytes_for_the_same_document():
    doc = make_doc(crafted_results(), frameworks=True)
    first = render("junit", doc)
    assert first.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    assert first.endswith("</testsuites>\n")
    assert render("junit", json.loads(json.dumps(doc))) == first
    assert render("junit", make_doc(crafted_results(), frameworks=True)) == first


def test_empty_document():
    root = parse(make_doc([]))
    assert_reader_structure(root)
    assert (root.get("tests"), len(root)) == ("0", 0)


def test_examples_lint_to_junit_with_every_result_a_test_case(tmp_path):
    runner = CliRunner()
    out = tmp_path / "doc.json"
    runner.invoke(app, ["lint", str(EXAMPLES), "--framework", "aws-backup-audit-manager", "-f", "json", "-o", str(out)])
    doc = json.loads(out.read_text(encoding="utf-8"))
    root = parse(doc)
    assert_reader_structure(root)
    tagged = sum(len(r["frameworks"]) for r in doc["results"])
    untagged = sum(1 for r in doc["results"] if not r["frameworks"])
    assert int(root.get("tests")) == tagged + untagged
    statuses = Counter(r["status"] for r in doc["results"] for _ in (r["frameworks"] or [None]))
    assert int(root.get("failures")) == statuses["fail"]
    assert int(root.get("errors")) == statuses["error"]
    without = parse({**doc, "frameworks": []})
    assert_reader_structure(without)
    assert int(without.get("tests")) == len(doc["results"])
