"""Drift of Organizations backup policies against the account's *effective* policy (BG707).

BG705 compares a policy file with the policy's own content. What an account runs is the effective
policy (``organizations:DescribeEffectivePolicy``): the root's, each OU's and the account's own
policies merged, with the inheritance operators resolved into plain values. A policy file does
not say where it is attached, so the scope is the user's: **every policy file given to a drift
run is expected to be in effect for the compared account**, and each plan it declares must be in
the effective policy with the settings the file writes:

* ``@@assign`` (or a bare value): the effective value is that value (a list: with the same
  node's ``@@append`` items added and ``@@remove`` items taken out, in any order);
* ``@@append`` alone: each item is in the effective list; ``@@remove`` alone: none is;
* ``@@operators_allowed_for_child_policies`` sets nothing and is not compared.

To keep false positives out: settings the file does not write are not compared (another policy
may set them), nor extra plans, rules or keys of the effective policy; numbers and booleans
compare by value (``"35"`` is 35); a setting that two given files write differently is unknown
(which one wins depends on where each is attached); an undetermined value is unknown; and an
effective policy that could not be read makes every plan unknown, never drift.
"""

from __future__ import annotations

import json
from typing import Any

from backupguard.estate import OrgBackupPolicy, Origin, Unknown, whole_number
from backupguard.resolve import Subject
from backupguard.resolve.drift import Difference, Drift, compact
from backupguard.resolve.drift_match import Matching, Pair
from backupguard.resolve.org_policy_syntax import CHILD_CONTROL, VALUE_OPERATORS, is_operator_key, path_text

KIND = "drift_effective_policy"


def effective_location(account: str) -> str:
    """How results name the live side: the effective policy has no ARN of its own."""
    return f"effective BACKUP_POLICY of account {account}"


def _is_setting(node: Any) -> bool:
    """A value (bare, a list) or an operator object, as opposed to a map of named entries."""
    if not isinstance(node, dict):
        return True
    return any(key in VALUE_OPERATORS for key in node) or bool(node) and all(key == CHILD_CONTROL for key in node)


def _value(node: Any) -> Any:
    """The value an effective policy holds (plain; an operator object's ``@@assign`` if AWS kept one)."""
    return node.get("@@assign") if isinstance(node, dict) and "@@assign" in node else node


