"""How backupguard's cost grows with the estate (issue 12): the whole ``lint`` process, two checkouts.

    python benchmarks/scale.py --baseline-src /tmp/base/src            # CFN and TF at scales 1 2 5 10, 3 runs
    python benchmarks/scale.py --scales 1 2 --formats tf --runs 5      # without a baseline: this checkout only
    python benchmarks/scale.py --phases --baseline-src /tmp/base/src   # + where the time goes, per phase
    python benchmarks/scale.py --org 200x4x63 --baseline-src ...       # + the live-shaped 50k estate (org_estate.py)

The inputs are ``../shared/bench/gen_synthetic.py --scale N`` (N x 1,000 resources; its
CloudFormation template and its Terraform folder), generated once into ``--work`` (default: a
temporary folder). Each figure is the whole process in a fresh interpreter,
``python -m backupguard lint DIR -f json --fail-on never`` with the JSON written to a
standard output that goes to /dev/null (not ``-o /dev/null``: the CLI writes reports
atomically, by renaming a temporary file over the path), run with ``PYTHONPATH=<src>`` for
this checkout and for ``--baseline-src`` alternately, ``--runs`` times each: medians, the
largest peak RSS (the child's own, measured by a bare launcher: see ``bench.LAUNCHER``), the
exit codes (2: an input error, such as a template past the CloudFormation budget of 2,000
resources, which is then not evaluated), and the cost ratio of the largest scale to the smallest.

``--checkov`` adds Checkov (``checkov -d DIR --quiet --compact -o json --skip-download``, when installed) as a third
side of every series, alternating with the two checkouts, and ``--corpus`` adds the whole
``../shared/corpus`` as one more input; the tables then give each side's time over this checkout's.

``--phases`` runs the same command in-process instead (``--phase-child``), timing the
phases (in CPU seconds, which a busy machine disturbs less) by wrapping the functions the CLI calls: ``start-up`` (interpreter and imports, up
to the command), ``settings`` (config, catalogue, checks), ``parse`` (``scanner.scan``), ``resolve`` (``resolve.subjects``),
``engine`` (``rules.engine.run``), ``document`` (waivers, inventory and the result
document), ``render`` (``cli._write_reports``), ``other`` (the rest of the process), and the garbage collector's share of all of
them (``gc``).

Skips with a message (exit 0) when ``../shared`` is absent. A benchmark, not a test: it
asserts nothing about speed; it exits 2 when a run crashed or exited with an unexpected code.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
SHARED = HERE.parents[1] / "shared"
GENERATOR = SHARED / "bench" / "gen_synthetic.py"
TIMEOUT = 1800  # seconds per run

sys.path.insert(0, str(HERE))
from bench import CAN_LAUNCH, _maxrss_bytes  # noqa: E402

# bench.LAUNCHER (a bare interpreter spawns the command, so that the peak RSS is the child's own),
# with the child's CPU time too: on a shared machine, CPU seconds vary less than wall seconds.
LAUNCHER = r"""
import os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawn(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
import json
with open(report, "w") as fh:
    json.dump({"wall": wall, "rc": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss,
               "cpu": usage.ru_utime + usage.ru_stime}, fh)
"""


def note(message: str) -> None:
    print(f"scale: {message}", file=sys.stderr, flush=True)


# -- one measured process -------------------------------------------------------------------


def measure(cmd: list[str], src: Path | None, cwd: Path, keep_stdout: bool = False) -> dict[str, Any]:
    """Run ``cmd`` with ``PYTHONPATH=src``: wall and CPU time, exit code, the child's own peak RSS,
    stderr (and stdout with ``keep_stdout``; else it goes to /dev/null)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        stdout = out if keep_stdout else subprocess.DEVNULL
        if CAN_LAUNCH:
            report = Path(tmp) / "child.json"
            subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *cmd], cwd=cwd, env=env,
                           stdin=subprocess.DEVNULL, stdout=stdout, stderr=err, timeout=TIMEOUT)
            try:
                child = json.loads(report.read_text("utf-8"))
            except (OSError, ValueError):
                err.seek(0)
                raise RuntimeError(f"launcher failed for {cmd}: {err.read().decode(errors='replace')[-500:]}")
            wall, rc, peak, cpu = child["wall"], child["rc"], _maxrss_bytes(child["maxrss"]), child["cpu"]
        else:  # no posix_spawn/wait4: time only
            start = time.perf_counter()
            rc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                                stderr=err, timeout=TIMEOUT).returncode
            wall, peak, cpu = time.perf_counter() - start, None, None
        err.seek(0)
        out.seek(0)
        stderr, stdout_text = err.read().decode("utf-8", "replace"), out.read().decode("utf-8", "replace")
    return {"wall": wall, "cpu": cpu, "rc": rc, "peak": peak, "stderr": stderr, "stdout": stdout_text}


