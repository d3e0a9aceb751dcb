"""backupguard export: a framework as native AWS resources (Audit Manager framework in CloudFormation
and Terraform, Config conformance pack), checked by backupguard itself, by the CloudFormation
resource schemas (cfn-lint), and read back through our own scanners."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.export import Request, export
from backupguard.export.controls import audit_manager
from backupguard.export.config_rules import config_rules
from backupguard.export.terraform import string as hcl_string
from backupguard.frameworks import load_frameworks
from backupguard.pipeline import settings
from backupguard.rules import load_catalogue
from backupguard.scanner import ScanOptions, scan

runner = CliRunner()
SHIPPED = sorted(load_frameworks())
AUDIT = "aws-backup-audit-manager"
# AWS's defaults, as the aws-backup-audit-manager framework sets them (shared reference, section 1.2).
AUDIT_DEFAULTS = {
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN": {},
    "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": {
        "requiredFrequencyUnit": "days", "requiredFrequencyValue": "1", "requiredRetentionDays": "35"},
    "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": {},
    "BACKUP_RECOVERY_POINT_ENCRYPTED": {},
    "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK": {"requiredRetentionDays": "35"},
    "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION": {},
    "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT": {},
    "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK": {},
    "BACKUP_LAST_RECOVERY_POINT_CREATED": {"recoveryPointAgeUnit": "days", "recoveryPointAgeValue": "1"},
    "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET": {"maxRestoreTime": "720"},
    "RESOURCES_IN_LOGICALLY_AIR_GAPPED_VAULT": {"recoveryPointAgeUnit": "days", "recoveryPointAgeValue": "1"},
}


@pytest.fixture(autouse=True)
def _no_config(tmp_path, monkeypatch):
    """No .backupguard.yaml of the checkout: each test runs in its own folder."""
    monkeypatch.chdir(tmp_path)


def run_export(*args: str, code: int = 0):
    result = runner.invoke(app, ["export", *args])
    assert result.exit_code == code, result.stderr
    return result


def exported(framework: str, fmt: str, *args: str) -> str:
    return run_export("--framework", framework, "--format", fmt, *args).stdout


def controls_in(estate) -> dict[str, dict]:
    """The Estate's one framework, as {control: {"parameters": {...}, "types": [...], "tags": {...}}}, whichever
    source spelt it (CloudFormation's FrameworkControls, Terraform's control blocks)."""
    assert len(estate.frameworks) == 1, estate.errors
    found = {}
    for control in estate.frameworks[0].controls:
        if "ControlName" in control:  # CloudFormation
            scope = control.get("ControlScope") or {}
            found[control["ControlName"]] = {
                "parameters": {p["ParameterName"]: p["ParameterValue"] for p in control.get("ControlInputParameters") or []},
                "types": list(scope.get("ComplianceResourceTypes") or []),
                "tags": {t["Key"]: t["Value"] for t in scope.get("Tags") or []},
            }
        else:  # Terraform
            scope = (control.get("scope") or [{}])[0]
            found[control["name"]] = {
                "parameters": {p["name"]: p["value"] for p in control.get("input_parameter") or []},
                "types": list(scope.get("compliance_resource_types") or []),
                "tags": dict(scope.get("tags") or {}),
            }
    return found


def read_back(tmp_path: Path, text: str, name: str):
    folder = tmp_path / name.replace(".", "_")
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    estate = scan([folder], ScanOptions())
    assert not estate.errors, estate.errors
    return estate


def lint_results(path: Path) -> list[dict]:
    result = runner.invoke(app, ["lint", str(path), "--format", "json", "--fail-on", "never"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["results"]


# -- (1) backupguard lint passes its own output ------------------------------------------------------


@pytest.mark.parametrize("framework", SHIPPED)
@pytest.mark.parametrize("fmt", ["cloudformation", "terraform"])
def test_the_export_passes_backupguards_own_framework_and_report_plan_rules(framework, fmt, tmp_path):
    text = exported(framework, fmt, "--report-plan", "control")
    path = tmp_path / ("framework.yaml" if fmt == "cloudformation" else "main.tf")
    path.write_text(text, encoding="utf-8")
    results = [r for r in lint_results(path) if r["rule_id"] in ("BG601", "BG602", "BG603")]
    assert sorted((r["rule_id"], r["status"]) for r in results) == [("BG601", "pass"), ("BG602", "pass"), ("BG603", "pass")]


# -- (2) the CloudFormation resource schemas (cfn-lint) ----------------------------------------------


def cfn_lint(text: str) -> list[str]:
    import cfnlint.api

    return [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in cfnlint.api.lint(text, regions=["us-east-1"])]


@pytest.mark.parametrize("framework", SHIPPED)
def test_the_cloudformation_export_validates_against_the_resource_schemas(framework):
    for args in ((), ("--report-plan", "resource"), ("--report-plan", "control", "--report-bucket", "audit-reports")):
        assert cfn_lint(exported(framework, "cloudformation", *args)) == []


@pytest.mark.parametrize("framework", SHIPPED)
def test_the_conformance_pack_validates_against_the_config_rule_schema(framework):
    text = exported(framework, "conformance-pack")
    assert cfn_lint(text) == []
    rules = yaml.safe_load(text)["Resources"].values()
    assert rules and all(r["Type"] == "AWS::Config::ConfigRule" and r["Properties"]["Source"]["Owner"] == "AWS" for r in rules)


def test_the_schema_validation_would_catch_a_broken_export():
    """The check above is not vacuous: a misspelt property and a wrong type are schema errors."""
    text = exported(AUDIT, "cloudformation").replace("ControlName: BACKUP_RECOVERY_POINT_ENCRYPTED", "ControlNam: X", 1)
    text = text.replace("FrameworkControls:", "FrameworkControls: 3\n      Unused:", 1)
    assert len(cfn_lint(text)) >= 1


# -- (3) round trip through our scanners -------------------------------------------------------------


def test_audit_manager_framework_round_trips_through_cloudformation_and_terraform(tmp_path):
    cfn = controls_in(read_back(tmp_path, exported(AUDIT, "cloudformation"), "framework.yaml"))
    tf = controls_in(read_back(tmp_path, exported(AUDIT, "terraform"), "main.tf"))
    framework = load_frameworks()[AUDIT]
    assert set(cfn) == {c.id for c in framework.controls} == set(AUDIT_DEFAULTS)  # the framework's own control IDs
    assert {name: c["parameters"] for name, c in cfn.items()} == AUDIT_DEFAULTS
    assert all(c["types"] == [] and c["tags"] == {} for c in cfn.values())
    assert tf == cfn


@pytest.mark.parametrize("framework", SHIPPED)
def test_every_framework_round_trips_with_the_controls_its_rules_reference(framework, tmp_path):
    cfn = controls_in(read_back(tmp_path, exported(framework, "cloudformation"), "framework.yaml"))
    tf = controls_in(read_back(tmp_path, exported(framework, "terraform"), "main.tf"))
    assert tf == cfn
    rules = load_catalogue()
    referenced = {str(rules[m.rule_id].references.get("audit_manager_control") or "").split(" ")[0]
                  for c in load_frameworks()[framework].controls for m in c.rules} - {""}
    assert set(cfn) == referenced


def test_a_scope_by_resource_type_becomes_aws_backup_resource_types(tmp_path):
    """Security Hub's DynamoDB.4, EC2.28, EFS.2 and RDS.26 are one Audit Manager control over four types."""
    cfn = controls_in(read_back(tmp_path, exported("aws-security-hub", "cloudformation"), "framework.yaml"))
    assert cfn["BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"]["types"] == ["DynamoDB", "EBS", "EFS", "RDS"]
    assert cfn["BACKUP_RECOVERY_POINT_ENCRYPTED"]["types"] == []


