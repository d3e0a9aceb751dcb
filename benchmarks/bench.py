"""Benchmark backupguard: start-up time, the lint import budget, and throughput.

Run it with the interpreter that has backupguard installed::

    python benchmarks/bench.py                 # table, 5 runs per figure
    python benchmarks/bench.py --runs 9 --scale 4
    python benchmarks/bench.py --json          # machine-readable figures on stdout
    python benchmarks/bench.py --profile       # also cProfile the in-process synthetic runs (CFN and TF)

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
4. The synthetic estate's Terraform folder (``OUT/tf``, one root module): the whole
   ``lint OUT/tf --format json`` process, the in-process phases (setup -> HCL load
   through ``load_module`` -> build the Estate -> engine run -> JSON render), and the
   resources, .tf lines and files per second of the HCL load alone.
5. Terraform parse speed on the corpus: ``load_module`` on every folder holding .tf
   files (in-process; each as a root module, following its local modules), with the
   .tf files and lines, instances, errors and notes found, and the slowest folders.
6. Where unknowns come from: the share of "unknown" among the Terraform results (file
   ending with .tf) of the whole-corpus lint of part 3, per rule, and the most frequent
   reasons in their messages with addresses and names stripped. When that lint gave no
   report, the results of an in-process scan + engine run are used instead (said so).

Parts 2 to 6 are skipped, with a note, when ``../shared`` is absent. Wall times and
peak memory of a subprocess are measured by a bare launcher interpreter around the
command (``os.posix_spawn`` + ``os.wait4``: that child's own maximum RSS; see
LAUNCHER for why not ``RUSAGE_CHILDREN`` of this process). In-process peak memory is
the ``tracemalloc`` peak (Python allocations only) of one separate, untimed run.

Exit status: 0 when all went well; 1 when ``lint`` imported (or tried to import)
boto3 or botocore; 2 when a benchmarked lint crashed or produced no report (listed
under "problems"). Odd counts that are not crashes (instances that do not match the
resource blocks, errors on generated input) are listed under "warnings" only.
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
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
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


def _engine(estate: Any, checks: list[Any], user: Any) -> tuple[list[Any], dict[str, Any]]:
    """The "run" phase as cli.lint wires it: resolve subjects, run the checks, apply waivers."""
    from backupguard.resolve import subjects
    from backupguard.rules.engine import run
    from backupguard.waivers import apply_waivers

    by_kind = subjects(estate, user.opt_in)
    results, _unused = apply_waivers(run(estate, checks, by_kind=by_kind), user.waivers)
    return results, by_kind


def _render_json(results: list[Any], checks: list[Any], estate: Any, paths: list[Path], by_kind: dict[str, Any]) -> str:
    """The "render" phase as cli.lint wires it: the result document (inventory included) as JSON."""
    from backupguard.reports import control_summary, render
    from backupguard.reports.json_report import document
    from backupguard.resolve.inventory import inventory

    scan_info = {
        "paths": [p.as_posix() for p in paths],
        "files": sorted(set(estate.files)),
        "region": None,
        "account_id": None,
        "notes": sorted(set(estate.notes)),
        "checks": sorted(
            ({"rule_id": c.rule.id, "parameters": c.params, "frameworks": list(c.frameworks)} for c in checks),
            key=lambda c: (c["rule_id"], c["frameworks"]),
        ),
    }
    ran = {c.rule.id: c.rule for c in checks}
    doc = document(
        results, [r.metadata() for r in ran.values()], scan_info, control_summary(results, []),
        inventory(by_kind.get("resource", [])),
    )
    return render("json", doc)


def _setup() -> tuple[Any, list[Any]]:
    from backupguard.config import UserConfig, build_checks
    from backupguard.frameworks import load_frameworks
    from backupguard.rules import load_catalogue

    # UserConfig(): what load_config returns without a config file, so that a
    # .backupguard.yaml in the caller's working directory does not skew figures.
    user = UserConfig()
    return user, build_checks(load_catalogue(), load_frameworks(), [], user, {})


def _cold_parse_cache() -> None:
    """Forget the HCL parse cache, so that each timed in-process run parses as a fresh process would."""
    from backupguard.scanner.terraform import configuration

    configuration._PARSED.clear()


def lint_pipeline(paths: list[Path]) -> Callable[[], dict[str, Any]]:
    """A callable that runs lint's pipeline in-process, as cli.lint wires it, timing each phase."""
    from backupguard.scanner import ScanOptions, scan
    from backupguard.scanner.cloudformation import CfnOptions

    def once() -> dict[str, Any]:
        _cold_parse_cache()
        t0 = time.perf_counter()
        user, checks = _setup()
        options = ScanOptions(cfn=CfnOptions({}, None, None), exclude=())
        t1 = time.perf_counter()
        estate = scan(paths, options)
        t2 = time.perf_counter()
        results, by_kind = _engine(estate, checks, user)
        t3 = time.perf_counter()
        text = _render_json(results, checks, estate, paths, by_kind)
        t4 = time.perf_counter()
        return {
            "phases": {"setup": t1 - t0, "scan": t2 - t1, "run": t3 - t2, "render": t4 - t3},
            "files": sorted(set(estate.files)),
            "errors": len(estate.errors),
            "results": len(results),
            "statuses": dict(Counter(r.status for r in results)),
            "report_bytes": len(text.encode("utf-8")),
        }

    return once


