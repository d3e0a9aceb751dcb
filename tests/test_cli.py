"""The command line: exit codes, output formats, parameters, frameworks, config, error handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from backupguard.cli import app

from conftest import PARAM_TEMPLATE

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()



def lint(*args: str):
    return runner.invoke(app, ["lint", *args])


def results_of(output: str) -> list[dict]:
    return json.loads(output)["results"]


def test_compliant_example_exits_0_and_noncompliant_exits_1():
    ok = lint(str(EXAMPLES / "compliant"), "--region", "us-east-1", "--account-id", "111122223333")
    assert ok.exit_code == 0, ok.output
    assert "0 fail, 0 unknown, 0 error" in ok.output
    bad = lint(str(EXAMPLES / "noncompliant"))
    assert bad.exit_code == 1
    assert "noncompliant/backup-estate.yaml" in bad.output
    assert "BG102" in bad.output and "DeleteAfterDays 60 is only 30 days" in bad.output


def test_fail_on_threshold():
    path = str(EXAMPLES / "noncompliant")
    assert lint(path, "--fail-on", "critical").exit_code == 0
    assert lint(path, "--fail-on", "high").exit_code == 1
    assert lint(path, "--fail-on", "never").exit_code == 0


def unknown_failures(junit: Path) -> list[str]:
    import xml.etree.ElementTree as ET

    cases = ET.parse(junit).getroot().iter("testcase")
    return [case.get("classname") for case in cases if any(f.get("type") == "unknown" for f in case.iter("failure"))]


def test_strict_counts_unknown_results_as_failures_in_the_exit_code_and_junit(tmp_path):
    template = tmp_path / "plan.yaml"
    template.write_text(PARAM_TEMPLATE)  # retention from a parameter without a value: BG101 is unknown
    junit = tmp_path / "results.xml"
    lenient = lint(str(template), "--output", f"junit={junit}")
    assert lenient.exit_code == 0
    assert unknown_failures(junit) == [] and "<skipped" in junit.read_text()
    strict = lint(str(template), "--strict", "--output", f"junit={junit}")
    assert strict.exit_code == 1
    assert unknown_failures(junit) == ["BG101"]
    assert lint(str(template), "--strict", "--fail-on", "critical").exit_code == 0  # BG101 is high
    config = tmp_path / "strict.yaml"
    config.write_text("strict: true\n")
    assert lint(str(template), "--config", str(config)).exit_code == 1
    config.write_text("strict: yes please\n")
    bad = lint(str(template), "--config", str(config))
    assert bad.exit_code == 2 and "'strict' must be true or false" in bad.output


def test_json_document_is_complete_and_byte_identical_between_runs(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        lint(str(EXAMPLES), "--format", "json", "--output", str(out))
    assert first.read_bytes() == second.read_bytes()
    doc = json.loads(first.read_text())
    assert {r["id"] for r in doc["rules"]} >= {"BG101", "BG201", "BG301"}
    statuses = {r["status"] for r in doc["results"]}
    assert {"pass", "fail", "unknown"} <= statuses
    for result in doc["results"]:
        for key in ("rule_id", "status", "severity", "resource_id", "resource_type", "file", "line", "message",
                    "fingerprint"):
            assert key in result
    assert doc["summary"]["by_status"]["fail"] == sum(r["status"] == "fail" for r in doc["results"])


def test_cloudformation_parameters_from_option_and_file(tmp_path):
    template = tmp_path / "t.yaml"
    template.write_text(PARAM_TEMPLATE)
    unknown = results_of(lint(str(template), "-f", "json").output)
    assert [r["status"] for r in unknown if r["rule_id"] == "BG101"] == ["unknown"]
    assert "parameter 'Days'" in next(r["message"] for r in unknown if r["rule_id"] == "BG101")
    given = results_of(lint(str(template), "-f", "json", "--parameter", "Days=10").output)
    assert [r["status"] for r in given if r["rule_id"] == "BG101"] == ["fail"]
    params = tmp_path / "params.json"
    params.write_text(json.dumps([{"ParameterKey": "Days", "ParameterValue": "40"}]))
    from_file = results_of(lint(str(template), "-f", "json", "--parameters-file", str(params)).output)
    assert [r["status"] for r in from_file if r["rule_id"] == "BG101"] == ["pass"]


def test_rule_parameter_overrides_and_their_errors(tmp_path):
    template = tmp_path / "t.yaml"
    template.write_text(PARAM_TEMPLATE)
    relaxed = lint(str(template), "-f", "json", "--parameter", "Days=10", "--param", "BG101.required_retention_days=7")
    assert [r["status"] for r in results_of(relaxed.output) if r["rule_id"] == "BG101"] == ["pass"]
    for bad, message in [
        ("BG101.required_retention_days=many", "not a valid integer"),
        ("BG101.nope=1", "has no parameter 'nope'"),
        ("BG777.x=1", "no rule BG777"),
        ("BG101", "expected RULE.PARAMETER=VALUE"),
        ("BG101.required_frequency_unit=weeks", "must be one of"),
    ]:
        result = lint(str(template), "--param", bad)
        assert result.exit_code == 2, bad
        assert message in result.output


def test_config_file(tmp_path):
    template = tmp_path / "t.yaml"
    template.write_text(PARAM_TEMPLATE)
    config = tmp_path / "bg.yaml"
    config.write_text("parameters:\n  BG101:\n    required_retention_days: 7\nfail_on: critical\n")
    result = lint(str(template), "--config", str(config), "--parameter", "Days=10", "-f", "json")
    assert result.exit_code == 0
    assert [r["status"] for r in results_of(result.output) if r["rule_id"] == "BG101"] == ["pass"]
    config.write_text("paramters: {}\n")
    assert "unknown key(s) paramters" in lint(str(template), "--config", str(config)).output


def test_a_broken_file_is_one_located_error_and_the_others_are_scanned(tmp_path):
    (tmp_path / "broken.yaml").write_text("Resources:\n  A:\n    Type: [unclosed\n")
    (tmp_path / "good.yaml").write_text((EXAMPLES / "noncompliant" / "backup-estate.yaml").read_text())
    result = lint(str(tmp_path), "-f", "json")
    assert result.exit_code == 2
    results = results_of(result.output)
    errors = [r for r in results if r["status"] == "error"]
    assert len(errors) == 1 and errors[0]["file"].endswith("broken.yaml") and errors[0]["line"] >= 3
    assert any(r["status"] == "fail" and r["file"].endswith("good.yaml") for r in results)
    assert "Traceback" not in result.output


def test_framework_selection(tmp_path):
    result = lint(str(EXAMPLES / "noncompliant"), "--framework", "aws-backup-audit-manager", "-f", "json")
    doc = json.loads(result.output)
    results = doc["results"]
    mapped = {"BG101", "BG204", "BG401", "BG403", "BG404", "BG405", "BG406", "BG407", "BG408", "BG409", "BG413"}
    assert {r["rule_id"] for r in results} <= mapped
    assert all(r["frameworks"] and r["frameworks"][0].startswith("aws-backup-audit-manager:") for r in results)
    # A result shared by several controls (BG401) is reported once, tagged with each control.
    bg401 = [r for r in results if r["rule_id"] == "BG401" and r["resource_id"] == "SessionsTable"]
    assert len(bg401) == 1 and len(bg401[0]["frameworks"]) == 5
    controls = {c["id"]: c for c in doc["frameworks"][0]["controls"]}
    assert controls["BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"]["status"] == "fail"
    assert controls["BACKUP_LAST_RECOVERY_POINT_CREATED"]["status"] == "not_applicable"
    assert controls["BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"]["results"]["fail"] == 3
    missing = lint(str(EXAMPLES), "--framework", "nist")
    assert missing.exit_code == 2 and "no framework 'nist'" in missing.output


def test_rules_explain_and_frameworks_commands():
    listed = json.loads(runner.invoke(app, ["rules", "--format", "json"]).output)
    bg101 = next(r for r in listed if r["id"] == "BG101")
    assert bg101["references"]["audit_manager_control"] == "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"
    assert bg101["parameters"]["required_retention_days"]["default"] == 35
    page = runner.invoke(app, ["explain", "bg101"])  # rendered for reading: no Markdown marks
    assert page.exit_code == 0 and "How to fix it\n-------------\n" in page.output and "## " not in page.output
    source = runner.invoke(app, ["explain", "bg101", "--markdown"])
    assert source.exit_code == 0 and "## How to fix it" in source.output
    assert runner.invoke(app, ["explain", "cold-storage-minimum-90-days"]).output.startswith("BG102: ")
    assert runner.invoke(app, ["explain", "BG000x"]).exit_code == 2
    frameworks = json.loads(runner.invoke(app, ["frameworks", "--format", "json"]).output)
    assert frameworks[0]["id"] == "aws-backup-audit-manager"


def test_missing_path_is_an_input_error(tmp_path):
    result = lint(str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


def test_lint_never_imports_boto3():
    code = (
        "import sys\n"
        "from backupguard.cli import app\n"
        f"try:\n    app(['lint', {str(EXAMPLES)!r}], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_module_entry_point_prints_version():
    out = subprocess.run([sys.executable, "-m", "backupguard", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("backupguard ")
