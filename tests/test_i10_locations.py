"""Issue 10, locations and vocabulary: results point at the setting that decides them, and speak
the words of the file they come from.

The annotated fixtures ``fixtures/rules/i10-cfn-locations.yaml`` and ``i10-tf-locations/`` state
where each result points (``# @BGnnn`` markers, checked by test_rule_fixtures); this module checks
their messages, plans beside their configuration, the vocabulary of every fixture's and the
corpus's messages, and that live results keep no line.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from backupguard.config import parse_param_options
from backupguard.scanner.cloudformation.loader import load_text

from conftest import CORPUS, lint_paths

RULES = Path(__file__).parent / "fixtures" / "rules"
CFN = RULES / "i10-cfn-locations.yaml"
TF = RULES / "i10-tf-locations"


@lru_cache(maxsize=None)
def _results(path: Path) -> tuple:
    return tuple(lint_paths([path]))


def message(path: Path, rule_id: str, resource: str) -> str:
    found = [r.message for r in _results(path) if r.rule_id == rule_id and r.resource_id == resource]
    assert len(found) == 1, (rule_id, resource, found)
    return found[0]


@pytest.mark.parametrize(("path", "resource", "expected"), [
    (CFN, "DefaultDatabase", "(DeletionProtection: not set)"),
    (CFN, "ExplicitDatabase", "(DeletionProtection: false)"),
    (TF, "aws_db_instance.default", "(deletion_protection: not set)"),
    (TF, "aws_db_instance.explicit", "(deletion_protection: false)"),
])
def test_an_absent_setting_reads_not_set_in_the_source_vocabulary(path: Path, resource: str, expected: str):
    assert message(path, "BG305", resource) == f"deletion protection is not enabled {expected}"


def test_every_native_setting_rule_says_not_set_for_an_absent_terraform_argument():
    """BG304/305/306 showed "false" for an absent Terraform argument; BG301 said "not set"."""
    assert message(TF, "BG301", "aws_dynamodb_table.bare").endswith("(point_in_time_recovery.enabled: not set)")
    assert message(TF, "BG304", "aws_dynamodb_table.bare").endswith("(deletion_protection_enabled: not set)")
    assert message(TF, "BG306", "aws_db_instance.default").endswith("(copy_tags_to_snapshot: not set)")
    assert "(backup_retention_period not set: engine default)" in message(TF, "BG303", "aws_db_instance.default")


@pytest.mark.parametrize(("path", "rule_id", "resource", "expected"), [
    (CFN, "BG305", "ParameterDatabase",
     "Cannot decide: DeletionProtection is unknown (parameter 'Protect' has no default and no value was given"),
    (TF, "BG305", "aws_db_instance.variables", "Cannot decide: deletion_protection is unknown (variable 'protect' has no value)"),
    (CFN, "BG101", "ParameterPlan", "Cannot decide: rule 'daily': Lifecycle.DeleteAfterDays is unknown (parameter 'Retention'"),
    (TF, "BG101", "aws_backup_plan.variable", "Cannot decide: rule 'daily': lifecycle.delete_after is unknown (variable 'retention'"),
    (CFN, "BG201", "ParameterKeyVault", "Cannot decide: EncryptionKeyArn is unknown (parameter 'KeyArn'"),
    (TF, "BG201", "aws_backup_vault.variable", "Cannot decide: kms_key_arn is unknown (variable 'key_arn' has no value)"),
])
def test_an_unknown_names_the_attribute_and_the_reason(path: Path, rule_id: str, resource: str, expected: str):
    assert message(path, rule_id, resource).startswith(expected)


@pytest.mark.parametrize(("path", "resource", "name"), [
    (CFN, "DefaultKeyVault", "EncryptionKeyArn"), (TF, "aws_backup_vault.default", "kms_key_arn"),
])
def test_a_vault_without_a_key_names_the_missing_attribute(path: Path, resource: str, name: str):
    assert f"the AWS managed key aws/backup ({name} not set)" in message(path, "BG201", resource)


def test_lifecycles_and_forever_speak_the_source_vocabulary():
    assert message(TF, "BG102", "aws_backup_plan.cold") == (
        "rule 'archive': lifecycle.delete_after 60 is only 30 days after lifecycle.cold_storage_after 30; "
        "AWS requires at least 90")
    assert message(CFN, "BG102", "ColdPlan").startswith("rule 'archive': Lifecycle.DeleteAfterDays 60 is only 30 days")
    assert message(TF, "BG101", "aws_backup_plan.cold").endswith("forever (lifecycle.delete_after not set)")
    assert message(CFN, "BG101", "ColdPlan").endswith("forever (Lifecycle.DeleteAfterDays not set)")


# -- Terraform plans -------------------------------------------------------------------------

CONFIG = '''
resource "aws_db_instance" "db" {
  engine                  = "postgres"
  backup_retention_period = 0
}
'''
PLAN = {
    "format_version": "1.2",
    "planned_values": {"root_module": {"resources": [
        {"address": "aws_db_instance.db", "mode": "managed", "type": "aws_db_instance", "name": "db",
         "values": {"engine": "postgres", "backup_retention_period": 0, "deletion_protection": False}},
        {"address": "aws_backup_plan.weekly", "mode": "managed", "type": "aws_backup_plan", "name": "weekly",
         "values": {"name": "weekly", "rule": [{"rule_name": "weekly", "target_vault_name": "v",
                                                "schedule": "cron(0 5 ? * 1 *)", "lifecycle": [{"delete_after": 7}]}]}},
    ]}},
    "resource_changes": [{"address": "aws_db_instance.db", "change": {"actions": ["create"]}},
                         {"address": "aws_backup_plan.weekly", "change": {"actions": ["create"]}}],
}


def test_a_plan_beside_its_configuration_points_at_the_argument(tmp_path: Path):
    (tmp_path / "main.tf").write_text(CONFIG)
    (tmp_path / "plan.json").write_text(json.dumps(PLAN, indent=2))
    results = {r.rule_id: r for r in lint_paths([tmp_path / "plan.json"]) if r.resource_id == "aws_db_instance.db"}
    retention = CONFIG.splitlines().index("  backup_retention_period = 0") + 1
    assert (Path(results["BG302"].file).name, results["BG302"].line) == ("main.tf", retention)
    # what the configuration leaves to the provider has no line of its own: the block
    assert (Path(results["BG305"].file).name, results["BG305"].line) == ("main.tf", 2)
    assert results["BG302"].message.endswith("(backup_retention_period): they need 1-35 days "
                                             "(0 turns them off, more than 35 is rejected)")


@pytest.mark.parametrize("resource", ["aws_db_instance.db", "aws_backup_plan.weekly"])
def test_a_plan_alone_keeps_its_results_at_the_resource_in_the_plan(tmp_path: Path, resource: str):
    """No configuration, no positions: every result, a plan rule's and a lifecycle's too, is at the
    resource's address in the plan (not at line 1)."""
    text = json.dumps(PLAN, indent=2)
    (tmp_path / "plan.json").write_text(text)
    results = [r for r in lint_paths([tmp_path / "plan.json"]) if r.resource_id == resource]
    address = next(i for i, line in enumerate(text.splitlines(), start=1) if f'"address": "{resource}"' in line)
    assert results and {(Path(r.file).name, r.line) for r in results} == {("plan.json", address)}


