"""Reports render results and nothing else: they read the result document, never the Estate."""

from __future__ import annotations

from collections import Counter
from typing import Any

from backupguard.results import STATUSES, Result


def counts(results: list[Result]) -> dict[str, int]:
    """Results per status, every status present (zeros included) in a fixed order."""
    found = Counter(r.status for r in results)
    return {status: found.get(status, 0) for status in STATUSES}


def summary(results: list[Result]) -> dict[str, Any]:
    failing = Counter(r.severity for r in results if r.status == "fail")
    return {
        "results": len(results),
        "by_status": counts(results),
        "failing_by_severity": {sev: failing[sev] for sev in ("critical", "high", "medium", "low", "info")},
    }


_VERDICT_ORDER = ("fail", "unknown", "error", "pass", "not_applicable")


def control_summary(results: list[Result], frameworks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per framework and control: its verdict and the results behind it (Audit Manager-style).

    A control fails when any of its results fails, is unknown when none fails and one is
    unknown, passes when the rest pass, and is "no resources" when nothing was evaluated.
    """
    by_control: dict[str, Counter] = {}
    for result in results:
        for tag in result.frameworks:
            by_control.setdefault(tag, Counter())[result.status] += 1
    summary = []
    for framework in frameworks:
        controls = []
        for control in framework["controls"]:
            found = by_control.get(f"{framework['id']}:{control['id']}", Counter())
            verdict = next((s for s in _VERDICT_ORDER if found.get(s)), "no_resources")
            controls.append({**control, "status": verdict, "results": {s: found.get(s, 0) for s in STATUSES}})
        verdicts = Counter(c["status"] for c in controls)
        summary.append({"id": framework["id"], "title": framework["title"], "controls": controls,
                        "controls_by_status": dict(sorted(verdicts.items()))})
    return summary
