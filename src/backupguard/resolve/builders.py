"""Subjects: the flat fact views rules read, one builder per kind (see the table in ``resolve``)."""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from backupguard.estate import (
    Attributes,
    BackupFramework,
    BackupPlan,
    BackupRule,
    BackupSelection,
    BackupVault,
    CopyAction,
    OrgBackupPolicy,
    ProtectedResource,
    RecoveryPoint,
    Reference,
    ReportPlan,
    RestoreTestingPlan,
    Unknown,
    derive,
    in_words,
    settings_scope,
)
from backupguard.resolve import Deferred, Subject
from backupguard.resolve.attributes import (
    COPY_FACTS, COPY_RETENTION_FACTS, LIFECYCLE_FACTS, RULE_FACTS, VAULT_FACTS, lent, name_of as attribute_name, pick,
    resource_attributes,
)
from backupguard.resolve.coverage import Coverage
from backupguard.resolve.evidence import recovery_point_facts, resource_evidence
from backupguard.resolve.links import Destination, EstateIndex, split_arn
from backupguard.resolve.plans import (
    copy_facts, days_in_cold_storage, name_of, rule_facts, schedule_facts,
)
from backupguard.resolve.services import facts_for
from backupguard.resolve.vaults import is_locked, key_description, key_kind, lock_bounds_problem, lock_mode

# Engines' automated-backup retention when BackupRetentionPeriod is omitted (CloudFormation default).
DEFAULT_DB_RETENTION_DAYS = 1
# DynamoDB point-in-time recovery period when RecoveryPeriodInDays is omitted.
PITR_DEFAULT_DAYS = 35
# FSx automatic backups when AutomaticBackupRetentionDays is omitted: 0 for Lustre, 30 for the others.
FSX_DEFAULT_RETENTION = {"LUSTRE": 0}
FSX_DEFAULT_RETENTION_OTHERS = 30
AUDIT_NAME = re.compile(r"^[a-zA-Z][_a-zA-Z0-9]*$")  # framework and report plan names: no hyphens


# -- plans -------------------------------------------------------------------------


# The lock bounds of a rule's target vaults, named as that vault's source names them.
_TARGET_LOCK = {"vault_lock_min_days": "lock.min_retention_days", "vault_lock_max_days": "lock.max_retention_days"}
_AIR_GAPPED_LOCK = {"air_gapped_min_days": "lock.min_retention_days", "air_gapped_max_days": "lock.max_retention_days"}
_DESTINATION_LOCK = {"destination_lock_min_days": "lock.min_retention_days",
                     "destination_lock_max_days": "lock.max_retention_days"}


def _vault_names(vault: Any, facts: dict[str, str]) -> Attributes:
    """A linked vault's lock bounds, by name only (a result is never placed in another entity)."""
    return lent(vault.attributes, facts) if isinstance(vault, BackupVault) else {}


def _rule_attributes(rule: BackupRule, links: EstateIndex) -> Attributes:
    """A plan rule's facts -> its attributes, with its target vaults' lock bounds by name."""
    attributes = pick(rule.attributes, RULE_FACTS)
    attributes.update(_vault_names(links.vault_named(rule.target_vault, rule.origin), _TARGET_LOCK))
    if rule.target_air_gapped_vault_arn is not None:
        air_gapped = links.destination(rule.target_air_gapped_vault_arn, rule.origin).vault
        attributes.update(_vault_names(air_gapped, _AIR_GAPPED_LOCK))
    return attributes


def _copy_attributes(copy: CopyAction, rule: BackupRule, destination: Destination) -> Attributes:
    """A copy action's facts -> attributes; its retention is its own lifecycle's, else the rule's."""
    holder = copy if copy.lifecycle is not None else rule
    return {
        **pick(copy.attributes, COPY_FACTS),
        **pick(holder.attributes, COPY_RETENTION_FACTS),
        **pick(rule.attributes, {"continuous_backup": "continuous_backup"}),
        **_vault_names(destination.vault, _DESTINATION_LOCK),
    }