# -- vocabulary: a Terraform result never speaks CloudFormation, nor the reverse --------------------

_CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b")
_SNAKE_ARGUMENT = re.compile(r"^\s*([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\s*[={]", re.MULTILINE)
# IAM policy language is the same in every source (a vault policy's NotPrincipal is no property name).
_POLICY_KEYS = {"AccessPolicy", "Content", "KeyPolicy", "PolicyDocument", "AssumeRolePolicyDocument", "Policies"}


def _property_names(value, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str) and key not in _POLICY_KEYS:
                if _CAMEL.fullmatch(key):
                    found.add(key)
                _property_names(child, found)
    elif isinstance(value, list):
        for item in value:
            _property_names(item, found)
    return found


@lru_cache(maxsize=1)
def cloudformation_names() -> frozenset[str]:
    """Every property name the CloudFormation rule fixtures write (CamelCase compounds)."""
    found: set[str] = set()
    for path in RULES.glob("*.yaml"):
        template = load_text(path.read_text("utf-8"))
        for resource in (template.get("Resources") or {}).values():
            if isinstance(resource, dict):
                _property_names(resource.get("Properties"), found)
    return frozenset(found)


@lru_cache(maxsize=1)
def terraform_names() -> frozenset[str]:
    """Every argument and block name the Terraform rule fixtures write (snake_case compounds)."""
    return frozenset(name for path in RULES.rglob("*.tf") for name in _SNAKE_ARGUMENT.findall(path.read_text("utf-8")))


