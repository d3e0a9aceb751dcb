"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF reader), rendered from the result document.

One log, one run, one ``tool.driver`` named backupguard. What goes in and why:

Results
    Only ``fail``, ``unknown`` and ``error`` results become SARIF results. ``pass`` and
    ``not_applicable`` results are not alerts: a code-scanning alert is something to act on,
    and GitHub would open one per result. They stay in the JSON document (their counts are in
    ``run.properties.summary``). Waived failures and unknowns are kept, with an ``external``
    ``accepted`` suppression carrying the waiver's justification, so GitHub shows them as
    suppressed instead of silently dropping them.

    ``level`` comes from the result's severity (critical/high: error, medium: warning,
    low/info: note), with ``kind: "fail"``. An ``unknown`` result (the rule could not decide) is
    ``kind: "open"`` with ``level: "none"`` (SARIF 3.27.9/3.27.10: "open" is a result the tool
    lacked the information to decide, and a kind other than "fail" requires level "none"), a
    message starting "Unknown: ", and the rule id ``<rule>/unknown``: GitHub takes an alert's
    security severity from its rule, so an undecided BG101 must not share BG101's 8.0 (a High
    alert). The ``<rule>/unknown`` descriptors have no ``security-severity`` and no "security"
    tag: GitHub lists them as plain Note alerts. Input errors (BG000, a file that could not be
    read) are ``kind: "fail"``, ``level: "error"``, under a rule without ``security-severity``:
    a GitHub "Error" alert on the file, not a security finding (see docs/code-scanning.md).
    Findings about suppressions (BG001 invalid, BG002 expired waiver, BG003 stale) are likewise
    under rules without ``security-severity`` (tag "suppression"). Against a baseline, each alert
    has ``baselineState`` ``new`` or ``unchanged``; the baseline's fixed findings are counted in
    ``run.properties.summary.baseline``.

Locations
    ``artifactLocation.uri`` is the result's file as a relative POSIX path, percent-encoded
    (a ``:`` is encoded too, so the first segment never reads as a URI scheme), with
    ``uriBaseId: "%SRCROOT%"``. GitHub resolves relative URIs against the repository root, so
    the CLI passes ``relocate``, which makes each file relative to the source root
    (``--sarif-root``; by default the git repository holding the scanned paths, else the working
    directory), wherever backupguard ran from. ``run.originalUriBaseIds`` describes
    ``%SRCROOT%`` without a ``uri``: a ``file:///<root>/`` value would make the output depend on
    the machine and would add nothing GitHub uses. A file outside the source root given as an
    absolute path stays an absolute ``file://`` URI without a base id; GitHub's upload-sarif
    action makes such URIs relative through its ``checkout_path``. Backslashes in paths are read
    as separators. Files outside the source root (``../``) cannot be placed by GitHub: a warning
    notification says how many results are in such files. See docs/code-scanning.md.

    ``region`` has ``startLine`` and ``startColumn`` (at least 1; line 1 for a finding on the
    whole template) and ``endLine = startLine``; no ``endColumn``, which in SARIF means "to the
    end of the line". The resource is also a logical location (``kind: "resource"``,
    ``fullyQualifiedName`` ``<file>:<resource_id>``). Live results (no file) get only the
    logical location, named by the resource's ARN (the result's ``arn``; in older documents
    ``values.arn``, or the resource id when it is an ARN), ``fullyQualifiedName`` the ARN; an
    error about a whole account or Region (no resource) is the logical location
    ``<account>/<region>`` of kind "namespace". Their ``properties`` carry ``account_id``,
    ``region`` and ``arn``. A drift result (``backupguard drift``) has both: the declaration is
    its physical location and the live entity a ``relatedLocations`` entry (the ARN as a logical
    location, beside the same physical location, since GitHub refuses a location without an
    artifact), with ``account_id``, ``region`` and ``arn`` in its properties. GitHub code scanning cannot use live results: it places alerts in
    repository files only, and its upload processing fails on a result without a physical
    location ("locationFromSarifResult: expected artifact location" / "expected at least one
    location"), refusing the whole file rather than skipping the result. So a run with live
    results carries a warning notification saying so; SARIF of a live scan is for other SARIF
    readers (the CLI warns when one is written); upload IaC scans only.

Fingerprints
    ``partialFingerprints["backupguard/v1"]`` is the result's fingerprint (rule, file, resource,
    element, parameters and, for a module instance outside its root, the root; never the line),
    unique per result. ``primaryLocationLineHash`` is not written: its name and GitHub's use say
    it is a hash of the line's text (upload-sarif computes it from the checked-out file), and a
    value of ours under that name would be a lie GitHub then trusts.

