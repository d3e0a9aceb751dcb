"""Drift: what the code says against what the account does, as typed differences and subjects.

Both sides are compared after AWS's defaults are applied, once, from the settings contract
(:data:`backupguard.native_settings.RULE_DEFAULTS`...): a start window the code leaves out and
the API reports as 480 minutes is the same setting. A code value that is undetermined (an
unresolved variable, a reference no deployment record resolves) makes the comparison unknown,
never a difference.

The subjects (kinds ``drift_plan``, ``drift_selection``, ``drift_vault``, ``drift_unmanaged``,
``drift_org_policy``; ``drift_protection`` from :mod:`.drift_protection`, ``drift_effective_policy``
from :mod:`.drift_effective`) exist only in a drift run; the BG7xx rules judge them. Each is located at
the code's declaration (the first differing attribute's line when the code writes it) and carries
the live entity's ARN in its origin, so a result has both locations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from backupguard.estate import (
    BackupRule, BackupVault, InputError, Lifecycle, Origin, Unknown, in_words,
)
from backupguard.native_settings import COPY_DEFAULTS, DEFAULT_VAULT_KEY, RULE_DEFAULTS, with_default
from backupguard.resolve import Subject
from backupguard.resolve.drift_match import Matching, Pair, PhysicalId, plan_target, resolve

DRIFT_KINDS = ("drift_plan", "drift_selection", "drift_vault", "drift_unmanaged", "drift_org_policy",
               "drift_protection", "drift_effective_policy")


@dataclass(frozen=True)
class Difference:
    """One setting that differs: its name as the code writes it, both values, where the code says it."""

    setting: str
    code: Any
    live: Any
    origin: Origin | None = None

    def text(self) -> str:
        return f"{self.setting} is {self.code} in code, {self.live} live"


@dataclass
class Drift:
    """The comparison of one pair: its differences, and what could not be compared (and why)."""

    pair: Pair
    differences: list[Difference] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)

    def compare(self, setting: str, code: Any, live: Any, origin: Origin | None = None,
                show: Callable[[Any], str] = lambda v: _quoted(v), same: Callable[[Any, Any], bool] | None = None) -> None:
        """Record a difference, or an unknown when the code's value is undetermined."""
        if isinstance(code, Unknown):
            self.unknowns.append(f"{setting} is {in_words(code)}")
            return
        if isinstance(live, Unknown):  # the account could not be read there (the scan reports why)
            self.unknowns.append(f"{setting} in the account is {in_words(live)}")
            return
        equal = same(code, live) if same is not None else code == live
        if not equal:
            self.differences.append(Difference(setting, show(code), show(live), origin))

    def facts(self) -> Any:
        """The ``drift`` fact: the differences in words; Unknown when none is known but some are undecided."""
        if self.differences:
            return [d.text() for d in self.differences]
        if self.unknowns:
            return Unknown("; ".join(self.unknowns[:3]) + (f"; and {len(self.unknowns) - 3} more" if len(self.unknowns) > 3 else ""))
        return []


# -- how values read in messages ------------------------------------------------------------


def _quoted(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_quoted(v) for v in value) if value else "none"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


def _days(value: Any, never: str = "kept forever") -> str:
    return never if value is None else f"{value} day{'' if value == 1 else 's'}"


def _minutes(value: Any) -> str:
    return f"{value} minutes"


# What each compared rule field is called and how its values read; the defaults come from RULE_DEFAULTS.
_RULE_FIELDS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("schedule", "ScheduleExpression", _quoted),
    ("timezone", "ScheduleExpressionTimezone", _quoted),
    ("start_window_minutes", "StartWindowMinutes", _minutes),
    ("completion_window_minutes", "CompletionWindowMinutes", _minutes),
    ("continuous_backup", "EnableContinuousBackup", _quoted),
)
_LIFECYCLE_FIELDS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("lifecycle.delete_after_days", "retention (Lifecycle.DeleteAfterDays)", _days),
    ("lifecycle.move_to_cold_storage_after_days", "cold storage (Lifecycle.MoveToColdStorageAfterDays)",
     lambda v: _days(v, "never")),
    ("lifecycle.opt_in_to_archive", "Lifecycle.OptInToArchiveForSupportedResources", _quoted),
)