# -- (4) parameters -----------------------------------------------------------------------------------


def test_param_changes_the_exported_values(tmp_path):
    args = ("--param", "BG101.required_retention_days=90", "--param", "BG407.recovery_point_age_value=12",
            "--param", "BG407.recovery_point_age_unit=hours")
    for fmt, name in (("cloudformation", "framework.yaml"), ("terraform", "main.tf")):
        found = controls_in(read_back(tmp_path, exported(AUDIT, fmt, *args), name))
        assert found["BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"]["parameters"]["requiredRetentionDays"] == "90"
        assert found["BACKUP_LAST_RECOVERY_POINT_CREATED"]["parameters"] == {"recoveryPointAgeUnit": "hours", "recoveryPointAgeValue": "12"}
        # another rule's parameter of the same name keeps its value
        assert found["BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK"]["parameters"] == {"requiredRetentionDays": "35"}
    pack = yaml.safe_load(exported(AUDIT, "conformance-pack", *args))["Resources"]
    assert pack["BackupPlanMinFrequencyAndMinRetentionCheck"]["Properties"]["InputParameters"]["requiredRetentionDays"] == "90"
    assert pack["Ec2LastBackupRecoveryPointCreated"]["Properties"]["InputParameters"] == {
        "recoveryPointAgeUnit": "hours", "recoveryPointAgeValue": "12"}


