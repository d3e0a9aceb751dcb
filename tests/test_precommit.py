"""The pre-commit hooks of .pre-commit-hooks.yaml, run by pre-commit itself in a temporary git repository.

The hooks are declared `repo: local` with this repository's definitions (entry, files, pass_filenames,
require_serial, args) and `language: system` pointing at this environment's `backupguard`, so nothing
is downloaded. Skipped when git or pre-commit is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))}
BIN = Path(sys.executable).parent
BACKUPGUARD = BIN / "backupguard"

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(not BACKUPGUARD.exists(), reason="backupguard is not installed in this environment"),
]
pre_commit = pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install -e '.[test]')")


FAILING_STACK = """\
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: main
"""

COMPLIANT_STACK = (ROOT / "examples" / "compliant" / "backup-estate.yaml").read_text("utf-8")

VAULT_TF = """\
resource "aws_kms_key" "backup" {
  enable_key_rotation = true
}

resource "aws_backup_vault" "main" {
  name        = "tf-main"
  kms_key_arn = aws_kms_key.backup.arn
}
"""

PLAN_TF = """\
resource "aws_backup_plan" "daily" {
  name = "daily"
  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.main.name
    schedule          = "cron(0 5 ? * * *)"
    lifecycle {
      delete_after = 7
    }
  }
}
"""

NON_IAC = {
    "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
    ".github/workflows/ci.yml": "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
    "package.json": '{"name": "web", "version": "1.0.0", "scripts": {"test": "jest"}}\n',
    "README.md": "# infra\n\nSee `stacks/`.\n",
}


def _local_hook(hook_id: str, **override) -> dict:
    """This repository's hook definition, run from this environment instead of a pre-commit venv."""
    hook = dict(HOOKS[hook_id])
    command, *rest = hook["entry"].split()
    assert command == "backupguard"
    hook.update(entry=" ".join([str(BACKUPGUARD), *rest]), language="system", **override)
    hook.pop("minimum_pre_commit_version", None)
    return hook


class Repo:
    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        home = path.parent / "home"
        home.mkdir(exist_ok=True)
        self.env = {
            **os.environ, "HOME": str(home), "PRE_COMMIT_HOME": str(path.parent / "pre-commit-cache"),
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "NO_COLOR": "1",
        }
        self.env.pop("GIT_DIR", None)
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True, check=True)
        return done.stdout

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def configure(self, *hooks: dict) -> None:
        config = {"repos": [{"repo": "local", "hooks": list(hooks)}]}
        self.write({".pre-commit-config.yaml": yaml.safe_dump(config, sort_keys=False)})

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--color", "never", *args], cwd=self.path,
                              env=self.env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def mixed_commit(tmp_path_factory) -> subprocess.CompletedProcess:
    """A repository whose Terraform vault is committed; then a commit stages a failing template, the
    module's plan file, and non-IaC YAML, JSON and Markdown. pre-commit runs the backupguard hook on it."""
    repo = Repo(tmp_path_factory.mktemp("precommit") / "repo")
    repo.write({"infra/vault.tf": VAULT_TF, "README.md": NON_IAC["README.md"]})
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "initial")
    repo.configure(_local_hook("backupguard"))
    repo.write({"stacks/backup.yaml": FAILING_STACK, "infra/main.tf": PLAN_TF, **NON_IAC})
    repo.write({"README.md": NON_IAC["README.md"] + "\nChanged.\n"})
    repo.git("add", "-A")
    return repo.pre_commit("backupguard")


def test_the_finding_fails_the_hook(mixed_commit):
    out = mixed_commit.stdout + mixed_commit.stderr
    assert mixed_commit.returncode == 1, out
    assert "backupguard" in out and "Failed" in out
    assert "stacks/backup.yaml" in out and "BG201" in out and "Vault: vault 'main'" in out


def test_terraform_files_are_read_with_their_module(mixed_commit):
    """Only main.tf is staged; its plan targets the vault declared in the committed vault.tf, and the
    vault's own findings (vault.tf) are reported: the module is linted whole."""
    out = mixed_commit.stdout
    assert "infra/main.tf" in out and "BG101" in out  # a 7-day retention
    assert "infra/vault.tf" in out and "aws_backup_vault.main" in out


def test_files_the_hook_does_not_match_are_not_passed(mixed_commit):
    assert "README.md" not in mixed_commit.stdout


def test_non_iac_files_are_not_reported_as_broken(mixed_commit):
    """The Kubernetes manifest, the workflow, package.json and the pre-commit config are named by
    pre-commit but are not IaC: no input error (BG000), and the hook fails for the findings (exit 1), not 2."""
    out = mixed_commit.stdout
    assert "BG000" not in out and "note: k8s/deployment.yaml: not a CloudFormation template" in out, out
    assert "- exit code: 1" in out, out


def test_a_compliant_change_with_non_iac_files_passes(tmp_path):
    repo = Repo(tmp_path / "repo")
    # the plan is compliant; its vault's own controls (lock, key, policy) are left to other tests
    repo.configure(_local_hook("backupguard", args=["--region", "us-east-1", "--account-id", "111122223333",
                                                    "--check", "BG1*,BG4*"]))
    repo.write({"stacks/backup.yaml": COMPLIANT_STACK, **NON_IAC})
    repo.git("add", "-A")
    done = repo.pre_commit("backupguard")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


CROSS_FILE_PLAN = """\
Resources:
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: daily
        BackupPlanRule:
          - RuleName: daily
            TargetBackupVault: main
            ScheduleExpression: cron(0 5 * * ? *)
            Lifecycle: {DeleteAfterDays: 35}
  Selection:
    Type: AWS::Backup::BackupSelection
    Properties:
      BackupPlanId: !Ref Plan
      BackupSelection:
        SelectionName: tagged
        IamRoleArn: arn:aws:iam::111122223333:role/backup
        ListOfTags:
          - {ConditionType: STRINGEQUALS, ConditionKey: backup, ConditionValue: daily}
"""

CROSS_FILE_TABLE = """\
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
      DeletionProtectionEnabled: true
      Tags: [{Key: backup, Value: daily}]
"""


def test_the_repository_hook_sees_coverage_across_files(tmp_path):
    """The table's backup plan is in another, unchanged file: the per-file hook cannot see it (BG401
    fails), the repository hook can."""
    repo = Repo(tmp_path / "repo")
    context = ["--region", "us-east-1", "--account-id", "111122223333", "--fail-on", "never", "--show-passed"]
    repo.configure(_local_hook("backupguard", args=context), _local_hook("backupguard-repo", args=[".", *context],
                                                                         verbose=True))
    repo.write({"backup/plan.yaml": CROSS_FILE_PLAN})
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "plan")
    repo.write({"app/table.yaml": CROSS_FILE_TABLE})
    repo.git("add", "-A")
    per_file = repo.pre_commit("backupguard", "--verbose")
    whole = repo.pre_commit("backupguard-repo", "--verbose")
    assert per_file.returncode == whole.returncode == 0, per_file.stdout + whole.stdout
    assert "FAIL    high     BG401  Table: no backup plan selects" in per_file.stdout
    assert "PASS    high     BG401  Table: protected by plan 'daily'" in whole.stdout
