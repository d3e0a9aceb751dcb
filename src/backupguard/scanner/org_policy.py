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

from backupguard.estate import BackupPlan, BackupRule, CopyAction, Estate, Lifecycle, Origin, OrgBackupPolicy, Unknown

_OPERATORS = ("@@assign", "@@append", "@@remove")


def leaf(node: Any, what: str) -> Any:
    """The value a policy document sets for a setting (``None`` when it sets none)."""
    if isinstance(node, dict) and any(op in node for op in _OPERATORS):
        if "@@assign" in node:
            return node["@@assign"]
        return Unknown(f"{what} is changed with @@append/@@remove: decided by the inherited policy")
    return node


def _int(node: Any, what: str) -> Any:
    value = leaf(node, what)
    if value is None or isinstance(value, Unknown):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return Unknown(f"{what} {value!r} is not a number")


def _bool(node: Any, what: str) -> Any:
    value = leaf(node, what)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value if isinstance(value, (bool, Unknown)) or value is None else Unknown(f"{what} {value!r} is not a boolean")


def _lifecycle(node: Any, origin: Origin, where: str) -> Lifecycle | None:
    if not isinstance(node, dict):
        return None
    return Lifecycle(
        delete_after_days=_int(node.get("delete_after_days"), f"{where} delete_after_days"),
        move_to_cold_storage_after_days=_int(
            node.get("move_to_cold_storage_after_days"), f"{where} move_to_cold_storage_after_days"
        ),
        opt_in_to_archive=_bool(node.get("opt_in_to_archive_for_supported_resources"), f"{where} opt-in to archive"),
        origin=origin,
    )


def _at(origin: Origin, container: Any, key: Any) -> Origin:
    """The position of ``key`` when the policy came from YAML/JSON with positions, else the policy's."""
    pos = getattr(container, "pos", None)
    return origin.at(*pos(key)) if pos else origin


def _rule(name: str, node: dict, origin: Origin) -> BackupRule:
    where = f"rule '{name}'"
    copies = []
    for key, copy in (node.get("copy_actions") or {}).items():
        if isinstance(copy, dict):
            target = leaf(copy.get("target_backup_vault_arn"), f"{where} copy target") or key
            copies.append(CopyAction(target, _lifecycle(copy.get("lifecycle"), origin, where), origin))
    return BackupRule(
        name=name,
        target_vault=leaf(node.get("target_backup_vault_name"), f"{where} target_backup_vault_name"),
        schedule=leaf(node.get("schedule_expression"), f"{where} schedule_expression"),
        timezone=leaf(node.get("schedule_expression_timezone"), f"{where} schedule_expression_timezone"),
        start_window_minutes=_int(node.get("start_backup_window_minutes"), f"{where} start_backup_window_minutes"),
        completion_window_minutes=_int(
            node.get("complete_backup_window_minutes"), f"{where} complete_backup_window_minutes"
        ),
        lifecycle=_lifecycle(node.get("lifecycle"), _at(origin, node, "lifecycle"), where),
        copy_actions=copies,
        continuous_backup=_bool(node.get("enable_continuous_backup"), f"{where} enable_continuous_backup") or False,
        target_air_gapped_vault_arn=leaf(node.get("target_logically_air_gapped_backup_vault_arn"), where),
        origin=origin,
    )


def plans_of(policy_id: str, content: Any, origin: Origin) -> list[BackupPlan]:
    """The plans a backup policy document declares, as Estate plans named ``<policy>/<plan>``."""
    if not isinstance(content, dict) or not isinstance(content.get("plans"), dict):
        return []
    plans = []
    for name, plan in content["plans"].items():
        if not isinstance(plan, dict):
            continue
        raw_rules = plan.get("rules") if isinstance(plan.get("rules"), dict) else {}
        rules = [
            _rule(str(rule_name), rule, _at(origin, raw_rules, rule_name))
            for rule_name, rule in raw_rules.items()
            if isinstance(rule, dict)
        ]
        plans.append(
            BackupPlan(
                resource_id=f"{policy_id}/{name}",
                name=str(name),
                rules=rules,
                origin=_at(origin, content["plans"], name),
                resource_type="AWS::Organizations::Policy",
            )
        )
    return plans


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
    return Estate(files=[path], org_policies=[policy], plans=plans_of(name, data, origin))


def add_entity(estate: Estate, entity: Any) -> None:
    """Add a source's entity; a backup policy also brings its plans, checked like any other plan."""
    estate.add(entity)
    if isinstance(entity, OrgBackupPolicy):
        estate.plans.extend(plans_of(entity.resource_id, entity.content, entity.origin))
