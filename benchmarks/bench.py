"""Benchmark backupguard: start-up time, the lint import budget, and throughput.

Run it with the interpreter that has backupguard installed::

    python benchmarks/bench.py                 # table, 5 runs per figure
    python benchmarks/bench.py --runs 9 --scale 4
    python benchmarks/bench.py --json          # machine-readable figures on stdout
    python benchmarks/bench.py --profile       # also cProfile the in-process synthetic run

What it measures:

1. Start-up: the median wall time of ``python -m backupguard --version`` and of
   ``python -m backupguard lint`` on a tiny template (``python -c pass`` is shown as
   the interpreter's floor), and whether ``lint`` imports boto3/botocore. The import
   check runs ``backupguard.cli.app`` in a fresh interpreter and also records every
   *attempt* to import them, so that it means something when boto3 is not installed.
2. The synthetic ~1,000-resource estate of ``../shared/bench/gen_synthetic.py``
   (its CloudFormation template): the whole ``lint --format json`` process, and the
   in-process phases (setup -> scan -> engine run -> JSON render).
3. The whole ``../shared/corpus`` folder, the same way.

Parts 2 and 3 are skipped, with a note, when ``../shared`` is absent. Wall times and
peak memory of a subprocess are measured by a bare launcher interpreter around the
command (``os.posix_spawn`` + ``os.wait4``: that child's own maximum RSS; see
LAUNCHER for why not ``RUSAGE_CHILDREN`` of this process). In-process peak memory is
the ``tracemalloc`` peak (Python allocations only) of one separate, untimed run.

Exit status: 0 when all went well; 1 when ``lint`` imported (or tried to import)
boto3 or botocore; 2 when a benchmarked lint crashed or produced no report.
This is a benchmark, not a test: it asserts nothing about the speed itself.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

try:
    import resource
except ImportError:  # Windows: no rusage, so no peak-RSS figures
    resource = None  # type: ignore[assignment]

SHARED = Path(__file__).resolve().parents[2] / "shared"
GENERATOR = SHARED / "bench" / "gen_synthetic.py"
CORPUS = SHARED / "corpus"
TIMEOUT = 900  # seconds, per subprocess

TINY_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: tiny
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"""

# Run in a fresh interpreter: lint in-process through the typer app, then report
# which modules were imported. argv: template, report path.
IMPORT_CHECK = r"""
import contextlib, importlib.util, io, json, sys

WATCHED = ("boto3", "botocore")
attempts = []

class _Spy:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in WATCHED:
            attempts.append(name)
        return None

installed = {m: importlib.util.find_spec(m) is not None for m in WATCHED}
sys.meta_path.insert(0, _Spy())

from backupguard.cli import app

template, report = sys.argv[1], sys.argv[2]
codes, crashes = [], []
for args in (["lint", template], ["lint", template, "--format", "json", "--output", report]):
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            codes.append(app(args, standalone_mode=False))
    except SystemExit as exc:
        codes.append(exc.code)
    except Exception as exc:
        crashes.append(f"{type(exc).__name__}: {exc}")

HEAVY = ("boto3", "botocore", "jsonschema", "jinja2", "pydantic", "rich", "rich.progress", "aws_croniter", "dateutil")
print(json.dumps({
    "boto3_imported": "boto3" in sys.modules,
    "botocore_imported": "botocore" in sys.modules,
    "import_attempts": sorted(set(attempts)),
    "installed": installed,
    "heavy_modules_loaded": [m for m in HEAVY if m in sys.modules],
    "modules_loaded": len(sys.modules),
    "exit_codes": codes,
    "crashes": crashes,
}))
"""


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _maxrss_bytes(ru_maxrss: int) -> int:
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024  # Linux reports KiB


# Spawns the measured command and reports its wall time and peak RSS. A child's
# ru_maxrss on Linux includes the RSS of the process it was forked from (the kernel
# keeps the pre-exec high-water mark), so measuring from this script - which holds
# the synthetic estate by then - would inflate every figure. This launcher is a bare
# interpreter (-I -S, nothing imported before the spawn), so the floor it adds (~8 MiB)
# is below any Python child's own peak; its own peak is reported to show that.
LAUNCHER = r"""
import os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
try:  # the launcher's own peak at the spawn (its rusage would include its parent's, see above)
    with open("/proc/self/status") as fh:
        floor = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
except (OSError, StopIteration, ValueError):
    floor = None
start = time.perf_counter()
pid = os.posix_spawn(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
import json
with open(report, "w") as fh:
    json.dump({"wall": wall, "rc": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss,
               "launcher_kib": floor}, fh)
"""
CAN_LAUNCH = hasattr(os, "posix_spawn") and hasattr(os, "wait4") and resource is not None


