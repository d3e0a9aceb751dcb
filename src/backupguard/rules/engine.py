"""Evaluate rules over subjects: pass, fail or unknown, with the values that decided it.

Rules are compiled once (:mod:`backupguard.rules.program`): inputs, ``applies_if``,
``condition`` and ``each`` become plain callables, so nothing here interprets an
expression per subject. Unknown handling is explicit: a sub-expression that reads
an input whose value is :class:`Unknown` is unknown (Kleene logic over ``&&``,
``||`` and ``!``), and an unknown outcome's message names the attribute and quotes
the reason; otherwise JMESPath decides. A rule with ``each`` is an "any element"
rule: it passes when one element passes, fails when all fail, and is unknown when
none passes and one is unknown.

Location: a result points at the attribute that decided it. The inputs that
decided the verdict are found on the expression's tree (the false side of a
failed ``&&``, the unknown input that left it open...); the first of them, in
the rule's order of inputs, whose fact reads an attribute the source recorded a
position for (``Subject.attributes``) gives the position; otherwise the result
stays at the subject's block. Fingerprints never depend on it.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Iterable

from backupguard.estate import Attribute, Attributes, Estate, Origin, Reference, Unknown, in_words
from backupguard.resolve import Deferred, Subject, subjects
from backupguard.results import INPUT_ERROR_RULE, Result, fingerprint
from backupguard.rules import Rule
from backupguard.rules.program import Condition, Blocked, split

_SKIP = "skip"  # an element or subject the rule does not apply to: no result


@dataclass(frozen=True)
class Scope:
    """Which subjects a framework control looks at (AWS Backup Audit Manager's ControlScope)."""

    resource_types: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()

    def admits(self, subject: Subject) -> bool:
        if self.resource_types and subject.resource_type not in self.resource_types:
            return False
        if self.tags:
            tags = subject.tags if isinstance(subject.tags, dict) else {}
            return all(tags.get(key) == value for key, value in self.tags)
        return True


@dataclass(frozen=True)
class Check:
    """A rule with its effective parameters and scope, as a run evaluates it."""

    rule: Rule
    params: dict[str, Any]
    scope: Scope = Scope()
    frameworks: tuple[str, ...] = ()

    def params_key(self) -> str:
        """Part of the fingerprint: empty with the rule's defaults, so default findings keep theirs."""
        if self.params == self.rule.defaults():
            return ""
        return json.dumps(self.params, sort_keys=True, default=str)


@dataclass
class _Outcome:
    status: str
    values: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    text: str | None = None  # the formatted message, kept with a memoised outcome
    json_values: Any = None
    blocked: str | None = None  # the input whose unknown value left the verdict open
    decided_by: Condition | None = None  # the condition that gave the verdict (applies_if or condition)
    element: int | None = None  # id() of the element of an "each" rule it was evaluated on
    deciding: tuple[str, ...] | None = None  # the inputs that decided it, in the rule's order (computed once)


# An "each" result quotes at most this many elements; the rest are counted ("and 4 more").
MAX_EXPLAINED = 3


def _shown(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Unknown):  # what is known of it: its known text, or the values it can take
        if value.text is not None:
            return in_words(value)
        if value.candidates:
            return " or ".join(dict.fromkeys(_shown(candidate) for candidate in value.candidates))
        return f"unknown ({value.reason})"
    if isinstance(value, (list, tuple, dict)) and _too_deep(value, _MAX_VALUE_DEPTH):
        return "(nested too deeply to show)"
    if isinstance(value, (list, tuple)):  # in words: "BACKUP_JOB_FAILED, COPY_JOB_FAILED", or "none"
        return ", ".join(_shown(item) for item in value) if value else "none"
    return str(value)


def _too_deep(value: Any, limit: int) -> bool:
    """Whether a list/map nests more than ``limit`` levels (hostile input printed whole would recurse)."""
    level = [value]
    for _ in range(limit):
        level = [child for item in level if isinstance(item, (list, tuple, dict))
                 for child in (item.values() if isinstance(item, dict) else item)]
        if not level:
            return False
    return any(isinstance(item, (list, tuple, dict)) for item in level)


class _Namespace(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _shown_param(rule: Rule, name: str, value: Any) -> str:
    """A parameter in a message: an empty list in the words its rule gives (``any other Region``)."""
    param = rule.parameters.get(name)
    if value == [] and param is not None and param.shown_when_empty is not None:
        return param.shown_when_empty
    return _shown(value)


_CONVERSIONS = {"s": str, "r": repr, "a": ascii}


@lru_cache(maxsize=None)
def _template(text: str) -> tuple[tuple[str, str | None, str, str | None], ...] | None:
    """A message template parsed once: (literal text, field, format spec, conversion) pieces; None
    when a format spec has fields of its own (``str.format`` then formats it)."""
    pieces = tuple(string.Formatter().parse(text))
    return None if any(spec and "{" in spec for _, _, spec, _ in pieces) else pieces


def _format(rule: Rule, template: str, values: dict[str, Any], params: dict[str, Any], element: str | None,
            attributes: Attributes) -> str:
    """A message: ``{input}`` and ``{param}`` show values, ``{@input}`` the source's name of the input's
    attribute, ``{element}`` the subject's part; an unknown name is left as it is."""
    pieces = _template(template)
    if pieces is None:
        shown = _Namespace({k: _shown_param(rule, k, v) for k, v in params.items()})
        shown.update({k: _shown(v) for k, v in values.items()})
        shown.update({f"@{k}": _name(rule, k, attributes) for k in rule.inputs})
        shown["element"] = element or ""
        return string.Formatter().vformat(template, (), shown)
    text = []
    for literal, name, spec, conversion in pieces:
        text.append(literal)
        if name is None:
            continue
        if name == "element":
            value = element or ""
        elif name.startswith("@") and name[1:] in rule.inputs:
            value = _name(rule, name[1:], attributes)
        elif name in values:
            value = _shown(values[name])
        elif name in params:
            value = _shown_param(rule, name, params[name])
        else:
            value = "{" + name + "}"
        if conversion:
            value = _CONVERSIONS[conversion](value)
        text.append(format(value, spec))
    return "".join(text)


def _attribute(rule: Rule, name: str, attributes: Attributes) -> Attribute | None:
    """The source attribute an input reads (through the facts its expression reads), if recorded."""
    for fact in rule.input_fields[name]:
        if fact in attributes:
            return attributes[fact]
    return None


def _name(rule: Rule, name: str, attributes: Attributes) -> str:
    """An input's attribute name in the source's vocabulary; the fact's own name when no source recorded one."""
    found = _attribute(rule, name, attributes)
    return found.name if found is not None else (rule.input_fields[name] or (name,))[0]


_MAX_VALUE_DEPTH = 16  # a fact nested deeper is hostile input (a list of lists of lists...), not a setting


def _json_value(value: Any, depth: int = 0) -> Any:
    """A fact as it appears in the JSON result document."""
    if isinstance(value, Unknown):
        return {"unknown": value.reason}
    if isinstance(value, Reference):
        return str(value)
    if isinstance(value, (list, tuple, dict)) and depth >= _MAX_VALUE_DEPTH:
        return "(nested too deeply to show)"
    if isinstance(value, (list, tuple)):
        return [_json_value(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v, depth + 1) for k, v in value.items()}
    return value


def _deciding_inputs(rule: Rule, outcome: _Outcome, params: dict[str, Any]) -> tuple[str, ...]:
    """The inputs that decided an outcome, in the rule's order of inputs (computed once per outcome)."""
    if outcome.deciding is None:
        found: frozenset[str] = frozenset()
        if outcome.blocked is not None:
            found = frozenset((outcome.blocked,))
        elif outcome.decided_by is not None:
            found = outcome.decided_by.deciding(*split(outcome.values, params))
        outcome.deciding = tuple(name for name in rule.inputs if name in found)
    return outcome.deciding


def _located(rule: Rule, outcome: _Outcome, attributes: Attributes, params: dict[str, Any],
             block: Origin | None) -> Origin | None:
    """Where a result points: the first deciding input's attribute that has a position, else the block."""
    if attributes:
        for name in _deciding_inputs(rule, outcome, params):
            found = _attribute(rule, name, attributes)
            if found is not None and found.origin is not None:
                return found.origin
    return block


def _evaluate_element(rule: Rule, element: Any, params: dict[str, Any]) -> _Outcome:
    return _decide(rule, rule.program.values(element), params)


def _decide(rule: Rule, values: dict[str, Any], params: dict[str, Any]) -> _Outcome:
    """The outcome of a rule's inputs' values (``applies_if``, then ``condition``)."""
    program = rule.program
    data, unknowns = split(values, params)
    if program.applies_if is not None:
        applies = program.applies_if.decide(values, data, unknowns)
        if isinstance(applies, Unknown):
            return _undecided(values, applies, program.applies_if)
        if not applies:
            return _Outcome(_SKIP, values)
    verdict = program.condition.decide(values, data, unknowns)
    if isinstance(verdict, Unknown):
        return _undecided(values, verdict, program.condition)
    return _Outcome("pass" if verdict else "fail", values, decided_by=program.condition)


def _undecided(values: dict[str, Any], verdict: Unknown, expression: Condition) -> _Outcome:
    blocked = verdict.input if isinstance(verdict, Blocked) else None
    return _Outcome("unknown", values, verdict.reason, blocked=blocked, decided_by=expression)


def _top_values(rule: Rule, facts: dict[str, Any]) -> dict[str, Any]:
    """Subject-level facts a rule's 'empty' message may quote (those named like an input)."""
    return {name: facts.get(name) for name in rule.inputs if name in facts}


def _combine(outcomes: list[_Outcome], quantifier: str) -> tuple[str, list[_Outcome]]:
    """Kleene OR ("any element passes") or AND ("every element passes") over elements.

    The outcomes that explain the verdict come back with it: for "any", the
    first pass or every unknown/fail; for "all", every fail or unknown, or the
    first pass.
    """
    order = ("pass", "unknown", "fail") if quantifier == "any" else ("fail", "unknown", "pass")
    for status in order:
        matching = [o for o in outcomes if o.status == status]
        if matching:
            return status, (matching[:1] if status == "pass" else matching)
    return _SKIP, []


def _materialise(subject: Subject, params: dict[str, Any]) -> dict[str, Any]:
    """Compute the facts that depend on the rule's parameters (see resolve.Deferred)."""
    if not subject.deferred:
        return subject.facts
    return {k: v.compute(params) if isinstance(v, Deferred) else v for k, v in subject.facts.items()}


@dataclass
class _Memo:
    """What one check has worked out, for all its subjects: the outcome of each element view (by
    identity: the resolver shares identical views, a plan rule seen by many resources), the verdict
    of each list of them (thousands of resources under the same plans see the same rules), and, for a
    rule without "each", the verdict of each combination of plain input values (:func:`_subject_verdict`)."""

    params_key: str  # Check.params_key(), a part of every fingerprint
    outcomes: dict[int, _Outcome] = field(default_factory=dict)
    verdicts: dict[tuple, tuple | None] = field(default_factory=dict)
    # The element lists behind those identities, kept for the check: a fact computed per subject
    # (resolve.Deferred) is a new object each time, and its id must not be reused by another.
    kept: list[Any] = field(default_factory=list)
    # A rule without "each": the verdict per plain input values, element and source names (_subject_verdict)
    subjects: dict[tuple, tuple | None] = field(default_factory=dict)
    # id(list) -> a number for its elements' identities (equal lists of the same views share it): a
    # verdict's key holds that number, not a tuple of hundreds of ids hashed and compared per subject
    lists: dict[int, int] = field(default_factory=dict)
    contents: dict[tuple[int, ...], int] = field(default_factory=dict)


def _same(name: str | None) -> str | None:
    return name


def evaluate_subject(check: Check, subject: Subject, memo: _Memo | None = None,
                     show: Callable[[str | None], str | None] = _same) -> Result | None:
    """One result for a check on a subject (None when the rule does not apply).

    ``memo`` keeps what the check worked out for one subject for the next (:class:`_Memo`).
    ``show`` gives the file name the result shows (see :func:`run`); the fingerprint keeps the source's.
    """
    rule, params = check.rule, check.params
    memo = memo if memo is not None else _Memo(check.params_key())
    origin = where = subject.origin
    live_only = rule.evidence == "live" and subject.origin.file is not None
    if not live_only and _other_service(rule, subject):
        return None
    facts = subject.facts if live_only else _materialise(subject, params)  # a template's facts are not read
    if live_only:
        status, values = "not_applicable", {}
        message = "needs live evidence (recovery points, restore jobs) that a template cannot show; checked by live scans"
    elif rule.each is not None:
        elements = rule.program.each(facts) or []
        if not elements and rule.each_empty == "fail":
            status, values = "fail", _element_values([_Outcome("fail", {})])
            message = _format(rule, rule.messages["empty"], _top_values(rule, facts), params, subject.element,
                              subject.attributes)
        else:
            verdict = _each_verdict(rule, params, elements, subject.element_attributes, subject.element, memo)
            if verdict is None:
                return None
            status, message, values, located = verdict
            where = located if located is not None else origin
    else:
        verdict = _subject_verdict(rule, params, facts, subject, memo)
        if verdict is None:
            return None
        outcome, message, values = verdict
        status = outcome.status
        where = _located(rule, outcome, subject.attributes, params, origin)
    return Result(
        rule_id=rule.id,
        status=status,
        severity=rule.severity,
        resource_id=subject.resource_id,
        resource_type=subject.resource_type,
        file=show(where.file) if where.file else None,
        line=where.line,
        column=where.column,
        message=message,
        element=subject.element,
        values=values,
        frameworks=check.frameworks,
        # A live subject has no file: its ARN stands in (and its resource_id is the ARN too, which
        # names the account and Region), so the same resource in two accounts or Regions never shares one.
        fingerprint=fingerprint(
            rule.id, origin.file or origin.arn, subject.resource_id, subject.element, memo.params_key,
            *_unit_parts(origin),
        ),
        **_where(origin),
    )


# Input values a verdict may be shared on: compared with their class (True is not 1), and hashable.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _subject_verdict(rule: Rule, params: dict[str, Any], facts: dict[str, Any], subject: Subject,
                     memo: _Memo) -> tuple[_Outcome, str, dict[str, Any]] | None:
    """A rule without ``each`` on a subject's own facts: its outcome, message and JSON values (None:
    the rule does not apply). Subjects whose inputs have the same plain values, with the same
    source names for them and the same element, get the same answer: it is worked out once per
    check (thousands of volumes differ only in their names and lines, which the location adds)."""
    values = rule.program.values(facts)
    key = None
    if all(value.__class__ in _PLAIN for value in values.values()):
        key = (tuple((value.__class__, value) for value in values.values()), subject.element,
               tuple(_source_name(rule, name, subject.attributes) for name in rule.inputs))
        if key in memo.subjects:
            return memo.subjects[key]
    outcome = _decide(rule, values, params)
    verdict = None
    if outcome.status != _SKIP:
        message = _message(rule, outcome.status, [(outcome, subject.attributes)], params, subject.element)
        verdict = (outcome, message, _json_value(outcome.values))
    if key is not None:
        memo.subjects[key] = verdict
    return verdict


def _source_name(rule: Rule, name: str, attributes: Attributes) -> str | None:
    """The source's name of the attribute an input reads, None when no attribute is recorded: what
    a message takes from a subject besides the values (``{@input}``, an unknown input's name)."""
    found = _attribute(rule, name, attributes)
    return found.name if found is not None else None


def _each_verdict(rule: Rule, params: dict[str, Any], elements: list, parts: dict[int, Attributes],
                  element_name: str | None, memo: _Memo) -> tuple[str, str, dict[str, Any], Origin | None] | None:
    """An "each" rule over a subject's elements: status, message, values and, when one element decides
    it, the position of its attribute in the subject's own part (None: the rule does not apply).
    Subjects that see the same elements share it: such a list is read once per check, not per subject."""
    # A list seen before (the resolver shares one between resources with the same answer) is known by
    # its identity; it is kept, so that no other list takes that identity during the check.
    token = memo.lists.get(id(elements))
    if token is None:
        token = memo.lists[id(elements)] = memo.contents.setdefault(tuple(map(id, elements)), len(memo.contents))
        memo.kept.append(elements)
    key = (token, id(parts) if parts else 0, element_name)
    if key in memo.verdicts:
        return memo.verdicts[key]
    outcomes = []
    for element in elements:
        outcome = memo.outcomes.get(id(element))
        if outcome is None:
            outcome = memo.outcomes[id(element)] = _evaluate_element(rule, element, params)
            outcome.element = id(element)
        outcomes.append(outcome)
    status, explaining = _combine(outcomes, rule.each_quantifier)
    verdict = None
    if status != _SKIP:
        message = _message(rule, status, [(o, parts.get(o.element, {})) for o in explaining], params, element_name)
        located = None
        if len(explaining) == 1:  # one element decides: its attribute, when it is the subject's own part
            located = _located(rule, explaining[0], parts.get(explaining[0].element, {}), params, None)
        verdict = (status, message, _element_values(explaining), located)
    memo.verdicts[key] = verdict
    return verdict


def _where(origin: Any) -> dict[str, Any]:
    """The result's account_id, region and arn: what the origin says (always, for a live entity;
    for a template only what --account-id/--region or a provider's literal region made known)."""
    return {"account_id": origin.account, "region": origin.region, "arn": origin.arn}


def _scope_parts(origin: Any) -> tuple[str, ...]:
    """What tells apart identical problems of different live scopes (account, Region, ARN), for
    dedupe and fingerprints. Nothing for a file-based error: its fingerprint stays as it was."""
    if origin.file is not None or (origin.account is None and origin.region is None and origin.arn is None):
        return ()
    return (origin.account or "", origin.region or "", origin.arn or "")


def _unit_parts(origin: Any) -> tuple[str, ...]:
    """The deployment a file-based subject belongs to, when its file does not say it: a Terraform
    module file called by two root modules (or by a root and a plan beside another root) declares
    the same address in both, and those are different findings. Empty (the fingerprint as it always
    was) when the file is the unit (a template, a policy file, a file linted alone) or lies in the
    unit's folder (a root module's own files and the local modules below it); so only instances of
    a module outside its root, and resources a plan file places in .tf files, carry the unit."""
    return _unit_part(origin.file, origin.unit)


@lru_cache(maxsize=4096)  # a run has few (file, unit) pairs and 100,000 results
def _unit_part(file: str | None, unit: str | None) -> tuple[str, ...]:
    if not file or not unit or unit == file:
        return ()
    folder = unit.rstrip("/")
    if folder in ("", "."):
        inside = not (file.startswith("/") or file == ".." or file.startswith("../") or re.match(r"^[A-Za-z]:[/\\]", file))
    else:
        inside = file.startswith(folder + "/")
    return () if inside else (unit,)


def _outcome_text(rule: Rule, outcome: _Outcome, params: dict[str, Any], element: str | None,
                  attributes: Attributes) -> str:
    """An outcome's message; an unknown one names the attribute that left it open, in the source's
    words, and the reason (an input that reads no attribute, such as a derived fact, is not named)."""
    if outcome.text is None:
        if outcome.status == "unknown":
            label = rule.each_label
            prefix = f"{label} '{_shown(outcome.values.get(label))}': " if label else ""
            found = _attribute(rule, outcome.blocked, attributes) if outcome.blocked is not None else None
            outcome.text = prefix + (f"{found.name} is unknown ({outcome.reason})" if found else outcome.reason)
        else:
            outcome.text = _format(rule, rule.messages[outcome.status], outcome.values, params, element, attributes)
    return outcome.text


def _message(rule: Rule, status: str, outcomes: list[tuple[_Outcome, Attributes]], params: dict[str, Any],
             element: str | None) -> str:
    texts = list(dict.fromkeys(_outcome_text(rule, o, params, element, attributes) for o, attributes in outcomes))
    shown = "; ".join(texts[:MAX_EXPLAINED]) + (f"; and {len(texts) - MAX_EXPLAINED} more" if len(texts) > MAX_EXPLAINED else "")
    return f"Cannot decide: {shown}" if status == "unknown" else shown


def _element_values(outcomes: list[_Outcome]) -> dict[str, Any]:
    """The deciding values of an "each" result: the first few elements, and how many there were."""
    for outcome in outcomes[:MAX_EXPLAINED]:
        if outcome.json_values is None:
            outcome.json_values = _json_value(outcome.values)
    values: dict[str, Any] = {"elements": [o.json_values for o in outcomes[:MAX_EXPLAINED]]}
    if len(outcomes) > MAX_EXPLAINED:
        values["elements_total"] = len(outcomes)
    return values


def error_results(estate: Estate, show: Callable[[str | None], str | None] = _same) -> list[Result]:
    return [
        Result(
            rule_id=INPUT_ERROR_RULE,
            status="error",
            severity="high",
            resource_id=None,
            resource_type=None,
            file=show(error.origin.file),
            line=error.origin.line,
            column=error.origin.column,
            message=error.message,
            fingerprint=fingerprint(INPUT_ERROR_RULE, error.origin.file, error.message, *_scope_parts(error.origin)),
            **_where(error.origin),
        )
        for error in _distinct(estate.errors)
    ]


def _distinct(errors: list) -> list:
    """Each located problem once (a folder linted file by file repeats its module-level errors);
    the same message from two live scopes (AccessDenied in two accounts) stays two errors."""
    seen: dict[tuple, Any] = {}
    for error in errors:
        origin = error.origin
        seen.setdefault((origin.file, origin.line, origin.column, error.message, *_scope_parts(origin)), error)
    return list(seen.values())


def run(
    estate: Estate,
    checks: Iterable[Check],
    opt_in: dict[str, bool] | None = None,
    by_kind: dict[str, list[Subject]] | None = None,
    show: Callable[[str | None], str | None] = _same,
) -> list[Result]:
    """Every result of every check over the estate, plus input errors, in a stable order.

    ``by_kind`` is the estate's subjects when the caller has computed them already. ``show`` turns
    the file names the sources gave (identities, which fingerprints hash) into those the results
    show: set as each result is made, not by copying 130,000 frozen results afterwards.
    """
    by_kind = by_kind if by_kind is not None else subjects(estate, opt_in)
    merged: dict[tuple, Result] = {}
    admitted: dict[tuple, list[Subject]] = {}
    for check in checks:
        memo = _Memo(check.params_key())
        for subject in _candidates(check.rule, by_kind.get(check.rule.subject, []), admitted):
            if not check.scope.admits(subject):
                continue
            try:
                result = evaluate_subject(check, subject, memo, show)
            except (Exception, RecursionError) as exc:  # noqa: BLE001 - one subject never stops the run
                result = _internal_error(check, subject, exc, show)
            if result is None:
                continue
            key = (result.fingerprint, result.status, result.message)
            if key in merged:  # the same finding reached through two frameworks
                previous = merged[key]
                frameworks = tuple(sorted(set(previous.frameworks) | set(result.frameworks)))
                result = replace(previous, frameworks=frameworks)
            merged[key] = result
    return _distinct_fingerprints(sorted([*merged.values(), *error_results(estate, show)], key=Result.sort_key))


def _candidates(rule: Rule, found: list[Subject], admitted: dict[tuple, list[Subject]]) -> list[Subject]:
    """The subjects a rule may apply to, in their order: those of the services its ``applies_if``
    names (program._services), found once per set of services and kind, rather than by calling
    :func:`evaluate_subject` for each of 9,000 resources to learn that a database rule skips volumes.
    A live-evidence rule meets every subject (on a template it is not applicable to any)."""
    if rule.program.services is None or rule.evidence == "live":
        return found
    key = (rule.subject, rule.program.services)
    if key not in admitted:
        admitted[key] = [s for s in found if not _other_service(rule, s)]
    return admitted[key]


def _other_service(rule: Rule, subject: Subject) -> bool:
    """The subject's service is known and not one the rule's ``applies_if`` admits: the rule does not
    apply to it (program._services)."""
    services = rule.program.services
    service = subject.facts.get("service")
    return services is not None and isinstance(service, str) and service not in services


def _distinct_fingerprints(results: list[Result]) -> list[Result]:
    """No two results share a fingerprint: what the subject's identity cannot tell apart (two rules
    of one plan with the same name) is numbered in result order, the first keeping its fingerprint."""
    seen: dict[str, int] = {}
    out = []
    for result in results:
        count = seen.get(result.fingerprint, 0) + 1
        seen[result.fingerprint] = count
        if count > 1:
            result = replace(result, fingerprint=fingerprint(result.fingerprint, str(count)))
        out.append(result)
    return out


def _internal_error(check: Check, subject: Subject, exc: BaseException,
                    show: Callable[[str | None], str | None] = _same) -> Result:
    """What a rule that failed on one subject reports: an error located at that subject."""
    message = f"internal error while evaluating {check.rule.id} ({type(exc).__name__}); please report it"
    return Result(
        rule_id=check.rule.id, status="error", severity="high", resource_id=subject.resource_id,
        resource_type=subject.resource_type, file=show(subject.origin.file), line=subject.origin.line,
        column=subject.origin.column, message=message,
        fingerprint=fingerprint(check.rule.id, subject.origin.file, subject.resource_id, subject.element, message,
                                *_unit_parts(subject.origin)),
        **_where(subject.origin),
    )


