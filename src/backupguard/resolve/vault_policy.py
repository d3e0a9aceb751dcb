"""Vault access policies: do they stop anyone from deleting the vault's recovery points?

Semantics of the AWS Config rule ``backup-recovery-point-manual-deletion-disabled``
(Audit Manager control ``BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED``): a
vault is protected when its access policy has ``Deny`` statements that cover
:data:`PROTECTED_ACTIONS` for every principal on every resource. Principals in
the rule's ``principalArnList`` may be exempt (through ``NotPrincipal`` or an
``aws:PrincipalArn`` exclusion condition); nothing else may weaken the deny.

How each part of a statement is read:

* **Action** matches exactly, ignoring case (IAM action names are
  case-insensitive). Vault access policies do not support wildcards in
  ``Action``, so ``backup:Delete*`` denies nothing here; :func:`wildcard_actions`
  lists such entries so that a rule can say so. A ``Deny`` with ``NotAction``
  covers every action it does not list; a wildcard in ``NotAction`` that would
  match the action is counted as listing it (the safe reading).
* **Principal** must be ``"*"`` or ``{"AWS": "*"}``. With ``NotPrincipal`` every
  listed principal must be exempt.
* **Resource** must cover every resource the action can act on. Recovery points
  are not all ``arn:aws:backup:...:recovery-point:*``: those of EBS, EC2, RDS,
  Aurora, FSx, Redshift and DynamoDB without advanced features keep their
  service's ARN (``arn:aws:ec2:<region>::snapshot/snap-...``), and
  ``backup:PutBackupVaultAccessPolicy`` acts on the vault
  (``...:backup-vault:<name>``), not on a recovery point. So in practice
  ``"*"`` is what covers them all, which is also what the Config rule asks for
  ("a wildcard for Resource and Principal"). Literal partition, Region and
  account segments are taken to be the vault's own. ``NotResource`` is not
  counted.
* **Condition** weakens the deny, so a statement with one counts only when
  every condition is an exclusion of exempt principals: ``ArnNotEquals``,
  ``ArnNotLike``, ``StringNotEquals`` or ``StringNotLike`` (optionally
  ``...IfExists``) on ``aws:PrincipalArn`` with values that are all in the
  exempt list (a pattern only when the same pattern is listed).

Values the template does not determine (:class:`~backupguard.estate.Unknown`,
:class:`~backupguard.estate.Reference`) are read with three-valued logic, per
action: an action is denied when some statement certainly denies it, unknown
when none does but one might, not denied otherwise. An ``Unknown`` with
candidates is decided when every candidate gives the same answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

from backupguard.estate import Reference, Unknown

PROTECTED_ACTIONS = (
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:PutBackupVaultAccessPolicy",
)

# What each protected action acts on (IAM resource type), and ARNs of that
# type a covering Resource must match: the AWS Backup "resource ARNs" table.
# IDs are made up so that no literal ARN in a policy matches them by accident.
_RECOVERY_POINT_ARNS = (
    "arn:aws:backup:us-east-1:123456789012:recovery-point:backupguard-probe",  # fully managed types
    "arn:aws:ec2:us-east-1::snapshot/snap-backupguardprobe",  # EBS
    "arn:aws:ec2:us-east-1::image/ami-backupguardprobe",  # EC2
    "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-backupguard-probe",  # RDS
    # Aurora, DocumentDB, Neptune
    "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:awsbackup:job-backupguard-probe",
    "arn:aws:fsx:us-east-1:123456789012:backup/backup-backupguardprobe",  # FSx
    "arn:aws:redshift:us-east-1:123456789012:snapshot:cluster/awsbackup:job-backupguard-probe",  # Redshift
    "arn:aws:dynamodb:us-east-1:123456789012:table/backupguard-probe/backup/01700000000000-backupguard",  # DynamoDB
)
_VAULT_ARNS = ("arn:aws:backup:us-east-1:123456789012:backup-vault:backupguard-probe",)
_TARGETS = {
    "backup:deleterecoverypoint": ("every recovery point", _RECOVERY_POINT_ARNS),
    "backup:updaterecoverypointlifecycle": ("every recovery point", _RECOVERY_POINT_ARNS),
    "backup:putbackupvaultaccesspolicy": ("the vault", _VAULT_ARNS),
}

_EXEMPTING_OPERATORS = frozenset({"ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike"})
_IAM_IDENTITIES = frozenset({"AWS::IAM::Role", "AWS::IAM::User"})
_UNSUPPORTED_WILDCARD = "a wildcard, which vault access policies do not support in Action"


@dataclass(frozen=True)
class DeletionProtection:
    protected: bool | Unknown  # True when every protected action is denied to every principal on every resource
    missing: tuple[str, ...]  # protected actions certainly not (fully) denied, for messages
    reason: str  # a one-line explanation quoting what decided it


# ---------------------------------------------------------------------------
# Three-valued checks
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Check:
    """One answer: ``state`` is True, False or an Unknown; ``note`` says why (when not True)."""

    state: Any
    note: str = ""
    by: str = ""  # the statement that denies the action (state True)
    exempted: tuple[str, ...] = ()  # exempt principals the deny leaves out


def _yes(exempted: Iterable[str] = ()) -> _Check:
    return _Check(True, exempted=tuple(exempted))


def _all(checks: Iterable[_Check]) -> _Check:
    """Kleene AND: the first False, else the first unknown, else True."""
    checks = list(checks)
    for check in checks:
        if check.state is False:
            return check
    for check in checks:
        if check.state is not True:
            return check
    return _yes(dict.fromkeys(e for c in checks for e in c.exempted))


def _any(checks: Iterable[_Check], otherwise: str = "") -> _Check:
    """Kleene OR: the first True, else the first unknown, else False with the notes of the others."""
    checks = list(checks)
    for check in checks:
        if check.state is True:
            return check
    for check in checks:
        if check.state is not False:
            return check
    notes = list(dict.fromkeys(c.note for c in checks if c.note))
    return _Check(False, "; ".join(notes) or otherwise)


def _undetermined(value: Unknown | Reference, test: Callable[[Any], _Check], what: str) -> _Check:
    """A check on a value the template does not determine: decided only if every candidate agrees."""
    if isinstance(value, Reference):
        note = f"{what} is '{value}', known only after deployment"
        return _Check(Unknown(note, (value.target,)), note)
    if value.candidates:
        candidates = list(value.candidates) + ([None] if value.may_be_absent else [])
        results = [test(candidate) for candidate in candidates]
        if all(r.state is True for r in results) or all(r.state is False for r in results):
            return results[0]
    note = f"{what} is {value}"
    return _Check(Unknown(note, value.refs), note)


def _is_open(value: Any) -> bool:
    return isinstance(value, (Unknown, Reference))


def _is_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@lru_cache(maxsize=512)
def _glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """An IAM pattern (``*`` any run of characters, ``?`` one character) as a regex."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


