"""The terminal summary: findings grouped by file with line numbers, then counts."""

from __future__ import annotations

from itertools import groupby

from backupguard.reports import counts
from backupguard.results import Result

_SHOWN_BY_DEFAULT = ("fail", "unknown", "error")


def render(
    results: list[Result], *, files_scanned: int, show_passed: bool = False, frameworks: list[dict] | None = None
) -> str:
    shown = [r for r in results if show_passed or r.status in _SHOWN_BY_DEFAULT]
    lines: list[str] = []
    for file, group in groupby(shown, key=lambda r: r.file or "(no file)"):
        lines.append(file)
        for r in group:
            where = f"{r.line}:{r.column}"
            resource = f"{r.resource_id}: " if r.resource_id else ""
            element = f"({r.element}) " if r.element and r.element not in r.message else ""
            lines.append(
                f"  {where:<8} {r.status.upper():<7} {r.severity:<8} {r.rule_id}  {resource}{element}{r.message}"
            )
        lines.append("")
    for framework in frameworks or []:
        lines.append(f"{framework['id']}: {framework['title']}")
        for control in framework["controls"]:
            tally = ", ".join(f"{n} {s}" for s, n in control["results"].items() if n)
            lines.append(f"  {control['status'].upper():<14} {control['id']}  {control['title']}  ({tally or 'no resources'})")
        lines.append("")
    total = counts(results)
    file_word = "file" if files_scanned == 1 else "files"
    lines.append(
        f"{files_scanned} {file_word} scanned, {len(results)} results: "
        + ", ".join(f"{total[s]} {s}" for s in ("fail", "unknown", "error", "pass"))
        + (f", {total['not_applicable']} not applicable" if total["not_applicable"] else "")
    )
    return "\n".join(lines) + "\n"
