"""Evaluate HCL expressions (Terraform 1.x semantics) as far as the inputs determine them.

Values are plain Python data: ``str``, ``int``/``float`` (integral numbers are
``int``), ``bool``, ``None`` (null), lists (HCL tuples, lists and sets) and
dicts (objects and maps). Object and tuple constructors build an
:class:`HclObject` / :class:`HclList`, the LineDict/LineList of the
CloudFormation loader plus the file they were written in, so positions survive.

What the inputs do not determine is an :class:`~backupguard.estate.Unknown`
whose reason names the deciding input (``variable 'x' has no value``); a
reference to another resource's computed attribute is an
:class:`~backupguard.estate.Reference`. Both flow through expressions:

* operators, conditionals and most functions give an Unknown when an operand
  is unknown; when the unknown operands have a few ``candidates`` (a
  conditional on an unknown variable), the result is computed for each, as in
  :func:`backupguard.estate.derive`;
* a conditional on an unknown condition whose branches are equal is that value;
  otherwise an Unknown with the scalar branch values as candidates (and
  ``may_be_absent`` when a branch is null);
* ``&&``/``||`` follow Kleene logic (``false && unknown`` is ``false``);
* ``try``/``can``/``coalesce``/``length``/``keys``/``contains``/``lookup``/``merge``
  decide what they can (a list with unknown elements still has a length);
* a string built from a Reference is an Unknown with ``refs`` (the addresses)
  and ``text`` (``"arn:${aws_backup_vault.main.arn}-x"``); ``jsonencode`` does
  the same with the placeholders inside the JSON text.

Namespaces (``var``, ``local``, resources, modules ...) are supplied by the
caller through a :class:`Scope`; values that resolve step by step (a resource
whose attributes are evaluated on demand) are :class:`Lazy` objects.

An expression Terraform would reject (an attribute missing from an object, an
index out of range) raises :class:`EvalError`, which ``try``/``can`` catch.
"""

from __future__ import annotations

import base64
import json
import math
import re
from itertools import product
from math import prod
from typing import Any, Callable
from urllib.parse import quote

from backupguard.estate import Reference, Unknown
from backupguard.scanner.cloudformation.loader import LineDict, LineList
from backupguard.scanner.terraform.hcl import (
    Binary, Call, Conditional, Expr, ForExpr, GetAttr, Index, Interp, Literal, ObjectExpr, Splat, Template,
    TemplateFor, TemplateIf, Traversal, TupleExpr, Unary, Variable,
)

__all__ = [
    "EvalError", "HclList", "HclObject", "Lazy", "Scope", "as_unknown", "convert", "evaluate", "evaluate_value",
    "find_unknown", "materialize", "parse_type", "to_string",
]

_MAX_COMBINATIONS = 64


class EvalError(Exception):
    """An expression Terraform would reject; ``line``/``column`` point into its file when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class HclObject(LineDict):
    """An object built by an HCL object constructor: key positions are in ``file``."""

    __slots__ = ("file",)


class HclList(LineList):
    """A tuple built by an HCL tuple constructor: item positions are in ``file``."""

    __slots__ = ("file",)


class Lazy:
    """A value resolved step by step: a namespace (``var``), a resource, a module call."""

    __slots__ = ()

    def get_attr(self, name: str, step: Any) -> Any:
        raise EvalError(f"unsupported attribute {name!r}", step.line, step.column)

    def get_index(self, key: Any, step: Any) -> Any:
        raise EvalError("this value cannot be indexed", step.line, step.column)

    def elements(self) -> Any:
        """The elements a splat (``x[*]``) iterates: a list, or an Unknown."""
        return [self]

    def value(self) -> Any:
        """The value when used as a whole (may hold further Lazy values)."""
        raise EvalError("this value cannot be used on its own")


class Scope:
    """The names an expression can use: ``symbols`` (each, count, for variables, iterators) first,
    then ``resolver(name, node)`` for module-level names. ``file`` is where the expression is written."""

    __slots__ = ("resolver", "symbols", "file")

    def __init__(self, resolver: Callable[[str, Any], Any] | None = None, symbols: dict | None = None, file: str | None = None):
        self.resolver = resolver
        self.symbols = symbols or {}
        self.file = file

    def lookup(self, name: str, node: Any) -> Any:
        if name in self.symbols:
            return self.symbols[name]
        if self.resolver is None:
            raise EvalError(f"'{name}': references are not allowed here", node.line, node.column)
        return self.resolver(name, node)

    def with_symbols(self, extra: dict) -> "Scope":
        return Scope(self.resolver, {**self.symbols, **extra}, self.file)


# ---------------------------------------------------------------------------
# Unknown helpers
# ---------------------------------------------------------------------------


def as_unknown(value: Any) -> Unknown:
    """An Unknown standing for an Unknown or a Reference."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Reference):
        return Unknown(f"'{value}' is known only after apply", (value.target,), text="${" + str(value) + "}")
    return Unknown("value is known only after apply")


def _bare(value: Any) -> Unknown:
    unknown = as_unknown(value)
    return Unknown(unknown.reason, unknown.refs)


def find_unknown(*values: Any) -> Unknown | None:
    """The first Unknown or Reference anywhere in ``values`` (as an Unknown with every ref found), or None."""
    first: Unknown | None = None
    refs: list[str] = []
    stack = list(reversed(values))
    while stack:
        value = stack.pop()
        if isinstance(value, (Unknown, Reference)):
            unknown = as_unknown(value)
            if first is None:
                first = unknown
            refs.extend(unknown.refs)
        elif isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, Lazy):
            stack.append(materialize(value))
    if first is None:
        return None
    refs = list(dict.fromkeys(refs))
    return Unknown(first.reason, tuple(refs))


def _combine(compute: Callable[..., Any], *inputs: Any) -> Any:
    """``compute(*inputs)`` carried through top-level unknown inputs (see estate.derive), with refs kept."""
    unknowns = [as_unknown(v) for v in inputs if isinstance(v, (Unknown, Reference))]
    if not unknowns:
        return compute(*inputs)
    refs = tuple(dict.fromkeys(r for u in unknowns for r in u.refs))
    first = unknowns[0]
    bare = Unknown(first.reason, refs)
    choices = [v.candidates if isinstance(v, Unknown) else (() if isinstance(v, Reference) else (v,)) for v in inputs]
    if any(not c for c in choices) or prod(len(c) for c in choices) > _MAX_COMBINATIONS:
        return bare
    outcomes: list[Any] = []
    for combination in product(*choices):
        try:
            outcome = compute(*combination)
        except EvalError:
            return bare
        if isinstance(outcome, (Unknown, Reference)):
            return bare
        if not any(_same(outcome, seen) for seen in outcomes):
            outcomes.append(outcome)
    if len(outcomes) == 1:
        return outcomes[0]
    return Unknown(first.reason, refs, tuple(outcomes))


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (_is_number(a) and _is_number(b) and a == b)