def tf_pipeline(directory: Path) -> Callable[[], dict[str, Any]]:
    """lint's pipeline on one Terraform root module, in-process, as scan_module wires it.

    Phases: setup (catalogue + checks), load (``load_module``: read, HCL parse, evaluation,
    count/for_each expansion), build (instances -> Estate), run (resolve + engine), JSON render.
    """
    from backupguard.scanner import display_path
    from backupguard.scanner.terraform.build import build_estate
    from backupguard.scanner.terraform.module import load_module

    files = sorted(directory.glob("*.tf"))

    def once() -> dict[str, Any]:
        _cold_parse_cache()
        t0 = time.perf_counter()
        user, checks = _setup()
        t1 = time.perf_counter()
        loaded = load_module(directory, {}, [], display=display_path)
        t2 = time.perf_counter()
        estate = build_estate(loaded.instances, None)
        estate.errors.extend(loaded.errors)
        estate.notes.extend(loaded.notes)
        estate.files.extend(display_path(path) for path in files)
        t3 = time.perf_counter()
        results, by_kind = _engine(estate, checks, user)
        t4 = time.perf_counter()
        text = _render_json(results, checks, estate, [directory], by_kind)
        t5 = time.perf_counter()
        return {
            "phases": {"setup": t1 - t0, "load": t2 - t1, "build": t3 - t2, "run": t4 - t3, "render": t5 - t4},
            "files": sorted(set(estate.files)),
            "errors": len(estate.errors),
            "instances": sum(1 for i in loaded.instances if i.mode == "managed"),
            "data_sources": len(loaded.data_sources),
            "load_errors": [f"{e.origin.file}:{e.origin.line}: {e.message}" for e in loaded.errors][:5],
            "notes": len(loaded.notes),
            "results": len(results),
            "statuses": dict(Counter(r.status for r in results)),
            "report_bytes": len(text.encode("utf-8")),
        }

    return once


_RESOURCE_BLOCK = re.compile(r'^\s*resource\s+"[^"]+"\s+"[^"]+"', re.MULTILINE)


def tf_files_info(files: list[Path]) -> dict[str, int]:
    """.tf files, their lines (as ``wc -l`` counts them, plus an unterminated last line), bytes,
    and ``resource "T" "N"`` declarations."""
    lines = size = declared = 0
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        size += len(data)
        lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        declared += len(_RESOURCE_BLOCK.findall(data.decode("utf-8", "replace")))
    return {"files": len(files), "lines": lines, "bytes": size, "declared_resources": declared}


def _crash(exc: BaseException) -> str:
    """An exception and where it was raised (the innermost frame of backupguard, else the last one)."""
    frames = traceback.extract_tb(exc.__traceback__)
    here = Path(__file__).resolve()
    ours = [f for f in frames if "/backupguard/" in f.filename.replace("\\", "/") and Path(f.filename).resolve() != here]
    frame = (ours or frames or [None])[-1]
    where = f" at {Path(frame.filename).name}:{frame.lineno} in {frame.name}" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


CFN_PHASES = ("setup", "scan", "run", "render")
TF_PHASES = ("setup", "load", "build", "run", "render")  # load = load_module (HCL parse + evaluation)


def in_process(
    pipeline: Callable[[], Callable[[], dict[str, Any]]],
    runs: int,
    label: str,
    problems: list[str],
    phase_names: tuple[str, ...] = CFN_PHASES,
) -> dict[str, Any] | None:
    """Median phases of ``runs`` in-process runs; ``pipeline()`` returns the callable to time."""
    try:
        once = pipeline()
        samples = [once() for _ in range(runs)]
    except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported not raised
        problems.append(f"{label} in-process: {_crash(exc)}")
        return None
    work = [n for n in phase_names if n != "setup"]
    phases = {name: statistics.median(s["phases"][name] for s in samples) for name in phase_names}
    totals = [sum(s["phases"][n] for n in work) for s in samples]
    import tracemalloc

    tracemalloc.start()
    try:
        once()
        traced_peak = tracemalloc.get_traced_memory()[1]
    except Exception as exc:  # noqa: BLE001
        problems.append(f"{label} in-process (tracemalloc run): {_crash(exc)}")
        traced_peak = None
    finally:
        tracemalloc.stop()
    last = samples[-1]
    extra = {k: v for k, v in last.items() if k not in ("phases", "errors")}
    return {
        "phases_median_s": phases,
        "pipeline_median_s": statistics.median(totals),  # every phase but setup
        "first_run_s": sum(samples[0]["phases"].values()),
        "first_setup_s": samples[0]["phases"]["setup"],  # later runs hit the catalogue cache
        "tracemalloc_peak_bytes": traced_peak,
        "input_errors": last["errors"],
        **extra,  # files, results, report_bytes (+ the Terraform pipeline's own counts)
    }


