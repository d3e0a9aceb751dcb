"""The terminal summary: findings grouped by file with line numbers, then counts.

Every string from the document goes through :func:`printable` (a saved document given to
``backupguard report`` is input too), and no line can start a CI workflow command.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from backupguard.reports import counts
from backupguard.reports.json_report import results_of
from backupguard.reports.printable import inert_lines, printable as p

_SHOWN_BY_DEFAULT = ("fail", "unknown", "error")
MAX_NOTES = 10


def render(doc: dict[str, Any], *, show_passed: bool = False) -> str:
    results = results_of(doc)
    shown = [r for r in results if show_passed or r.status in _SHOWN_BY_DEFAULT]
    lines: list[str] = []
    for file, group in groupby(shown, key=lambda r: r.file or "(no file)"):
        lines.append(p(file))
        for r in group:
            where = f"{r.line}:{r.column}"
            status = "WAIVED" if r.waiver else p(r.status).upper()
            resource = f"{p(r.resource_id)}: " if r.resource_id else ""
            waiver = f" [waived: {p(r.waiver)}]" if r.waiver else ""
            lines.append(f"  {where:<8} {status:<7} {p(r.severity):<8} {p(r.rule_id)}  {resource}{p(r.message)}{waiver}")
        lines.append("")
    for framework in doc.get("frameworks") or []:
        lines.append(f"{p(framework['id'])}: {p(framework['title'])}")
        for control in framework["controls"]:
            tally = ", ".join(f"{n} {p(s)}" for s, n in control["results"].items() if n)
            lines.append(f"  {p(control['status']).upper():<14} {p(control['id'])}  {p(control['title'])}  ({tally or 'no resources'})")
        lines.append("")
    notes = (doc.get("scan") or {}).get("notes") or []
    for note in notes[:MAX_NOTES]:
        lines.append(f"note: {p(note)}")
    if len(notes) > MAX_NOTES:
        lines.append(f"note: ... and {len(notes) - MAX_NOTES} more (the JSON document lists them all)")
    total = counts(results)
    files = len((doc.get("scan") or {}).get("files") or [])
    waived = sum(1 for r in results if r.waiver)
    lines.append(
        f"{files} {'file' if files == 1 else 'files'} scanned, {len(results)} results: "
        + ", ".join(f"{total[s]} {s}" for s in ("fail", "unknown", "error", "pass"))
        + (f", {total['not_applicable']} not applicable" if total["not_applicable"] else "")
        + (f" ({waived} waived)" if waived else "")
    )
    return inert_lines("\n".join(lines) + "\n")