def plan_subjects(plan: BackupPlan, links: EstateIndex, out: dict[str, list[Subject]]) -> None:
    views = []
    parts = {}
    settings = links.estate.global_settings.get(settings_scope(plan.origin), {})  # account-wide, for BG111
    for index, rule in enumerate(plan.rules):
        facts = rule_facts(plan, rule, index, links)
        attributes = _rule_attributes(rule, links)
        views.append(facts)
        parts[id(facts)] = attributes
        element = f"rule '{facts['rule']}'"
        out["backup_rule"].append(Subject(
            "backup_rule", plan.resource_id, plan.resource_type, rule.origin, facts, element, plan.tags,
            attributes=attributes,
        ))
        lifecycles = [(rule.lifecycle, element, element, rule.attributes)]
        for copy in rule.copy_actions:
            where = f"{element} copy to {copy.destination_vault_arn}"  # the element: part of the fingerprint
            lifecycles.append((copy.lifecycle, where, f"{element} copy to {in_words(copy.destination_vault_arn, 'vault')}",
                               copy.attributes))
            destination = links.destination(copy.destination_vault_arn, rule.origin)
            copy_view = copy_facts(copy, rule, destination, facts)
            copy_view["global_settings_declared"] = "isCrossAccountBackupEnabled" in settings
            copy_view["cross_account_backup_setting"] = settings.get("isCrossAccountBackupEnabled")
            out["copy_action"].append(Subject(
                "copy_action", plan.resource_id, plan.resource_type, copy.origin, copy_view, where, plan.tags,
                attributes=_copy_attributes(copy, rule, destination),
            ))
        for life, where, words, holder in lifecycles:
            if life is None:
                continue
            life_facts = {
                "plan": facts["plan"],
                "rule": facts["rule"],
                "where": words,
                "delete_after_days": life.delete_after_days,
                "cold_storage_after_days": life.move_to_cold_storage_after_days,
                "days_in_cold_storage": days_in_cold_storage(life),
            }
            out["lifecycle"].append(Subject(
                "lifecycle", plan.resource_id, plan.resource_type, life.origin, life_facts, where, plan.tags,
                attributes=pick(holder, LIFECYCLE_FACTS),
            ))
    plan_facts = {"plan": name_of(plan.name, plan.resource_id), "rules": views, "rule_count": len(views)}
    out["backup_plan"].append(Subject(
        "backup_plan", plan.resource_id, plan.resource_type, plan.origin, plan_facts, None, plan.tags,
        element_attributes=parts,
    ))


# -- vaults ------------------------------------------------------------------------


def vault_subject(vault: BackupVault) -> Subject:
    from backupguard.resolve.vault_policy import deletion_protection, wildcard_actions

    lock = vault.lock
    managed_by = key_kind(vault.encryption_key_arn)
    policy = vault.access_policy

    def protection(params: dict[str, Any]) -> Any:
        return deletion_protection(policy, tuple(params.get("principal_arn_list") or ()))

    facts = {
        "vault": name_of(vault.name, vault.resource_id),
        "air_gapped": vault.air_gapped,
        "kms_key": str(vault.encryption_key_arn) if isinstance(vault.encryption_key_arn, Reference) else vault.encryption_key_arn,
        "key_managed_by": managed_by,
        "key_description": key_description(vault, managed_by),
        "locked": is_locked(vault),
        "lock_mode": lock_mode(vault),
        "lock_min_retention_days": lock.min_retention_days if lock else None,
        "lock_max_retention_days": lock.max_retention_days if lock else None,
        "lock_changeable_for_days": lock.changeable_for_days if lock else None,
        "lock_bounds_problem": lock_bounds_problem(vault),
        "has_access_policy": policy is not None if not isinstance(policy, Unknown) else policy,
        "deletion_protected": Deferred(lambda params: protection(params).protected),
        "deletion_missing_actions": Deferred(lambda params: list(protection(params).missing)),
        "deletion_reason": Deferred(lambda params: protection(params).reason),
        "policy_wildcard_actions": wildcard_actions(policy),
        "notification_events": _notification_events(vault.notifications),
        "tags": vault.tags,  # for the user's rules (docs/custom-rules.md); framework scopes read Subject.tags
    }
    return Subject("backup_vault", vault.resource_id, vault.resource_type, vault.origin, facts, None, vault.tags, True,
                   attributes=pick(vault.attributes, VAULT_FACTS))


def _notification_events(notifications: Any) -> Any:
    """The events a vault notifies: a list (which may hold Unknown entries), or Unknown."""
    if notifications is None:
        return []
    if isinstance(notifications, Unknown):
        return Unknown(notifications.reason, notifications.refs)
    events = notifications.get("BackupVaultEvents") if isinstance(notifications, dict) else None
    if isinstance(events, Unknown):
        return Unknown(events.reason, events.refs)
    if not isinstance(events, list):
        return Unknown("the vault's notification events are not a list")
    return [e if isinstance(e, (str, Unknown)) else Unknown(f"event {e} is not a name") for e in events]