def materialize(value: Any) -> Any:
    """``value`` with every Lazy replaced by its plain value (a resource instance becomes a Reference)."""
    while isinstance(value, Lazy):
        value = value.value()
    if isinstance(value, dict):
        changed = None
        for key, item in value.items():
            if isinstance(item, (Lazy, dict, list)):
                new = materialize(item)
                if new is not item:
                    if changed is None:
                        changed = _copy_dict(value)
                    changed[key] = new
        return value if changed is None else changed
    if isinstance(value, list):
        items = None
        for i, item in enumerate(value):
            if isinstance(item, (Lazy, dict, list)):
                new = materialize(item)
                if new is not item:
                    if items is None:
                        items = list(value)
                    items[i] = new
        if items is None:
            return value
        return _copy_list(value, items)
    return value


def _copy_dict(value: dict, items: Any = None) -> dict:
    if isinstance(value, LineDict):
        new = (HclObject if isinstance(value, HclObject) else LineDict)(line=value.line, column=value.column)
        new.update(value if items is None else items)
        new.key_pos = value.key_pos
        if isinstance(value, HclObject):
            new.file = value.file
        return new
    return dict(value if items is None else items)


def _copy_list(value: list, items: list) -> list:
    if isinstance(value, LineList):
        new = (HclList if isinstance(value, HclList) else LineList)(items, line=value.line, column=value.column)
        new.item_pos = value.item_pos
        if isinstance(value, HclList):
            new.file = value.file
        return new
    return items


