"""Issue 8, the front door: the walk never reads outside the scan root, and one odd path is one located error.

Items 1 (symlinks out of the tree), 5 (symlink loops, non-UTF-8 file names), 6 (unreadable
folders and files), 7 (plan JSON detected by structure) and 12 (fingerprints independent of
the working directory).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TEMPLATE = (EXAMPLES / "noncompliant" / "backup-estate.yaml").read_text("utf-8")
SECRET = "TOP-SECRET-VALUE-1234"
runner = CliRunner()


def lint_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["lint", "--format", "json", *args])
    assert result.exit_code in (0, 1, 2), result.output
    return result.exit_code, json.loads(result.stdout)


def errors(doc: dict) -> list[tuple[str, str]]:
    return [(r["file"], r["message"]) for r in doc["results"] if r["status"] == "error"]


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    """A folder beside the scanned tree holding a secret in files the tree links to."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.tf").write_text(f'resource "aws_backup_vault" "v" {{ name = "{SECRET}" }}\n')
    (folder / "secret.yaml").write_text(TEMPLATE.replace("BackupVaultName:", f"# {SECRET}\n      BackupVaultName:", 1))
    return folder


@pytest.fixture()
def tree(tmp_path: Path, outside: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "stacks").mkdir(parents=True)
    (repo / "stacks" / "estate.yaml").write_text(TEMPLATE)
    return repo


def test_symlinks_out_of_the_tree_are_located_errors_and_never_read(tree: Path, outside: Path, monkeypatch):
    (tree / "passwd.tf").symlink_to(outside / "secret.tf")
    (tree / "environ.yaml").symlink_to(outside / "secret.yaml")
    (tree / "linked").symlink_to(outside, target_is_directory=True)
    monkeypatch.chdir(tree)
    code, doc = lint_json(".")
    text = json.dumps(doc)
    assert SECRET not in text
    assert sorted(errors(doc)) == [
        ("environ.yaml", f"environ.yaml resolves outside the scanned tree; not read"),
        ("linked", f"linked resolves outside the scanned tree; not read"),
        ("passwd.tf", f"passwd.tf resolves outside the scanned tree; not read"),
    ]
    assert any(r["file"] == "stacks/estate.yaml" and r["status"] == "fail" for r in doc["results"])
    assert code == 2


def test_a_symlink_named_on_the_command_line_is_not_followed_out_of_the_tree(tree: Path, outside: Path, monkeypatch):
    (tree / "passwd.yaml").symlink_to(outside / "secret.yaml")
    monkeypatch.chdir(tree)
    code, doc = lint_json("passwd.yaml", "stacks/estate.yaml")
    assert SECRET not in json.dumps(doc)
    assert [f for f, _ in errors(doc)] == ["passwd.yaml"]
    assert code == 2


def test_root_option_bounds_the_scan(tree: Path, outside: Path, monkeypatch):
    monkeypatch.chdir(tree)
    code, doc = lint_json("--root", str(tree), str(outside / "secret.yaml"))
    assert SECRET not in json.dumps(doc)
    assert errors(doc) == [(
        (outside / "secret.yaml").as_posix(),
        f"{(outside / 'secret.yaml').as_posix()} resolves outside the scanned tree; not read",
    )]


def test_a_symlink_loop_is_one_located_error_and_the_rest_is_scanned(tree: Path, monkeypatch):
    (tree / "loop.yaml").symlink_to(tree / "loop.yaml")
    (tree / "stacks" / "up").symlink_to(tree, target_is_directory=True)  # a folder loop: not followed
    monkeypatch.chdir(tree)
    code, doc = lint_json(".")
    assert errors(doc) == [("loop.yaml", "cannot read file: Too many levels of symbolic links")]
    assert sum(1 for r in doc["results"] if r["file"] == "stacks/estate.yaml" and r["status"] == "fail") >= 1


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses file names that are not UTF-8")
def test_a_file_name_that_is_not_utf8_is_one_located_error_and_every_format_encodes(tree: Path, monkeypatch, tmp_path):
    bad = os.fsdecode(b"bad\xff.yaml")
    (tree / bad).write_text(TEMPLATE)
    monkeypatch.chdir(tree)
    out = tmp_path / "out"
    result = runner.invoke(app, ["lint", ".", "-o", f"json={out}.json", "-o", f"sarif={out}.sarif", "-o", f"text={out}.txt"])
    assert result.exit_code == 2, result.output
    doc = json.loads(Path(f"{out}.json").read_text("utf-8"))
    assert errors(doc) == [("bad\\xff.yaml", "file name is not valid UTF-8; not scanned")]
    assert json.loads(Path(f"{out}.sarif").read_text("utf-8"))["runs"][0]["results"]
    assert "bad\\xff.yaml" in Path(f"{out}.txt").read_text("utf-8")