# -- selections ----------------------------------------------------------------------

def misplaced_wildcard(arn: Any) -> bool:
    """A '*' AWS Backup does not honour: in the partition or service, or inside the resource ID.

    AWS documents a trailing '*' (``arn:aws:s3:::logs-*``) and its own examples
    use '*' for the Region and account (``arn:aws:ec2:*:*:volume/*``) and
    service-only prefixes (``arn:aws:rds:*``); ``arn:aws:s3:::*-logs`` matches nothing.
    """
    if not isinstance(arn, str) or arn == "*" or "*" not in arn:
        return False
    parts = split_arn(arn)
    if len(parts) < 6:  # a service-only prefix
        return arn.index("*") != len(arn) - 1
    return "*" in parts[1] or "*" in parts[2] or "*" in parts[5][:-1]


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def offending(items: Any, is_bad: Callable[[Any], bool]) -> Any:
    """The items that are certainly bad; Unknown when none is but an undetermined item might be.

    An undetermined item whose every candidate is bad counts as bad, and one
    whose every candidate is fine as fine.
    """
    if isinstance(items, (Unknown, Reference)):
        reason = items.reason if isinstance(items, Unknown) else f"'{items}' is known only after deployment"
        return Unknown(reason)
    bad, undetermined = [], None
    for item in items:
        if isinstance(item, Unknown) and item.text is not None and not item.candidates:
            item = _PLACEHOLDER.sub("x", item.text)  # a template: its literal parts decide (arn:aws:s3:::${name}-*)
        verdict = derive(is_bad, item) if isinstance(item, Unknown) else (
            Unknown(f"'{item}' is known only after deployment") if isinstance(item, Reference) else is_bad(item)
        )
        if verdict is True:
            bad.append(item if not isinstance(item, Unknown) else f"one of {list(item.candidates)}")
        elif isinstance(verdict, Unknown) and undetermined is None:
            undetermined = verdict
    if bad or undetermined is None:
        return bad
    return Unknown(undetermined.reason, undetermined.refs)


def selection_subject(selection: BackupSelection) -> Subject:
    resources, not_resources = selection.resources, selection.not_resources
    arns = [r for v in (resources, not_resources) if isinstance(v, list) for r in v]
    undetermined = next((v for v in (resources, not_resources) if isinstance(v, Unknown)), None)
    types = [t.operator for t in selection.list_of_tags]
    facts = {
        "selection": name_of(selection.name, selection.resource_id),
        "resource_count": len(resources) if isinstance(resources, list) else resources,
        "plain_arn_count": undetermined or sum(1 for a in arns if not (isinstance(a, str) and "*" in a)),
        "wildcard_arn_count": undetermined or sum(1 for a in arns if isinstance(a, str) and "*" in a),
        "tag_count": len(selection.list_of_tags),
        "condition_count": len(selection.conditions),
        "bad_condition_types": offending(types, lambda op: op != "STRINGEQUALS"),
        "prefixed_tag_keys": offending(
            [t.key for t in selection.list_of_tags], lambda key: isinstance(key, str) and key.startswith("aws:ResourceTag/")
        ),
        "unprefixed_condition_keys": offending(
            [c.key for c in selection.conditions], lambda key: not (isinstance(key, str) and key.startswith("aws:ResourceTag/"))
        ),
        # a Ref/GetAtt ARN is a resource's own ARN: no wildcard in it
        "misplaced_wildcards": undetermined or offending([a for a in arns if not isinstance(a, Reference)], misplaced_wildcard),
        "selects_everything": _selects_everything(selection),
        "empty": _empty_selection(selection),
    }
    return Subject("backup_selection", selection.resource_id, selection.resource_type, selection.origin, facts)


def _selects_everything(selection: BackupSelection) -> Any:
    """Resources "*" with no Conditions to narrow it (ListOfTags adds to Resources: it cannot narrow)."""
    if selection.conditions:
        return False
    resources = selection.resources
    if isinstance(resources, Unknown):
        return Unknown(resources.reason, resources.refs)
    if not isinstance(resources, list):
        return False
    if "*" in resources:
        return True
    # an undetermined entry could be "*" unless it is built from text (an ARN template) or a resource
    undetermined = next((r for r in resources if isinstance(r, Unknown) and r.text is None and not r.refs), None)
    return Unknown(undetermined.reason, undetermined.refs) if undetermined else False