# ---------------------------------------------------------------------------
# conversions
# ---------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def _to_number(value: Any, what: str = "a number") -> Any:
    if _is_number(value):
        return _num(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if re.fullmatch(r"[+-]?\d+", text):
                return int(text)
            return _num(float(text))
        except ValueError:
            pass
    raise EvalError(f"{_describe(value)} is not {what}")


def _to_bool(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, (Unknown, Reference)):
        return value if not isinstance(value, Reference) else as_unknown(value)
    if value == "true":
        return True
    if value == "false":
        return False
    raise EvalError(f"{_describe(value)} is not a bool")


def to_string(value: Any) -> str:
    """Terraform's string conversion of a primitive (numbers without a needless ``.0``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = _num(value)
        if isinstance(value, int):
            return str(value)
        text = repr(value)
        if "e" in text or "inf" in text or "nan" in text:
            text = format(value, "f").rstrip("0").rstrip(".")
        return text
    if value is None:
        raise EvalError("a null value cannot be used in a string")
    raise EvalError(f"{_describe(value)} cannot be used as a string")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if _is_number(value):
        return f"the number {to_string(value)}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) or _is_number(b):
        return _is_number(a) and _is_number(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------
# the evaluator
# ---------------------------------------------------------------------------


def evaluate_value(expr: Expr, scope: Scope) -> Any:
    """The expression's value with every Lazy resolved."""
    return materialize(evaluate(expr, scope))


def evaluate(expr: Expr, scope: Scope) -> Any:
    """The expression's value; raises :class:`EvalError` where Terraform would fail."""
    handler = _HANDLERS.get(type(expr))
    if handler is None:  # pragma: no cover - every AST class has a handler
        raise EvalError(f"cannot evaluate {type(expr).__name__}", expr.line, expr.column)
    return handler(expr, scope)


def _literal(expr: Literal, scope: Scope) -> Any:
    return expr.value


def _variable(expr: Variable, scope: Scope) -> Any:
    return scope.lookup(expr.name, expr)


def _tuple(expr: TupleExpr, scope: Scope) -> Any:
    out = HclList(line=expr.line, column=expr.column)
    out.file = scope.file
    for item in expr.items:
        out.append(evaluate(item, scope))
        out.item_pos.append((item.line, item.column))
    return out


def _object(expr: ObjectExpr, scope: Scope) -> Any:
    out = HclObject(line=expr.line, column=expr.column)
    out.file = scope.file
    unknown_key: Unknown | None = None
    for key_expr, value_expr in expr.items:
        key = materialize(evaluate(key_expr, scope))
        if isinstance(key, (Unknown, Reference)):
            unknown_key = unknown_key or as_unknown(key)
            continue
        if key is None:
            raise EvalError("an object key cannot be null", key_expr.line, key_expr.column)
        if isinstance(key, (dict, list)):
            raise EvalError("an object key must be a string", key_expr.line, key_expr.column)
        key = to_string(key)
        out[key] = evaluate(value_expr, scope)
        out.key_pos[key] = (key_expr.line, key_expr.column)
    if unknown_key is not None:
        return Unknown(f"an object key is unknown: {unknown_key.reason}", unknown_key.refs)
    return out


def _traversal(expr: Traversal, scope: Scope) -> Any:
    value = evaluate(expr.source, scope)
    return _apply_steps(value, expr.steps, scope)


def _apply_steps(value: Any, steps: list, scope: Scope) -> Any:
    for i, step in enumerate(steps):
        if isinstance(step, GetAttr):
            value = _get_attr(value, step.name, step)
        elif isinstance(step, Index):
            key = materialize(evaluate(step.key, scope))
            value = _index(value, key, step)
        else:  # Splat
            return _splat(value, step, steps[i + 1:], scope)
    return value


def _splat(value: Any, step: Splat, rest: list, scope: Scope) -> Any:
    if isinstance(value, Lazy):
        elements = value.elements()
    else:
        elements = value
    if isinstance(elements, (Unknown, Reference)):
        if isinstance(elements, Reference):
            return Reference(elements.target, _path(elements.attribute, "[*]"), elements.target_type)
        return _bare(elements)
    if elements is None:
        result: list = []
    else:
        if not isinstance(elements, list):
            elements = [elements]
        result = [_apply_steps(element, step.steps, scope) for element in elements]
    return _apply_steps(result, rest, scope) if rest else result


def _path(attribute: str | None, suffix: str) -> str:
    if not attribute:
        return suffix.lstrip(".")
    return attribute + suffix


def _get_attr(value: Any, name: str, step: Any) -> Any:
    if isinstance(value, Lazy):
        return value.get_attr(name, step)
    if isinstance(value, dict):
        if name in value:
            return value[name]
        raise EvalError(f"this object does not have an attribute named {name!r}", step.line, step.column)
    if isinstance(value, Unknown):
        if value.candidates and all(isinstance(c, dict) for c in value.candidates):
            options = [c.get(name) for c in value.candidates]
            if all(_same(o, options[0]) for o in options):
                return options[0]
        return _bare(value)
    if isinstance(value, Reference):
        return Reference(value.target, _path(value.attribute, "." + name), value.target_type)
    if value is None:
        raise EvalError(f"attempt to get attribute {name!r} from a null value", step.line, step.column)
    if isinstance(value, list):
        raise EvalError(f"cannot get attribute {name!r} of a list (use [*] or an index)", step.line, step.column)
    raise EvalError(f"cannot get attribute {name!r} of {_describe(value)}", step.line, step.column)


def _index(value: Any, key: Any, step: Any) -> Any:
    if isinstance(value, Lazy):
        if isinstance(key, (Unknown, Reference)):
            return _bare(key)
        return value.get_index(key, step)
    if isinstance(value, Reference):
        shown = json.dumps(key) if isinstance(key, str) else to_string(key) if not isinstance(key, (Unknown, Reference, dict, list)) else "*"
        return Reference(value.target, _path(value.attribute, f"[{shown}]"), value.target_type)
    if isinstance(value, Unknown):
        return _bare(value)
    if isinstance(key, (Unknown, Reference)):
        if isinstance(key, Unknown) and key.candidates:
            return _combine(lambda k: _index(value, k, step), key)
        return _bare(key)
    if isinstance(value, list):
        try:
            position = _to_number(key, "a list index")
        except EvalError:
            raise EvalError(f"invalid list index {_describe(key)}", step.line, step.column) from None
        if not isinstance(position, int) or not 0 <= position < len(value):
            raise EvalError(f"index {to_string(position)} is out of range for a list of {len(value)}", step.line, step.column)
        return value[position]
    if isinstance(value, dict):
        if isinstance(key, (dict, list)) or key is None:
            raise EvalError("invalid map key", step.line, step.column)
        text = to_string(key)
        if text in value:
            return value[text]
        raise EvalError(f"the map has no element for key {text!r}", step.line, step.column)
    if value is None:
        raise EvalError("cannot index a null value", step.line, step.column)
    raise EvalError(f"cannot index {_describe(value)}", step.line, step.column)


# -- templates -----------------------------------------------------------------


def _template(expr: Template, scope: Scope) -> Any:
    parts = expr.parts
    if len(parts) == 1 and isinstance(parts[0], Interp):  # "${x}" keeps x's type
        return evaluate(parts[0].expr, scope)
    return _render(parts, scope, expr)


def _render(parts: list, scope: Scope, where: Any) -> Any:
    pieces: list[Any] = []
    sources: list[str | None] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
            sources.append(None)
        elif isinstance(part, Interp):
            value = materialize(evaluate(part.expr, scope))
            if not isinstance(value, (Unknown, Reference)):
                try:
                    value = to_string(value)
                except EvalError as exc:
                    raise EvalError(exc.message, part.expr.line, part.expr.column) from None
            pieces.append(value)
            sources.append(part.source)
        elif isinstance(part, TemplateIf):
            cond = _to_bool(materialize(evaluate(part.cond, scope)))
            if isinstance(cond, Unknown):
                cond = _decided(cond)
            if isinstance(cond, Unknown):
                then, other = _render(part.then, scope, where), _render(part.other, scope, where)
                pieces.append(then if _same(then, other) else _bare(cond))
            else:
                pieces.append(_render(part.then if cond else part.other, scope, where))
            sources.append("%{if}")
        else:  # TemplateFor
            pieces.append(_template_for(part, scope, where))
            sources.append("%{for}")
    unknowns = [p for p in pieces if isinstance(p, (Unknown, Reference))]
    if not unknowns:
        return "".join(pieces)
    first = as_unknown(unknowns[0])
    refs = tuple(dict.fromkeys(r for p in unknowns for r in as_unknown(p).refs))
    text = "".join(
        p if isinstance(p, str) else "${" + str(p) + "}" if isinstance(p, Reference)
        else (p.text if p.text is not None else "${" + (src or "?") + "}")
        for p, src in zip(pieces, sources)
    )
    if not refs:
        combined = _combine(lambda *ps: "".join(ps), *pieces)
        if isinstance(combined, Unknown) and not combined.candidates:
            return Unknown(combined.reason, combined.refs, text=text)
        return combined
    return Unknown(first.reason, refs, text=text)


def _template_for(part: TemplateFor, scope: Scope, where: Any) -> Any:
    collection = _shallow(evaluate(part.collection, scope))
    if isinstance(collection, (Unknown, Reference)):
        return _bare(collection)
    out: list[Any] = []
    for key, item in _iterate(collection, part.collection):
        symbols = {part.value_var: item}
        if part.key_var:
            symbols[part.key_var] = key
        out.append(_render(part.body, scope.with_symbols(symbols), where))
    unknown = next((p for p in out if isinstance(p, Unknown)), None)
    if unknown is not None:
        return unknown
    return "".join(out)


# -- conditionals and operators ---------------------------------------------------


def _decided(cond: Unknown) -> Any:
    """A condition whose candidates all agree is decided after all."""
    if cond.candidates and all(isinstance(c, bool) for c in cond.candidates):
        if all(c == cond.candidates[0] for c in cond.candidates):
            return cond.candidates[0]
    return cond


def _conditional(expr: Conditional, scope: Scope) -> Any:
    cond = materialize(evaluate(expr.cond, scope))
    try:
        cond = _to_bool(cond)
    except EvalError as exc:
        raise EvalError(f"the condition is {_describe(cond)}, not a bool", expr.cond.line, expr.cond.column) from exc
    if isinstance(cond, Unknown):
        cond = _decided(cond)
    if cond is True:
        return evaluate(expr.then, scope)
    if cond is False:
        return evaluate(expr.other, scope)
    branches = []
    for branch in (expr.then, expr.other):
        try:
            branches.append(materialize(evaluate(branch, scope)))
        except EvalError:
            branches.append(_bare(cond))
    when_true, when_false = branches
    if not isinstance(when_true, (Unknown, Reference)) and _same(when_true, when_false) and _equal(when_true, when_false):
        return when_true
    refs = list(cond.refs)
    candidates: list[Any] = []
    bounded = True
    for branch in branches:
        if isinstance(branch, Reference):
            refs.append(branch.target)
            bounded = False
        elif isinstance(branch, Unknown):
            refs.extend(branch.refs)
            if branch.candidates:
                for option in branch.candidates:
                    if not any(_same(option, c) for c in candidates):
                        candidates.append(option)
            else:
                bounded = False
        elif branch is None or isinstance(branch, (str, int, float, bool)):
            if not any(_same(branch, c) for c in candidates):
                candidates.append(branch)
        else:
            bounded = False
    absent = any(b is None or isinstance(b, Unknown) and b.may_be_absent for b in branches)
    return Unknown(
        cond.reason,
        tuple(dict.fromkeys(refs)),
        tuple(candidates) if bounded else (),
        absent,
    )


def _unary(expr: Unary, scope: Scope) -> Any:
    value = materialize(evaluate(expr.operand, scope))

    def compute(v: Any) -> Any:
        if expr.op == "!":
            b = _to_bool(v)
            return not b
        return _num(-_to_number(v))

    try:
        return _combine(compute, value)
    except EvalError as exc:
        raise EvalError(exc.message, expr.line, expr.column) from None


def _binary(expr: Binary, scope: Scope) -> Any:
    op = expr.op
    left = materialize(evaluate(expr.left, scope))
    try:
        if op in ("&&", "||"):
            return _logical(op, left, expr, scope)
        right = materialize(evaluate(expr.right, scope))
        if op in ("==", "!=") and (left is None or right is None):
            other = right if left is None else left
            if isinstance(other, Unknown) and other.text is not None:  # a string being built: never null
                return op == "!="
        if op in ("==", "!=") and not isinstance(left, (Unknown, Reference)) and not isinstance(right, (Unknown, Reference)):
            unknown = find_unknown(left, right)
            if unknown is not None:
                if isinstance(left, (list, dict)) and isinstance(right, (list, dict)) and (
                    type(left) is not type(right) and not (isinstance(left, dict) and isinstance(right, dict))
                    or len(left) != len(right)
                ):
                    return op == "!="
                return unknown
        return _combine(lambda a, b: _operate(op, a, b), left, right)
    except EvalError as exc:
        if exc.line is None:
            raise EvalError(exc.message, expr.line, expr.column) from None
        raise


def _logical(op: str, left: Any, expr: Binary, scope: Scope) -> Any:
    decisive = op == "||"
    left = _to_bool(left)
    if isinstance(left, Unknown):
        left = _decided(left)
    if left is decisive:
        return decisive
    right = _to_bool(materialize(evaluate(expr.right, scope)))
    if isinstance(right, Unknown):
        right = _decided(right)
    if right is decisive:
        return decisive
    if isinstance(left, Unknown) or isinstance(right, Unknown):
        return _combine(lambda a, b: (a or b) if decisive else (a and b), left, right)
    return right if isinstance(left, bool) else left


def _operate(op: str, a: Any, b: Any) -> Any:
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    x, y = _to_number(a), _to_number(b)
    if op == "+":
        return _num(x + y)
    if op == "-":
        return _num(x - y)
    if op == "*":
        return _num(x * y)
    if op == "/":
        if y == 0:
            raise EvalError("division by zero")
        return _num(x / y)
    if op == "%":
        if y == 0:
            raise EvalError("modulo by zero")
        return _num(math.fmod(x, y)) if isinstance(x, float) or isinstance(y, float) else int(math.fmod(x, y))
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    if op == ">=":
        return x >= y
    raise EvalError(f"unknown operator {op!r}")  # pragma: no cover


# -- for expressions ----------------------------------------------------------------


def _shallow(value: Any) -> Any:
    while isinstance(value, Lazy):
        value = value.value()
    return value


def _iterate(collection: Any, where: Any) -> list[tuple[Any, Any]]:
    if isinstance(collection, dict):
        return [(key, collection[key]) for key in sorted(collection)]
    if isinstance(collection, list):
        return list(enumerate(collection))
    if collection is None:
        raise EvalError("cannot iterate over a null value", where.line, where.column)
    raise EvalError(f"cannot iterate over {_describe(collection)}", where.line, where.column)


def _for(expr: ForExpr, scope: Scope) -> Any:
    collection = _shallow(evaluate(expr.collection, scope))
    if isinstance(collection, (Unknown, Reference)):
        return _bare(collection)
    pairs = _iterate(collection, expr.collection)
    result_list: list[Any] = []
    result_map: dict[str, Any] = {}
    for key, item in pairs:
        symbols = {expr.value_var: item}
        if expr.key_var:
            symbols[expr.key_var] = key
        inner = scope.with_symbols(symbols)
        if expr.cond is not None:
            keep = materialize(evaluate(expr.cond, inner))
            keep = _to_bool(keep)
            if isinstance(keep, Unknown):
                keep = _decided(keep)
            if isinstance(keep, Unknown):
                return Unknown(keep.reason, keep.refs)
            if not keep:
                continue
        if expr.key is None:
            result_list.append(evaluate(expr.value, inner))
            continue
        new_key = materialize(evaluate(expr.key, inner))
        if isinstance(new_key, (Unknown, Reference)):
            return _bare(new_key)
        if new_key is None or isinstance(new_key, (dict, list)):
            raise EvalError("a for expression key must be a string", expr.key.line, expr.key.column)
        new_key = to_string(new_key)
        value = evaluate(expr.value, inner)
        if expr.grouping:
            result_map.setdefault(new_key, []).append(value)
        elif new_key in result_map:
            raise EvalError(f"duplicate key {new_key!r} in a for expression (use ... to group)", expr.key.line, expr.key.column)
        else:
            result_map[new_key] = value
    return result_list if expr.key is None else result_map


# -- function calls ----------------------------------------------------------------


def _call(expr: Call, scope: Scope) -> Any:
    name = expr.name
    if name == "try":
        return _fn_try(expr, scope)
    if name == "can":
        return _fn_can(expr, scope)
    args = [materialize(evaluate(arg, scope)) for arg in expr.args]
    if expr.expand:
        if not args:
            raise EvalError("... needs an argument", expr.line, expr.column)
        last = args.pop()
        if isinstance(last, (Unknown, Reference)):
            return _bare(last)
        if isinstance(last, dict):
            last = list(last.values())
        if not isinstance(last, list):
            raise EvalError("the argument before ... must be a list", expr.line, expr.column)
        args.extend(last)
    function = FUNCTIONS.get(name)
    if function is None:
        if "::" in name:
            return Unknown(f"provider function {name}() is not evaluated")
        return Unknown(f"function {name}() is not evaluated")
    try:
        return function(*args)
    except EvalError as exc:
        if exc.line is None:
            raise EvalError(f"{name}(): {exc.message}", expr.line, expr.column) from None
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, ZeroDivisionError, re.error) as exc:
        raise EvalError(f"{name}(): invalid arguments ({exc})", expr.line, expr.column) from None