def test_the_config_files_parameters_flow_into_the_export_and_param_wins(tmp_path):
    config = tmp_path / "bg.yaml"
    config.write_text("parameters:\n  BG204:\n    principal_arn_list: [arn:aws:iam::111122223333:role/Break]\n"
                      "  BG408:\n    max_restore_time_minutes: 240\n", encoding="utf-8")
    found = controls_in(read_back(tmp_path, exported(AUDIT, "cloudformation", "--config", str(config),
                                                     "--param", "BG408.max_restore_time_minutes=60"), "framework.yaml"))
    assert found["BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"]["parameters"] == {
        "principalArnList": "arn:aws:iam::111122223333:role/Break"}
    assert found["RESTORE_TIME_FOR_RESOURCES_MEET_TARGET"]["parameters"] == {"maxRestoreTime": "60"}


def test_a_value_beyond_awss_range_is_converted_or_listed_never_exported_as_is():
    two_days = exported(AUDIT, "cloudformation", "--param", "BG101.required_frequency_unit=hours",
                        "--param", "BG101.required_frequency_value=48")
    control = next(c for c in yaml.safe_load(two_days)["Resources"]["Framework"]["Properties"]["FrameworkControls"]
                   if c["ControlName"] == "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK")
    assert {p["ParameterName"]: p["ParameterValue"] for p in control["ControlInputParameters"]} == {
        "requiredFrequencyUnit": "days", "requiredFrequencyValue": "2", "requiredRetentionDays": "35"}
    result = run_export("--framework", AUDIT, "--format", "cloudformation", "--param", "BG101.required_frequency_value=40")
    assert "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" not in result.stdout.split("Resources:")[1]
    assert "BG101 (BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK): " in result.stderr
    assert "requiredFrequencyValue 40 days is outside the range AWS accepts (1-31 days)" in result.stdout.split("Resources:")[0]


def test_an_unknown_parameter_is_a_usage_error():
    result = run_export("--framework", AUDIT, "--format", "terraform", "--param", "BG101.nope=1", code=2)
    assert "rule BG101 has no parameter 'nope'" in result.stderr


# -- (5) nothing is dropped silently --------------------------------------------------------------


@pytest.mark.parametrize("framework", SHIPPED)
@pytest.mark.parametrize("kind", ["audit-manager", "config"])
def test_every_rule_of_the_framework_is_exported_or_listed(framework, kind):
    run = settings(None, [framework], [])
    mapped = (audit_manager if kind == "audit-manager" else config_rules)(run.frameworks[framework], run.checks)
    exported_pairs = {(s.control, s.rule) for item in mapped.items for s in item.sources}
    listed = {(u.control, u.rule) for u in mapped.unmapped}
    expected = {(c.id, m.rule_id) for c in run.frameworks[framework].controls for m in c.rules}
    assert exported_pairs | listed == expected


