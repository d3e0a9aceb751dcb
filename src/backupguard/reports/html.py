"""The HTML report: one self-contained page rendered from the JSON result document.

Everything is computed here, server-side, into a plain view model (strings,
numbers, chart geometry) that ``templates/report.html.j2`` lays out:

* no network at view time: one inline style sheet, one small inline script,
  inline SVG charts; a Content-Security-Policy meta tag (``default-src 'none'``)
  allows nothing else: the style sheet and the script apply only because their
  SHA-256 hashes are in the policy (no ``'unsafe-inline'``, no ``style=``);
* the file grows with what it shows, not with the estate: the findings and the
  coverage table are one JSON data block (``<script type="application/json">``,
  never executed) of small integers into one table of distinct strings, which the
  page's script renders a page of rows at a time (failing, unknown and error
  results first; passing and not-applicable ones behind the status filter, listed
  without their message); the summary, the control tables, the rules, notes and
  scan read without JavaScript, and the first :data:`NOSCRIPT_ROWS` findings
  needing attention and resources are also written as HTML for readers without it;
* every value of the document goes through Jinja's autoescaping (on for every
  template, whatever its suffix) or, in the data block, through ``json.dumps`` with
  ``<``, ``>``, ``&`` and U+2028/U+2029 escaped; the script never writes markup (it
  builds elements and sets ``textContent``, ``hidden``, ``className`` and
  ``aria-sort``), so hostile tag values, resource names or messages stay text;
* byte-identical output for the same document (no clock, sorted everything).

Jinja2 is imported only when a report is rendered.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import lru_cache
from typing import Any

from backupguard.reports.printable import inert_markup, printable
from backupguard.results import shipped_rule

DOCS_BASE = "https://github.com/backupguard/backupguard/blob/main/docs/rules/"
TEMPLATE = "report.html.j2"

# Result verdicts (a waived fail or unknown is "waived"), most urgent first.
VERDICTS = ("fail", "unknown", "error", "waived", "pass", "not_applicable")
VERDICT_LABELS = {
    "fail": "Fail", "unknown": "Unknown", "error": "Error", "waived": "Waived",
    "pass": "Pass", "not_applicable": "Not applicable",
}
SEVERITIES = ("critical", "high", "medium", "low", "info")
CONTROL_LABELS = {
    "fail": "Non-compliant", "unknown": "Unknown", "error": "Error", "waived": "Compliant (waived)",
    "pass": "Compliant", "not_applicable": "Needs live evidence", "no_resources": "No resources",
}
CONTROL_ORDER = ("fail", "error", "unknown", "waived", "pass", "not_applicable", "no_resources")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_REFERENCE_LABELS = {
    "audit_manager_control": "Audit Manager",
    "config_rule": "AWS Config",
    "security_hub_control": "Security Hub",
    "other": "Other",
}
ATTENTION = ("fail", "unknown", "error")  # verdicts the findings table shows by default
QUIET = ("pass", "not_applicable")  # verdicts listed without their message (the JSON document has it)
BASELINE_LABELS = {"new": "New", "unchanged": "In baseline"}
BASELINE_ORDER = {"new": 0, "": 1, "unchanged": 2}  # within a verdict: new failures first, baselined last
SUPPRESSION_LABELS = {"inline": "inline suppression", "waiver": "config waiver"}
PAGE_ROWS = 100  # rows per page of the findings and coverage tables in the browser
# The first page of findings needing attention, and of resources, is also written as HTML (read without
# JavaScript). More costs more than it gives: 500 rows doubled the 1,000-resource page and its load time.
NOSCRIPT_ROWS = PAGE_ROWS
# What JSON may not hold inside <script>: markup openers, and the separators old parsers end a line at.
_SCRIPT_SAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def render(doc: dict[str, Any]) -> str:
    """The document as one HTML page (str, ending in a newline).

    Outside the (static, hashed) style and script, no line can start a CI workflow command.
    """
    parts = _RAW_TEXT.split(_template().render(**view(doc)))
    return "".join(part if i % 2 else inert_markup(part) for i, part in enumerate(parts))


_RAW_TEXT = re.compile(r"(<(?:script|style)\b.*?</(?:script|style)>)", re.DOTALL)


@lru_cache(maxsize=1)
def _template():
    import base64
    import hashlib

    from jinja2 import Environment, PackageLoader, StrictUndefined

    def csp_hash(text: Any) -> str:
        digest = hashlib.sha256(str(text).encode("utf-8")).digest()
        return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"

    env = Environment(
        loader=PackageLoader("backupguard.reports", "templates"),
        autoescape=True,  # every template, whatever its suffix (select_autoescape would skip .j2)
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["csp_hash"] = csp_hash
    env.filters["n"] = lambda value: f"{value:,}"  # 129,352 (counts in prose and in the filters' options)
    return env.get_template(TEMPLATE)


# ----------------------------------------------------------------------------- view model


def view(doc: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows, derived from the document alone."""
    results = [r for r in doc.get("results") or [] if isinstance(r, dict)]
    rules = {_text(r.get("id")): r for r in doc.get("rules") or [] if isinstance(r, dict)}
    frameworks = [f for f in doc.get("frameworks") or [] if isinstance(f, dict)]
    scan = doc.get("scan") if isinstance(doc.get("scan"), dict) else {}
    tool = doc.get("tool") if isinstance(doc.get("tool"), dict) else {}
    findings = _findings(results, rules)
    summary = _summary(doc.get("summary"), results, findings)
    inventory = _inventory(doc.get("inventory") or [])
    strings = _Strings()
    data = {"strings": strings.items, "findings": _findings_data(findings.pop("all"), strings),
            "coverage": _coverage_data(inventory.pop("all"), strings)}
    return {
        "title": "AWS Backup compliance report",
        "tool": {"name": _text(tool.get("name") or "backupguard"), "version": _text(tool.get("version"))},
        "schema_version": _text(doc.get("schema_version")),
        "scan": _scan(scan),
        "summary": summary,
        "status_chart": _donut([(v, VERDICT_LABELS[v], findings["by_verdict"][v]) for v in VERDICTS]),
        "severity_chart": _columns([(s, s, summary["failing_by_severity"][s]) for s in SEVERITIES]),
        "frameworks": _frameworks(frameworks, rules),
        "findings": findings,
        "scopes": _scopes(results, findings.pop("verdicts"), scan),
        "inventory": inventory,
        "rules": _rules(rules, frameworks, scan, findings.pop("by_rule_verdict")),
        "notes": [_text(n) for n in scan.get("notes") or []],
        "page_rows": PAGE_ROWS,
        "data": script_json(data),
    }


