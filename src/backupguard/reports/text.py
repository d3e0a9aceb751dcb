"""The terminal summary: findings grouped by file with line numbers (live findings by account and
Region, with their ARN), then counts.

Every string from the document goes through :func:`printable` (a saved document given to
``backupguard report`` is input too), and no line can start a CI workflow command.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from backupguard.reports import counts
from backupguard.reports.json_report import results_of
from backupguard.reports.printable import inert_lines, printable as p
from backupguard.results import Result

_SHOWN_BY_DEFAULT = ("fail", "unknown", "error")
MAX_NOTES = 10


def scope_label(account: str | None, region: str | None) -> str:
    """``account 111111111111, Region us-east-1`` (``global`` for a scope without a Region)."""
    return f"account {account or '(unknown)'}, " + (f"Region {region}" if region else "global")


def _heading(r: Result) -> str:
    """Results are grouped by file, and live results (no file) by account and Region."""
    if r.is_live:
        return p(scope_label(r.account_id, r.region))
    return p(r.file or "(no file)")


def live_scopes(doc: dict[str, Any], results: list[Result]) -> tuple[list[str], list[str]]:
    """The accounts and Regions of a live scan: the scan's lists, else those of its results."""
    scan = doc.get("scan") or {}
    accounts = scan.get("accounts") if isinstance(scan.get("accounts"), list) else None
    regions = scan.get("regions") if isinstance(scan.get("regions"), list) else None
    if accounts is None:
        accounts = sorted({r.account_id for r in results if r.is_live and r.account_id})
    if regions is None:
        regions = sorted({r.region for r in results if r.is_live and r.region})
    return accounts, regions


def render(doc: dict[str, Any], *, show_passed: bool = False, color: bool = False) -> str:
    """``color``: statuses in ANSI colours (FAIL red, UNKNOWN yellow, PASS green...), for a terminal only."""
    from backupguard.terminal import paint

    results = results_of(doc)
    shown = [r for r in results if show_passed or r.status in _SHOWN_BY_DEFAULT]
    lines: list[str] = []
    for heading, group in groupby(shown, key=_heading):
        lines.append(heading)
        for r in group:
            status = _status(r)
            cell = paint(f"{status:<7}", status, color)
            waiver = _accepted(r)
            if r.is_live:  # no line to show: the ARN names the resource (none for a whole-scope error)
                name = r.arn or r.resource_id
                resource = f"{p(name)}: " if name else ""
                lines.append(f"  {cell} {p(r.severity):<8} {p(r.rule_id)}  {resource}{p(r.message)}{waiver}")
                continue
            where = f"{r.line}:{r.column}"
            resource = f"{p(r.resource_id)}: " if r.resource_id else ""
            if r.arn:  # a drift result: declared here, and this in the account
                resource = f"{p(r.resource_id or '')} ({p(r.arn)}): "
            lines.append(f"  {where:<8} {cell} {p(r.severity):<8} {p(r.rule_id)}  {resource}{p(r.message)}{waiver}")
        lines.append("")
    for framework in doc.get("frameworks") or []:
        lines.append(f"{p(framework['id'])}: {p(framework['title'])}")
        for control in framework["controls"]:
            tally = ", ".join(f"{n} {p(s)}" for s, n in control["results"].items() if n)
            verdict = paint(f"{p(control['status']).upper():<14}", str(control["status"]), color)
            lines.append(f"  {verdict} {p(control['id'])}  {p(control['title'])}  ({tally or 'no resources'})")
        lines.append("")
    notes = (doc.get("scan") or {}).get("notes") or []
    for note in notes[:MAX_NOTES]:
        lines.append(f"note: {p(note)}")
    if len(notes) > MAX_NOTES:
        lines.append(f"note: ... and {len(notes) - MAX_NOTES} more (the JSON document lists them all)")
    total = counts(results)
    files = len((doc.get("scan") or {}).get("files") or [])
    waived = sum(1 for r in results if r.suppressed)
    scanned = f"{files} {'file' if files == 1 else 'files'} scanned"
    if not files and any(r.is_live for r in results):
        accounts, regions = live_scopes(doc, results)
        scanned = f"{len(accounts)} {'account' if len(accounts) == 1 else 'accounts'}, " \
                  f"{len(regions)} {'Region' if len(regions) == 1 else 'Regions'} scanned"
    inline = sum(1 for r in results if r.suppression and r.suppression.kind == "inline")
    accepted = [f"{waived - inline} waived" if waived - inline else "", f"{inline} suppressed inline" if inline else ""]
    baseline = (doc.get("summary") or {}).get("baseline")
    lines.append(
        f"{scanned}, {len(results)} {'result' if len(results) == 1 else 'results'}: "
        + ", ".join(f"{total[s]} {s}" for s in ("fail", "unknown", "error", "pass"))
        + (f", {total['not_applicable']} not applicable" if total["not_applicable"] else "")
        + (f" ({', '.join(a for a in accepted if a)})" if waived else "")
        + (f"; baseline: {_int(baseline.get('new'))} new, {_int(baseline.get('unchanged'))} unchanged, "
           f"{_int(baseline.get('fixed'))} fixed" if isinstance(baseline, dict) else "")
    )
    return inert_lines("\n".join(lines) + "\n")


def _status(r: Result) -> str:
    """FAIL, UNKNOWN...; a suppressed result is SUPPRESSED (inline) or WAIVED (config waiver)."""
    if r.suppression:
        return "SUPPRESSED" if r.suppression.kind == "inline" else "WAIVED"
    return p(r.status).upper()


def _accepted(r: Result) -> str:
    """Why a result does not fail the run: its suppression (kind, reason, owner, ticket, expiry,
    where it is declared), or its baseline state."""
    parts = []
    s = r.suppression
    if s:
        details = [f"{name} {value}" for name, value in (("owner", s.owner), ("ticket", s.ticket), ("expires", s.expires))
                   if value]
        if s.file:
            details.append(f"at {s.file}{f':{s.line}' if s.line else ''}")
        kind = "inline" if s.kind == "inline" else "waiver"
        parts.append(f"[{kind}: {p(s.reason)}" + (f" ({p(', '.join(details))})" if details else "") + "]")
    if r.baseline == "unchanged":
        parts.append("[baseline: unchanged]")
    elif r.baseline == "new":
        parts.append("[new]")
    return "".join(f" {part}" for part in parts)


def _int(value: Any) -> int:
    return value if type(value) is int else 0