def _empty_selection(selection: BackupSelection) -> Any:
    """Neither Resources nor ListOfTags: AWS rejects it ("Either 'ListOfTags' or 'Resources' must be non-empty")."""
    if selection.list_of_tags:
        return False
    resources = selection.resources
    if isinstance(resources, Unknown):
        return Unknown(resources.reason, resources.refs)
    return not resources


# -- protectable resources -------------------------------------------------------------


def _database_facts(resource: ProtectedResource) -> dict[str, Any]:
    settings = resource.settings
    retention = settings.get("backup_retention_days")
    replica = settings.get("read_replica", False)
    name = attribute_name(resource.attributes, "backup_retention_days", "BackupRetentionPeriod")
    if retention is not None:
        source = name
    elif replica:
        retention, source = 0, f"{name} not set: read replicas start with automated backups off"
    else:
        retention, source = DEFAULT_DB_RETENTION_DAYS, f"{name} not set: engine default"
    return {
        "backup_retention_days": retention,
        "retention_source": source,
        "cluster_member": settings.get("cluster_member", False),
        "read_replica": replica,
        "copy_tags_to_snapshot": settings.get("copy_tags_to_snapshot"),  # None: not set (off)
        "storage_encrypted": settings.get("storage_encrypted"),
    }


def _fsx_facts(resource: ProtectedResource) -> dict[str, Any]:
    settings = resource.settings
    retention = settings.get("automatic_backup_retention_days")
    fs_type = settings.get("file_system_type")
    name = attribute_name(resource.attributes, "automatic_backup_retention_days", "AutomaticBackupRetentionDays")
    if settings.get("retention_is_default"):  # the source applied its own default (Terraform provider)
        source = f"{name} not set: provider default"
    elif retention is None:
        default = FSX_DEFAULT_RETENTION.get(fs_type, FSX_DEFAULT_RETENTION_OTHERS) if isinstance(fs_type, str) else None
        type_name = attribute_name(resource.attributes, "file_system_type", "FileSystemType")
        retention = default if default is not None else Unknown(f"{type_name} is not known, so the default retention is not")
        source = f"{name} not set: default"
    else:
        source = name
    return {
        "automatic_backup_retention_days": retention,
        "retention_source": source,
        "copy_tags_to_backups": settings.get("copy_tags_to_backups"),  # None: not set (off)
        "file_system_type": fs_type,
    }


def recovery_point_encryption(resource: ProtectedResource, resources: dict[tuple, ProtectedResource]) -> Any:
    """Whether AWS Backup's recovery points of the resource are encrypted.

    Fully managed types are encrypted with the vault's key whatever the source;
    the others inherit the source's encryption (an unencrypted RDS database or
    EBS volume gives unencrypted snapshots). A read replica inherits its source
    database's encryption and a restored database its snapshot's.
    """
    service, settings = resource.service, resource.settings
    if facts_for(service).vault_key or service in ("FSx",):  # FSx file systems are always encrypted at rest
        return True
    if service == "EBS":
        return settings.get("encrypted", False)
    if service in ("RDS", "Aurora", "DocumentDB", "Neptune"):
        encrypted = settings.get("storage_encrypted", False)
        origin = settings.get("encryption_from")
        if encrypted is True or origin is None:
            return encrypted
        source = resources.get((resource.origin.file, origin.target)) if isinstance(origin, Reference) else None
        if source is not None:
            return recovery_point_encryption(source, resources)
        return Unknown("the encryption is inherited from a source database or snapshot outside the template")
    return Unknown(f"the encryption of {service} recovery points depends on volumes declared elsewhere")


# A resource that many plans select names the first few (BG401's message, the inventory's protected_by),
# so that a message stays the same size however many selections pick the resource; the inventory's
# ``plans`` names every covering plan, once per resource.
PLANS_NAMED = 3


def covering_plan_words(name: str) -> str:
    """A covering plan as a message names it: "plan 'daily'", or "a plan (outside this template)" for
    one the coverage knows only by where it is declared (coverage's rule view of it)."""
    return f"a plan {name}" if name.startswith("(") else f"plan '{name}'"