def test_an_unreadable_folder_is_a_located_error(tree: Path, monkeypatch):
    (tree / "locked").mkdir()
    (tree / "locked" / "hidden.yaml").write_text(TEMPLATE)
    real_scandir = os.scandir

    def scandir(path=".", *args):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path, *args)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.chdir(tree)
    code, doc = lint_json(".")
    assert errors(doc) == [("locked", "cannot read folder: Permission denied")]
    assert any(r["file"] == "stacks/estate.yaml" and r["status"] == "fail" for r in doc["results"])
    assert code == 2


def test_an_unreadable_named_file_is_a_located_error_not_a_usage_error(tree: Path, monkeypatch):
    (tree / "locked.yaml").write_text(TEMPLATE)
    real_open, real_access = Path.open, os.access

    def deny(path, *args, **kwargs):
        if Path(path).name == "locked.yaml":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    # click refuses an unreadable argument before the scan when it is asked to check (as root, access says yes)
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p).name != "locked.yaml" and real_access(p, mode, **kw))
    monkeypatch.chdir(tree)
    code, doc = lint_json("locked.yaml", "stacks/estate.yaml")
    assert errors(doc) == [("locked.yaml", "cannot read file: Permission denied")]
    assert any(r["file"] == "stacks/estate.yaml" and r["status"] == "fail" for r in doc["results"])
    assert code == 2


def _plan(variables: int) -> dict:
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "variables": {f"v{i}": {"value": "x" * 100} for i in range(variables)},
        "planned_values": {"root_module": {"resources": [{
            "address": "aws_backup_vault.v", "mode": "managed", "type": "aws_backup_vault", "name": "v",
            "values": {"name": "vault", "kms_key_arn": None, "force_destroy": False},
        }]}},
    }


@pytest.mark.parametrize("named", [True, False], ids=["named", "walked"])
def test_a_plan_whose_planned_values_come_after_64_kib_is_still_a_plan(tmp_path: Path, monkeypatch, named: bool):
    plan = tmp_path / "tfplan.json"
    plan.write_text(json.dumps(_plan(1000)))
    assert plan.read_text().index('"planned_values"') > 65536
    monkeypatch.chdir(tmp_path)
    _, doc = lint_json("tfplan.json" if named else ".")
    assert errors(doc) == []
    assert "tfplan.json" in doc["scan"]["files"]
    assert any(r["resource_id"] == "aws_backup_vault.v" for r in doc["results"])


def test_fingerprints_do_not_depend_on_the_working_directory(tree: Path, tmp_path: Path, monkeypatch):
    (tree / "broken.yaml").write_text("Resources: [\n")
    outputs = []
    expected = {
        ".": {"stacks/estate.yaml", "broken.yaml"},
        "repo": {"repo/stacks/estate.yaml", "repo/broken.yaml"},
        "..": {"estate.yaml", "../broken.yaml"},  # relative to the working directory, as today
    }
    for cwd, target in ((tree, "."), (tmp_path, "repo"), (tree / "stacks", "..")):
        monkeypatch.chdir(cwd)
        out = tmp_path / f"out-{len(outputs)}"
        result = runner.invoke(app, ["lint", target, "-o", f"json={out}.json", "-o", f"sarif={out}.sarif"])
        assert result.exit_code == 2, result.output
        doc = json.loads(Path(f"{out}.json").read_text("utf-8"))
        sarif = json.loads(Path(f"{out}.sarif").read_text("utf-8"))
        outputs.append((
            [r["fingerprint"] for r in doc["results"]],
            [r["partialFingerprints"] for r in sarif["runs"][0]["results"]],
        ))
        shown = {r["file"] for r in doc["results"]}
        assert shown == expected[target]
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0][0]) > 5


@pytest.mark.skipif(shutil.which("true") is None, reason="needs a POSIX system")
def test_the_walk_reads_no_file_outside_the_root(tree: Path, outside: Path, monkeypatch):
    """Guard at the source: no open() of an outside path at all, whatever the link."""
    (tree / "a.tf").symlink_to(outside / "secret.tf")
    (tree / "stacks" / "b.yaml").symlink_to(outside / "secret.yaml")
    opened: list[str] = []
    real_open = Path.open

    def spy(path, *args, **kwargs):
        opened.append(os.path.realpath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    monkeypatch.chdir(tree)
    lint_json(".")
    assert not [p for p in opened if p.startswith(str(outside.resolve()))]
