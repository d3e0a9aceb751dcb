"""The JSON result document: complete enough to re-render every other report, byte-stable."""

from __future__ import annotations

import json
from typing import Any

from backupguard import __version__
from backupguard.reports import summary
from backupguard.results import Result

SCHEMA_VERSION = 1


def document(
    results: list[Result], rules: list[dict[str, Any]], scan: dict[str, Any], frameworks: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "backupguard", "version": __version__},
        "scan": scan,
        "summary": summary(results),
        "frameworks": frameworks,
        "rules": sorted(rules, key=lambda r: r["id"]),
        "results": [r.to_dict() for r in results],
    }


def render(
    results: list[Result], rules: list[dict[str, Any]], scan: dict[str, Any], frameworks: list[dict[str, Any]]
) -> str:
    return json.dumps(document(results, rules, scan, frameworks), indent=2, ensure_ascii=False) + "\n"
