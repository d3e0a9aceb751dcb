"""Syntax problems of an AWS Organizations backup policy (``BACKUP_POLICY``) document.

:func:`policy_problems` reads one policy document on its own and lists what AWS
Organizations or AWS Backup would reject or mis-apply, each as a
:class:`PolicyProblem` with a ``code``, the JSON ``path`` of the offending place
and a one-line ``message`` quoting the offending value.

Sources: the AWS Organizations User Guide pages "Backup policy syntax and
examples" (``orgs_manage_policies_backup_syntax.html``: keys, required elements,
``tags``/``resources`` exclusivity, the logically air-gapped vault ARN
placeholders, the 60-minute start window, the 90-day cold-storage rule),
"Inheritance operators" (``policy-operators.html``: ``@@append``/``@@remove`` on
multi-valued settings only; child control ``["@@all"]``, a subset of the three
value-setting operators, or ``["@@none"]``) and the Organizations quotas
(``orgs_reference_limits.html``: a backup policy has at most 10,000 characters).

What is accepted although the syntax page does not show it:

* **Bare values.** Policies that AWS documents always write a setting as an
  operator object (``{"@@assign": "35"}``), but the effective policies AWS renders
  (``DescribeEffectivePolicy``) hold plain values (``"35"``, ``["PII", "RED"]``),
  and users lint those too. A bare value is therefore accepted wherever a setting
  is expected; what is flagged is an object in a setting's place that is not an
  operator object (``{"assign": ...}``) and any ``@@`` key that is not one of the
  four operators.
* **Strings for numbers and booleans.** AWS's examples write ``"60"`` and
  ``"false"``; numbers are coerced (``" 35 "`` is 35) and booleans are
  ``true``/``false`` in any case. A value that does not coerce is a ``value``
  problem.
* **Real Region and account in a logically air-gapped vault ARN.** AWS asks for
  the ``$region``/``$account`` placeholders (a policy applies in many accounts and
  Regions); a literal Region and 12-digit account is accepted as well, because it
  is valid for a policy attached to a single account in a single Region.

Partial documents: a child policy may legitimately hold only the settings it
changes (AWS's "a child policy overrides settings in a parent policy" example has
rules without selections), completed by inheritance into the effective policy.
This checker evaluates the document alone, so it still reports the missing
``regions``/``rules``/``selections``, rule keys and selection keys as
``required-key`` problems; the caller decides their severity (an error for an
effective policy or a policy attached to an account, a note for a policy meant to
be merged).

:class:`~backupguard.estate.Unknown` values (CloudFormation intrinsics that could
not be resolved) are never reported: a check that needs one is skipped, and an
Unknown in place of a required key counts as present.

Paths are dotted from the document root (``plans.PII_Backup_Plan.rules.Hourly.
lifecycle.delete_after_days``); a key that contains a dot, a bracket, a quote or
is empty is written ``["..."]``; a problem about the whole document (its size)
has the empty path. For a missing key, the path is where the key should be.
Problems come in document order: the order of the places they point at, a
missing key at its parent's place (before the parent's contents).

Scope (``code``):

=====================  ==========================================================
``operator``           unknown ``@@`` operator; ``@@append``/``@@remove`` on a
                       single-valued setting or with a value that is not a list;
                       bad ``@@operators_allowed_for_child_policies``; an object
                       in a setting's place without an operator
``required-key``       plan without ``regions``/``rules``/``selections``; rule
                       without ``schedule_expression``/``target_backup_vault_name``;
                       ``tags`` entry without ``iam_role_arn``/``tag_key``/
                       ``tag_value``; ``resources`` entry without ``iam_role_arn``/
                       ``resource_types``; empty ``rules``/``tags``/``resources``;
                       ``selections`` with neither ``tags`` nor ``resources``;
                       no ``plans``
``tags-and-resources`` ``tags`` and ``resources`` in one plan's ``selections``
``size``               policy text longer than 10,000 characters
``air-gapped-arn``     ``target_logically_air_gapped_backup_vault_arn`` not
                       ``arn:<partition>:backup:$region:$account:backup-vault:<name>``
``value``              start window under 60 minutes; ``delete_after_days`` less
                       than ``move_to_cold_storage_after_days`` + 90 (rule and copy
                       lifecycles); continuous backup with retention over 35 days
                       or a cold-storage transition; a number or boolean that does
                       not coerce; an object expected and something else given
``unknown-key``        a key that the syntax does not define at plan, rule,
                       lifecycle, copy-action, ``selections`` and selection-entry
                       level (typos such as ``schedule_expresion``)
=====================  ==========================================================

``schedule_expression_timezone`` is deliberately *not* an allowed rule key: it is
a ``CreateBackupPlan`` field, but the Organizations backup policy syntax does not
define it (its rules table lists ``schedule_expression`` as "cron expression in
UTC"), so a policy that uses it is reported as ``unknown-key``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple

from backupguard.estate import Unknown, whole_number

MAX_POLICY_CHARACTERS = 10_000  # Organizations quota for a backup policy document
MIN_START_WINDOW_MINUTES = 60
MIN_DAYS_IN_COLD_STORAGE = 90
MAX_CONTINUOUS_RETENTION_DAYS = 35

PLAN_KEYS = (
    "regions",
    "rules",
    "selections",
    "advanced_backup_settings",
    "backup_plan_tags",
    "scan_settings",
)
PLAN_REQUIRED = ("regions", "rules", "selections")
RULE_KEYS = (
    "schedule_expression",
    "start_backup_window_minutes",
    "complete_backup_window_minutes",
    "target_backup_vault_name",
    "target_logically_air_gapped_backup_vault_arn",
    "enable_continuous_backup",
    "lifecycle",
    "copy_actions",
    "recovery_point_tags",
    "index_actions",
    "scan_actions",
)
RULE_REQUIRED = ("schedule_expression", "target_backup_vault_name")
LIFECYCLE_KEYS = (
    "move_to_cold_storage_after_days",
    "delete_after_days",
    "opt_in_to_archive_for_supported_resources",
)
COPY_ACTION_KEYS = ("target_backup_vault_arn", "lifecycle")
SELECTIONS_KEYS = ("tags", "resources")
TAG_SELECTION_KEYS = ("iam_role_arn", "tag_key", "tag_value", "conditions")
TAG_SELECTION_REQUIRED = ("iam_role_arn", "tag_key", "tag_value")
RESOURCE_SELECTION_KEYS = ("iam_role_arn", "resource_types", "not_resource_types", "conditions")
RESOURCE_SELECTION_REQUIRED = ("iam_role_arn", "resource_types")

VALUE_OPERATORS = ("@@assign", "@@append", "@@remove")
CHILD_CONTROL = "@@operators_allowed_for_child_policies"
OPERATORS = (*VALUE_OPERATORS, CHILD_CONTROL)
CHILD_CONTROL_VALUES = ("@@all", "@@none", *VALUE_OPERATORS)
_ARRAY_ONLY = ("@@append", "@@remove")

# Settings that hold a list (``@@append``/``@@remove`` make sense) and settings
# that hold a single value (they do not). A setting in neither set is judged by
# its value alone.
ARRAY_SETTINGS = frozenset({"regions", "tag_value", "resource_types", "not_resource_types"})
SCALAR_SETTINGS = frozenset(
    {
        "schedule_expression",
        "start_backup_window_minutes",
        "complete_backup_window_minutes",
        "target_backup_vault_name",
        "target_logically_air_gapped_backup_vault_arn",
        "enable_continuous_backup",
        "move_to_cold_storage_after_days",
        "delete_after_days",
        "opt_in_to_archive_for_supported_resources",
        "target_backup_vault_arn",
        "iam_role_arn",
        "tag_key",
        "condition_key",
        "condition_value",
        "windows_vss",
        "backup_acls",
        "backup_object_tags",
        "scanner_role_arn",
        "scan_mode",
    }
)

# arn:<partition>:backup:<$region | region>:<$account | 12 digits>:backup-vault:<vault name>
# (vault names: 2 to 50 letters, digits, '-' and '_', as for CreateBackupVault).
_AIR_GAPPED_ARN = re.compile(
    r"^arn:aws(?:-[a-z]+)*:backup:(?:\$region|[a-z]{2}(?:-[a-z]+)+-\d+)"
    r":(?:\$account|\d{12}):backup-vault:[A-Za-z0-9_-]{2,50}$"
)
_PLAIN_SEGMENT = re.compile(r"^[^.\[\]\"'\s]+$")


@dataclass(frozen=True)
class PolicyProblem:
    code: str  # operator | required-key | tags-and-resources | size | air-gapped-arn | value | unknown-key
    path: str  # JSON path in the document, e.g. "plans.P.rules.Hourly.lifecycle.delete_after_days"
    message: str  # one line, quoting the offending value


def policy_problems(content: Any, text_length: int | None = None) -> list[PolicyProblem]:
    """Every syntax problem of one backup policy document, in document order.

    ``content`` is the parsed document; ``text_length`` the length in characters
    of its JSON text as submitted (``None`` when unknown: no size check).
    """
    checker = _Checker()
    if text_length is not None and text_length > MAX_POLICY_CHARACTERS:
        checker.add(
            "size",
            (),
            f"policy text is {text_length:,} characters; AWS Organizations accepts at most "
            f"{MAX_POLICY_CHARACTERS:,} for a backup policy",
        )
    checker.document(content)
    return checker.result()


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

_NOT_SET = object()  # a setting given only by @@append/@@remove/child control: no value of its own


class _Days(NamedTuple):
    """A day count a lifecycle sets: where, as written, and as a number (None: not a whole number)."""

    path: tuple[str, ...]
    raw: Any
    days: int | None


def path_text(path: tuple[str, ...]) -> str:
    parts = []
    for segment in path:
        if _PLAIN_SEGMENT.match(segment):
            parts.append(("." if parts else "") + segment)
        else:
            parts.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
    return "".join(parts)


def _show(value: Any, limit: int = 80) -> str:
    """The value as it reads in the policy text, on one line."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        try:
            text = repr(value)
        except ValueError:  # an int of more than 4,300 digits has no text in Python
            text = "a number too long to show"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_operator_key(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("@@")


def _entries(node: dict) -> list[tuple[str, Any]]:
    """The named entries of a map (plans, rules, copy actions...), without operator keys."""
    return [(str(key), value) for key, value in node.items() if not is_operator_key(key)]


def _value_of(node: Any) -> Any:
    """The value a setting sets in this document: the bare value, ``@@assign``'s, or _NOT_SET."""
    if isinstance(node, dict):
        return node["@@assign"] if "@@assign" in node else _NOT_SET
    return _NOT_SET if node is None else node


def _present(node: dict, key: str) -> bool:
    return key in node and node[key] is not None


def _allowed(keys: tuple[str, ...]) -> str:
    return ", ".join(keys)


# ---------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------


class _Checker:
    def __init__(self) -> None:
        self._problems: list[tuple[tuple[str, ...], PolicyProblem]] = []
        self._order: dict[tuple[str, ...], int] = {(): 0}

    # -- bookkeeping ---------------------------------------------------------

    def visit(self, path: tuple[str, ...]) -> None:
        self._order.setdefault(path, len(self._order))

    def add(self, code: str, path: tuple[str, ...], message: str) -> None:
        self._problems.append((path, PolicyProblem(code, path_text(path), message)))

    def _rank(self, path: tuple[str, ...]) -> int:
        while path not in self._order:  # a missing key ranks at its parent's place
            path = path[:-1]
        return self._order[path]

    def result(self) -> list[PolicyProblem]:
        ranked = sorted(enumerate(self._problems), key=lambda item: (self._rank(item[1][0]), item[0]))
        return [problem for _, (_, problem) in ranked]

    # -- generic pieces ------------------------------------------------------

    def _object(self, path: tuple[str, ...], node: Any, what: str) -> bool:
        """Whether ``node`` is an object to descend into (an Unknown or wrong type is not)."""
        self.visit(path)
        if isinstance(node, Unknown):
            return False
        if not isinstance(node, dict):
            self.add("value", path, f"{what} must be an object, found {_show(node)}")
            return False
        return True

    def _required(self, path: tuple[str, ...], node: dict, keys: tuple[str, ...], what: str) -> None:
        for key in keys:
            if not _present(node, key):
                self.add("required-key", path + (key,), f"{what} has no '{key}'")

    def _unknown_key(self, path: tuple[str, ...], key: str, what: str, allowed: tuple[str, ...]) -> None:
        self.visit(path)
        self.add("unknown-key", path, f"unknown key {_show(key)} in {what}; allowed: {_allowed(allowed)}")

    def _child_control(self, path: tuple[str, ...], value: Any) -> None:
        self.visit(path)
        if isinstance(value, Unknown):
            return
        if not isinstance(value, list) or not value:
            self.add(
                "operator",
                path,
                f"{CHILD_CONTROL} must be a non-empty list drawn from {_allowed(CHILD_CONTROL_VALUES)}, "
                f"found {_show(value)}",
            )
            return
        known = [item for item in value if not isinstance(item, Unknown)]
        wrong = [item for item in known if item not in CHILD_CONTROL_VALUES]
        if wrong:
            self.add(
                "operator",
                path,
                f"{CHILD_CONTROL} {_show(value)} has {_show(wrong)}; allowed: {_allowed(CHILD_CONTROL_VALUES)}",
            )
        elif len(value) > 1 and any(item in ("@@all", "@@none") for item in known):
            self.add("operator", path, f'{CHILD_CONTROL} {_show(value)}: "@@all" and "@@none" must stand alone')

    def _container_operator(self, path: tuple[str, ...], key: str, value: Any) -> None:
        """An ``@@`` key among a container's entries (plans, a plan, rules, a rule...)."""
        if key == CHILD_CONTROL:
            self._child_control(path, value)
            return
        self.visit(path)
        if key not in VALUE_OPERATORS:
            self.add("operator", path, f"unknown operator {_show(key)}; operators are {_allowed(OPERATORS)}")

    def setting(self, path: tuple[str, ...], name: str, node: Any) -> Any:
        """Check a setting's operators; return the value it sets (``_NOT_SET`` when none, or an Unknown)."""
        self.visit(path)
        if isinstance(node, Unknown):
            return node
        if not isinstance(node, dict):
            return _value_of(node)  # a bare value, as in effective policies
        if not node:
            self.add("operator", path, f"'{name}' is an empty object; expected a value or {{\"@@assign\": ...}}")
            return _NOT_SET
        for key, value in node.items():
            key_path = path + (str(key),)
            if key == CHILD_CONTROL:
                self._child_control(key_path, value)
                continue
            self.visit(key_path)
            if key == "@@assign":
                continue
            if key in _ARRAY_ONLY:
                self._array_operator(key_path, name, key, value)
            elif is_operator_key(key):
                self.add("operator", key_path, f"unknown operator {_show(key)}; operators are {_allowed(OPERATORS)}")
            else:
                self.add(
                    "operator",
                    key_path,
                    f"{_show(key)} in setting '{name}' is not an operator; use one of {_allowed(OPERATORS)}",
                )
        return _value_of(node)

    def _array_operator(self, path: tuple[str, ...], name: str, operator: str, value: Any) -> None:
        if name in SCALAR_SETTINGS:
            self.add(
                "operator",
                path,
                f"{operator} applies to list settings only; '{name}' holds one value ({operator}: {_show(value)})",
            )
        elif not isinstance(value, (list, Unknown)):
            self.add("operator", path, f"{operator} takes a list; '{name}' has {operator}: {_show(value)}")

    def generic(self, path: tuple[str, ...], name: str, node: Any) -> None:
        """A block whose inner keys this checker does not define (tags, conditions, scan settings...).

        Only operators are checked: ``@@`` keys and the array-only rule.
        """
        self.visit(path)
        if not isinstance(node, dict):
            return
        if any(key in VALUE_OPERATORS for key in node):
            self.setting(path, name, node)  # an operator object: it is a setting
            return
        for key_path, key, value in self._own_keys(path, node):
            self.generic(key_path, str(key), value)

    def number(self, path: tuple[str, ...], name: str, node: Any) -> int | None:
        """The whole number a setting sets (None when not set, unknown or invalid: reported)."""
        value = self.setting(path, name, node)
        if value is _NOT_SET or isinstance(value, Unknown):
            return None
        try:  # as AWS parses it: ASCII digits, finite, within a Long (never int() of 5,000 digits)
            return whole_number(value)
        except ValueError:
            self.add("value", path, f"'{name}' must be a whole number, found {_show(value)}")
            return None

    def boolean(self, path: tuple[str, ...], name: str, node: Any) -> bool | None:
        value = self.setting(path, name, node)
        if value is _NOT_SET or isinstance(value, Unknown):
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.add("value", path, f"'{name}' must be true or false, found {_show(value)}")
        return None

    def _own_keys(self, path: tuple[str, ...], node: dict) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
        """(path, key, value) of a mapping's entries; operator keys (``@@assign``...) are checked here."""
        for key, value in node.items():
            key_path = path + (str(key),)
            if is_operator_key(key):
                self._container_operator(key_path, key, value)
            else:
                yield key_path, key, value

    # -- the document --------------------------------------------------------

    def document(self, content: Any) -> None:
        if isinstance(content, Unknown):
            return
        if not isinstance(content, dict):
            self.add("value", (), f"a backup policy must be a JSON object, found {_show(content)}")
            return
        if not _present(content, "plans"):
            self.add("required-key", ("plans",), "the policy has no 'plans'")
            return
        plans_path = ("plans",)
        plans = content["plans"]
        if not self._object(plans_path, plans, "'plans'"):
            return
        for key_path, key, value in self._own_keys(plans_path, plans):
            self.plan(key_path, str(key), value)

    def plan(self, path: tuple[str, ...], name: str, plan: Any) -> None:
        what = f"plan '{name}'"
        if not self._object(path, plan, what):
            return
        self._required(path, plan, PLAN_REQUIRED, what)
        for key_path, key, value in self._own_keys(path, plan):
            if key not in PLAN_KEYS:
                self._unknown_key(key_path, str(key), what, PLAN_KEYS)
            elif key == "regions":
                self.setting(key_path, key, value)
            elif key == "rules":
                self.rules(key_path, name, value)
            elif key == "selections":
                self.selections(key_path, name, value)
            else:
                self.generic(key_path, key, value)

    def rules(self, path: tuple[str, ...], plan_name: str, rules: Any) -> None:
        if not self._object(path, rules, f"'rules' of plan '{plan_name}'"):
            return
        if not _entries(rules):
            self.add("required-key", path, f"plan '{plan_name}' has no rule in 'rules'")
        for key_path, key, value in self._own_keys(path, rules):
            self.rule(key_path, str(key), value)

    def rule(self, path: tuple[str, ...], name: str, rule: Any) -> None:
        what = f"rule '{name}'"
        if not self._object(path, rule, what):
            return
        self._required(path, rule, RULE_REQUIRED, what)
        lifecycle: dict[str, _Days] = {}
        continuous: bool | None = None
        for key_path, key, value in self._own_keys(path, rule):
            if key not in RULE_KEYS:
                self._unknown_key(key_path, str(key), what, RULE_KEYS)
            elif key == "lifecycle":
                lifecycle = self.lifecycle(key_path, f"lifecycle of {what}", value)
            elif key == "copy_actions":
                self.copy_actions(key_path, what, value)
            elif key in ("recovery_point_tags", "index_actions", "scan_actions"):
                self.generic(key_path, key, value)
            elif key == "start_backup_window_minutes":
                minutes = self.number(key_path, key, value)
                if minutes is not None and minutes < MIN_START_WINDOW_MINUTES:
                    self.add(
                        "value",
                        key_path,
                        f"start_backup_window_minutes {_show(_value_of(value))} is under "
                        f"{MIN_START_WINDOW_MINUTES}: AWS Backup requires at least {MIN_START_WINDOW_MINUTES} minutes",
                    )
            elif key == "complete_backup_window_minutes":
                self.number(key_path, key, value)
            elif key == "enable_continuous_backup":
                continuous = self.boolean(key_path, key, value)
            elif key == "target_logically_air_gapped_backup_vault_arn":
                self.air_gapped_arn(key_path, key, value)
            else:
                self.setting(key_path, key, value)
        if continuous:
            self._continuous(what, lifecycle)

    def _continuous(self, what: str, lifecycle: dict[str, _Days]) -> None:
        delete = lifecycle.get("delete_after_days")
        if delete is not None and delete.days is not None and delete.days > MAX_CONTINUOUS_RETENTION_DAYS:
            self.add(
                "value",
                delete.path,
                f"{what} enables continuous backup with delete_after_days {_show(delete.raw)}; "
                f"continuous backups are kept at most {MAX_CONTINUOUS_RETENTION_DAYS} days",
            )
        cold = lifecycle.get("move_to_cold_storage_after_days")
        if cold is not None:
            self.add(
                "value",
                cold.path,
                f"{what} enables continuous backup with move_to_cold_storage_after_days {_show(cold.raw)}; "
                "continuous backups cannot move to cold storage",
            )

    def lifecycle(self, path: tuple[str, ...], what: str, node: Any) -> dict[str, _Days]:
        """Check a lifecycle; return the day counts it sets, by key.

        A key is in the result whenever the document gives it a known value (its
        ``days`` is None when that value is not a whole number, already reported);
        an Unknown value is left out, so that no check depends on it.
        """
        found: dict[str, _Days] = {}
        if not self._object(path, node, what):
            return found
        for key_path, key, value in self._own_keys(path, node):
            if key not in LIFECYCLE_KEYS:
                self._unknown_key(key_path, str(key), what, LIFECYCLE_KEYS)
            elif key == "opt_in_to_archive_for_supported_resources":
                self.boolean(key_path, key, value)
            else:
                days = self.number(key_path, key, value)
                raw = value if isinstance(value, Unknown) else _value_of(value)
                if raw is not _NOT_SET and not isinstance(raw, Unknown):
                    found[key] = _Days(key_path, raw, days)
        delete, cold = found.get("delete_after_days"), found.get("move_to_cold_storage_after_days")
        if (
            delete is not None
            and cold is not None
            and delete.days is not None
            and cold.days is not None
            and delete.days < cold.days + MIN_DAYS_IN_COLD_STORAGE
        ):
            self.add(
                "value",
                delete.path,
                f"delete_after_days {_show(delete.raw)} is less than move_to_cold_storage_after_days "
                f"{_show(cold.raw)} + {MIN_DAYS_IN_COLD_STORAGE}: recovery points must stay "
                f"{MIN_DAYS_IN_COLD_STORAGE} days in cold storage",
            )
        return found

    def copy_actions(self, path: tuple[str, ...], rule_what: str, node: Any) -> None:
        if not self._object(path, node, f"'copy_actions' of {rule_what}"):
            return
        for key_path, key, value in self._own_keys(path, node):
            what = f"copy action '{key}' of {rule_what}"
            if not self._object(key_path, value, what):
                continue
            for inner_path, inner, inner_value in self._own_keys(key_path, value):
                if inner not in COPY_ACTION_KEYS:
                    self._unknown_key(inner_path, str(inner), what, COPY_ACTION_KEYS)
                elif inner == "lifecycle":
                    self.lifecycle(inner_path, f"lifecycle of {what}", inner_value)
                else:
                    self.setting(inner_path, inner, inner_value)

    def air_gapped_arn(self, path: tuple[str, ...], name: str, node: Any) -> None:
        value = self.setting(path, name, node)
        if value is _NOT_SET or isinstance(value, Unknown):
            return
        if not isinstance(value, str) or not _AIR_GAPPED_ARN.match(value):
            self.add(
                "air-gapped-arn",
                path,
                f"{name} {_show(value)} is not arn:aws:backup:$region:$account:backup-vault:<name> "
                "(use the $region and $account placeholders)",
            )

    def selections(self, path: tuple[str, ...], plan_name: str, node: Any) -> None:
        what = f"'selections' of plan '{plan_name}'"
        if not self._object(path, node, what):
            return
        has_tags, has_resources = _present(node, "tags"), _present(node, "resources")
        if has_tags and has_resources:
            self.add(
                "tags-and-resources",
                path,
                f"{what} has both 'tags' and 'resources'; they are mutually exclusive "
                "(for tag and resource conditions together, use 'resources' with 'conditions')",
            )
        elif not has_tags and not has_resources:
            self.add("required-key", path, f"{what} has neither 'tags' nor 'resources'")
        for key_path, key, value in self._own_keys(path, node):
            if key not in SELECTIONS_KEYS:
                self._unknown_key(key_path, str(key), what, SELECTIONS_KEYS)
            elif key == "tags":
                self.selection_map(key_path, "tags", value, TAG_SELECTION_KEYS, TAG_SELECTION_REQUIRED)
            else:
                self.selection_map(key_path, "resources", value, RESOURCE_SELECTION_KEYS, RESOURCE_SELECTION_REQUIRED)

    def selection_map(
        self,
        path: tuple[str, ...],
        kind: str,
        node: Any,
        keys: tuple[str, ...],
        required: tuple[str, ...],
    ) -> None:
        if not self._object(path, node, f"'{kind}'"):
            return
        if not _entries(node):
            self.add("required-key", path, f"'{kind}' has no selection")
        for entry_path, name, entry in self._own_keys(path, node):
            what = f"{kind} selection '{name}'"
            if not self._object(entry_path, entry, what):
                continue
            self._required(entry_path, entry, required, what)
            for key_path, key, value in self._own_keys(entry_path, entry):
                if key not in keys:
                    self._unknown_key(key_path, str(key), what, keys)
                elif key == "conditions":
                    self.generic(key_path, key, value)
                else:
                    self.setting(key_path, key, value)