# ---------------------------------------------------------------------------
# Statement parts
# ---------------------------------------------------------------------------


def _effect(value: Any) -> _Check:
    if _is_open(value):
        return _undetermined(value, _effect, "Effect")
    if value == "Deny":
        return _yes()
    return _Check(False)  # Allow (or malformed): never a deny; not worth a note


def _names(value: Any, action: str, element: str) -> _Check:
    """Whether an Action/NotAction value names ``action`` (exactly, ignoring case).

    For ``Action`` a wildcard never names it (unsupported); for ``NotAction`` a
    wildcard that would match it counts as naming it (safe reading).
    """
    if value is None:
        return _Check(False, "has no Action") if element == "Action" else _Check(False)
    if _is_open(value):
        return _undetermined(value, lambda v: _names(v, action, element), element)
    if isinstance(value, list):
        return _any(_names(item, action, element) for item in value)
    if not isinstance(value, str):
        return _Check(False, f"{element} {_show(value)} is not an action name")
    if _is_wildcard(value):
        if not _glob(value, True).fullmatch(action):
            return _Check(False)
        if element == "Action":
            return _Check(False, f"Action '{value}' is {_UNSUPPORTED_WILDCARD}")
        return _Check(True, f"NotAction '{value}' is {_UNSUPPORTED_WILDCARD}; counted as leaving it out")
    if value.lower() == action:
        return _Check(True, f"{element} lists it")
    return _Check(False)


def _action(statement: dict, action: str) -> _Check:
    if "Action" in statement and "NotAction" in statement:
        return _Check(False, "has both Action and NotAction")
    if "NotAction" not in statement:
        found = _names(statement.get("Action"), action, "Action")
        return _yes() if found.state is True else found
    if statement["NotAction"] in (None, []):
        return _Check(False, "NotAction is empty")
    excluded = _names(statement["NotAction"], action, "NotAction")
    if excluded.state is True:
        return _Check(False, excluded.note)
    if excluded.state is False:
        return _yes()
    return excluded


