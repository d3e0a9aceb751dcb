"""Exported Config managed rules as an AWS Config conformance pack template (AWS::Config::ConfigRule
resources with Owner AWS), deployable with ``aws configservice put-conformance-pack``."""

from __future__ import annotations

import re
from typing import Any

from backupguard.export.cloudformation import dump
from backupguard.export.config_rules import ConfigRule


def render(rules: list[ConfigRule]) -> str:
    resources: dict[str, Any] = {}
    for rule in rules:
        properties: dict[str, Any] = {"ConfigRuleName": rule.name}
        if rule.parameters:
            properties["InputParameters"] = dict(rule.parameters)
        if rule.tag is not None:
            properties["Scope"] = {"TagKey": rule.tag[0], "TagValue": rule.tag[1]}
        properties["Source"] = {"Owner": "AWS", "SourceIdentifier": rule.identifier}
        resources[logical_id(rule.name)] = {"Type": "AWS::Config::ConfigRule", "Properties": properties}
    return dump({"Resources": resources})


def logical_id(name: str) -> str:
    """ebs-resources-protected-by-backup-plan-2 -> EbsResourcesProtectedByBackupPlan2."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))