def plans_in_brief(plans: list[str]) -> str:
    """``plan 'a' (selection ...); plan 'b' (...); plan 'c' (...); and 12 more``, or "no backup plan"."""
    if not plans:
        return "no backup plan"
    more = len(plans) - PLANS_NAMED
    return "; ".join(plans[:PLANS_NAMED]) + (f"; and {more} more" if more > 0 else "")


def resource_subject(resource: ProtectedResource, cover: Coverage, resources: dict[tuple, ProtectedResource],
                     points: list[RecoveryPoint] = ()) -> Subject:
    settings = resource.settings
    facts: dict[str, Any] = {
        "service": resource.service,
        "name": resource.name if isinstance(resource.name, str) else None,
        "protected": cover.protected,
        "protected_by": plans_in_brief(cover.plans),
        "covering_rules": cover.rules,
        "recovery_points_encrypted": recovery_point_encryption(resource, resources),
        "cold_storage_supported": facts_for(resource.service).cold_storage,
        "continuous_supported": facts_for(resource.service).continuous,
        # An absent setting is None ("not set"): the rules read it as the service's default (off).
        "deletion_protection": settings.get("deletion_protection"),
        "pitr_enabled": settings.get("pitr_enabled"),
        "pitr_recovery_period_days": settings.get("pitr_recovery_period_days", PITR_DEFAULT_DAYS),
        "backup_policy_status": settings.get("backup_policy_status"),
        "versioning_status": settings.get("versioning_status"),
        "object_lock_enabled": settings.get("object_lock_enabled"),
        "encrypted": settings.get("encrypted"),
        "tags": resource.tags,  # for the user's rules (docs/custom-rules.md)
    }
    if resource.service in ("RDS", "Aurora", "DocumentDB", "Neptune"):
        facts.update(_database_facts(resource))
    if resource.service == "FSx":
        facts.update(_fsx_facts(resource))
    facts.update(resource_evidence(resource, list(points)))
    return Subject("resource", resource.resource_id, resource.resource_type, resource.origin, facts, None, resource.tags,
                   attributes=resource_attributes(resource.attributes, resource.service, facts))


def recovery_point_subject(point: RecoveryPoint) -> Subject:
    return Subject("recovery_point", point.arn, f"recovery point ({point.resource_type})", point.origin,
                   recovery_point_facts(point))


# -- Organizations policies, frameworks, report and restore-testing plans ----------------------


def org_policy_subject(policy: OrgBackupPolicy) -> Subject:
    from backupguard.resolve.org_policy_syntax import policy_problems

    content = policy.content
    problems: Any
    keys_settled: Any = True  # no key that may be absent (Fn::If ... AWS::NoValue)
    air_gapped_known: Any = True
    if isinstance(content, Unknown):
        problems = keys_settled = air_gapped_known = Unknown(content.reason, content.refs)
    elif isinstance(content, str):
        problems = [{"code": "syntax", "path": "", "message": "Content is not valid JSON"}]
    else:
        absent = _first_unknown(content, lambda u: u.may_be_absent)
        if absent is not None:
            keys_settled = Unknown(f"a key of the policy may be left out ({absent.reason})")
        hidden = _first_unknown(_values_of(content, "target_logically_air_gapped_backup_vault_arn"))
        if hidden is not None:
            air_gapped_known = Unknown(hidden.reason, hidden.refs)
        problems = [
            {"code": p.code, "path": p.path, "message": p.message}
            for p in policy_problems(content, None)
            if not (p.code == "tags-and-resources" and absent is not None)  # one of them may be absent
        ]
    facts = {
        "policy": name_of(policy.name, policy.resource_id),
        "keys_settled": keys_settled,
        "air_gapped_arns_known": air_gapped_known,
        "problems": problems,
        "size": _policy_size(policy),
    }
    return Subject("org_policy", policy.resource_id, policy.resource_type, policy.origin, facts)


# Realistic lengths of symbolic pseudo-parameters (an account ID has 12 digits; Region names 9-14 characters).
_PSEUDO_LENGTHS = {"${AWS::AccountId}": 12, "${AWS::Region}": 14, "${AWS::Partition}": 10}
# A value known only at deploy time is assumed to be at most this long when sizing a policy document.
ASSUMED_VALUE_LENGTH = 64


def _first_unknown(value: Any, wanted: Callable[[Unknown], bool] = lambda u: True) -> Unknown | None:
    """The first Unknown (that ``wanted`` accepts) anywhere in a document."""
    if isinstance(value, Unknown):
        return value if wanted(value) else None
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((u for u in (_first_unknown(child, wanted) for child in children) if u is not None), None)


