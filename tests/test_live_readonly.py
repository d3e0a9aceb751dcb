"""The live scanner is read-only by construction: writes are refused before they are sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("boto3")
pytest.importorskip("moto")

from moto import mock_aws  # noqa: E402

from backupguard.scanner.aws import readonly  # noqa: E402
from backupguard.scanner.aws.session import Access, Connector  # noqa: E402


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1", "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_write_is_refused_before_it_is_sent():
    import boto3

    with mock_aws():
        boto3.client("backup", "eu-west-1").create_backup_vault(BackupVaultName="keep")
        boto3.client("s3", "eu-west-1").create_bucket(Bucket="keep-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        sent: list[str] = []
        connector = Connector(observer=lambda service, op: sent.append(f"{service}:{op}"))
        backup = connector.caller().client("backup", "eu-west-1")
        with pytest.raises(readonly.ReadOnlyViolation, match="backup:DeleteBackupVault"):
            backup.delete_backup_vault(BackupVaultName="keep")
        s3 = connector.caller().client("s3", "eu-west-1")
        with pytest.raises(readonly.ReadOnlyViolation, match="s3:PutObject"):
            s3.put_object(Bucket="keep-bucket", Key="x", Body=b"x")
        # nothing reached moto: the vault is still there, the bucket still empty
        assert [v["BackupVaultName"] for v in boto3.client("backup", "eu-west-1").list_backup_vaults()["BackupVaultList"]] == ["keep"]
        assert boto3.client("s3", "eu-west-1").list_objects_v2(Bucket="keep-bucket").get("KeyCount") == 0
        assert sent == ["sts:GetCallerIdentity"]  # the observer runs after the guard: refused calls never count
        # an allowed call goes through the same client
        assert backup.list_backup_vaults()["BackupVaultList"][0]["BackupVaultName"] == "keep"


def test_assumed_role_sessions_are_guarded_too():
    with mock_aws():
        connector = Connector(role_name="BackupguardScan")
        member = connector.access("111111111111")
        assert isinstance(member, Access) and member.account == "111111111111"
        with pytest.raises(readonly.ReadOnlyViolation):
            member.client("backup", "eu-west-1").create_backup_vault(BackupVaultName="x")
        assert member.client("backup", "eu-west-1").list_backup_vaults()["BackupVaultList"] == []


def test_shipped_iam_policy_is_the_allow_list():
    shipped = json.loads(readonly.POLICY_FILE.read_text())
    assert shipped == readonly.iam_policy()
    actions = shipped["Statement"][0]["Action"]
    assert all(a.split(":")[1].startswith(("List", "Get", "Describe")) or a in ("sts:AssumeRole",) for a in actions)
    assert "elasticfilesystem:DescribeBackupPolicy" in actions and "s3:ListAllMyBuckets" in actions
    assert "s3:GetBucketObjectLockConfiguration" in actions


def test_iam_prefixes_match_botocore_signing_names():
    import botocore.session

    session = botocore.session.get_session()
    # IAM's service prefix is the signing name, except where the Service Authorization Reference says
    # otherwise: the Resource Groups Tagging API signs as "tagging", and its IAM actions are tag:*.
    signed_otherwise = {"resourcegroupstaggingapi": "tagging"}
    for service, operations in readonly.ALLOWED.items():
        model = session.get_service_model(service)
        assert signed_otherwise.get(service, readonly.IAM_PREFIX.get(service, service)) == model.signing_name, service
        assert operations <= set(model.operation_names), service
    assert readonly.iam_action("resourcegroupstaggingapi", "GetResources") == "tag:GetResources"


def test_importing_the_live_package_does_not_import_boto3():
    code = "import sys, backupguard.scanner.aws, backupguard.cli; print([m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ.copy())
    assert out.stdout.strip() == "[]"
