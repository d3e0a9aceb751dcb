"""A reference names an entity of its own template or root module, even when another template linted
in the same run uses the same logical ID (every CloudFormation sample calls its plan ``BackupPlan``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_paths

TEMPLATE = """\
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: {vault}
{lock}
  BackupPlan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: {plan}
        BackupPlanRule:
          - RuleName: daily
            TargetBackupVault: !Ref Vault
            ScheduleExpression: cron(0 5 ? * * *)
            Lifecycle:
              DeleteAfterDays: {days}
  BackupSelection:
    Type: AWS::Backup::BackupSelection
    Properties:
      BackupPlanId: !Ref BackupPlan
      BackupSelection:
        SelectionName: tables
        IamRoleArn: arn:aws:iam::111122223333:role/backup
        Resources:
          - !GetAtt Table.Arn
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: {table}
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{{AttributeName: id, KeyType: HASH}}]
      AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
"""
LOCK = """      LockConfiguration:
        MinRetentionDays: 7
        MaxRetentionDays: 365"""


@pytest.mark.parametrize("placed", [{}, {"region": "us-east-1", "account_id": "111122223333"}], ids=["anonymous", "placed"])
def test_each_template_references_its_own_plan_and_vault(tmp_path: Path, placed: dict):
    (tmp_path / "a.yaml").write_text(TEMPLATE.format(vault="a-vault", lock=LOCK, plan="a-plan", days=35, table="a-table"))
    (tmp_path / "b.yaml").write_text(TEMPLATE.format(vault="b-vault", lock="", plan="b-plan", days=7, table="b-table"))
    results = lint_paths([tmp_path / "a.yaml", tmp_path / "b.yaml"], **placed)

    def verdict(rule: str, name: str) -> tuple[str, str]:
        [found] = [r for r in results if r.rule_id == rule and r.file.endswith(name) and r.resource_id == "Table"]
        return found.status, found.message

    status, message = verdict("BG401", "a.yaml")
    assert status == "pass" and "a-plan" in message and "b-plan" not in message
    status, message = verdict("BG401", "b.yaml")
    assert status == "pass" and "b-plan" in message and "a-plan" not in message
    assert verdict("BG413", "a.yaml")[0] == "pass"  # a-plan keeps 35 days
    assert verdict("BG413", "b.yaml")[0] == "fail"  # b-plan keeps 7
    assert verdict("BG405", "a.yaml")[0] == "pass"  # a's rule targets a's locked vault
    assert verdict("BG405", "b.yaml")[0] == "fail"  # b's vault has no lock
