"""The Terraform source end to end: root modules, the AWS mapping, plan JSON, CLI options."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.estate import Reference, Unknown
from backupguard.scanner import ScanOptions, scan
from backupguard.scanner.cloudformation import CfnOptions

from conftest import lint_paths

MAIN = """
provider "aws" {
  region = "eu-west-1"
  default_tags { tags = { backup = "daily" } }
}

variable "retention" { default = 35 }

resource "aws_kms_key" "backup" {}

resource "aws_backup_vault" "main" {
  name        = "main"
  kms_key_arn = aws_kms_key.backup.arn
}

resource "aws_backup_vault_lock_configuration" "main" {
  backup_vault_name   = aws_backup_vault.main.name
  min_retention_days  = 7
  max_retention_days  = 365
  changeable_for_days = 3
}

resource "aws_backup_plan" "daily" {
  name = "daily"
  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.main.name
    schedule          = "cron(0 5 ? * * *)"
    lifecycle { delete_after = var.retention }
  }
}

resource "aws_backup_selection" "tagged" {
  name         = "tagged"
  plan_id      = aws_backup_plan.daily.id
  iam_role_arn = "arn:aws:iam::111122223333:role/backup"
  selection_tag {
    type  = "STRINGEQUALS"
    key   = "backup"
    value = "daily"
  }
}

