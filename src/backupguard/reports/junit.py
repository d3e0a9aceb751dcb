"""JUnit XML: every rule x resource result as a test case, for CI test-report views.

The subset written is the one Jenkins (junit-10.xsd of the xunit plugin), GitLab
and the GitHub marketplace JUnit actions all read::

    <testsuites name="backupguard" tests failures errors time="0">
      <testsuite name tests failures errors skipped time="0">
        <testcase classname="BG101" name="plans.yaml:12 Plan rule 'daily'" time="0">
          <failure message type="high">...</failure>     (or <error>, <skipped>, nothing)

Suites: one per framework when the document has selected frameworks (a result
is a test case in every framework control its ``frameworks`` tags name, so the
same result can appear under several controls; the control leads the test
name), else one per rule, named ``"BG101 plan-min-frequency-and-retention"``.
Results tagged with no selected control (input errors, BG000, in particular)
get their per-rule suite in framework mode too, so nothing disappears.

Live results (no file; account, Region and ARN instead) are grouped by scope: in
rule mode they get one suite per account and Region, named ``"account
111111111111 Region us-east-1"`` (``global`` without a Region), after the rule
suites; their ``classname`` is ``<account>.<region>.<rule>`` (Jenkins shows
``account.region`` as the package and the rule as the class; GitLab shows it as
the suite) and their ``name`` is the ARN (the scope for an error about a whole
account or Region), never ``"(no file):1"``. No ``file`` attribute is written
for any result (junit-10.xsd has none).

Test cases: ``classname`` is the rule ID (GitLab's "Suite" column) and
``name`` is ``"<file>:<line> <resource> <element>"``, prefixed with
``"<framework>:<control>"`` in a framework suite. GitLab drops test cases whose
classname+name repeat, so a repeated name gets ``" #2"``, ``" #3"``... in
document order (the same result can appear twice when files were linted as
separate scenarios). JUnit has no file/line attributes in junit-10.xsd, so the
location lives in the name and in the failure text.

Status mapping:

=================  ==========================================================
pass               a test case with no child (passes are listed: a CI view
                   shows what was checked, not only what broke)
fail               ``<failure message="..." type="<severity>">`` with the
                   message, file:line, resource and the rule's remediation
error (BG000)      ``<error message type="<severity>">``: the input could not
                   be read
waived             ``<skipped message="waived: <justification> (was fail|unknown)">`` (a config
                   waiver; an inline suppression says ``suppressed inline:``)
baseline           a failure or unknown whose fingerprint is in the ``--baseline``:
                   ``<skipped message="in the baseline: <message> (was fail|unknown)">``,
                   so that accepted findings do not turn the report red either
not_applicable     ``<skipped message="not applicable: ...">`` (a rule that
                   needs live evidence, run on IaC)
unknown            ``<skipped message="unknown: <why it cannot be decided>">``
=================  ==========================================================

Unknown is skipped by default: it stays visible in every reader (GitLab and
Jenkins count and list skipped tests) but does not turn the CI test report red
for something the template cannot show, such as a value that only exists at
deploy time. The gate is backupguard's exit code (``--fail-on``), not the JUnit
view. A team that wants an undecidable check to fail the test report can render
with ``unknown="failure"``: the result is then a ``<failure type="unknown">``.

Counts: each ``<testsuite>`` has ``tests`` (test cases), ``failures``,
``errors`` and ``skipped``; ``<testsuites>`` has the sums of ``tests``,
``failures`` and ``errors`` but no ``skipped``: junit-10.xsd does not allow
that attribute on ``<testsuites>`` and the xunit plugin rejects the whole file
when it is there (readers count skipped tests from the test cases).

XML: built with ``xml.etree.ElementTree``; characters XML 1.0 forbids (C0
controls other than tab/newline/carriage return, lone surrogates, U+FFFE/U+FFFF)
are removed from every value first. Times are "0" and nothing depends on the
clock, so the same document gives identical bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any, Iterable, Iterator

from backupguard.reports import verdict
from backupguard.reports.json_report import results_of
from backupguard.reports.printable import inert_markup, printable
from backupguard.results import Result

# Everything outside XML 1.0's Char production.
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
UNKNOWN_AS = ("skipped", "failure")


def clean(text: Any) -> str:
    """``text`` as a string XML 1.0 can hold: forbidden characters removed, and C1 controls,
    separators and bidi overrides escaped (:func:`printable`) as they would mislead a reader."""
    return printable(_ILLEGAL_XML.sub("", "" if text is None else str(text)), keep="\t\n\r")


def _location(result: Result) -> str:
    return f"{result.file or '(no file)'}:{result.line}"


def scope_name(result: Result) -> str:
    """``account 111111111111 Region us-east-1`` (``global`` without a Region): a live result's suite."""
    return f"account {result.account_id or '(unknown)'} " + (f"Region {result.region}" if result.region else "global")


