"""Waivers: accepted findings, with their justification, declared in the config file.

A waiver matches results by rule ID and by globs over the resource ID and the
file; it keeps the result (reports show it as waived, SARIF as a suppression,
JUnit as skipped) but stops it from failing the run. A waiver that matches
nothing is reported, so stale waivers do not pile up.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass
from typing import Any

from backupguard.results import Result, Suppression


@dataclass(frozen=True)
class Waiver:
    rule: str
    reason: str
    resource: str = "*"
    file: str = "*"

    def covers(self, result: Result) -> bool:
        return (
            result.rule_id == self.rule
            and result.status in ("fail", "unknown")
            and fnmatch.fnmatchcase(result.resource_id or "", self.resource)
            and fnmatch.fnmatchcase(result.file or "", self.file)
        )


def parse_waivers(entries: Any, source: str) -> list[Waiver]:
    """The ``waivers`` list of a config file; raises ValueError naming the entry that is wrong."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ValueError(f"{source}: 'waivers' must be a list")
    waivers = []
    for index, entry in enumerate(entries):
        where = f"{source}: waivers[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str) or not str(entry.get("reason") or "").strip():
            raise ValueError(f"{where}: needs 'rule' and a non-empty 'reason' (resource and file globs are optional)")
        unknown = set(entry) - {"rule", "reason", "resource", "file"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        waivers.append(Waiver(entry["rule"], str(entry["reason"]).strip(), str(entry.get("resource", "*")), str(entry.get("file", "*"))))
    return waivers


def apply_waivers(results: list[Result], waivers: list[Waiver]) -> tuple[list[Result], list[Waiver]]:
    """Results with waivers applied, and the waivers that matched nothing."""
    used: set[Waiver] = set()
    out = []
    for result in results:
        waiver = next((w for w in waivers if w.covers(result)), None)
        if waiver is not None:
            used.add(waiver)
            result = dataclasses.replace(result, suppression=Suppression("waiver", waiver.reason))
        out.append(result)
    return out, [w for w in waivers if w not in used]