def _values_of(document: Any, key: str) -> list[Any]:
    """Every value stored under ``key`` anywhere in a document."""
    found: list[Any] = []
    if isinstance(document, dict):
        for name, child in document.items():
            found.extend([child] if name == key else _values_of(child, key))
    elif isinstance(document, list):
        for child in document:
            found.extend(_values_of(child, key))
    return found


def _policy_size(policy: OrgBackupPolicy) -> Any:
    """Characters of the policy document, or Unknown when deploy-time values could decide the 10,000 limit."""
    if policy.text_length is not None:
        return policy.text_length
    content = policy.content
    if isinstance(content, Unknown):
        return Unknown(content.reason, content.refs)
    unknowns: list[Any] = []

    def placeholder(value: Any) -> str:
        if isinstance(value, (Unknown, Reference)):
            unknowns.append(value)
        return ""

    text = json.dumps(content, separators=(",", ":"), default=placeholder)
    size = len(text) - sum(text.count(p) * (len(p) - n) for p, n in _PSEUDO_LENGTHS.items())
    size -= 2 * len(unknowns)  # the quotes json.dumps put around each placeholder
    if unknowns and size <= 10000 < size + ASSUMED_VALUE_LENGTH * len(unknowns):
        return Unknown(f"{len(unknowns)} value(s) known only at deploy time could take it over 10,000 characters")
    return size


def framework_subject(framework: BackupFramework) -> Subject:
    controls = framework.controls if isinstance(framework.controls, list) else []
    facts = {
        "name": framework.name,
        "name_valid": _audit_name_valid(framework.name),
        "control_count": len(controls),
    }
    return Subject("backup_framework", framework.resource_id, framework.resource_type, framework.origin, facts)


# What symbolic pseudo-parameters look like once deployed, for name checks (a Region name has hyphens).
_PSEUDO_SAMPLES = {"${AWS::AccountId}": "111122223333", "${AWS::Region}": "us-east-1", "${AWS::Partition}": "aws"}


def _audit_name_valid(name: Any) -> Any:
    """Framework and report plan names: [a-zA-Z][_a-zA-Z0-9]*, at most 256 characters."""
    if name is None:
        return True  # CloudFormation generates a valid name
    if isinstance(name, Reference):
        return Unknown(f"the name is '{name}', known only after deployment")
    if isinstance(name, Unknown):
        return derive(_audit_name_valid, name)
    text = str(name)
    if "${AWS::StackName}" in text:
        return Unknown("the name includes the stack name, which may contain hyphens")
    for pseudo, sample in _PSEUDO_SAMPLES.items():
        text = text.replace(pseudo, sample)
    return bool(AUDIT_NAME.match(text)) and len(text) <= 256


def report_plan_subject(plan: ReportPlan) -> Subject:
    arns = plan.framework_arns
    facts = {
        "name": plan.name,
        "name_valid": _audit_name_valid(plan.name),
        "report_template": plan.template,
        "compliance_report": derive(lambda t: t in ("RESOURCE_COMPLIANCE_REPORT", "CONTROL_COMPLIANCE_REPORT"), plan.template),
        "framework_count": len(arns) if isinstance(arns, list) else (arns if isinstance(arns, Unknown) else 0),
    }
    return Subject("report_plan", plan.resource_id, plan.resource_type, plan.origin, facts)


RESTORE_TEST_START_WINDOW_HOURS = 24  # AWS's default StartWindowHours


def restore_testing_subject(plan: RestoreTestingPlan) -> Subject:
    facts = {
        "name": plan.name,
        "start_window_hours": RESTORE_TEST_START_WINDOW_HOURS if plan.start_window_hours is None else plan.start_window_hours,
        "selection_window_days": plan.selection_window_days,
        **schedule_facts(plan.schedule),
    }
    facts["schedule"] = plan.schedule  # for messages (restore-testing-frequency)
    facts["cadence"] = _cadence_words(facts)
    return Subject("restore_testing_plan", plan.resource_id, plan.resource_type, plan.origin, facts)


def _cadence_words(facts: dict[str, Any]) -> Any:
    """How often a schedule runs, in words: "up to 7 days apart", or why it never runs."""
    if facts["schedule_valid"] is False:
        return f"never runs ({facts['schedule_error']})"
    return derive(lambda days: f"runs up to {days:g} day{'s' if days != 1 else ''} apart", facts["max_gap_days"])