def lint_cmd(folder: Path, phases_to: Path | None, side: str = "current") -> list[str]:
    """The command a side runs on ``folder``: backupguard's lint (either checkout: PYTHONPATH tells
    them apart) or, for the ``checkov`` side, Checkov on the same folder."""
    if side == "checkov":
        return [shutil.which("checkov") or "checkov", "-d", str(folder), "--quiet", "--compact", "-o", "json",
                "--skip-download"]  # no network: the guidelines download would add its retries to the time
    args = ["lint", str(folder), "-f", "json", "--fail-on", "never"]
    if phases_to is not None:
        return [sys.executable, str(Path(__file__).resolve()), "--phase-child", str(phases_to), "--", *args]
    return [sys.executable, "-m", "backupguard", *args]


# -- in-process phases (run in the child, with the checkout's backupguard) -----------------


def phase_child(out: Path, argv: list[str]) -> int:
    """Run the CLI in-process with its phases timed; write them to ``out`` as JSON."""
    import gc
    import resource

    started = 0.0  # process_time counts from the start of the process: start-up includes the interpreter's
    spent: dict[str, float] = {}
    gc_time = [0.0, 0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_time[1] = time.process_time()
        else:
            gc_time[0] += time.process_time() - gc_time[1]

    gc.callbacks.append(on_gc)

    peaks: dict[str, int] = {}

    def high_water() -> int | None:
        """The peak RSS so far, in bytes (Linux's VmHWM)."""
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
        except (OSError, StopIteration, ValueError):
            return None

    def timed(module: Any, name: str, phase: str) -> None:
        original = getattr(module, name, None)
        if original is None:
            return

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            begin = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                spent[phase] = spent.get(phase, 0.0) + time.process_time() - begin
                peaks[phase] = high_water()

        setattr(module, name, wrapper)

    import backupguard.cli as cli
    import backupguard.pipeline as pipeline
    import backupguard.resolve as resolve
    import backupguard.rules.engine as engine
    import backupguard.scanner as scanner

    imported = time.process_time()
    timed(pipeline, "settings", "settings")
    timed(scanner, "scan", "parse")
    timed(resolve, "subjects", "resolve")
    timed(engine, "run", "engine")
    timed(pipeline, "evaluate", "evaluate")
    timed(cli, "_write_reports", "render")
    sys.argv = ["backupguard", *argv]
    code = 0
    gc.disable()  # as cli.console runs main (it then ends the process at once, which this child cannot)
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finished = time.process_time()
    gc.callbacks.remove(on_gc)
    phases = {
        "start-up": imported - started,
        "settings": spent.get("settings", 0.0),
        "parse": spent.get("parse", 0.0),
        "resolve": spent.get("resolve", 0.0),
        "engine": spent.get("engine", 0.0),
        "document": spent.get("evaluate", 0.0) - spent.get("resolve", 0.0) - spent.get("engine", 0.0),
        "render": spent.get("render", 0.0),
        "gc": gc_time[0],
        "in-process": finished - started,
    }
    phases["other"] = phases["in-process"] - sum(v for k, v in phases.items() if k not in ("gc", "in-process"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.write_text(json.dumps({"phases": phases, "peaks": peaks, "rc": code, "peak": _maxrss_bytes(peak)}),
                   encoding="utf-8")
    return code


PHASES = ("start-up", "settings", "parse", "resolve", "engine", "document", "render", "other", "gc")
MEMORY_PHASES = ("parse", "resolve", "engine", "evaluate", "render")  # peak RSS at the end of each


# -- the benchmark --------------------------------------------------------------------------


def generate(scales: list[float], work: Path) -> dict[float, Path]:
    folders = {}
    for scale in scales:
        out = work / f"scale-{scale:g}"
        if not (out / "design.json").is_file():
            done = subprocess.run([sys.executable, str(GENERATOR), "--out", str(out), "--scale", str(scale)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode != 0:
                raise SystemExit(f"gen_synthetic.py --scale {scale} failed: {done.stderr[-500:]}")
        folders[scale] = out
    return folders


def resources_of(folder: Path) -> int:
    return json.loads((folder / "design.json").read_text("utf-8"))["total_resources"]


def run_series(label: str, cmd_for: Any, sides: list[tuple[str, Path | None]], runs: int, cwd: Path,
               problems: list[str], phases: bool) -> dict[str, dict[str, Any]]:
    """``runs`` alternating runs of each side (the order flips every round); medians per side."""
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
    for round_ in range(runs):
        order = sides if round_ % 2 == 0 else sides[::-1]
        for name, src in order:
            with tempfile.TemporaryDirectory() as tmp:
                phases_to = Path(tmp) / "phases.json" if phases and name != "checkov" else None
                child = measure(cmd_for(phases_to, name), src, cwd)
                if phases_to is not None and phases_to.is_file():
                    reported = json.loads(phases_to.read_text("utf-8"))
                    child["phases"], child["peaks"] = reported["phases"], reported.get("peaks", {})
            crashed = "internal error" in child["stderr"] or "Traceback" in child["stderr"]
            if child["rc"] not in (0, 1, 2) or (crashed and name != "checkov"):  # Checkov logs its checks' own tracebacks
                problems.append(f"{label} [{name}]: exit {child['rc']}: {child['stderr'].strip()[-300:]}")
            samples[name].append(child)
            note(f"{label} [{name}] run {round_ + 1}/{runs}: {child['wall']:.2f} s (CPU {child['cpu'] or 0:.2f} s), "
                 f"{(child['peak'] or 0) / 2**20:.0f} MiB")
    summary = {}
    for name, children in samples.items():
        found = {
            "median_s": statistics.median(c["wall"] for c in children),
            "cpu_s": statistics.median(c["cpu"] for c in children) if all(c["cpu"] is not None for c in children) else None,
            "min_s": min(c["wall"] for c in children),
            "peak_bytes": max((c["peak"] for c in children if c["peak"]), default=None),
            "exit_codes": sorted({c["rc"] for c in children}),
        }
        with_phases = [c["phases"] for c in children if "phases" in c]
        if with_phases:
            found["phases"] = {p: statistics.median(s.get(p, 0.0) for s in with_phases) for p in [*PHASES, "in-process"]}
            found["peaks"] = {p: max((c["peaks"][p] for c in children if c.get("peaks", {}).get(p)), default=None)
                              for p in MEMORY_PHASES}
        summary[name] = found
    return summary


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f}"


def table(title: str, rows: list[tuple[str, int | None, dict[str, dict[str, Any]]]], sides: list[str],
          phases: bool) -> list[str]:
    """Medians and peaks per input and checkout, the speed-up, the cost ratio of the last input to
    the first; with ``phases``, a second table of the phase medians."""
    lines = [f"### {title}", ""]
    head = ["input", "resources", *[f"{side} s" for side in sides]]
    others = [side for side in sides if side != "current"] if "current" in sides else []
    head += [f"{side} / current" for side in others]
    head += [f"{side} CPU s" for side in sides]
    head += [f"{side} MiB" for side in sides]
    if phases:
        head += [f"{side} resolve s" for side in sides]
    head.append("exit codes")
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, count, figures in rows:
        found = [figures.get(side, {}) for side in sides]
        cells = [name, f"{count:,}" if count else "-", *[_s(f.get("median_s")) for f in found]]
        after = figures.get("current", {}).get("median_s")
        for side in others:
            before = figures.get(side, {}).get("median_s")
            cells.append(f"{before / after:.1f}x" if before and after else "-")
        cells += [_s(f.get("cpu_s")) for f in found]
        cells += [_mib(f.get("peak_bytes")) for f in found]
        if phases:
            cells += [_s(f.get("phases", {}).get("resolve")) for f in found]
        cells.append(" / ".join(",".join(str(c) for c in f.get("exit_codes", [])) or "-" for f in found))
        lines.append("| " + " | ".join(cells) + " |")
    timed = [(name, figures) for name, _, figures in rows
             if name != "corpus" and all(figures.get(s) for s in sides)]
    if len(timed) >= 2:
        (small, first), (large, last) = timed[0], timed[-1]
        ratios = []
        for side in sides:
            text = f"{side} {last[side]['median_s'] / first[side]['median_s']:.1f}x"
            if first[side].get("cpu_s") and last[side].get("cpu_s"):
                text += f" (CPU {last[side]['cpu_s'] / first[side]['cpu_s']:.1f}x)"
            before, after = (f[side].get("phases", {}).get("resolve") for f in (first, last))
            if before and after:
                text += f" (resolve {after / before:.1f}x)"
            ratios.append(text)
        lines += ["", f"Cost ratio {large} / {small} (wall; CPU; resolve phase): " + ", ".join(ratios)]
    if phases:
        head = ["input", "checkout", *PHASES, "in-process", "whole process"]
        lines += ["", "Phases (medians, CPU seconds; gc is the collector's share of all the others):", "",
                  "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for name, _, figures in rows:
            for side in sides:
                found = figures.get(side, {})
                if "phases" in found:
                    lines.append("| " + " | ".join([name, side, *[_s(found["phases"].get(p)) for p in PHASES],
                                                    _s(found["phases"].get("in-process")), _s(found["median_s"])]) + " |")
        head = ["input", "checkout", *[f"after {p}" for p in MEMORY_PHASES]]
        lines += ["", "Peak RSS (MiB) reached by the end of each phase (evaluate = resolve + engine + document):", "",
                  "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for name, _, figures in rows:
            for side in sides:
                found = figures.get(side, {}).get("peaks")
                if found:
                    lines.append("| " + " | ".join([name, side, *[_mib(found.get(p)) for p in MEMORY_PHASES]]) + " |")
    return lines + [""]


_ORG_LINE = re.compile(r"build ([\d.]+) s, resolve ([\d.]+) s, engine ([\d.]+) s")


def org_series(shape: str, sides: list[tuple[str, Path | None]], runs: int, cwd: Path,
               problems: list[str]) -> tuple[int, dict[str, dict[str, Any]]]:
    """org_estate.py (an Organization-shaped estate built in-process, no files), alternately per checkout."""
    accounts, regions, per_scope = (int(n) for n in shape.lower().split("x"))
    cmd = [sys.executable, str(HERE / "org_estate.py"), "--accounts", str(accounts), "--regions", str(regions),
           "--resources", str(per_scope)]
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in sides}
    for round_ in range(runs):
        for name, src in (sides if round_ % 2 == 0 else sides[::-1]):
            child = measure(cmd, src, cwd, keep_stdout=True)
            found = _ORG_LINE.search(child["stdout"])
            if child["rc"] != 0 or not found:
                problems.append(f"org {shape} [{name}]: exit {child['rc']}: {child['stderr'].strip()[-300:]}")
                continue
            child["phases"] = dict(zip(("build", "resolve", "engine"), (float(x) for x in found.groups())))
            samples[name].append(child)
            note(f"org {shape} [{name}] run {round_ + 1}/{runs}: {child['wall']:.2f} s "
                 f"({child['stdout'].strip().splitlines()[-1]})")
    figures: dict[str, dict[str, Any]] = {}
    for name, children in samples.items():
        if children:
            figures[name] = {
                "median_s": statistics.median(c["wall"] for c in children),
                "cpu_s": statistics.median(c["cpu"] for c in children) if all(c["cpu"] for c in children) else None,
                "peak_bytes": max((c["peak"] for c in children if c["peak"]), default=None),
                "exit_codes": sorted({c["rc"] for c in children}),
                "phases": {p: statistics.median(c["phases"][p] for c in children) for p in ("build", "resolve", "engine")},
            }
    return accounts * regions * per_scope, figures


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--phase-child"]:
        return phase_child(Path(argv[1]), argv[3:] if argv[2:3] == ["--"] else argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--baseline-src", type=Path, help="the src/ folder of the checkout to compare with")
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--formats", nargs="+", choices=("cfn", "tf"), default=["cfn", "tf"])
    parser.add_argument("--runs", type=int, default=3, help="runs per checkout and input (median; default 3)")
    parser.add_argument("--phases", action="store_true", help="time the phases in-process (see above)")
    parser.add_argument("--org", metavar="AxRxN", help="also org_estate.py: A accounts x R Regions x N resources each")
    parser.add_argument("--checkov", action="store_true", help="also Checkov on the same folders, when installed")
    parser.add_argument("--corpus", action="store_true", help="also the whole ../shared/corpus folder")
    parser.add_argument("--work", type=Path, help="where to generate the inputs (kept; default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not GENERATOR.is_file():
        note(f"skipped: {GENERATOR} is absent (the benchmark needs ../shared/bench/gen_synthetic.py)")
        return 0
    sides: list[tuple[str, Path | None]] = []
    if args.baseline_src:
        if not (args.baseline_src / "backupguard" / "__init__.py").is_file():
            parser.error(f"--baseline-src {args.baseline_src}: no backupguard package there")
        sides.append(("baseline", args.baseline_src.resolve()))
    sides.append(("current", SRC))
    if args.checkov:
        if shutil.which("checkov") is None:
            note("--checkov: checkov is not installed; skipped")
        else:
            sides.append(("checkov", None))
    names = [name for name, _ in sides]
    problems: list[str] = []
    temporary = None if args.work else tempfile.TemporaryDirectory(prefix="bg-scale-")
    work = args.work or Path(temporary.name)
    work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {}
    out = [f"## backupguard scale benchmark ({args.runs} runs per figure, medians; "
           f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]})", ""]
    try:
        folders = generate(sorted(args.scales), work)
        for fmt in args.formats:
            rows = []
            for scale, folder in folders.items():
                label = f"{fmt} x{scale:g}"
                found = run_series(label, lambda to, side, f=folder / fmt: lint_cmd(f, to, side), sides, args.runs,
                                   work, problems, args.phases)
                rows.append((label, resources_of(folder), found))
                figures[label] = found
            out += table({"cfn": "CloudFormation", "tf": "Terraform"}[fmt] + " (gen_synthetic.py)", rows, names,
                         args.phases)
        if args.org:
            checkouts = [side for side in sides if side[0] != "checkov"]  # Checkov has no live estate
            count, found = org_series(args.org, checkouts, args.runs, work, problems)
            figures[f"org {args.org}"] = found
            out += table(f"Live-shaped estate built in-process (org_estate.py {args.org}: accounts x Regions x "
                         "resources each)", [(f"org {args.org}", count, found)], [n for n, _ in checkouts], False)
            for name, _ in checkouts:
                if name in found:
                    p = found[name]["phases"]
                    out.append(f"- {name} (wall, as org_estate.py prints them): build {p['build']:.2f} s, "
                               f"resolve {p['resolve']:.2f} s, engine {p['engine']:.2f} s")
            out.append("")
        if args.corpus:
            corpus = SHARED / "corpus"
            found = run_series("corpus", lambda to, side: lint_cmd(corpus, to, side), sides, args.runs, work,
                               problems, args.phases)
            figures["corpus"] = found
            out += table("The shared corpus (../shared/corpus, one folder)", [("corpus", None, found)], names,
                         args.phases)
    finally:
        if temporary is not None:
            temporary.cleanup()
    if problems:
        out += ["### Problems", "", *[f"- {p}" for p in problems], ""]
    print("\n".join(out))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