def script_json(value: Any) -> str:
    """``value`` as compact JSON that is inert inside a ``<script>`` element: no ``<``, ``>`` or ``&``
    (so no ``</script>`` and no ``<!--``), no raw U+2028/U+2029; the same value for ``JSON.parse``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in _SCRIPT_SAFE.items():  # str.replace: a few ms on 4 MB (str.translate takes ~1 s)
        text = text.replace(char, escaped)
    return text


class _Strings:
    """The data block's table of distinct display strings; values are referred to by index (0 is "")."""

    def __init__(self) -> None:
        self.items: list[str] = [""]
        self._index: dict[str, int] = {"": 0}

    def __call__(self, text: str | None) -> int:
        if not text:
            return 0
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.items)
            self.items.append(text)
        return index


def _text(value: Any) -> str:
    """A value as display text ("" for None); containers as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _printable(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@lru_cache(maxsize=1 << 16)
def _printable(text: str) -> str:
    return printable(text)  # the same messages, IDs and files recur over thousands of results


def _number(value: float) -> str:
    """A float without a needless ".0" and without rounding (24.0 -> "24", 1.5 -> "1.5")."""
    return str(int(value)) if math.isfinite(value) and value.is_integer() and abs(value) < 1e15 else repr(value)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def rule_url(rule_id: str, known: dict[str, Any] | set[str]) -> str | None:
    """The docs page of a rule that ran (an ID of plain characters only), else None."""
    return DOCS_BASE + rule_id + ".md" if rule_id in known and _SAFE_ID.match(rule_id) and shipped_rule(rule_id) else None


def _https(url: Any) -> str | None:
    """A rule's or framework's source URL as a link target only when it is a plain https URL."""
    if isinstance(url, str) and url.startswith("https://") and not any(c in url for c in " \"'<>`\\\n\r\t"):
        return url
    return None


def _suppression_of(result: dict[str, Any]) -> dict[str, Any] | None:
    """The suppression covering a result; a 0.1 document's ``waiver`` text counts as a config waiver."""
    suppression = result.get("suppression")
    if isinstance(suppression, dict):
        return suppression
    if suppression:
        return {"kind": "", "reason": suppression}
    if result.get("waiver"):
        return {"kind": "waiver", "reason": result.get("waiver")}
    return None


