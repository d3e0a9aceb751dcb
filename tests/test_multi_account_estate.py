"""A file-less estate spanning accounts and Regions (what a live scan builds) gives the same answers
as a template: links by (account, Region, name) or ARN, never by folder; coverage per account and Region."""

from __future__ import annotations

from backupguard.estate import Estate, VaultLock
from backupguard.resolve import subjects
from backupguard.resolve.coverage import _elsewhere

from estate_builders import A, B, EAST, WEST, plan, results_for, selection, vault, vault_arn, volume

LOCK = VaultLock(min_retention_days=30, max_retention_days=365, changeable_for_days=3)


def test_a_plan_targets_the_vault_of_its_own_account_not_a_namesake_elsewhere():
    # Account A's "main" vault is locked at >= 30 days; account B's "main" is not locked.
    estate = Estate(
        vaults=[vault(A, EAST, "main", LOCK), vault(B, EAST, "main")],
        plans=[plan(B, EAST, "short", 7, "main")],
    )
    bg107 = results_for(estate, "BG107")
    # B's 7-day rule targets B's unlocked vault: the lock bounds of A's vault do not apply (no result).
    assert bg107 == [], [(r.status, r.message) for r in bg107]

    estate.plans = [plan(A, EAST, "short", 7, "main")]
    bg107 = results_for(estate, "BG107")
    assert [r.status for r in bg107] == ["fail"], [(r.status, r.message) for r in bg107]


def test_a_copy_to_another_accounts_scanned_vault_is_linked_by_arn():
    dest = vault_arn(B, WEST, "dr")
    estate = Estate(
        vaults=[vault(A, EAST, "main"), vault(B, WEST, "dr", LOCK)],
        plans=[plan(A, EAST, "copy", 7, "main", copies=[dest])],
    )
    bg108 = results_for(estate, "BG108")
    # The destination's lock (>= 30 days) is known because its vault was scanned: a 7-day copy fails.
    assert [r.status for r in bg108] == ["fail"], [(r.status, r.message) for r in bg108]


def test_coverage_never_crosses_accounts_or_regions_and_matches_the_pairwise_definition():
    estate = Estate()
    for account in (A, B):
        for region in (EAST, WEST):
            p = plan(account, region, "daily", 35, "main")
            estate.plans.append(p)
            estate.vaults.append(vault(account, region, "main"))
            estate.selections.append(selection(account, region, p.resource_id, ["arn:aws:ec2:*:*:volume/*"]))
            estate.resources.append(volume(account, region, f"vol-{account[:1]}{region[:2]}"))
    # One more volume in an account/Region where no plan exists.
    estate.resources.append(volume("333333333333", EAST, "vol-orphan"))
    by_kind = subjects(estate)
    covered = {s.resource_id: s.facts["protected"] for s in by_kind["resource"]}
    for resource in estate.resources:
        assert covered[resource.resource_id] is (resource.origin.account != "333333333333")
        pairs = [s for s in estate.selections if not _elsewhere(s, resource)]
        assert len(pairs) == (0 if resource.origin.account == "333333333333" else 1)
    plans_of = {s.resource_id: s.facts.get("protected_by") for s in by_kind["resource"]}
    vol_a_east = volume(A, EAST, f"vol-{A[:1]}{EAST[:2]}").resource_id
    assert plans_of[vol_a_east] == "plan 'daily' (selection 'all': ARN arn:aws:ec2:*:*:volume/*)"


def test_region_opt_in_is_read_for_the_resources_own_account_and_region():
    from backupguard.estate import ProtectedResource
    from estate_builders import live

    estate = Estate(opt_in={f"account {A} region {EAST}": {"S3": True}, f"account {B} region {EAST}": {"S3": False}})
    for account in (A, B):
        p = plan(account, EAST, "daily", 35, "main")
        estate.plans.append(p)
        estate.selections.append(selection(account, EAST, p.resource_id, ["*"]))
        arn = f"arn:aws:s3:::bucket-{account}"
        estate.resources.append(ProtectedResource(arn, "AWS::S3::Bucket", "S3", live(account, EAST, arn), arn=arn))
    protected = {s.resource_id: s.facts["protected"] for s in subjects(estate)["resource"]}
    # S3 is opted in for A's Region only: '*' selects A's bucket, not B's (AWS's default for S3 is off).
    assert protected == {f"arn:aws:s3:::bucket-{A}": True, f"arn:aws:s3:::bucket-{B}": False}


def test_a_live_compliance_lock_past_its_grace_time_is_valid():
    # DescribeBackupVault reports a LockDate in the past: the scanner gives 0 days of grace left.
    locked = VaultLock(min_retention_days=7, max_retention_days=365, changeable_for_days=0)
    estate = Estate(vaults=[vault(A, EAST, "main", locked)])
    assert [(r.status, r.message) for r in results_for(estate, "BG206")] == [("pass", "vault 'main' lock settings are valid")]
    assert [r.status for r in results_for(estate, "BG203")] == ["pass"]