def _foreign(results, terraform: bool) -> list[str]:
    """Messages of results from one source that use the other source's names."""
    names = cloudformation_names() if terraform else terraform_names()
    pattern = _CAMEL if terraform else re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
    bad = []
    for result in results:
        kind = result.resource_type or ""
        if result.status == "error" or kind.startswith("AWS::Organizations") or kind.startswith("aws_") != terraform:
            continue
        used = set(pattern.findall(result.message)) & names
        if used:
            bad.append(f"{result.rule_id} {result.resource_id}: {sorted(used)} in {result.message!r}")
    return bad


def test_the_vocabularies_are_known():
    assert {"DeletionProtection", "DeleteAfterDays", "EncryptionKeyArn", "ListOfTags"} <= cloudformation_names()
    assert {"backup_retention_period", "delete_after", "kms_key_arn", "selection_tag"} <= terraform_names()


def test_terraform_fixture_messages_never_use_cloudformation_names():
    results = lint_paths(sorted(p for p in RULES.iterdir() if p.is_dir()))
    assert len(results) > 500
    assert not _foreign(results, terraform=True)


def test_cloudformation_fixture_messages_never_use_terraform_names():
    results = lint_paths(sorted(p for p in RULES.iterdir() if p.suffix in (".yaml", ".json")))
    assert len(results) > 500
    assert not _foreign(results, terraform=False)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_corpus_messages_speak_their_own_source_vocabulary():
    results = lint_paths([CORPUS])
    assert sum((r.resource_type or "").startswith("aws_") for r in results) > 500
    assert not _foreign(results, terraform=True)
    assert not _foreign(results, terraform=False)


# -- messages read as English with what is known -------------------------------------------------


def test_a_partly_known_key_shows_what_is_known_not_an_internal_repr():
    found = message(RULES / "i10-tf-managed-key", "BG201", "aws_backup_vault.managed_by_key")
    assert found == "vault 'managed-by-key' is encrypted with the AWS managed key alias/aws/backup, not a customer-managed key"


CHOICE = """
Parameters:
  Env: {Type: String, AllowedValues: [prod, dev]}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
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
              DeleteAfterDays: !If [IsProd, 90, 35]
"""


def test_a_retention_the_inputs_narrow_down_reads_as_its_possible_values(lint_text):
    [result] = [r for r in lint_text(CHOICE) if r.rule_id == "BG101"]
    assert result.status == "pass"  # either retention is long enough
    assert result.message.endswith("keeps recovery points 90 days or 35 days")


COPIES = """
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties: {BackupVaultName: main}
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: p
        BackupPlanRule:
          - RuleName: daily
            TargetBackupVault: !Ref Vault
            CopyActions:
              - DestinationBackupVaultArn: arn:aws:backup:eu-west-1:111122223333:backup-vault:dr
  Selection:
    Type: AWS::Backup::BackupSelection
    Properties:
      BackupPlanId: !Ref Plan
      BackupSelection:
        SelectionName: all
        IamRoleArn: arn:aws:iam::111122223333:role/backup
        Resources: ["*"]
  Volume:
    Type: AWS::EC2::Volume
    Properties: {AvailabilityZone: us-east-1a, Size: 8}
"""


@pytest.mark.parametrize(("params", "status", "expected"), [
    ({}, "pass", "plan 'p' rule 'daily' copies it to eu-west-1"),
    ({"BG403.cross_region_list": "us-west-2,ap-south-1"}, "fail",
     "plan 'p' rule 'daily' copies it to eu-west-1; required: a copy to us-west-2, ap-south-1"),
])
def test_copy_messages_say_what_is_copied_where(lint_text, params, status, expected):
    options = [f"{name}={value}" for name, value in params.items()]
    results = lint_text(COPIES, region="us-east-1", account_id="111122223333", params=parse_param_options(options))
    [result] = [r for r in results if r.rule_id == "BG403"]
    assert (result.status, result.message) == (status, expected)
