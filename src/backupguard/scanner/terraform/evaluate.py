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

import json
import math
import re
from functools import partial
from itertools import product
from math import prod
from typing import Any, Callable

from backupguard.estate import Reference, Unknown
from backupguard.scanner.paths import OutsideRoot
from backupguard.scanner.terraform.budget import (
    MAX_STRING_CHARS, BudgetExceeded, check_items, check_length, check_number, check_value, spend,
)
from backupguard.scanner.cloudformation.loader import LineDict, LineList
from backupguard.scanner.terraform.hcl import (
    Binary, Call, Conditional, Expr, ForExpr, GetAttr, Index, Interp, Literal, ObjectExpr, Splat, Template,
    TemplateFor, TemplateIf, Traversal, TupleExpr, Unary, Variable,
)

__all__ = [
    "EvalError", "HclList", "PARTIAL_ERRORS", "Unresolvable", "HclObject", "Lazy", "Scope", "as_unknown", "convert", "evaluate", "evaluate_value",
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


class Unresolvable(EvalError):
    """A reference Terraform cannot resolve (an output the module does not declare). Inside an
    object or tuple constructor it makes that one element unknown, not the whole value
    (outside ``try``/``can``); the error is kept in :data:`PARTIAL_ERRORS` for the caller to note."""


# (file, line, column, message) of Unresolvable errors turned into unknown elements; the
# module loader drains it into its notes.
PARTIAL_ERRORS: list[tuple[str | None, int | None, int | None, str]] = []
_GUARDED = [0]  # depth of try()/can() calls being evaluated: there an error must propagate


def _partial(expr: Expr, scope: Scope) -> Any:
    """``evaluate(expr)``, an Unresolvable reference becoming an Unknown element (see Unresolvable)."""
    if _GUARDED[0]:
        return evaluate(expr, scope)
    try:
        return evaluate(expr, scope)
    except Unresolvable as exc:
        PARTIAL_ERRORS.append((scope.file, exc.line or expr.line, exc.column or expr.column, exc.message))
        return Unknown(f"{exc.message}")


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
    then ``resolver(name, node)`` for module-level names. ``file`` is where the expression is written;
    ``files`` (a :class:`~backupguard.scanner.terraform.files.FileAccess`) what ``file()`` and its
    kin may read: without it (a variables file, a default) they give an Unknown."""

    __slots__ = ("resolver", "symbols", "file", "files")

    def __init__(self, resolver: Callable[[str, Any], Any] | None = None, symbols: dict | None = None, file: str | None = None,
                 files: Any = None):
        self.resolver = resolver
        self.symbols = symbols or {}
        self.file = file
        self.files = files

    def lookup(self, name: str, node: Any) -> Any:
        if name in self.symbols:
            return self.symbols[name]
        if self.resolver is None:
            raise EvalError(f"'{name}': references are not allowed here", node.line, node.column)
        return self.resolver(name, node)

    def with_symbols(self, extra: dict) -> "Scope":
        return Scope(self.resolver, {**self.symbols, **extra}, self.file, self.files)


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
        spend()
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
    spend()
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
        if _INTEGER.fullmatch(text) and len(text) <= _MAX_INT_DIGITS:
            return check_number(int(text))
        if _DECIMAL.fullmatch(text):
            return _num(float(text))  # beyond a double's range: inf, which no AWS argument accepts
    raise EvalError(f"{_describe(value)} is not {what}")


# Terraform's number syntax, ASCII digits only (Python's int()/float() also read "٣٥", "1_000", "nan").
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_INT_DIGITS = 1000  # check_number's bound: longer digit strings are read as floats


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

def _sorted_set(items: list) -> list:
    """Terraform's set of ``items``: duplicates dropped (by :func:`_same`), sorted when all are strings
    or all numbers. Primitives are compared by hash (a 100,000-item list is not 10^10 comparisons)."""
    unique: list = []
    seen_keys: set = set()
    composite: list = []
    for item in items:
        if isinstance(item, (dict, list, Unknown, Reference)) or not _hashable(item):
            spend(1 + len(composite))
            if not any(_same(item, seen) for seen in composite):
                composite.append(item)
                unique.append(item)
            continue
        key = ("number", item) if _is_number(item) else (type(item), item)
        if key not in seen_keys:
            seen_keys.add(key)
            unique.append(item)
    if all(isinstance(i, str) for i in unique):
        return sorted(unique)
    if all(_is_number(i) for i in unique):
        return sorted(unique)
    return unique



def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _equal(a: Any, b: Any) -> bool:
    spend()
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
    """The expression's value; raises :class:`EvalError` where Terraform would fail, and
    :class:`~backupguard.scanner.terraform.budget.BudgetExceeded` (placed at the innermost
    expression) where evaluating it would cost too much."""
    spend()
    handler = _HANDLERS.get(type(expr))
    if handler is None:  # pragma: no cover - every AST class has a handler
        raise EvalError(f"cannot evaluate {type(expr).__name__}", expr.line, expr.column)
    try:
        return handler(expr, scope)
    except BudgetExceeded as exc:
        if exc.line is None:
            exc.line, exc.column = expr.line, expr.column
        if getattr(exc, "file", None) is None:
            exc.file = scope.file
        raise
    except MemoryError:
        raise BudgetExceeded("evaluating this expression ran out of memory", expr.line, expr.column) from None


def _literal(expr: Literal, scope: Scope) -> Any:
    return check_number(expr.value)


def _variable(expr: Variable, scope: Scope) -> Any:
    return scope.lookup(expr.name, expr)


def _tuple(expr: TupleExpr, scope: Scope) -> Any:
    out = HclList(line=expr.line, column=expr.column)
    out.file = scope.file
    for item in expr.items:
        out.append(_partial(item, scope))
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
        out[key] = _partial(value_expr, scope)
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
            if all(name in c for c in value.candidates):  # each branch's attribute, as a candidate
                return _combine(lambda c: _get_attr(c, name, step), value)
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
        if value.candidates and all(isinstance(c, dict) for c in value.candidates) and not isinstance(key, (Unknown, Reference)):
            return _combine(lambda c: _index(c, key, step), value)
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
    check_length(sum(len(p) for p in pieces if isinstance(p, str)), "a template")
    unknowns = [p for p in pieces if isinstance(p, (Unknown, Reference))]
    if not unknowns:
        return "".join(pieces)
    first = as_unknown(unknowns[0])
    refs = tuple(dict.fromkeys(r for p in unknowns for r in as_unknown(p).refs))
    texts = [
        p if isinstance(p, str) else "${" + str(p) + "}" if isinstance(p, Reference)
        else (p.text if p.text is not None else "${" + (src or "?") + "}")
        for p, src in zip(pieces, sources)
    ]
    # The known parts of a string being built only inform; past the budget they are dropped
    # (an unknown doubled through locals would otherwise double its text every time).
    text = "".join(texts) if sum(map(len, texts)) <= MAX_STRING_CHARS else None
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
    check_length(sum(len(p) for p in out), "a %{for} template")
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
        elif branch is None or isinstance(branch, (str, int, float, bool)) or isinstance(branch, dict):
            # an object branch is a candidate too (as an Fn::If of two property blocks): reading
            # one of its attributes, or merging it, is then enumerated branch by branch
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
    try:
        return check_number(_arithmetic(op, x, y))
    except OverflowError:
        raise EvalError("the result is out of range for a number") from None


def _arithmetic(op: str, x: Any, y: Any) -> Any:
    if op == "*" and type(x) is int and type(y) is int:
        check_number(1 << max(0, x.bit_length() + y.bit_length() - 1))  # before computing a huge product
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
        check_items(len(result_list) + len(result_map), "a for expression")
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
    from backupguard.scanner.terraform.functions import FILE_FUNCTIONS, FUNCTIONS  # the library imports this module's helpers

    function = FUNCTIONS.get(name)
    if name in FILE_FUNCTIONS:
        if scope.files is None:
            return Unknown(f"{name}() reads a file when Terraform runs")
        function = partial(FILE_FUNCTIONS[name], scope.files)
    if function is None:
        if "::" in name:
            return Unknown(f"provider function {name}() is not evaluated")
        return Unknown(f"function {name}() is not evaluated")
    try:
        return check_value(function(*args))
    except OutsideRoot as exc:  # refused, not failed: one located error, and the value is unknown
        scope.files.report(str(exc), scope.file, expr.line, expr.column)
        return Unknown(str(exc))
    except EvalError as exc:
        if exc.line is None:
            raise type(exc)(f"{name}(): {exc.message}", expr.line, expr.column) from None
        raise
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, ZeroDivisionError, re.error) as exc:
        raise EvalError(f"{name}(): invalid arguments ({exc})", expr.line, expr.column) from None


def _fn_try(expr: Call, scope: Scope) -> Any:
    last: EvalError | None = None
    for arg in expr.args:
        _GUARDED[0] += 1
        try:
            return materialize(evaluate(arg, scope))
        except EvalError as exc:
            last = exc
        finally:
            _GUARDED[0] -= 1
    raise EvalError(f"try(): no expression succeeded{': ' + last.message if last else ''}", expr.line, expr.column)


def _fn_can(expr: Call, scope: Scope) -> Any:
    if len(expr.args) != 1:
        raise EvalError("can() takes one argument", expr.line, expr.column)
    _GUARDED[0] += 1
    try:
        value = materialize(evaluate(expr.args[0], scope))
    except EvalError:
        return False
    finally:
        _GUARDED[0] -= 1
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