def _summary(summary: Any, results: list[dict[str, Any]], findings: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers: the document's own summary, with per-status waiver counts and, against a
    baseline, the new, baselined and fixed results."""
    summary = summary if isinstance(summary, dict) else {}
    by_status = summary.get("by_status") if isinstance(summary.get("by_status"), dict) else {}
    failing = summary.get("failing_by_severity") if isinstance(summary.get("failing_by_severity"), dict) else {}
    waived_by_status = Counter(_text(r.get("status")) for r in results if _suppression_of(r))
    cards = [{"key": "results", "cls": "none", "label": "Results", "value": _int(summary.get("results")), "note": ""}]
    for status in ("fail", "unknown", "error", "pass", "not_applicable"):
        waived = waived_by_status.get(status, 0)
        cards.append({"key": status, "cls": status, "label": VERDICT_LABELS[status], "value": _int(by_status.get(status)),
                      "note": f"{waived} waived" if waived else ""})
    cards.append({"key": "waived", "cls": "waived", "label": "Waived", "value": _int(summary.get("waived")),
                  "note": "suppressed inline or by a waiver"})
    baseline = findings["baseline"]
    if baseline["compared"] or "fixed" in summary:
        cards.append({"key": "new", "cls": "new", "label": "New", "value": baseline["new"],
                      "note": "failing, unknown or error; not in the baseline"})
        cards.append({"key": "unchanged", "cls": "base", "label": "In baseline", "value": baseline["unchanged"],
                      "note": "already in the baseline: do not fail the run"})
    if "fixed" in summary:
        cards.append({"key": "fixed", "cls": "pass", "label": "Fixed", "value": _int(summary.get("fixed")),
                      "note": "in the baseline, gone now"})
    return {
        "cards": cards,
        "results": _int(summary.get("results")),
        "failing": sum(_int(v) for v in failing.values()),
        "failing_by_severity": {s: _int(failing.get(s)) for s in SEVERITIES},
        "compared": baseline["compared"],
        "new": baseline["new"],
    }


def _scan(scan: dict[str, Any]) -> dict[str, Any]:
    files = [_text(f) for f in scan.get("files") or []]
    checks = [c for c in scan.get("checks") or [] if isinstance(c, dict)]
    extra = [(_text(k), _text(v)) for k, v in sorted(scan.items(), key=lambda kv: str(kv[0]))
             if k not in ("paths", "files", "region", "account_id", "notes", "checks")]
    return {
        "paths": [_text(p) for p in scan.get("paths") or []],
        "files": files,
        "region": _text(scan.get("region")),
        "account_id": _text(scan.get("account_id")),
        "checks": len(checks),
        "extra": extra,
    }


def _location(file: str, line: int) -> str:
    return (f"{file}:{line}" if line else file) if file else ""


def _live(result: dict[str, Any]) -> bool:
    """A result located in an account and Region, not in a file (see Result.is_live)."""
    return not result.get("file") and any(result.get(k) is not None for k in ("account_id", "region", "arn"))


def _scope_label(account: str, region: str) -> str:
    return f"{account or '?'} · {region or 'global'}"


def _scopes(results: list[dict[str, Any]], verdicts: list[str], scan: dict[str, Any]) -> dict[str, Any]:
    """Live results per account and Region (verdict counts); empty for a template scan."""
    by_scope: dict[tuple[str, str], Counter] = {}
    for result, verdict in zip(results, verdicts):
        if _live(result):
            by_scope.setdefault((_text(result.get("account_id")), _text(result.get("region"))), Counter())[verdict] += 1
    accounts = scan.get("accounts") if isinstance(scan.get("accounts"), list) else sorted({a for a, _ in by_scope if a})
    regions = scan.get("regions") if isinstance(scan.get("regions"), list) else sorted({r for _, r in by_scope if r})
    return {
        "rows": [{"account": a or "?", "region": r or "global", "counts": [c.get(v, 0) for v in VERDICTS],
                  "attention": sum(c.get(v, 0) for v in ("fail", "unknown", "error"))}
                 for (a, r), c in sorted(by_scope.items())],
        "columns": [VERDICT_LABELS[v] for v in VERDICTS],
        "accounts": len(accounts) if by_scope else 0,
        "regions": len(regions) if by_scope else 0,
    }


def _rank(rows: list[dict[str, Any]], key: str) -> None:
    """Each row's position in the order of ``key`` (a tuple), as ``<key>_rank`` for sorting in the page."""
    ranks = {k: i for i, k in enumerate(sorted({row[key] for row in rows}))}
    for row in rows:
        row[f"{key}_rank"] = ranks[row[key]]


def _suppression(result: dict[str, Any]) -> tuple[str, ...]:
    """A result's suppression as display text: (kind, kind label, CSS class, reason, owner, ticket, expires,
    where it is declared); () when none."""
    suppression = _suppression_of(result)
    if suppression is None:
        return ()
    kind = _text(suppression.get("kind"))
    return (kind, SUPPRESSION_LABELS.get(kind, kind or "suppressed"), kind if kind in SUPPRESSION_LABELS else "other",
            _text(suppression.get("reason")), _text(suppression.get("owner")), _text(suppression.get("ticket")),
            _text(suppression.get("expires")), _location(_text(suppression.get("file")), _int(suppression.get("line"))))


def _kind(key: tuple[str, str, str, tuple[str, ...]], rules: dict[str, Any]) -> dict[str, Any]:
    """What many results share: verdict, severity, rule and framework controls, as displayed."""
    verdict, severity, rule_id, tags = key
    return {
        "key": key,
        "verdict": verdict,
        "verdict_label": VERDICT_LABELS.get(verdict, verdict),
        "verdict_cls": verdict if verdict in VERDICTS else "other",
        "verdict_rank": _VERDICT_RANK.get(verdict, len(VERDICTS)),
        "attention": verdict in ATTENTION,
        "severity": severity,
        "severity_rank": _SEVERITY_RANK.get(severity, len(SEVERITIES)),
        "severity_cls": severity if severity in SEVERITIES else "other",
        "rule_id": rule_id,
        "rule_title": _text((rules.get(rule_id) or {}).get("title")),
        "rule_url": rule_url(rule_id, rules),
        "tags": tags,
        "controls": tuple(t.partition(":")[2] or t for t in tags),
    }


def _subject(result: dict[str, Any]) -> dict[str, Any]:
    """Where a result is: resource, element, location (file and line, or account and Region) and ARN."""
    line = _int(result.get("line"))
    if _live(result):  # located by account and Region (the resource column shows the ARN), sorted by them
        account, region, arn = (_text(result.get(k)) for k in ("account_id", "region", "arn"))
        location, location_key = _scope_label(account, region), ("", account, region, arn, line)
    else:
        file = _text(result.get("file"))
        location, location_key = _location(file, line), (file, "", "", "", line)
    return {
        "resource_id": _text(result.get("resource_id")),
        "resource_type": _text(result.get("resource_type")),
        "element": _text(result.get("element")),
        "location": location,
        "location_key": location_key,
        # live results, and drift results (declared in a file, this ARN in the account); IaC results have none
        "arn": _text(result.get("arn")) if result.get("arn") != result.get("resource_id") else "",
    }


def _plain(value: Any) -> Any:
    """A document value as a dict key that equals another only when both display the same: strings,
    integers and None as they are; anything else (1.0, True, a list) tagged with its type."""
    return value if value is None or type(value) in (str, int) else (type(value).__name__, _text(value))


_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def _findings(results: list[dict[str, Any]], rules: dict[str, Any]) -> dict[str, Any]:
    """Every result, most urgent first (verdict, new before baselined, severity, file, line, rule).

    A result is ``(kind, subject, message, suppression, baseline)``: kinds and subjects are shared
    (a 10,000-resource estate has ~50 kinds and ~10,000 subjects for ~130,000 results). ``all`` holds
    every result (for the data block), ``rows`` the first :data:`NOSCRIPT_ROWS` needing attention as
    flat dicts (written as HTML too), ``verdicts`` each input result's verdict, in input order.
    """
    kinds: dict[tuple[Any, ...], dict[str, Any]] = {}  # by what they show
    subjects: dict[tuple[Any, ...], dict[str, Any]] = {}  # by what they show
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}  # the subject of a document value (see _plain)
    tag_lists: dict[tuple[Any, ...], tuple[str, ...]] = {}
    entries, verdicts = [], []
    for result in results:
        suppression = _suppression(result)
        verdict = "waived" if suppression else _text(result.get("status"))
        frameworks = tuple(map(_plain, result.get("frameworks") or ()))
        tags = tag_lists.get(frameworks)
        if tags is None:
            tags = tag_lists[frameworks] = tuple(_text(t) for t in result.get("frameworks") or ())
        key = (verdict, _text(result.get("severity")), _text(result.get("rule_id")), tags)
        kind = kinds.get(key)
        if kind is None:
            kind = kinds[key] = _kind(key, rules)
        get = result.get
        where = tuple(map(_plain, (get("resource_id"), get("resource_type"), get("element"), get("file"), get("line"),
                                   get("account_id"), get("region"), get("arn"))))
        subject = seen.get(where)
        if subject is None:
            shown = _subject(result)
            subject = seen[where] = subjects.setdefault(tuple(v for k, v in shown.items()), shown)
        entries.append((kind, subject, _text(result.get("message")), suppression, _text(result.get("baseline"))))
        verdicts.append(verdict)
    # Total orders, so that the page does not depend on the order of the document's results.
    for rank, subject in enumerate(sorted(subjects.values(), key=lambda s: (
            s["location_key"], s["resource_id"], s["element"], s["resource_type"], s["arn"], s["location"]))):
        subject["rank"] = rank
    _rank(list(subjects.values()), "location_key")
    for rank, kind in enumerate(sorted(kinds.values(), key=lambda k: k["key"])):
        kind["rank"] = rank
    entries.sort(key=lambda e: (e[0]["verdict_rank"], BASELINE_ORDER.get(e[4], 3), e[0]["severity_rank"],
                                e[1]["location_key_rank"], e[0]["rule_id"], e[1]["rank"], e[2], e[0]["rank"], e[3], e[4]))
    per_kind = Counter(e[0]["rank"] for e in entries)
    counted = [(kind, per_kind[kind["rank"]]) for kind in kinds.values() if per_kind[kind["rank"]]]
    by_verdict, by_severity, by_rule = Counter(), Counter(), Counter()
    by_rule_verdict: dict[str, Counter] = {}
    for kind, n in counted:
        by_verdict[kind["verdict"]] += n
        by_severity[kind["severity"]] += n
        by_rule[kind["rule_id"]] += n
        by_rule_verdict.setdefault(kind["rule_id"], Counter())[kind["verdict"]] += n
    by_kind = Counter(e[3][0] for e in entries if e[3])
    by_baseline = Counter(e[4] for e in entries if e[4])
    attention = [e for e in entries if e[0]["attention"]]
    return {
        "all": entries,
        "rows": [_finding_row(e) for e in attention[:NOSCRIPT_ROWS]],
        "verdicts": verdicts,
        "by_rule_verdict": by_rule_verdict,
        "total": len(entries),
        "attention": len(attention),
        "quiet": sum(n for kind, n in counted if kind["verdict"] in QUIET),
        "by_verdict": {v: by_verdict.get(v, 0) for v in VERDICTS},
        "verdict_options": [(v, VERDICT_LABELS.get(v, v), n) for v, n in
                            sorted(by_verdict.items(), key=lambda kv: (_VERDICT_RANK.get(kv[0], 99), kv[0]))],
        "severity_options": [(s, n) for s, n in
                             sorted(by_severity.items(), key=lambda kv: (_SEVERITY_RANK.get(kv[0], 99), kv[0]))],
        "rule_options": sorted(by_rule.items()),
        "suppression_options": [(k, SUPPRESSION_LABELS.get(k, k), n) for k, n in sorted(by_kind.items()) if k],
        "baseline_options": [(b, BASELINE_LABELS.get(b, b), n) for b, n in
                             sorted(by_baseline.items(), key=lambda kv: (BASELINE_ORDER.get(kv[0], 3), kv[0]))],
        "baseline": {
            "compared": bool(by_baseline),
            "new": sum(1 for e in attention if e[4] == "new"),
            "unchanged": sum(1 for e in attention if e[4] == "unchanged"),
        },
    }