def _schedule(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


def _lifecycle_value(life: Lifecycle | None, key: str) -> Any:
    return getattr(life, key.split(".", 1)[1]) if life is not None else None


def _where(holder: Any, key: str) -> Origin | None:
    found = getattr(holder, "attributes", {}).get(key)
    return found.origin if found is not None else None


# -- plans -------------------------------------------------------------------------------------


def compare_plan(pair: Pair, matching: Matching) -> Drift:
    drift = Drift(pair)
    code, live = pair.code, pair.live
    if live is None:
        return drift
    live_rules = {r.name: r for r in live.rules}
    seen = set()
    for index, rule in enumerate(code.rules):
        name = rule.name
        if isinstance(name, Unknown):
            drift.unknowns.append(f"rule #{index + 1}'s name is {in_words(name)}")
            continue
        seen.add(name)
        other = live_rules.get(name)
        if other is None:
            drift.differences.append(Difference(f"rule '{name}'", "present", "absent", rule.origin))
            continue
        _compare_rule(drift, rule, other, f"rule '{name}'", matching)
    for name in sorted(set(live_rules) - seen, key=str):
        if not any(isinstance(r.name, Unknown) for r in code.rules):
            drift.differences.append(Difference(f"rule '{name}'", "absent", "present", code.origin))
    return drift


def _compare_rule(drift: Drift, rule: BackupRule, live: BackupRule, label: str, matching: Matching) -> None:
    for key, name, show in _RULE_FIELDS:
        code_value = with_default(RULE_DEFAULTS, key, getattr(rule, key))
        live_value = with_default(RULE_DEFAULTS, key, getattr(live, key))
        if key == "schedule":
            code_value, live_value = _schedule(code_value), _schedule(live_value)
        drift.compare(f"{label} {name}", code_value, live_value, _where(rule, key), show)
    target = resolve(rule.target_vault, matching)
    drift.compare(f"{label} target vault (TargetBackupVault)", target, live.target_vault, rule.origin,
                  same=_same_resource)
    air_gapped = resolve(rule.target_air_gapped_vault_arn, matching)
    drift.compare(f"{label} TargetLogicallyAirGappedBackupVaultArn", air_gapped, live.target_air_gapped_vault_arn,
                  rule.origin, same=_same_resource)
    _compare_lifecycle(drift, rule, rule.lifecycle, live.lifecycle, label, RULE_DEFAULTS)
    _compare_copies(drift, rule, live, label, matching)


def _compare_lifecycle(drift: Drift, holder: Any, code: Lifecycle | None, live: Lifecycle | None, label: str,
                       defaults: dict[str, Any]) -> None:
    for key, name, show in _LIFECYCLE_FIELDS:
        drift.compare(f"{label} {name}", with_default(defaults, key, _lifecycle_value(code, key)),
                      with_default(defaults, key, _lifecycle_value(live, key)), _where(holder, key), show)


def _compare_copies(drift: Drift, rule: BackupRule, live: BackupRule, label: str, matching: Matching) -> None:
    remaining = list(live.copy_actions)
    for copy in rule.copy_actions:
        destination = resolve(copy.destination_vault_arn, matching)
        if isinstance(destination, Unknown):
            drift.unknowns.append(f"{label} copy destination is {in_words(destination)}")
            remaining = []  # which live copy is which cannot be told: extra live copies are not drift
            continue
        other = next((c for c in remaining if _same_resource(destination, c.destination_vault_arn)), None)
        where = f"{label} copy to {destination}"
        if other is None:
            drift.differences.append(Difference(where, "present", "absent", copy.origin))
            continue
        remaining.remove(other)
        _compare_lifecycle(drift, copy, copy.lifecycle, other.lifecycle, where, COPY_DEFAULTS)
    for other in remaining:
        drift.differences.append(Difference(f"{label} copy to {other.destination_vault_arn}", "absent", "present",
                                            rule.origin))


def _same_resource(code: Any, live: Any) -> bool:
    """A code name or ARN against the account's: the same ARN or name, or a physical ID the ARN ends with."""
    if isinstance(code, PhysicalId):
        return code.matches(live)
    if isinstance(code, str) and isinstance(live, str):
        return PhysicalId(code).matches(live) or PhysicalId(live).matches(code)
    return code == live


# -- selections -------------------------------------------------------------------------------


def compare_selection(pair: Pair, matching: Matching) -> Drift:
    drift = Drift(pair)
    code, live = pair.code, pair.live
    if live is None:
        return drift
    for key, name in (("resources", "Resources"), ("not_resources", "NotResources")):
        values = resolve(getattr(code, key), matching)
        if isinstance(values, Unknown):
            drift.unknowns.append(f"{name} is {in_words(values)}")
            continue
        unknown = [v for v in values if isinstance(v, Unknown)]
        if unknown:
            drift.unknowns.append(f"{name} holds {in_words(unknown[0])}")
            continue
        drift.compare(name, sorted(map(str, values)), sorted(getattr(live, key)), _where(code, key),
                      same=lambda a, b: len(a) == len(b) and all(any(_same_resource(x, y) for y in b) for x in a))
    for key, name in (("list_of_tags", "ListOfTags"), ("conditions", "Conditions")):
        code_tags = [(t.operator, t.key, t.value) for t in getattr(code, key)]
        if any(isinstance(part, Unknown) for item in code_tags for part in item):
            drift.unknowns.append(f"{name} holds an undetermined tag condition")
            continue
        drift.compare(name, sorted(_condition(*t) for t in code_tags),
                      sorted(_condition(t.operator, t.key, t.value) for t in getattr(live, key)), code.origin)
    role = resolve(code.iam_role_arn, matching)
    drift.compare("IamRoleArn", role, live.iam_role_arn, code.origin, same=_same_resource)
    return drift


def _condition(operator: Any, key: Any, value: Any) -> str:
    return f"{operator} {key}={value}"


# -- vaults -----------------------------------------------------------------------------------


def compare_vault(pair: Pair, matching: Matching) -> Drift:
    drift = Drift(pair)
    code, live = pair.code, pair.live
    if live is None:
        return drift
    code_key = resolve(code.encryption_key_arn, matching)
    drift.compare("EncryptionKeyArn", _key(code_key, code), _key(live.encryption_key_arn, live),
                  _where(code, "encryption_key_arn"), same=_same_resource)
    _compare_lock(drift, code, live)
    drift.compare("AccessPolicy", _policy(code.access_policy), _policy(live.access_policy),
                  _where(code, "access_policy"), show=_policy_words)
    return drift


def _key(key: Any, vault: BackupVault) -> Any:
    """A vault's key with AWS's default applied: None is aws/backup (an AWS owned key when air-gapped)."""
    if isinstance(key, str) and key.endswith(":" + DEFAULT_VAULT_KEY):
        return DEFAULT_VAULT_KEY
    if key is None or key == "":
        return "an AWS owned key" if vault.air_gapped else DEFAULT_VAULT_KEY
    return key


def _compare_lock(drift: Drift, code: BackupVault, live: BackupVault) -> None:
    if code.lock is not None and isinstance(code.lock.present, Unknown):
        drift.unknowns.append(f"whether LockConfiguration is set is {in_words(code.lock.present)}")
        return
    where = _where(code, "lock")
    if code.lock is None or live.lock is None:
        drift.compare("Vault Lock (LockConfiguration)", "set" if code.lock else "absent", "set" if live.lock else "absent",
                      where or code.origin, show=str)
        return
    for key, name in (("min_retention_days", "MinRetentionDays"), ("max_retention_days", "MaxRetentionDays")):
        drift.compare(f"Vault Lock {name}", getattr(code.lock, key), getattr(live.lock, key),
                      _where(code, f"lock.{key}") or where, show=lambda v: _days(v, "not set"))
    code_mode = code.lock.changeable_for_days
    if not code.air_gapped:
        mode = (lambda v: "compliance" if v is not None else "governance")
        drift.compare("Vault Lock mode", code_mode if isinstance(code_mode, Unknown) else mode(code_mode),
                      mode(live.lock.changeable_for_days), _where(code, "lock.changeable_for_days") or where, show=str)


def _policy(policy: Any) -> Any:
    """A policy's statements as canonical JSON texts (order and one-item lists do not matter)."""
    if isinstance(policy, Unknown) or policy is None:
        return policy if policy is not None else frozenset()
    if not isinstance(policy, dict):
        return Unknown("the access policy is not a JSON object")
    statements = policy.get("Statement")
    statements = statements if isinstance(statements, list) else [statements] if statements else []
    return frozenset(json.dumps(_canonical(s), sort_keys=True) for s in statements)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        if len(items) == 1:
            return items[0]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _policy_words(statements: Any) -> str:
    if not statements:
        return "no policy"
    words = []
    for text in sorted(statements):
        statement = json.loads(text)
        if not isinstance(statement, dict):
            continue
        action = statement.get("Action")
        shown = ", ".join(action) if isinstance(action, list) else str(action)
        words.append(f"{statement.get('Effect', '?')} {shown}" + (f" ({statement['Sid']})" if statement.get("Sid") else ""))
    return "[" + "; ".join(words) + "]"


# -- Organizations backup policies ------------------------------------------------------------


def compare_org_policy(pair: Pair) -> Drift:
    drift = Drift(pair)
    if pair.live is None:
        return drift
    code, live = pair.code.content, pair.live.content
    if isinstance(code, Unknown) or isinstance(live, Unknown):
        drift.unknowns.append(f"the policy document is {in_words(code if isinstance(code, Unknown) else live)}")
        return drift
    code_plans = code.get("plans") if isinstance(code, dict) else None
    live_plans = live.get("plans") if isinstance(live, dict) else None
    code_plans, live_plans = code_plans if isinstance(code_plans, dict) else {}, live_plans if isinstance(live_plans, dict) else {}
    for name in sorted(set(code_plans) | set(live_plans)):
        mine, theirs = code_plans.get(name), live_plans.get(name)
        if mine is None or theirs is None:
            drift.differences.append(Difference(f"plan '{name}'", "present" if mine is not None else "absent",
                                                "present" if theirs is not None else "absent", pair.code.origin))
        else:
            for path, code_value, live_value, origin in _policy_differences(mine, theirs, (), pair.code.origin):
                drift.differences.append(Difference(f"plan '{name}' {'.'.join(path)}", compact(code_value),
                                                    compact(live_value), origin))
    return drift


def _policy_differences(mine: Any, theirs: Any, path: tuple[str, ...], origin: Origin) -> list[tuple]:
    """The settings of a policy plan that differ, each at its deepest path: a setting is a map of
    inheritance operators (``{"@@assign": "35"}``), compared whole; ``origin`` follows the file's keys."""
    def setting(value: Any) -> bool:
        return not isinstance(value, dict) or not value or all(str(k).startswith("@@") for k in value)

    if _canonical(mine) == _canonical(theirs):
        return []
    if setting(mine) or setting(theirs) or mine is None or theirs is None:
        return [(path, mine, theirs, origin)]
    found = []
    for key in sorted(set(mine) | set(theirs), key=str):
        pos = getattr(mine, "key_pos", {}).get(key)
        found += _policy_differences(mine.get(key), theirs.get(key), (*path, str(key)),
                                     origin.at(pos[0], pos[1]) if pos else origin)
    return found


def compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":")) if value is not None else "absent"


