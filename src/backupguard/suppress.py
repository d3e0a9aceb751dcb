"""Accepting findings, in one place: inline suppressions, config waivers and the baseline.

    results -> inline suppressions -> waivers -> findings about them (BG001-BG003) -> baseline

* An **inline suppression** (CloudFormation ``Metadata``, a Terraform comment; read by the
  sources into ``Estate.suppressions``) covers the failing and unknown results of its rules on its
  resource. It needs a reason and must name a rule: otherwise it is not honoured and a ``BG001``
  error says why. Checkov's shapes name the rules whose ``references.other`` cite the check; one
  that names none of ours is Checkov's business and ignored, and one without a reason (optional in
  Checkov) is not honoured, with a note rather than an error.
* A **waiver** (the config's ``waivers``) covers the failing and unknown results its rule and
  globs match, until its ``expires`` date: after it, it waives nothing and is a ``BG002`` finding.
* A waiver or inline suppression (backupguard's own) whose rules ran but that covers nothing is a
  ``BG003`` finding: stale. One whose rules did not run (``--check``, a framework) is not judged.
* Against a **baseline**, a failing or unknown result that nothing suppresses is ``unchanged``
  when its fingerprint is in it (it no longer fails the run) and ``new`` otherwise (a suppressed
  one has no baseline state: its suppression accepts it, and the baseline never holds it, so it
  is ``new`` when the suppression expires or goes); baseline findings of rules that ran, in files
  (or accounts) that were read, that no failing or unknown result has any more are *fixed*.

Inline suppressions are tried first (they sit next to the code), then waivers; the first that
covers a result is its ``suppression``. Expiry is judged against :func:`today`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from backupguard.estate import InlineSuppression
from backupguard.results import (
    EXPIRED_WAIVER_RULE, INVALID_SUPPRESSION_RULE, STALE_SUPPRESSION_RULE, Result, Suppression, fingerprint,
)
from backupguard.rules import Rule, patterns
from backupguard.waivers import Waiver

TODAY_VARIABLE = "BACKUPGUARD_TODAY"
_SUPPRESSIBLE = ("fail", "unknown")
_DOCS = "https://github.com/backupguard/backupguard/blob/main/docs/suppressions.md"

# The findings about suppressions, described as the catalogue's rules are (JSON ``rules``, SARIF
# rule help, JUnit suite names, docs/rules/BG00N.md).
META_RULES: dict[str, dict[str, Any]] = {
    INVALID_SUPPRESSION_RULE: {
        "id": INVALID_SUPPRESSION_RULE,
        "name": "invalid-suppression",
        "title": "An inline suppression cannot be honoured",
        "severity": "high",
        "summary": (
            "Reported where a CloudFormation `Metadata` entry or a Terraform comment asks backupguard to skip "
            "a rule but gives no reason, names no rule that exists (the message names the closest one), or is "
            "not on or inside a resource, data or module block. It is not honoured: the finding it meant to "
            "suppress still counts. An error, so the run exits 2 until it is fixed."
        ),
        "rationale": (
            "A suppression accepts a risk on someone's behalf: without a reason nobody can review it later, "
            "and a misspelt rule ID would silence nothing while looking as if it did."
        ),
        "remediation": (
            "Write the reason after the rule (`# backupguard:skip=BG201 Encrypted with aws/backup until the "
            "2027 migration`, `reason:` in `Metadata: backupguard: skip:`, Checkov's `comment:` or "
            "`#checkov:skip=CKV_AWS_166:reason`), correct the rule the message names, or move the comment "
            "onto the lines just above the block, or inside it."
        ),
        "examples": {
            "fail": 'resource "aws_backup_vault" "legacy" {\n  # backupguard:skip=BG201\n  name = "legacy"\n}\n',
            "pass": ('resource "aws_backup_vault" "legacy" {\n  # backupguard:skip=BG201 Encrypted with aws/backup '
                     'until the 2027 migration (OPS-123)\n  name = "legacy"\n}\n'),
        },
    },
    EXPIRED_WAIVER_RULE: {
        "id": EXPIRED_WAIVER_RULE,
        "name": "expired-waiver",
        "title": "A waiver in the config file has expired",
        "severity": "low",
        "summary": (
            "Reported at a waiver of the config file whose `expires` date has passed: it waived through that "
            "day (UTC), and from the next day it waives nothing, so the findings it covered fail again. Today "
            "is the current UTC date, or the date in the BACKUPGUARD_TODAY environment variable "
            "(YYYY-MM-DD). Not judged when none of the waiver's rules ran."
        ),
        "rationale": (
            "A waiver is a time-boxed acceptance of a risk. When the time is up, the acceptance must be "
            "reviewed and renewed, or the problem fixed, not forgotten."
        ),
        "remediation": (
            "Fix the findings and remove the waiver; or, when the risk is still accepted after review, give "
            "the waiver a new `expires` date (and its `owner` and `ticket`)."
        ),
        "examples": {
            "fail": ("waivers:\n  - rule: BG201\n    resource: LegacyVault\n    reason: Encrypted with aws/backup "
                     "until the migration\n    expires: 2024-06-30\n"),
            "pass": ("waivers:\n  - rule: BG201\n    resource: LegacyVault\n    reason: Encrypted with aws/backup "
                     "until the migration\n    owner: storage-team\n    ticket: OPS-123\n    expires: 2027-06-30\n"),
        },
    },
    STALE_SUPPRESSION_RULE: {
        "id": STALE_SUPPRESSION_RULE,
        "name": "stale-suppression",
        "title": "A waiver or inline suppression matches no finding",
        "severity": "info",
        "summary": (
            "Reported at a waiver, or at an inline suppression in backupguard's own shape, whose rules ran "
            "but that covers no failing or unknown result: the finding was fixed, the resource renamed or "
            "removed, or its rule or globs are wrong. Not judged when none of its rules ran (--check, "
            "--skip-check, frameworks). Checkov's shapes are never reported as stale: Checkov may still "
            "need them."
        ),
        "rationale": (
            "Suppressions that no longer suppress anything pile up, and one day silence a new finding that "
            "nobody reviewed."
        ),
        "remediation": (
            "Remove the waiver or the suppression, or correct its rule, resource, file, account, region or "
            "arn so that it names the finding it is meant for."
        ),
        "examples": {
            "fail": ('# backupguard:skip=BG201 Legacy key until the migration\nresource "aws_backup_vault" "main" {\n'
                     '  name        = "main"\n  kms_key_arn = aws_kms_key.backup.arn   # a customer-managed key: '
                     'BG201 passes\n}\n'),
            "pass": 'resource "aws_backup_vault" "main" {\n  name        = "main"\n  kms_key_arn = aws_kms_key.backup.arn\n}\n',
        },
    },
}
# The status of each one's findings: BG001 is an error (the run exits 2), the others findings.
META_STATUS = {INVALID_SUPPRESSION_RULE: "error", EXPIRED_WAIVER_RULE: "fail", STALE_SUPPRESSION_RULE: "fail"}
for _meta in META_RULES.values():
    _meta.update({"subject": "suppression", "source_url": _DOCS, "known_limits": None, "evidence": "any",
                  "references": {}, "parameters": {}})


class TodayError(ValueError):
    """BACKUPGUARD_TODAY is not a date."""


def today(environ: Mapping[str, str] = os.environ) -> date:
    """The date expiry is judged against: ``BACKUPGUARD_TODAY`` (YYYY-MM-DD) when set, so that
    tests and reproducible runs are deterministic; else today's date in UTC."""
    value = environ.get(TODAY_VARIABLE, "").strip()
    if not value:
        return datetime.now(timezone.utc).date()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise TodayError(f"{TODAY_VARIABLE}={value!r}: expected a date YYYY-MM-DD")


