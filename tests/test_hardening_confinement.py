"""A failure in the resolver or the engine costs one entity or one subject, never the run (issue 8 item 4)."""

from __future__ import annotations

import pytest

from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.resolve import builders
from backupguard.rules import engine

from conftest import by_rule

TEMPLATE = """\
Resources:
  Good:
    Type: AWS::Backup::BackupVault
    Properties: {BackupVaultName: good}
  Odd:
    Type: AWS::Backup::BackupVault
    Properties: {BackupVaultName: odd}
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: weekly
        BackupPlanRule:
          - {RuleName: weekly, TargetBackupVault: good, ScheduleExpression: "cron(0 5 ? * 1 *)", Lifecycle: {DeleteAfterDays: 7}}
"""


def test_a_resolver_failure_on_one_entity_is_one_located_error(lint_text, monkeypatch):
    real = builders.vault_subject

    def fragile(vault):
        if vault.resource_id == "Odd":
            raise RecursionError("maximum recursion depth exceeded")
        return real(vault)

    monkeypatch.setattr(builders, "vault_subject", fragile)
    results = lint_text(TEMPLATE)
    [error] = [r for r in results if r.status == "error"]
    assert error.message == ("internal error while resolving backup vault 'Odd' (RecursionError); "
                             "its rules were not evaluated, please report it")
    assert (error.file.endswith("template.yaml"), error.line) == (True, 5)
    assert {r.resource_id for r in by_rule(results, "BG202")} == {"Good"}
    assert {r.status for r in by_rule(results, "BG101")} == {"fail"}


def test_an_engine_failure_on_one_subject_is_one_error_of_that_rule(lint_text, monkeypatch):
    real = engine.evaluate_subject

    def fragile(check, subject, memo, show):
        if check.rule.id == "BG202" and subject.resource_id == "Odd":
            raise ValueError("boom")
        return real(check, subject, memo, show)

    monkeypatch.setattr(engine, "evaluate_subject", fragile)
    results = lint_text(TEMPLATE)
    assert sorted((r.resource_id, r.status) for r in by_rule(results, "BG202")) == [("Good", "fail"), ("Odd", "error")]
    [odd] = [r for r in by_rule(results, "BG202") if r.resource_id == "Odd"]
    assert odd.message == "internal error while evaluating BG202 (ValueError); please report it" and odd.line == 5


def test_a_principal_list_nested_a_thousand_deep_is_no_principal(tmp_path):
    nested = "[" * 1000 + '"*"' + "]" * 1000
    (tmp_path / "main.tf").write_text(f"""
resource "aws_backup_vault" "v" {{
  name = "v"
}}
resource "aws_backup_vault_policy" "p" {{
  backup_vault_name = aws_backup_vault.v.name
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{Effect = "Allow", Principal = {{AWS = {nested}}}, Action = "backup:*", Resource = "*"}}]
  }})
}}
""")
    result = CliRunner().invoke(app, ["lint", str(tmp_path), "--format", "json"])
    assert "internal error" not in result.output, result.output[-500:]
    assert '"rule_id": "BG202"' in result.output


def test_a_var_that_is_not_utf8_is_a_usage_error(tmp_path):
    (tmp_path / "main.tf").write_text('variable "x" {}\n')
    result = CliRunner().invoke(app, ["lint", str(tmp_path), "--var", "x=\udced\udcb0"])
    assert result.exit_code == 2
    assert result.stderr == "backupguard: error: --var x=...: not UTF-8 text\n"


def test_a_fact_nested_a_thousand_deep_is_shown_not_recursed(tmp_path):
    nested = "[" * 1000 + '"cron(0 5 ? * * *)"' + "]" * 1000
    (tmp_path / "main.tf").write_text(f"""
resource "aws_backup_plan" "this" {{
  name = "p"
  rule {{
    rule_name         = "r"
    target_vault_name = "v"
    schedule          = {nested}
  }}
}}
""")
    result = CliRunner().invoke(app, ["lint", str(tmp_path), "--format", "json"])
    assert "internal error" not in result.output, result.output[-800:]
    assert '"rule_id": "BG101"' in result.output


