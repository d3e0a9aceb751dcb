"""AWS Organizations: the accounts to scan and the backup policies (read from the caller's account)."""

from __future__ import annotations

import json
from typing import Any, Iterable

from backupguard.estate import OrgBackupPolicy, Unknown
from backupguard.scanner.aws.scope import FAILED, Scope
from backupguard.scanner.aws.session import pages


def active_accounts(client: Any) -> dict[str, str]:
    """Every ACTIVE account of the Organization: id -> name."""
    found = {}
    for page in pages(client, "list_accounts"):
        for account in page.get("Accounts") or []:
            if (account.get("State") or account.get("Status")) == "ACTIVE":
                found[account["Id"]] = account.get("Name", "")
    return found


def accounts_under(client: Any, ou_ids: Iterable[str]) -> set[str]:
    """Accounts anywhere below the given OUs (or roots)."""
    found: set[str] = set()
    todo, seen = list(ou_ids), set()
    while todo:
        parent = todo.pop()
        if parent in seen:
            continue
        seen.add(parent)
        for page in pages(client, "list_accounts_for_parent", ParentId=parent):
            found.update(a["Id"] for a in page.get("Accounts") or [])
        for page in pages(client, "list_organizational_units_for_parent", ParentId=parent):
            todo.extend(ou["Id"] for ou in page.get("OrganizationalUnits") or [])
    return found


def backup_policies(scope: Scope) -> None:
    """Every BACKUP_POLICY with its document. Their plans are not added here: AWS materialises them as
    plans (``backup-plan:orgs/...``) in each member account, which the account scans read."""
    client = scope.client("organizations")
    for page in pages(client, "list_policies", Filter="BACKUP_POLICY"):
        for summary in page.get("Policies") or []:
            policy_id, arn = summary["Id"], summary["Arn"]
            detail = scope.call("organizations", "DescribePolicy", lambda: client.describe_policy(PolicyId=policy_id), arn=arn)
            if detail is FAILED:
                continue
            text = (detail.get("Policy") or {}).get("Content") or ""
            try:
                content: Any = json.loads(text)
            except ValueError as exc:
                content = Unknown(f"the policy document is not JSON ({exc})")
            scope.estate.org_policies.append(OrgBackupPolicy(
                arn, summary.get("Name"), content, scope.origin(arn), resource_type="AWS::Organizations::Policy",
                text_length=len(text),
            ))


NO_EFFECTIVE_POLICY = "EffectivePolicyNotFoundException"


def effective_backup_policy(scope: Scope) -> Any:
    """The scope's account's effective backup policy (``DescribeEffectivePolicy``, callable from any
    account of the Organization): its document, ``{}`` when no backup policy is in effect, or an
    Unknown when it cannot be read (AccessDenied, no Organization: one located error)."""
    client = scope.client("organizations")
    response = scope.call("organizations", "DescribeEffectivePolicy", lambda: client.describe_effective_policy(
        PolicyType="BACKUP_POLICY", TargetId=scope.account), absent=(NO_EFFECTIVE_POLICY,))
    if response is FAILED:
        return Unknown(f"the effective backup policy of account {scope.account} could not be read (see the error)")
    if response is None:
        return {}
    text = (response.get("EffectivePolicy") or {}).get("PolicyContent") or "{}"
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return Unknown(f"the effective backup policy of account {scope.account} is not JSON")
