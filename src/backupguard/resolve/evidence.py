"""Live evidence: are the backups really there, and do restores work?

Only a live scan has it (recovery points, ``ListProtectedResources``, restore jobs); the rules
that read these facts declare ``evidence: live`` and are not applicable to templates. Ages are
computed against the time the scan read them (``BackupEvidence.as_of``), never the clock of
whoever renders the report, so the same scan always gives the same results.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backupguard.estate import Estate, ProtectedResource, RecoveryPoint

USABLE = frozenset({"COMPLETED", "AVAILABLE"})  # a recovery point that can be restored


def points_by_resource(estate: Estate) -> dict[str, list[RecoveryPoint]]:
    """Recovery points keyed by the ARN of the resource they protect, newest first."""
    grouped: dict[str, list[RecoveryPoint]] = {}
    for point in estate.recovery_points:
        grouped.setdefault(point.resource_arn, []).append(point)
    for points in grouped.values():
        points.sort(key=lambda p: (p.created, p.arn), reverse=True)
    return grouped


def _hours(later: datetime, earlier: datetime) -> float:
    return round((later - earlier).total_seconds() / 3600, 1)


def describe_age(hours: float | None) -> str:
    if hours is None:
        return "none"
    return f"{hours:g} hours ago" if hours < 48 else f"{hours / 24:.1f} days ago"


def resource_evidence(resource: ProtectedResource, points: list[RecoveryPoint]) -> dict[str, Any]:
    """Facts of the evidence rules for one resource (empty for a template's resource)."""
    evidence = resource.evidence
    if evidence is None:
        return {}
    usable = [p for p in points if p.status in USABLE]
    newest = max([p.created for p in usable] + ([evidence.last_backup_time] if evidence.last_backup_time else []), default=None)
    age = _hours(evidence.as_of, newest) if newest else None
    air_gapped = next((p.created for p in usable if p.air_gapped_vault), None)
    air_age = _hours(evidence.as_of, air_gapped) if air_gapped else None
    return {
        "last_recovery_point_age_hours": age,
        "last_recovery_point_age_days": None if age is None else round(age / 24, 2),
        "last_recovery_point": describe_age(age),
        "latest_restore_minutes": evidence.latest_restore_minutes,
        "air_gapped_copy_age_days": None if air_age is None else round(air_age / 24, 2),
        "air_gapped_copy": describe_age(air_age),
    }


def retention_days(point: RecoveryPoint) -> float | None:
    """How long AWS Backup keeps the point (``CalculatedLifecycle.DeleteAt``); None: forever."""
    if point.delete_at is None:
        return None
    return round((point.delete_at - point.created).total_seconds() / 86400, 2)


def recovery_point_facts(point: RecoveryPoint) -> dict[str, Any]:
    days = retention_days(point)
    return {
        "arn": point.arn,
        "resource_arn": point.resource_arn,
        "service": point.resource_type,
        "vault_arn": point.vault_arn,
        "status": point.status,
        "encrypted": point.encrypted,
        "encryption_key_arn": point.encryption_key_arn,
        "retention_days": days,
        "retention": "forever" if days is None else f"{days:g} days",
        "air_gapped_vault": point.air_gapped_vault,
    }
