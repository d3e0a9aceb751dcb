"""An exported framework as Terraform: aws_backup_framework (and aws_backup_report_plan), in HCL."""

from __future__ import annotations

import json
from typing import Any

from backupguard.export.controls import NativeControl

BUCKET_VARIABLE = "report_bucket_name"


def string(value: str) -> str:
    """An HCL string literal: JSON's escapes, and template sequences (${, %{) escaped too."""
    return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")


def render(name: str, description: str, framework_id: str, controls: list[NativeControl], report: Any) -> str:
    from backupguard.export import FRAMEWORK_TAG, REPORT_FORMATS

    lines = [f'resource "aws_backup_framework" "{name}" {{',
             f"  name        = {string(name)}",
             f"  description = {string(description)}"]
    for control in controls:
        lines += ["", "  control {", f"    name = {string(control.name)}"]
        for key, value in control.parameters:
            lines += ["", "    input_parameter {", f"      name  = {string(key)}", f"      value = {string(value)}", "    }"]
        if control.resource_types is not None or control.tags:
            lines += ["", "    scope {"]
            if control.resource_types is not None:
                lines.append(f"      compliance_resource_types = [{', '.join(map(string, control.resource_types))}]")
            if control.tags:
                lines += ["      tags = {", *(f"        {string(k)} = {string(v)}" for k, v in control.tags), "      }"]
            lines.append("    }")
        lines.append("  }")
    lines += ["", "  tags = {", f"    {string(FRAMEWORK_TAG)} = {string(framework_id)}", "  }", "}"]
    if report is not None:
        bucket = string(report.bucket) if report.bucket is not None else f"var.{BUCKET_VARIABLE}"
        if report.bucket is None:
            lines += ["", f'variable "{BUCKET_VARIABLE}" {{', "  type        = string",
                      '  description = "S3 bucket the report plan delivers its reports to"', "}"]
        lines += ["", f'resource "aws_backup_report_plan" "{report.name}" {{',
                  f"  name        = {string(report.name)}",
                  f"  description = {string(f'{report.template} of {name}')}",
                  "", "  report_delivery_channel {",
                  f"    s3_bucket_name = {bucket}",
                  f"    formats        = [{', '.join(map(string, REPORT_FORMATS))}]",
                  "  }", "", "  report_setting {",
                  f"    report_template = {string(report.template)}",
                  f"    framework_arns  = [aws_backup_framework.{name}.arn]",
                  "  }", "}"]
    lines += ["", f'output "{name}_arn" {{', f"  value = aws_backup_framework.{name}.arn", "}"]
    return "\n".join(lines) + "\n"