def _norm(value: Any) -> Any:
    """A value as AWS reads it: numbers and booleans by value, lists as sets, maps canonical."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, (int, float, str)):
        try:
            return whole_number(value)
        except ValueError:
            return value
    if isinstance(value, list):
        items = {json.dumps(_norm(v), sort_keys=True, default=str): _norm(v) for v in value}
        return tuple(items[key] for key in sorted(items))
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in value.items()}
    return value


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _settings(node: Any, path: tuple[str, ...]) -> dict[tuple[str, ...], Any]:
    """Every setting a plan node writes, by path (canonical, to tell files that write it differently)."""
    if isinstance(node, Unknown) or _is_setting(node):
        return {path: json.dumps(_norm(node), sort_keys=True, default=str) if not isinstance(node, Unknown) else None}
    found: dict[tuple[str, ...], Any] = {}
    for key, value in node.items():
        if not is_operator_key(key):
            found.update(_settings(value, (*path, str(key))))
    return found


def _plans(content: Any) -> dict[str, Any]:
    plans = content.get("plans") if isinstance(content, dict) else None
    return {str(k): v for k, v in plans.items() if not is_operator_key(k)} if isinstance(plans, dict) else {}


def _at(origin: Origin, node: Any, key: str) -> Origin:
    pos = getattr(node, "key_pos", {}).get(key)
    return origin.at(pos[0], pos[1]) if pos else origin


class _Comparison:
    def __init__(self, drift: Drift, name: str, others: dict[tuple[str, ...], list[tuple[str, Any]]], mine: str):
        self.drift, self.name, self.others, self.mine = drift, name, others, mine

    def label(self, path: tuple[str, ...]) -> str:
        return f"plan '{self.name}'" + (f" {path_text(path)}" if path else "")

    def node(self, mine: Any, theirs: Any, path: tuple[str, ...], origin: Origin) -> None:
        if isinstance(mine, Unknown):
            self.drift.unknowns.append(f"{self.label(path)} is {mine.reason}")
            return
        if _is_setting(mine):
            self.setting(mine, theirs, path, origin)
            return
        if theirs is None or not isinstance(theirs, dict):
            self.drift.differences.append(Difference(self.label(path), "present", "absent" if theirs is None
                                                     else compact(theirs), origin))
            return
        for key, value in mine.items():
            if not is_operator_key(key):
                self.node(value, theirs.get(key), (*path, str(key)), _at(origin, mine, key))

    def setting(self, mine: Any, theirs: Any, path: tuple[str, ...], origin: Origin) -> None:
        label = self.label(path)
        written = [file for file, text in self.others.get(path, []) if file != self.mine
                   and text != dict(self.others[path]).get(self.mine)]
        if written:
            self.drift.unknowns.append(f"{label} is also written, differently, by {written[0]}: which applies depends "
                                       "on where each policy is attached")
            return
        ops = mine if isinstance(mine, dict) else {"@@assign": mine}
        live = _value(theirs)
        if "@@assign" in ops:
            expected = ops["@@assign"]
            if isinstance(expected, list) and ("@@append" in ops or "@@remove" in ops):
                removed = {_json(v) for v in _items(ops.get("@@remove", []))}
                expected = [v for v in [*expected, *_items(ops.get("@@append", []))] if _json(v) not in removed]
            if theirs is None or _norm(expected) != _norm(live):
                self.drift.differences.append(Difference(label, compact(expected), compact(live), origin))
            return
        have = {_json(v) for v in _items(live)} if theirs is not None else set()
        for item in _items(ops.get("@@append", [])):
            if _json(item) not in have:
                self.drift.differences.append(Difference(f"{label} item {compact(item)}", "appended", "absent", origin))
        for item in _items(ops.get("@@remove", [])):
            if _json(item) in have:
                self.drift.differences.append(Difference(f"{label} item {compact(item)}", "removed", "present", origin))


def _json(value: Any) -> str:
    return json.dumps(_norm(value), sort_keys=True, default=str)


def effective_subjects(files: list[OrgBackupPolicy], effective: Any, matching: Matching) -> list[Subject]:
    """One ``drift_effective_policy`` subject per plan a policy file declares (see the module docstring).
    ``effective`` is the effective policy's document ({} when none is in effect), or Unknown."""
    where = effective_location(matching.account)
    live_plans = _plans(effective) if not isinstance(effective, Unknown) else {}
    written: dict[tuple[str, ...], list[tuple[str, Any]]] = {}
    declared = []
    for policy in files:
        for name, node in _plans(policy.content).items():
            declared.append((policy, name, node))
            for path, text in _settings(node, ()).items():
                written.setdefault((name, *path), []).append((str(policy.origin.file), text))
    out = []
    for policy, name, node in declared:
        origin = _at(_at(policy.origin, policy.content, "plans"), policy.content.get("plans"), name)
        how = f"plan name '{name}' in the {where}"
        drift = Drift(Pair("effective_policy", policy, None, how))
        if isinstance(effective, Unknown):
            facts: Any = Unknown(effective.reason)
        elif name not in live_plans:
            facts = [f"plan '{name}' is in the policy files, not in the {where}"]
        else:
            others = {path[1:]: texts for path, texts in written.items() if path[0] == name}
            _Comparison(drift, name, others, str(policy.origin.file)).node(node, live_plans[name], (), origin)
            facts = drift.facts()
        first = next((d.origin for d in drift.differences if d.origin is not None), origin)
        out.append(Subject(KIND, policy.resource_id, policy.resource_type, Origin(
            first.file, first.line, first.column, account=matching.account, arn=where, unit=policy.origin.unit), {
            "plan": name, "policy": policy.name if isinstance(policy.name, str) else policy.resource_id,
            "drift": facts, "match": how, "live": where,
        }, element=f"plan '{name}'"))
    return out