def _finding_row(entry: tuple[Any, ...]) -> dict[str, Any]:
    """One result as the template's ``finding_row`` reads it."""
    kind, subject, message, suppression, baseline = entry
    return {
        **kind, **subject,
        "message": message,
        "suppression": suppression,
        "baseline": baseline,
        "baseline_label": BASELINE_LABELS.get(baseline, baseline),
        "baseline_cls": baseline if baseline in BASELINE_LABELS else "other",
    }


def _findings_data(entries: list[tuple[Any, ...]], strings: _Strings) -> dict[str, Any]:
    """The findings as the page's script reads them: small tables of what recurs (rules, kinds: verdict,
    severity, rule and control list; subjects; suppressions; baseline states) and one short array per
    result, ``[kind, subject, message, suppression + 1, baseline + 1]`` (trailing zeros left out;
    indices into those tables and into ``strings``; no message for passing and not-applicable results),
    in the order of the page. Tables are numbered in order of first use, so the same document gives
    the same data."""
    tables: dict[str, list[Any]] = {"rules": [], "kinds": [], "tags": [[]], "subjects": [], "suppressions": [],
                                    "baselines": []}
    index: dict[str, dict[Any, int]] = {name: {} for name in tables}
    index["tags"][()] = 0

    def ref(table: str, key: Any, make) -> int:
        found = index[table].get(key)
        if found is None:
            found = index[table][key] = len(tables[table])
            tables[table].append(make())
        return found

    kind_ids: dict[int, int] = {}  # kind["rank"] -> its index in the data
    subject_ids: dict[int, int] = {}
    out = []
    for kind, subject, message, suppression, baseline in entries:
        k = kind_ids.get(kind["rank"])
        if k is None:
            rule = ref("rules", kind["rule_id"], lambda: [strings(kind["rule_id"]), strings(kind["rule_title"]),
                                                          strings(kind["rule_url"])])
            tags = ref("tags", kind["tags"], lambda: [[strings(t), strings(c)] for t, c in zip(kind["tags"], kind["controls"])])
            k = kind_ids[kind["rank"]] = len(tables["kinds"])
            tables["kinds"].append({
                "v": strings(kind["verdict"]), "l": strings(kind["verdict_label"]), "c": kind["verdict_cls"],
                "vr": kind["verdict_rank"], "a": int(kind["attention"]), "s": strings(kind["severity"]),
                "sc": kind["severity_cls"], "sr": kind["severity_rank"], "r": rule, "t": tags})
        s = subject_ids.get(subject["rank"])
        if s is None:
            s = subject_ids[subject["rank"]] = len(tables["subjects"])
            tables["subjects"].append([strings(subject["resource_id"]), strings(subject["resource_type"]),
                                       strings(subject["element"]), strings(subject["location"]),
                                       subject["location_key_rank"], strings(subject["arn"])])
        row = [k, s, 0 if kind["verdict"] in QUIET else strings(message), 0, 0]
        if suppression:
            row[3] = 1 + ref("suppressions", suppression, lambda: [strings(suppression[0]), strings(suppression[1]),
                                                                   suppression[2]] + [strings(v) for v in suppression[3:]])
        if baseline:
            row[4] = 1 + ref("baselines", baseline, lambda: [strings(baseline), strings(BASELINE_LABELS.get(baseline, baseline)),
                                                             baseline if baseline in BASELINE_LABELS else "other"])
        while len(row) > 2 and not row[-1]:
            row.pop()
        out.append(row)
    return {**tables, "rows": out}