@dataclass
class _Inline:
    """An honoured inline suppression: what it says, which rules it names, and whether it covered anything."""

    source: InlineSuppression
    file: str | None  # as results show it
    rules: frozenset[str]
    used: bool = False

    def covers(self, result: Result) -> bool:
        if result.rule_id not in self.rules or result.file != self.file or result.status not in _SUPPRESSIBLE:
            return False
        lines = self.source.lines
        if lines is not None:
            return lines[0] <= result.line <= lines[1]
        return result.resource_id == self.source.resource

    def suppression(self) -> Suppression:
        return Suppression("inline", self.source.reason or "", file=self.file, line=self.source.origin.line)


@dataclass
class _Waiver:
    waiver: Waiver
    rules: frozenset[str]
    expired: bool
    matched: int = 0


@dataclass(frozen=True)
class Accepted:
    """The results with suppressions, meta findings and baseline states, and the baseline's fixed findings."""

    results: list[Result]
    fixed: list[Any]  # baseline.Entry
    notes: list[str] = field(default_factory=list)  # suppressions of other tools that are not honoured


def apply(
    results: list[Result],
    inline: Iterable[InlineSuppression],
    waivers: Iterable[Waiver],
    rules: Mapping[str, Rule],
    ran: set[str],
    on: date,
    baseline: Any = None,  # baseline.Baseline
    show: Callable[[str | None], str | None] = lambda name: name,
    files: Iterable[str] = (),
) -> Accepted:
    """Every suppression and the baseline applied to ``results`` (whose files are shown names).

    ``rules`` is the catalogue (patterns name its rules), ``ran`` the rules of this run, ``on`` the
    day expiry is judged against, ``show`` maps the sources' file names to shown ones, ``files``
    are the files read (shown), for counting fixed baseline findings."""
    meta: list[Result] = []
    notes: list[str] = []
    honoured = _inline(inline, rules, show, meta, notes)
    judged = [_Waiver(w, frozenset(patterns.matching(w.rule, rules)), w.expired(on)) for w in waivers]
    by_file: dict[str | None, list[_Inline]] = {}
    for item in honoured:
        by_file.setdefault(item.file, []).append(item)
    by_rule: dict[str, list[_Waiver]] = {}  # a result meets only its rule's waivers, in config order
    for entry in judged:
        for rule_id in entry.rules:
            by_rule.setdefault(rule_id, []).append(entry)
    out = []
    for result in results:
        if result.status in _SUPPRESSIBLE:
            suppression = None
            for item in by_file.get(result.file, ()):
                if item.covers(result):
                    item.used = True
                    suppression = suppression or item.suppression()
            for entry in by_rule.get(result.rule_id, ()):
                if entry.waiver.covers(result):
                    entry.matched += 1
                    if not entry.expired:
                        suppression = suppression or entry.waiver.suppression()
            if suppression is not None:
                result = replace(result, suppression=suppression)
        out.append(result)
    meta += _waiver_findings(judged, ran)
    meta += [_stale_inline(item, show) for item in honoured
             if not item.used and item.source.tool is None and item.rules & ran]
    out = sorted(out + _numbered(meta), key=Result.sort_key)
    if baseline is None:
        return Accepted(out, [], notes)
    return replace(_compare(out, baseline, ran, set(files)), notes=notes)


