"""Start-up of the ``backupguard`` process: whole-process time of small commands, and what they import.

Run it with the interpreter that has backupguard's dependencies installed::

    python benchmarks/startup.py                               # this checkout, 10 runs per figure
    python benchmarks/startup.py --baseline-src /tmp/base/src  # against another source tree
    python benchmarks/startup.py --runs 20 --json

``--baseline-src`` names the ``src`` folder of another checkout (``git worktree add --detach
/tmp/base main``): each command then runs alternately from the two trees (``PYTHONPATH=TREE``, the
same interpreter and site-packages), so that load on the machine spreads over both, and the table
shows the median of each and their ratio.

Commands measured, each a fresh ``python -m backupguard`` process from the working directory:

* ``lint TEMPLATE`` (default ``examples/compliant/backup-estate.yaml``: one small template);
* ``--version``;
* ``rules`` (the catalogue listing);
* ``python -c pass``: the interpreter's floor.

For each: the median wall time and the median CPU time (user + system of the child, which load
on the machine disturbs less than wall time). Then the imports of ``lint TEMPLATE``: the number of
modules ``python -X importtime`` reports, the sum of their own import times, and which of the heavy
packages (jsonschema, pydantic, rich, jinja2, boto3, ...) were imported.

Both trees are byte-compiled first (``compileall``; ``PYTHONDONTWRITEBYTECODE`` would otherwise
leave a tree without ``.pyc`` files and time the compiler): ``--no-compile`` skips that. The
outputs of the two trees are compared, so that a faster tree that prints something else is
noticed (a note, not a failure). This is a benchmark, not a test: it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATE = ROOT / "examples" / "compliant" / "backup-estate.yaml"
HEAVY = ("jsonschema", "referencing", "pydantic", "pydantic_core", "rich", "jinja2", "boto3", "botocore",
         "aws_croniter", "dateutil", "tree_sitter", "importlib.metadata", "importlib.resources", "email",
         "typer.rich_utils", "certifi")
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def run(cmd: list[str], tree: Path | None, cwd: Path) -> dict[str, Any]:
    """One process: wall time, CPU time (the child's user + system), exit code and output."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
    if hasattr(os, "wait4"):
        out_fd, err_fd = process.stdout, process.stderr
        stdout, stderr = out_fd.read(), err_fd.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        out_fd.close()  # type: ignore[union-attr]
        err_fd.close()  # type: ignore[union-attr]
    else:  # no wait4 (Windows): wall time only
        stdout, stderr = process.communicate()
        wall, cpu = time.perf_counter() - start, None
    return {"wall": wall, "cpu": cpu, "rc": process.returncode,
            "stdout": stdout.decode("utf-8", "replace"), "stderr": stderr.decode("utf-8", "replace")}


def imports(template: Path, tree: Path | None, cwd: Path) -> dict[str, Any]:
    """What ``lint TEMPLATE`` imports, from ``python -X importtime``."""
    child = run([sys.executable, "-X", "importtime", "-m", "backupguard", "lint", str(template)], tree, cwd)
    modules: dict[str, int] = {}
    for line in child["stderr"].splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            modules[match[4]] = int(match[1])
    return {
        "modules": len(modules),
        "self_import_ms": round(sum(modules.values()) / 1000, 1),
        "heavy": [name for name in HEAVY if name in modules],
        "top_level": sorted({name.split(".")[0] for name in modules}),
        "slowest": sorted(modules.items(), key=lambda item: -item[1])[:10],
    }


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command and tree (default 10)")
    parser.add_argument("--baseline-src", type=Path, help="the src folder of another checkout to compare with")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the src folder measured (default: this checkout's)")
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="the small template linted")
    parser.add_argument("--no-compile", action="store_true", help="do not byte-compile the trees first")
    parser.add_argument("--json", action="store_true", help="the figures as JSON on stdout")
    args = parser.parse_args(argv)

    trees = {"this": args.src.resolve()}
    if args.baseline_src is not None:
        trees["baseline"] = args.baseline_src.resolve()
    for tree in trees.values():
        if not (tree / "backupguard" / "__init__.py").is_file():
            parser.error(f"{tree}: not a src folder holding backupguard/")
        if not args.no_compile:
            compileall.compile_dir(str(tree), quiet=1)
    template = args.template.resolve()
    cwd = ROOT  # the same working directory (and so the same config discovery) for both trees
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "--version": [sys.executable, "-m", "backupguard", "--version"],
        "rules": [sys.executable, "-m", "backupguard", "rules"],
        f"lint {template.name}": [sys.executable, "-m", "backupguard", "lint", str(template)],
    }
    notes: list[str] = []
    figures: dict[str, dict[str, Any]] = {}
    for label, cmd in commands.items():
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, tree in trees.items():  # alternating: load on the machine falls on both trees alike
                runs[name].append(run(cmd, tree, cwd))
        figures[label] = {}
        for name, children in runs.items():
            codes = sorted({c["rc"] for c in children})
            figures[label][name] = {
                "median_wall_s": round(median([c["wall"] for c in children]), 4),
                "min_wall_s": round(min(c["wall"] for c in children), 4),
                "median_cpu_s": None if median([c["cpu"] for c in children]) is None
                else round(median([c["cpu"] for c in children]), 4),
                "exit_codes": codes,
            }
            if any(c["rc"] not in (0, 1) for c in children):
                notes.append(f"{label} ({name}): exit {codes}: {children[-1]['stderr'].strip()[-300:]}")
        if len(trees) == 2 and runs["this"][0]["stdout"] != runs["baseline"][0]["stdout"]:
            notes.append(f"{label}: the two trees print different output")
    imported = {name: imports(template, tree, cwd) for name, tree in trees.items()}

    if args.json:
        print(json.dumps({"runs": args.runs, "trees": {k: str(v) for k, v in trees.items()}, "template": str(template),
                          "python": sys.version.split()[0], "figures": figures, "imports": imported,
                          "notes": notes}, indent=2))
        return 0
    names = list(trees)
    print(f"backupguard start-up: median of {args.runs} runs per command"
          + (", alternating between the two trees" if len(trees) == 2 else "") + f" (python {sys.version.split()[0]})")
    for name, tree in trees.items():
        print(f"  {name}: {tree}")
    header = f"{'command':32s}" + "".join(f"{name + ' wall':>15s}{name + ' cpu':>15s}" for name in names)
    print(header + (f"{'wall ratio':>12s}" if len(names) == 2 else ""))
    for label, by_tree in figures.items():
        row = f"{label:32s}"
        for name in names:
            cpu = by_tree[name]["median_cpu_s"]
            row += f"{by_tree[name]['median_wall_s']:>14.3f}s" + (f"{cpu:>14.3f}s" if cpu is not None else f"{'-':>15s}")
        if len(names) == 2:
            row += f"{by_tree['this']['median_wall_s'] / by_tree['baseline']['median_wall_s']:>12.2f}"
        print(row)
    print(f"\nimports of lint {template.name} (python -X importtime):")
    for name, found in imported.items():
        print(f"  {name}: {found['modules']} modules, {found['self_import_ms']} ms of own import time; "
              f"heavy: {', '.join(found['heavy']) or 'none'}")
        print(f"    slowest: {', '.join(f'{m} {us / 1000:.1f} ms' for m, us in found['slowest'][:6])}")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
