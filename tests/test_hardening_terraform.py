"""Issue 8 (hardening), Terraform side: hostile modules never read outside the tree, never run
unbounded, never lose a module's results to one odd value, and never pass what Terraform rejects."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from backupguard.config import UserConfig, build_checks
from backupguard.frameworks import load_frameworks
from backupguard.rules import load_catalogue
from backupguard.rules.engine import run
from backupguard.results import Result
from backupguard.scanner import ScanOptions, scan
from backupguard.scanner.terraform import hcl, hcl_json
from backupguard.scanner.terraform.module import load_module
from backupguard.scanner.terraform.source import TerraformOptions

SECRET = "TOP-SECRET-CONTENT-42"

WEEKLY_7_DAYS = """
resource "aws_backup_vault" "v" {
  name = "v"
}

resource "aws_backup_plan" "weekly" {
  name = "weekly"
  rule {
    rule_name         = "weekly"
    target_vault_name = aws_backup_vault.v.name
    schedule          = "cron(0 5 ? * 1 *)"
    lifecycle {
      delete_after = 7
    }
  }
}
"""


def plan_with_delete_after(value: str) -> str:
    return WEEKLY_7_DAYS.replace("delete_after = 7", f"delete_after = {value}")


def lint(paths: list[Path], root: Path | None = None, variables: dict[str, str] | None = None) -> list[Result]:
    options = ScanOptions(terraform=TerraformOptions(variables=variables or {}, root=root))
    checks = build_checks(load_catalogue(), load_frameworks(), [], UserConfig(), {})
    return run(scan(paths, options), checks)


def errors(results: list[Result]) -> list[Result]:
    return [r for r in results if r.status == "error"]


def statuses(results: list[Result], rule_id: str) -> set[str]:
    return {r.status for r in results if r.rule_id == rule_id}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def load(folder: Path, root: Path | None = None, **kwargs):
    return load_module(folder, display=lambda p: Path(p).as_posix(), root=root, **kwargs)


def real(path: Path) -> Path:
    return Path(os.path.realpath(path))


# ---------------------------------------------------------------------------
# item 1: nothing outside the scan root is read
# ---------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the repository, holding a module and files whose content must never show."""
    return write(tmp_path / "outside", {
        "main.tf": f'resource "aws_backup_vault" "leak" {{\n  name = "{SECRET}"\n}}\n',
        "secret.tfvars": f'vault = "{SECRET}"\n',
    })


def test_a_local_module_source_climbing_out_of_the_root_is_a_located_error_not_read(tmp_path: Path, outside: Path):
    repo = write(tmp_path / "repo", {"main.tf": 'module "x" {\n  source = "../outside"\n}\n'})
    loaded = load(repo, root=real(repo))
    assert loaded.instances == []
    [error] = loaded.errors
    assert error.origin.line == 2 and error.origin.column == 3
    assert error.message.startswith('module \'x\' source "../outside" resolves outside the scanned tree')
    assert SECRET not in error.message
    # without a root (the library default) the module is followed, as before
    assert [i.address for i in load(repo).instances] == ["module.x.aws_backup_vault.leak"]