def _frameworks(frameworks: list[dict[str, Any]], rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Per framework: the Audit Manager-style control table and a controls-by-verdict bar."""
    shown = []
    for framework in frameworks:
        fw_id = _text(framework.get("id"))
        controls = []
        for control in framework.get("controls") or []:
            if not isinstance(control, dict):
                continue
            counts = control.get("results") if isinstance(control.get("results"), dict) else {}
            status = _text(control.get("status"))
            compliant, noncompliant = _int(counts.get("pass")), _int(counts.get("fail"))
            unknown = _int(counts.get("unknown")) + _int(counts.get("error"))
            waived, na = _int(counts.get("waived")), _int(counts.get("not_applicable"))
            rule_ids = [_text(r) for r in control.get("rules") or []]
            controls.append({
                "id": _text(control.get("id")),
                "tag": f"{fw_id}:{_text(control.get('id'))}",
                "title": _text(control.get("title")),
                "status": status,
                "cls": _css(status),
                "rank": CONTROL_ORDER.index(status) if status in CONTROL_ORDER else len(CONTROL_ORDER),
                "label": CONTROL_LABELS.get(status, status),
                "compliant": compliant, "noncompliant": noncompliant, "unknown": unknown,
                "waived": waived, "not_applicable": na,
                "bar": _bar([("pass", "compliant", compliant), ("fail", "non-compliant", noncompliant),
                             ("unknown", "unknown or error", unknown), ("waived", "waived", waived),
                             ("not_applicable", "not applicable", na)], width=140, height=12),
                "rules": [{"id": r, "url": rule_url(r, rules), "title": _text((rules.get(r) or {}).get("title"))}
                          for r in rule_ids],
            })
        verdicts = Counter(c["status"] for c in controls)
        order = [s for s in CONTROL_ORDER if verdicts.get(s)] + sorted(s for s in verdicts if s not in CONTROL_ORDER)
        breakdown = [(_css(s), CONTROL_LABELS.get(s, s), verdicts[s]) for s in order]
        shown.append({
            "id": fw_id,
            "title": _text(framework.get("title")),
            "description": _text(framework.get("description")),
            "source_url": _https(framework.get("source_url")),
            "controls": controls,
            "total": len(controls),
            "compliant": verdicts.get("pass", 0) + verdicts.get("waived", 0),
            "noncompliant": verdicts.get("fail", 0),
            "breakdown": breakdown,
            "bar": _bar(breakdown, width=360, height=16),
        })
    return shown


def _css(status: str) -> str:
    """A CSS class suffix for a control verdict."""
    return {"no_resources": "none"}.get(status, status) if status in CONTROL_ORDER else "other"


def _tri(value: Any) -> dict[str, str]:
    """A yes/no/unknown inventory value: label, CSS class, and the reason of an unknown."""
    if value is True:
        return {"label": "yes", "cls": "yes", "reason": ""}
    if value is False:
        return {"label": "no", "cls": "no", "reason": ""}
    if value is None:
        return {"label": "—", "cls": "na", "reason": ""}
    if isinstance(value, dict) and "unknown" in value:
        return {"label": "unknown", "cls": "unk", "reason": _text(value.get("unknown"))}
    return {"label": _text(value), "cls": "unk", "reason": ""}


def _hours(value: Any) -> tuple[str, float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return ("unknown", -1.0) if isinstance(value, dict) else ("—", -1.0)
    if value >= 24 and value % 24 == 0:
        return f"{_number(value / 24)} d", float(value)
    return f"{_number(float(value))} h", float(value)


def _days(value: Any) -> tuple[str, float]:
    if value == "forever":
        return "forever", 1e12
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ("unknown", -1.0) if isinstance(value, dict) else ("—", -1.0)
    if not math.isfinite(value):
        return "—", -1.0
    return f"{_number(float(value))} d", float(value)


def _inventory(rows: list[Any]) -> dict[str, Any]:
    """The coverage table: unprotected resources first, then unknown, then protected.

    ``all`` holds every row (for the data block), ``rows`` the first :data:`NOSCRIPT_ROWS`.
    """
    order = {"no": 0, "unk": 1, "yes": 2, "na": 3}
    shown = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        protected = _tri(row.get("protected"))
        interval, interval_key = _hours(row.get("shortest_interval_hours"))
        retention, retention_key = _days(row.get("longest_retention_days"))
        file, line = _text(row.get("file")), _int(row.get("line"))
        shown.append({
            "resource_id": _text(row.get("resource_id")),
            "resource_type": _text(row.get("resource_type")),
            "service": _text(row.get("service")),
            "arn": _text(row.get("arn")),
            "location": _location(file, line),
            "location_key": (file, line),
            "protected": protected,
            "protected_by": _first_clauses(_text(row.get("protected_by"))),
            "plans": [_text(p) for p in row.get("plans") or []],
            "interval": interval, "interval_key": _number(interval_key),
            "retention": retention, "retention_key": _number(retention_key),
            "copy_regions": [_text(r) for r in row.get("copy_regions") or []],
            "copy_accounts": [_text(a) for a in row.get("copy_accounts") or []],
            "cross_region": _tri(row.get("cross_region_copy")),
            "cross_account": _tri(row.get("cross_account_copy")),
            "locked": _tri(row.get("locked_vault")),
            "air_gapped": _tri(row.get("air_gapped")),
        })
    tris = ("protected", "cross_region", "cross_account", "locked", "air_gapped")
    shown.sort(key=lambda r: (order.get(r["protected"]["cls"], 9), r["location_key"], r["resource_id"],
                              r["resource_type"], r["service"], r["arn"], r["protected_by"], r["plans"], r["interval"],
                              r["interval_key"], r["retention"], r["retention_key"], r["copy_regions"],
                              r["copy_accounts"], [tuple(r[t].values()) for t in tris]))
    _rank(shown, "location_key")
    protection = Counter(r["protected"]["cls"] for r in shown)
    stats = [
        ("with cross-Region copies", sum(1 for r in shown if r["cross_region"]["cls"] == "yes")),
        ("with cross-account copies", sum(1 for r in shown if r["cross_account"]["cls"] == "yes")),
        ("backed up to a locked vault", sum(1 for r in shown if r["locked"]["cls"] == "yes")),
        ("copied to an air-gapped vault", sum(1 for r in shown if r["air_gapped"]["cls"] == "yes")),
    ]
    return {
        "all": shown,
        "rows": shown[:NOSCRIPT_ROWS],
        "total": len(shown),
        "protected": protection.get("yes", 0),
        "unprotected": protection.get("no", 0),
        "unknown": protection.get("unk", 0),
        "stats": stats,
        "bar": _bar([("pass", "protected", protection.get("yes", 0)), ("fail", "not protected", protection.get("no", 0)),
                     ("unknown", "unknown", protection.get("unk", 0))], width=360, height=16),
    }


_TRI_ORDER = {"no": 0, "unk": 1, "yes": 2, "na": 3}
PROTECTED_BY_CLAUSES = 3  # "protected by" shows this many plans; the Plans column names them all


_COUNTED = re.compile(r"and (\d+) more")


def _first_clauses(text: str, keep: int = PROTECTED_BY_CLAUSES) -> str:
    """The first ``keep`` of the "; "-separated clauses of ``text`` and how many more there are: a
    resource selected by 125 plans would otherwise carry 10 kB of text into one table cell. The resolver
    bounds it the same way (builders.plans_in_brief): a last clause ``and 122 more`` counts 122 clauses."""
    clauses = text.split("; ")
    counted = _COUNTED.fullmatch(clauses[-1]) if len(clauses) > 1 else None
    if counted:
        clauses = clauses[:-1]
    if len(clauses) <= keep:
        return text
    more = len(clauses) - keep + (int(counted.group(1)) if counted else 0)
    return "; ".join(clauses[:keep]) + f"; and {more} more"


def _coverage_data(rows: list[dict[str, Any]], strings: _Strings) -> dict[str, Any]:
    """The coverage table as the page's script reads it: yes/no/unknown values once in ``tris``
    (label, CSS class, reason, sort rank) and one array per resource, in the order of the page:
    ``[resource, type, ARN, location, location rank, protected, protected by, plans, interval,
    interval key, retention, retention key, copy Regions, copy accounts, cross-Region, cross-account,
    locked, air-gapped]``."""
    tris: list[list[Any]] = []
    tri_index: dict[tuple[str, str, str], int] = {}

    def tri(value: dict[str, str]) -> int:
        key = (value["label"], value["cls"], value["reason"])
        found = tri_index.get(key)
        if found is None:
            found = tri_index[key] = len(tris)
            tris.append([strings(key[0]), key[1], strings(key[2]), _TRI_ORDER.get(key[1], 9)])
        return found

    out = []
    for r in rows:
        out.append([
            strings(r["resource_id"]), strings(r["resource_type"]), strings(r["arn"]), strings(r["location"]),
            r["location_key_rank"], tri(r["protected"]), strings(r["protected_by"]), strings(", ".join(r["plans"])),
            strings(r["interval"]), _json_number(r["interval_key"]), strings(r["retention"]),
            _json_number(r["retention_key"]), strings(", ".join(r["copy_regions"])),
            strings(", ".join(r["copy_accounts"])), tri(r["cross_region"]), tri(r["cross_account"]), tri(r["locked"]),
            tri(r["air_gapped"]),
        ])
    return {"tris": tris, "rows": out}


def _json_number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def _references(references: Any) -> list[tuple[str, str]]:
    if not isinstance(references, dict):
        return []
    shown = []
    for key in sorted(references, key=str):
        value = references[key]
        values = value if isinstance(value, list) else [value]
        label = _REFERENCE_LABELS.get(key, _text(key))
        shown.extend((label, _text(v)) for v in values if v not in (None, ""))
    return shown


def _rules(rules: dict[str, Any], frameworks: list[dict[str, Any]], scan: dict[str, Any],
           counts: dict[str, Counter]) -> list[dict[str, Any]]:
    """The rules that ran: metadata, references, parameters, controls and result counts."""
    controls: dict[str, list[tuple[str, str]]] = {}  # rule -> (framework, control)
    for framework in frameworks:
        for control in framework.get("controls") or []:
            if isinstance(control, dict):
                for rule_id in control.get("rules") or []:
                    controls.setdefault(_text(rule_id), []).append((_text(framework.get("id")), _text(control.get("id"))))
    parameters: dict[str, list[list[str]]] = {}  # rule -> one list of NAME=VALUE per distinct check
    for check in scan.get("checks") or []:
        if isinstance(check, dict) and isinstance(check.get("parameters"), dict) and check["parameters"]:
            pairs = [f"{_text(k)}={_text(v)}" for k, v in sorted(check["parameters"].items(), key=lambda kv: str(kv[0]))]
            shown = parameters.setdefault(_text(check.get("rule_id")), [])
            if pairs not in shown:
                shown.append(pairs)
    shown = []
    for rule_id in sorted(rules):
        rule = rules[rule_id]
        tally = counts.get(rule_id, Counter())
        shown.append({
            "id": rule_id,
            "url": rule_url(rule_id, rules),
            "title": _text(rule.get("title")),
            "severity": _text(rule.get("severity")),
            "severity_cls": _text(rule.get("severity")) if rule.get("severity") in SEVERITIES else "other",
            "evidence": _text(rule.get("evidence")),
            "source_url": _https(rule.get("source_url")),
            "source_text": _text(rule.get("source_url")),
            "references": _references(rule.get("references")),
            "parameters": parameters.get(rule_id, []),
            "controls": sorted(controls.get(rule_id, [])),
            "counts": [(v, VERDICT_LABELS[v], tally.get(v, 0)) for v in VERDICTS if tally.get(v)],
            "total": sum(tally.values()),
        })
    return shown


# ----------------------------------------------------------------------------- charts (geometry only)


def _bar(parts: list[tuple[str, str, int]], *, width: int, height: int) -> dict[str, Any]:
    """A horizontal stacked bar: one rect per non-zero part (class, label, count, x, width)."""
    total = sum(n for _, _, n in parts)
    segments, x = [], 0.0
    for cls, label, count in parts:
        if count <= 0 or total <= 0:
            continue
        w = width * count / total
        segments.append({"cls": cls, "label": label, "count": count, "x": f"{x:.2f}", "w": f"{w:.2f}",
                         "pct": f"{100 * count / total:.1f}"})
        x += w
    return {"width": width, "height": height, "total": total, "segments": segments,
            "summary": ", ".join(f"{s['count']} {s['label']}" for s in segments) or "none"}


def _donut(parts: list[tuple[str, str, int]]) -> dict[str, Any]:
    """A donut on a circle of circumference 100: each arc's dash length is its percentage."""
    total = sum(n for _, _, n in parts)
    arcs, start = [], 0.0
    for cls, label, count in parts:
        if count <= 0:
            continue
        pct = 100 * count / total
        arcs.append({"cls": cls, "label": label, "count": count, "pct": f"{pct:.1f}",
                     "dash": f"{pct:.3f} {100 - pct:.3f}", "offset": f"{(25 - start) % 100:.3f}"})
        start += pct
    legend = [{"cls": cls, "label": label, "count": count} for cls, label, count in parts]
    return {"total": total, "arcs": arcs, "legend": legend,
            "summary": ", ".join(f"{a['count']} {a['label'].lower()}" for a in arcs) or "no results"}


def _columns(parts: list[tuple[str, str, int]], *, width: int = 230, height: int = 120) -> dict[str, Any]:
    """A vertical bar chart with a label and a count per bar."""
    top = max([n for _, _, n in parts] + [1])
    slot = width / max(len(parts), 1)
    plot = height - 34  # room for the count above and the label below
    bars = []
    for i, (cls, label, count) in enumerate(parts):
        h = plot * count / top
        x = i * slot + slot * 0.18
        bars.append({"cls": cls, "label": label, "count": count, "x": f"{x:.2f}", "w": f"{slot * 0.64:.2f}",
                     "y": f"{height - 18 - h:.2f}", "h": f"{h:.2f}", "cx": f"{i * slot + slot / 2:.2f}",
                     "ty": f"{height - 22 - h:.2f}"})
    return {"width": width, "height": height, "bars": bars, "base": height - 18, "label_y": height - 4,
            "summary": ", ".join(f"{b['count']} {b['label']}" for b in bars)}
