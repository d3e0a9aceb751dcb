"""Shared test helpers: lint a template in-process and index its results."""

from __future__ import annotations

from pathlib import Path

import pytest

from backupguard.config import UserConfig, build_checks
from backupguard.frameworks import load_frameworks
from backupguard.results import Result
from backupguard.rules import load_catalogue
from backupguard.rules.engine import run
from backupguard.scanner import ScanOptions, scan
from backupguard.scanner.cloudformation import CfnOptions

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"


def lint_paths(paths: list[Path], params: dict | None = None, frameworks: list[str] | None = None, **cfn) -> list[Result]:
    checks = build_checks(load_catalogue(), load_frameworks(), frameworks or [], UserConfig(), params or {})
    return run(scan(paths, ScanOptions(cfn=CfnOptions(**cfn))), checks)


@pytest.fixture
def lint_text(tmp_path):
    """Lint template text (YAML or JSON) written to a temporary file."""

    def lint(text: str, name: str = "template.yaml", **kwargs) -> list[Result]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return lint_paths([path], **kwargs)

    return lint


def by_rule(results: list[Result], rule_id: str) -> list[Result]:
    return [r for r in results if r.rule_id == rule_id]


def status_of(results: list[Result], rule_id: str, resource_id: str) -> set[str]:
    return {r.status for r in results if r.rule_id == rule_id and r.resource_id == resource_id}


# A plan whose retention is a CloudFormation parameter without a default (BG101 unknown until it is given).
PARAM_TEMPLATE = """\
Parameters:
  Days:
    Type: Number
Resources:
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: p
        BackupPlanRule:
          - RuleName: daily
            TargetBackupVault: v
            ScheduleExpression: cron(0 5 ? * * *)
            Lifecycle:
              DeleteAfterDays: !Ref Days
"""