def test_rules_without_a_native_equivalent_are_listed_in_the_file_and_on_stderr():
    result = run_export("--framework", "hipaa-164-308-a-7", "--format", "terraform")
    header = result.stdout.split("resource ")[0]
    for rule, control in (("BG604", "164.308(a)(7)(ii)(D)"), ("BG201", "164.312(a)(2)(iv)"), ("BG301", "164.308(a)(7)(ii)(A)")):
        assert f"#   {rule} ({control}): no Audit Manager control corresponds" in header
        assert f"  {rule} ({control}): no Audit Manager control corresponds" in result.stderr
    assert "not exported, 4 rule(s)" in result.stderr
    # BG301 has a Config rule: the conformance pack exports it, and lists what it cannot
    pack = run_export("--framework", "hipaa-164-308-a-7", "--format", "conformance-pack")
    assert "DynamodbPitrEnabled:" in pack.stdout and "BG301" not in pack.stderr
    assert "BG604 (164.308(a)(7)(ii)(D)): no AWS Config managed rule corresponds" in pack.stderr


def _user_framework(tmp_path: Path, controls: str) -> Path:
    folder = tmp_path / "frameworks"
    folder.mkdir()
    (folder / "mine.yaml").write_text(
        "id: my-policy\ntitle: Costs ${var.x} %{if}\ndescription: mine\nsource_url: https://example.com\n"
        f"controls:\n{controls}", encoding="utf-8")
    return folder


def test_scope_tags_conflicts_and_what_aws_cannot_scope(tmp_path):
    folder = _user_framework(tmp_path, """\
  - id: prod-plans
    title: t
    source: the production plans keep 90 days
    scope: {tags: {Env: prod}}
    rules: [{rule: BG101, parameters: {required_retention_days: 90}}]
  - id: all-plans
    title: t
    source: every plan keeps 35 days at least
    rules: [{rule: BG101}]
  - id: tables
    title: t
    source: tables with two tags are in a backup plan
    scope: {resource_types: [AWS::DynamoDB::Table], tags: {Env: prod, Team: data}}
    rules: [{rule: BG401}]
""")
    result = run_export("--framework", "my-policy", "--format", "cloudformation", "--frameworks-dir", str(folder))
    found = controls_in(read_back(tmp_path, result.stdout, "framework.yaml"))
    assert found["BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"]["tags"] == {"Env": "prod"}
    assert found["BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"]["parameters"]["requiredRetentionDays"] == "90"
    assert found["BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"] == {"parameters": {}, "types": ["DynamoDB"], "tags": {}}
    assert "BG101 (all-plans): BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK is exported already" in result.stderr
    assert "note: tables BG401: BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN takes one tag; exported without" in result.stderr
    assert cfn_lint(result.stdout) == []
    terraform = run_export("--framework", "my-policy", "--format", "terraform", "--frameworks-dir", str(folder)).stdout
    assert controls_in(read_back(tmp_path, terraform, "main.tf")) == found
    assert 'description = "Costs $${var.x} %%{if} (backupguard framework my-policy)"' in terraform