def case_classname(result: Result) -> str:
    """The rule ID; for a live result ``<account>.<region>.<rule>`` (Jenkins shows account.Region as
    the package, GitLab the whole as the suite), so results of two scopes never share one."""
    if result.is_live:
        return f"{result.account_id or 'unknown'}.{result.region or 'global'}.{result.rule_id}"
    return result.rule_id


def case_name(result: Result, control: str | None = None) -> str:
    """``"[framework:control ]<file>:<line>[ resource][ element]"``, before de-duplication; a live
    result is named by its ARN (resource ID), or by its scope for an error about a whole scope."""
    parts = [control] if control else []
    if result.is_live:
        name = result.arn or result.resource_id
        parts.append(name or scope_name(result))
        if result.arn and result.resource_id and result.resource_id != result.arn:
            parts.append(result.resource_id)
        if result.element:
            parts.append(result.element)
        return " ".join(parts)
    parts.append(_location(result))
    parts.extend(p for p in (result.resource_id, result.element) if p)
    return " ".join(parts)


def _detail(result: Result, rule: dict[str, Any]) -> str:
    where = f"{scope_name(result)}" if result.is_live else f"{_location(result)}:{result.column}"
    lines = [result.message, f"at {where}"]
    if result.arn:  # a live result, or a drift result (its file is the declaration, this the account's)
        lines.append(f"arn: {result.arn}")
    if result.resource_id:
        kind = f" ({result.resource_type})" if result.resource_type else ""
        lines.append(f"resource: {result.resource_id}{kind}")
    if result.element:
        lines.append(f"element: {result.element}")
    if rule:
        lines.append(" ".join(p for p in ("rule:", result.rule_id, rule.get("name"), rule.get("title") and f"({rule['title']})") if p))
        if rule.get("remediation"):
            lines.append(f"remediation: {rule['remediation']}")
        if rule.get("source_url"):
            lines.append(f"see: {rule['source_url']}")
    if result.suppression:
        lines.append(f"{_accepted_as(result)}: {result.suppression.reason}")
    return "\n".join(lines)


def _accepted_as(result: Result) -> str:
    return "suppressed inline" if result.suppression and result.suppression.kind == "inline" else "waived"


