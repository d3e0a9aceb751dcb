"""``backupguard scan`` end to end through the CLI, against moto (no AWS account, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app

moto = pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with moto.mock_aws():
        yield boto3.client("backup", region_name="us-east-1")


def test_scan_runs_the_same_rules_on_the_live_account_and_says_what_it_could_not_read(aws):
    aws.create_backup_vault(BackupVaultName="main")
    plan = aws.create_backup_plan(BackupPlan={"BackupPlanName": "weekly", "Rules": [{
        "RuleName": "w", "TargetBackupVaultName": "main", "ScheduleExpression": "cron(0 5 ? * 1 *)",
        "Lifecycle": {"DeleteAfterDays": 7}}]})
    result = CliRunner().invoke(app, ["scan", "--region", "us-east-1", "--format", "json", "--quiet"])
    doc = json.loads(result.stdout)
    # moto lacks some AWS Backup operations: each is an error of its scope, and the scan goes on.
    assert result.exit_code == 3
    assert result.stderr.startswith("backupguard: the scan is incomplete: ")
    assert "account 123456789012, Region us-east-1, backup: ListBackupSelections failed" in result.stderr
    assert doc["scan"]["kind"] == "live" and doc["scan"]["accounts"] == ["123456789012"]
    assert doc["scan"]["regions_read"] == ["us-east-1"] and doc["scan"]["errors"] == doc["summary"]["by_status"]["error"]
    bg101 = [r for r in doc["results"] if r["rule_id"] == "BG101"]
    assert [(r["status"], r["resource_id"]) for r in bg101] == [("fail", plan["BackupPlanArn"])]
    assert bg101[0]["message"].startswith("rule 'w': backups up to 168 hours apart (cron(0 5 ? * 1 *)), retention 7 days")
    statuses = {r["rule_id"]: r["status"] for r in doc["results"] if r["resource_id"] and r["resource_id"].endswith("backup-vault:main")}
    assert statuses["BG201"] == "fail" and statuses["BG202"] == "fail"  # aws/backup key; no Vault Lock


def test_the_same_scan_gives_byte_identical_json(aws):
    aws.create_backup_vault(BackupVaultName="main")
    first = CliRunner().invoke(app, ["scan", "--region", "us-east-1", "--format", "json", "--quiet"]).stdout
    second = CliRunner().invoke(app, ["scan", "--region", "us-east-1", "--format", "json", "--quiet"]).stdout
    assert first == second


@pytest.mark.parametrize(("args", "message"), [
    (["--shard", "4/4"], "--shard '4/4': expected I/N with 0 <= I < N (0-based, as Kubernetes and AWS Batch array indexes)"),
    (["--shard", "x"], "--shard 'x': expected I/N with 0 <= I < N (0-based, as Kubernetes and AWS Batch array indexes)"),
    (["--account", "12345"], "not a 12-digit AWS account ID: '12345'"),
    (["--account", "123456789012"], "--account without --org needs --role-name to enter the accounts"),
])
def test_scan_options_are_checked_before_any_call(args, message):
    result = CliRunner().invoke(app, ["scan", *args])
    assert result.exit_code == 2
    assert result.stderr == f"backupguard: error: {message}\n"


def test_iam_policy_prints_the_shipped_policy():
    shipped = Path(__file__).resolve().parents[1] / "src" / "backupguard" / "scanner" / "aws" / "iam-policy.json"
    result = CliRunner().invoke(app, ["iam-policy"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == json.loads(shipped.read_text("utf-8"))
    actions = printed["Statement"][0]["Action"]
    assert all(a.split(":")[1].startswith(("List", "Get", "Describe")) for a in actions if not a.startswith("sts:"))


def test_scan_without_boto3_says_how_to_install_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real(name, *a))
    result = CliRunner().invoke(app, ["scan", "--region", "us-east-1"])
    assert result.exit_code == 2
    assert result.stderr == 'backupguard: error: live scanning needs boto3: pip install "backupguard[aws]"\n'
