"""Audit Manager-style compliance exports (CSV and JSON) of a result document.

Two reports, shaped like AWS Backup Audit Manager's report templates so that
the same spreadsheet or pipeline can take either:

* **Resource compliance** (like ``RESOURCE_COMPLIANCE_REPORT``): one row per
  framework control x resource when the document has selected frameworks, else
  one row per rule x resource. Columns: ``accountId, region, frameworkName,
  frameworkDescription, controlName, resourceId, resourceType,
  resourceComplianceStatus`` (AWS's names and order), then backupguard's
  ``file, line, ruleId, message, waiverReason``.
* **Control compliance** (like ``CONTROL_COMPLIANCE_REPORT``): one row per
  framework control (every control of the selected frameworks, including those
  with no resources), else one row per rule. Columns: ``accountId, region,
  frameworkName, frameworkDescription, controlName, controlComplianceStatus,
  numResourcesCompliant, numResourcesNonCompliant`` (AWS's), then
  ``numResourcesUnknown, numResourcesError, numResourcesWaived,
  numResourcesNotApplicable, rules``. The six counts add up to the control's
  resource rows in the resource report.

Values: ``accountId`` and ``region`` of a live result's row are the result's
own (``account_id``, ``region``; a live scan spans accounts and Regions, and a
resource row is per account and Region); for a template they are the scan's
``--account-id`` and ``--region`` (``doc["scan"]``), empty when not given (a
control row always takes the scan's). A live resource's ``resourceId`` is its
ARN and ``file`` is empty; an error about a whole account or Region has an
empty ``resourceId`` and its own account and Region. ``frameworkName`` is the
framework ID and ``frameworkDescription`` its title; ``controlName`` is the
control ID. Without frameworks the "control" is the rule: ``frameworkName`` is
empty and ``controlName`` is the rule ID. ``resourceId`` is the resource's
logical ID or Terraform address as the template names it (AWS writes
``AWS::EFS::FileSystem/fs-...``; an undeployed template has no physical ID),
empty for an input that could not be read. AWS's ``lastEvaluationTime``,
``resourceName``, ``controlFrequency``, ``controlScope`` and
``controlParameters`` have no IaC counterpart and are left out.

A "resource" is a file + resource ID (+ type); a live one, account + Region + ARN. When several results decide one
row (the rules of a control, a plan's rules as elements, a file linted in
several scenarios), the row takes the worst status in the order
``fail > unknown > error > waived > pass > not_applicable`` (the same order as
the control verdicts of the JSON document), and ``ruleId``, ``message``,
``line`` and ``waiverReason`` come from the results with that status (rule IDs
space-separated, distinct messages joined with " | ", the first line).

Status mapping (result verdict -> ``resourceComplianceStatus``):

==============  ==================  ==============================================
pass            COMPLIANT
fail            NON_COMPLIANT
unknown         UNKNOWN             the template cannot decide (AWS Config would
                                    say INSUFFICIENT_DATA; kept distinct on purpose)
error           ERROR               the input could not be read (rule BG000)
waived          WAIVED              a failure or unknown a config waiver accepts;
                                    the justification is in ``waiverReason``
not_applicable  NOT_APPLICABLE      needs live evidence a template cannot show
==============  ==================  ==============================================

``controlComplianceStatus`` is the same mapping over the control's worst
resource status, and ``NO_RESOURCES`` when nothing was evaluated.

Results tagged with no selected framework control (input errors in
particular) still get a row in the resource report when frameworks were
selected, with an empty ``frameworkName`` and the rule as ``controlName``, so
that an unreadable file is never silently missing from an audit export; the
control report then ends with one such per-rule row for them, so every
resource row counts in exactly one control row.

JSON: ``{"reportItems": [...]}`` as in AWS's JSON reports, with the same keys
as the CSV columns (``line`` and the counts as numbers). CSV: the csv module,
a header row, ``\\n`` line ends (text written through a text-mode file gets
the platform's). Rows are sorted, so the same document gives identical bytes.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from backupguard.reports import verdict
from backupguard.reports.json_report import results_of
from backupguard.reports.printable import inert_lines, json_safe
from backupguard.results import Result

RESOURCE_COLUMNS = (
    "accountId", "region", "frameworkName", "frameworkDescription", "controlName",
    "resourceId", "resourceType", "resourceComplianceStatus",
    "file", "line", "ruleId", "message", "waiverReason",
)
CONTROL_COLUMNS = (
    "accountId", "region", "frameworkName", "frameworkDescription", "controlName", "controlComplianceStatus",
    "numResourcesCompliant", "numResourcesNonCompliant",
    "numResourcesUnknown", "numResourcesError", "numResourcesWaived", "numResourcesNotApplicable", "rules",
)

STATUS = {
    "pass": "COMPLIANT",
    "fail": "NON_COMPLIANT",
    "unknown": "UNKNOWN",
    "error": "ERROR",
    "waived": "WAIVED",
    "not_applicable": "NOT_APPLICABLE",
}
NO_RESOURCES = "NO_RESOURCES"
# Worst first: the status of a row decided by several results (as reports.control_summary).
_ORDER = ("fail", "unknown", "error", "waived", "pass", "not_applicable")
_COUNT_COLUMNS = {
    "COMPLIANT": "numResourcesCompliant",
    "NON_COMPLIANT": "numResourcesNonCompliant",
    "UNKNOWN": "numResourcesUnknown",
    "ERROR": "numResourcesError",
    "WAIVED": "numResourcesWaived",
    "NOT_APPLICABLE": "numResourcesNotApplicable",
}


def _scan(doc: dict[str, Any]) -> tuple[str, str]:
    scan = doc.get("scan") or {}
    return str(scan.get("account_id") or ""), str(scan.get("region") or "")


# (file, resource ID, resource type, account, Region): account and Region are set for a live result
# only, so two scopes' errors (no resource) or resources never share a row.
_Key = tuple[str, str, str, str, str]


def _resource_key(result: Result) -> _Key:
    account, region = result.scope() if result.is_live else ("", "")
    return (result.file or "", result.resource_id or "", result.resource_type or "", account, region)


def _control_columns(account: str, region: str, framework: dict[str, Any] | None, control: str) -> dict[str, str]:
    """The columns that say which account, Region, framework and control a row is about."""
    return {
        "accountId": account,
        "region": region,
        "frameworkName": framework["id"] if framework else "",
        "frameworkDescription": (framework.get("title") or "") if framework else "",
        "controlName": control,
    }


def _row(account: str, region: str, framework: dict[str, Any] | None, control: str,
         key: _Key, results: list[Result]) -> dict[str, Any]:
    status = next(s for s in _ORDER if any(verdict(r) == s for r in results))
    deciding = [r for r in results if verdict(r) == status]
    if key[3] or key[4]:  # a live resource: its own account and Region
        account, region = key[3], key[4]
    return {
        **_control_columns(account, region, framework, control),
        "resourceId": key[1],
        "resourceType": key[2],
        "resourceComplianceStatus": STATUS[status],
        "file": key[0],
        "line": deciding[0].line,
        "ruleId": " ".join(sorted({r.rule_id for r in deciding})),
        "message": " | ".join(dict.fromkeys(r.message for r in deciding)),
        "waiverReason": " | ".join(dict.fromkeys(r.suppression.reason for r in deciding if r.suppression)),
    }


def _by_resource(results: list[Result]) -> list[tuple[_Key, list[Result]]]:
    groups: dict[_Key, list[Result]] = {}
    for result in results:
        groups.setdefault(_resource_key(result), []).append(result)
    # File-based rows by file and line; live rows (no file) by account, Region and resource.
    return sorted(groups.items(), key=lambda item: (item[0][0], item[0][3], item[0][4], min(r.line for r in item[1]),
                                                    item[0][1], item[0][2]))


def _rule_rows(account: str, region: str, results: list[Result]) -> list[dict[str, Any]]:
    by_rule: dict[str, list[Result]] = {}
    for result in results:
        by_rule.setdefault(result.rule_id, []).append(result)
    return [
        _row(account, region, None, rule_id, key, group)
        for rule_id in sorted(by_rule)
        for key, group in _by_resource(by_rule[rule_id])
    ]


def resource_compliance_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The resource compliance report as dicts keyed by RESOURCE_COLUMNS (see the module doc)."""
    account, region = _scan(doc)
    results = results_of(doc)
    frameworks = doc.get("frameworks") or []
    if not frameworks:
        return _rule_rows(account, region, results)
    by_tag: dict[str, list[Result]] = {}
    for result in results:
        for tag in result.frameworks:
            by_tag.setdefault(tag, []).append(result)
    rows: list[dict[str, Any]] = []
    selected: set[str] = set()
    for framework in frameworks:
        for control in framework.get("controls") or []:
            tag = f"{framework['id']}:{control['id']}"
            selected.add(tag)
            rows.extend(_row(account, region, framework, control["id"], key, group)
                        for key, group in _by_resource(by_tag.get(tag, [])))
    rows.extend(_rule_rows(account, region, [r for r in results if not selected.intersection(r.frameworks)]))
    return rows


