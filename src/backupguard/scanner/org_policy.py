"""AWS Organizations backup policies (``BACKUP_POLICY``) read as backup plans.

A backup policy's ``plans`` become :class:`BackupPlan` entities, so the plan
rules (frequency, retention, cold storage, continuous backup) apply to them
unchanged. Leaf values are usually operator objects (``{"@@assign": "35"}``);
this module reads the value a single policy document sets. ``@@append`` and
``@@remove`` only make sense against an inherited policy, so a value set that
way is :class:`Unknown` until the effective policy is known. Scalars are
strings in AWS's examples (``"35"``, ``"false"``) and are coerced here.
"""

from __future__ import annotations

from typing import Any

from backupguard.estate import (
    BackupPlan,
    BackupRule,
    CopyAction,
    Estate,
    InputError,
    Lifecycle,
    Origin,
    OrgBackupPolicy,
    Unknown,
    whole_number,
)
from backupguard.scanner.values import Rejected, attributes_of, kind_of

_OPERATORS = ("@@assign", "@@append", "@@remove")


def leaf(node: Any, what: str) -> Any:
    """The value a policy document sets for a setting (``None`` when it sets none)."""
    if isinstance(node, dict) and any(op in node for op in _OPERATORS):
        if "@@assign" in node:
            return node["@@assign"]
        return Unknown(f"{what} is changed with @@append/@@remove: decided by the inherited policy")
    return node


def _int(container: Any, key: str, origin: Origin, what: str) -> Any:
    """A whole number setting, parsed as AWS parses it; a value AWS refuses is a located :class:`Rejected`."""
    value = leaf(container.get(key), what)
    if value is None or isinstance(value, Unknown):
        return value
    if isinstance(value, (dict, list)):  # an object without an operator: BG501 reports it
        return Unknown(f"{what} is not a single value")
    try:
        return whole_number(value)
    except ValueError as exc:
        raise Rejected(f"{what}: {exc}", _at(origin, container, key)) from None


def _bool(node: Any, what: str) -> Any:
    value = leaf(node, what)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value if isinstance(value, (bool, Unknown)) or value is None else Unknown(f"{what} {value!r} is not a boolean")


def _entries(container: Any, key: Any, origin: Origin, what: str) -> list[tuple[str, dict, Origin]]:
    """The named objects of a map (plans, rules, copy actions), each with its origin.

    Absent is none; ``@@`` keys (child-policy controls) are not entries. A map of
    another type, or an entry that is not an object (``rules: [1]``, a null rule),
    is refused: AWS rejects the policy, and skipping it would drop a rule unchecked.
    """
    node = container.get(key) if isinstance(container, dict) else None
    if node is None or isinstance(node, Unknown):
        return []
    if not isinstance(node, dict):
        raise Rejected(f"{what} must be an object, not {kind_of(node)}", _at(origin, container, key))
    found = []
    for name, entry in node.items():
        if isinstance(name, str) and name.startswith("@@") or isinstance(entry, Unknown):
            continue
        if not isinstance(entry, dict):
            raise Rejected(f"{what} entry '{name}' must be an object, not {kind_of(entry)}", _at(origin, node, name))
        found.append((str(name), entry, _at(origin, node, name)))
    return found


def _lifecycle(container: Any, origin: Origin, where: str) -> Lifecycle | None:
    node = container.get("lifecycle")
    if node is None or isinstance(node, Unknown):
        return None
    if not isinstance(node, dict):
        raise Rejected(f"{where} lifecycle must be an object, not {kind_of(node)}", _at(origin, container, "lifecycle"))
    origin = _at(origin, container, "lifecycle")
    return Lifecycle(
        delete_after_days=_int(node, "delete_after_days", origin, f"{where} delete_after_days"),
        move_to_cold_storage_after_days=_int(
            node, "move_to_cold_storage_after_days", origin, f"{where} move_to_cold_storage_after_days"
        ),
        opt_in_to_archive=_bool(node.get("opt_in_to_archive_for_supported_resources"), f"{where} opt-in to archive"),
        origin=origin,
    )


def _at(origin: Origin, container: Any, key: Any) -> Origin:
    """The position of ``key`` when the policy came from YAML/JSON with positions, else the policy's."""
    pos = getattr(container, "pos", None)
    return origin.at(*pos(key)) if pos else origin