def profile_pipeline(
    pipeline: Callable[[], Callable[[], dict[str, Any]]], label: str, problems: list[str], top: int = 15
) -> str | None:
    try:
        once = pipeline()
        once()  # warm: catalogue and compiled expressions
    except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported not raised
        problems.append(f"{label} profile: {_crash(exc)}")
        return None
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        once()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"{label} profile: {_crash(exc)}")
        return None
    finally:
        profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats("cumulative").print_stats(top)
    return stream.getvalue()


def rates(count: int | None, seconds: float | None) -> float | None:
    return count / seconds if seconds and count is not None else None


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


def generate_synthetic(scale: int, work: Path, problems: list[str]) -> Path | None:
    """Run gen_synthetic.py once; its OUT folder (cfn/template.yaml and tf/*.tf), or None."""
    if not GENERATOR.is_file():
        note(f"skipping the synthetic estate: {GENERATOR} is absent")
        return None
    out = work / "synthetic"
    gen = run_child([sys.executable, str(GENERATOR), "--out", str(out), "--scale", str(scale)], work)
    if gen["rc"] != 0:
        problems.append(f"gen_synthetic.py failed (exit {gen['rc']}): {gen['stderr'].strip()[-300:]}")
        return None
    return out


def bench_synthetic(runs: int, scale: int, out: Path | None, work: Path, problems: list[str]) -> dict[str, Any] | None:
    if out is None:
        return None
    template = out / "cfn" / "template.yaml"
    if not template.is_file():
        problems.append(f"gen_synthetic.py wrote no CloudFormation template ({template})")
        return None
    resources = count_resources(template)
    report = work / "synthetic.json"
    cmd = [sys.executable, "-m", "backupguard", "lint", str(template), "--format", "json", "--output", str(report)]
    whole = repeat_child(cmd, runs, work, "synthetic lint", problems)
    results = _report_results(report, "synthetic lint", problems)
    inproc = in_process(lambda: lint_pipeline([template]), runs, "synthetic", problems)
    _compare("synthetic", results, inproc)
    return {
        "scale": scale,
        "templates": 1,
        "resources": resources,
        "template_bytes": template.stat().st_size,
        "results": results,
        "statuses": _report_statuses(report),
        "process": {
            **whole,
            "templates_per_s": rates(1, whole["median_s"]),
            "resources_per_s": rates(resources, whole["median_s"]),
        },
        "in_process": _with_rates(inproc, 1, resources),
        "_template": str(template),
    }


def bench_tf_synthetic(
    runs: int, scale: int, out: Path | None, work: Path, problems: list[str], warnings: list[str]
) -> dict[str, Any] | None:
    """The synthetic Terraform folder (OUT/tf) as one root module: process, phases, HCL load rates."""
    if out is None:
        return None
    tf_dir = out / "tf"
    files = sorted(tf_dir.glob("*.tf"))
    if not files:
        problems.append(f"gen_synthetic.py wrote no Terraform folder ({tf_dir})")
        return None
    info = tf_files_info(files)
    expected = _design_total(out)
    report = work / "synthetic-tf.json"
    cmd = [sys.executable, "-m", "backupguard", "lint", str(tf_dir), "--format", "json", "--output", str(report)]
    whole = repeat_child(cmd, runs, work, "synthetic tf lint", problems)
    results = _report_results(report, "synthetic tf lint", problems)
    inproc = in_process(lambda: tf_pipeline(tf_dir), runs, "synthetic tf", problems, TF_PHASES)
    _compare("synthetic tf", results, inproc)
    resources = info["declared_resources"]
    if inproc is not None:
        if inproc["instances"] != resources:
            warnings.append(f"synthetic tf: load_module gave {inproc['instances']} managed instances for {resources} resource blocks")
        if expected is not None and resources != expected:
            warnings.append(f"synthetic tf: {resources} resource blocks, design.json says {expected}")
        if inproc["input_errors"] or inproc["notes"]:
            warnings.append(
                f"synthetic tf: {inproc['input_errors']} input errors, {inproc['notes']} notes on generated input "
                f"(first: {'; '.join(inproc['load_errors'][:2]) or '-'})"
            )
        if len(inproc["files"]) != len(files):
            warnings.append(f"synthetic tf: the estate lists {len(inproc['files'])} files for {len(files)} .tf files")
    load_s = inproc["phases_median_s"]["load"] if inproc else None
    return {
        "scale": scale,
        **info,  # files, lines, bytes, declared_resources
        "design_total_resources": expected,
        "results": results,
        "statuses": _report_statuses(report),
        "process": {
            **whole,
            "resources_per_s": rates(resources, whole["median_s"]),
            "files_per_s": rates(len(files), whole["median_s"]),
        },
        "hcl_load": {  # load_module alone (median of the in-process runs)
            "median_s": load_s,
            "resources_per_s": rates(resources, load_s),
            "lines_per_s": rates(info["lines"], load_s),
            "files_per_s": rates(len(files), load_s),
            "bytes_per_s": rates(info["bytes"], load_s),
        },
        "in_process": _tf_with_rates(inproc, resources),
        "_tf_dir": str(tf_dir),
    }