def _everyone(value: Any) -> _Check:
    """Whether a Principal value is every principal: ``"*"`` or ``{"AWS": "*"}``."""
    if value is None:
        return _Check(False, "has no Principal")
    if isinstance(value, Reference) and value.target_type in _IAM_IDENTITIES:
        return _Check(False, f"Principal is '{value}', not every principal")
    if _is_open(value):
        return _undetermined(value, _everyone, "Principal")
    if value == "*":
        return _yes()
    if isinstance(value, dict):
        if "AWS" not in value:
            return _Check(False, f"Principal {_show(value)} is not every principal")
        found = _aws_everyone(value["AWS"])
        if found.state is False:
            return _Check(False, f"Principal {_show(value)} is not every principal")
        return found
    return _Check(False, f"Principal {_show(value)} is not every principal")


def _aws_everyone(value: Any) -> _Check:
    if isinstance(value, Reference) and value.target_type in _IAM_IDENTITIES:
        return _Check(False)
    if _is_open(value):
        return _undetermined(value, _aws_everyone, "Principal AWS")
    if isinstance(value, list):  # a list of principals, never of lists (IAM rejects nesting)
        return _any(_Check(False) if isinstance(item, list) else _aws_everyone(item) for item in value)
    return _yes() if value == "*" else _Check(False)


def _only_exempt(value: Any, exempt: frozenset[str]) -> _Check:
    """Whether every principal a NotPrincipal value names is exempt."""
    if _is_open(value) and not exempt:  # nothing may be exempt, whatever the value is
        return _Check(False, "NotPrincipal leaves out a principal known only at deploy time; no principal is exempt")
    if _is_open(value):
        return _undetermined(value, lambda v: _only_exempt(v, exempt), "NotPrincipal")
    if value == "*":
        return _Check(False, "NotPrincipal '*' leaves out every principal")
    if isinstance(value, dict):
        parts = list(value.values())
        if not parts:
            return _Check(False, "NotPrincipal names no principal")
        return _all(_only_exempt(part, exempt) for part in parts)
    if isinstance(value, list):
        if not value:
            return _Check(False, "NotPrincipal names no principal")
        return _all(_only_exempt(item, exempt) for item in value)
    if isinstance(value, str) and value in exempt:
        return _yes((value,))
    return _Check(False, f"NotPrincipal leaves out {_show(value)}, which is not an exempt principal")


def _principal(statement: dict, exempt: frozenset[str]) -> _Check:
    if "Principal" in statement and "NotPrincipal" in statement:
        return _Check(False, "has both Principal and NotPrincipal")
    if "NotPrincipal" in statement:
        return _only_exempt(statement["NotPrincipal"], exempt)
    return _everyone(statement.get("Principal"))


_SYMBOLIC = re.compile(r"\$\{AWS::[A-Za-z]+\}")  # pseudo-parameters the scanner leaves in strings


def _own_account(pattern: str) -> str:
    """Literal partition, Region and account segments stand for the vault's own: make them '*'."""
    parts = _SYMBOLIC.sub("\x00", pattern).split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        for index in (1, 3, 4):
            if not _is_wildcard(parts[index]):
                parts[index] = "*"
        return ":".join(parts)
    return pattern


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _resource(statement: dict, action: str) -> _Check:
    if "NotResource" in statement:
        return _Check(False, "NotResource leaves resources out of the deny")
    return _covers(statement.get("Resource"), action)


def _covers(value: Any, action: str) -> _Check:
    """Whether a Resource value covers everything ``action`` can act on in the vault."""
    target, arns = _TARGETS[action]
    if value is None:
        return _Check(False, "has no Resource")
    if _is_open(value):
        return _undetermined(value, lambda v: _covers(v, action), "Resource")
    items = _flatten(value)
    patterns = [_glob(_own_account(item)) for item in items if isinstance(item, str)]
    uncovered = [arn for arn in arns if not any(p.fullmatch(arn) for p in patterns)]
    if not uncovered:
        return _yes()
    for index, item in enumerate(items):
        if _is_open(item):
            # Decided when every value the item can take gives the same answer.
            def test(candidate: Any, index: int = index) -> _Check:
                rest = items[:index] + ([] if candidate is None else [candidate]) + items[index + 1 :]
                return _covers(rest, action)

            return _undetermined(item, test, "Resource")
    note = f"Resource {_show(value)} does not cover {target}"
    if target != "the vault" and arns[0] not in uncovered:
        note += " (EBS, EC2, RDS, Aurora, FSx, Redshift and DynamoDB recovery points keep their service's ARN)"
    return _Check(False, note)


