"""Read Terraform's JSON configuration syntax (``*.tf.json``) into the same AST as ``.tf`` files.

Terraform decodes JSON with the provider schema in hand: it knows that ``rule``
in an ``aws_backup_plan`` is a nested block and ``tags`` is a map attribute.
We have no schema, so a property of a resource, data source or provider whose
value is an object, or a list of objects, becomes nested blocks unless its
name is a known map attribute (``tags``, ``backup_options``...). For what our
resource builders read the two are the same data (a block is a list of
objects), so the guess only matters for a single object, which a block list
wraps.

Strings are string templates (``"${var.retention}"``), parsed by the HCL
parser; a few meta-arguments hold an expression instead (``type``,
``depends_on``). Positions come from libyaml's composer (JSON is YAML flow
syntax); every expression inside a string has the string's position.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from . import hcl

_LABELS = {"resource": 2, "data": 2, "variable": 1, "output": 1, "module": 1, "provider": 1, "locals": 0, "terraform": 0}
# Object-valued properties that are map attributes, not nested blocks, in the resources we read.
_MAP_ATTRIBUTES = frozenset({
    "tags", "tags_all", "volume_tags", "backup_options", "recovery_point_tags", "restore_metadata_overrides",
    "parameters", "variables", "environment", "input_parameters", "metadata",
})
# Bodies whose properties are all attributes (module inputs, locals, outputs, variables).
_ATTRIBUTE_BODIES = frozenset({"module", "locals", "output", "variable"})
# Properties holding an expression rather than a template (and a variable's ``type``).
_EXPRESSION_KEYS = frozenset({"depends_on"})

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader  # type: ignore[misc,assignment]


class _Error(Exception):
    def __init__(self, message: str, node: Any = None):
        super().__init__(message)
        self.message = message
        if isinstance(node, tuple):
            self.line, self.column = node
        else:
            self.line, self.column = _pos(node) if node is not None else (1, 1)


def _pos(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def parse(text: str | bytes) -> hcl.ParsedFile:
    """Parse one ``.tf.json`` file; a malformed file is a ParsedFile with an error."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    try:
        data = json.loads(text)  # the strict check: libyaml accepts some things JSON does not
        surrogate = _lone_surrogate(text, data)
        if surrogate is not None:
            return hcl.ParsedFile(hcl.Body(), hcl.Problem(
                f"invalid escape sequence {surrogate[0]}: a lone surrogate is not a Unicode character", *surrogate[1:]))
        root = yaml.compose(_PAIR.sub(_long_escape, text), Loader=_Loader)
    except json.JSONDecodeError as exc:
        return hcl.ParsedFile(hcl.Body(), hcl.Problem(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno))
    except ValueError as exc:  # a number of more than 4,300 digits (JSONDecodeError is caught above)
        return hcl.ParsedFile(hcl.Body(), hcl.Problem(f"invalid JSON: {exc}"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return hcl.ParsedFile(hcl.Body(), hcl.Problem(f"cannot read JSON: {getattr(exc, 'problem', exc)}", line, column))
    if not isinstance(root, yaml.MappingNode):
        return hcl.ParsedFile(hcl.Body(), hcl.Problem("a .tf.json file must hold a JSON object", *(_pos(root) if root else (1, 1))))
    try:
        return hcl.ParsedFile(_top_level(root))
    except _Error as exc:
        return hcl.ParsedFile(hcl.Body(), hcl.Problem(exc.message, exc.line, exc.column))
    except RecursionError:
        return hcl.ParsedFile(hcl.Body(), hcl.Problem("the JSON is nested too deeply"))


_HIGH, _LOW = r"\\u[dD][89abAB][0-9a-fA-F]{2}", r"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_LONE = re.compile(rf"(?<!{_HIGH}){_LOW}|{_HIGH}(?!{_LOW})")


_PAIR = re.compile(rf"(?<!\\)({_HIGH})({_LOW})")


def _long_escape(match: re.Match[str]) -> str:
    """A surrogate pair escape (JSON's way to write 😀) as one \\U escape, which libyaml reads
    (it refuses the pair); columns after it on that line move two to the left."""
    high, low = int(match.group(1)[2:], 16), int(match.group(2)[2:], 16)
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08X}"


def _lone_surrogate(text: str, data: Any) -> tuple[str, int, int] | None:
    """The first ``\\udc00``-like escape that decodes to half a character (JSON allows it, Terraform
    and UTF-8 do not), with its line and column; None when every string is valid text."""
    stack = [data]
    bad = False
    while stack and not bad:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                bad = True
    if not bad:
        return None
    match = _LONE.search(text)
    if match is None:
        return ("\\u....", 1, 1)
    line = text.count("\n", 0, match.start()) + 1
    return (match.group(0), line, match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1)


def _properties(node: Any) -> list[tuple[str, Any, Any]]:
    """(name, key node, value node) of a mapping, without ``"//"`` comments."""
    return [(key.value, key, value) for key, value in node.value if key.value != "//"]


def _objects(node: Any) -> list[Any]:
    """A block's object, or each object of a list (repeated blocks)."""
    if isinstance(node, yaml.MappingNode):
        return [node]
    if isinstance(node, yaml.SequenceNode) and all(isinstance(item, yaml.MappingNode) for item in node.value):
        return list(node.value)
    raise _Error("expected a JSON object (or a list of objects) for a block", node)


def _top_level(root: Any) -> hcl.Body:
    body = hcl.Body()
    for kind, key, value in _properties(root):
        depth = _LABELS.get(kind)
        if depth is None:
            continue  # moved/import/check... blocks: nothing we read
        for labels, at, obj in _labelled(value, depth, [], key):
            body.items.append(_block(kind, labels, obj, at, attributes_only=kind in _ATTRIBUTE_BODIES))
    return body


def _labelled(node: Any, depth: int, labels: list[str], at: Any) -> list[tuple[list[str], Any, Any]]:
    """Unfold ``{"aws_backup_plan": {"main": {...}}}`` into (labels, last label's key, body object)."""
    if depth == 0:
        return [(labels, at, obj) for obj in _objects(node)]
    if not isinstance(node, yaml.MappingNode):
        raise _Error("expected a JSON object keyed by block label", node)
    out: list[tuple[list[str], Any, Any]] = []
    for name, key, value in _properties(node):
        out.extend(_labelled(value, depth - 1, labels + [name], key))
    return out


def _block(kind: str, labels: list[str], obj: Any, at: Any, attributes_only: bool) -> hcl.Block:
    line, column = _pos(at)
    body = _body(obj, attributes_only)
    if kind == "variable" and "type" in body.attributes:
        body.attributes["type"].expr = _expression_of(body.attributes["type"].expr)
    return hcl.Block(kind, labels, body, line, column, obj.end_mark.line + 1)


def _body(obj: Any, attributes_only: bool) -> hcl.Body:
    body = hcl.Body()
    for name, key, value in _properties(obj):
        if not attributes_only and name == "dynamic":
            for labels, at, item in _labelled(value, 1, [], key):
                body.items.append(_dynamic(labels, item, at))
            continue
        if not attributes_only and name not in _MAP_ATTRIBUTES and _is_blocks(value):
            for item in _objects(value):
                body.items.append(_block(name, [], item, key, attributes_only=False))
            continue
        line, column = _pos(key)
        attribute = hcl.Attribute(name, _expression(value) if name in _EXPRESSION_KEYS else _value(value), line, column)
        body.items.append(attribute)
        body.attributes.setdefault(name, attribute)
    return body


def _dynamic(labels: list[str], obj: Any, at: Any) -> hcl.Block:
    block = _block("dynamic", labels, obj, at, attributes_only=True)
    for index, item in enumerate(block.body.items):
        if isinstance(item, hcl.Attribute) and item.name == "content":
            inner = next(value for name, _, value in _properties(obj) if name == "content")
            block.body.items[index] = _block("content", [], _objects(inner)[0], inner, attributes_only=False)
            del block.body.attributes["content"]
        elif isinstance(item, hcl.Attribute) and item.name == "iterator":
            item.expr = _expression_of(item.expr)
    return block


def _is_blocks(node: Any) -> bool:
    if isinstance(node, yaml.MappingNode):
        return True
    return isinstance(node, yaml.SequenceNode) and bool(node.value) and all(isinstance(item, yaml.MappingNode) for item in node.value)


def _value(node: Any) -> hcl.Expr:
    """A JSON value as an HCL expression: strings are templates, objects and arrays recurse."""
    line, column = _pos(node)
    if isinstance(node, yaml.MappingNode):
        return hcl.ObjectExpr(line, column, [(_value(key), _value(value)) for key, value in node.value if key.value != "//"])
    if isinstance(node, yaml.SequenceNode):
        return hcl.TupleExpr(line, column, [_value(item) for item in node.value])
    if node.style in ('"', "'"):
        return _template(node.value, line, column)
    return hcl.Literal(line, column, _scalar(node))


def _scalar(node: Any) -> Any:
    text = node.value
    if text == "null":
        return None
    if text in ("true", "false"):
        return text == "true"
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _Error(f"not a JSON value: {text[:40]!r}", node) from exc


def _template(text: str, line: int, column: int) -> hcl.Expr:
    if "${" not in text and "%{" not in text:
        return hcl.Literal(line, column, text)
    # A heredoc takes the text as it is: no escapes to redo (backslashes and quotes inside ${...}).
    marker = "BGJSONEOT"
    while marker in text:
        marker += "X"
    parsed = hcl.parse_expression(f"<<{marker}\n{text}\n{marker}")
    if parsed is None:
        raise _Error(f"invalid template: {text[:60]!r}", (line, column))
    _strip_final_newline(parsed)
    return hcl.relocate(parsed, line, column)


def _strip_final_newline(expr: hcl.Expr) -> None:
    if isinstance(expr, hcl.Template) and expr.parts and isinstance(expr.parts[-1], str):
        last = expr.parts[-1].removesuffix("\n")
        expr.parts[-1:] = [last] if last else []
    elif isinstance(expr, hcl.Literal) and isinstance(expr.value, str) and expr.value.endswith("\n"):
        expr.value = expr.value[:-1]


def _expression(node: Any) -> hcl.Expr:
    """A property that holds an expression in a string (``"type": "list(string)"``)."""
    if isinstance(node, yaml.SequenceNode):
        line, column = _pos(node)
        return hcl.TupleExpr(line, column, [_expression(item) for item in node.value])
    return _expression_of(_value(node))


def _expression_of(expr: hcl.Expr) -> hcl.Expr:
    if isinstance(expr, hcl.Literal) and isinstance(expr.value, str):
        parsed = hcl.parse_expression(expr.value)
        if parsed is not None:
            return hcl.relocate(parsed, expr.line, expr.column)
    return expr
