"""Issue 10 items 12 and 15 (Terraform): ``file()``, ``fileexists()``, ``filebase64()`` and
``templatefile()`` read the configuration's own files (inside the scanned tree only, size-capped,
with Terraform's errors), and OpenTofu's provider ``for_each`` places each resource and module
instance in its provider instance's Region."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from backupguard.config import UserConfig, build_checks
from backupguard.estate import Unknown
from backupguard.frameworks import load_frameworks
from backupguard.rules import load_catalogue
from backupguard.rules.engine import run
from backupguard.scanner import ScanOptions, root_relative, scan
from backupguard.scanner.terraform import budget
from backupguard.scanner.terraform.module import LoadResult, load_module
from backupguard.scanner.terraform.source import TerraformOptions

SECRET = "TOP-SECRET-CONTENT-42"


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def load(repo: Path, module: str = ".", **kwargs) -> LoadResult:
    """Load ``repo/module`` as a root module, with the repository as the scan root (as the CLI does)."""
    root = real(repo)
    return load_module(repo / module, display=root_relative(root), root=root, **kwargs)


def locals_of(result: LoadResult, address: str = "terraform_data.out") -> dict:
    """The ``input`` object of a terraform_data resource: a test exposes the values it checks there."""
    [instance] = [i for i in result.instances if i.address == address]
    return dict(instance.values["input"])


def exposing(**expressions: str) -> str:
    """``local.name = expression`` for each argument (line 2 on: one error costs one value), and a
    resource whose input object exposes them."""
    definitions = "".join(f"  {name} = {expr}\n" for name, expr in expressions.items())
    uses = "".join(f"    {name} = local.{name}\n" for name in expressions)
    return "locals {\n" + definitions + '}\nresource "terraform_data" "out" {\n  input = {\n' + uses + "  }\n}\n"


def messages(result: LoadResult) -> list[str]:
    return [e.message for e in result.errors] + list(result.notes)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the repository whose content must never show."""
    return write(tmp_path / "outside", {"secret.json": json.dumps({"key": SECRET})})


# ---------------------------------------------------------------------------
# file(): what it reads, and from where
# ---------------------------------------------------------------------------


def test_file_reads_beside_the_module_and_relative_to_the_root_module(tmp_path: Path):
    repo = write(tmp_path / "repo", {
        "main.tf": 'module "child" {\n  source = "./modules/child"\n}\n',
        "root.txt": "from the root\n",
        "modules/child/main.tf": exposing(
            own='file("${path.module}/policy.json")',
            cwd='file("root.txt")',  # a relative path starts at Terraform's working directory
            via_cwd='file("${path.cwd}/root.txt")',
            via_root='file("${path.root}/root.txt")',
            decoded='jsondecode(file("${path.module}/policy.json")).Version',
            paths='[path.module, path.root, path.cwd]',
            exists='[fileexists("${path.module}/policy.json"), fileexists("nope.json")]',
            base64='filebase64("root.txt")',
        ),
        "modules/child/policy.json": '{"Version": "2012-10-17"}',
    })
    result = load(repo)
    assert result.errors == []
    values = locals_of(result, "module.child.terraform_data.out")
    assert values["own"] == '{"Version": "2012-10-17"}'
    assert values["cwd"] == values["via_cwd"] == values["via_root"] == "from the root\n"
    assert values["decoded"] == "2012-10-17"
    assert list(values["paths"]) == ["modules/child", ".", "."]
    assert list(values["exists"]) == [True, False]
    assert values["base64"] == "ZnJvbSB0aGUgcm9vdAo="


@pytest.mark.parametrize("how", ["parent", "symlink", "absolute", "home"])
def test_a_file_outside_the_scanned_tree_is_unknown_with_one_located_error(tmp_path: Path, outside: Path, how: str):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.json").symlink_to(outside / "secret.json")
    path = {"parent": "../outside/secret.json", "symlink": "link.json",
            "absolute": (outside / "secret.json").as_posix(), "home": "~/secret.json"}[how]
    write(repo, {"main.tf": exposing(text=f'file("{path}")', a="local.text", b="local.text",
                                     exists=f'fileexists("{path}")')})
    result = load(repo)
    values = locals_of(result)
    assert isinstance(values["a"], Unknown) and "resolves outside the scanned tree; not read" in values["a"].reason
    assert isinstance(values["exists"], Unknown)  # not even whether it exists
    shown = json.dumps(messages(result) + [values["a"].reason])
    assert SECRET not in shown
    assert str(real(tmp_path)) not in shown.replace(path, "")  # the absolute root only where the author wrote it
    errors = [(e.message, e.origin.file, e.origin.line, e.origin.column) for e in result.errors]
    assert errors[0] == (f'file() path {json.dumps(path)} resolves outside the scanned tree; not read', "main.tf", 2, 10)
    assert len([e for e in errors if e[0].startswith("file()")]) == 1  # one error, however often the value is used


