"""A compact Markdown summary for a GitHub job summary ($GITHUB_STEP_SUMMARY) or a PR comment.

Sections, each only when it has something to say:

1. Headline: ``### <icon> backupguard: F fail · U unknown · E error · P pass · W waived``
   (counts by verdict: a waived failure or unknown counts as waived only, so
   the five numbers plus "not applicable" add up to the results), then one
   line with results, files, not-applicable results, account and Region.
2. Frameworks (when the document has selected frameworks): per framework, a
   table of its controls with their verdict and result counts.
3. Accounts and Regions (live results only): results per verdict per account and Region.
4. Findings: failing (not waived, not unchanged since the ``--baseline``) and
   error results, most severe first, at
   most ``MAX_FINDINGS`` rows (severity, rule, resource, file:line or, for a
   live result, account / Region with the ARN as resource, message;
   identical rows once, with "(×N)"), then "... and N more".
   Suppressed: the suppressed results (rule, resource, location, inline or
   waiver, reason), at most ``MAX_FINDINGS`` rows.
5. Unknown: how many results could not be decided and the most common
   reasons (the ``{"unknown": reason}`` values behind them).
6. Notes of the scan, at most ``MAX_NOTES``.

Everything that comes from the scanned files (resource IDs, paths, messages,
notes) goes through :func:`escape`: ``\\ ` * _ [ ] | ~ # $`` are
backslash-escaped (``|`` would end a table cell, ``$`` starts GitHub math),
``& < >`` become entities (no raw HTML reaches the page), line breaks become
spaces, other control, separator, bidi and surrogate characters are dropped
(:data:`backupguard.reports.printable.UNSAFE`), no line starts a CI workflow command, a leading list marker is escaped,
and an ``@`` that would mention a user or team gets a zero-width space after
it. The output stays well within a PR comment's 65,536 characters: messages
are cut at ``MAX_MESSAGE`` characters and tables are bounded.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterable

from backupguard.reports import verdict
from backupguard.reports.json_report import results_of
from backupguard.reports.printable import UNSAFE, inert_lines
from backupguard.results import SEVERITIES, Result, severity_rank

MAX_FINDINGS = 50
MAX_REASONS = 5
MAX_NOTES = 10
MAX_MESSAGE = 240

_BREAK = re.compile(r"\s*[\r\n\t]+\s*")
_PUNCT = re.compile(r"([\\`*_\[\]|~#$])")
_MENTION = re.compile(r"(?<![\w.+-])@(?=[\w-])")
_ORDERED = re.compile(r"^(\d{1,9})([.)])")

_ICON = {
    "fail": "❌ fail",
    "unknown": "⚠️ unknown",
    "error": "⛔ error",
    "waived": "➖ waived",
    "pass": "✅ pass",
    "not_applicable": "➖ not applicable",
    "no_resources": "➖ no resources",
}
_HEADLINE = ("fail", "unknown", "error", "pass", "waived")


def escape(text: Any, limit: int | None = None) -> str:
    """``text`` as inert Markdown inline text, safe in a table cell (see the module doc)."""
    value = UNSAFE.sub("", _BREAK.sub(" ", "" if text is None else str(text))).strip()
    if limit is not None and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    value = _PUNCT.sub(r"\\\1", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MENTION.sub("@\u200b", value)
    if value[:1] in ("-", "+"):
        value = "\\" + value
    return _ORDERED.sub(r"\1\\\2", value)


def tally(results: Iterable[Result]) -> dict[str, int]:
    """Results per verdict (fail, unknown, error, pass, waived, not_applicable)."""
    found = Counter(verdict(r) for r in results)
    return {status: found.get(status, 0) for status in (*_HEADLINE, "not_applicable")}


def headline(counts: dict[str, int]) -> str:
    icon = "❌" if counts["fail"] or counts["error"] else "⚠️" if counts["unknown"] else "✅"
    return f"### {icon} backupguard: " + " · ".join(f"{counts[s]} {s}" for s in _HEADLINE)


def _table(header: tuple[str, ...], align: tuple[str, ...], rows: Iterable[Iterable[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _frameworks(frameworks: list[dict[str, Any]]) -> list[str]:
    lines = ["#### Frameworks", ""]
    columns = ("fail", "unknown", "error", "pass", "waived", "not_applicable")
    for framework in frameworks:
        verdicts = Counter(c.get("status") for c in framework.get("controls") or [])
        tallied = ", ".join(f"{n} {escape(str(s).replace('_', ' '))}" for s, n in sorted(verdicts.items()))
        lines.append(f"**{escape(framework.get('id'))}**: {escape(framework.get('title'))} ({tallied or 'no controls'})")
        lines.append("")
        rows = []
        for control in framework.get("controls") or []:
            counts = control.get("results") or {}
            title = escape(control.get("id")) + (f": {escape(control.get('title'))}" if control.get("title") else "")
            status = control.get("status") or "no_resources"
            rows.append([title, _ICON.get(status, escape(status)), *(str(counts.get(c, 0)) for c in columns)])
        lines.extend(_table(("Control", "Status", "Fail", "Unknown", "Error", "Pass", "Waived", "N/A"),
                            ("---", "---", *("---:",) * 6), rows))
        lines.append("")
    return lines


def _findings(results: list[Result]) -> list[str]:
    found = [r for r in results if verdict(r) in ("fail", "error") and r.baseline != "unchanged"]
    if not found:
        return []
    # Most severe first, errors before failures of the same severity, then document order;
    # identical rows (a file linted in several scenarios) are shown once with their count.
    ordered = sorted(found, key=lambda r: (-severity_rank(r.severity) if r.severity in SEVERITIES else 0,
                                           r.status != "error"))
    rows: dict[tuple[Any, ...], int] = {}
    for r in ordered:
        # A live result is located by account and Region (its resource is its ARN), not "(no file):1".
        where = f"{r.account_id or '?'} / {r.region or 'global'}" if r.is_live else f"{r.file or '(no file)'}:{r.line}"
        key = (r.severity, r.status, r.rule_id, (r.arn or r.resource_id) if r.is_live else r.resource_id, where, r.message)
        rows[key] = rows.get(key, 0) + 1
    shown = list(rows.items())[:MAX_FINDINGS]
    cells = (
        [
            escape(severity) + (" (error)" if status == "error" else ""),
            escape(rule_id),
            escape(resource_id) if resource_id else "–",
            escape(where),
            escape(message, MAX_MESSAGE) + (f" (×{n})" if n > 1 else ""),
        ]
        for (severity, status, rule_id, resource_id, where, message), n in shown
    )
    lines = [f"#### Findings ({len(found)})", ""]
    lines.extend(_table(("Severity", "Rule", "Resource", "Location", "Message"), ("---",) * 5, cells))
    hidden = len(found) - sum(n for _, n in shown)
    if hidden:
        lines.extend(["", f"… and {hidden} more (the JSON, SARIF and text reports list them all)."])
    lines.append("")
    return lines


def _suppressed(results: list[Result]) -> list[str]:
    found = [r for r in results if r.suppression]
    if not found:
        return []
    rows = (
        [escape(r.rule_id), escape(r.resource_id) if r.resource_id else "–",
         escape(f"{r.account_id or '?'} / {r.region or 'global'}" if r.is_live else f"{r.file or '(no file)'}:{r.line}"),
         "inline" if r.suppression.kind == "inline" else "waiver", escape(r.suppression.reason, MAX_MESSAGE)]
        for r in found[:MAX_FINDINGS]
    )
    lines = [f"#### Suppressed ({len(found)})", ""]
    lines.extend(_table(("Rule", "Resource", "Location", "Kind", "Reason"), ("---",) * 5, rows))
    if len(found) > MAX_FINDINGS:
        lines.extend(["", f"… and {len(found) - MAX_FINDINGS} more."])
    lines.append("")
    return lines


def _scopes(results: list[Result]) -> list[str]:
    """Live results per account and Region (verdict counts), when there are live results."""
    by_scope: dict[tuple[str, str], Counter] = {}
    for r in results:
        if r.is_live:
            by_scope.setdefault(r.scope(), Counter())[verdict(r)] += 1
    if not by_scope:
        return []
    lines = ["#### Accounts and Regions", ""]
    columns = ("fail", "unknown", "error", "pass", "waived", "not_applicable")
    lines.extend(_table(("Account", "Region", "Fail", "Unknown", "Error", "Pass", "Waived", "N/A"),
                        ("---", "---", *("---:",) * 6),
                        ([escape(account) or "?", escape(region) or "global", *(str(found.get(c, 0)) for c in columns)]
                         for (account, region), found in sorted(by_scope.items()))))
    lines.append("")
    return lines


def _reasons(value: Any, found: list[str]) -> None:
    """The reasons of every ``{"unknown": reason}`` inside a result's values, in order."""
    if isinstance(value, dict):
        if set(value) == {"unknown"} and isinstance(value["unknown"], str):
            found.append(value["unknown"])
            return
        for item in value.values():
            _reasons(item, found)
    elif isinstance(value, list):
        for item in value:
            _reasons(item, found)