def test_a_config_key_that_is_a_number_is_named_as_unknown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".backupguard.yaml").write_text("101: x\nfail_on: low\n")
    (tmp_path / "t.yaml").write_text("Resources: {}\n")
    result = CliRunner().invoke(app, ["lint", "t.yaml"])
    assert result.exit_code == 2
    assert result.stderr.startswith("backupguard: error: .backupguard.yaml:1: unknown key(s) 101; expected ")


def test_real_paths_with_remembered_folders_are_what_realpath_says(tmp_path):
    """scanner.paths.real_path remembers real paths within a scan: every symlink is still
    followed (a linked folder, a linked file, ``..`` after a link, a dangling link, a name that is
    not there), so confinement answers as os.path.realpath would."""
    import os

    from backupguard.scanner.paths import forget_real_paths, inside, real_path

    root = tmp_path / "repo"
    (root / "modules" / "a").mkdir(parents=True)
    (root / "modules" / "a" / "main.tf").write_text("")
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "key").write_text("")
    (root / "linked").symlink_to(root / "modules")
    (root / "escape").symlink_to(outside)
    (root / "modules" / "a" / "key.tf").symlink_to(outside / "key")
    (root / "modules" / "a" / "dangling").symlink_to(tmp_path / "nowhere")
    forget_real_paths()
    cases = [root / "linked" / "a" / "main.tf", root / "escape" / "key", root / "modules" / "a" / "key.tf",
             root / "linked" / ".." / "escape" / "key", root / "modules" / "a" / "dangling",
             root / "modules" / "a" / "missing.tf", root / "modules" / "a" / ".."]
    for path in cases * 2:  # the second time from remembered folders
        assert real_path(str(path)) == os.path.realpath(path)
    verdicts = [inside(path, root.resolve()) for path in cases]
    assert verdicts == [True, False, False, False, False, True, True]


def test_remembered_real_paths_agree_with_realpath_on_any_path_through_links(tmp_path):
    """real_path builds a path's real path from its folder's (``..`` is the parent of what the
    path so far resolved to): on any path spelt with ``.``, ``..``, folders and links (two levels
    deep, to a sibling's child, out of the tree, through another link, dangling), real_path says
    what os.path.realpath says, fresh and from memory. Confinement rests on this. A path through a
    link loop is left out: the system opens nothing through it (ELOOP), and realpath stops there."""
    import errno
    import os

    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    from backupguard.scanner.paths import forget_real_paths, real_path

    root = tmp_path / "repo"
    for folder in ("a/b/c", "b/c", "outside"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "a" / "b" / "f").write_text("")
    links = {"deep": "a/b", "out": "../outside", "chain": "deep", "loop": "pool", "pool": "loop", "dangling": "nowhere"}
    for where in ("", "a", "b/c"):
        for name, target in links.items():
            (root / where / name).symlink_to(target)
    parts = st.sampled_from(["a", "b", "c", "f", ".", "..", *links])

    @hypothesis.settings(max_examples=300, deadline=None, database=None)
    @hypothesis.given(paths=st.lists(st.lists(parts, min_size=1, max_size=7), min_size=1, max_size=6))
    def check(paths):
        forget_real_paths()
        for spelt in paths * 2:  # the second time from remembered folders
            path = os.path.join(str(root), *spelt)
            try:
                os.path.realpath(path, strict=True)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    continue
            assert real_path(path) == os.path.realpath(path), path

    check()


def test_a_path_of_thousands_of_names_is_resolved_without_recursion(tmp_path):
    """A hostile tree (or module source) may spell a path of thousands of names, deeper than Python's
    recursion limit: real_path resolves it as os.path.realpath does, and confinement answers."""
    import os

    from backupguard.scanner.paths import forget_real_paths, inside, real_path

    deep = os.path.join(str(tmp_path), *["x"] * 1500, "f")
    climbing = os.path.join(str(tmp_path), *[".."] * 1200, "etc", "passwd")
    for path in (deep, climbing):
        forget_real_paths()
        assert real_path(path) == os.path.realpath(path)
    assert inside(deep, tmp_path) and not inside(climbing, tmp_path)