def test_a_modules_json_entry_outside_the_root_is_not_followed(tmp_path: Path, outside: Path):
    repo = write(tmp_path / "repo", {"main.tf": 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n'})
    manifest = repo / ".terraform" / "modules"
    manifest.mkdir(parents=True)
    (manifest / "modules.json").write_text(json.dumps({"Modules": [{"Key": "vpc", "Dir": "../outside"}]}))
    loaded = load(repo, root=real(repo))
    assert loaded.instances == []
    [error] = loaded.errors
    assert "(installed by terraform init) resolves outside the scanned tree" in error.message
    assert error.origin.line == 2


def test_symlinked_tf_and_auto_tfvars_pointing_outside_are_refused_by_name(tmp_path: Path, outside: Path):
    repo = write(tmp_path / "repo", {"main.tf": 'variable "vault" {}\nresource "aws_backup_vault" "v" {\n  name = var.vault\n}\n'})
    (repo / "leak.tf").symlink_to(outside / "main.tf")
    (repo / "leak.auto.tfvars").symlink_to(outside / "secret.tfvars")
    results = lint([repo], root=real(repo))
    shown = json.dumps([r.message for r in results])
    assert SECRET not in shown
    refused = sorted(r.message.split(" resolves")[0] for r in errors(results))
    assert refused == ["file 'leak.tf'", "variables file 'leak.auto.tfvars'"]


def test_a_var_file_named_on_the_command_line_is_trusted(tmp_path: Path, outside: Path):
    repo = write(tmp_path / "repo", {"main.tf": 'variable "vault" {}\nresource "aws_backup_vault" "v" {\n  name = var.vault\n}\n'})
    loaded = load(repo, root=real(repo), var_files=[outside / "secret.tfvars"])
    assert loaded.errors == []
    assert loaded.instances[0].values["name"] == SECRET


# ---------------------------------------------------------------------------
# item 3: budgets
# ---------------------------------------------------------------------------


HOSTILE = {
    "count": 'resource "aws_backup_vault" "v" {\n  count = 100000000\n  name = "v"\n}\n',
    "count_25_digits": 'resource "aws_backup_vault" "v" {\n  count = 1234567890123456789012345\n  name = "v"\n}\n',
    "module_count": 'module "m" {\n  source = "./m"\n  count = 1000000\n}\n',
    "for_each": 'resource "aws_backup_vault" "v" {\n  for_each = toset([for i in range(1024) : "${i}"])\n  name = each.key\n}\n'
                'resource "aws_backup_vault" "w" {\n  for_each = {for p in setproduct(range(200), range(100)) : "${p[0]}-${p[1]}" => p}\n  name = each.key\n}\n',
    "format": 'locals {\n  x = format("%999999999d", 1)\n}\n',
    "indent": 'locals {\n  x = indent(1000000000, "a\\nb")\n}\n',
    "string_doubling": "locals {\n  s0 = \"xxxxxxxxxxxxxxxx\"\n"
                       + "".join(f'  s{i + 1} = "${{local.s{i}}}${{local.s{i}}}"\n' for i in range(40)) + "}\n",
    "list_doubling": "locals {\n  l0 = [1, 2]\n"
                     + "".join(f"  l{i + 1} = concat(local.l{i}, local.l{i})\n" for i in range(40)) + "}\n",
    "nested_doubling": "locals {\n  n0 = [\"x\"]\n"
                       + "".join(f"  n{i + 1} = [local.n{i}, local.n{i}]\n" for i in range(60))
                       + "  out = jsonencode(local.n60)\n  flat = flatten(local.n60)\n}\n",
    "setproduct": 'locals {\n  a = [for i in range(1000) : i]\n  p = setproduct(local.a, local.a, local.a)\n}\n',
    "nested_range": 'locals {\n  x = [for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]\n}\n',
    "template_for": 'locals {\n  x = "%{for i in range(1000)}%{for j in range(1000)}%{for k in range(1000)}${k}%{endfor}%{endfor}%{endfor}"\n}\n',
    "dynamic": 'resource "aws_backup_plan" "p" {\n  name = "p"\n  dynamic "rule" {\n    for_each = range(1000)\n'
               '    content {\n      rule_name = "r"\n      dynamic "copy_action" {\n        for_each = range(1000)\n'
               '        content {\n          destination_vault_arn = "arn:${copy_action.value}"\n        }\n      }\n    }\n  }\n}\n',
    "squaring": "locals {\n  n0 = 3\n" + "".join(f"  n{i + 1} = local.n{i} * local.n{i}\n" for i in range(40)) + "}\n",
    "regex": 'locals {\n  x = regex("^(a+)+$", "' + "a" * 5000 + '!")\n}\n',
    "replace": 'locals {\n  big = join("", [for i in range(1000) : "aaaaaaaaaa"])\n  x = replace(local.big, "a", local.big)\n}\n',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_evaluation_is_bounded_and_a_located_error(tmp_path: Path, name: str):
    repo = write(tmp_path / "repo", {"main.tf": HOSTILE[name]})
    write(repo / "m", {"main.tf": 'resource "aws_backup_vault" "m" {\n  name = "m"\n}\n'})
    started = time.monotonic()
    loaded = load(repo)
    assert time.monotonic() - started < 15
    if name == "regex":  # RE2: no backtracking, the pattern simply does not match
        assert any("the pattern did not match" in note for note in loaded.notes)
        return
    assert loaded.errors, loaded.notes
    error = loaded.errors[0]
    assert error.origin.file == (repo / "main.tf").as_posix() and error.origin.line >= (1 if name == "dynamic" else 2)
    assert re.search("more than|longer than|too large", error.message), error.message


def test_the_budget_costs_one_module_its_evaluation_not_the_run(tmp_path: Path):
    bad = write(tmp_path / "bad", {"main.tf": HOSTILE["count"]})
    good = write(tmp_path / "good", {"main.tf": WEEKLY_7_DAYS})
    results = lint([bad, good])
    [error] = errors(results)
    assert error.line == 2 and "more than 10,000 are not evaluated" in error.message
    assert statuses(results, "BG101") == {"fail"}


def test_regex_through_a_var_is_linear_time(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": 'variable "p" {}\nresource "aws_backup_vault" "v" {\n'
                                                 '  name = can(regex(var.p, "' + "a" * 30 + '!")) ? "a" : "b"\n}\n'})
    started = time.monotonic()
    loaded = load(repo, variables={"p": "^(a+)+$"})
    assert time.monotonic() - started < 5
    assert loaded.instances[0].values["name"] == "b"


def test_a_tf_file_over_the_size_cap_is_a_located_error(tmp_path: Path, monkeypatch):
    from backupguard.scanner.terraform import budget

    monkeypatch.setattr(budget, "MAX_FILE_BYTES", 1024)
    repo = write(tmp_path / "repo", {"big.tf": "# " + "x" * 2000 + "\n", "main.tf": WEEKLY_7_DAYS})
    loaded = load(repo)
    [error] = loaded.errors
    assert error.message == "file is larger than 0 MiB; not parsed" and error.origin.file.endswith("big.tf")
    assert len(loaded.instances) == 2


# ---------------------------------------------------------------------------
# item 4: unknowns through data sources; failures confined to one resource
# ---------------------------------------------------------------------------


POLICY_DOCUMENT = """
variable "trusted_accounts" {}

data "aws_iam_policy_document" "vault" {
  statement {
    effect  = "Deny"
    actions = ["backup:DeleteRecoveryPoint"]
    principals {
      type        = "AWS"
      identifiers = var.trusted_accounts
    }
  }
}

resource "aws_backup_vault_policy" "p" {
  backup_vault_name = aws_backup_vault.v.name
  policy            = data.aws_iam_policy_document.vault.json
}
"""


def test_unknown_principals_in_a_policy_document_keep_the_module_results(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": WEEKLY_7_DAYS + POLICY_DOCUMENT})
    results = lint([repo])
    assert errors(results) == []
    assert statuses(results, "BG101") == {"fail"}
    loaded = load(repo)
    policy = next(i for i in loaded.instances if i.type == "aws_backup_vault_policy").values["policy"]
    assert json.loads(policy.text)["Statement"][0]["Principal"] == {"AWS": "${?}"}


def test_an_internal_error_costs_one_resource_not_the_module(tmp_path: Path, monkeypatch):
    from backupguard.scanner.terraform import module

    def broken(*args, **kwargs):
        raise TypeError("boom")

    monkeypatch.setattr(module, "policy_document_json", broken)
    repo = write(tmp_path / "repo", {"main.tf": WEEKLY_7_DAYS + POLICY_DOCUMENT})
    results = lint([repo])
    [error] = errors(results)
    line = (WEEKLY_7_DAYS + POLICY_DOCUMENT).splitlines().index('resource "aws_backup_vault_policy" "p" {') + 1
    assert error.line == line and error.message.startswith("aws_backup_vault_policy.p: internal error while evaluating it (TypeError: boom)")
    assert statuses(results, "BG101") == {"fail"}


# ---------------------------------------------------------------------------
# item 5: lone surrogates
# ---------------------------------------------------------------------------


def test_a_lone_surrogate_escape_in_hcl_is_a_located_error():
    parsed = hcl.parse(b'locals {\n  a = "ok"\n  b = "x\\udc00"\n}\n')
    assert (parsed.error.message, parsed.error.line, parsed.error.column) == (
        "invalid escape sequence \\udc00: not a Unicode character", 3, 9)


def test_a_lone_surrogate_escape_in_tf_json_is_a_located_error_and_a_pair_is_a_character():
    parsed = hcl_json.parse(b'{"locals": {\n  "a": "ok",\n  "b": "x\\udc00"}}')
    assert (parsed.error.line, parsed.error.column) == (3, 10)
    assert "lone surrogate" in parsed.error.message
    pair = hcl_json.parse(b'{"locals": {"a": "\\ud83d\\ude00"}}')
    assert pair.error is None and pair.body.items[0].body.items[0].expr.value == "\U0001F600"


def test_a_surrogate_file_does_not_stop_the_others(tmp_path: Path):
    bad = write(tmp_path / "bad", {"main.tf": 'resource "aws_backup_vault" "v" {\n  name = "\\udc00"\n}\n'})
    good = write(tmp_path / "good", {"main.tf": WEEKLY_7_DAYS})
    results = lint([bad, good])
    [error] = errors(results)
    assert error.line == 2 and "invalid escape sequence" in error.message
    assert statuses(results, "BG101") == {"fail"}


# ---------------------------------------------------------------------------
# item 8: exponent literals
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("literal,value", [("1e5", 100000), ("1E5", 100000), ("1e+5", 100000), ("1.5e3", 1500), ("35e0", 35)])
def test_exponent_literals_are_valid_hcl(literal: str, value: int):
    parsed = hcl.parse(f'locals {{\n  a = {literal}\n  b = "{literal} stays text"\n}}\n'.encode())
    assert parsed.error is None
    a, b = parsed.body.items[0].body.items
    assert a.expr.value == value and (a.expr.line, a.expr.column) == (2, 7)
    assert b.expr.value == f"{literal} stays text"


def test_an_exponent_delete_after_is_linted(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": plan_with_delete_after("1e5")})
    results = lint([repo])
    assert errors(results) == []
    [bg101] = [r for r in results if r.rule_id == "BG101"]
    assert bg101.status == "fail" and "retention 100000 days" in bg101.message


# ---------------------------------------------------------------------------
# item 9: plan JSON of the wrong shape
# ---------------------------------------------------------------------------


def test_plan_copy_actions_of_the_wrong_type_are_located_errors(tmp_path: Path):
    rule = {"rule_name": "d", "target_vault_name": "v", "schedule": "cron(0 5 ? * * *)"}
    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [
        {"address": "aws_backup_plan.ok", "mode": "managed", "type": "aws_backup_plan", "name": "ok",
         "values": {"name": "ok", "rule": [{**rule, "lifecycle": [{"delete_after": 7}]}]}},
        {"address": "aws_backup_plan.bad", "mode": "managed", "type": "aws_backup_plan", "name": "bad",
         "values": {"name": "bad", "rule": [{**rule, "copy_action": "x", "lifecycle": "y"}]}},
    ]}}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    results = lint([path])
    [error] = errors(results)
    assert error.message == "aws_backup_plan.bad: 'copy_action' must be a list of blocks, not a string"
    bad_line = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if '"aws_backup_plan.bad"' in line)
    assert error.line == bad_line
    assert statuses(results, "BG101") == {"fail"}


def test_a_plan_of_the_wrong_structure_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format_version": "1.2", "planned_values": {"root_module": {"resources": "x"}}}))
    [error] = errors(lint([path]))
    assert error.message == "planned_values resources must be a JSON array, not str"


# ---------------------------------------------------------------------------
# item 10: what Terraform rejects is never a pass
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("count,problem", [("-1", "must not be negative (-1)"), ("1.5", "must be a whole number, not 1.5"),
                                          ('"x"', 'must be a whole number, not the string "x"'), ("null", "must not be null")])
def test_an_invalid_count_is_a_located_error(tmp_path: Path, count: str, problem: str):
    repo = write(tmp_path / "repo", {"main.tf": f'resource "aws_backup_vault" "v" {{\n  count = {count}\n  name = "v"\n}}\n'})
    loaded = load(repo)
    [error] = loaded.errors
    assert error.message == f"aws_backup_vault.v: count {problem}"
    assert (error.origin.line, error.origin.column) == (2, 3)


@pytest.mark.parametrize("delete_after,variables", [("1e999", {}), ("1" * 5000, {}), ("var.days", {"days": "1e999"})])
def test_an_infinite_or_huge_delete_after_never_passes(tmp_path: Path, delete_after: str, variables: dict):
    text = plan_with_delete_after(delete_after).replace("delete_after = 7", "delete_after = 7").replace(
        "delete_after = 35", "delete_after = 35")
    text = text.replace("cron(0 5 ? * 1 *)", "cron(0 5 ? * * *)")  # daily: only the retention decides
    repo = write(tmp_path / "repo", {"main.tf": 'variable "days" {}\n' + text})
    results = lint([repo], variables=variables)
    bg101 = [r for r in results if r.rule_id == "BG101"]
    assert bg101 and all(r.status in ("unknown", "error", "fail") for r in bg101), [r.message for r in bg101]
    assert not any("inf days" in r.message for r in results)


def test_non_ascii_digits_are_not_numbers(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": 'locals {\n  n = tonumber("\u0663\u0665")\n}\n'})
    loaded = load(repo)
    assert any("is not a number" in note for note in loaded.notes)