Rules
    One ``tool.driver.rules`` entry per rule in the document (the rules that ran), sorted by
    id, plus BG000 "input-error" when there are input errors, plus a minimal entry for any
    result whose rule the document does not describe (so every ``ruleIndex`` is valid).
    ``help`` (text and markdown) is built from the rule metadata: what it checks, why it
    matters, how to fix it, failing and passing examples, parameters (default and the values
    this scan used), known limits, references and the framework controls. Tags: "security",
    "backup", the frameworks and ``framework:control`` pairs, then the references, at most 20
    (GitHub's limit). ``security-severity`` is a string: critical 9.5, high 8.0, medium 5.5,
    low 3.0, info 1.0. ``precision``: "very-high" for rules that decide from declared
    configuration (evidence "any"; what cannot be decided is reported as unknown, not as a
    failure), "high" for rules that need live evidence (recovery points and jobs change between
    scans).

Frameworks
    Each framework in the document is a ``run.taxonomies`` tool component (its controls are the
    taxa) and each rule has ``relationships`` to the controls it maps to.

Run
    ``automationDetails.id`` is ``backupguard/<slug of the scanned paths>/``: a category only
    (it ends with "/"), stable across runs, and different for scans of different paths, so
    several uploads per commit (``infra/cfn``, ``infra/tf``) do not replace each other.
    ``invocations[0].executionSuccessful`` is false when there are input errors; the scan
    notes are ``toolExecutionNotifications`` at level note.

GitHub limits
    At most 25,000 results per run: beyond that the most severe are kept (unwaived first, then
    severity, then fail before error before unknown, then document order), emitted in document
    order, and a warning notification says how many were left out. At most 20 tags per rule.
    When the gzip-compressed log exceeds 10 MB (GitHub's upload limit) a warning notification
    is added and logged (never an exception).

Output is deterministic: the same document gives byte-identical text (``json.dumps`` with
sorted keys, ``indent=2``, ``ensure_ascii=False``, a trailing newline), independent of the
working directory, the time and the environment.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import posixpath
import re
from functools import lru_cache
from typing import Any, Callable
from urllib.parse import quote

from backupguard.reports.printable import json_safe
from backupguard.results import INPUT_ERROR_RULE, META_RULE_IDS, SEVERITIES, fingerprint, shipped_rule

log = logging.getLogger(__name__)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/backupguard/backupguard"
RULE_DOCS_URI = "https://github.com/backupguard/backupguard/blob/main/docs/rules/{id}.md"
INPUT_ERROR_DOCS_URI = "https://github.com/backupguard/backupguard/blob/main/README.md#exit-codes"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "backupguard/v1"
UNKNOWN_SUFFIX = "/unknown"

# GitHub code scanning limits (docs: "SARIF support for code scanning", "results exceed limit").
MAX_RESULTS = 25_000
MAX_TAGS = 20
MAX_SHORT_DESCRIPTION = 1024
MAX_NAME = 255
MAX_GZIP_BYTES = 10 * 1000 * 1000  # "10 MB"; the decimal reading is the stricter one

ALERT_STATUSES = ("fail", "unknown", "error")
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
PROBLEM_SEVERITY = {"critical": "error", "high": "error", "medium": "warning", "low": "recommendation", "info": "recommendation"}
PRECISION = {"any": "very-high", "live": "high", "drift": "high"}

_REFERENCE_LABELS = (
    ("audit_manager_control", "AWS Backup Audit Manager control"),
    ("config_rule", "AWS Config rule"),
    ("security_hub_control", "Security Hub control"),
    ("other", "Other tools"),
)

_INPUT_ERROR_RULE = {
    "id": INPUT_ERROR_RULE,
    "name": "input-error",
    "title": "An input file could not be read",
    "severity": "high",
    "evidence": "any",
    "summary": (
        "Reported when a template, Terraform file, plan or policy file cannot be parsed or is not a "
        "valid document of its kind. Nothing in that file was checked; the other files were."
    ),
    "rationale": (
        "Resources declared in a file backupguard cannot read are not checked at all, so a backup "
        "gap in them would go unnoticed."
    ),
    "remediation": (
        "Fix the syntax error or structural problem the message names, or exclude the file with "
        "--exclude (or `exclude` in .backupguard.yaml) when it is not infrastructure code."
    ),
}


def render(doc: dict[str, Any], relocate: Callable[[str], str] | None = None) -> str:
    """The document as a SARIF 2.1.0 log (one run), as text ending with a newline.

    ``relocate`` turns a result's file (as the document names it) into its path relative to the
    source root (``--sarif-root``: by default the repository root), which ``%SRCROOT%`` stands for."""
    sarif = build(doc, relocate)
    text = _dumps(sarif)
    size = _gzip_size(text)
    if size > MAX_GZIP_BYTES:
        message = (
            f"The SARIF log is {size:,} bytes gzip-compressed, over GitHub code scanning's limit of "
            f"{MAX_GZIP_BYTES:,} bytes: GitHub will reject the upload. Scan fewer paths per run "
            "(one category each) or exclude files."
        )
        log.warning("backupguard: %s", message)
        sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"].append(_notification("warning", message))
        text = _dumps(sarif)
    return text


def build(doc: dict[str, Any], relocate: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The SARIF log as a dict (``render`` adds the size check)."""
    frameworks = doc.get("frameworks") or []
    scan = doc.get("scan") or {}
    all_results = doc.get("results") or []
    alerts = [r for r in all_results if r.get("status") in ALERT_STATUSES]
    if relocate is not None:
        alerts = [{**r, "file": relocate(str(r["file"]))} if r.get("file") else r for r in alerts]
    notifications = [_notification("note", str(note)) for note in scan.get("notes") or []]

    if len(alerts) > MAX_RESULTS:
        total = len(alerts)
        alerts = _most_severe(alerts, MAX_RESULTS)
        notifications.append(_notification("warning", (
            f"GitHub code scanning accepts at most {MAX_RESULTS:,} results per run: {total - MAX_RESULTS:,} of "
            f"{total:,} results were left out (the least severe; unwaived, more severe and failing results "
            "were kept). The JSON result document has them all."
        )))

    rules = _rules(doc, alerts, frameworks, scan)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    taxonomies = [_taxonomy(framework) for framework in frameworks]

    results = [_result(r, index) for r in alerts]

    outside = sum(1 for r in alerts if r.get("file") and _display_path(str(r["file"])).startswith("../"))
    if outside:
        notifications.append(_notification("warning", (
            f"{outside} {'result is' if outside == 1 else 'results are'} in files outside the directory backupguard "
            "ran from or outside the source root (paths starting with ../): GitHub resolves relative paths against "
            "the repository root and cannot place them. Set --sarif-root to the repository root."
        )))

    live = sum(1 for r in alerts if not r.get("file"))
    if live:
        notifications.append(_notification("warning", (
            f"{live} {'result has' if live == 1 else 'results have'} no source file (live findings) and only a "
            "logical location: GitHub code scanning rejects a SARIF file with such results; upload IaC scans only."
        )))

    driver: dict[str, Any] = {
        "name": "backupguard",
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }
    version = str((doc.get("tool") or {}).get("version") or "")
    if version:
        driver["version"] = version
        semantic = _semantic_version(version)
        if semantic:
            driver["semanticVersion"] = semantic
    if taxonomies:
        driver["supportedTaxonomies"] = [{"index": i, "name": t["name"]} for i, t in enumerate(taxonomies)]

    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": automation_id(scan.get("paths") or [])},
        "originalUriBaseIds": {SRCROOT: {"description": {"text": (
            "The source root: --sarif-root, by default the git repository holding the scanned files (else "
            "the directory backupguard ran from). Result URIs are relative to it, as GitHub resolves them."
        )}}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{
            "executionSuccessful": not any(r.get("status") == "error" for r in all_results),
            "toolExecutionNotifications": notifications,
        }],
        "results": results,
    }
    if taxonomies:
        run["taxonomies"] = taxonomies
    if doc.get("summary"):
        run["properties"] = {"summary": doc["summary"]}
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


# ---------------------------------------------------------------------------------------------
# results


def unknown_rule_id(rule_id: str) -> str:
    """The SARIF rule of a rule's unknown results (a Note alert in GitHub, never a security one)."""
    return rule_id + UNKNOWN_SUFFIX


def _result(r: dict[str, Any], index: dict[str, int]) -> dict[str, Any]:
    status = r["status"]
    severity = _severity(r.get("severity"))
    rule_id = r.get("rule_id") or INPUT_ERROR_RULE
    message = str(r.get("message") or "").strip() or f"{rule_id} {status}"
    if status == "unknown":
        message = f"Unknown: {message}"
    level = "error" if status == "error" else "none" if status == "unknown" else LEVEL[severity]
    sarif_rule_id = unknown_rule_id(rule_id) if status == "unknown" else rule_id

    fp = r.get("fingerprint") or fingerprint(rule_id, r.get("file"), r.get("resource_id"), r.get("element"), r.get("message"))

    location: dict[str, Any] = {}
    file = r.get("file")
    if file:
        uri, base = file_uri(str(file))
        artifact = {"uri": uri, **({"uriBaseId": base} if base else {})}
        line = _positive(r.get("line"))
        location["physicalLocation"] = {
            "artifactLocation": artifact,
            "region": {"startLine": line, "startColumn": _positive(r.get("column")), "endLine": line},
        }
    logical = _logical_location(r)
    if logical:
        location["logicalLocations"] = [logical]

    related = _related_locations(r, location)
    result: dict[str, Any] = {
        "ruleId": sarif_rule_id,
        "ruleIndex": index[sarif_rule_id],
        "level": level,
        "kind": "open" if status == "unknown" else "fail",
        "message": {"text": message},
        "locations": [location] if location else [],
        "partialFingerprints": {FINGERPRINT_KEY: fp},
    }
    if related:
        result["relatedLocations"] = related
    suppression = r.get("suppression")
    if isinstance(suppression, dict):
        kind = "inSource" if suppression.get("kind") == "inline" else "external"
        result["suppressions"] = [{"kind": kind, "status": "accepted", "justification": str(suppression.get("reason"))}]
    if r.get("baseline") in ("new", "unchanged"):
        result["baselineState"] = r["baseline"]
    properties: dict[str, Any] = {"status": status, "severity": severity}
    for key in ("resource_type", "element", "frameworks", "values"):
        if r.get(key):
            properties[key] = r[key]
    if not file or related:  # a live or drift result: where it is in AWS (an IaC result's SARIF is as it always was)
        for key in ("account_id", "region", "arn"):
            if r.get(key):
                properties[key] = r[key]
    result["properties"] = properties
    return result


def _related_locations(r: dict[str, Any], primary: dict[str, Any]) -> list[dict[str, Any]]:
    """A drift result's second location: the live entity, named by its ARN (a result with both a file
    and an ARN; an IaC result never has an ARN). It is the logical location ``kind: "resource"``
    with the ARN as ``fullyQualifiedName``, beside the declaration's physical location: GitHub
    refuses a SARIF file in which a location has no artifact, so the declaration's file and line
    come with it, and the message says it is the account's."""
    arn = r.get("arn")
    if not r.get("file") or not isinstance(arn, str) or not arn or "physicalLocation" not in primary:
        return []
    return [{
        "id": 1,
        "physicalLocation": primary["physicalLocation"],
        "logicalLocations": [{"name": arn, "fullyQualifiedName": arn, "kind": "resource"}],
        "message": {"text": f"in the account: {arn}"},
    }]


def _logical_location(r: dict[str, Any]) -> dict[str, Any] | None:
    """The resource as a logical location. A live result has only this (no physicalLocation):
    named by its ARN (the result's ``arn``; for an older document ``values.arn`` or a resource id
    that is an ARN), kind "resource"; an error about a whole account or Region is the scope
    ``<account>/<region>``, kind "namespace"."""
    resource = r.get("resource_id")
    file = r.get("file")
    values = r.get("values") if isinstance(r.get("values"), dict) else {}
    if file:
        if not resource:
            return None
        return {"name": str(resource), "fullyQualifiedName": f"{_display_path(str(file))}:{resource}", "kind": "resource"}
    arn = next((a for a in (r.get("arn"), values.get("arn")) if isinstance(a, str) and a), None)
    if not arn and isinstance(resource, str) and resource.startswith("arn:"):
        arn = resource
    name = resource or arn
    if not name:
        account, region = r.get("account_id"), r.get("region")
        if not account and not region:
            return None
        scope = f"{account or 'unknown'}/{region or 'global'}"
        return {"name": scope, "fullyQualifiedName": scope, "kind": "namespace"}
    return {"name": str(name), "fullyQualifiedName": str(arn or name), "kind": "resource"}


def _most_severe(alerts: list[dict[str, Any]], keep: int) -> list[dict[str, Any]]:
    """The ``keep`` most important alerts, in their document order."""
    status_rank = {"fail": 0, "error": 1, "unknown": 2}

    def rank(item: tuple[int, dict[str, Any]]) -> tuple:
        position, r = item
        return (1 if r.get("suppression") else 0, -SEVERITIES.index(_severity(r.get("severity"))),
                status_rank.get(r.get("status"), 3), position)

    kept = sorted(enumerate(alerts), key=rank)[:keep]
    return [r for _, r in sorted(kept, key=lambda item: item[0])]


# ---------------------------------------------------------------------------------------------
# rules


def _rules(doc: dict[str, Any], alerts: list[dict[str, Any]], frameworks: list[dict[str, Any]],
           scan: dict[str, Any]) -> list[dict[str, Any]]:
    metadata: dict[str, dict[str, Any]] = {}
    for meta in doc.get("rules") or []:
        if isinstance(meta, dict) and meta.get("id"):
            metadata.setdefault(str(meta["id"]), meta)
    for r in alerts:
        rule_id = r.get("rule_id") or INPUT_ERROR_RULE
        if rule_id in metadata:
            continue
        if rule_id == INPUT_ERROR_RULE:
            metadata[rule_id] = _INPUT_ERROR_RULE
        else:  # a result whose rule the document does not describe (a hand-made or partial document)
            metadata[rule_id] = {"id": rule_id, "name": rule_id.lower(), "title": f"backupguard rule {rule_id}",
                                 "severity": _severity(r.get("severity"))}
    params_used: dict[str, list[dict[str, Any]]] = {}
    for check in scan.get("checks") or []:
        if isinstance(check, dict) and check.get("rule_id"):
            used = params_used.setdefault(str(check["rule_id"]), [])
            if check.get("parameters") is not None and check["parameters"] not in used:
                used.append(check["parameters"])
    rules = [_rule(metadata[rule_id], frameworks, params_used.get(rule_id, [])) for rule_id in sorted(metadata)]
    undecided = {r.get("rule_id") for r in alerts if r.get("status") == "unknown" and r.get("rule_id")}
    return rules + [_unknown_rule(rule) for rule in rules if rule["id"] in undecided]


def _unknown_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """``<rule>/unknown``: where the rule could not decide. Not a security finding (no
    ``security-severity``, no "security" tag), so GitHub shows a Note alert, never a High one."""
    prefix = f"backupguard could not decide {rule['id']} here (a value is unknown before deployment); review it.\n\n"
    tags = [tag for tag in rule["properties"]["tags"] if tag != "security"]
    return {
        "id": unknown_rule_id(rule["id"]),
        "name": (rule["name"] + "-undecided")[:MAX_NAME],
        "shortDescription": {"text": _clip(f"Undecided: {rule['shortDescription']['text']}", MAX_SHORT_DESCRIPTION)},
        "fullDescription": {"text": f"Cannot decide: {rule['fullDescription']['text']}"},
        "help": {"text": prefix + rule["help"]["text"], "markdown": prefix + rule["help"]["markdown"]},
        "helpUri": rule["helpUri"],
        "defaultConfiguration": {"level": "note"},
        "properties": {
            "tags": list(dict.fromkeys(["undecided", *tags]))[:MAX_TAGS],
            "precision": rule["properties"]["precision"],
            "problem.severity": "recommendation",
        },
        **({"relationships": rule["relationships"]} if rule.get("relationships") else {}),
    }


def _rule(meta: dict[str, Any], frameworks: list[dict[str, Any]], params_used: list[dict[str, Any]]) -> dict[str, Any]:
    rule_id = str(meta["id"])
    severity = _severity(meta.get("severity"))
    title = _text(meta.get("title")) or rule_id
    summary = _text(meta.get("summary")) or title
    help_uri = INPUT_ERROR_DOCS_URI if rule_id == INPUT_ERROR_RULE else RULE_DOCS_URI.format(id=rule_id)
    if not shipped_rule(rule_id):  # a user's rule (--rules-dir) has no page here: its own source, else the tool's
        source = _text(meta.get("source_url"))
        help_uri = source if source.startswith("https://") and " " not in source else INFORMATION_URI

    controls = []  # (taxonomy index, taxon index, framework id, control)
    for f_index, framework in enumerate(frameworks):
        for c_index, control in enumerate(framework.get("controls") or []):
            if rule_id in (control.get("rules") or []):
                controls.append((f_index, c_index, str(framework["id"]), control))

    text, markdown = _help(meta, title, summary, severity, controls, params_used, help_uri)
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": (_text(meta.get("name")) or rule_id.lower())[:MAX_NAME],
        "shortDescription": {"text": _clip(title, MAX_SHORT_DESCRIPTION)},
        "fullDescription": {"text": summary},
        "help": {"text": text, "markdown": markdown},
        "helpUri": help_uri,
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "tags": _tags(meta, controls),
            "security-severity": SECURITY_SEVERITY[severity],
            "precision": PRECISION.get(str(meta.get("evidence") or "any"), "high"),
            "problem.severity": PROBLEM_SEVERITY[severity],
        },
    }
    if rule_id == INPUT_ERROR_RULE:  # an unreadable file: an Error alert on it, not a security finding
        rule["defaultConfiguration"] = {"level": "error"}
        rule["properties"] = {"tags": ["backup", "input-error"], "precision": "very-high", "problem.severity": "error"}
    elif rule_id in META_RULE_IDS:  # about a suppression or waiver, not the backups: no security severity
        rule["properties"] = {"tags": ["backup", "suppression"], "precision": "very-high",
                              "problem.severity": PROBLEM_SEVERITY[severity]}
    if controls:
        rule["relationships"] = [
            {
                "target": {"id": str(control["id"]), "index": c_index,
                           "toolComponent": {"name": framework_id, "index": f_index}},
                "kinds": ["relevant"],
            }
            for f_index, c_index, framework_id, control in controls
        ]
    return rule


def _tags(meta: dict[str, Any], controls: list[tuple]) -> list[str]:
    tags = ["security", "backup"]
    for _, _, framework_id, control in controls:
        tags += [framework_id, f"{framework_id}:{control['id']}"]
    references = meta.get("references") or {}
    for key, _ in _REFERENCE_LABELS:
        value = references.get(key)
        items = value if isinstance(value, list) else str(value or "").split(",")
        tags += [str(item).strip() for item in items]
    return list(dict.fromkeys(tag for tag in tags if tag))[:MAX_TAGS]


def _help(meta: dict[str, Any], title: str, summary: str, severity: str, controls: list[tuple],
          params_used: list[dict[str, Any]], help_uri: str) -> tuple[str, str]:
    """help.text and help.markdown: the same sections, plain and in Markdown (like docs/rules/<ID>.md)."""
    text: list[str] = [f"{title} (severity: {severity})", "", summary]
    md: list[str] = [f"**{_md(title)}** (severity: {severity})", "", _md(summary)]

    def section(heading: str, body: str) -> None:
        text.extend(["", f"{heading}:", body])
        md.extend(["", f"## {heading}", "", _md(body)])

    for key, heading in (("rationale", "Why it matters"), ("remediation", "How to fix it")):
        if _text(meta.get(key)):
            section(heading, _text(meta[key]))
    examples = meta.get("examples") if isinstance(meta.get("examples"), dict) else {}
    for key, heading in (("fail", "Example that fails"), ("pass", "Example that passes")):
        example = str(examples.get(key) or "").rstrip()
        if example:
            fence = "~~~~" if "```" in example else "```"
            text.extend(["", f"{heading}:", *("    " + line if line else "" for line in example.splitlines())])
            md.extend(["", f"## {heading}", "", f"{fence}yaml", example, fence])

    # A saved document is input: a rule's parameters that are not an object are shown as none.
    parameters = meta.get("parameters") if isinstance(meta.get("parameters"), dict) else {}
    if parameters:
        text.extend(["", "Parameters:"])
        md.extend(["", "## Parameters", "", "| name | type | default | this scan | description |",
                   "| --- | --- | --- | --- | --- |"])
        for name in sorted(parameters):
            param = parameters[name] if isinstance(parameters[name], dict) else {}
            default = _json(param.get("default"))
            used = " / ".join(dict.fromkeys(_json(p[name]) for p in params_used if isinstance(p, dict) and name in p)) or default
            description = _text(param.get("description"))
            text.append(f"  {name} ({param.get('type', '')}, default {default}, this scan {used}): {description}")
            md.append(f"| `{name}` | {_md_cell(str(param.get('type', '')))} | `{_md_cell(default)}` | "
                      f"`{_md_cell(used)}` | {_md_cell(_md(description))} |")
        text.append(f"  Override with --param {meta['id']}.NAME=VALUE or in .backupguard.yaml.")
        md.extend(["", f"Override with `--param {meta['id']}.NAME=VALUE` or in `.backupguard.yaml`."])

    if _text(meta.get("known_limits")):
        section("Known limits", _text(meta["known_limits"]))

    if controls:
        lines = [f"{framework_id} {control['id']}: {_text(control.get('title'))}" for _, _, framework_id, control in controls]
        text.extend(["", "Framework controls:", *("  - " + line for line in lines)])
        md.extend(["", "## Framework controls", "", *("- " + _md(line) for line in lines)])

    references = meta.get("references") or {}
    refs = [f"Source: {meta['source_url']}"] if meta.get("source_url") else []
    md_refs = [f"Source: <{meta['source_url']}>"] if meta.get("source_url") else []
    for key, label in _REFERENCE_LABELS:
        value = references.get(key)
        if value:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            refs.append(f"{label}: {shown}")
            md_refs.append(f"{label}: {_md(shown)}")
    if refs:
        text.extend(["", "References:", *("  - " + line for line in refs)])
        md.extend(["", "## References", "", *("- " + line for line in md_refs)])

    text.extend(["", f"Documentation: {help_uri}"])
    md.extend(["", f"[Rule documentation]({help_uri})"])
    return "\n".join(text) + "\n", "\n".join(md) + "\n"


# ---------------------------------------------------------------------------------------------
# frameworks, run details


def _taxonomy(framework: dict[str, Any]) -> dict[str, Any]:
    taxa = []
    for control in framework.get("controls") or []:
        title = _text(control.get("title")) or str(control["id"])
        taxon: dict[str, Any] = {
            "id": str(control["id"]),
            "name": title[:MAX_NAME],
            "shortDescription": {"text": _clip(title, MAX_SHORT_DESCRIPTION)},
        }
        properties = {key: control[key] for key in ("status", "results", "rules") if control.get(key) is not None}
        if properties:
            taxon["properties"] = properties
        taxa.append(taxon)
    title = _text(framework.get("title")) or str(framework["id"])
    taxonomy: dict[str, Any] = {
        "name": str(framework["id"]),
        "fullName": title,
        "shortDescription": {"text": _clip(title, MAX_SHORT_DESCRIPTION)},
        "taxa": taxa,
    }
    if _text(framework.get("description")):
        taxonomy["fullDescription"] = {"text": _text(framework["description"])}
    if framework.get("source_url"):
        taxonomy["informationUri"] = str(framework["source_url"])
    return taxonomy


def automation_id(paths: list[str]) -> str:
    """``backupguard/<slug>/``: a stable category per set of scanned paths (order and "./" do not matter)."""
    slugs = sorted({_slug(str(p)) for p in paths}) or ["root"]
    slug = "+".join(slugs)
    if len(slug) > 80:
        slug = slug[:60].rstrip("+-.") + "-" + hashlib.sha256(slug.encode("utf-8")).hexdigest()[:12]
    return f"backupguard/{slug}/"


def _slug(path: str) -> str:
    norm = posixpath.normpath(path.replace("\\", "/"))
    norm = re.sub(r"^[A-Za-z]:", "", norm)
    parts = [part for part in norm.split("/") if part not in ("", ".", "..")]
    slug = re.sub(r"[^a-z0-9._-]+", "-", "-".join(parts).lower()).strip("-.")
    return slug or "root"


@lru_cache(maxsize=4096)
def file_uri(path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId) of a result's file: relative and percent-encoded, or absolute ``file://``."""
    path = path.replace("\\", "/")
    if path.startswith("/") or re.match(r"^[A-Za-z]:/", path):
        absolute = posixpath.normpath(path)
        if not absolute.startswith("/"):
            absolute = "/" + absolute
        return "file://" + quote(absolute, safe="/!$&'()*+,;=@:"), None
    return quote(_display_path(path), safe="/!$&'()*+,;=@"), SRCROOT


@lru_cache(maxsize=4096)
def _display_path(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/"))


def _semantic_version(version: str) -> str | None:
    """SemVer 2.0 of the tool version: as is when it is SemVer, else mapped from PEP 440 (0.2.0.dev1 -> 0.2.0-dev.1)."""
    semver = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
    if semver.match(version):
        return version
    match = re.match(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?[.-]?([A-Za-z0-9.]*)(?:\+([0-9A-Za-z.]+))?$", version)
    if not match:
        return None
    major, minor, patch, pre, build = match.groups()
    core = ".".join(str(int(n or 0)) for n in (major, minor, patch))
    pre_ids = [p for p in re.split(r"[.]|(?<=[A-Za-z])(?=\d)", pre or "") if p]
    pre_ids = [str(int(p)) if p.isdigit() else p for p in pre_ids]
    candidate = core + (f"-{'.'.join(pre_ids)}" if pre_ids else "") + (f"+{build}" if build else "")
    return candidate if semver.match(candidate) else None


# ---------------------------------------------------------------------------------------------
# small helpers


def _notification(level: str, text: str) -> dict[str, Any]:
    return {"level": level, "message": {"text": text}}


def _severity(value: Any) -> str:
    return value if value in SEVERITIES else "medium"


def _positive(value: Any) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value else ""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md(text: str) -> str:
    """Rule prose as Markdown: it is written as Markdown already (backtick code spans), but a bare
    ``<key>`` would read as an HTML tag and vanish, so escape ``<`` outside code spans."""
    parts = text.split("`")
    return "`".join(part if i % 2 else part.replace("<", "\\<") for i, part in enumerate(parts))


def _dumps(sarif: dict[str, Any]) -> str:
    return json_safe(json.dumps(sarif, indent=2, ensure_ascii=False, sort_keys=True)) + "\n"


def _gzip_size(text: str) -> int:
    data = text.encode("utf-8")
    if len(data) <= MAX_GZIP_BYTES:  # compression never makes JSON text much larger: skip the work
        return len(data)
    return len(gzip.compress(data, compresslevel=6, mtime=0))
