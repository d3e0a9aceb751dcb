"""Evidence rules (BG407, BG408, BG430-BG433): decided from what a live scan reads, against the
scan's own time; not applicable to templates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backupguard.estate import BackupEvidence, Estate, RecoveryPoint

from estate_builders import A, EAST, live, plan, results_for, selection, vault_arn, volume

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def point(resource_arn: str, age: timedelta, *, keep_days: float | None = 35, encrypted: bool = True,
          air_gapped: bool = False, status: str = "COMPLETED", n: int = 0) -> RecoveryPoint:
    created = NOW - age
    vault = vault_arn(A, EAST, "airgapped" if air_gapped else "main")
    arn = f"arn:aws:ec2:{EAST}::snapshot/snap-{n:04d}"
    return RecoveryPoint(
        arn=arn, resource_arn=resource_arn, resource_type="EBS", vault_arn=vault, created=created, status=status,
        origin=live(A, EAST, arn), encrypted=encrypted,
        delete_at=None if keep_days is None else created + timedelta(days=keep_days), air_gapped_vault=air_gapped,
    )


def estate_with(points: list[RecoveryPoint], *, selected: bool = True, restore: int | None = None) -> tuple[Estate, str]:
    vol = volume(A, EAST, "vol-1")
    vol.evidence = BackupEvidence(as_of=NOW, latest_restore_minutes=restore)
    estate = Estate(resources=[vol], recovery_points=points)
    if selected:
        p = plan(A, EAST, "daily", 35, "main")
        estate.plans.append(p)
        estate.selections.append(selection(A, EAST, p.resource_id, [vol.arn]))
    return estate, vol.arn


def verdict(estate: Estate, rule_id: str) -> list[tuple[str, str]]:
    return [(r.status, r.message) for r in results_for(estate, rule_id)]


def test_bg407_age_of_the_newest_usable_point_against_the_scan_time():
    estate, arn = estate_with([point("x", timedelta(hours=1))])
    assert verdict(estate, "BG407") == [("fail", "the newest recovery point: none; allowed age 1 days")]
    estate, arn = estate_with([])
    estate.recovery_points = [point(arn, timedelta(hours=5), n=1), point(arn, timedelta(days=3), n=2)]
    assert verdict(estate, "BG407") == [("pass", "the newest recovery point was created 5 hours ago")]
    # A newer point that failed does not count.
    estate.recovery_points = [point(arn, timedelta(hours=1), status="PARTIAL", n=1), point(arn, timedelta(days=3), n=2)]
    assert verdict(estate, "BG407") == [("fail", "the newest recovery point: 3.0 days ago; allowed age 1 days")]


def test_bg408_restore_time_only_where_a_restore_is_recorded():
    estate, _ = estate_with([], restore=900)
    assert verdict(estate, "BG408") == [("fail", "the latest restore took 900 minutes; target 720")]
    estate, _ = estate_with([], restore=45)
    assert verdict(estate, "BG408") == [("pass", "the latest restore took 45 minutes")]
    estate, _ = estate_with([], restore=None)
    assert verdict(estate, "BG408") == []  # no restore recorded: nothing to measure


def test_bg430_each_recovery_point_is_encrypted():
    estate, arn = estate_with([])
    estate.recovery_points = [point(arn, timedelta(hours=1), n=1), point(arn, timedelta(hours=2), encrypted=False, n=2)]
    assert sorted(verdict(estate, "BG430")) == [
        ("fail", f"recovery point arn:aws:ec2:{EAST}::snapshot/snap-0002 is not encrypted"),
        ("pass", f"recovery point arn:aws:ec2:{EAST}::snapshot/snap-0001 is encrypted"),
    ]


def test_bg431_retention_from_the_calculated_lifecycle():
    estate, arn = estate_with([])
    estate.recovery_points = [point(arn, timedelta(hours=1), keep_days=7, n=1), point(arn, timedelta(hours=1), keep_days=None, n=2)]
    assert sorted(verdict(estate, "BG431")) == [
        ("fail", f"recovery point arn:aws:ec2:{EAST}::snapshot/snap-0001 is kept 7 days; required 35 days"),
        ("pass", f"recovery point arn:aws:ec2:{EAST}::snapshot/snap-0002 is kept forever"),
    ]


def test_bg432_recent_copy_in_an_air_gapped_vault_for_protected_resources():
    estate, arn = estate_with([])
    estate.recovery_points = [point(arn, timedelta(hours=2), n=1), point(arn, timedelta(days=12), air_gapped=True, n=2)]
    assert verdict(estate, "BG432") == [("fail", "the newest copy in a logically air-gapped vault: 12.0 days ago; allowed age 7 days")]
    estate.recovery_points.append(point(arn, timedelta(days=1), air_gapped=True, n=3))
    assert verdict(estate, "BG432") == [("pass", "the newest copy in a logically air-gapped vault was created 24 hours ago")]
    unselected, _ = estate_with([], selected=False)
    assert verdict(unselected, "BG432") == []  # not selected: BG401 reports that


def test_bg433_selected_resource_without_a_recent_point():
    estate, arn = estate_with([])
    assert verdict(estate, "BG433") == [("fail", "selected by a plan, but the newest recovery point: none; allowed age 7 days")]
    estate.recovery_points = [point(arn, timedelta(hours=20))]
    assert verdict(estate, "BG433") == [("pass", "selected by a plan; the newest recovery point was created 20 hours ago")]


@pytest.mark.parametrize("rule_id", ["BG407", "BG408", "BG432", "BG433"])
def test_templates_report_the_evidence_rules_as_not_applicable(rule_id, lint_text):
    results = lint_text("Resources:\n  Vol:\n    Type: AWS::EC2::Volume\n    Properties: {AvailabilityZone: us-east-1a, Size: 1}\n")
    assert {r.status for r in results if r.rule_id == rule_id} == {"not_applicable"}

