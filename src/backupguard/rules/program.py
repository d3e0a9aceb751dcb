"""A rule compiled once into plain callables: its inputs, ``applies_if``, ``condition`` and ``each``.

JMESPath's evaluator (``jmespath.visitor.TreeInterpreter``) walks an expression's tree
for every value it is given, dispatching on each node's type by name. A rule is evaluated
on thousands of subjects, so each tree is turned, once per rule, into nested closures
that do what the interpreter does node by node: the same comparisons (``0 == false`` is
false, ordering only between numbers or strings), the same truthiness, the same
functions (argument types checked by JMESPath's own ``call_function``).

On top of that, ``applies_if`` and ``condition`` are three-valued (Kleene logic over
``&&``, ``||`` and ``!``): a sub-expression that reads an input whose value is unknown
is unknown rather than evaluated, so ``retention >= 35 && gap <= 24`` with an unknown
gap and a retention of 7 is a known *fail*, and with a retention of 40 *unknown*. Each
compiled condition also says which inputs decided a verdict (the false side of a failed
``&&``, the unknown input that left it open...): a result points at that attribute.

A plain field lookup (all but four of the catalogue's inputs) is a ``dict.get``.
"""

from __future__ import annotations

from itertools import product
from math import prod
from numbers import Number
from dataclasses import dataclass
from typing import Any, Callable

from jmespath import functions as jmespath_functions
from jmespath import visitor
from jmespath.exceptions import JMESPathError

from backupguard.estate import Reference, Unknown
from backupguard.rules import FIELDS_KEY, annotate_fields
from backupguard.rules.functions import RuleFunctions

Evaluate = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Blocked(Unknown):
    """The Unknown of an expression that an unknown input left open: which input, and its reason."""

    input: str = ""


# -- JMESPath, compiled -----------------------------------------------------------------------


class _Expression(visitor._Expression):
    """An expression reference (``&field`` in ``sort_by``): JMESPath's functions call ``visit`` on
    it, and check its type by this class name."""

    def __init__(self, node: dict, evaluate: Evaluate) -> None:
        super().__init__(node, None)
        self._evaluate = evaluate

    def visit(self, node: Any, value: Any) -> Any:
        return self._evaluate(value)


def _is_false(value: Any) -> bool:
    """JMESPath's falsiness ('', [], {}, null, false; 0 is true), as TreeInterpreter tests it."""
    return value == "" or value == [] or value == {} or value is None or value is False


def _is_actual_number(value: Any) -> bool:
    """A number that is not a boolean (as jmespath.visitor decides it; int and float without the
    ``numbers.Number`` check, which is slow)."""
    kind = type(value)
    if kind is int or kind is float:
        return True
    return kind is not bool and isinstance(value, Number)


def _comparable(value: Any) -> bool:
    """What JMESPath orders: numbers and strings."""
    return type(value) is str or _is_actual_number(value) or isinstance(value, str)


def _equals(x: Any, y: Any) -> bool:
    """JMESPath's ``==``: Python's, except that 0 and 1 never equal a boolean (``0 == false`` is false)."""
    if x is True or x is False:
        return False if _is_actual_number(y) and y in (0, 1) else x == y
    if y is True or y is False:
        return False if _is_actual_number(x) and x in (0, 1) else x == y
    return x == y