# -- subjects ---------------------------------------------------------------------------------


_LABELS = {"backup_plan": "backup plan", "backup_selection": "backup selection", "backup_vault": "backup vault",
           "org_policy": "backup policy"}
_SUBJECT_KINDS = {"backup_plan": "drift_plan", "backup_selection": "drift_selection", "backup_vault": "drift_vault",
                  "org_policy": "drift_org_policy"}


def compared_subjects(matching: Matching, org_pairs: list[Pair] = (), errors: list | None = None) -> dict[str, list[Subject]]:
    """The subjects of the compared pairs and of the unmanaged live entities, by kind (see the module
    docstring; :mod:`.drift_subjects` adds the other kinds). A pair whose comparison fails
    (input no one foresaw) costs that pair alone: a located error in ``errors``."""
    out: dict[str, list[Subject]] = {kind: [] for kind in DRIFT_KINDS}
    compare = {"backup_plan": compare_plan, "backup_selection": compare_selection, "backup_vault": compare_vault,
               "org_policy": lambda pair, _: compare_org_policy(pair)}
    for pair in [*matching.pairs, *org_pairs]:
        try:
            drift = compare[pair.kind](pair, matching)
        except (Exception, RecursionError) as exc:  # noqa: BLE001 - one odd entity never stops the run
            if errors is not None:
                errors.append(InputError(f"internal error while comparing {_LABELS[pair.kind]} '{pair.code.resource_id}' "
                                         f"with the account ({type(exc).__name__}); please report it", pair.code.origin))
            continue
        out[_SUBJECT_KINDS[pair.kind]].append(_subject(drift, matching, scope_region=pair.kind != "org_policy"))
    for pair in matching.unmanaged:
        live = pair.live
        out["drift_unmanaged"].append(Subject(
            "drift_unmanaged", live.resource_id, live.resource_type, live.origin,
            {"name": _name(live), "what": _LABELS[pair.kind], "managed": False, "match": pair.how},
            tags=live.tags if isinstance(live.tags, dict) else {},
        ))
    return out