def unknown_reasons(results: Iterable[Result]) -> list[tuple[str, int]]:
    """Why results are unknown: each distinct reason counted once per result, most common first."""
    counts: Counter[str] = Counter()
    for result in results:
        found: list[str] = []
        _reasons(result.values, found)
        if not found:
            found = [result.message.removeprefix("Cannot decide: ")]
        counts.update(set(found))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _unknown(results: list[Result]) -> list[str]:
    unknown = [r for r in results if verdict(r) == "unknown"]
    if not unknown:
        return []
    reasons = unknown_reasons(unknown)
    lines = [f"#### Unknown ({len(unknown)})", "",
             "Results the templates cannot decide (a value only known at deploy time, a module not followed...). "
             "Most common reasons:", ""]
    lines.extend(_table(("Results", "Reason"), ("---:", "---"),
                        ([str(n), escape(reason, MAX_MESSAGE)] for reason, n in reasons[:MAX_REASONS])))
    if len(reasons) > MAX_REASONS:
        lines.extend(["", f"… and {len(reasons) - MAX_REASONS} other reasons."])
    lines.append("")
    return lines


def _notes(notes: list[str]) -> list[str]:
    if not notes:
        return []
    lines = ["#### Notes", ""]
    lines.extend(f"- {escape(note, MAX_MESSAGE)}" for note in notes[:MAX_NOTES])
    if len(notes) > MAX_NOTES:
        lines.append(f"- … and {len(notes) - MAX_NOTES} more (the JSON document lists them all)")
    lines.append("")
    return lines