def test_a_conformance_pack_keeps_the_variants_a_scope_names(tmp_path):
    folder = _user_framework(tmp_path, """\
  - id: volumes
    title: t
    source: production volumes are in a backup plan
    scope: {resource_types: [AWS::EC2::Volume], tags: {Env: prod}}
    rules: [{rule: BG401}]
  - id: clusters
    title: t
    source: clusters keep automated backups a week
    scope: {resource_types: [AWS::Neptune::DBCluster]}
    rules: [{rule: BG303, parameters: {minimum_retention_days: 14}}]
""")
    result = run_export("--framework", "my-policy", "--format", "conformance-pack", "--frameworks-dir", str(folder))
    resources = yaml.safe_load(result.stdout)["Resources"]
    assert sorted(resources) == ["EbsResourcesProtectedByBackupPlan", "NeptuneClusterBackupRetentionCheck"]
    assert resources["EbsResourcesProtectedByBackupPlan"]["Properties"]["Scope"] == {"TagKey": "Env", "TagValue": "prod"}
    assert resources["NeptuneClusterBackupRetentionCheck"]["Properties"]["InputParameters"] == {"minimumBackupRetentionPeriod": "14"}
    assert resources["NeptuneClusterBackupRetentionCheck"]["Properties"]["Source"]["SourceIdentifier"] == \
        "NEPTUNE_CLUSTER_BACKUP_RETENTION_CHECK"
    assert cfn_lint(result.stdout) == []


# -- (6) determinism, output ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["cloudformation", "terraform", "conformance-pack"])
def test_the_output_is_byte_identical_for_the_same_input(fmt, tmp_path):
    first = exported("nist-800-53-r5", fmt, "--param", "BG413.required_retention_days=400", "--param", "BG402.required_retention_days=60")
    second = exported("nist-800-53-r5", fmt, "--param", "BG402.required_retention_days=60", "--param", "BG413.required_retention_days=400")
    assert first == second
    run_export("--framework", "nist-800-53-r5", "--format", fmt, "-o", str(tmp_path / "out"),
               "--param", "BG413.required_retention_days=400", "--param", "BG402.required_retention_days=60")
    assert (tmp_path / "out").read_bytes() == first.encode("utf-8")


def test_output_to_a_file_leaves_stdout_empty_and_says_where(tmp_path):
    target = tmp_path / "framework.yaml"
    result = run_export("--framework", AUDIT, "--format", "cloudformation", "-o", str(target))
    assert result.stdout == ""
    assert f"exported 11 Audit Manager controls from {AUDIT} to {target}" in result.stderr
    assert target.read_text("utf-8").startswith("# Generated by `backupguard export`")


def test_the_framework_name_is_derived_without_hyphens_or_given():
    assert "FrameworkName: hipaa_164_308_a_7\n" in exported("hipaa-164-308-a-7", "cloudformation")
    text = exported(AUDIT, "terraform", "--name", "ProdBackups", "--report-plan", "resource")
    assert 'resource "aws_backup_framework" "ProdBackups"' in text and 'name        = "ProdBackups_report"' in text
    assert 'report_template = "RESOURCE_COMPLIANCE_REPORT"' in text


def test_a_report_bucket_is_written_and_otherwise_a_parameter():
    given = yaml.safe_load(exported(AUDIT, "cloudformation", "--report-plan", "control", "--report-bucket", "audit-reports"))
    assert given["Resources"]["ReportPlan"]["Properties"]["ReportDeliveryChannel"]["S3BucketName"] == "audit-reports"
    assert "Parameters" not in given
    asked = yaml.safe_load(exported(AUDIT, "cloudformation", "--report-plan", "control"))
    assert asked["Resources"]["ReportPlan"]["Properties"]["ReportDeliveryChannel"]["S3BucketName"] == {"Ref": "ReportBucketName"}
    assert asked["Resources"]["ReportPlan"]["Properties"]["ReportSetting"]["FrameworkArns"] == [
        {"Fn::GetAtt": ["Framework", "FrameworkArn"]}]


# -- (7) usage errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (("--framework", "no-such-framework", "--format", "cloudformation"), "no framework 'no-such-framework' (available: aws-backup-audit-manager"),
    (("--framework", AUDIT, "--format", "cloudformation", "--name", "prod-backups"), "a framework name must match [a-zA-Z][_a-zA-Z0-9]*"),
    (("--framework", AUDIT, "--format", "terraform", "--report-bucket", "b-1"), "--report-bucket needs --report-plan"),
    (("--framework", AUDIT, "--format", "terraform", "--report-plan", "control", "--report-bucket", "Bad_Bucket"), "not an S3 bucket name"),
    (("--framework", AUDIT, "--format", "conformance-pack", "--name", "x"), "not a conformance pack"),
    (("--framework", "aws-security-hub", "--format", "terraform", "--param", "BG401.x=1"), "rule BG401 has no parameter 'x'"),
])
def test_bad_requests_are_clear_errors_with_exit_2(args, message):
    result = run_export(*args, code=2)
    assert message in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stderr