def _control_row(account: str, region: str, framework: dict[str, Any] | None, control: str,
                 rules: list[str], resource_rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {column: 0 for column in _COUNT_COLUMNS.values()}
    for row in resource_rows:
        counts[_COUNT_COLUMNS[row["resourceComplianceStatus"]]] += 1
    present = {row["resourceComplianceStatus"] for row in resource_rows}
    status = next((STATUS[s] for s in _ORDER if STATUS[s] in present), NO_RESOURCES)
    return {
        **_control_columns(account, region, framework, control),
        "controlComplianceStatus": status,
        **counts,
        "rules": " ".join(rules),
    }


def control_compliance_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The control compliance report as dicts keyed by CONTROL_COLUMNS (see the module doc)."""
    account, region = _scan(doc)
    resources = resource_compliance_rows(doc)
    frameworks = doc.get("frameworks") or []
    rows = []
    if frameworks:
        by_control: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in resources:
            by_control.setdefault((row["frameworkName"], row["controlName"]), []).append(row)
        for framework in frameworks:
            for control in framework.get("controls") or []:
                rows.append(_control_row(account, region, framework, control["id"], list(control.get("rules") or []),
                                         by_control.get((framework["id"], control["id"]), [])))
        untagged = sorted({control for name, control in by_control if not name})
        return rows + [_control_row(account, region, None, rule_id, [rule_id], by_control[("", rule_id)])
                       for rule_id in untagged]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for row in resources:
        by_rule.setdefault(row["controlName"], []).append(row)
    ran = {rule["id"] for rule in doc.get("rules") or []} | set(by_rule)
    return [_control_row(account, region, None, rule_id, [rule_id], by_rule.get(rule_id, [])) for rule_id in sorted(ran)]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula (values come from the scanned input)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)
    # A data export keeps values exactly (a quoted cell may span lines), except that no line may
    # start a CI workflow command when the CSV is printed to a log.
    return inert_lines(out.getvalue())


def _json(rows: list[dict[str, Any]]) -> str:
    return json_safe(json.dumps({"reportItems": rows}, indent=2, ensure_ascii=False)) + "\n"


def resource_compliance_csv(doc: dict[str, Any]) -> str:
    return _csv(RESOURCE_COLUMNS, resource_compliance_rows(doc))


def control_compliance_csv(doc: dict[str, Any]) -> str:
    return _csv(CONTROL_COLUMNS, control_compliance_rows(doc))


def resource_compliance_json(doc: dict[str, Any]) -> str:
    return _json(resource_compliance_rows(doc))


def control_compliance_json(doc: dict[str, Any]) -> str:
    return _json(control_compliance_rows(doc))
