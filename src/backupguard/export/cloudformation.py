"""An exported framework as a CloudFormation template: AWS::Backup::Framework (and AWS::Backup::ReportPlan).

YAML, because only YAML templates take the comment that lists what was not exported. Intrinsic
functions are in their long form (``Fn::GetAtt``), which plain YAML can write.
"""

from __future__ import annotations

from typing import Any

import yaml

from backupguard.export.controls import NativeControl

BUCKET_PARAMETER = "ReportBucketName"


def render(name: str, description: str, framework_id: str, controls: list[NativeControl], report: Any) -> str:
    from backupguard.export import FRAMEWORK_TAG, REPORT_FORMATS

    framework_arn = {"Fn::GetAtt": ["Framework", "FrameworkArn"]}
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
    }
    if report is not None and report.bucket is None:
        template["Parameters"] = {BUCKET_PARAMETER: {
            "Type": "String", "Description": "S3 bucket the report plan delivers its reports to"}}
    resources: dict[str, Any] = {"Framework": {"Type": "AWS::Backup::Framework", "Properties": {
        "FrameworkName": name,
        "FrameworkDescription": description,
        "FrameworkControls": [_control(c) for c in controls],
        "FrameworkTags": [{"Key": FRAMEWORK_TAG, "Value": framework_id}],
    }}}
    outputs: dict[str, Any] = {"FrameworkArn": {"Description": "The exported framework", "Value": framework_arn}}
    if report is not None:
        resources["ReportPlan"] = {"Type": "AWS::Backup::ReportPlan", "Properties": {
            "ReportPlanName": report.name,
            "ReportPlanDescription": f"{report.template} of {name}",
            "ReportDeliveryChannel": {
                "S3BucketName": report.bucket if report.bucket is not None else {"Ref": BUCKET_PARAMETER},
                "Formats": list(REPORT_FORMATS),
            },
            "ReportSetting": {"ReportTemplate": report.template, "FrameworkArns": [framework_arn]},
        }}
        outputs["ReportPlanArn"] = {"Description": "The report plan", "Value": {"Fn::GetAtt": ["ReportPlan", "ReportPlanArn"]}}
    template["Resources"] = resources
    template["Outputs"] = outputs
    return dump(template)


def _control(control: NativeControl) -> dict[str, Any]:
    entry: dict[str, Any] = {"ControlName": control.name}
    if control.parameters:
        entry["ControlInputParameters"] = [{"ParameterName": k, "ParameterValue": v} for k, v in control.parameters]
    scope: dict[str, Any] = {}
    if control.resource_types is not None:
        scope["ComplianceResourceTypes"] = list(control.resource_types)
    if control.tags:
        scope["Tags"] = [{"Key": k, "Value": v} for k, v in control.tags]
    if scope:
        entry["ControlScope"] = scope
    return entry


class _Dumper(yaml.SafeDumper):
    """CloudFormation refuses YAML aliases: a value used twice (the framework's ARN) is written twice."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(document: dict[str, Any]) -> str:
    """Block-style YAML in the order given; strings that would read as numbers or dates are quoted."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=10_000)
