"""Resolve and evaluate a synthetic Organization-shaped estate built in-process (no AWS, no files).

    python benchmarks/org_estate.py --accounts 200 --regions 4 --resources 10 --selections 2

Prints the time to build subjects (coverage included) and to run every rule, and peak RSS, so
that cost can be compared across sizes: it should grow with the estate, not with its square.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import resource
import time

from backupguard.config import UserConfig, build_checks
from backupguard.estate import (
    BackupPlan, BackupRule, BackupSelection, BackupVault, Estate, Lifecycle, Origin, ProtectedResource,
)
from backupguard.frameworks import load_frameworks
from backupguard.resolve import subjects
from backupguard.rules import load_catalogue
from backupguard.rules.engine import run

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1")


def build(accounts: int, regions: int, per_scope: int, selections: int) -> Estate:
    estate = Estate()
    for a in range(accounts):
        account = f"{100000000000 + a}"
        for region in REGIONS[:regions]:
            def origin(arn: str) -> Origin:
                return Origin(account=account, region=region, arn=arn, unit=f"{account}/{region}")
            vault_arn = f"arn:aws:backup:{region}:{account}:backup-vault:main"
            estate.vaults.append(BackupVault(vault_arn, "main", origin(vault_arn)))
            plan_arn = f"arn:aws:backup:{region}:{account}:backup-plan:daily"
            rule = BackupRule("daily", "main", "cron(0 5 ? * * *)", lifecycle=Lifecycle(35), origin=origin(plan_arn))
            estate.plans.append(BackupPlan(plan_arn, "daily", [rule], origin(plan_arn)))
            for s in range(selections):
                arn = f"{plan_arn}/selection/{s}"
                from backupguard.estate import TagCondition
                estate.selections.append(BackupSelection(
                    arn, f"s{s}", plan_arn, "arn:aws:iam::1:role/b",
                    resources=["arn:aws:ec2:*:*:volume/*"] if s == 0 else [],
                    list_of_tags=[] if s == 0 else [TagCondition("STRINGEQUALS", f"tier{s}", "gold")],
                    origin=origin(arn)))
            for r in range(per_scope):
                arn = f"arn:aws:ec2:{region}:{account}:volume/vol-{r:05d}"
                estate.resources.append(ProtectedResource(arn, "AWS::EC2::Volume", "EBS", origin(arn),
                                                          tags={"tier1": "gold"} if r % 2 else {}, arn=arn,
                                                          settings={"encrypted": True}))
    return estate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--resources", type=int, default=10, help="per account and Region")
    parser.add_argument("--selections", type=int, default=2, help="per account and Region")
    args = parser.parse_args()
    # As a `backupguard scan` process runs it: inside the CLI's collector settings (a checkout
    # older than them runs without).
    batch = getattr(importlib.import_module("backupguard.pipeline"), "batch_collector", contextlib.nullcontext)
    with batch():
        measure(args)


def measure(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    estate = build(args.accounts, args.regions, args.resources, args.selections)
    built = time.perf_counter()
    checks = build_checks(load_catalogue(), load_frameworks(), [], UserConfig(), {})
    by_kind = subjects(estate)
    resolved = time.perf_counter()
    results = run(estate, checks, by_kind=by_kind)
    evaluated = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(estate.resources):,} resources, {len(estate.selections):,} selections, {len(results):,} results")
    print(f"build {built - started:.2f} s, resolve {resolved - built:.2f} s, engine {evaluated - resolved:.2f} s, "
          f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