def _design_total(out: Path) -> int | None:
    try:
        return int(json.loads((out / "design.json").read_text("utf-8"))["total_resources"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _tf_with_rates(inproc: dict[str, Any] | None, resources: int) -> dict[str, Any] | None:
    if inproc is None:
        return None
    inproc = {k: v for k, v in inproc.items() if k not in ("files", "load_errors")}
    inproc["resources_per_s"] = rates(resources, inproc["pipeline_median_s"])
    return inproc


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
    inproc = in_process(lambda: lint_pipeline([CORPUS]), runs, "corpus", problems)
    _compare("corpus", results, inproc)
    files = inproc["files"] if inproc else []
    # estate.files also lists the .tf files of the Terraform modules: kept apart, so that
    # "templates" still means what it meant before Terraform (CloudFormation/policy/plan files).
    tf_scanned = [f for f in files if f.endswith(".tf")]
    templates = len(files) - len(tf_scanned) if inproc else None  # None: the in-process run crashed
    resources = sum(count_resources(Path(f)) for f in files if not f.endswith(".tf")) if inproc else None
    return {
        "files_total": sum(len(names) for _, _, names in os.walk(CORPUS)),
        "files_candidates": len(candidates),  # template suffixes, before the content test
        "templates": templates,  # files the scanner took as templates (incl. broken ones), .tf excluded
        "tf_files_scanned": len(tf_scanned) if inproc else None,  # .tf files of the root modules the scan linted
        "input_errors": inproc["input_errors"] if inproc else None,
        "resources": resources,  # CloudFormation Resources entries only; the timings include the Terraform work
        "results": results,
        "statuses": _report_statuses(report),
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


def _report_statuses(report: Path) -> dict[str, int] | None:
    try:
        return dict(Counter(r["status"] for r in json.loads(report.read_text("utf-8"))["results"]))
    except (OSError, ValueError, KeyError, TypeError):
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


def tf_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` that holds .tf files (the scanner's skipped folders left out)."""
    from backupguard.scanner import SKIPPED_DIRS

    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        if any(name.endswith(".tf") for name in filenames):
            found.append(Path(dirpath))
    return sorted(found)


def bench_tf_corpus(runs: int, problems: list[str], warnings: list[str]) -> dict[str, Any] | None:
    """load_module on every folder of ../shared/corpus holding .tf files: HCL load speed and counts.

    Every such folder is loaded as a root module (also those the CLI only evaluates where another
    module calls them), so the time includes following each folder's local modules; ``parsed``
    counts the files actually parsed, called local modules included.
    """
    if not CORPUS.is_dir():
        note(f"skipping the Terraform corpus: {CORPUS} is absent")
        return None
    from backupguard.scanner import discover, display_path
    from backupguard.scanner.terraform import module as tf_module
    from backupguard.scanner.terraform.source import root_modules

    folders = tf_folders(CORPUS)
    own = {folder: sorted(p for p in folder.glob("*.tf") if p.is_file()) for folder in folders}
    infos = {folder: tf_files_info(files) for folder, files in own.items()}
    roots = root_modules(discover(CORPUS, (), frozenset({".tf"})), CORPUS)
    crashed_folders: set[Path] = set()
    times: dict[Path, list[float]] = {folder: [] for folder in folders}
    sweeps: list[float] = []
    for _ in range(runs):
        _cold_parse_cache()  # one sweep is one process: a file content is parsed once per sweep
        total = 0.0
        for folder in folders:
            if folder in crashed_folders:
                continue
            start = time.perf_counter()
            try:
                tf_module.load_module(folder, display=display_path)
            except Exception as exc:  # noqa: BLE001 - a crash is a finding
                crashed_folders.add(folder)
                problems.append(f"tf corpus: load_module({display_path(folder)}) crashed: {_crash(exc)}")
                continue
            elapsed = time.perf_counter() - start
            times[folder].append(elapsed)
            total += elapsed
        sweeps.append(total)

    # One more, untimed pass for the counts, with the loader's parse_file wrapped to see what it reads.
    parsed: dict[Path, list[int]] = {}  # folder -> [files, lines] actually parsed
    current: list[Path] = []
    from backupguard.scanner.terraform.configuration import Loader

    original = getattr(Loader, "parse_file", None)

    def counting_parse_file(self: Any, path: Path, shown: str) -> Any:
        tally = parsed.setdefault(current[0], [0, 0])
        tally[0] += 1
        tally[1] += tf_files_info([Path(path)])["lines"]
        return original(self, path, shown)

    counts = Counter()
    error_kinds: Counter = Counter()
    note_kinds: Counter = Counter()
    folders_with_errors = duplicate_folders = 0
    if original is not None:
        Loader.parse_file = counting_parse_file  # type: ignore[method-assign]
    try:
        for folder in folders:
            if folder in crashed_folders:
                continue
            current[:] = [folder]
            try:
                loaded = tf_module.load_module(folder, display=display_path)
            except Exception:  # noqa: BLE001 - already reported by the timed runs
                continue
            counts["instances"] += sum(1 for i in loaded.instances if i.mode == "managed")
            counts["data_sources"] += len(loaded.data_sources)
            counts["errors"] += len(loaded.errors)
            counts["notes"] += len(loaded.notes)
            folders_with_errors += bool(loaded.errors)
            duplicate_folders += any("is declared more than once" in e.message for e in loaded.errors)
            error_kinds.update(_normalise(e.message) for e in loaded.errors)
            note_kinds.update(_normalise(_strip_location(n)) for n in loaded.notes)
    finally:
        if original is not None:
            Loader.parse_file = original  # type: ignore[method-assign]

    loaded_folders = [f for f in folders if f not in crashed_folders]
    files = sum(infos[f]["files"] for f in loaded_folders)
    lines = sum(infos[f]["lines"] for f in loaded_folders)
    parsed_files = sum(v[0] for v in parsed.values())
    parsed_lines = sum(v[1] for v in parsed.values())
    seconds = statistics.median(sweeps) if sweeps else None
    per_folder = {f: statistics.median(t) for f, t in times.items() if t}
    slowest = sorted(per_folder, key=per_folder.get, reverse=True)[:5]
    if original is None:
        warnings.append("tf corpus: _Loader.parse_file not found; parsed-file counts are missing")
    all_files = sum(len(v) for v in own.values())
    return {
        "folders": len(folders),
        "root_modules": len(roots),  # the folders the CLI lints as root modules
        "crashed_folders": len(crashed_folders),
        "tf_files": files,
        "tf_files_all": all_files,
        "lines": lines,
        "bytes": sum(infos[f]["bytes"] for f in loaded_folders),
        "declared_resources": sum(infos[f]["declared_resources"] for f in loaded_folders),
        "parsed_files": parsed_files if original is not None else None,  # incl. called local modules
        "parsed_lines": parsed_lines if original is not None else None,
        "load_median_s": seconds,  # sum over the folders of one sweep, median of the sweeps
        "lines_per_s": rates(lines, seconds),
        "files_per_s": rates(files, seconds),
        "parsed_lines_per_s": rates(parsed_lines, seconds) if original is not None else None,
        "instances": counts["instances"],  # managed resource instances (after count/for_each)
        "data_sources": counts["data_sources"],
        "errors": counts["errors"],
        "notes": counts["notes"],
        "folders_with_errors": folders_with_errors,
        "scenario_folders": duplicate_folders,  # duplicate declarations: the CLI re-loads them file by file
        "top_errors": error_kinds.most_common(8),
        "top_notes": note_kinds.most_common(8),
        "slowest_folders": [
            {
                "folder": _rel(f),
                "median_s": per_folder[f],
                "tf_files": infos[f]["files"],
                "lines": infos[f]["lines"],
                "parsed_files": parsed.get(f, [None])[0],
            }
            for f in slowest
        ],
    }


def _rel(path: Path) -> str:
    try:
        return path.relative_to(CORPUS).as_posix()
    except ValueError:
        return path.as_posix()


# Unknown messages: "Cannot decide: " + "; "-joined explanations, each "[label 'x': ]fact is unknown: reason",
# a reason being a ": "-chain from the immediate cause to the root one.
_EXPLANATION = re.compile(r"^(?:[\w-]+ '[^']*': )?[\w.-]+ is unknown: ")
_LABEL = re.compile(r"^[\w-]+ '[^']*': ")
_FACT = re.compile(r"^([\w.-]+) is unknown: ")
_NORMALISE = (
    (re.compile(r"\(source [^)]*\)"), "(source …)"),
    (re.compile(r"\btag [^\s=]+=\S*"), "tag K=V"),
    (re.compile(r"\$\{[^}]*\}"), "${…}"),
    (re.compile(r"'[^']*'"), "'…'"),
    (re.compile(r"\bmodule\.[\w-]+(?:\[[^\]]*\])?(?:\.(?:data\.)?[\w-]+(?:\[[^\]]*\])?)*"), "<addr>"),
    (re.compile(r"\bdata\.[\w-]+\.[\w-]+(?:\[[^\]]*\])?(?:\.[\w-]+)*"), "<addr>"),
    (re.compile(r"\b[a-z][a-z0-9]*_[\w-]*\.[\w-]+(?:\[[^\]]*\])?(?:\.[\w-]+)*"), "<addr>"),
    (re.compile(r"\b(?:var|local|each|count|path|terraform|self)\.[\w-]+(?:\.[\w-]+)*"), "<ref>"),
    (re.compile(r"\b[a-z][a-z0-9-]*\.[a-z][\w-]*\b(?! is unknown)"), "<provider>"),  # aws.replica
    (re.compile(r"(?<![\w<])\d+(?![\w>])"), "N"),
    (re.compile(r"\S*/\S*\.tf(?::\d+)*"), "<file>"),
)


def _normalise(text: str) -> str:
    """A message with its addresses, names, numbers and tags replaced, so that like counts with like."""
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return text.strip()


def _strip_location(text: str) -> str:
    return re.sub(r"^\S+?(?::\d+)*: ", "", text, count=1)


def unknown_explanations(message: str) -> list[tuple[str, str]]:
    """(fact, reason) of each explanation in an unknown result's message."""
    text = message.removeprefix("Cannot decide: ")
    text = re.sub(r"; and \d+ more$", "", text)
    pieces: list[str] = []
    for piece in text.split("; "):
        if pieces and not _EXPLANATION.match(piece):
            pieces[-1] += "; " + piece  # a "; " inside a reason
        else:
            pieces.append(piece)
    found = []
    for piece in pieces:
        piece = _LABEL.sub("", piece, count=1)
        fact = _FACT.match(piece)
        found.append((fact.group(1), piece[fact.end():]) if fact else ("", piece))
    return found


def _corpus_results_in_process(problems: list[str]) -> tuple[list[dict[str, Any]], dict[str, str]] | None:
    """The corpus lint's results from scan + engine in-process (no report needed), and rule names."""
    from backupguard.scanner import ScanOptions, scan

    try:
        user, checks = _setup()
        estate = scan([CORPUS], ScanOptions())
        results, _ = _engine(estate, checks, user)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"tf unknowns in-process: {_crash(exc)}")
        return None
    return [r.to_dict() for r in results], {c.rule.id: c.rule.name for c in checks}


def _per_root_module(problems: list[str]) -> dict[str, Any] | None:
    """The same figures when each Terraform root module of the corpus is linted on its own.

    A walked folder is one estate: a selection whose resources are unknown in one root module
    may cover any resource of every other one. Linting each root alone shows how many of the
    unknowns come from that coupling of unrelated modules.
    """
    from backupguard.scanner import discover, display_path
    from backupguard.scanner.terraform.source import TerraformOptions, root_modules, scan_module

    try:
        user, checks = _setup()
        roots = root_modules(discover(CORPUS, (), frozenset({".tf"})), CORPUS)
        results: list[Any] = []
        for root in roots:
            estate = scan_module(root, TerraformOptions(), None, display_path)
            results += _engine(estate, checks, user)[0]
    except Exception as exc:  # noqa: BLE001
        problems.append(f"tf unknowns per root module: {_crash(exc)}")
        return None
    tf = [r for r in results if str(r.file or "").endswith(".tf")]
    unknown = Counter(r.rule_id for r in tf if r.status == "unknown")
    per_rule = Counter(r.rule_id for r in tf)
    return {
        "root_modules": len(roots),
        "tf_results": len(tf),
        "unknown": sum(unknown.values()),
        "unknown_share": sum(unknown.values()) / len(tf) if tf else None,
        "top_rules": [{"rule_id": k, "unknown": n, "tf_results": per_rule[k]} for k, n in unknown.most_common(10)],
    }


def tf_unknowns(report: Path, problems: list[str]) -> dict[str, Any] | None:
    """How many Terraform results (file ends with .tf) of the corpus lint are unknown, and why.

    From the lint process's JSON report; when there is none (the lint crashed), from the
    results of scan + engine run in-process, so that the figures survive a crash in rendering.
    """
    try:
        doc = json.loads(report.read_text("utf-8"))
        every, names = doc["results"], {r.get("id"): r.get("name") for r in doc.get("rules", [])}
        source = "lint process JSON report"
    except (OSError, ValueError, KeyError, TypeError):
        note("tf unknowns: no corpus report; taking the results of an in-process scan + engine run")
        found = _corpus_results_in_process(problems)
        if found is None:
            return None
        (every, names), source = found, "in-process scan + engine run (the lint process gave no report)"
    results = [r for r in every if str(r.get("file") or "").endswith(".tf")]
    statuses = Counter(r["status"] for r in results)
    unknown = [r for r in results if r["status"] == "unknown"]
    per_rule = Counter(r["rule_id"] for r in results)
    per_rule_unknown = Counter(r["rule_id"] for r in unknown)
    roots: Counter = Counter()
    immediate: Counter = Counter()
    facts: Counter = Counter()
    explanations = 0
    for result in unknown:
        parts = unknown_explanations(result["message"])
        explanations += len(parts)
        # a result counts once per distinct (normalised) reason it gives
        roots.update({_normalise(reason.rsplit(": ", 1)[-1]) for _, reason in parts})
        immediate.update({_normalise(reason.split(": ", 1)[0]) for _, reason in parts})
        facts.update({fact for fact, _ in parts})
    decidable = statuses["pass"] + statuses["fail"] + statuses["unknown"]
    return {
        "source": source,
        "tf_results": len(results),
        "tf_files_with_results": len({r["file"] for r in results}),
        "by_status": dict(statuses),
        "unknown": len(unknown),
        "unknown_share": len(unknown) / len(results) if results else None,
        "unknown_share_of_decidable": len(unknown) / decidable if decidable else None,  # pass + fail + unknown
        "explanations": explanations,
        "top_rules": [
            {
                "rule_id": rule,
                "name": names.get(rule),
                "unknown": n,
                "tf_results": per_rule[rule],
                "share": n / per_rule[rule],
            }
            for rule, n in per_rule_unknown.most_common(10)
        ],
        "top_root_reasons": roots.most_common(10),  # the last link of each reason chain
        "top_immediate_reasons": immediate.most_common(10),  # the first link
        "top_unknown_facts": facts.most_common(10),
        "per_root_module": _per_root_module(problems),
    }


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
                f"{_n(part['templates'])} templates + {_n(part.get('tf_files_scanned'))} .tf files scanned "
                f"({_n(part['input_errors'])} input errors), "
                f"{_n(part['resources'])} resources, {_n(part['results'])} results"
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
    lines += tf_table(figures)
    if figures["problems"]:
        lines += ["", "problems:"] + [f"  - {p}" for p in figures["problems"]]
    if figures.get("warnings"):
        lines += ["", "warnings:"] + [f"  - {w}" for w in figures["warnings"]]
    return "\n".join(lines)


def _n(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _pct(part: float | None) -> str:
    return "-" if part is None else f"{100 * part:.1f}%"


def _statuses(statuses: dict[str, int] | None) -> str:
    if not statuses:
        return "?"
    return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items(), key=lambda kv: -kv[1]))


def tf_table(figures: dict[str, Any]) -> list[str]:
    lines: list[str] = [""]
    part = figures.get("tf_synthetic")
    if part is None:
        lines.append("synthetic Terraform folder: skipped")
    else:
        lines.append(
            f"synthetic Terraform folder (scale {part['scale']}): {part['files']} .tf files, {part['lines']:,} lines, "
            f"{part['bytes'] / 1024:.0f} KiB, {part['declared_resources']:,} resources, "
            f"{part['results'] if part['results'] is not None else '?'} results"
        )
        lines.append(f"  results: {_statuses(part.get('statuses'))}")
        lines.append(f"  {'':<34}{'median':>10}{'res/s':>11}{'lines/s':>11}{'files/s':>9}{'peak mem':>14}")
        p = part["process"]
        lines.append(
            f"  {'whole process (lint --format json)':<34}{_s(p['median_s']):>10}{_rate(p['resources_per_s']):>11}"
            f"{'':>11}{_rate(p['files_per_s']):>9}{_mib(p['peak_rss_bytes']):>10} RSS"
        )
        ip = part["in_process"]
        if ip is None:
            lines.append("  in-process: failed (see problems)")
        else:
            ph = ip["phases_median_s"]
            h = part["hcl_load"]
            lines.append(f"  {'in-process setup, first run':<34}{_s(ip['first_setup_s']):>10}   (catalogue + checks; cached after)")
            lines.append(
                f"  {'in-process HCL load (load_module)':<34}{_s(ph['load']):>10}{_rate(h['resources_per_s']):>11}"
                f"{_rate(h['lines_per_s']):>11}{_rate(h['files_per_s']):>9}"
            )
            for name, label in (("build", "in-process build estate"), ("run", "in-process engine run"),
                                ("render", "in-process render json")):
                lines.append(f"  {label:<34}{_s(ph[name]):>10}")
            lines.append(
                f"  {'in-process load+build+run+render':<34}{_s(ip['pipeline_median_s']):>10}"
                f"{_rate(ip['resources_per_s']):>11}{'':>11}{'':>9}{_mib(ip['tracemalloc_peak_bytes']):>10} heap"
            )
            lines.append(
                f"  load_module: {ip['instances']:,} managed instances, {ip['data_sources']} data sources, "
                f"{ip['input_errors']} errors, {ip['notes']} notes"
            )

    lines.append("")
    tc = figures.get("tf_corpus")
    if tc is None:
        lines.append("corpus Terraform folders (load_module each): skipped")
    else:
        lines.append(
            f"corpus Terraform folders (load_module each, in-process): {tc['folders']} folders "
            f"({tc['root_modules']} of them root modules for the CLI), {tc['tf_files']} .tf files, {tc['lines']:,} lines, "
            f"{tc['declared_resources']} resource blocks"
        )
        lines.append(
            f"  load, all folders: {_s(tc['load_median_s'])}  ->  {_rate(tc['lines_per_s'])} lines/s, "
            f"{_rate(tc['files_per_s'])} files/s"
        )
        if tc.get("parsed_files") is not None:
            lines.append(
                f"  parsed incl. followed local modules: {tc['parsed_files']} files, {tc['parsed_lines']:,} lines "
                f"({_rate(tc['parsed_lines_per_s'])} lines/s)"
            )
        lines.append(
            f"  found: {tc['instances']:,} managed instances, {tc['data_sources']} data sources; "
            f"{tc['errors']} errors in {tc['folders_with_errors']} folders "
            f"({tc['scenario_folders']} with duplicate declarations), {tc['notes']} notes; "
            f"{tc['crashed_folders']} folders crashed"
        )
        if tc["top_errors"]:
            lines.append("  most frequent errors:")
            lines += [f"    {n:>4}  {kind[:110]}" for kind, n in tc["top_errors"][:5]]
        if tc["top_notes"]:
            lines.append("  most frequent notes:")
            lines += [f"    {n:>4}  {kind[:110]}" for kind, n in tc["top_notes"][:5]]
        lines.append("  slowest folders:")
        for f in tc["slowest_folders"]:
            lines.append(
                f"    {_s(f['median_s']):>9}  {f['folder']}  ({f['tf_files']} files, {f['lines']} lines, "
                f"{f['parsed_files']} parsed)"
            )

    lines.append("")
    tu = figures.get("tf_corpus_unknowns")
    if tu is None:
        lines.append("unknowns among the corpus lint's Terraform results: skipped")
    else:
        lines.append(
            f"unknowns among the corpus lint's Terraform results: {tu['unknown']} of {tu['tf_results']} results "
            f"({_pct(tu['unknown_share'])}; {_pct(tu['unknown_share_of_decidable'])} of pass+fail+unknown), "
            f"in {tu['tf_files_with_results']} .tf files"
        )
        lines.append(f"  results: {_statuses(tu['by_status'])}  [from the {tu['source']}]")
        lines.append(f"  {'rule':<44}{'unknown':>9}{'results':>9}{'share':>8}")
        for r in tu["top_rules"]:
            label = f"{r['rule_id']} {r['name'] or ''}"
            lines.append(f"  {label[:44]:<44}{r['unknown']:>9}{r['tf_results']:>9}{_pct(r['share']):>8}")
        lines.append("  most frequent reasons (root cause of each reason chain; a result counts once per reason):")
        lines += [f"    {n:>4}  {reason[:110]}" for reason, n in tu["top_root_reasons"]]
        lines.append("  most frequent immediate reasons (first link of the chain):")
        lines += [f"    {n:>4}  {reason[:110]}" for reason, n in tu["top_immediate_reasons"][:5]]
        alone = tu.get("per_root_module")
        if alone:
            lines.append(
                f"  each of the {alone['root_modules']} root modules linted alone: {alone['unknown']} unknown of "
                f"{alone['tf_results']} Terraform results ({_pct(alone['unknown_share'])}); top: "
                + ", ".join(f"{r['rule_id']} {r['unknown']}/{r['tf_results']}" for r in alone["top_rules"][:5])
            )
    return lines


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per timed figure (median reported; default 5)")
    parser.add_argument("--scale", type=int, default=1, help="passed to gen_synthetic.py --scale (default 1)")
    parser.add_argument("--json", action="store_true", help="print machine-readable figures instead of the table")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process synthetic runs, CloudFormation and Terraform (top 15)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.scale < 1:
        parser.error("--runs and --scale must be at least 1")
    try:
        import backupguard
    except ImportError:
        parser.error(f"backupguard is not importable from {sys.executable}; run this with the project's venv")

    problems: list[str] = []
    warnings: list[str] = []  # odd counts, not crashes: shown, but they do not change the exit status
    with tempfile.TemporaryDirectory(prefix="bg-bench-") as tmp:
        work = Path(tmp)
        note(f"start-up ({args.runs} runs each)")
        startup = bench_startup(args.runs, work, problems)
        out = generate_synthetic(args.scale, work, problems)
        note("synthetic estate (CloudFormation)")
        synthetic = bench_synthetic(args.runs, args.scale, out, work, problems)
        note("synthetic estate (Terraform)")
        tf_synthetic = bench_tf_synthetic(args.runs, args.scale, out, work, problems, warnings)
        note("corpus")
        corpus = bench_corpus(args.runs, work, problems)
        tf_unknown = tf_unknowns(work / "corpus.json", problems) if corpus is not None else None
        note("corpus Terraform folders (load_module)")
        tf_corpus = bench_tf_corpus(args.runs, problems, warnings)
        profile = profile_tf = None
        if args.profile and synthetic is not None:
            note("profiling the in-process synthetic run")
            profile = profile_pipeline(lambda: lint_pipeline([Path(synthetic["_template"])]), "synthetic", problems)
        if args.profile and tf_synthetic is not None:
            note("profiling the in-process synthetic Terraform run")
            profile_tf = profile_pipeline(lambda: tf_pipeline(Path(tf_synthetic["_tf_dir"])), "synthetic tf", problems)
    if synthetic is not None:
        synthetic.pop("_template")
    if tf_synthetic is not None:
        tf_synthetic.pop("_tf_dir")

    figures = {
        "version": backupguard.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "runs": args.runs,
        "startup": startup,
        "synthetic": synthetic,
        "corpus": corpus,
        "tf_synthetic": tf_synthetic,
        "tf_corpus": tf_corpus,
        "tf_corpus_unknowns": tf_unknown,
        "problems": problems,
        "warnings": warnings,
    }
    if profile is not None:
        figures["profile"] = profile
    if profile_tf is not None:
        figures["profile_tf"] = profile_tf
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print(table(figures))
        if profile:
            print("\nprofile of one in-process synthetic run (scan + run + render), top 15 by cumulative time:")
            print(profile)
        if profile_tf:
            print("\nprofile of one in-process synthetic Terraform run (setup + load + build + run + render), "
                  "top 15 by cumulative time:")
            print(profile_tf)

    ic = startup["import_check"]
    if ic.get("boto3_imported") or ic.get("botocore_imported") or ic.get("import_attempts"):
        return 1
    if problems:  # every entry is a crash, a missing report or a failed step
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