def _condition(value: Any, exempt: frozenset[str]) -> _Check:
    """Whether a Condition only leaves out exempt principals (or there is none)."""
    if value is None or value == {}:
        return _yes()
    if _is_open(value):
        return _undetermined(value, lambda v: _condition(v, exempt), "Condition")
    if not isinstance(value, dict):
        return _Check(False, "Condition is not an object")
    checks = []
    for operator, block in value.items():
        if _is_open(block):
            retry = lambda v, op=operator: _condition({op: v}, exempt)  # noqa: E731
            checks.append(_undetermined(block, retry, f"Condition {operator}"))
            continue
        if not isinstance(block, dict):
            return _Check(False, f"Condition {operator} is not an object")
        for key, values in block.items():
            checks.append(_exclusion(str(operator), str(key), values, exempt))
    return _all(checks)


def _exclusion(operator: str, key: str, values: Any, exempt: frozenset[str]) -> _Check:
    base = operator[: -len("IfExists")] if operator.endswith("IfExists") else operator
    if base not in _EXEMPTING_OPERATORS or key.lower() != "aws:principalarn":
        return _Check(False, f"Condition {operator} {key} limits when the deny applies, so it does not count")
    what = f"Condition {operator} {key}"

    def exempt_only(value: Any) -> _Check:
        if _is_open(value) and not exempt:  # nothing may be exempt, whatever the value is
            return _Check(False, f"{what} leaves out a principal known only at deploy time; no principal is exempt")
        if _is_open(value):
            return _undetermined(value, exempt_only, what)
        if isinstance(value, list):
            if not value:
                return _Check(False, f"{what} names no principal")
            return _all(exempt_only(item) for item in value)
        if isinstance(value, str) and base.endswith("Like") and value.strip("*") == "":
            return _Check(False, f"{what} '{value}' leaves out every principal")
        if isinstance(value, str) and value in exempt:
            return _yes((value,))
        return _Check(False, f"{what} leaves out {_show(value)}, which is not an exempt principal")

    return exempt_only(values)


def _label(statement: Any, index: int) -> str:
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    return f"statement '{sid}'" if isinstance(sid, str) and sid else f"statement #{index + 1}"


def _statement_denies(statement: Any, index: int, action: str, exempt: frozenset[str]) -> _Check:
    """Whether one statement denies ``action`` to every (non-exempt) principal on every resource."""
    label = _label(statement, index)
    if _is_open(statement):
        return _undetermined(statement, lambda s: _statement_denies(s, index, action, exempt), label)
    if not isinstance(statement, dict):
        return _Check(False, f"{label} is not an object")
    effect = _effect(statement.get("Effect"))
    named = _action(statement, action)
    if effect.state is False or (named.state is False and not named.note):
        return _Check(False)  # not a deny of this action: says nothing about it
    result = _all(
        [
            effect,
            named,
            _principal(statement, exempt),
            _resource(statement, action),
            _condition(statement.get("Condition"), exempt),
        ]
    )
    if result.state is True:
        return _Check(True, by=label, exempted=result.exempted)
    note = f"{label}: {result.note}"
    if result.state is False:
        return _Check(False, note)
    return _Check(Unknown(note, result.state.refs), note)