def _inline(found: Iterable[InlineSuppression], rules: Mapping[str, Rule], show: Callable, meta: list[Result],
            notes: list[str]) -> list[_Inline]:
    """The inline suppressions that can be honoured; a ``BG001`` error for each of ours that cannot.

    Another tool's skip without a reason (Checkov makes its comment optional) is not honoured
    either, but it is that tool's syntax, valid there: a note says so instead of an error that
    would break the build of a repository adopting backupguard."""
    foreign: dict[str, dict[str, list[str]]] = {}
    honoured = []
    seen = set()
    for item in found:
        key = (item.origin.file, item.origin.line, item.origin.column, item.rule, item.tool, item.resource)
        if key in seen:  # a module file read for two roots, a plan beside its configuration
            continue
        seen.add(key)
        if item.tool is not None:
            names = foreign.setdefault(item.tool, patterns.foreign_rules(rules, item.tool))
            targets = names.get(item.rule.upper(), [])
            if not targets:
                continue  # another tool's check that no rule of ours cites: its business
        else:
            targets = patterns.matching(item.rule, rules) if item.rule else []
        problem = item.problem
        if problem is None and not targets:
            problem = f"the suppression names no rule: {patterns.unknown(item.rule, rules)}"
        if problem is None and not item.reason and item.tool is not None:
            notes.append(f"{show(item.origin.file)}:{item.origin.line}: {item.tool}'s skip of {item.rule} gives no reason, "
                         f"so it does not suppress backupguard's {', '.join(sorted(targets))} (give it one: "
                         "Checkov's comment)")
            continue
        if problem is None and not item.reason:
            shape = {"checkov": "Checkov's comment"}.get(item.tool or "", "after the rule, or 'reason:' in Metadata")
            problem = f"the suppression of {item.rule} gives no reason ({shape}): it is not honoured"
        if problem is not None:
            meta.append(_finding(INVALID_SUPPRESSION_RULE, problem, item, show, {"rule": item.rule or None}))
            continue
        honoured.append(_Inline(item, show(item.origin.file), frozenset(targets)))
    return honoured


