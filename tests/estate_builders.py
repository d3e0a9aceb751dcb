"""Build file-less estates as a live scan gives them (account, Region, ARN origins), for tests."""

from __future__ import annotations

from backupguard.config import UserConfig, build_checks
from backupguard.estate import (
    BackupPlan, BackupRule, BackupSelection, BackupVault, CopyAction, Estate, Lifecycle, Origin, ProtectedResource,
    VaultLock,
)
from backupguard.frameworks import load_frameworks
from backupguard.rules import load_catalogue
from backupguard.rules.engine import run

A, B = "111111111111", "222222222222"
EAST, WEST = "us-east-1", "eu-west-1"


def live(account: str, region: str, arn: str) -> Origin:
    return Origin(file=None, account=account, region=region, arn=arn, unit=f"{account}/{region}")


def vault_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:backup:{region}:{account}:backup-vault:{name}"


def vault(account: str, region: str, name: str, lock: VaultLock | None = None) -> BackupVault:
    arn = vault_arn(account, region, name)
    return BackupVault(resource_id=arn, name=name, origin=live(account, region, arn), lock=lock)


def plan(account: str, region: str, name: str, days: int, target: str, copies: list[str] = ()) -> BackupPlan:
    arn = f"arn:aws:backup:{region}:{account}:backup-plan:{name}"
    origin = live(account, region, arn)
    rule = BackupRule(
        name="daily", target_vault=target, schedule="cron(0 5 ? * * *)",
        lifecycle=Lifecycle(delete_after_days=days, origin=origin),
        copy_actions=[CopyAction(c, Lifecycle(delete_after_days=days, origin=origin), origin) for c in copies],
        origin=origin,
    )
    return BackupPlan(resource_id=arn, name=name, rules=[rule], origin=origin)


def selection(account: str, region: str, plan_arn: str, resources: list[str]) -> BackupSelection:
    arn = f"{plan_arn}/selection/all"
    return BackupSelection(resource_id=arn, name="all", plan_ref=plan_arn, iam_role_arn="arn:aws:iam::1:role/b",
                           resources=resources, origin=live(account, region, arn))


def volume(account: str, region: str, vol: str) -> ProtectedResource:
    arn = f"arn:aws:ec2:{region}:{account}:volume/{vol}"
    return ProtectedResource(resource_id=arn, resource_type="AWS::EC2::Volume", service="EBS",
                             origin=live(account, region, arn), arn=arn, settings={"encrypted": True})


def results_for(estate: Estate, rule_id: str):
    checks = [c for c in build_checks(load_catalogue(), load_frameworks(), [], UserConfig(), {}) if c.rule.id == rule_id]
    return run(estate, checks)