def _fn_try(expr: Call, scope: Scope) -> Any:
    last: EvalError | None = None
    for arg in expr.args:
        try:
            return materialize(evaluate(arg, scope))
        except EvalError as exc:
            last = exc
    raise EvalError(f"try(): no expression succeeded{': ' + last.message if last else ''}", expr.line, expr.column)


def _fn_can(expr: Call, scope: Scope) -> Any:
    if len(expr.args) != 1:
        raise EvalError("can() takes one argument", expr.line, expr.column)
    try:
        value = materialize(evaluate(expr.args[0], scope))
    except EvalError:
        return False
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    return True


_HANDLERS: dict[type, Callable[[Any, Scope], Any]] = {
    Literal: _literal,
    Variable: _variable,
    TupleExpr: _tuple,
    ObjectExpr: _object,
    Traversal: _traversal,
    Template: _template,
    Conditional: _conditional,
    Unary: _unary,
    Binary: _binary,
    ForExpr: _for,
    Call: _call,
}


# ---------------------------------------------------------------------------
# functions
# ---------------------------------------------------------------------------


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """A function of known values: unknown arguments give an Unknown (or candidates)."""

    def call(*args: Any) -> Any:
        unknown = find_unknown(*args)
        if unknown is None:
            return function(*args)
        deep = any(
            not isinstance(a, (Unknown, Reference)) and isinstance(a, (dict, list)) and find_unknown(a) is not None
            for a in args
        )
        if deep:
            return unknown
        return _combine(function, *args)

    call.__name__ = function.__name__
    return call