resource "aws_dynamodb_table" "orders" {
  for_each = toset(["orders", "carts"])
  name     = each.key
  hash_key = "id"
  point_in_time_recovery { enabled = each.key == "orders" }
}
"""


def statuses(results, rule_id):
    return {r.resource_id: r.status for r in results if r.rule_id == rule_id}


def test_a_root_module_is_mapped_with_default_tags_split_resources_and_for_each(tmp_path: Path):
    (tmp_path / "main.tf").write_text(MAIN)
    results = lint_paths([tmp_path])
    assert statuses(results, "BG301") == {'aws_dynamodb_table.orders["carts"]': "fail", 'aws_dynamodb_table.orders["orders"]': "pass"}
    # the tag the selection wants is only in the provider's default_tags
    assert set(statuses(results, "BG401").values()) == {"pass"}
    assert statuses(results, "BG203") == {"aws_backup_vault.main": "pass"}  # lock from its own resource
    assert statuses(results, "BG201") == {"aws_backup_vault.main": "pass"}  # aws_kms_key reference
    plan = [r for r in results if r.rule_id == "BG101"][0]
    # at the schedule of its one rule (the first attribute that decides it)
    schedule = next(i for i, line in enumerate(MAIN.splitlines()) if line.strip().startswith("schedule "))
    assert plan.status == "pass" and plan.file.endswith("main.tf") and plan.line == schedule + 1


def test_variables_from_the_command_line_decide(tmp_path: Path):
    (tmp_path / "main.tf").write_text(MAIN.replace("variable \"retention\" { default = 35 }", "variable \"retention\" {}"))
    unknown = lint_paths([tmp_path])
    assert [r.status for r in unknown if r.rule_id == "BG101"] == ["unknown"]
    assert "variable 'retention'" in [r for r in unknown if r.rule_id == "BG101"][0].message
    runner = CliRunner()
    result = runner.invoke(app, ["lint", str(tmp_path), "-f", "json", "--var", "retention=7"])
    bg101 = [r for r in json.loads(result.output)["results"] if r["rule_id"] == "BG101"]
    assert [r["status"] for r in bg101] == ["fail"]


def test_tf_var_environment_variables_are_read_below_tfvars_files_and_named_in_a_note(tmp_path: Path, monkeypatch):
    (tmp_path / "main.tf").write_text(MAIN.replace("variable \"retention\" { default = 35 }", "variable \"retention\" {}"))
    monkeypatch.setenv("TF_VAR_retention", "7")
    monkeypatch.setenv("TF_VAR_undeclared", "1")
    estate = scan([tmp_path])
    assert [rule.lifecycle.delete_after_days for plan in estate.plans for rule in plan.rules] == [7]
    assert any("TF_VAR_retention" in note and "undeclared" not in note for note in estate.notes)
    (tmp_path / "terraform.tfvars").write_text("retention = 40\n")  # a tfvars file wins over the environment
    assert [rule.lifecycle.delete_after_days for plan in scan([tmp_path]).plans for rule in plan.rules] == [40]


def test_override_files_merge_last_and_results_stay_in_the_original_file(tmp_path: Path):
    (tmp_path / "main.tf").write_text(MAIN)
    (tmp_path / "a_override.tf").write_text(
        'variable "retention" { default = 7 }\n'  # an argument replaced
        'resource "aws_dynamodb_table" "orders" {\n  point_in_time_recovery { enabled = true }\n}\n'  # a nested block
        'resource "aws_backup_vault" "missing" {}\n'
    )
    (tmp_path / "override.tf.json").write_text(json.dumps({"variable": {"retention": {"default": 40}}}))  # the last wins
    estate = scan([tmp_path])
    assert [rule.lifecycle.delete_after_days for plan in estate.plans for rule in plan.rules] == [40]
    assert {t.resource_id: t.settings["pitr_enabled"] for t in estate.resources if t.resource_type == "aws_dynamodb_table"} == {
        'aws_dynamodb_table.orders["carts"]': True, 'aws_dynamodb_table.orders["orders"]': True}
    assert [(e.origin.file.rsplit("/", 1)[-1], e.origin.line, "no original" in e.message) for e in estate.errors] == [
        ("a_override.tf", 5, True)]
    table = [t for t in estate.resources if t.resource_type == "aws_dynamodb_table"][0]
    assert table.origin.file.endswith("main.tf") and table.origin.line == MAIN.splitlines().index('resource "aws_dynamodb_table" "orders" {') + 1


def test_registry_modules_installed_by_terraform_init_are_followed(tmp_path: Path):
    installed = tmp_path / ".terraform" / "modules" / "backup"
    (installed / "modules" / "vault").mkdir(parents=True)
    (installed / "main.tf").write_text(
        'variable "retention" {}\n'
        'resource "aws_backup_plan" "this" {\n  name = "p"\n  rule {\n    rule_name = "daily"\n'
        '    target_vault_name = module.vault.name\n    schedule = "cron(0 5 ? * * *)"\n'
        '    lifecycle { delete_after = var.retention }\n  }\n}\n'
        'module "vault" {\n  source = "./modules/vault"\n}\n'  # a local module inside the downloaded one
    )
    (installed / "modules" / "vault" / "main.tf").write_text(
        'resource "aws_backup_vault" "this" { name = "inner" }\noutput "name" { value = aws_backup_vault.this.name }\n')
    (tmp_path / ".terraform" / "modules" / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "backup", "Source": "registry.terraform.io/lgallard/backup/aws", "Version": "1.0.0",
         "Dir": ".terraform/modules/backup"},
    ]}))
    (tmp_path / "main.tf").write_text(
        'module "backup" {\n  source = "lgallard/backup/aws"\n  version = "1.0.0"\n  retention = 7\n}\n'
        'module "other" {\n  source = "git::https://example.com/x.git"\n}\n'
    )
    estate = scan([tmp_path])
    assert [(p.resource_id, p.rules[0].lifecycle.delete_after_days, p.rules[0].target_vault) for p in estate.plans] == [
        ("module.backup.aws_backup_plan.this", 7, "inner")]
    assert [v.resource_id for v in estate.vaults] == ["module.backup.module.vault.aws_backup_vault.this"]
    assert any("module.backup' (source lgallard/backup/aws) was read from" in note for note in estate.notes)
    assert any("module.other' (source git::https://example.com/x.git) was not followed (run terraform init" in note
               for note in estate.notes)
    assert not estate.errors
    # reported at the module call in the repository's file, not inside .terraform/ (which is not committed)
    for entity in estate.plans + estate.vaults:
        assert (entity.origin.file, entity.origin.line) == (f"{tmp_path.as_posix()}/main.tf", 1), entity.resource_id


def test_caller_identity_is_the_given_account_unless_the_provider_may_switch_account(tmp_path: Path):
    (tmp_path / "main.tf").write_text(
        'provider "aws" { region = "eu-west-1" }\n'
        'provider "aws" {\n  alias = "central"\n  region = "eu-west-1"\n'
        '  assume_role { role_arn = "arn:aws:iam::999988887777:role/x" }\n}\n'
        'data "aws_caller_identity" "here" {}\n'
        'data "aws_caller_identity" "central" { provider = aws.central }\n'
        'resource "aws_backup_vault" "here" { name = "v-${data.aws_caller_identity.here.account_id}" }\n'
        'resource "aws_backup_vault" "central" { name = "v-${data.aws_caller_identity.central.account_id}" }\n'
    )
    told = {v.resource_id: v.name for v in scan([tmp_path], ScanOptions(cfn=CfnOptions(account_id="111122223333"))).vaults}
    assert told["aws_backup_vault.here"] == "v-111122223333"
    assert isinstance(told["aws_backup_vault.central"], Unknown)  # assume_role: another account, perhaps
    untold = {v.resource_id: v.name for v in scan([tmp_path]).vaults}
    assert isinstance(untold["aws_backup_vault.here"], Unknown) and "read at apply time" in untold["aws_backup_vault.here"].reason


POLICY_DOCUMENTS = """
variable "source_account" {}
variable "extra_policy" {}