def _chain(steps: list[Evaluate]) -> Evaluate:
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        first, second = steps
        return lambda value: second(first(value))

    def chained(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chained


def compile_jmespath(node: dict, functions: Any) -> Evaluate:
    """``node`` (a parsed JMESPath tree) as a function of the value it is evaluated on, doing what
    ``TreeInterpreter(Options(custom_functions=functions)).visit(node, value)`` does."""
    kind = node["type"]
    build = _BUILDERS.get(kind)
    if build is None:  # a node type of a later jmespath release: its own interpreter evaluates it
        interpreter = visitor.TreeInterpreter(visitor.Options(custom_functions=functions))
        return lambda value: interpreter.visit(node, value)
    return build(node, functions)


def _children(node: dict, functions: Any) -> list[Evaluate]:
    return [compile_jmespath(child, functions) for child in node["children"]]


def _field(node: dict, functions: Any) -> Evaluate:
    name = node["value"]

    def field(value: Any) -> Any:
        try:
            return value.get(name)
        except AttributeError:
            return None

    return field


def _literal(node: dict, functions: Any) -> Evaluate:
    constant = node["value"]
    return lambda value: constant


def _identity(node: dict, functions: Any) -> Evaluate:
    return lambda value: value


def _comparator(node: dict, functions: Any) -> Evaluate:
    op = node["value"]
    compare = visitor.TreeInterpreter.COMPARATOR_FUNC[op]
    left, right = _children(node, functions)
    if op == "eq":
        return lambda value: _equals(left(value), right(value))
    if op == "ne":
        return lambda value: not _equals(left(value), right(value))

    def ordered(value: Any) -> Any:  # only numbers and strings are ordered; anything else is null
        first, second = left(value), right(value)
        if not (_comparable(first) and _comparable(second)):
            return None
        return compare(first, second)

    return ordered


def _expref(node: dict, functions: Any) -> Evaluate:
    child = node["children"][0]
    reference = _Expression(child, compile_jmespath(child, functions))
    return lambda value: reference


def _function(node: dict, functions: Any) -> Evaluate:
    name, arguments, call = node["value"], _children(node, functions), functions.call_function
    return lambda value: call(name, [argument(value) for argument in arguments])


def _filter_projection(node: dict, functions: Any) -> Evaluate:
    base, project, keep = _children(node, functions)

    def filtered(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        collected = []
        for element in items:
            if not _is_false(keep(element)):
                current = project(element)
                if current is not None:
                    collected.append(current)
        return collected

    return filtered


def _flatten(node: dict, functions: Any) -> Evaluate:
    (base,) = _children(node, functions)

    def flattened(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        merged = []
        for element in items:
            if isinstance(element, list):
                merged.extend(element)
            else:
                merged.append(element)
        return merged

    return flattened


def _index(node: dict, functions: Any) -> Evaluate:
    position = node["value"]

    def indexed(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[position]
        except IndexError:
            return None

    return indexed


def _slice(node: dict, functions: Any) -> Evaluate:
    window = slice(*node["children"])
    return lambda value: value[window] if isinstance(value, list) else None


def _key_val_pair(node: dict, functions: Any) -> Evaluate:
    return compile_jmespath(node["children"][0], functions)


def _multi_select_dict(node: dict, functions: Any) -> Evaluate:
    pairs = [(child["value"], compile_jmespath(child, functions)) for child in node["children"]]

    def selected(value: Any) -> Any:
        if value is None:
            return None
        return {key: evaluate(value) for key, evaluate in pairs}

    return selected


def _multi_select_list(node: dict, functions: Any) -> Evaluate:
    items = _children(node, functions)
    return lambda value: None if value is None else [item(value) for item in items]


def _or(node: dict, functions: Any) -> Evaluate:
    left, right = _children(node, functions)

    def either(value: Any) -> Any:
        matched = left(value)
        return right(value) if _is_false(matched) else matched

    return either


def _and(node: dict, functions: Any) -> Evaluate:
    left, right = _children(node, functions)

    def both(value: Any) -> Any:
        matched = left(value)
        return matched if _is_false(matched) else right(value)

    return both


def _not(node: dict, functions: Any) -> Evaluate:
    (inner,) = _children(node, functions)

    def negated(value: Any) -> Any:
        result = inner(value)
        if _is_actual_number(result) and result == 0:  # !0 is false: 0 is not false in JMESPath
            return False
        return not result

    return negated


def _projection(node: dict, functions: Any) -> Evaluate:
    base, project = _children(node, functions)

    def projected(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        return [current for current in map(project, items) if current is not None]

    return projected


def _value_projection(node: dict, functions: Any) -> Evaluate:
    base, project = _children(node, functions)

    def projected(value: Any) -> Any:
        items = base(value)
        try:
            items = items.values()
        except AttributeError:
            return None
        return [current for current in map(project, items) if current is not None]

    return projected


def _sequence(node: dict, functions: Any) -> Evaluate:  # subexpression, index_expression, pipe
    return _chain(_children(node, functions))


_BUILDERS: dict[str, Callable[[dict, Any], Evaluate]] = {
    "and_expression": _and,
    "comparator": _comparator,
    "current": _identity,
    "expref": _expref,
    "field": _field,
    "filter_projection": _filter_projection,
    "flatten": _flatten,
    "function_expression": _function,
    "identity": _identity,
    "index": _index,
    "index_expression": _sequence,
    "key_val_pair": _key_val_pair,
    "literal": _literal,
    "multi_select_dict": _multi_select_dict,
    "multi_select_list": _multi_select_list,
    "not_expression": _not,
    "or_expression": _or,
    "pipe": _sequence,
    "projection": _projection,
    "slice": _slice,
    "subexpression": _sequence,
    "value_projection": _value_projection,
}


# -- three-valued conditions ------------------------------------------------------------------

Verdict = Callable[[dict, dict], Any]  # (data, unknowns) -> True, False or the Unknown that leaves it open
Deciding = Callable[[dict, dict], frozenset]  # (data, unknowns) -> the fields that decided the verdict


def _fields(node: dict) -> frozenset[str]:
    if FIELDS_KEY not in node:
        annotate_fields(node)
    return node[FIELDS_KEY]


def _kleene(node: dict, functions: Any) -> tuple[Verdict, Deciding]:
    """The verdict of ``node`` and the fields that decide it, as functions of (data, unknowns).

    ``&&``/``||``: the side that is false (true) decides alone, the first such side; else the first
    side an unknown leaves open (the verdict is that side's Unknown); else both sides decide.
    ``!``: its operand. Any other node reads fields: one whose field is unknown is that unknown (its
    first such field by name); otherwise JMESPath evaluates it, and its truth is Python's.
    """
    kind = node["type"]
    if kind in ("and_expression", "or_expression"):
        decisive = kind == "or_expression"
        (left, left_deciding), (right, right_deciding) = (_kleene(child, functions) for child in node["children"])

        def verdict(data: dict, unknowns: dict) -> Any:
            first, second = left(data, unknowns), right(data, unknowns)  # both sides, as an error in either counts
            if first is decisive or second is decisive:
                return decisive
            if isinstance(first, Unknown):
                return first
            if isinstance(second, Unknown):
                return second
            return not decisive

        def deciding(data: dict, unknowns: dict) -> frozenset:
            first, second = left(data, unknowns), right(data, unknowns)
            if first is decisive:
                return left_deciding(data, unknowns)
            if second is decisive:
                return right_deciding(data, unknowns)
            if isinstance(first, Unknown):
                return left_deciding(data, unknowns)
            if isinstance(second, Unknown):
                return right_deciding(data, unknowns)
            return left_deciding(data, unknowns) | right_deciding(data, unknowns)

        return verdict, deciding
    if kind == "not_expression":
        inner, inner_deciding = _kleene(node["children"][0], functions)

        def negated(data: dict, unknowns: dict) -> Any:
            value = inner(data, unknowns)
            return value if isinstance(value, Unknown) else not value

        return negated, inner_deciding
    fields = _fields(node)
    evaluate = compile_jmespath(node, functions)

    def leaf(data: dict, unknowns: dict) -> Any:
        if unknowns:
            blocking = fields & unknowns.keys()
            if blocking:
                name = min(blocking)
                return Blocked(unknowns[name], input=name)
        value = evaluate(data)
        return value if isinstance(value, Unknown) else bool(value)

    def leaf_deciding(data: dict, unknowns: dict) -> frozenset:
        blocking = fields & unknowns.keys() if unknowns else ()
        return frozenset((min(blocking),)) if blocking else fields

    return leaf, leaf_deciding


# An unknown input with a few possible values is tried with each, up to this many combinations.
MAX_COMBINATIONS = 64


class Condition:
    """A compiled ``applies_if`` or ``condition``."""

    __slots__ = ("verdict", "deciding")

    def __init__(self, parsed: dict, functions: Any) -> None:
        self.verdict, self.deciding = _kleene(parsed, functions)

    def decide(self, values: dict[str, Any], data: dict[str, Any], unknowns: dict[str, str]) -> Any:
        """True/False, or the Unknown input that prevents a decision (``data``/``unknowns``: :func:`split`).

        An unknown input with a few possible values (``!If [Undecided, 7, 1]``) is tried with each;
        when every combination gives the same verdict, that is the verdict (a retention of 7 or 1
        day is "enabled" either way).
        """
        verdict = self.verdict(data, unknowns)
        if not isinstance(verdict, Unknown):
            return verdict
        bounded = {n: v.candidates for n, v in values.items() if isinstance(v, Unknown) and v.candidates}
        if not bounded or prod(len(c) for c in bounded.values()) > MAX_COMBINATIONS:
            return verdict
        remaining = {n: r for n, r in unknowns.items() if n not in bounded}
        outcomes = set()
        for combination in product(*bounded.values()):
            outcome = self.verdict({**data, **dict(zip(bounded, combination))}, remaining)
            if isinstance(outcome, Unknown):
                return verdict
            outcomes.add(outcome)
        return outcomes.pop() if len(outcomes) == 1 else verdict


def unknown_reason(value: Any) -> str:
    return value.reason if isinstance(value, Unknown) else f"'{value}' is known only after deployment"


def split(values: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Input values -> what a condition reads (the known ones, and ``params``) and the unknown ones' reasons."""
    unknowns = {name: unknown_reason(value) for name, value in values.items() if isinstance(value, (Unknown, Reference))}
    if not unknowns:
        data = dict(values)
    else:
        data = {name: value for name, value in values.items() if name not in unknowns}
    data["params"] = params
    return data, unknowns


# -- inputs -----------------------------------------------------------------------------------


def _input(text: str, parsed: dict, functions: Any) -> Evaluate:
    """An input's value on an element: Unknown when a fact it reads is unknown (JMESPath cannot
    look inside one): a plain field's own Unknown, else a copy of it (its reason and references)."""
    if parsed["type"] == "field":
        return _field(parsed, functions)
    reads = tuple(_fields(parsed))
    evaluate = compile_jmespath(parsed, functions)

    def value(element: Any) -> Any:
        if isinstance(element, dict):
            for name in reads:
                fact = element.get(name)
                if isinstance(fact, Unknown):
                    return Unknown(fact.reason, fact.refs)
        try:
            return evaluate(element)
        except JMESPathError as exc:
            return Unknown(f"cannot evaluate '{text}': {exc}")

    return value


RULE_FUNCTIONS = RuleFunctions()
_PLAIN_FUNCTIONS = jmespath_functions.Functions()  # ``each`` is read with JMESPath's own functions


@dataclass(frozen=True, slots=True)
class Program:
    """A rule's expressions as callables, compiled once (:func:`compile_program`)."""

    inputs: tuple[tuple[str, Evaluate], ...]  # (name, value on an element), in the rule's order
    condition: Condition
    applies_if: Condition | None = None
    each: Evaluate | None = None  # the elements of an "any"/"all" rule, from the subject's facts
    # The services the rule can apply to, when its applies_if names them (see _services): the engine
    # passes over a resource of another service without evaluating anything.
    services: frozenset[str] | None = None

    def values(self, element: Any) -> dict[str, Any]:
        return {name: value(element) for name, value in self.inputs}


def compile_program(inputs: dict[str, Any], condition: Any, applies_if: Any = None, each: Any = None) -> Program:
    """A rule's compiled JMESPath expressions (``jmespath.compile`` results) -> its :class:`Program`."""

    def condition_of(expression: Any) -> Condition:
        return Condition(expression.parsed, RULE_FUNCTIONS)

    return Program(
        inputs=tuple((name, _input(e.expression, e.parsed, RULE_FUNCTIONS)) for name, e in inputs.items()),
        condition=condition_of(condition),
        applies_if=condition_of(applies_if) if applies_if is not None else None,
        each=compile_jmespath(each.parsed, _PLAIN_FUNCTIONS) if each is not None else None,
        services=_services(applies_if.parsed, inputs) if applies_if is not None and each is None else None,
    )


def _services(node: dict, inputs: dict[str, Any]) -> frozenset[str] | None:
    """The services an ``applies_if`` admits, when one of its top-level ``&&`` terms is
    ``service == 'S3'`` or ``contains(['RDS', ...], service)`` over an input that reads the subject's
    ``service`` fact as it is: for a resource whose service is another known string that term is
    false, so the whole ``applies_if`` is false whatever the other terms (Kleene logic: false AND
    unknown is false), and the rule does not apply. None when the rule says nothing this simple."""
    if node["type"] == "and_expression":
        found = [s for s in (_services(child, inputs) for child in node["children"]) if s is not None]
        return frozenset.intersection(*found) if found else None

    def is_service(child: dict) -> bool:
        if child["type"] != "field":
            return False
        read = getattr(inputs.get(child["value"]), "parsed", None) or {}
        return read.get("type") == "field" and read.get("value") == "service"

    children = node.get("children") or []
    if node["type"] == "comparator" and node["value"] == "eq" and len(children) == 2:
        for this, other in (children, children[::-1]):
            if is_service(this) and other["type"] == "literal" and isinstance(other["value"], str):
                return frozenset({other["value"]})
    if node["type"] == "function_expression" and node["value"] == "contains" and len(children) == 2:
        listed, needle = children
        if (is_service(needle) and listed["type"] == "multi_select_list"
                and all(c["type"] == "literal" and isinstance(c["value"], str) for c in listed["children"])):
            return frozenset(c["value"] for c in listed["children"])
    return None
