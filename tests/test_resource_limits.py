"""The worst inputs of issue 8 item 3, each a few bytes (or one big file), under a memory limit.

Each case runs ``backupguard lint`` in a subprocess with its address space capped
(``RLIMIT_AS``, 1.5 GiB) and a wall-clock timeout, on a hostile input beside an
unmutated neighbour template. Each must end, within seconds, in a located error for the
hostile file (file and line in the JSON report), never a hang, an out-of-memory kill, a
traceback or an "internal error"; and the neighbour must still get its results.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(resource, "RLIMIT_AS"), reason="needs RLIMIT_AS")

MEMORY_LIMIT = 3 * 1024**3 // 2  # 1.5 GiB of address space
KILL_AFTER = 20.0  # seconds: the run is killed here (a hang must not stall CI)

NEIGHBOUR = """\
Resources:
  NeighbourVault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: neighbour-vault
  NeighbourPlan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: neighbour-plan
        BackupPlanRule:
          - RuleName: weekly
            TargetBackupVault: neighbour-vault
            ScheduleExpression: cron(0 5 ? * SUN *)
            Lifecycle:
              DeleteAfterDays: 7
"""


@dataclass
class Hostile:
    """One hostile input: its files (the first is the one the error must name), extra CLI arguments."""

    files: dict[str, str | bytes]
    args: list[str] = field(default_factory=list)
    config: bool = False  # the hostile file is .backupguard.yaml: a usage error naming it is the right answer
    # A regex evaluated in linear time (RE2) finishes; its "pattern did not match" is a located note.
    note: str | None = None

    @property
    def target(self) -> str:
        return next(iter(self.files))

    @property
    def scanned(self) -> str:
        return "hostile" if self.target.endswith(".tf") else self.target


def vault(expr: str) -> str:
    return f'resource "aws_backup_vault" "v" {{\n  name = {expr}\n}}\n'


def chain(name: str, first: str, step: str, levels: int) -> str:
    """``locals`` where each value is built from the previous one twice (doubling or squaring)."""
    lines = [f"  {name}0 = {first}"] + [f"  {name}{i} = {step.format(prev=f'local.{name}{i - 1}')}" for i in range(1, levels + 1)]
    return "locals {\n" + "\n".join(lines) + "\n}\n"


def nested_foreach(levels: int, items: int) -> str:
    """CloudFormation Fn::ForEach nested ``levels`` deep over ``items`` values each (a few KB of JSON)."""
    names = [f"L{i}" for i in range(levels)]
    body: dict = {"V" + "".join("${%s}" % n for n in names): {"Type": "AWS::Backup::BackupVault", "Properties": {}}}
    for name in reversed(names):
        body = {f"Fn::ForEach::{name}": [name, [str(i) for i in range(items)], body]}
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::LanguageExtensions", "Resources": body})


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """Exclude patterns built from aliases: 9 levels of 9 references, 9**9 strings once expanded."""
    items = ['  - &a0 ["lol"]'] + [f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "exclude:\n" + "\n".join(items) + "\n"


def big_tf(megabytes: int = 50) -> bytes:
    line = b'  k%08d = "' + b"x" * 80 + b'"\n'
    count = megabytes * 1024 * 1024 // (len(line) + 2)
    return b"locals {\n" + b"".join(line % i for i in range(count)) + b"}\n" + vault('"big"').encode()


REDOS_SUBJECT = "a" * 40 + "!"

CASES = {
    "count-100000000": Hostile({"hostile/main.tf": 'resource "aws_backup_vault" "v" {\n  count = 100000000\n  name  = "v-${count.index}"\n}\n'}),
    "count-25-digits": Hostile({"hostile/main.tf": 'resource "aws_backup_vault" "v" {\n  count = 1000000000000000000000000\n  name  = "v-${count.index}"\n}\n'}),
    "format-width": Hostile({"hostile/main.tf": vault('format("%999999999d", 1)')}),
    "indent": Hostile({"hostile/main.tf": vault('indent(1000000000, "x\\ny")')}),
    "string-doubling": Hostile({"hostile/main.tf": chain("s", '"xxxxxxxxxxxxxxxx"', '"${{{prev}}}${{{prev}}}"', 64) + vault("local.s64")}),
    "list-doubling-concat": Hostile({"hostile/main.tf": chain("l", "[1, 2, 3, 4]", "concat({prev}, {prev})", 64) + vault('"v-${length(local.l64)}"')}),
    "setproduct": Hostile({"hostile/main.tf": vault('"v-${length(setproduct(range(1000), range(1000), range(1000)))}"')}),
    "nested-for": Hostile({"hostile/main.tf": vault('"v-${length(flatten([for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]))}"')}),
    "nested-template-for": Hostile({"hostile/main.tf": vault('"%{ for a in range(1000) }%{ for b in range(1000) }%{ for c in range(1000) }x%{ endfor }%{ endfor }%{ endfor }"')}),
    "module-count-1000000": Hostile({
        "hostile/main.tf": 'module "many" {\n  source = "./child"\n  count  = 1000000\n}\n',
        "hostile/child/main.tf": vault('"child"'),
    }),
    "dynamic-1000x1000": Hostile({"hostile/main.tf": """\