# Where a policy's rule and copy action write their settings (the policy's own key names).
_LIFECYCLE_PATHS = {
    "lifecycle.delete_after_days": "lifecycle.delete_after_days",
    "lifecycle.move_to_cold_storage_after_days": "lifecycle.move_to_cold_storage_after_days",
    "lifecycle.opt_in_to_archive": "lifecycle.opt_in_to_archive_for_supported_resources",
}
_RULE_PATHS = {
    "schedule": "schedule_expression",
    "start_window_minutes": "start_backup_window_minutes",
    "completion_window_minutes": "complete_backup_window_minutes",
    "continuous_backup": "enable_continuous_backup",
    **_LIFECYCLE_PATHS,
}
_COPY_PATHS = {"destination_vault_arn": "target_backup_vault_arn", **_LIFECYCLE_PATHS}


def _rule(name: str, node: dict, origin: Origin) -> BackupRule:
    where = f"rule '{name}'"
    copies = [
        CopyAction(
            leaf(copy.get("target_backup_vault_arn"), f"{where} copy target") or key,
            _lifecycle(copy, copy_origin, f"{where} copy to {key}"),
            copy_origin,
            attributes_of(copy_origin, copy, _COPY_PATHS),
        )
        for key, copy, copy_origin in _entries(node, "copy_actions", origin, f"{where} copy_actions")
    ]
    return BackupRule(
        name=name,
        target_vault=leaf(node.get("target_backup_vault_name"), f"{where} target_backup_vault_name"),
        schedule=leaf(node.get("schedule_expression"), f"{where} schedule_expression"),
        timezone=leaf(node.get("schedule_expression_timezone"), f"{where} schedule_expression_timezone"),
        start_window_minutes=_int(node, "start_backup_window_minutes", origin, f"{where} start_backup_window_minutes"),
        completion_window_minutes=_int(
            node, "complete_backup_window_minutes", origin, f"{where} complete_backup_window_minutes"
        ),
        lifecycle=_lifecycle(node, origin, where),
        copy_actions=copies,
        continuous_backup=_bool(node.get("enable_continuous_backup"), f"{where} enable_continuous_backup") or False,
        target_air_gapped_vault_arn=leaf(node.get("target_logically_air_gapped_backup_vault_arn"), where),
        origin=origin,
        attributes=attributes_of(origin, node, _RULE_PATHS),
    )


def plans_of(policy_id: str, content: Any, origin: Origin) -> list[BackupPlan]:
    """The plans a backup policy document declares, as Estate plans named ``<policy>/<plan>``.

    Raises :class:`Rejected` (located) for a plan, rule, copy action or number AWS would refuse.
    """
    if not isinstance(content, dict) or not isinstance(content.get("plans"), dict):
        return []  # not a policy of plans: the syntax checks (BG50x) say why
    return [
        BackupPlan(
            resource_id=f"{policy_id}/{name}",
            name=name,
            rules=[_rule(rule_name, rule, rule_origin)
                   for rule_name, rule, rule_origin in _entries(plan, "rules", plan_origin, f"plan '{name}' rules")],
            origin=plan_origin,
            resource_type="AWS::Organizations::Policy",
        )
        for name, plan, plan_origin in _entries(content, "plans", origin, "plans")
    ]


_POLICY_MARKERS = ('"plans"', "'plans'", "plans:")


def looks_like_policy(text: str) -> bool:
    """Cheap content test for a standalone backup policy document (JSON, or YAML)."""
    return any(marker in text for marker in _POLICY_MARKERS) and ("rules" in text or "selections" in text)


def is_policy(data: Any) -> bool:
    """A mapping whose ``plans`` maps names to plan objects with backup-policy keys."""
    plans = data.get("plans") if isinstance(data, dict) else None
    if not isinstance(plans, dict) or not plans:
        return False
    plan_keys = {"regions", "rules", "selections"}
    return all(isinstance(plan, dict) and plan_keys & set(plan) for plan in plans.values())


def parse_policy_file(path: str, text: str, data: Any) -> Estate:
    """A standalone Organizations backup policy document (as ``aws organizations`` takes it)."""
    name = path.rsplit("/", 1)[-1]
    origin = Origin(file=path, line=getattr(data, "line", 1), column=getattr(data, "column", 1), unit=path)
    policy = OrgBackupPolicy(name, name, data, origin, resource_type="AWS::Organizations::Policy::BackupPolicy",
                             text_length=len(text))
    estate = Estate(files=[path])
    add_entity(estate, policy)
    return estate


def add_entity(estate: Estate, entity: Any) -> None:
    """Add a source's entity; a backup policy also brings its plans, checked like any other plan.

    A policy AWS would refuse (a rule that is not an object, a number that does
    not parse) brings a located error instead of its plans; its syntax is still checked.
    """
    estate.add(entity)
    if isinstance(entity, OrgBackupPolicy):
        try:
            estate.plans.extend(plans_of(entity.resource_id, entity.content, entity.origin))
        except Rejected as exc:
            estate.errors.append(InputError(f"backup policy '{entity.resource_id}': {exc.message}", exc.origin or entity.origin))