def _name(entity: Any) -> str:
    return entity.name if isinstance(entity.name, str) else in_words(entity.name)


def _subject(drift: Drift, matching: Matching, scope_region: bool = True) -> Subject:
    pair = drift.pair
    code, live = pair.code, pair.live
    arn = live.resource_id if live is not None else _expected_arn(pair, matching)
    first = next((d.origin for d in drift.differences if d.origin is not None), None)
    at = first or code.origin
    origin = Origin(at.file, at.line, at.column, account=matching.account,
                    region=matching.region if scope_region else None, arn=arn, unit=code.origin.unit)
    if live is None:
        if pair.unknown is not None:
            facts_drift: Any = Unknown(pair.unknown)
        else:
            where = "the Organization" if pair.kind == "org_policy" else f"account {matching.account}, Region {matching.region}"
            facts_drift = [f"it is not in {where} (looked up by {pair.how})"]
    else:
        facts_drift = drift.facts()
    facts = {
        "name": _name(code),
        "what": _LABELS[pair.kind],
        "drift": facts_drift,
        "match": pair.how if live is not None else "no match",
        "live": live.resource_id if live is not None else None,
    }
    return Subject(_SUBJECT_KINDS[pair.kind], code.resource_id, code.resource_type, origin, facts,
                   tags=code.tags if isinstance(getattr(code, "tags", None), dict) else {})


def _expected_arn(pair: Pair, matching: Matching) -> str | None:
    """Where a missing entity would be: a vault's ARN (built from its name), the live plan a missing
    selection belongs in; None for a plan (its ARN holds an ID AWS generates)."""
    if pair.kind == "backup_vault" and isinstance(pair.code.name, str) and pair.code.name:
        return matching.vault_arn(pair.code.name)
    if pair.kind == "backup_selection":
        plan = matching.by_code.get(plan_target(pair.code.plan_ref) or "")
        return plan.resource_id if plan is not None else None
    return None