resource "aws_backup_plan" "p" {
  name = "p"
  dynamic "rule" {
    for_each = range(1000)
    content {
      rule_name         = "r${rule.value}"
      target_vault_name = "v"
      schedule          = "cron(0 5 ? * * *)"
      dynamic "copy_action" {
        for_each = range(1000)
        content {
          destination_vault_arn = "arn:aws:backup:us-east-1:111122223333:backup-vault:c${copy_action.value}"
        }
      }
    }
  }
}
"""}),
    "repeated-squaring": Hostile({"hostile/main.tf": chain("n", "10", "{prev} * {prev}", 40) + vault('"v-${local.n40}"')}),
    "cfn-nested-foreach-3x200": Hostile({"hostile/stack.json": nested_foreach(3, 200)}),
    "config-yaml-alias-bomb": Hostile({".backupguard.yaml": alias_bomb()}, config=True),
    "regex-redos-hcl": Hostile({"hostile/main.tf": vault(f'regex("^(a+)+$", "{REDOS_SUBJECT}")')},
                               note="hostile/main.tf:2:10: aws_backup_vault.v.name: regex(): the pattern did not match"),
    "regex-redos-var": Hostile(
        {"hostile/main.tf": 'variable "input" { type = string }\n' + vault('regex("^(a+)+$", var.input)')},
        ["--var", f"input={REDOS_SUBJECT}"],
        note="hostile/main.tf:3:10: aws_backup_vault.v.name: regex(): the pattern did not match",
    ),
    "tf-50-mb": Hostile({"hostile/main.tf": big_tf(50)}),
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def lint(cwd: Path, args: list[str]) -> tuple[subprocess.CompletedProcess | None, float]:
    """``python -m backupguard lint ARGS`` in ``cwd`` under the memory limit; None when killed at KILL_AFTER."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | {"PYTHONIOENCODING": "utf-8"}
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "backupguard", "lint", *args], cwd=cwd, capture_output=True,
                              text=True, errors="replace", timeout=KILL_AFTER, preexec_fn=_limit_memory, env=env)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - start
    return done, time.monotonic() - start


def line_count(data: str | bytes) -> int:
    return (data.count(b"\n") if isinstance(data, bytes) else data.count("\n")) + 1


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_input_ends_in_a_located_error_within_seconds_and_the_neighbour_is_still_reported(name, tmp_path):
    case = CASES[name]
    for rel, data in {**case.files, "good/neighbour.yaml": NEIGHBOUR}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    scanned = [] if case.config else [case.scanned]
    done, _seconds = lint(tmp_path, [*scanned, "good/neighbour.yaml", "--format", "json", *case.args])

    assert done is not None, f"{name}: still running after {KILL_AFTER:.0f} s (killed)"
    output = done.stdout + done.stderr
    assert done.returncode >= 0, f"{name}: killed by signal {-done.returncode} (memory limit {MEMORY_LIMIT >> 20} MiB?)"
    assert "internal error" not in output.lower() and "Traceback" not in output, f"{name}: {done.stderr[-1500:]}"
    lines = line_count(case.files[case.target])
    if case.config and done.returncode == 2 and not done.stdout.strip():
        # A config that cannot be read stops the run (it decides what runs): the message names it and its line.
        assert re.search(re.escape(case.target) + r":\d+", done.stderr), f"{name}: not located: {done.stderr[-500:]}"
        return
    assert done.stdout.strip(), f"{name}: no report (exit {done.returncode}): {done.stderr[-1500:]}"
    document = json.loads(done.stdout)
    results = document["results"]
    errors = [r for r in results if r["status"] == "error"]
    neighbour = {(r["rule_id"], r["resource_id"]) for r in results if r["file"] == "good/neighbour.yaml" and r["status"] != "error"}
    assert {("BG101", "NeighbourPlan"), ("BG202", "NeighbourVault")} <= neighbour, f"{name}: the neighbour lost its results"
    if case.note:
        assert case.note in document["scan"]["notes"] and not errors, f"{name}: {document['scan']['notes']} {errors}"
        return
    located = [e for e in errors if e["file"] == case.target and isinstance(e["line"], int) and 1 <= e["line"] <= lines]
    assert located, f"{name}: no error located in {case.target} (lines 1-{lines}); errors: {[(e['file'], e['line'], e['message'][:200]) for e in errors]}"
    assert len([e for e in errors if e["file"] == case.target]) == 1, f"{name}: more than one error for {case.target}"