def render(doc: dict[str, Any]) -> str:
    results = results_of(doc)
    scan = doc.get("scan") or {}
    counts = tally(results)
    files = len(scan.get("files") or [])
    facts = [f"{len(results)} {'result' if len(results) == 1 else 'results'} in {files} {'file' if files == 1 else 'files'}"]
    if counts["not_applicable"]:
        facts.append(f"{counts['not_applicable']} not applicable (need live evidence)")
    if scan.get("account_id"):
        facts.append(f"account {escape(scan['account_id'])}")
    if scan.get("region"):
        facts.append(f"Region {escape(scan['region'])}")
    if not files and any(r.is_live for r in results):
        from backupguard.reports.text import live_scopes

        accounts, regions = live_scopes(doc, results)
        facts[0] = f"{len(results)} {'result' if len(results) == 1 else 'results'}"
        facts.append(f"{len(accounts)} {'account' if len(accounts) == 1 else 'accounts'} × "
                     f"{len(regions)} {'Region' if len(regions) == 1 else 'Regions'}")
    baseline = (doc.get("summary") or {}).get("baseline")
    if isinstance(baseline, dict):
        facts.append("baseline: " + ", ".join(f"{baseline.get(k) if type(baseline.get(k)) is int else 0} {k}"
                                               for k in ("new", "unchanged", "fixed")))
    lines = [headline(counts), "", " · ".join(facts), ""]
    if doc.get("frameworks"):
        lines.extend(_frameworks(doc["frameworks"]))
    lines.extend(_scopes(results))
    lines.extend(_findings(results))
    lines.extend(_suppressed(results))
    lines.extend(_unknown(results))
    lines.extend(_notes(list(scan.get("notes") or [])))
    return inert_lines("\n".join(lines).rstrip("\n") + "\n")