data "aws_iam_policy_document" "deny" {
  policy_id = "p-${aws_backup_vault.locked.arn}"  # known only after apply: the rest of the document is known
  statement {
    sid     = "DenyDeletion"
    effect  = "Deny"
    actions = ["backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:PutBackupVaultAccessPolicy"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "allow" {
  statement {
    actions   = ["backup:CopyIntoBackupVault"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [var.source_account]
    }
  }
}

data "aws_iam_policy_document" "merged" {  # the Deny, plus an Allow
  source_policy_documents = [data.aws_iam_policy_document.deny.json]
  statement {
    actions   = ["backup:CopyIntoBackupVault"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["444455556666"]
    }
  }
}

data "aws_iam_policy_document" "overridden" {  # the Deny replaced by the override's statement with its Sid
  source_policy_documents   = [data.aws_iam_policy_document.deny.json]
  override_policy_documents = [jsonencode({ Statement = [{ Sid = "DenyDeletion", Effect = "Allow", Action = "backup:Describe*", Resource = "*", Principal = "*" }] })]
}

data "aws_iam_policy_document" "unknown" {
  source_policy_documents = [var.extra_policy]
}
"""
for _name in ("locked", "open", "merged", "overridden", "unknown"):
    _document = {"locked": "deny", "open": "allow"}.get(_name, _name)
    POLICY_DOCUMENTS += (
        f'resource "aws_backup_vault" "{_name}" {{ name = "{_name}" }}\n'
        f'resource "aws_backup_vault_policy" "{_name}" {{\n  backup_vault_name = aws_backup_vault.{_name}.name\n'
        f'  policy = data.aws_iam_policy_document.{_document}.json\n}}\n'
    )


def test_iam_policy_documents_are_computed_and_merged_with_unknown_values_left_in_place(tmp_path: Path):
    (tmp_path / "main.tf").write_text(POLICY_DOCUMENTS)
    results = lint_paths([tmp_path])
    assert statuses(results, "BG204") == {
        "aws_backup_vault.locked": "pass",  # Deny of the three actions to "*", whatever the unknown Id turns out to be
        "aws_backup_vault.open": "fail",  # an Allow for an account that is a variable without a value
        "aws_backup_vault.merged": "pass",
        "aws_backup_vault.overridden": "fail",
        "aws_backup_vault.unknown": "unknown",
    }
    unknown = [r for r in results if r.rule_id == "BG204" and r.resource_id == "aws_backup_vault.unknown"][0]
    assert "a merged document is unknown: variable 'extra_policy' has no value" in unknown.message


def test_a_provider_pinned_to_one_account_gives_its_resources_that_account(tmp_path: Path):
    (tmp_path / "main.tf").write_text(
        'provider "aws" {\n  region = "eu-west-1"\n  allowed_account_ids = ["111122223333"]\n}\n'
        'data "aws_caller_identity" "current" {}\n'
        'resource "aws_backup_vault" "main" { name = "main-${data.aws_caller_identity.current.account_id}" }\n'
        'resource "aws_backup_plan" "p" {\n  name = "p"\n  rule {\n    rule_name = "daily"\n'
        '    target_vault_name = aws_backup_vault.main.name\n    schedule = "cron(0 5 ? * * *)"\n'
        '    lifecycle { delete_after = 35 }\n'
        '    copy_action { destination_vault_arn = "arn:aws:backup:eu-west-1:444455556666:backup-vault:central" }\n  }\n}\n'
        'resource "aws_backup_selection" "all" {\n  name = "all"\n  plan_id = aws_backup_plan.p.id\n'
        '  iam_role_arn = "arn:aws:iam::111122223333:role/b"\n  resources = ["*"]\n}\n'
        'resource "aws_dynamodb_table" "t" { name = "t" }\n'
    )
    estate = scan([tmp_path])  # no --account-id: the provider says which account
    assert [v.name for v in estate.vaults] == ["main-111122223333"]
    assert {e.origin.account for e in estate.vaults + estate.plans + estate.resources} == {"111122223333"}
    assert statuses(lint_paths([tmp_path]), "BG404") == {"aws_dynamodb_table.t": "pass"}  # a copy to another account


def test_a_locally_called_module_is_linted_through_its_caller(tmp_path: Path):
    module = tmp_path / "modules" / "vault"
    module.mkdir(parents=True)
    (module / "main.tf").write_text('variable "name" {}\nresource "aws_backup_vault" "this" { name = var.name }\n')
    (tmp_path / "main.tf").write_text('module "vault" {\n  source = "./modules/vault"\n  name   = "from-caller"\n}\n')
    estate = scan([tmp_path])
    assert [(v.resource_id, v.name) for v in estate.vaults] == [("module.vault.aws_backup_vault.this", "from-caller")]
    assert estate.vaults[0].origin.file.endswith("modules/vault/main.tf")


def test_folders_whose_files_collide_are_linted_file_by_file(tmp_path: Path):
    for name, enabled in (("positive.tf", "false"), ("negative.tf", "true")):
        (tmp_path / name).write_text(
            f'resource "aws_dynamodb_table" "t" {{\n  name = "t"\n  point_in_time_recovery {{ enabled = {enabled} }}\n}}\n'
        )
    results = lint_paths([tmp_path])
    assert sorted((r.file.rsplit("/", 1)[-1], r.status) for r in results if r.rule_id == "BG301") == [
        ("negative.tf", "pass"), ("positive.tf", "fail")
    ]
    assert not [r for r in results if r.status == "error"]


PLAN = {
    "format_version": "1.2",
    "planned_values": {"root_module": {"resources": [
        {"address": "aws_backup_selection.all", "mode": "managed", "type": "aws_backup_selection", "name": "all",
         "values": {"name": "all", "iam_role_arn": "arn:aws:iam::1:role/b", "resources": [], "not_resources": [],
                    "selection_tag": [{"type": "STRINGEQUALS", "key": "backup", "value": "yes"}], "condition": []}},
        {"address": "aws_backup_plan.p", "mode": "managed", "type": "aws_backup_plan", "name": "p",
         "values": {"name": "p", "rule": [{"rule_name": "weekly", "target_vault_name": "v", "schedule": "cron(0 5 ? * 1 *)",
                                           "lifecycle": [{"delete_after": 7, "cold_storage_after": 0}], "copy_action": []}]}},
        {"address": "aws_dynamodb_table.t", "mode": "managed", "type": "aws_dynamodb_table", "name": "t",
         "values": {"name": "t", "point_in_time_recovery": [{"enabled": True}], "tags_all": {"backup": "yes"}}},
        {"address": "aws_dynamodb_table.gone", "mode": "managed", "type": "aws_dynamodb_table", "name": "gone",
         "values": {"name": "gone"}},
    ]}},
    "resource_changes": [
        {"address": "aws_backup_selection.all", "change": {"actions": ["create"], "after_unknown": {"plan_id": True}}},
        {"address": "aws_dynamodb_table.gone", "change": {"actions": ["delete"]}},
    ],
    "configuration": {"root_module": {"resources": [
        {"address": "aws_backup_selection.all", "expressions": {"plan_id": {"references": ["aws_backup_plan.p.id", "aws_backup_plan.p"]}}}
    ]}},
}


def test_a_plan_links_unknown_references_and_skips_deletions(tmp_path: Path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN))
    estate = scan([path])
    assert estate.selections[0].plan_ref == Reference("aws_backup_plan.p", "id", "aws_backup_plan")
    assert [r.resource_id for r in estate.resources] == ["aws_dynamodb_table.t"]
    results = lint_paths([path])
    assert statuses(results, "BG401") == {"aws_dynamodb_table.t": "pass"}  # tag from tags_all
    assert statuses(results, "BG402") == {"aws_dynamodb_table.t": "fail"}  # weekly, 7 days
    assert all(r.line == 1 and r.file.endswith("plan.json") for r in results)


def test_a_plan_beside_its_configuration_points_at_the_blocks(tmp_path: Path):
    (tmp_path / "main.tf").write_text('\n\nresource "aws_dynamodb_table" "t" {\n  name = "t"\n}\n')
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN))
    table = [r for r in lint_paths([path]) if r.rule_id == "BG301" and r.file.endswith("plan.json") is False]
    assert table and table[0].file.endswith("main.tf") and table[0].line == 3
