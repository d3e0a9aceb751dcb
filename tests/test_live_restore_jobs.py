"""Restore readiness from a live scan: ListRestoreJobs (read-only, paginated) into RestoreJob records,
and the per-type rules BG440 and BG443 on what was read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backupguard.estate import Estate, RestoreJob, RestoreJobWindow, RestoreTestingPlan, RestoreTestingSelection, Unknown
from backupguard.scanner.aws import backup as backup_collector
from backupguard.scanner.aws.scope import Scope

from backupguard.rules import load_catalogue
from backupguard.rules.engine import Check, run

from estate_builders import A, EAST, live, plan, selection, volume
from live_fakes import StubAccess

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
SINCE = NOW - timedelta(days=35)
B = "444455556666"


def job(n: int, age: timedelta, kind: str = "EBS", account: str = A, tested: bool = True) -> RestoreJob:
    return RestoreJob(f"job-{n}", kind, NOW - age, live(account, EAST, f"arn:aws:ec2:{EAST}:{account}:volume/vol-r{n}"),
                      restore_testing_plan_arn=f"arn:aws:backup:{EAST}:{account}:restore-testing-plan:weekly" if tested else None,
                      validation_status="SUCCESSFUL" if tested else None)


def protected_estate(account: str = A, read: object = None, jobs: list[RestoreJob] = ()) -> Estate:
    """A protected EBS volume in one account and Region, with the restore jobs a scan read there."""
    vol = volume(account, EAST, "vol-1")
    p = plan(account, EAST, "daily", 35, "main")
    estate = Estate(resources=[vol], plans=[p], selections=[selection(account, EAST, p.resource_id, [vol.arn])])
    estate.restore_jobs = list(jobs)
    estate.restore_jobs_read[f"account {account} region {EAST}"] = RestoreJobWindow(NOW, SINCE) if read is None else read
    return estate


def verdict(estate: Estate, rule_id: str, **params) -> list[tuple[str, str]]:
    rule = load_catalogue()[rule_id]
    return [(r.status, r.message) for r in run(estate, [Check(rule, {**rule.defaults(), **params})])]


def test_bg443_the_newest_completed_restore_job_of_the_type():
    estate = protected_estate(jobs=[job(1, timedelta(days=40)), job(2, timedelta(days=3)), job(3, timedelta(days=1), "RDS")])
    assert verdict(estate, "BG443") == [
        ("pass", "the newest completed EBS restore: job job-2 (a restore test, validation SUCCESSFUL) 3 days ago")]
    old = protected_estate(jobs=[job(1, timedelta(days=31), tested=False)])
    assert verdict(old, "BG443") == [
        ("fail", "no EBS restore completed in the last 30 days (newest: job job-1 (an on-demand restore) 31 days ago)")]
    # Another account's job does not count for this one.
    other = protected_estate(jobs=[job(4, timedelta(days=1), account=B)])
    assert verdict(other, "BG443") == [("fail", "no EBS restore completed in the last 30 days (newest: none)")]


def test_bg443_unknown_when_the_jobs_were_not_read_or_not_far_enough_back():
    failed = protected_estate(read=Unknown(f"backup:ListRestoreJobs failed in account {A}, Region {EAST}"))
    assert verdict(failed, "BG443") == [
        ("unknown", f"Cannot decide: backup:ListRestoreJobs failed in account {A}, Region {EAST}")]
    # The scan read 35 days back; a rule asking for 60 cannot tell from "none in 35 days".
    assert verdict(protected_estate(), "BG443", max_days_since_restore=60) == [
        ("unknown", "Cannot decide: no EBS restore job completed in the 35 days the scan read (--lookback-days); "
                    "older ones were not read")]
    assert verdict(protected_estate(), "BG443", max_days_since_restore=35)[0][0] == "fail"


def test_bg440_on_a_live_estate_needs_a_selection_of_a_plan_that_exists():
    arn = f"arn:aws:backup:{EAST}:{A}:restore-testing-plan:weekly-1"
    estate = protected_estate()
    assert verdict(estate, "BG440") == [
        ("fail", "EBS resources (1 protected by plan 'daily') are covered by no restore testing selection")]
    estate.restore_testing_plans.append(RestoreTestingPlan(arn, "weekly", "cron(0 1 ? * SUN *)", {}, live(A, EAST, arn)))
    estate.restore_testing_selections.append(RestoreTestingSelection(
        f"{arn}/selection/ebs", "ebs", "weekly", {}, live(A, EAST, arn), protected_resource_type="EBS",
        protected_resource_arns=["*"], validation_window_hours=24))
    assert verdict(estate, "BG440") == [("pass", "EBS resources (protected by plan 'daily') are restore tested: "
                                                 "selection 'ebs' of restore testing plan 'weekly' (every resource of the type)")]
    # The same selection in another account tests nothing here.
    elsewhere = protected_estate(account=B)
    elsewhere.restore_testing_plans = estate.restore_testing_plans
    elsewhere.restore_testing_selections = estate.restore_testing_selections
    assert [s for s, _ in verdict(elsewhere, "BG440")] == ["fail"]


def _backup_client():
    import botocore.session

    session = botocore.session.get_session()
    return session.create_client("backup", EAST, aws_access_key_id="x", aws_secret_access_key="x")


def _job(n: int, kind: str = "EBS") -> dict:
    return {"RestoreJobId": f"job-{n}", "ResourceType": kind, "Status": "COMPLETED", "CreationDate": NOW - timedelta(days=n, hours=1),
            "CompletionDate": NOW - timedelta(days=n), "CreatedResourceArn": f"arn:aws:ec2:{EAST}:{A}:volume/vol-r{n}",
            "CreatedBy": {"RestoreTestingPlanArn": f"arn:aws:backup:{EAST}:{A}:restore-testing-plan:weekly"},
            "ValidationStatus": "SUCCESSFUL"}


def test_list_restore_jobs_follows_pages_and_asks_only_for_completed_jobs_in_the_lookback():
    pytest.importorskip("botocore")
    from botocore.stub import Stubber

    client = _backup_client()
    wanted = {"ByStatus": "COMPLETED", "ByCompleteAfter": SINCE}
    with Stubber(client) as stub:
        stub.add_response("list_restore_jobs", {"RestoreJobs": [_job(1), _job(2, "RDS")], "NextToken": "t"}, wanted)
        stub.add_response("list_restore_jobs", {"RestoreJobs": [_job(3)]}, {**wanted, "NextToken": "t"})
        scope = Scope(StubAccess({"backup": client}, A), A, EAST, EAST, NOW, SINCE)
        backup_collector.restore_jobs(scope, client)
        stub.assert_no_pending_responses()
    estate = scope.estate
    assert [(j.job_id, j.resource_type, j.completed, j.validation_status) for j in estate.restore_jobs] == [
        ("job-1", "EBS", NOW - timedelta(days=1), "SUCCESSFUL"), ("job-2", "RDS", NOW - timedelta(days=2), "SUCCESSFUL"),
        ("job-3", "EBS", NOW - timedelta(days=3), "SUCCESSFUL")]
    assert estate.restore_jobs[0].restore_testing_plan_arn.endswith(":restore-testing-plan:weekly")
    assert estate.restore_jobs_read == {f"account {A} region {EAST}": RestoreJobWindow(NOW, SINCE)}
    assert estate.errors == []


def test_access_denied_on_list_restore_jobs_is_one_located_error_and_unknown_evidence():
    pytest.importorskip("botocore")
    from botocore.stub import Stubber

    client = _backup_client()
    with Stubber(client) as stub:
        stub.add_response("list_restore_jobs", {"RestoreJobs": [_job(1)], "NextToken": "t"})
        stub.add_client_error("list_restore_jobs", "AccessDeniedException", "not authorized to list restore jobs",
                              http_status_code=403)
        stub.add_response("list_frameworks", {"Frameworks": []})
        scope = Scope(StubAccess({"backup": client}, A), A, EAST, EAST, NOW, SINCE)
        backup_collector.restore_jobs(scope, client)
        scope.call("backup", "ListFrameworks", lambda: backup_collector._frameworks(scope, client))  # the scan goes on
        stub.assert_no_pending_responses()
    estate = scope.estate
    assert [(e.code, e.origin.account, e.origin.region) for e in estate.errors] == [("aws-access-denied", A, EAST)]
    assert "ListRestoreJobs failed" in estate.errors[0].message and "not authorized to list restore jobs" in estate.errors[0].message
    assert estate.restore_jobs == []  # a partial read is not evidence: the first page is dropped
    read = estate.restore_jobs_read[f"account {A} region {EAST}"]
    assert isinstance(read, Unknown) and "ListRestoreJobs failed" in read.reason


def test_templates_report_bg443_not_applicable(lint_text):
    text = (Path(__file__).parent / "fixtures" / "rules" / "BG440.yaml").read_text("utf-8")
    results = lint_text(text)
    assert {r.status for r in results if r.rule_id == "BG443"} == {"not_applicable"}
    assert {r.resource_id for r in results if r.rule_id == "BG443"} == {"Volume", "Table", "FileSystem", "Database"}

