"""The protection inventory: one line per protectable resource, for coverage tables in reports.

Built from the same ``resource`` subjects the rules read, so the table an
auditor sees and the findings an engineer sees agree. Values are JSON-ready:
an unknown becomes ``{"unknown": reason}``.
"""

from __future__ import annotations

from typing import Any

from backupguard.estate import Reference, Unknown
from backupguard.resolve import Subject


def _plain(value: Any) -> Any:
    if isinstance(value, Unknown):
        return {"unknown": value.reason}
    if isinstance(value, Reference):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else []


def _best(views: list[dict[str, Any]], key: str, pick: Any) -> Any:
    """The best known value of ``key`` among covering rules (None: none is known)."""
    known = [v[key] for v in views if isinstance(v.get(key), (int, float)) and not isinstance(v.get(key), bool)]
    return pick(known) if known else None


def _any(views: list[dict[str, Any]], key: str) -> Any:
    values = [v.get(key) for v in views]
    if any(value is True for value in values):
        return True
    unknown = next((value for value in values if isinstance(value, Unknown)), None)
    return unknown if unknown is not None else (False if views else None)


def _protection(covering: list[dict[str, Any]]) -> dict[str, Any]:
    """What the covering rules say of a resource's protection (the row's columns after ``protected_by``)."""
    views = [v for v in covering if v.get("certain") is not False]
    forever = any(v.get("retention_days") is None and v.get("certain") is True for v in views)
    return {
        "plans": sorted({str(v.get("plan")) for v in views}),
        "shortest_interval_hours": _best(views, "max_gap_hours", min),
        "longest_retention_days": "forever" if forever else _best(views, "retention_days", max),
        "copy_regions": sorted({r for v in views for r in _listed(v.get("copy_regions")) if isinstance(r, str)}),
        "copy_accounts": sorted({a for v in views for a in _listed(v.get("copy_accounts")) if isinstance(a, str)}),
        "cross_region_copy": _plain(_any(views, "cross_region_copy")),
        "cross_account_copy": _plain(_any(views, "cross_account_copy")),
        "locked_vault": _plain(_any(views, "vault_locked")),
        "air_gapped": _plain(_any(views, "air_gapped")),
    }


def row(subject: Subject, shared: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A resource's row. ``shared``: the protection of each list of covering rules seen so far (the
    resolver shares rule views, and thousands of resources under the same plans share the list's)."""
    facts = subject.facts
    covering = facts.get("covering_rules") or []
    key = id(covering) if covering else 0  # a shared list, alive in the subject's facts, is known by its identity
    protection = shared.get(key) if shared is not None else None
    if protection is None:
        protection = _protection(covering)
        if shared is not None:
            shared[key] = protection
    return {
        "resource_id": subject.resource_id,
        "resource_type": subject.resource_type,
        "service": facts.get("service"),
        "file": subject.origin.file,
        "line": subject.origin.line,
        "arn": subject.origin.arn,
        "protected": _plain(facts.get("protected")),
        "protected_by": facts.get("protected_by"),
        **protection,
    }


def inventory(resources: list[Subject]) -> list[dict[str, Any]]:
    """Every protectable resource's protection, in source order."""
    shared: dict[int, dict[str, Any]] = {}
    return [row(subject, shared) for subject in resources]
