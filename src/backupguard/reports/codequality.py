"""GitLab Code Quality report (``--format codequality``): a JSON array of issues for
``artifacts:reports:codequality``, shown in the merge request widget and the pipeline's Code Quality tab.

GitLab reads a subset of the Code Climate issue format; each issue has exactly the fields GitLab
documents as required:

===================  =================================================================================
``description``      ``<rule> <resource>: <message>``, made printable (no control or bidi characters)
``check_name``       the rule ID; ``<rule>/unknown`` for a result the rule could not decide (as in SARIF)
``fingerprint``      the result's fingerprint (unique in a run, no line number: a moved block keeps its
                     identity, so GitLab compares the branch with its target correctly); an unknown
                     result's is derived from it, so a result decided later appears as a new issue
``severity``         critical -> ``blocker``, high -> ``critical``, medium -> ``major``, low -> ``minor``,
                     info -> ``info``; an unknown result ``info``; an input error (BG000) ``major``
``location.path``    the file, relative to the directory backupguard ran from (run it from the
                     repository root, as GitLab expects paths relative to it)
``location.lines``   ``{"begin": line}`` (at least 1)
===================  =================================================================================

Which results: failing, unknown and error results that are not suppressed (inline or waived).
Results already in a ``--baseline`` are kept (they are still problems; GitLab itself compares the
branch's report with the target branch's and shows what is new). A result without a file (a live
scan's) has nowhere to be shown in a repository and is left out.
"""

from __future__ import annotations

import json
from typing import Any

from backupguard.reports.json_report import results_of
from backupguard.reports.printable import json_safe, printable
from backupguard.results import INPUT_ERROR_RULE, fingerprint

SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor", "info": "info"}
UNKNOWN_SUFFIX = "/unknown"


def issues(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for result in results_of(doc):
        if result.status not in ("fail", "unknown", "error") or result.suppressed or not result.file:
            continue
        check, issue_fingerprint, severity = result.rule_id, result.fingerprint, SEVERITY.get(result.severity, "major")
        if result.status == "unknown":
            check, severity = result.rule_id + UNKNOWN_SUFFIX, "info"
            issue_fingerprint = fingerprint(result.fingerprint, UNKNOWN_SUFFIX)
        elif result.status == "error" or result.rule_id == INPUT_ERROR_RULE:
            severity = "major"
        where = f" {result.resource_id}" if result.resource_id else ""
        if result.element:
            where += f" ({result.element})"
        found.append({
            "description": printable(f"{check}{where}: {result.message}"),
            "check_name": check,
            "fingerprint": issue_fingerprint or fingerprint(check, result.file, result.resource_id, str(result.line)),
            "severity": severity,
            "location": {"path": result.file, "lines": {"begin": max(int(result.line or 1), 1)}},
        })
    return found


def render(doc: dict[str, Any]) -> str:
    return json_safe(json.dumps(issues(doc), indent=2, ensure_ascii=False)) + "\n"
