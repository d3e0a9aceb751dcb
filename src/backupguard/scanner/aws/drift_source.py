"""The live side of ``backupguard drift``: the target account and Region, what AWS Backup holds
there (vaults, plans and selections, read as ``scan`` reads them but without evidence or resources),
the resources of the CloudFormation stacks the user names (``cloudformation:ListStackResources``),
the live tags of the resources the code protects (``tag:GetResources``, asked for once their ARNs
are known) and, when the code has Organizations policies, the Organization's. Read-only like every
call of the scanner.

Importing this module does not import boto3; :meth:`LiveDriftSource.target` does (through ``session``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from backupguard.estate import Estate, StackResource, Unknown
from backupguard.scanner.aws import backup, organizations
from backupguard.scanner.aws.faults import fault
from backupguard.scanner.aws.scope import FAILED, Scope
from backupguard.scanner.aws.session import Connector, pages


@dataclass(frozen=True)
class Target:
    """The one account and Region a drift run compares the code with."""

    account: str
    region: str
    partition: str = "aws"


# GetResources takes at most 100 ARNs a call.
TAGS_PER_CALL = 100


def resource_tags(scope: Scope, arns: list[str]) -> dict[str, Any]:
    """Each ARN's live tags, 100 ARNs a call. GetResources lists only resources that are or were
    tagged, so an ARN it does not return has no tags. A call that fails is one located error, and
    its ARNs' tags are Unknown (a selection by tags then cannot be decided for them)."""
    found: dict[str, Any] = {}
    wanted = sorted(set(arns))
    for start in range(0, len(wanted), TAGS_PER_CALL):
        batch = wanted[start:start + TAGS_PER_CALL]  # the client inside the call: a failure to make one is located too
        listed = scope.call("resourcegroupstaggingapi", "GetResources",
                            lambda batch=batch: scope.client("resourcegroupstaggingapi").get_resources(ResourceARNList=batch))
        if listed is FAILED:
            found.update(dict.fromkeys(batch, Unknown("its tags could not be read (tag:GetResources failed)")))
            continue
        found.update(dict.fromkeys(batch, {}))
        for item in listed.get("ResourceTagMappingList") or []:
            if item.get("ResourceARN") in found:
                found[item["ResourceARN"]] = {t["Key"]: t.get("Value", "") for t in item.get("Tags") or [] if "Key" in t}
    return found


@dataclass
class LiveSide:
    estate: Estate
    stack_resources: list[StackResource] = field(default_factory=list)
    # The account's effective backup policy document ({} when none is in effect), Unknown when it could
    # not be read, None when not asked for (no policy files in the code).
    effective_policy: Any = None


def stack_resources(scope: Scope, stacks: tuple[str, ...]) -> list[StackResource]:
    """Every resource of each named stack; a stack that cannot be read is one located error."""
    found: list[StackResource] = []
    client = scope.client("cloudformation")
    for stack in stacks:
        def read(name: str = stack) -> list[StackResource]:
            return [
                StackResource(name, item["LogicalResourceId"], item.get("PhysicalResourceId"), item.get("ResourceType", ""))
                for page in pages(client, "list_stack_resources", StackName=name)
                for item in page.get("StackResourceSummaries") or []
            ]

        listed = scope.call("cloudformation", "ListStackResources", read, arn=stack)
        if listed is not FAILED:
            found.extend(listed)
    return sorted(found, key=lambda r: (r.stack, r.logical_id))


class LiveDriftSource:
    """The live side of a drift run: credentials (a profile, and a role in ``account``), one Region."""

    def __init__(self, profile: str | None = None, region: str | None = None, account: str | None = None,
                 role_name: str | None = None, external_id: str | None = None, stacks: tuple[str, ...] = (),
                 connector: Any = None, as_of: datetime | None = None):
        self.profile, self.region, self.account = profile, region, account
        self.role_name, self.external_id, self.stacks = role_name, external_id, stacks
        self.connector, self.as_of = connector, as_of
        self._scope: Scope | None = None  # the compared account and Region, once read() entered it

    def target(self) -> Target:
        """Connect (the caller's identity) and decide the account and Region: ``--account`` or the
        caller's, ``--region`` or the profile's."""
        if self.connector is None:
            self.connector = Connector(self.profile, self.role_name, self.external_id, self.region)
        caller = self.connector.caller()
        return Target(self.account or caller.account, self.region or self.connector.home_region,
                      getattr(caller, "partition", "aws"))

    def read(self, target: Target, org_policies: bool = False, region_settings: bool = False) -> LiveSide:
        """The account's vaults, plans and selections in the Region (as ``scan`` reads them, without
        evidence or resources), the named stacks' resources; with ``region_settings`` the Region's
        service opt-in (which resources tag selections may pick); with ``org_policies`` the
        Organization's backup policies (read with the caller's credentials: the management account
        or a delegated administrator) and the account's effective backup policy (read in the account).
        A fault ends only its own part, as one located error."""
        now = self.as_of or datetime.now(timezone.utc)
        estate = Estate()
        stacks: list[StackResource] = []
        effective: Any = None
        try:
            access = self.connector.access(target.account)
        except Exception as exc:  # noqa: BLE001 - an unassumable role: reported, nothing of the account is read
            estate.errors.append(fault(exc, target.account, None, "sts", "AssumeRole"))
            access = None
        if access is not None:
            scope = Scope(access, target.account, target.region, self.connector.home_region, now, now,
                          getattr(access, "partition", "aws"))
            self._scope = scope
            backup.collect_definitions(scope)
            if region_settings:
                backup.collect_region_settings(scope)
            if self.stacks:
                stacks = stack_resources(scope, self.stacks)
            estate.extend(scope.estate)
            if org_policies:
                account_wide = Scope(access, target.account, None, self.connector.home_region, now, now,
                                     getattr(access, "partition", "aws"))
                effective = organizations.effective_backup_policy(account_wide)
                estate.extend(account_wide.estate)
        elif org_policies:
            effective = Unknown(f"account {target.account} could not be entered (see the error)")
        if org_policies:
            caller = self.connector.caller()
            scope = Scope(caller, caller.account, None, self.connector.home_region, now, now,
                          getattr(caller, "partition", "aws"))
            scope.call("organizations", "ListPolicies", lambda: organizations.backup_policies(scope))
            estate.extend(scope.estate)
        for name in ("vaults", "plans", "selections", "org_policies"):
            getattr(estate, name).sort(key=lambda entity: entity.resource_id)
        return LiveSide(estate, stacks, effective)

    def tags(self, arns: list[str], errors: list) -> dict[str, Any]:
        """The live tags of these resources of the account :meth:`read` entered (see
        :func:`resource_tags`); a failed call adds its located error to ``errors``."""
        if self._scope is None:  # the account could not be entered: read() reported why
            return dict.fromkeys(arns, Unknown("the account could not be entered (see the error)"))
        before = len(self._scope.estate.errors)
        found = resource_tags(self._scope, arns)
        errors.extend(self._scope.estate.errors[before:])
        return found