def _finding(rule_id: str, message: str, item: InlineSuppression, show: Callable, values: dict[str, Any]) -> Result:
    origin = item.origin
    return Result(
        rule_id=rule_id, status=META_STATUS[rule_id], severity=META_RULES[rule_id]["severity"],
        resource_id=item.resource, resource_type=None, file=show(origin.file), line=origin.line, column=origin.column,
        message=message, values={k: v for k, v in values.items() if v is not None},
        fingerprint=fingerprint(rule_id, origin.file, item.resource, item.rule, item.tool, item.problem),
    )


def _stale_inline(item: _Inline, show: Callable) -> Result:
    message = f"inline suppression of {item.source.rule} matches no failing or unknown result: remove it (or correct its rule)"
    return _finding(STALE_SUPPRESSION_RULE, message, item.source, show,
                    {"rule": item.source.rule, "reason": item.source.reason, "kind": "inline"})


def _waiver_findings(judged: list[_Waiver], ran: set[str]) -> list[Result]:
    """BG002 for each expired waiver and BG003 for each that matched nothing (of rules that ran)."""
    found = []
    for entry in judged:
        waiver = entry.waiver
        if not entry.rules & ran:
            continue
        who = ", ".join(f"{k} {v}" for k, v in (("owner", waiver.owner), ("ticket", waiver.ticket)) if v)
        values = {"rule": waiver.rule, "reason": waiver.reason, "owner": waiver.owner, "ticket": waiver.ticket,
                  "expires": waiver.expires.isoformat() if waiver.expires else None, "matched": entry.matched,
                  "kind": "waiver"}
        if entry.expired:
            rule_id = EXPIRED_WAIVER_RULE
            covered = ("it covers no finding" if not entry.matched else "the finding it covered fails again" if entry.matched == 1
                       else f"the {entry.matched} findings it covered fail again")
            message = (f"{waiver.describe()} expired on {waiver.expires}{f' ({who})' if who else ''}: {covered}; "
                       "fix and remove the waiver, or give it a new date")
        elif not entry.matched:
            rule_id = STALE_SUPPRESSION_RULE
            message = f"{waiver.describe()} matches no failing or unknown result: remove it (or correct its rule and globs)"
        else:
            continue
        found.append(Result(
            rule_id=rule_id, status=META_STATUS[rule_id], severity=META_RULES[rule_id]["severity"],
            resource_id=None, resource_type=None, file=waiver.source, line=waiver.line or 1, column=1,
            message=message, values={k: v for k, v in values.items() if v is not None},
            fingerprint=fingerprint(rule_id, "waiver", *waiver.identity()),
        ))
    return found


def _numbered(results: list[Result]) -> list[Result]:
    """Distinct fingerprints: two identical waivers are two findings, the second numbered."""
    seen: dict[str, int] = {}
    out = []
    for result in sorted(results, key=Result.sort_key):
        count = seen[result.fingerprint] = seen.get(result.fingerprint, 0) + 1
        out.append(result if count == 1 else replace(result, fingerprint=fingerprint(result.fingerprint, str(count))))
    return out


def _compare(results: list[Result], baseline: Any, ran: set[str], files: set[str]) -> Accepted:
    """``baseline`` state of every failing and unknown result that nothing suppresses (a suppressed
    one is accepted by its suppression, and a baseline never holds it), and the baseline's fixed
    findings: no longer failing or unknown, suppressed or not."""
    known = baseline.entries
    out = [replace(r, baseline="unchanged" if r.fingerprint in known else "new")
           if r.status in _SUPPRESSIBLE and r.suppression is None else r for r in results]
    present = {r.fingerprint for r in results if r.status in _SUPPRESSIBLE}
    accounts = {r.account_id for r in results if r.is_live and r.account_id}
    fixed = [
        entry for fp, entry in sorted(known.items()) if fp not in present
        and entry.rule_id in ran
        and (entry.file in files if entry.file else (entry.account_id in accounts if entry.account_id else True))
    ]
    return Accepted(out, sorted(fixed, key=lambda e: e.sort_key()))
