"""``backupguard export``: a framework as native AWS resources, so the policy checked in the pull
request also runs in the account.

    framework + the run's checks (parameters from the framework, the config file and --param)
      -> controls.audit_manager / config_rules.config_rules  (what AWS has for each rule)
      -> cloudformation / terraform / conformance_pack        (how each format spells it)

A rule with no native equivalent is never dropped silently: it is listed in a comment at the top
of the file and returned (the CLI prints it on stderr). The output depends on its input alone:
the same framework and parameters give the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from backupguard.export.controls import Mapping, Unmapped, derived_name, valid_name
from backupguard.frameworks import Framework

FORMATS = ("cloudformation", "terraform", "conformance-pack")
REPORT_TEMPLATES = {"control": "CONTROL_COMPLIANCE_REPORT", "resource": "RESOURCE_COMPLIANCE_REPORT"}
REPORT_FORMATS = ("CSV", "JSON")
DESCRIPTION_LIMIT = 1024
FRAMEWORK_TAG = "backupguard:framework"  # on the exported framework: which backupguard framework it came from
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class ExportError(Exception):
    """A request that cannot be exported (an invalid name or bucket): exit code 2."""


@dataclass(frozen=True)
class Request:
    format: str  # one of FORMATS
    name: str | None = None  # the framework's name in AWS; None: derived from its ID
    report: str | None = None  # a key of REPORT_TEMPLATES: also write a report plan
    report_bucket: str | None = None  # None: a template parameter (Terraform: a variable)


@dataclass(frozen=True)
class ReportPlan:
    name: str
    template: str
    bucket: str | None


@dataclass(frozen=True)
class Exported:
    text: str
    count: int  # controls or Config rules written
    kind: str  # what they are, for the summary line
    unmapped: tuple[Unmapped, ...]
    notes: tuple[str, ...]


def export(framework: Framework, checks: list, request: Request) -> Exported:
    """``framework`` with the run's ``checks`` (their parameters are the exported values) in ``request.format``."""
    from backupguard.export import cloudformation, conformance_pack, terraform
    from backupguard.export.config_rules import config_rules
    from backupguard.export.controls import audit_manager

    if request.format not in FORMATS:
        raise ExportError(f"unknown format {request.format!r} (formats: {', '.join(FORMATS)})")
    if request.format == "conformance-pack":
        if request.name is not None or request.report is not None or request.report_bucket is not None:
            raise ExportError("--name, --report-plan and --report-bucket are for an Audit Manager framework "
                              "(cloudformation or terraform), not a conformance pack")
        mapping = config_rules(framework, checks)
        body = conformance_pack.render(mapping.items)
        return _exported(framework, request, mapping, body, "AWS Config managed rules")
    name = request.name if request.name is not None else derived_name(framework.id)
    if not valid_name(name):
        raise ExportError(f"--name {name!r}: a framework name must match [a-zA-Z][_a-zA-Z0-9]* (letters, digits and "
                          "underscores, starting with a letter; no hyphens), at most 256 characters")
    report = _report_plan(name, request)
    mapping = audit_manager(framework, checks)
    if not mapping.items:
        raise ExportError(f"framework {framework.id} has no rule with an Audit Manager control: nothing to export "
                          "(--format conformance-pack exports its AWS Config rules)")
    renderer = cloudformation if request.format == "cloudformation" else terraform
    body = renderer.render(name, description(framework), framework.id, mapping.items, report)
    return _exported(framework, request, mapping, body, "Audit Manager controls")


def _report_plan(name: str, request: Request) -> ReportPlan | None:
    if request.report is None:
        if request.report_bucket is not None:
            raise ExportError("--report-bucket needs --report-plan")
        return None
    if request.report not in REPORT_TEMPLATES:
        raise ExportError(f"--report-plan {request.report!r}: expected {' or '.join(REPORT_TEMPLATES)}")
    if request.report_bucket is not None and not _BUCKET.fullmatch(request.report_bucket):
        raise ExportError(f"--report-bucket {request.report_bucket!r}: not an S3 bucket name "
                          "(3-63 lower-case letters, digits, dots and hyphens)")
    suffix = "_report"
    return ReportPlan(name[: 256 - len(suffix)] + suffix, REPORT_TEMPLATES[request.report], request.report_bucket)


def description(framework: Framework) -> str:
    return one_line(f"{framework.title} (backupguard framework {framework.id})")[:DESCRIPTION_LIMIT]


def one_line(value: Any) -> str:
    """Text from a framework or rule file in a comment or a description: one line, no control characters."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(value)).strip()


def _exported(framework: Framework, request: Request, mapping: Mapping, body: str, kind: str) -> Exported:
    header = [f"Generated by `backupguard export` ({request.format}) from the framework {framework.id},",
              f"{one_line(framework.title)}: {len(mapping.items)} {kind}."]
    if mapping.unmapped:
        header.append(f"Not exported, {len(mapping.unmapped)} rule(s) AWS has no equivalent for here "
                      "(backupguard lint and scan still check them):")
        header += [f"  {one_line(entry)}" for entry in mapping.unmapped]
    else:
        header.append("Every rule of the framework is exported.")
    if mapping.notes:
        header.append("Notes:")
        header += [f"  {one_line(note)}" for note in mapping.notes]
    text = "".join(f"# {line}".rstrip() + "\n" for line in header) + "\n" + body
    return Exported(text, len(mapping.items), kind, tuple(mapping.unmapped), tuple(mapping.notes))