def _str_arg(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise EvalError(f"{_describe(value)} is not a string")
    return to_string(value)


def _list_arg(value: Any) -> list:
    if isinstance(value, list):
        return value
    raise EvalError(f"{_describe(value)} is not a list")


def _map_arg(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    raise EvalError(f"{_describe(value)} is not a map")


def _int_arg(value: Any) -> int:
    number = _to_number(value)
    if not isinstance(number, int):
        raise EvalError(f"{_describe(value)} is not a whole number")
    return number


def _sorted_set(items: list) -> list:
    unique: list = []
    for item in items:
        if not any(_same(item, seen) for seen in unique):
            unique.append(item)
    if all(isinstance(i, str) for i in unique):
        return sorted(unique)
    if all(_is_number(i) for i in unique):
        return sorted(unique)
    return unique


# -- collection functions that decide what they can -----------------------------------


def fn_length(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    if isinstance(value, (list, dict)):
        return len(value)
    if isinstance(value, str):
        return len(value)
    raise EvalError(f"cannot take the length of {_describe(value)}")


def fn_keys(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    return sorted(_map_arg(value))


def fn_values(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    mapping = _map_arg(value)
    return [mapping[k] for k in sorted(mapping)]


def fn_lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if len(default) > 1:
        raise EvalError("lookup() takes two or three arguments")
    if isinstance(mapping, (Unknown, Reference)):
        return _bare(mapping)
    if isinstance(key, (Unknown, Reference)):
        return _combine(lambda k: fn_lookup(mapping, k, *default), key)
    mapping = _map_arg(mapping)
    key = _str_arg(key)
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise EvalError(f"the map has no element for key {key!r} and no default was given")


def fn_contains(collection: Any, value: Any) -> Any:
    if isinstance(collection, (Unknown, Reference)):
        return _bare(collection)
    items = _list_arg(collection) if not isinstance(collection, dict) else list(collection.values())
    if isinstance(value, (Unknown, Reference)):
        return _combine(lambda v: fn_contains(collection, v), value)
    unknown = None
    for item in items:
        if isinstance(item, (Unknown, Reference)):
            unknown = unknown or _bare(item)
        elif _equal(item, value):
            return True
    return unknown if unknown is not None else False


def fn_merge(*maps: Any) -> Any:
    out: dict = {}
    for mapping in maps:
        if mapping is None:
            continue
        if isinstance(mapping, (Unknown, Reference)):
            return _bare(mapping)
        out.update(_map_arg(mapping))
    return out


def fn_concat(*lists: Any) -> Any:
    """Lists joined; an undetermined argument makes the result unknown, with every argument's refs."""
    out: list = []
    for items in lists:
        if isinstance(items, (Unknown, Reference)):
            return find_unknown(*lists) or _bare(items)
        out.extend(_list_arg(items))
    return out


def fn_flatten(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    out: list = []

    def walk(items: list) -> bool:
        for item in items:
            if isinstance(item, Unknown):
                return False  # it may be a list itself: the length is unknown
            if isinstance(item, list):
                if not walk(item):
                    return False
            else:
                out.append(item)  # a reference is one value (a resource's ARN, ID...)
        return True

    return out if walk(_list_arg(value)) else (find_unknown(value) or _bare(value))


def fn_coalesce(*args: Any) -> Any:
    for arg in args:
        if isinstance(arg, (Unknown, Reference)):
            return _bare(arg)
        if arg is None or arg == "":
            continue
        return arg
    raise EvalError("no non-null, non-empty-string arguments")


def fn_coalescelist(*args: Any) -> Any:
    for arg in args:
        if isinstance(arg, (Unknown, Reference)):
            return _bare(arg)
        if arg is None:
            continue
        if _list_arg(arg):
            return arg
    return []


def fn_element(items: Any, index: Any) -> Any:
    if isinstance(items, (Unknown, Reference)):
        return _bare(items)
    if isinstance(index, (Unknown, Reference)):
        return _combine(lambda i: fn_element(items, i), index)
    items = _list_arg(items)
    if not items:
        raise EvalError("cannot use element() with an empty list")
    position = _int_arg(index)
    if position < 0:
        raise EvalError("element() index must not be negative")
    return items[position % len(items)]


def fn_one(items: Any) -> Any:
    if isinstance(items, (Unknown, Reference)):
        return _bare(items)
    items = _list_arg(items)
    if len(items) > 1:
        raise EvalError(f"one() got a list of {len(items)} elements")
    return items[0] if items else None


def fn_tolist(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    if value is None:
        return None
    return list(_list_arg(value))


def fn_toset(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    items = _list_arg(value)
    if any(isinstance(i, Unknown) for i in items):  # an unknown member may equal a known one
        return find_unknown(*items)
    references = [i for i in items if isinstance(i, Reference)]
    if references:  # the known members sorted, then the referenced values (distinct)
        return fn_toset([i for i in items if not isinstance(i, Reference)]) + fn_distinct(references)
    return _sorted_set([to_string(i) if _is_number(i) or isinstance(i, bool) else i for i in items]
                       if any(isinstance(i, str) for i in items) else list(items))


def fn_tomap(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    if value is None:
        return None
    return _map_arg(value)


def fn_distinct(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    items = _list_arg(value)
    if any(isinstance(i, Unknown) for i in items):
        return find_unknown(*items)
    out: list = []
    for item in items:  # references are kept (two different references are two values)
        if not any(item == seen if isinstance(item, Reference) else _equal(item, seen) for seen in out):
            out.append(item)
    return out


def fn_compact(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    items = _list_arg(value)
    if any(isinstance(i, Unknown) for i in items):  # an unknown item may be "" or null
        return find_unknown(*items)
    return [i if isinstance(i, Reference) else _str_arg(i) for i in items if i is not None and i != ""]


def fn_zipmap(keys: Any, values: Any) -> Any:
    if isinstance(keys, (Unknown, Reference)) or isinstance(values, (Unknown, Reference)):
        return _bare(keys if isinstance(keys, (Unknown, Reference)) else values)
    keys, values = _list_arg(keys), _list_arg(values)
    unknown = find_unknown(*keys)
    if unknown is not None:
        return unknown
    if len(keys) != len(values):
        raise EvalError("zipmap() needs lists of the same length")
    return {_str_arg(k): v for k, v in zip(keys, values)}


def fn_alltrue(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    unknown = None
    for item in _list_arg(value):
        item = _to_bool(item)
        if item is False:
            return False
        if isinstance(item, Unknown):
            unknown = unknown or _bare(item)
    return unknown if unknown is not None else True


def fn_anytrue(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    unknown = None
    for item in _list_arg(value):
        item = _to_bool(item)
        if item is True:
            return True
        if isinstance(item, Unknown):
            unknown = unknown or _bare(item)
    return unknown if unknown is not None else False


def fn_slice(items: Any, start: Any, end: Any) -> Any:
    if isinstance(items, (Unknown, Reference)):
        return _bare(items)
    if isinstance(start, (Unknown, Reference)) or isinstance(end, (Unknown, Reference)):
        return _bare(start if isinstance(start, (Unknown, Reference)) else end)
    items = _list_arg(items)
    low, high = _int_arg(start), _int_arg(end)
    if not 0 <= low <= high <= len(items):
        raise EvalError(f"slice({low}, {high}) is out of range for a list of {len(items)}")
    return items[low:high]


def fn_jsonencode(value: Any) -> Any:
    unknown = find_unknown(value)
    if unknown is None:
        return json_text(value)
    if not unknown.refs:
        return unknown
    placeholder = placeholders(value)
    return Unknown(unknown.reason, unknown.refs, text=json_text(placeholder))


def placeholders(value: Any) -> Any:
    if isinstance(value, Reference):
        return "${" + str(value) + "}"
    if isinstance(value, Unknown):
        return value.text if value.text is not None else "${?}"
    if isinstance(value, dict):
        return {k: placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [placeholders(v) for v in value]
    return value


def json_text(value: Any) -> str:
    text = json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise EvalError("jsonencode() cannot encode an infinite number")
        return _num(value)
    return value


def _jsondecode(text: Any) -> Any:
    try:
        data = json.loads(_str_arg(text))
    except json.JSONDecodeError as exc:
        raise EvalError(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    return _normalise_numbers(data)


def _normalise_numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise_numbers(v) for v in value]
    return _num(value)


def fn_join(separator: Any, *lists: Any) -> Any:
    if isinstance(separator, (Unknown, Reference)):
        return _bare(separator)
    separator = _str_arg(separator)
    items: list = []
    for part in lists:
        if isinstance(part, (Unknown, Reference)):
            return _bare(part)
        items.extend(_list_arg(part))
    unknowns = [i for i in items if isinstance(i, (Unknown, Reference))]
    if not unknowns:
        return separator.join(_str_arg(i) for i in items)
    first = as_unknown(unknowns[0])
    refs = tuple(dict.fromkeys(r for i in unknowns for r in as_unknown(i).refs))
    if refs:
        text = separator.join(
            "${" + str(i) + "}" if isinstance(i, Reference) else (i.text or "${?}") if isinstance(i, Unknown) else _str_arg(i)
            for i in items
        )
        return Unknown(first.reason, refs, text=text)
    return _combine(lambda *xs: separator.join(_str_arg(x) for x in xs), *items)


# -- strict functions -----------------------------------------------------------------


def _format(spec: Any, *args: Any) -> str:
    spec = _str_arg(spec)
    out: list[str] = []
    position = 0
    i = 0
    pattern = re.compile(r"%(?:\[(\d+)\])?([-+ #0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")
    while i < len(spec):
        if spec[i] != "%":
            out.append(spec[i])
            i += 1
            continue
        match = pattern.match(spec, i)
        if not match:
            raise EvalError(f"invalid format verb at {spec[i:i + 5]!r}")
        explicit, flags, width, precision, verb = match.groups()
        i = match.end()
        if verb == "%":
            out.append("%")
            continue
        if explicit:
            position = int(explicit) - 1
        if position >= len(args):
            raise EvalError("not enough arguments for format()")
        arg = args[position]
        position += 1
        if verb in ("s", "v"):
            text = json_text(arg) if isinstance(arg, (dict, list)) else to_string(arg)
        elif verb == "q":
            text = json.dumps(_str_arg(arg), ensure_ascii=False)
        elif verb == "d":
            text = str(_int_arg(arg))
        elif verb in ("f", "e", "g"):
            text = format(float(_to_number(arg)), f".{precision or 6}{verb}") if verb == "f" or precision else format(float(_to_number(arg)), verb)
        elif verb == "t":
            text = to_string(_to_bool(arg))
        elif verb in ("x", "X", "o", "b"):
            text = format(_int_arg(arg), verb)
        else:
            raise EvalError(f"unsupported format verb %{verb}")
        if width:
            text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width), "0" if "0" in flags else " ")
        out.append(text)
    return "".join(out)


def _regex(pattern: Any, text: Any) -> Any:
    compiled = re.compile(_re2(_str_arg(pattern)))
    match = compiled.search(_str_arg(text))
    if match is None:
        raise EvalError("the pattern did not match")
    return _match_value(compiled, match)


def _regexall(pattern: Any, text: Any) -> Any:
    compiled = re.compile(_re2(_str_arg(pattern)))
    return [_match_value(compiled, m) for m in compiled.finditer(_str_arg(text))]


def _re2(pattern: str) -> str:
    """RE2 syntax as Python's re reads it (named groups ``(?P<n>...)`` and flags are the same)."""
    return pattern


def _match_value(compiled: re.Pattern[str], match: re.Match[str]) -> Any:
    if compiled.groupindex:
        return {name: match.group(name) for name in compiled.groupindex}
    if compiled.groups:
        return list(match.groups())
    return match.group(0)


def _replace(text: Any, search: Any, replacement: Any) -> str:
    text, search, replacement = _str_arg(text), _str_arg(search), _str_arg(replacement)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        template = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: "\\g<" + (m.group(1) or m.group(2)) + ">", replacement.replace("\\", "\\\\"))
        return re.sub(_re2(search[1:-1]), template, text)
    return text.replace(search, replacement)


def _substr(text: Any, offset: Any, length: Any) -> str:
    text = _str_arg(text)
    start, count = _int_arg(offset), _int_arg(length)
    if start < 0:
        start = max(len(text) + start, 0)
    if start > len(text):
        raise EvalError("offset is beyond the end of the string")
    return text[start:] if count < 0 else text[start:start + count]


def _split(separator: Any, text: Any) -> list:
    separator, text = _str_arg(separator), _str_arg(text)
    if text == "":
        return [""] if separator else []
    return text.split(separator) if separator else list(text)


def _range(*args: Any) -> list:
    numbers = [_to_number(a) for a in args]
    if len(numbers) == 1:
        start, end, step = 0, numbers[0], 1
    elif len(numbers) == 2:
        start, end, step = numbers[0], numbers[1], (1 if numbers[1] >= numbers[0] else -1)
    elif len(numbers) == 3:
        start, end, step = numbers
    else:
        raise EvalError("range() takes one to three arguments")
    if step == 0:
        raise EvalError("range() step must not be zero")
    out: list = []
    value = start
    while (value < end) if step > 0 else (value > end):
        out.append(_num(value))
        value += step
        if len(out) > 1024:
            raise EvalError("range() would produce more than 1024 elements")
    return out


def _minmax(which: Callable[..., Any]) -> Callable[..., Any]:
    def compute(*args: Any) -> Any:
        if not args:
            raise EvalError("needs at least one number")
        return _num(which(_to_number(a) for a in args))

    return compute


def _tostring(value: Any) -> Any:
    if value is None:
        return None
    return _str_arg(value)


def _tonumber(value: Any) -> Any:
    return None if value is None else _to_number(value)


def _tobool(value: Any) -> Any:
    return None if value is None else _to_bool(value)


def _trim(text: Any, chars: Any) -> str:
    return _str_arg(text).strip(_str_arg(chars))


def _trimprefix(text: Any, prefix: Any) -> str:
    text, prefix = _str_arg(text), _str_arg(prefix)
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def _trimsuffix(text: Any, suffix: Any) -> str:
    text, suffix = _str_arg(text), _str_arg(suffix)
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def _chomp(text: Any) -> str:
    return re.sub(r"(\r\n|\n|\r)+$", "", _str_arg(text))


def _title(text: Any) -> str:
    return re.sub(r"\b([a-z])", lambda m: m.group(1).upper(), _str_arg(text))


def _sort(items: Any) -> list:
    return sorted(_str_arg(i) for i in _list_arg(items))


def _reverse(items: Any) -> list:
    return list(reversed(_list_arg(items)))


def _index_of(items: Any, value: Any) -> int:
    for i, item in enumerate(_list_arg(items)):
        if _equal(item, value):
            return i
    raise EvalError("the value is not in the list")


def _setunion(*sets: Any) -> list:
    return _sorted_set([i for s in sets for i in _list_arg(s)])


def _setintersection(first: Any, *others: Any) -> list:
    items = _sorted_set(_list_arg(first))
    for other in others:
        other_items = _list_arg(other)
        items = [i for i in items if any(_equal(i, o) for o in other_items)]
    return items


def _setsubtract(a: Any, b: Any) -> list:
    remove = _list_arg(b)
    return [i for i in _sorted_set(_list_arg(a)) if not any(_equal(i, r) for r in remove)]


def _setproduct(*sets: Any) -> list:
    return [list(combo) for combo in product(*[_list_arg(s) for s in sets])]


def _chunklist(items: Any, size: Any) -> list:
    items, size = _list_arg(items), _int_arg(size)
    if size <= 0:
        return [items]
    return [items[i:i + size] for i in range(0, len(items), size)]


def _sum(items: Any) -> Any:
    values = _list_arg(items)
    if not values:
        raise EvalError("sum() of an empty list")
    return _num(sum(_to_number(v) for v in values))


def _transpose(mapping: Any) -> dict:
    out: dict[str, list] = {}
    for key in sorted(_map_arg(mapping)):
        for value in _list_arg(mapping[key]):
            out.setdefault(_str_arg(value), []).append(key)
    return {k: sorted(v) for k, v in out.items()}


def _matchkeys(values: Any, keys: Any, search: Any) -> list:
    values, keys, search = _list_arg(values), _list_arg(keys), _list_arg(search)
    return [v for v, k in zip(values, keys) if any(_equal(k, s) for s in search)]


def _base64encode(text: Any) -> str:
    return base64.b64encode(_str_arg(text).encode("utf-8")).decode("ascii")


def _base64decode(text: Any) -> str:
    try:
        return base64.b64decode(_str_arg(text), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise EvalError("invalid base64 or not UTF-8 text") from None


def _hash(name: str, encode: Callable[[bytes], str]) -> Callable[[Any], str]:
    def compute(text: Any) -> str:
        import hashlib

        return encode(hashlib.new(name, _str_arg(text).encode("utf-8")).digest())

    return compute


def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    import ipaddress

    network = ipaddress.ip_network(_str_arg(prefix), strict=False)
    bits, number = _int_arg(newbits), _int_arg(netnum)
    new_prefix = network.prefixlen + bits
    if new_prefix > network.max_prefixlen or not 0 <= number < 2**bits:
        raise EvalError("cidrsubnet(): not enough address space")
    size = 2 ** (network.max_prefixlen - new_prefix)
    address = int(network.network_address) + number * size
    return str(ipaddress.ip_network((address, new_prefix)))


def _cidrhost(prefix: Any, hostnum: Any) -> str:
    import ipaddress

    network = ipaddress.ip_network(_str_arg(prefix), strict=False)
    number = _int_arg(hostnum)
    if number < 0:
        number += network.num_addresses
    if not 0 <= number < network.num_addresses:
        raise EvalError("cidrhost(): host number out of range")
    return str(network.network_address + number)


def _cidrnetmask(prefix: Any) -> str:
    import ipaddress

    return str(ipaddress.ip_network(_str_arg(prefix), strict=False).netmask)


def _parseint(text: Any, base: Any) -> int:
    return int(_str_arg(text), _int_arg(base))


def _not_evaluated(reason: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return Unknown(reason)

    return call


def _identity(value: Any) -> Any:
    return value


def _map_fn(*args: Any) -> dict:
    if len(args) % 2:
        raise EvalError("map() takes key/value pairs")
    return {_str_arg(args[i]): args[i + 1] for i in range(0, len(args), 2)}


def _list_fn(*args: Any) -> list:
    return list(args)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # collections (decide what they can with unknown elements)
    "length": fn_length,
    "keys": fn_keys,
    "values": fn_values,
    "lookup": fn_lookup,
    "contains": fn_contains,
    "merge": fn_merge,
    "concat": fn_concat,
    "flatten": fn_flatten,
    "coalesce": fn_coalesce,
    "coalescelist": fn_coalescelist,
    "element": fn_element,
    "one": fn_one,
    "tolist": fn_tolist,
    "toset": fn_toset,
    "tomap": fn_tomap,
    "distinct": fn_distinct,
    "compact": fn_compact,
    "zipmap": fn_zipmap,
    "alltrue": fn_alltrue,
    "anytrue": fn_anytrue,
    "slice": fn_slice,
    "jsonencode": fn_jsonencode,
    "join": fn_join,
    "nonsensitive": _identity,
    "sensitive": _identity,
    # strict
    "jsondecode": _strict(_jsondecode),
    "format": _strict(_format),
    "formatlist": _strict(lambda spec, *lists: [
        _format(spec, *[a[i] if isinstance(a, list) else a for a in lists])
        for i in range(max([len(a) for a in lists if isinstance(a, list)] or [1]))
    ]),
    "lower": _strict(lambda s: _str_arg(s).lower()),
    "upper": _strict(lambda s: _str_arg(s).upper()),
    "title": _strict(_title),
    "trimspace": _strict(lambda s: _str_arg(s).strip()),
    "trim": _strict(_trim),
    "trimprefix": _strict(_trimprefix),
    "trimsuffix": _strict(_trimsuffix),
    "chomp": _strict(_chomp),
    "replace": _strict(_replace),
    "substr": _strict(_substr),
    "split": _strict(_split),
    "startswith": _strict(lambda s, p: _str_arg(s).startswith(_str_arg(p))),
    "endswith": _strict(lambda s, p: _str_arg(s).endswith(_str_arg(p))),
    "strcontains": _strict(lambda s, p: _str_arg(p) in _str_arg(s)),
    "strrev": _strict(lambda s: _str_arg(s)[::-1]),
    "indent": _strict(lambda n, s: _str_arg(s).replace("\n", "\n" + " " * _int_arg(n))),
    "regex": _strict(_regex),
    "regexall": _strict(_regexall),
    "tostring": _strict(_tostring),
    "tonumber": _strict(_tonumber),
    "tobool": _strict(_tobool),
    "range": _strict(_range),
    "min": _strict(_minmax(min)),
    "max": _strict(_minmax(max)),
    "abs": _strict(lambda n: _num(abs(_to_number(n)))),
    "ceil": _strict(lambda n: math.ceil(_to_number(n))),
    "floor": _strict(lambda n: math.floor(_to_number(n))),
    "signum": _strict(lambda n: (_to_number(n) > 0) - (_to_number(n) < 0)),
    "pow": _strict(lambda a, b: _num(float(_to_number(a)) ** _to_number(b))),
    "parseint": _strict(_parseint),
    "sort": _strict(_sort),
    "reverse": _strict(_reverse),
    "index": _strict(_index_of),
    "setunion": _strict(_setunion),
    "setintersection": _strict(_setintersection),
    "setsubtract": _strict(_setsubtract),
    "setproduct": _strict(_setproduct),
    "chunklist": _strict(_chunklist),
    "sum": _strict(_sum),
    "transpose": _strict(_transpose),
    "matchkeys": _strict(_matchkeys),
    "map": _strict(_map_fn),
    "list": _strict(_list_fn),
    "base64encode": _strict(_base64encode),
    "base64decode": _strict(_base64decode),
    "urlencode": _strict(lambda s: quote(_str_arg(s), safe="")),
    "md5": _strict(_hash("md5", lambda d: d.hex())),
    "sha1": _strict(_hash("sha1", lambda d: d.hex())),
    "sha256": _strict(_hash("sha256", lambda d: d.hex())),
    "sha512": _strict(_hash("sha512", lambda d: d.hex())),
    "base64sha256": _strict(_hash("sha256", lambda d: base64.b64encode(d).decode("ascii"))),
    "base64sha512": _strict(_hash("sha512", lambda d: base64.b64encode(d).decode("ascii"))),
    "cidrsubnet": _strict(_cidrsubnet),
    "cidrhost": _strict(_cidrhost),
    "cidrnetmask": _strict(_cidrnetmask),
    # known only when Terraform runs
    "file": _not_evaluated("file() reads a file when Terraform runs"),
    "filebase64": _not_evaluated("filebase64() reads a file when Terraform runs"),
    "fileexists": _not_evaluated("fileexists() checks a file when Terraform runs"),
    "fileset": _not_evaluated("fileset() lists files when Terraform runs"),
    "templatefile": _not_evaluated("templatefile() reads a file when Terraform runs"),
    "filemd5": _not_evaluated("filemd5() reads a file when Terraform runs"),
    "filesha256": _not_evaluated("filesha256() reads a file when Terraform runs"),
    "abspath": _not_evaluated("abspath() depends on where Terraform runs"),
    "timestamp": _not_evaluated("timestamp() is known only at apply time"),
    "plantimestamp": _not_evaluated("plantimestamp() is known only at plan time"),
    "uuid": _not_evaluated("uuid() is known only at apply time"),
    "bcrypt": _not_evaluated("bcrypt() is random"),
    "timeadd": _not_evaluated("timeadd() is not evaluated"),
    "formatdate": _not_evaluated("formatdate() is not evaluated"),
    "yamlencode": _not_evaluated("yamlencode() is not evaluated"),
    "yamldecode": _not_evaluated("yamldecode() is not evaluated"),
}


# ---------------------------------------------------------------------------
# type constraints (variable "x" { type = ... })
# ---------------------------------------------------------------------------


def parse_type(expr: Expr | None) -> Any:
    """A type constraint expression as a nested tuple: ("string",), ("list", T), ("object", {name: (T, optional, default)}) ..."""
    if expr is None:
        return ("any",)
    if isinstance(expr, Variable):
        return (expr.name,) if expr.name in ("string", "number", "bool", "any") else ("any",)
    if isinstance(expr, Literal) and isinstance(expr.value, str):  # legacy "string" / "list" / "map"
        return {"list": ("list", ("any",)), "map": ("map", ("any",))}.get(expr.value, (expr.value,) if expr.value in ("string",) else ("any",))
    if isinstance(expr, Call):
        name, args = expr.name, expr.args
        if name in ("list", "set", "map") and args:
            return (name, parse_type(args[0]))
        if name in ("list", "set", "map"):
            return (name, ("any",))
        if name == "tuple" and args and isinstance(args[0], TupleExpr):
            return ("tuple", [parse_type(item) for item in args[0].items])
        if name == "object" and args and isinstance(args[0], ObjectExpr):
            attributes = {}
            for key, value in args[0].items:
                if not isinstance(key, Literal):
                    continue
                optional, default = False, None
                if isinstance(value, Call) and value.name == "optional" and value.args:
                    optional = True
                    if len(value.args) > 1:
                        try:
                            default = evaluate_value(value.args[1], Scope())
                        except EvalError:
                            default = None
                    value = value.args[0]
                attributes[str(key.value)] = (parse_type(value), optional, default)
            return ("object", attributes)
    return ("any",)


def convert(value: Any, spec: Any) -> Any:
    """``value`` converted to a type constraint as Terraform does for variables (lenient: no errors)."""
    if value is None or isinstance(value, (Unknown, Reference, Lazy)):
        return value
    kind = spec[0]
    if kind == "any":
        return value
    if kind == "string":
        if isinstance(value, (bool, int, float)):
            return to_string(value)
        return value
    if kind == "number":
        if isinstance(value, str):
            try:
                return _to_number(value)
            except EvalError:
                return value
        return value
    if kind == "bool":
        return value == "true" if value in ("true", "false") else value
    if kind in ("list", "set"):
        if not isinstance(value, list):
            return value
        items = [convert(item, spec[1]) for item in value]
        if kind == "set" and find_unknown(*items) is None and all(isinstance(i, str) for i in items):
            return _sorted_set(items)
        return _copy_list(value, items)
    if kind == "tuple":
        if not isinstance(value, list):
            return value
        types = spec[1]
        return _copy_list(value, [convert(item, types[i]) if i < len(types) else item for i, item in enumerate(value)])
    if kind == "map":
        if not isinstance(value, dict):
            return value
        return _copy_dict(value, {k: convert(v, spec[1]) for k, v in value.items()})
    if kind == "object":
        if not isinstance(value, dict):
            return value
        out = _copy_dict(value, {})
        for name, (attr_type, optional, default) in spec[1].items():
            if name in value:
                item = value[name]
                if item is None and optional and default is not None:
                    item = default
                out[name] = convert(item, attr_type)
            elif optional:
                out[name] = convert(default, attr_type)
        return out
    return value