def run_child(cmd: list[str], cwd: Path) -> dict[str, Any]:
    """Run one command; wall time, exit code, the child's own peak RSS, and its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        peak = floor = None
        if CAN_LAUNCH:
            with tempfile.TemporaryDirectory() as tmp:
                report = Path(tmp) / "child.json"
                subprocess.run(
                    [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *cmd],
                    cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, timeout=TIMEOUT,
                )
                try:
                    measured = json.loads(report.read_text("utf-8"))
                except (OSError, ValueError):
                    err.seek(0)
                    raise RuntimeError(f"launcher failed for {cmd}: {err.read().decode(errors='replace')[-500:]}")
            wall, rc = measured["wall"], measured["rc"]
            peak = _maxrss_bytes(measured["maxrss"])
            floor = measured["launcher_kib"] * 1024 if measured["launcher_kib"] else None
        else:  # no posix_spawn/wait4 (Windows): time only
            start = time.perf_counter()
            rc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, timeout=TIMEOUT).returncode
            wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return {
            "wall": wall,
            "rc": rc,
            "peak_rss": peak,
            "rss_floor": floor,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
        }


def crashed(child: dict[str, Any]) -> str | None:
    """A lint that crashed: a traceback, the CLI's internal-error line, or a signal."""
    if child["rc"] is not None and child["rc"] < 0:
        return f"killed by signal {-child['rc']}"
    for line in child["stderr"].splitlines():
        if "internal error" in line or line.startswith("Traceback"):
            return line.strip()
    return None


def repeat_child(cmd: list[str], runs: int, cwd: Path, label: str, problems: list[str]) -> dict[str, Any]:
    children = [run_child(cmd, cwd) for _ in range(runs)]
    walls = [c["wall"] for c in children]
    peaks = [c["peak_rss"] for c in children if c["peak_rss"] is not None]
    codes = sorted({c["rc"] for c in children})
    for child in children:
        why = crashed(child)
        if why:
            problems.append(f"{label}: {why}")
            break
    return {
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "max_s": max(walls),
        "peak_rss_bytes": max(peaks) if peaks else None,
        "rss_floor_bytes": max((c["rss_floor"] for c in children if c["rss_floor"]), default=None),
        "exit_codes": codes,
        "stderr_tail": children[-1]["stderr"].strip().splitlines()[-3:],
    }


def count_resources(path: Path) -> int:
    """Entries of the template's Resources section (0 for a file that does not parse)."""
    from backupguard.scanner.cloudformation.loader import TemplateError, load_text

    try:
        data = load_text(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, TemplateError):
        return 0
    resources = data.get("Resources") if isinstance(data, dict) else None
    return len(resources) if isinstance(resources, dict) else 0


def lint_pipeline(paths: list[Path]) -> Callable[[], dict[str, Any]]:
    """A callable that runs lint's pipeline in-process, as cli.lint wires it, timing each phase."""
    from backupguard.config import UserConfig, build_checks
    from backupguard.frameworks import load_frameworks
    from backupguard.reports import json_report
    from backupguard.rules import load_catalogue
    from backupguard.rules.engine import run
    from backupguard.scanner import ScanOptions, scan
    from backupguard.scanner.cloudformation import CfnOptions

    def once() -> dict[str, Any]:
        t0 = time.perf_counter()
        # UserConfig(): what load_config returns without a config file, so that a
        # .backupguard.yaml in the caller's working directory does not skew figures.
        user = UserConfig()
        checks = build_checks(load_catalogue(), load_frameworks(), [], user, {})
        options = ScanOptions(cfn=CfnOptions({}, None, None), exclude=())
        t1 = time.perf_counter()
        estate = scan(paths, options)
        t2 = time.perf_counter()
        results = run(estate, checks)
        t3 = time.perf_counter()
        ran = {c.rule.id: c.rule for c in checks}
        scan_info = {
            "paths": [p.as_posix() for p in paths],
            "files": sorted(set(estate.files)),
            "frameworks": [],
            "parameters": {c.rule.id: c.params for c in sorted(checks, key=lambda c: c.rule.id) if c.params},
        }
        text = json_report.render(results, [r.metadata() for r in ran.values()], scan_info, [])
        t4 = time.perf_counter()
        return {
            "phases": {"setup": t1 - t0, "scan": t2 - t1, "run": t3 - t2, "render": t4 - t3},
            "files": sorted(set(estate.files)),
            "errors": len(estate.errors),
            "results": len(results),
            "report_bytes": len(text.encode("utf-8")),
        }

    return once


