"""Fuzz backupguard for longer than CI does: the mutations and the oracle of tests/test_fuzz.py.

Run it with the interpreter that has backupguard installed (and Hypothesis, for the
shared test helpers' imports; no Hypothesis engine is used here)::

    python benchmarks/fuzz.py                          # 300 inputs, at most 120 s
    python benchmarks/fuzz.py --examples 5000 --seconds 1800 --kinds tf,tfvars
    python benchmarks/fuzz.py --seed 7 --out /tmp/fuzz-failures

Each input is one seed (tests/fuzz_seeds/) mutated 1-3 times, scanned by the real
console entry point in a forked child (wall-clock timeout, RLIMIT_AS) beside
unmutated neighbours, and judged by ``fuzzing.problems`` (no internal error, no
traceback, no crash or timeout, no raw control character or workflow command in
human-facing output, at most one located error per file, neighbours still reported).
Kinds are taken in turn; inputs come from ``random.Random(seed)`` so a run replays.

Prints: the inputs tried per kind, what they gave (clean, a located error, a
failure), the slowest run and the highest peak RSS, the distinct failures (grouped by
signature, with counts) and the total time. For the first input of each distinct
failure it shrinks the mutated file (drops lines, then characters from the ends, while
the same failure persists, within ``--minimize-seconds``) and saves the whole case
(files, REPRODUCE.txt with the command and the problems) under ``--out``.

Exit status: 0 when no failure was found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fuzzing  # noqa: E402


def signature(kind: str, problem: str) -> str:
    """A failure's identity across inputs: its kind and the gist of the problem (an internal error's
    exception type; else the problem's text without numbers, quotes and details after a colon)."""
    internal = re.search(r"internal error[^:]*[:(] ?(\w+(Error|Exception)\w*)", problem)
    if internal:
        return f"{kind}: internal error ({internal.group(1)})"
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", problem.split(": ", 1)[0])
    return f"{kind}: {re.sub(r'[0-9]+', 'N', text)[:100]}"


@dataclass
class Stats:
    tried: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    saved: dict = field(default_factory=dict)
    slowest: tuple[float, str] = (0.0, "")
    max_rss: tuple[float, str] = (0.0, "")


def judge(case: fuzzing.Case, root: Path, expected: set[tuple], timeout: float) -> tuple[fuzzing.Outcome, list[str]]:
    outcome = fuzzing.run_case(case, root, timeout=timeout)
    return outcome, fuzzing.problems(case, outcome, expected)


def shrink(case: fuzzing.Case, sig: str, root: Path, expected: set[tuple], timeout: float, budget: float) -> fuzzing.Case:
    """Drop chunks of lines, then bytes from either end, of the mutated file while the failure keeps its signature."""
    deadline = time.monotonic() + budget
    target = case.mutated[0]

    def still_fails(data: bytes) -> bool:
        trial = replace(case, files=case.files | {target: data})
        _, found = judge(trial, root, expected, timeout)
        return any(signature(case.kind, p) == sig for p in found)

    data = case.files[target]
    lines = data.splitlines(keepends=True)
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        i, changed = 0, False
        while i < len(lines) and time.monotonic() < deadline:
            candidate = lines[:i] + lines[i + chunk:]
            if candidate and still_fails(b"".join(candidate)):
                lines, changed = candidate, True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    data = b"".join(lines)
    for cut in (lambda d, n: d[n:], lambda d, n: d[:-n]):
        step = max(1, len(data) // 4)
        while step >= 1 and time.monotonic() < deadline:
            if len(data) > step and still_fails(cut(data, step)):
                data = cut(data, step)
            else:
                step //= 2
    return replace(case, files=case.files | {target: data})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="inputs to try (all kinds together)")
    parser.add_argument("--seconds", type=float, default=120.0, help="stop after this long, whatever --examples says")
    parser.add_argument("--kinds", default=",".join(fuzzing.KINDS), help=f"comma-separated, of {', '.join(fuzzing.KINDS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=fuzzing.TIMEOUT_SECONDS, help="seconds per run")
    parser.add_argument("--minimize-seconds", type=float, default=30.0, help="per distinct failure")
    parser.add_argument("--out", type=Path, default=Path("fuzz-failures"), help="folder for the reproducers")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(fuzzing.KINDS))
    if unknown:
        parser.error(f"unknown kinds: {', '.join(unknown)}")

    start = time.monotonic()
    fuzzing.warm_up()
    rng = random.Random(args.seed)
    stats = Stats()
    with tempfile.TemporaryDirectory(prefix="bg-fuzz-") as tmp:
        work = Path(tmp)
        expected = {k: fuzzing.baseline(k, work / f"baseline-{k}")[1] for k in fuzzing.KINDS if k != "report"}
        result_doc = fuzzing.baseline("tf", work / "doc")[0].reports["json"].encode()
        expected["report"] = set()
        for n in range(args.examples):
            if time.monotonic() - start > args.seconds:
                break
            kind = kinds[n % len(kinds)]
            case = fuzzing.make_case(kind, fuzzing.RandomChooser(rng), result_doc)
            outcome, found = judge(case, work / "case", expected[kind], args.timeout)
            stats.tried[kind] += 1
            label = f"{kind} #{stats.tried[kind]}"
            stats.slowest = max(stats.slowest, (outcome.seconds, label))
            stats.max_rss = max(stats.max_rss, (outcome.max_rss_mib, label))
            if found:
                stats.outcomes["failure"] += 1
            elif "error" in json.dumps([r.get("status") for r in _results(outcome)]):
                stats.outcomes["located error"] += 1
            elif outcome.exit_code == 2:
                stats.outcomes["refused with a usage error"] += 1
            else:
                stats.outcomes["clean"] += 1
            for sig in dict.fromkeys(signature(kind, p) for p in found[:1]):  # the first problem is the cause
                stats.failures[sig] += 1
                if sig not in stats.saved:
                    small = shrink(case, sig, work / "shrink", expected[kind], args.timeout, args.minimize_seconds)
                    small_outcome, small_found = judge(small, work / "shrink", expected[kind], args.timeout)
                    folder = args.out / f"{len(stats.saved) + 1:03d}-{kind}"
                    fuzzing.save_case(small, folder, fuzzing.reproducer(small, small_outcome, small_found or found))
                    stats.saved[sig] = folder
                    print(f"new failure [{label}] {sig}\n  saved to {folder}", flush=True)
    report(stats, time.monotonic() - start)
    return 1 if stats.failures else 0


def _results(outcome: fuzzing.Outcome) -> list[dict]:
    try:
        return json.loads(outcome.reports.get("json", "{}")).get("results", [])
    except (json.JSONDecodeError, AttributeError):
        return []


def report(stats: Stats, seconds: float) -> None:
    total = sum(stats.tried.values())
    print(f"\ninputs tried: {total} in {seconds:.1f} s ({total / seconds if seconds else 0:.1f}/s)")
    for kind, count in sorted(stats.tried.items()):
        print(f"  {kind:<11} {count}")
    print("outcomes: " + ", ".join(f"{name} {count}" for name, count in stats.outcomes.most_common()))
    print(f"slowest run: {stats.slowest[0]:.2f} s ({stats.slowest[1]}); highest peak RSS: {stats.max_rss[0]:.0f} MiB ({stats.max_rss[1]})")
    print(f"distinct failures: {len(stats.failures)} ({sum(stats.failures.values())} failing inputs)")
    for sig, count in stats.failures.most_common():
        print(f"  {count:>4}  {sig}\n        -> {stats.saved.get(sig)}")


if __name__ == "__main__":
    sys.exit(main())
