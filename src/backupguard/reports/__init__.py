"""Reports render results and nothing else: they read the result document, never the Estate."""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable, Iterable

from backupguard.results import STATUSES, Result


def counts(results: list[Result]) -> dict[str, int]:
    """Results per status, every status present (zeros included) in a fixed order."""
    found = Counter(r.status for r in results)
    return {status: found.get(status, 0) for status in STATUSES}


def summary(results: list[Result], baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    """Counts of the document. ``waived`` counts every suppressed result (``suppressed`` by kind);
    with a baseline (``scan.baseline``), ``baseline`` counts new and unchanged results and the
    baseline's findings that are fixed."""
    failing = Counter(r.severity for r in results if r.counts_as_failure)
    kinds = Counter(r.suppression.kind for r in results if r.suppression)
    out = {
        "results": len(results),
        "by_status": counts(results),
        "waived": sum(1 for r in results if r.suppressed),
        "suppressed": {"inline": kinds.get("inline", 0), "waiver": kinds.get("waiver", 0)},
        "failing_by_severity": {sev: failing[sev] for sev in ("critical", "high", "medium", "low", "info")},
    }
    if isinstance(baseline, dict):
        states = Counter(r.baseline for r in results if r.baseline)
        fixed = baseline.get("fixed")
        out["baseline"] = {"new": states.get("new", 0), "unchanged": states.get("unchanged", 0),
                           "fixed": len(fixed) if isinstance(fixed, list) else 0}
    return out


def verdict(result: Result) -> str:
    """A result's status as reports show it: a waived failure or unknown is "waived"."""
    return "waived" if result.suppressed else result.status


_VERDICT_ORDER = ("fail", "unknown", "error", "waived", "pass", "not_applicable")


def control_summary(results: list[Result], frameworks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per framework and control: its verdict and the results behind it (Audit Manager-style).

    A control fails when any of its results fails, is unknown when none fails and one is
    unknown, passes when the rest pass, and is "no resources" when nothing was evaluated.
    """
    by_control: dict[str, Counter] = {}
    for result in results:
        for tag in result.frameworks:
            by_control.setdefault(tag, Counter())[verdict(result)] += 1
    summary = []
    for framework in frameworks:
        controls = []
        for control in framework["controls"]:
            found = by_control.get(f"{framework['id']}:{control['id']}", Counter())
            status = next((s for s in _VERDICT_ORDER if found.get(s)), "no_resources")
            controls.append({**control, "status": status, "results": {s: found.get(s, 0) for s in (*STATUSES, "waived")}})
        verdicts = Counter(c["status"] for c in controls)
        summary.append({"id": framework["id"], "title": framework["title"],
                        "description": framework.get("description", ""), "source_url": framework.get("source_url", ""),
                        "controls": controls, "controls_by_status": dict(sorted(verdicts.items()))})
    return summary


def render(name: str, doc: dict[str, Any], *, show_passed: bool = False, strict: bool = False,
           color: bool = False, relocate: Callable[[str], str] | None = None) -> str:
    """The document in one format; renderers are imported only when used.

    ``strict``: unknown results count as failures where a format decides that (JUnit).
    ``color``: ANSI colours for the statuses of the text format (only ever for a terminal).
    ``relocate``: file names -> relative to the source root, for SARIF URIs (``--sarif-root``).
    """
    return "".join(stream(name, doc, show_passed=show_passed, strict=strict, color=color, relocate=relocate))


def stream(name: str, doc: dict[str, Any], *, show_passed: bool = False, strict: bool = False,
           color: bool = False, relocate: Callable[[str], str] | None = None) -> Iterable[str]:
    """:func:`render`'s text in pieces, to be written as they come: JSON and JUnit are rendered piece
    by piece (their size grows with the results), the other formats in one piece."""
    if name == "text":
        from backupguard.reports import text

        return (text.render(doc, show_passed=show_passed, color=color),)
    if name == "sarif":  # at most 25,000 results, and its size is checked whole (GitHub's limit)
        from backupguard.reports import sarif

        return (sarif.render(doc, relocate),)
    if name == "json":
        from backupguard.reports import json_report

        return json_report.stream(doc)
    if name == "junit":
        from backupguard.reports import junit

        return junit.stream(doc, unknown="failure" if strict else "skipped")
    from importlib import import_module

    module, function = RENDERERS[name]
    return (getattr(import_module(f"backupguard.reports.{module}"), function)(doc),)


# format -> (module in backupguard.reports, function taking the document)
RENDERERS = {
    "sarif": ("sarif", "render"),
    "html": ("html", "render"),
    "markdown": ("markdown", "render"),
    "csv-resources": ("audit", "resource_compliance_csv"),
    "csv-controls": ("audit", "control_compliance_csv"),
    "json-resources": ("audit", "resource_compliance_json"),
    "json-controls": ("audit", "control_compliance_json"),
    "codequality": ("codequality", "render"),  # GitLab Code Quality (artifacts:reports:codequality)
}