def in_process(paths: list[Path], runs: int, label: str, problems: list[str]) -> dict[str, Any] | None:
    try:
        once = lint_pipeline(paths)
        samples = [once() for _ in range(runs)]
    except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported not raised
        problems.append(f"{label} in-process: {type(exc).__name__}: {exc}")
        return None
    phases = {
        name: statistics.median(s["phases"][name] for s in samples) for name in ("setup", "scan", "run", "render")
    }
    totals = [sum(s["phases"][n] for n in ("scan", "run", "render")) for s in samples]
    import tracemalloc

    tracemalloc.start()
    try:
        once()
        traced_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    last = samples[-1]
    return {
        "phases_median_s": phases,
        "pipeline_median_s": statistics.median(totals),  # scan + run + render
        "first_run_s": sum(samples[0]["phases"].values()),
        "first_setup_s": samples[0]["phases"]["setup"],  # later runs hit the catalogue cache
        "tracemalloc_peak_bytes": traced_peak,
        "files": last["files"],
        "input_errors": last["errors"],
        "results": last["results"],
        "report_bytes": last["report_bytes"],
    }


def profile_pipeline(paths: list[Path], top: int = 15) -> str:
    once = lint_pipeline(paths)
    once()  # warm: catalogue and compiled expressions
    profiler = cProfile.Profile()
    profiler.enable()
    once()
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats("cumulative").print_stats(top)
    return stream.getvalue()


def rates(count: int, seconds: float | None) -> float | None:
    return count / seconds if seconds else None


# ---------------------------------------------------------------------------
# Parts
# ---------------------------------------------------------------------------