class _Builder:
    def __init__(self, doc: dict[str, Any], unknown: str) -> None:
        if unknown not in UNKNOWN_AS:
            raise ValueError(f"unknown= must be one of {', '.join(UNKNOWN_AS)}, not {unknown!r}")
        self.unknown = unknown
        self.rules = {r["id"]: r for r in doc.get("rules") or []}
        self.seen: set[tuple[str, str]] = set()

    def _unique(self, classname: str, name: str) -> str:
        candidate, n = name, 1
        while (classname, candidate) in self.seen:
            n += 1
            candidate = f"{name} #{n}"
        self.seen.add((classname, candidate))
        return candidate

    def kind(self, result: Result) -> str | None:
        """What the result's test case holds: "failure", "error", "skipped", or None (a pass)."""
        status = verdict(result)
        if result.baseline == "unchanged" and status in ("fail", "unknown"):
            return "skipped"
        if status == "fail" or (status == "unknown" and self.unknown == "failure"):
            return "failure"
        if status == "error":
            return "error"
        if status in ("waived", "unknown", "not_applicable"):
            return "skipped"
        return None

    def case(self, suite: ET.Element, result: Result, control: str | None = None) -> str | None:
        """The result's test case, added to ``suite``; returns its :meth:`kind`."""
        classname = clean(case_classname(result))
        case = ET.SubElement(suite, "testcase", {
            "classname": classname,
            "name": self._unique(classname, clean(case_name(result, control))),
            "time": "0",
        })
        rule = self.rules.get(result.rule_id) or {}
        status, kind = verdict(result), self.kind(result)
        if kind == "skipped" and result.baseline == "unchanged" and status in ("fail", "unknown"):
            ET.SubElement(case, "skipped", {"message": clean(f"in the baseline: {result.message} (was {result.status})")})
        elif kind in ("failure", "error"):
            severity = "unknown" if status == "unknown" else result.severity
            child = ET.SubElement(case, kind, {"message": clean(result.message), "type": clean(severity)})
            child.text = clean(_detail(result, rule))
        elif kind == "skipped":
            if status == "waived":
                message = f"{_accepted_as(result)}: {result.suppression.reason} (was {result.status}: {result.message})"
            else:
                message = f"{status.replace('_', ' ')}: {result.message}"
            ET.SubElement(case, "skipped", {"message": clean(message)})
        return kind  # pass: a test case with no child

    def rule_suites(self, results: Iterable[Result]) -> list[tuple[str, list[tuple[Result, None]]]]:
        by_rule: dict[str, list[Result]] = {}
        by_scope: dict[tuple[str, str], list[Result]] = {}
        for result in results:
            if result.is_live:
                by_scope.setdefault(result.scope(), []).append(result)
            else:
                by_rule.setdefault(result.rule_id, []).append(result)
        suites = []
        for rule_id in sorted(by_rule):
            name = (self.rules.get(rule_id) or {}).get("name") or ("input-error" if rule_id == "BG000" else "")
            suites.append((f"{rule_id} {name}".strip(), [(result, None) for result in by_rule[rule_id]]))
        for scope in sorted(by_scope):  # live results: one suite per account and Region
            suites.append((scope_name(by_scope[scope][0]), [(result, None) for result in by_scope[scope]]))
        return suites

    def suites(self, doc: dict[str, Any]) -> list[tuple[str, list[tuple[Result, str | None]]]]:
        """Every suite's name and test cases (a result, and the framework control it is a case of)."""
        results = results_of(doc)
        frameworks = doc.get("frameworks") or []
        if not frameworks:
            return self.rule_suites(results)
        selected = {f"{fw['id']}:{c['id']}" for fw in frameworks for c in fw.get("controls") or []}
        by_tag: dict[str, list[Result]] = {}
        for result in results:
            for tag in result.frameworks:
                by_tag.setdefault(tag, []).append(result)
        suites: list[tuple[str, list[tuple[Result, str | None]]]] = []
        for framework in frameworks:
            cases = []
            for control in framework.get("controls") or []:
                tag = f"{framework['id']}:{control['id']}"
                cases.extend((result, tag) for result in by_tag.get(tag, []))
            suites.append((framework["id"], cases))
        return suites + self.rule_suites(r for r in results if not selected.intersection(r.frameworks))


_COUNTED = {"failure": "failures", "error": "errors", "skipped": "skipped"}


def render(doc: dict[str, Any], *, unknown: str = "skipped") -> str:
    """The JUnit XML of a result document (``unknown``: "skipped" or "failure", see the module doc)."""
    return "".join(stream(doc, unknown=unknown))


def stream(doc: dict[str, Any], *, unknown: str = "skipped") -> Iterator[str]:
    """:func:`render`'s text in pieces, one per suite: only one suite's elements exist at a time (the
    totals on ``<testsuites>`` are counted first)."""
    builder = _Builder(doc, unknown)
    suites = builder.suites(doc)
    total = Counter(builder.kind(result) for _, cases in suites for result, _ in cases)
    root = ET.Element("testsuites", {"name": "backupguard"})
    root.set("tests", str(sum(total.values())))
    root.set("failures", str(total["failure"]))
    root.set("errors", str(total["error"]))
    root.set("time", "0")
    opening = inert_markup(ET.tostring(root, encoding="unicode"))
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    if not suites:
        yield opening + "\n"
        return
    yield opening.removesuffix(" />") + ">\n  "
    for number, (name, cases) in enumerate(suites, start=1):
        suite = ET.Element("testsuite", {"name": clean(name)})
        counts = Counter(builder.case(suite, result, control) for result, control in cases)
        suite.set("tests", str(len(cases)))
        for kind in ("failure", "error", "skipped"):
            suite.set(_COUNTED[kind], str(counts[kind]))
        suite.set("time", "0")
        ET.indent(suite, space="  ", level=1)
        suite.tail = "\n  " if number < len(suites) else "\n"
        yield inert_markup(ET.tostring(suite, encoding="unicode"))
    yield "</testsuites>\n"