def _denied(statements: Any, action: str, exempt: frozenset[str]) -> _Check:
    if _is_open(statements):
        return _undetermined(statements, lambda s: _denied(s, action, exempt), "Statement")
    if statements is None:
        return _Check(False, "the policy has no Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return _Check(False, "Statement is not a list or an object")
    checks = [_statement_denies(statement, index, action, exempt) for index, statement in enumerate(statements)]
    return _any(checks, otherwise="no Deny statement names it")


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _exempt_set(exempt_principals: Any) -> frozenset[str]:
    """The exempt ARNs; a comma-separated string (the Config rule's CSV form) is split."""
    if not exempt_principals:
        return frozenset()
    items = [exempt_principals] if isinstance(exempt_principals, str) else list(exempt_principals)
    return frozenset(
        part.strip() for item in items if isinstance(item, str) for part in item.split(",") if part.strip()
    )


def _parse(policy: Any) -> tuple[Any, str | None]:
    if isinstance(policy, str):
        try:
            return json.loads(policy), None
        except ValueError:
            return None, "policy is not valid JSON"
    return policy, None


def _grouped(results: dict[str, _Check], key: Callable[[_Check], str]) -> str:
    groups: dict[str, list[str]] = {}
    for action, check in results.items():
        groups.setdefault(key(check), []).append(action)
    return "; ".join(f"{', '.join(actions)} ({text})" for text, actions in groups.items())


def deletion_protection(policy: Any, exempt_principals: Sequence[str] = ()) -> DeletionProtection:
    """Whether a vault access policy denies :data:`PROTECTED_ACTIONS` to everyone on everything.

    ``policy`` is the parsed document (or its JSON text), ``None`` when the
    vault has none, or an Unknown. ``exempt_principals`` are the Config rule's
    ``principalArnList``: role ARNs the deny may leave out.
    """
    exempt = _exempt_set(exempt_principals)
    policy, error = _parse(policy)
    if error:
        return DeletionProtection(False, PROTECTED_ACTIONS, error)
    if policy is None:
        return DeletionProtection(False, PROTECTED_ACTIONS, "no access policy")
    if isinstance(policy, Reference):
        reason = f"access policy is '{policy}', known only after deployment"
        return DeletionProtection(Unknown(reason, (policy.target,)), (), reason)
    if isinstance(policy, Unknown):
        return _unknown_policy(policy, exempt)
    if not isinstance(policy, dict):
        return DeletionProtection(False, PROTECTED_ACTIONS, "policy is not a JSON object")

    statements = policy.get("Statement")
    results = {action: _denied(statements, action.lower(), exempt) for action in PROTECTED_ACTIONS}
    missing = tuple(action for action, check in results.items() if check.state is False)
    if missing:
        failed = {action: results[action] for action in missing}
        reason = "not denied to every principal on every resource: " + _grouped(failed, lambda c: c.note)
        return DeletionProtection(False, missing, reason)
    undecided = {action: check for action, check in results.items() if check.state is not True}
    if undecided:
        first = next(iter(undecided.values()))
        refs = tuple(dict.fromkeys(ref for check in undecided.values() for ref in check.state.refs))
        reason = "cannot tell whether denied to every principal on every resource: " + _grouped(
            undecided, lambda c: c.note
        )
        return DeletionProtection(Unknown(first.note, refs), (), reason)

    def by(check: _Check) -> str:
        text = f"by {check.by}"
        if check.exempted:
            text += ", except exempt " + ", ".join(check.exempted)
        return text

    return DeletionProtection(True, (), "denied to every principal on every resource: " + _grouped(results, by))


def _unknown_policy(policy: Unknown, exempt: frozenset[str]) -> DeletionProtection:
    """A policy the template does not determine: decided only when every candidate agrees."""
    if policy.candidates:
        candidates = list(policy.candidates) + ([None] if policy.may_be_absent else [])
        results = [deletion_protection(candidate, tuple(exempt)) for candidate in candidates]
        if all(r.protected is True for r in results) or all(r.protected is False for r in results):
            missing = tuple(a for a in PROTECTED_ACTIONS if any(a in r.missing for r in results))
            reason = "in every case the template allows, " + results[0].reason
            return DeletionProtection(results[0].protected, missing, reason)
    reason = f"access policy is {policy}"
    return DeletionProtection(Unknown(policy.reason, policy.refs), (), reason)


def wildcard_actions(policy: Any) -> Any:
    """``Action``/``NotAction`` entries with ``*`` or ``?``, which vault access policies do not support.

    In source order, without repeats; ``[]`` when there is no policy or it is
    not valid JSON. Unknown when the template does not determine the policy or
    one of its actions and no known entry already has a wildcard (candidates
    that all give the same entries decide it).
    """
    policy, error = _parse(policy)
    if error or policy is None:
        return []
    if isinstance(policy, Reference):
        return Unknown(f"the access policy is '{policy}', known only after deployment")
    if isinstance(policy, Unknown):
        bare = Unknown(policy.reason, policy.refs)
        if not policy.candidates or policy.may_be_absent:
            return bare
        found = [wildcard_actions(candidate) for candidate in policy.candidates]
        known = [f for f in found if not isinstance(f, Unknown)]
        common = [e for e in known[0] if all(e in other for other in known[1:])] if known else []
        if common:  # every possible policy has these: a known problem
            return common
        if len(known) == len(found) and not any(known):
            return []
        return bare
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return []
    entries: dict[str, None] = {}
    undetermined: Unknown | None = None
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        for element in ("Action", "NotAction"):
            for entry in _flatten(statement.get(element)):
                if isinstance(entry, str) and _is_wildcard(entry):
                    entries[entry] = None
                elif isinstance(entry, (Unknown, Reference)) and undetermined is None:
                    undetermined = entry if isinstance(entry, Unknown) else Unknown(f"action '{entry}' is not known")
    if undetermined is not None and not entries:
        return Unknown(undetermined.reason, undetermined.refs)
    return list(entries)