def bench_startup(runs: int, work: Path, problems: list[str]) -> dict[str, Any]:
    tiny = work / "tiny.yaml"
    tiny.write_text(TINY_TEMPLATE, encoding="utf-8")
    py = sys.executable
    figures = {
        "python_floor": repeat_child([py, "-c", "pass"], runs, work, "python -c pass", problems),
        "version": repeat_child([py, "-m", "backupguard", "--version"], runs, work, "--version", problems),
        "lint_tiny": repeat_child([py, "-m", "backupguard", "lint", str(tiny)], runs, work, "lint tiny", problems),
    }
    child = run_child([py, "-c", IMPORT_CHECK, str(tiny), str(work / "tiny.json")], work)
    try:
        check = json.loads(child["stdout"].strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        check = {"boto3_imported": None, "botocore_imported": None, "import_attempts": [], "crashes": []}
        problems.append(f"import check did not report (exit {child['rc']}): {child['stderr'].strip()[-300:]}")
    problems.extend(f"import check: {c}" for c in check.get("crashes", []))
    figures["import_check"] = check
    return figures


def bench_synthetic(runs: int, scale: int, work: Path, problems: list[str]) -> dict[str, Any] | None:
    if not GENERATOR.is_file():
        note(f"skipping the synthetic estate: {GENERATOR} is absent")
        return None
    out = work / "synthetic"
    gen = run_child([sys.executable, str(GENERATOR), "--out", str(out), "--scale", str(scale)], work)
    template = out / "cfn" / "template.yaml"
    if gen["rc"] != 0 or not template.is_file():
        problems.append(f"gen_synthetic.py failed (exit {gen['rc']}): {gen['stderr'].strip()[-300:]}")
        return None
    resources = count_resources(template)
    report = work / "synthetic.json"
    cmd = [sys.executable, "-m", "backupguard", "lint", str(template), "--format", "json", "--output", str(report)]
    whole = repeat_child(cmd, runs, work, "synthetic lint", problems)
    results = _report_results(report, "synthetic lint", problems)
    inproc = in_process([template], runs, "synthetic", problems)
    _compare("synthetic", results, inproc)
    return {
        "scale": scale,
        "templates": 1,
        "resources": resources,
        "template_bytes": template.stat().st_size,
        "results": results,
        "process": {
            **whole,
            "templates_per_s": rates(1, whole["median_s"]),
            "resources_per_s": rates(resources, whole["median_s"]),
        },
        "in_process": _with_rates(inproc, 1, resources),
        "_template": str(template),
    }


def bench_corpus(runs: int, work: Path, problems: list[str]) -> dict[str, Any] | None:
    if not CORPUS.is_dir():
        note(f"skipping the corpus: {CORPUS} is absent")
        return None
    from backupguard.scanner import discover

    candidates = discover(CORPUS)
    report = work / "corpus.json"
    cmd = [sys.executable, "-m", "backupguard", "lint", str(CORPUS), "--format", "json", "--output", str(report)]
    whole = repeat_child(cmd, runs, work, "corpus lint", problems)
    results = _report_results(report, "corpus lint", problems)
    inproc = in_process([CORPUS], runs, "corpus", problems)
    _compare("corpus", results, inproc)
    files = inproc["files"] if inproc else []
    templates = len(files)
    resources = sum(count_resources(Path(f)) for f in files)
    return {
        "files_total": sum(len(names) for _, _, names in os.walk(CORPUS)),
        "files_candidates": len(candidates),  # template suffixes, before the content test
        "templates": templates,  # files the scanner took as templates (incl. broken ones)
        "input_errors": inproc["input_errors"] if inproc else None,
        "resources": resources,
        "results": results,
        "process": {
            **whole,
            "templates_per_s": rates(templates, whole["median_s"]),
            "resources_per_s": rates(resources, whole["median_s"]),
        },
        "in_process": _with_rates(inproc, templates, resources),
    }


def _report_results(report: Path, label: str, problems: list[str]) -> int | None:
    try:
        return len(json.loads(report.read_text("utf-8"))["results"])
    except (OSError, ValueError, KeyError) as exc:
        problems.append(f"{label}: no usable JSON report ({type(exc).__name__}: {exc})")
        return None


def _compare(label: str, process_results: int | None, inproc: dict[str, Any] | None) -> None:
    if inproc is not None and process_results is not None and inproc["results"] != process_results:
        note(
            f"{label}: the lint process reported {process_results} results, the in-process run "
            f"{inproc['results']} (the source changed between them, or the pipelines differ)"
        )


def _with_rates(inproc: dict[str, Any] | None, templates: int, resources: int) -> dict[str, Any] | None:
    if inproc is None:
        return None
    inproc = {k: v for k, v in inproc.items() if k != "files"}
    inproc["templates_per_s"] = rates(templates, inproc["pipeline_median_s"])
    inproc["resources_per_s"] = rates(resources, inproc["pipeline_median_s"])
    return inproc


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f} MiB"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def table(figures: dict[str, Any]) -> str:
    lines = [
        f"backupguard {figures['version']} benchmark - Python {figures['python']} ({figures['platform']}), "
        f"median of {figures['runs']} runs",
        "",
    ]
    su = figures["startup"]
    lines.append(f"{'start-up':<44}{'median':>10}{'min':>10}{'peak RSS':>12}")
    for key, label in (
        ("python_floor", "python -c pass (floor)"),
        ("version", "python -m backupguard --version"),
        ("lint_tiny", "python -m backupguard lint tiny.yaml"),
    ):
        f = su[key]
        lines.append(f"  {label:<42}{_s(f['median_s']):>10}{_s(f['min_s']):>10}{_mib(f['peak_rss_bytes']):>12}")
    if su["python_floor"].get("rss_floor_bytes"):
        lines.append(f"  (peak RSS is the child's own; the launcher's floor is {_mib(su['python_floor']['rss_floor_bytes'])})")
    ic = su["import_check"]
    imported = [m for m in ("boto3", "botocore") if ic.get(f"{m}_imported")]
    verdict = "FAIL: imported " + ", ".join(imported) if imported else "ok: not imported"
    if ic.get("import_attempts") and not imported:
        verdict = "FAIL: import attempted (" + ", ".join(ic["import_attempts"]) + ")"
    installed = ", ".join(f"{m} {'installed' if v else 'not installed'}" for m, v in ic.get("installed", {}).items())
    lines.append(f"  lint and boto3/botocore: {verdict}  [{installed}]")
    lines.append(
        f"  lint loaded {ic.get('modules_loaded', '?')} modules; heavy ones: "
        f"{', '.join(ic.get('heavy_modules_loaded') or []) or 'none'}"
    )

    for key, title in (("synthetic", "synthetic estate"), ("corpus", "corpus (../shared/corpus)")):
        part = figures.get(key)
        lines.append("")
        if part is None:
            lines.append(f"{title}: skipped")
            continue
        if key == "synthetic":
            head = (
                f"{title} (scale {part['scale']}): 1 template, {part['resources']:,} resources, "
                f"{part['template_bytes'] / 1024:.0f} KiB, {part['results'] if part['results'] is not None else '?'} results"
            )
        else:
            head = (
                f"{title}: {part['files_total']} files, {part['files_candidates']} candidates, "
                f"{part['templates']} templates scanned ({part['input_errors']} input errors), "
                f"{part['resources']:,} resources, {part['results'] if part['results'] is not None else '?'} results"
            )
        lines.append(head)
        lines.append(f"  {'':<34}{'median':>10}{'templ/s':>10}{'res/s':>11}{'peak mem':>14}")
        p = part["process"]
        lines.append(
            f"  {'whole process (lint --format json)':<34}{_s(p['median_s']):>10}{_rate(p['templates_per_s']):>10}"
            f"{_rate(p['resources_per_s']):>11}{_mib(p['peak_rss_bytes']):>10} RSS"
        )
        ip = part["in_process"]
        if ip is None:
            lines.append("  in-process: failed (see problems)")
            continue
        ph = ip["phases_median_s"]
        lines.append(f"  {'in-process setup, first run':<34}{_s(ip['first_setup_s']):>10}   (catalogue + checks; cached after)")
        for name, label in (
            ("scan", "in-process scan"),
            ("run", "in-process engine run"),
            ("render", "in-process render json"),
        ):
            lines.append(f"  {label:<34}{_s(ph[name]):>10}")
        lines.append(
            f"  {'in-process scan+run+render':<34}{_s(ip['pipeline_median_s']):>10}{_rate(ip['templates_per_s']):>10}"
            f"{_rate(ip['resources_per_s']):>11}{_mib(ip['tracemalloc_peak_bytes']):>10} heap"
        )
    if figures["problems"]:
        lines += ["", "problems:"] + [f"  - {p}" for p in figures["problems"]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per timed figure (median reported; default 5)")
    parser.add_argument("--scale", type=int, default=1, help="passed to gen_synthetic.py --scale (default 1)")
    parser.add_argument("--json", action="store_true", help="print machine-readable figures instead of the table")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process synthetic run (top 15)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.scale < 1:
        parser.error("--runs and --scale must be at least 1")
    try:
        import backupguard
    except ImportError:
        parser.error(f"backupguard is not importable from {sys.executable}; run this with the project's venv")

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bg-bench-") as tmp:
        work = Path(tmp)
        note(f"start-up ({args.runs} runs each)")
        startup = bench_startup(args.runs, work, problems)
        note("synthetic estate")
        synthetic = bench_synthetic(args.runs, args.scale, work, problems)
        note("corpus")
        corpus = bench_corpus(args.runs, work, problems)
        profile = None
        if args.profile and synthetic is not None:
            note("profiling the in-process synthetic run")
            profile = profile_pipeline([Path(synthetic["_template"])])
    if synthetic is not None:
        synthetic.pop("_template")

    figures = {
        "version": backupguard.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "runs": args.runs,
        "startup": startup,
        "synthetic": synthetic,
        "corpus": corpus,
        "problems": problems,
    }
    if profile is not None:
        figures["profile"] = profile
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(table(figures))
        if profile:
            print("\nprofile of one in-process synthetic run (scan + run + render), top 15 by cumulative time:")
            print(profile)

    ic = startup["import_check"]
    if ic.get("boto3_imported") or ic.get("botocore_imported") or ic.get("import_attempts"):
        return 1
    if problems:  # every entry is a crash, a missing report or a failed step
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
