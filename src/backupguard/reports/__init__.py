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