def test_a_framework_without_audit_manager_controls_is_an_error_not_an_empty_framework(tmp_path):
    folder = _user_framework(tmp_path, """\
  - id: pitr
    title: t
    source: tables have point-in-time recovery on
    rules: [{rule: BG301}]
""")
    result = run_export("--framework", "my-policy", "--format", "cloudformation", "--frameworks-dir", str(folder), code=2)
    assert "has no rule with an Audit Manager control" in result.stderr and "conformance-pack" in result.stderr


def test_hcl_strings_escape_template_sequences():
    assert hcl_string('a "${b}" %{c} \\ \n') == '"a \\"$${b}\\" %%{c} \\\\ \\n"'


def test_the_api_returns_what_the_cli_prints():
    run = settings(None, [AUDIT], [])
    result = export(run.frameworks[AUDIT], run.checks, Request("terraform"))
    assert result.count == 11 and result.unmapped == () and result.text == exported(AUDIT, "terraform")


def test_a_tag_is_kept_only_where_aws_looks_it_up_on_what_the_rule_checks(tmp_path):
    """A framework scope's tag selects what its rule checks: BG101's tag is on plans, as the plan-level
    control reads it; BG402's is on resources, which that control would look up on plans instead, so
    it is exported without the tag (the control then checks more plans, never fewer) and says why."""
    folder = _user_framework(tmp_path, """\
  - id: prod-resources
    title: t
    source: production resources are backed up daily and kept 90 days
    scope: {tags: {env: prod}}
    rules: [{rule: BG402, parameters: {required_retention_days: 90}}]
  - id: prod-vaults
    title: t
    source: production vaults deny deleting recovery points
    scope: {tags: {env: prod}}
    rules: [{rule: BG204}]
""")
    result = run_export("--framework", "my-policy", "--format", "cloudformation", "--frameworks-dir", str(folder))
    found = controls_in(read_back(tmp_path, result.stdout, "framework.yaml"))
    assert found["BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"]["tags"] == {}
    assert found["BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"]["parameters"]["requiredRetentionDays"] == "90"
    assert found["BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"]["tags"] == {"env": "prod"}  # BG204 checks vaults
    assert ("note: prod-resources BG402: the scope's tag env=prod selects resources here, but "
            "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK would look it up on backup plans; exported without it"
            in result.stderr)


def test_a_conformance_pack_keeps_a_tag_only_where_the_config_rule_reads_it_on_what_the_rule_checks(tmp_path):
    folder = _user_framework(tmp_path, """\
  - id: prod-retention
    title: t
    source: recovery points of production resources are kept 90 days
    scope: {tags: {env: prod}}
    rules: [{rule: BG413, parameters: {required_retention_days: 90}}, {rule: BG431, parameters: {required_retention_days: 90}}]
""")
    result = run_export("--framework", "my-policy", "--format", "conformance-pack", "--frameworks-dir", str(folder))
    assert result.exit_code == 0, result.stderr
    assert ("note: prod-retention BG413: the scope's tag env=prod selects resources here, but "
            "backup-recovery-point-minimum-retention-check would look it up on recovery points; exported without it"
            in result.stderr)
    assert "BG431" not in result.stderr  # it checks recovery points: the tag stays
    # BG413's rule without the tag (every recovery point: more, never fewer), BG431's with it
    assert result.stdout.count("SourceIdentifier: BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK") == 2
    assert result.stdout.count("TagKey: env") == 1 and cfn_lint(result.stdout) == []