def test_without_a_scan_root_file_reads_only_inside_the_root_module_folder(tmp_path: Path, outside: Path):
    repo = write(tmp_path / "repo", {"main.tf": exposing(a='file("../outside/secret.json")', b='file("b.txt")'),
                                     "b.txt": "inside"})
    result = load_module(repo, display=lambda p: Path(p).name)
    assert isinstance(locals_of(result)["a"], Unknown) and locals_of(result)["b"] == "inside"
    assert SECRET not in json.dumps(messages(result))


def test_a_missing_file_is_terraforms_located_error_that_try_catches(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": exposing(
        missing='file("${path.module}/nope.json")', caught='try(file("nope.json"), "{}")', checked='can(file("nope.json"))')})
    result = load(repo)
    values = locals_of(result)
    assert isinstance(values["missing"], Unknown)
    assert (values["caught"], values["checked"]) == ("{}", False)
    [error] = result.errors
    assert (error.origin.file, error.origin.line, error.origin.column) == ("main.tf", 2, 13)
    assert error.message.startswith('local.missing: file(): no file exists at "nope.json"')


def test_a_folder_and_non_utf8_content_are_terraforms_errors(tmp_path: Path):
    repo = write(tmp_path / "repo", {
        "main.tf": exposing(bad='file("latin1.txt")', folder='file("sub")', binary='filebase64("latin1.txt")'),
        "latin1.txt": "caf\xe9".encode("latin-1"),
        "sub/x.txt": "x",
    })
    result = load(repo)
    values = locals_of(result)
    assert isinstance(values["bad"], Unknown) and isinstance(values["folder"], Unknown)
    assert values["binary"] == "Y2Fm6Q=="  # filebase64 reads bytes, UTF-8 or not
    found = sorted((e.origin.line, e.message) for e in result.errors)
    assert found == [
        (2, 'local.bad: file(): contents of "latin1.txt" are not valid UTF-8; use filebase64() to read them as Base64'),
        (3, 'local.folder: file(): "sub" is a directory, not a file'),
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_opening_it(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": exposing(pipe='file("pipe")', there='fileexists("pipe")')})
    os.mkfifo(repo / "pipe")  # opening it to read would block until a writer comes
    result = load(repo)
    assert sorted(e.message for e in result.errors) == ['local.pipe: file(): "pipe" is not a regular file',
                                                         'local.there: fileexists(): "pipe" is not a regular file']


def test_a_file_over_the_size_cap_is_a_located_error_not_read(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": exposing(big='file("big.json")')})
    with (repo / "big.json").open("wb") as handle:
        handle.truncate(budget.MAX_FILE_BYTES + 1)  # sparse: nothing is written
    result = load(repo)
    assert isinstance(locals_of(result)["big"], Unknown)
    [error] = result.errors
    assert error.message == 'local.big: "big.json" is larger than 20 MiB; not read'
    assert (error.origin.file, error.origin.line) == ("main.tf", 2)


def test_an_unknown_path_is_unknown_and_candidates_are_read(tmp_path: Path):
    repo = write(tmp_path / "repo", {
        "main.tf": 'variable "env" {}\nvariable "on" {\n  type = bool\n}\n' + exposing(
            unknown='file("${var.env}.json")', chosen='file(var.on ? "a.json" : "b.json")'),
        "a.json": "same", "b.json": "same",
    })
    values = locals_of(load(repo))
    assert isinstance(values["unknown"], Unknown) and values["unknown"].reason == "variable 'env' has no value"
    assert values["chosen"] == "same"  # both candidates read the same content


# ---------------------------------------------------------------------------
# templatefile()
# ---------------------------------------------------------------------------

TEMPLATE = """\
{
  "regions": [
    %{~ for i, r in regions ~}
    "${r}"%{ if i < length(regions) - 1 },%{ endif }
    %{~ endfor ~}
  ],
  "retention": ${retention}%{ if extra != "" },
  "extra": "${extra}"%{ endif }
}
"""


def test_templatefile_renders_interpolations_directives_and_strip_markers(tmp_path: Path):
    repo = write(tmp_path / "repo", {
        "policy.json.tftpl": TEMPLATE,
        "main.tf": 'variable "retention" {}\n' + exposing(
            full='templatefile("policy.json.tftpl", { regions = ["a", "b"], retention = 35, extra = "x" })',
            plain='templatefile("${path.module}/policy.json.tftpl", { regions = [], retention = 7, extra = "" })',
            unknown='templatefile("policy.json.tftpl", { regions = ["a"], retention = var.retention, extra = "" })',
        ),
    })
    result = load(repo)
    assert result.errors == []
    values = locals_of(result)
    assert json.loads(values["full"]) == {"regions": ["a", "b"], "retention": 35, "extra": "x"}
    assert values["full"] == '{\n  "regions": ["a","b"],\n  "retention": 35,\n  "extra": "x"\n}\n'
    assert json.loads(values["plain"]) == {"regions": [], "retention": 7}
    unknown = values["unknown"]
    assert isinstance(unknown, Unknown) and unknown.reason == "variable 'retention' has no value"
    assert unknown.text == '{\n  "regions": ["a"],\n  "retention": ${retention}\n}\n'  # the rest is rendered


def test_a_template_without_a_final_newline_and_a_lone_interpolation(tmp_path: Path):
    repo = write(tmp_path / "repo", {
        "name.tftpl": "vault-${name}",
        "list.tftpl": "${items}",
        "strip.tftpl": "a ${name ~}",
        "main.tf": exposing(
            name='templatefile("name.tftpl", { name = "x" })',
            items='templatefile("list.tftpl", { items = [1, 2] })',  # a lone interpolation keeps its type
            strip='templatefile("strip.tftpl", { name = "x" })',
        ),
    })
    values = locals_of(load(repo))
    assert (values["name"], list(values["items"]), values["strip"]) == ("vault-x", [1, 2], "a x")


@pytest.mark.parametrize(("template", "expected"), [
    # only the vars are in scope, even in a branch not taken (Terraform checks before rendering)
    ("${var.x}", 'vars map does not contain key "var", referenced at t.tftpl:1,3'),
    ("ok\n%{ if false }${missing}%{ endif }", 'vars map does not contain key "missing", referenced at t.tftpl:2,16'),
    ('${templatefile("t.tftpl", {})}', "t.tftpl:1,3: templatefile(): cannot call templatefile() from inside a template"),
    ("line one\n${ 1 + }\n", "t.tftpl:2,1: syntax error: unexpected '${ 1 + }'"),
    ("line one\n${", "t.tftpl: syntax error: an interpolation, a directive or a string in it is not closed"),
])
def test_template_errors_are_located_errors_naming_the_template(tmp_path: Path, template: str, expected: str):
    repo = write(tmp_path / "repo", {"t.tftpl": template, "main.tf": exposing(t='templatefile("t.tftpl", { a = 1 })')})
    result = load(repo)
    assert isinstance(locals_of(result)["t"], Unknown)
    [error] = result.errors
    assert expected in error.message and (error.origin.file, error.origin.line, error.origin.column) == ("main.tf", 2, 7)


def test_a_template_reads_files_and_is_refused_outside_the_tree(tmp_path: Path, outside: Path):
    repo = write(tmp_path / "repo", {
        "t.tftpl": '${file("inner.txt")}|${file("../outside/secret.json")}',
        "inner.txt": "inner",
        "main.tf": exposing(t='templatefile("t.tftpl", {})', bad_vars='templatefile("t.tftpl", { "not a name" = 1 })'),
    })
    result = load(repo)
    values = locals_of(result)
    assert isinstance(values["t"], Unknown) and "outside the scanned tree" in values["t"].reason
    refused = [e for e in result.errors if "outside" in e.message]
    assert [(e.origin.file, e.origin.line, e.origin.column) for e in refused] == [("t.tftpl", 1, 24)]
    assert SECRET not in json.dumps(messages(result))
    assert any('invalid template variable name "not a name"' in e.message for e in result.errors)


# ---------------------------------------------------------------------------
# through the whole pipeline
# ---------------------------------------------------------------------------


def lint(paths: list[Path], root: Path, **cfn) -> list:
    from backupguard.scanner.cloudformation import CfnOptions

    options = ScanOptions(terraform=TerraformOptions(root=root), cfn=CfnOptions(**cfn))
    checks = build_checks(load_catalogue(), load_frameworks(), [], UserConfig(), {})
    return run(scan(paths, options, name=root_relative(root)), checks)


ORG_POLICY = """\
resource "aws_organizations_policy" "backup" {
  name    = "backup"
  type    = "BACKUP_POLICY"
  content = file("${path.module}/%s")
}
"""


def test_an_org_policy_from_a_file_outside_the_tree_is_unknown_and_one_bg000(tmp_path: Path, outside: Path):
    repo = write(tmp_path / "repo", {"main.tf": ORG_POLICY % "../outside/secret.json"})
    results = lint([repo], real(repo))
    [error] = [r for r in results if r.status == "error"]
    assert (error.file, error.line, error.column) == ("main.tf", 4, 13)
    assert error.message == 'file() path "./../outside/secret.json" resolves outside the scanned tree; not read'
    assert {r.status for r in results if r.rule_id == "BG501"} == {"unknown"}
    shown = json.dumps([(r.message, r.values) for r in results], default=str)
    assert SECRET not in shown and str(real(tmp_path)) not in shown


def test_an_org_policy_from_a_file_fails_on_its_content(tmp_path: Path):
    policy = {"plans": {"p": {"regions": {"@@assign": ["us-east-1"]}, "rules": {"r": {
        "schedule_expression": {"@@assign": "cron(0 5 ? * * *)"}, "target_backup_vault_name": {"@@asign": "v"}}},
        "selections": {"tags": {"t": {"iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/r"},
                                      "tag_key": {"@@assign": "k"}, "tag_value": {"@@assign": ["v"]}}}}}}}
    repo = write(tmp_path / "repo", {"main.tf": ORG_POLICY % "backup_policy.json", "backup_policy.json": json.dumps(policy)})
    results = lint([repo], real(repo))
    assert not [r for r in results if r.status == "error"]
    # the resource, and the document itself (a standalone policy file is linted too)
    assert {(r.resource_id, r.status) for r in results if r.rule_id == "BG501"} == {
        ("aws_organizations_policy.backup", "fail"), ("backup_policy.json", "fail")}


# ---------------------------------------------------------------------------
# OpenTofu provider for_each (item 15)
# ---------------------------------------------------------------------------

BACKED_UP_DATABASE = """\
resource "aws_backup_vault" "this" {
  name = "local"
}

resource "aws_backup_plan" "this" {
  name = "daily"
  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.this.name
    schedule          = "cron(0 5 ? * * *)"
    lifecycle {
      delete_after = 35
    }
    copy_action {
      destination_vault_arn = "arn:aws:backup:us-west-2:111122223333:backup-vault:dr"
    }
  }
}

resource "aws_backup_selection" "this" {
  name         = "database"
  plan_id      = aws_backup_plan.this.id
  iam_role_arn = "arn:aws:iam::111122223333:role/backup"
  resources    = [aws_db_instance.this.arn]
}

resource "aws_db_instance" "this" {
  identifier     = "database"
  engine         = "postgres"
  instance_class = "db.t3.micro"
}
"""

ITERATED_PROVIDERS = """\
variable "regions" {
  type    = set(string)
  default = ["us-east-1", "us-west-2"]
}

variable "pick" {}

provider "aws" {
  alias    = "by_region"
  for_each = var.regions
  region   = each.value
  default_tags {
    tags = { placed = each.key }
  }
}

module "backup" {
  source   = "./modules/backup"
  for_each = var.regions
  providers = {
    aws = aws.by_region[each.key]
  }
}

resource "aws_backup_vault" "regional" {
  for_each = var.regions
  provider = aws.by_region[each.key]
  name     = "regional-${data.aws_region.here[each.key].name}"
}

data "aws_region" "here" {
  for_each = var.regions
  provider = aws.by_region[each.key]
}

resource "aws_backup_vault" "picked" {
  provider = aws.by_region[var.pick]
  name     = "picked"
}
"""


def test_provider_for_each_places_each_resource_and_module_instance_in_its_region(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": ITERATED_PROVIDERS, "modules/backup/main.tf": BACKED_UP_DATABASE})
    estate = scan([repo], ScanOptions(terraform=TerraformOptions(root=real(repo))))
    assert estate.errors == []
    vaults = {vault.resource_id: vault for vault in estate.vaults}
    assert {vault_id: vault.origin.region for vault_id, vault in vaults.items()} == {
        'aws_backup_vault.regional["us-east-1"]': "us-east-1",
        'aws_backup_vault.regional["us-west-2"]': "us-west-2",
        'module.backup["us-east-1"].aws_backup_vault.this': "us-east-1",
        'module.backup["us-west-2"].aws_backup_vault.this': "us-west-2",
        "aws_backup_vault.picked": None,  # which instance: unknown, so its Region is (not an error)
    }
    assert vaults['aws_backup_vault.regional["us-west-2"]'].name == "regional-us-west-2"  # data.aws_region of its provider
    assert vaults['module.backup["us-west-2"].aws_backup_vault.this'].tags == {"placed": "us-west-2"}
    plans = {plan.resource_id: plan.origin.region for plan in estate.plans}
    assert plans == {'module.backup["us-east-1"].aws_backup_plan.this': "us-east-1",
                     'module.backup["us-west-2"].aws_backup_plan.this': "us-west-2"}


def test_the_cross_region_copy_verdict_follows_each_instances_region(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": ITERATED_PROVIDERS, "modules/backup/main.tf": BACKED_UP_DATABASE})
    results = lint([repo], real(repo))
    assert not [r for r in results if r.status == "error"]
    assert {(r.resource_id, r.status) for r in results if r.rule_id == "BG403"} == {
        ('module.backup["us-east-1"].aws_db_instance.this', "pass"),  # copied to us-west-2
        ('module.backup["us-west-2"].aws_db_instance.this', "fail"),  # the copy stays in us-west-2
    }


def test_an_unknown_instance_key_gives_an_unknown_region_and_what_the_instances_share(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": (
        'variable "pick" {}\nvariable "later" {}\n'
        'provider "aws" {\n  alias    = "same"\n  for_each = toset(["a", "b"])\n  region   = "eu-west-1"\n}\n'
        'provider "aws" {\n  alias    = "open"\n  for_each = var.later\n  region   = each.value\n}\n'
        'resource "aws_backup_vault" "same" {\n  provider = aws.same[var.pick]\n  name     = "same"\n}\n'
        'resource "aws_backup_vault" "open" {\n  provider = aws.open["x"]\n  name     = "open"\n}\n'
    )})
    result = load(repo)
    assert result.errors == []
    regions = {i.address: i.region for i in result.instances}
    assert regions["aws_backup_vault.same"] == "eu-west-1"  # every instance is in eu-west-1
    assert isinstance(regions["aws_backup_vault.open"], Unknown)
    assert "variable 'later' has no value" in regions["aws_backup_vault.open"].reason


def test_references_opentofu_refuses_are_located_errors(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": (
        'provider "aws" {\n  alias    = "by_region"\n  for_each = toset(["us-east-1"])\n  region   = each.value\n}\n'
        'provider "aws" {\n  alias  = "plain"\n  region = "eu-west-1"\n}\n'
        'resource "aws_backup_vault" "missing" {\n  provider = aws.by_region["eu-central-1"]\n  name     = "m"\n}\n'
        'resource "aws_backup_vault" "no_key" {\n  provider = aws.by_region\n  name     = "n"\n}\n'
        'resource "aws_backup_vault" "not_iterated" {\n  provider = aws.plain["x"]\n  name     = "p"\n}\n'
    )})
    result = load(repo)
    assert sorted((e.origin.line, e.origin.column, e.message) for e in result.errors) == [
        (11, 28, 'provider configuration aws.by_region has no instance ["eu-central-1"]'),
        (15, 14, "provider configuration aws.by_region has for_each: name one of its instances (aws.by_region[...])"),
        (19, 24, "provider configuration aws.plain has no for_each: it cannot be indexed"),
    ]
    regions = {i.address: i.region for i in result.instances}
    assert regions["aws_backup_vault.not_iterated"] == "eu-west-1"
    assert isinstance(regions["aws_backup_vault.missing"], Unknown) and isinstance(regions["aws_backup_vault.no_key"], Unknown)


def test_provider_references_in_json_syntax(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf.json": json.dumps({
        "provider": {"aws": [{"alias": "by_region", "for_each": '${toset(["us-west-2"])}', "region": "${each.value}"}]},
        "resource": {"aws_backup_vault": {"v": {"provider": 'aws.by_region["us-west-2"]', "name": "v"}}},
    })})
    result = load(repo)
    assert result.errors == []
    assert [i.region for i in result.instances] == ["us-west-2"]


def test_a_region_data_source_with_only_meta_arguments_describes_its_provider(tmp_path: Path):
    repo = write(tmp_path / "repo", {"main.tf": (
        'provider "aws" {\n  alias  = "replica"\n  region = "eu-west-1"\n}\n'
        'data "aws_region" "replica" {\n  provider = aws.replica\n}\n'
        'resource "aws_backup_vault" "v" {\n  name = "copy-${data.aws_region.replica.name}"\n}\n'
    )})
    [vault] = load(repo).instances
    assert vault.values["name"] == "copy-eu-west-1"
