"""Parse Terraform HCL (native syntax) into a small AST that remembers positions.

tree-sitter (``tree-sitter`` + ``tree-sitter-hcl``) does the parsing: a 5,000-line
file takes well under 0.1 s. This module turns its concrete syntax tree into
plain objects:

* :class:`Body` holds :class:`Attribute` and :class:`Block` items in source order;
* expressions are :class:`Expr` subclasses (:class:`Literal`, :class:`Template`,
  :class:`Traversal`, :class:`Call`, :class:`ForExpr` ...), evaluated by
  :mod:`backupguard.scanner.terraform.evaluate`.

Every block, attribute, expression and traversal step has a 1-based ``line``
and ``column`` (columns count characters, not bytes). Templates are fully
decoded here: escapes (``\\n``, ``\\u00e9``, ``$${``, ``%%{``), strip markers
(``${~ x ~}``) and ``<<-`` heredoc indentation, so the evaluator only joins
parts. A file with a syntax error (a tree-sitter ERROR or MISSING node) gives
one :class:`Problem` at the first error and an empty body: Terraform refuses
such a file, and a partly recovered tree would be a guess.

tree-sitter is imported on first use so that importing backupguard stays cheap.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Union

__all__ = [
    "Attribute", "Binary", "Block", "Body", "Call", "Conditional", "Expr", "ForExpr", "GetAttr", "Index",
    "Interp", "Literal", "ObjectExpr", "ParsedFile", "Problem", "Splat", "Template", "TemplateFor",
    "TemplateIf", "Traversal", "TupleExpr", "Unary", "Variable", "parse", "parse_expression", "traversal_name",
]


# ---------------------------------------------------------------------------
# AST
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Expr:
    line: int
    column: int


@dataclass(slots=True)
class Literal(Expr):
    value: Any  # str, int, float, bool or None


@dataclass(slots=True)
class Interp:
    """``${expr}`` inside a template; ``source`` is the expression's text."""

    expr: Expr
    source: str


@dataclass(slots=True)
class TemplateIf:
    cond: Expr
    then: list
    other: list


@dataclass(slots=True)
class TemplateFor:
    key_var: str | None
    value_var: str
    collection: Expr
    body: list


TemplatePart = Union[str, Interp, TemplateIf, TemplateFor]


@dataclass(slots=True)
class Template(Expr):
    parts: list  # list[TemplatePart]; a lone Interp keeps its value's type ("${var.tags}")


@dataclass(slots=True)
class TupleExpr(Expr):
    items: list


@dataclass(slots=True)
class ObjectExpr(Expr):
    items: list  # list[tuple[Expr, Expr]]; a bare identifier key is a Literal string


@dataclass(slots=True)
class Variable(Expr):
    name: str


@dataclass(slots=True)
class GetAttr:
    name: str
    line: int
    column: int


@dataclass(slots=True)
class Index:
    key: Expr
    line: int
    column: int


@dataclass(slots=True)
class Splat:
    """``[*]`` (full) or ``.*`` (attribute-only, legacy); ``steps`` apply to each element."""

    steps: list
    full: bool
    line: int
    column: int


@dataclass(slots=True)
class Traversal(Expr):
    source: Expr
    steps: list  # GetAttr | Index | Splat


@dataclass(slots=True)
class Call(Expr):
    name: str
    args: list
    expand: bool = False  # f(a, list...)


@dataclass(slots=True)
class Conditional(Expr):
    cond: Expr
    then: Expr
    other: Expr
    grouped: bool = False  # written in parentheses


@dataclass(slots=True)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(slots=True)
class Unary(Expr):
    op: str
    operand: Expr


@dataclass(slots=True)
class ForExpr(Expr):
    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None  # None: a tuple ``[for ...]``
    value: Expr
    cond: Expr | None
    grouping: bool = False


@dataclass(slots=True)
class Attribute:
    name: str
    expr: Expr
    line: int
    column: int


@dataclass(slots=True)
class Block:
    type: str
    labels: list[str]
    body: "Body"
    line: int
    column: int
    end_line: int = 0


@dataclass(slots=True)
class Body:
    items: list = field(default_factory=list)  # Attribute | Block, in source order
    attributes: dict = field(default_factory=dict)  # name -> Attribute (the first definition)

    @property
    def blocks(self) -> list[Block]:
        return [item for item in self.items if isinstance(item, Block)]

    def blocks_of(self, block_type: str) -> list[Block]:
        return [item for item in self.items if isinstance(item, Block) and item.type == block_type]


@dataclass(slots=True)
class Problem:
    message: str
    line: int = 1
    column: int = 1


@dataclass(slots=True)
class ParsedFile:
    body: Body
    error: Problem | None = None  # a syntax error: the body is then empty
    problems: list[Problem] = field(default_factory=list)  # duplicate attributes...


def relocate(node: Any, line: int, column: int) -> Any:
    """Give ``node`` and everything in it one position, in place; returns ``node``.

    For expressions whose own positions mean nothing to the user: those parsed
    out of a JSON string, or moved from an override file onto the block they override.
    """
    if isinstance(node, (list, tuple)):
        for item in node:
            relocate(item, line, column)
    elif dataclasses.is_dataclass(node):
        for spec in dataclasses.fields(node):
            if spec.name in ("line", "column"):
                setattr(node, spec.name, line if spec.name == "line" else column)
            else:
                relocate(getattr(node, spec.name), line, column)
    return node


def traversal_name(expr: Expr) -> str | None:
    """``aws.replica`` for a plain traversal expression (``provider = aws.replica``), else None."""
    if isinstance(expr, Variable):
        return expr.name
    if isinstance(expr, Traversal) and isinstance(expr.source, Variable):
        names = [expr.source.name]
        for step in expr.steps:
            if not isinstance(step, GetAttr):
                return None
            names.append(step.name)
        return ".".join(names)
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    return None


# ---------------------------------------------------------------------------
# tree-sitter
# ---------------------------------------------------------------------------

_PARSER: Any = None


def _parser() -> Any:
    global _PARSER
    if _PARSER is None:
        import tree_sitter
        import tree_sitter_hcl

        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
    return _PARSER


def syntax_tree(src: bytes) -> Any:
    """The tree-sitter tree of a file, parsed as :func:`parse` parses it, comments included
    (:mod:`backupguard.scanner.suppressions` reads them)."""
    return _parser().parse(_exponents_as_digits(src))


class _Unsupported(Exception):
    def __init__(self, node: Any, what: str = ""):
        super().__init__(what)
        self.node = node
        self.what = what


class _BadEscape(Exception):
    """An escape Terraform refuses: ``\\udc00`` (a lone surrogate is no character) or beyond U+10FFFF."""

    def __init__(self, escape: str, line: int = 1, column: int = 1):
        super().__init__(escape)
        self.escape = escape
        self.line = line
        self.column = column


_BINARY_OPS = frozenset({"*", "/", "%", "+", "-", ">", ">=", "<", "<=", "==", "!=", "&&", "||"})
_ESCAPE = re.compile(r'\\(?:([ntr"\\])|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))|\$\$\{|%%\{')
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_STRIP_BEFORE = object()  # sentinel: strip whitespace at the end of the previous literal
_STRIP_AFTER = object()  # sentinel: strip whitespace at the start of the next literal


def _unescape(match: re.Match[str]) -> str:
    text = match.group(0)
    if text == "$${":
        return "${"
    if text == "%%{":
        return "%{"
    simple, short, long = match.groups()
    if simple:
        return _SIMPLE_ESCAPES[simple]
    code = int(short or long, 16)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise _BadEscape(text)
    return chr(code)


class _Converter:
    def __init__(self, src: bytes, ascii_only: bool):
        self.src = src
        self.ascii = ascii_only
        self.problems: list[Problem] = []

    # -- helpers -----------------------------------------------------------

    def pos(self, node: Any) -> tuple[int, int]:
        row, column = node.start_point
        if not self.ascii and column:
            start = node.start_byte - column
            column = len(self.src[start:node.start_byte].decode("utf-8", "replace"))
        return row + 1, column + 1

    def text(self, node: Any) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    @staticmethod
    def kids(node: Any) -> list:
        return [child for child in node.children if child.type != "comment"]

    # -- bodies --------------------------------------------------------------

    def body(self, node: Any | None) -> Body:
        body = Body()
        if node is None:
            return body
        for child in node.children:
            kind = child.type
            if kind == "attribute":
                attribute = self.attribute(child)
                first = body.attributes.get(attribute.name)
                if first is not None:
                    self.problems.append(Problem(
                        f"attribute '{attribute.name}' is defined more than once (first on line {first.line})",
                        attribute.line, attribute.column,
                    ))
                    continue
                body.attributes[attribute.name] = attribute
                body.items.append(attribute)
            elif kind == "block":
                body.items.append(self.block(child))
        return body

    def attribute(self, node: Any) -> Attribute:
        children = node.children  # name = value, with comments perhaps between them
        name, value = children[0], children[-1]
        if name.type == "comment" or value.type != "expression":
            kids = self.kids(node)
            name, value = kids[0], next(child for child in kids if child.type == "expression")
        line, column = self.pos(name)
        return Attribute(self.text(name), self.expr(value), line, column)

    def block(self, node: Any) -> Block:
        kids = self.kids(node)
        line, column = self.pos(kids[0])
        labels: list[str] = []
        inner = None
        for child in kids[1:]:
            kind = child.type
            if kind == "string_lit":
                labels.append(self.string_lit(child))
            elif kind == "identifier":
                labels.append(self.text(child))
            elif kind == "body":
                inner = child
        return Block(self.text(kids[0]), labels, self.body(inner), line, column, node.end_point[0] + 1)

    # -- expressions -----------------------------------------------------------

    def expr(self, node: Any) -> Expr:
        if node.type != "expression":
            return self.term([node])
        kids = node.children
        if len(kids) != 1 or kids[0].type == "comment":  # most expressions are one term: nothing to filter
            kids = self.kids(node)
        if len(kids) == 1 and kids[0].type == "conditional":
            return self.conditional(kids[0])
        return self.term(kids)

    def term(self, kids: list) -> Expr:
        if not kids:
            raise _Unsupported(None, "empty expression")
        first = kids[0]
        if first.type == "(":
            inner = next((k for k in kids if k.type == "expression"), None)
            if inner is None:
                raise _Unsupported(first, "empty parentheses")
            base = self.expr(inner)
            if isinstance(base, Conditional):
                base.grouped = True
            close = next(i for i, k in enumerate(kids) if k.type == ")")
            rest = kids[close + 1:]
        else:
            base = self.primary(first)
            rest = kids[1:]
        if not rest:
            return base
        steps = [self.step(k) for k in rest]
        if isinstance(base, Traversal):
            return Traversal(base.line, base.column, base.source, base.steps + steps)
        return Traversal(base.line, base.column, base, steps)

    def step(self, node: Any) -> Any:
        kind = node.type
        line, column = self.pos(node)
        if kind == "get_attr":
            ident = next(k for k in node.children if k.type == "identifier")
            return GetAttr(self.text(ident), line, column)
        if kind == "index":
            inner = node.children[0]
            if inner.type == "new_index":
                key = next(k for k in inner.children if k.type == "expression")
                return Index(self.expr(key), line, column)
            digits = self.text(inner).lstrip(".").strip()
            return Index(Literal(line, column + 1, int(digits)), line, column)
        if kind == "splat":
            inner = node.children[0]
            steps = [self.step(k) for k in inner.children if k.type in ("get_attr", "index")]
            return Splat(steps, inner.type == "full_splat", line, column)
        raise _Unsupported(node, f"unexpected {kind!r}")

    def primary(self, node: Any) -> Expr:
        kind = node.type
        if kind == "literal_value":  # these place themselves (at the same position)
            return self.literal(node.children[0])
        if kind == "template_expr":
            inner = node.children[0]
            return self.heredoc(inner) if inner.type == "heredoc_template" else self.quoted(inner)
        line, column = self.pos(node)
        if kind == "variable_expr":
            return Variable(line, column, self.text(node.children[0]))
        if kind in ("quoted_template", "heredoc_template"):
            return self.heredoc(node) if kind == "heredoc_template" else self.quoted(node)
        if kind == "string_lit":
            return Literal(line, column, self.string_lit(node))
        if kind == "collection_value":
            inner = node.children[0]
            return self.object(inner) if inner.type == "object" else self.tuple(inner)
        if kind == "function_call":
            return self.call(node)
        if kind == "for_expr":
            return self.for_expr(node.children[0])
        if kind == "operation":
            return self.operation(node.children[0])
        if kind in ("binary_operation", "unary_operation"):
            return self.operation(node)
        if kind == "conditional":
            return self.conditional(node)
        if kind == "expression":
            return self.expr(node)
        raise _Unsupported(node, f"unexpected {kind!r}")

    def literal(self, node: Any) -> Expr:
        line, column = self.pos(node)
        kind = node.type
        if kind == "numeric_lit":
            text = self.text(node)
            try:
                if text.lower().startswith("0x"):
                    return Literal(line, column, int(text, 16))
                number = float(text)
            except ValueError:
                raise _Unsupported(node, f"invalid number {text!r}") from None
            return Literal(line, column, int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else _num(number))
        if kind == "bool_lit":
            return Literal(line, column, self.text(node) == "true")
        if kind == "null_lit":
            return Literal(line, column, None)
        if kind == "string_lit":
            return Literal(line, column, self.string_lit(node))
        raise _Unsupported(node, f"unexpected literal {kind!r}")

    def string_lit(self, node: Any) -> str:
        kids = node.children
        raw = self.src[kids[0].end_byte:kids[-1].start_byte].decode("utf-8", "replace")
        return self.unescaped(raw, kids[0].end_byte) if ("\\" in raw or "$${" in raw or "%%{" in raw) else raw

    def unescaped(self, raw: str, start: int) -> str:
        """``raw`` (the text at byte ``start``) with its escapes decoded; a bad one is located."""
        try:
            return _ESCAPE.sub(_unescape, raw)
        except _BadEscape as exc:
            offset = start + len(raw[:raw.index(exc.escape)].encode("utf-8"))
            line = self.src.count(b"\n", 0, offset) + 1
            line_start = self.src.rfind(b"\n", 0, offset) + 1
            exc.line, exc.column = line, len(self.src[line_start:offset].decode("utf-8", "replace")) + 1
            raise

    # -- templates -------------------------------------------------------------

    def quoted(self, node: Any) -> Expr:
        line, column = self.pos(node)
        kids = node.children
        parts = self.parts(kids[1:-1], kids[0].end_byte, kids[-1].start_byte, True)
        return _template(line, column, parts)

    def heredoc(self, node: Any) -> Expr:
        line, column = self.pos(node)
        kids = self.kids(node)
        idents = [k for k in kids if k.type == "heredoc_identifier"]
        indent = self.text(kids[0]).strip() == "<<-"
        open_id = idents[0]
        newline = self.src.find(b"\n", open_id.end_byte)
        low = len(self.src) if newline < 0 else newline + 1
        if len(idents) > 1:
            high = self.src.rfind(b"\n", 0, idents[-1].start_byte) + 1
            high = max(high, low)
        else:  # pragma: no cover - tree-sitter reports a MISSING node
            high = node.end_byte
        inner = [k for k in kids if k.type in ("template_interpolation", "template_directive")]
        parts = self.parts(inner, low, high, False)
        if indent:
            _dedent(parts)
            parts = [p for p in parts if p != ""]
        return _template(line, column, parts)

    def parts(self, children: list, low: int, high: int, quoted: bool) -> list:
        out: list = []
        cursor = low
        for child in children:
            kind = child.type
            if kind not in ("template_interpolation", "template_directive"):
                continue
            if child.start_byte > cursor:
                out.append(self.chunk(cursor, child.start_byte, quoted))
            if kind == "template_interpolation":
                out.extend(self.interpolation(child))
            else:
                out.extend(self.directive(child.children[0], quoted))
            cursor = child.end_byte
        if high > cursor:
            out.append(self.chunk(cursor, high, quoted))
        return _apply_strips(out)

    def chunk(self, low: int, high: int, quoted: bool) -> str:
        raw = self.src[low:high].decode("utf-8", "replace")
        if quoted:
            return self.unescaped(raw, low) if ("\\" in raw or "$${" in raw or "%%{" in raw) else raw
        return raw.replace("$${", "${").replace("%%{", "%{")

    @staticmethod
    def strips(node: Any) -> tuple[bool, bool]:
        """Whether ``node`` (``${~ x ~}``, ``%{~ if c ~}``...) strips whitespace before / after itself."""
        kids = node.children
        lead = len(kids) > 2 and kids[1].type == "strip_marker"
        trail = len(kids) > 3 and kids[-2].type == "strip_marker"
        return lead, trail

    def interpolation(self, node: Any) -> list:
        expr_node = next((k for k in node.children if k.type == "expression"), None)
        if expr_node is None:
            raise _Unsupported(node, "empty interpolation")
        lead, trail = self.strips(node)
        out: list = [_STRIP_BEFORE] if lead else []
        out.append(Interp(self.expr(expr_node), self.text(expr_node)))
        if trail:
            out.append(_STRIP_AFTER)
        return out

    def directive(self, node: Any, quoted: bool) -> list:
        kids = self.kids(node)
        intro, end = kids[0], kids[-1]
        intro_lead, intro_trail = self.strips(intro)
        end_lead, end_trail = self.strips(end)
        if node.type == "template_if":
            cond = self.expr(next(k for k in intro.children if k.type == "expression"))
            split = next((i for i, k in enumerate(kids) if k.type == "template_else_intro"), None)
            if split is None:
                then = self.parts(kids[1:-1], intro.end_byte, end.start_byte, quoted)
                then = _apply_strips(([_STRIP_AFTER] if intro_trail else []) + then + ([_STRIP_BEFORE] if end_lead else []))
                other: list = []
            else:
                middle = kids[split]
                else_lead, else_trail = self.strips(middle)
                then = self.parts(kids[1:split], intro.end_byte, middle.start_byte, quoted)
                then = _apply_strips(([_STRIP_AFTER] if intro_trail else []) + then + ([_STRIP_BEFORE] if else_lead else []))
                other = self.parts(kids[split + 1:-1], middle.end_byte, end.start_byte, quoted)
                other = _apply_strips(([_STRIP_AFTER] if else_trail else []) + other + ([_STRIP_BEFORE] if end_lead else []))
            part: Any = TemplateIf(cond, then, other)
        elif node.type == "template_for":
            names = [self.text(k) for k in intro.children if k.type == "identifier"]
            collection = self.expr(next(k for k in intro.children if k.type == "expression"))
            body = self.parts(kids[1:-1], intro.end_byte, end.start_byte, quoted)
            body = _apply_strips(([_STRIP_AFTER] if intro_trail else []) + body + ([_STRIP_BEFORE] if end_lead else []))
            key_var, value_var = (names[0], names[1]) if len(names) > 1 else (None, names[0])
            part = TemplateFor(key_var, value_var, collection, body)
        else:
            raise _Unsupported(node, f"unexpected template directive {node.type!r}")
        return ([_STRIP_BEFORE] if intro_lead else []) + [part] + ([_STRIP_AFTER] if end_trail else [])

    # -- collections, calls, operators -----------------------------------------

    def tuple(self, node: Any) -> Expr:
        line, column = self.pos(node)
        return TupleExpr(line, column, [self.expr(k) for k in node.children if k.type == "expression"])

    def object(self, node: Any) -> Expr:
        line, column = self.pos(node)
        items = []
        for elem in node.children:
            if elem.type != "object_elem":
                continue
            exprs = [k for k in elem.children if k.type == "expression"]
            key_node, value_node = exprs[0], exprs[-1]
            key_kids = self.kids(key_node)
            if len(key_kids) == 1 and key_kids[0].type == "variable_expr":
                kline, kcolumn = self.pos(key_kids[0])
                key: Expr = Literal(kline, kcolumn, self.text(key_kids[0]))
            else:
                key = self.expr(key_node)
            items.append((key, self.expr(value_node)))
        return ObjectExpr(line, column, items)

    def call(self, node: Any) -> Expr:
        line, column = self.pos(node)
        kids = node.children
        name = self.text(kids[0])
        args: list = []
        expand = False
        for child in kids:
            if child.type == "function_arguments":
                for arg in child.children:
                    if arg.type == "expression":
                        args.append(self.expr(arg))
                    elif arg.type == "ellipsis":
                        expand = True
        return Call(line, column, name, args, expand)

    def for_expr(self, node: Any) -> Expr:
        line, column = self.pos(node)
        kids = self.kids(node)
        intro = next(k for k in kids if k.type == "for_intro")
        names = [self.text(k) for k in intro.children if k.type == "identifier"]
        collection = self.expr(next(k for k in intro.children if k.type == "expression"))
        key_var, value_var = (names[0], names[1]) if len(names) > 1 else (None, names[0])
        exprs = [k for k in kids if k.type == "expression"]
        cond_node = next((k for k in kids if k.type == "for_cond"), None)
        cond = None
        if cond_node is not None:
            cond = self.expr(next(k for k in cond_node.children if k.type == "expression"))
        if node.type == "for_object_expr":
            grouping = any(k.type == "ellipsis" for k in kids)
            return ForExpr(line, column, key_var, value_var, collection, self.expr(exprs[0]), self.expr(exprs[1]), cond, grouping)
        return ForExpr(line, column, key_var, value_var, collection, None, self.expr(exprs[0]), cond)

    def conditional(self, node: Any) -> Expr:
        line, column = self.pos(node)
        exprs = [k for k in node.children if k.type == "expression"]
        if len(exprs) != 3:
            raise _Unsupported(node, "incomplete conditional")
        cond, then, other = self.expr(exprs[0]), self.expr(exprs[1]), self.expr(exprs[2])
        if isinstance(cond, Conditional) and not cond.grouped:
            # tree-sitter-hcl reads `a ? b : c ? d : e` as `(a ? b : c) ? d : e`; HCL means
            # `a ? b : (c ? d : e)`: hang the outer branches on the innermost else.
            inner = cond
            while isinstance(inner.other, Conditional) and not inner.other.grouped:
                inner = inner.other
            last = inner.other
            inner.other = Conditional(last.line, last.column, last, then, other)
            return cond
        return Conditional(line, column, cond, then, other)

    def operation(self, node: Any) -> Expr:
        line, column = self.pos(node)
        kids = self.kids(node)
        if node.type == "unary_operation":
            return Unary(line, column, kids[0].type, self.term(kids[1:]))
        split = next((i for i, k in enumerate(kids) if not k.is_named and k.type in _BINARY_OPS), None)
        if split is None:
            raise _Unsupported(node, "operator not found")
        return Binary(line, column, kids[split].type, self.term(kids[:split]), self.term(kids[split + 1:]))


def _num(value: float) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**63 else value


def _template(line: int, column: int, parts: list) -> Expr:
    if not parts:
        return Literal(line, column, "")
    if len(parts) == 1 and isinstance(parts[0], str):
        return Literal(line, column, parts[0])
    return Template(line, column, parts)


def _apply_strips(items: list) -> list:
    if not any(item is _STRIP_BEFORE or item is _STRIP_AFTER for item in items):
        return items
    items = list(items)
    for i, item in enumerate(items):
        if item is _STRIP_BEFORE:
            j = i - 1
            while j >= 0 and (items[j] is _STRIP_BEFORE or items[j] is _STRIP_AFTER):
                j -= 1
            if j >= 0 and isinstance(items[j], str):
                items[j] = items[j].rstrip()
        elif item is _STRIP_AFTER:
            j = i + 1
            while j < len(items) and (items[j] is _STRIP_BEFORE or items[j] is _STRIP_AFTER):
                j += 1
            if j < len(items) and isinstance(items[j], str):
                items[j] = items[j].lstrip()
    # the sentinels of nested directives belong to the enclosing list: keep them there
    return [item for item in items if item is not _STRIP_BEFORE and item is not _STRIP_AFTER and item != ""]


def _dedent(parts: list) -> None:
    """Remove the common indentation of a ``<<-`` heredoc (top-level literals only)."""
    indents: list[int] = []
    at_start = True
    for i, part in enumerate(parts):
        if not isinstance(part, str):
            if at_start:
                indents.append(0)
            at_start = False
            continue
        segments = part.split("\n")
        for j, segment in enumerate(segments):
            if j == 0 and not at_start:
                continue
            last = j == len(segments) - 1
            stripped = segment.lstrip(" \t")
            if stripped.strip("\r"):
                indents.append(len(segment) - len(stripped))
            elif last and i + 1 < len(parts):  # indentation before an interpolation
                indents.append(len(segment))
        at_start = part.endswith("\n")
    if not indents:
        return
    cut = min(indents)
    if cut == 0:
        return
    at_start = True
    for i, part in enumerate(parts):
        if not isinstance(part, str):
            at_start = False
            continue
        segments = part.split("\n")
        for j, segment in enumerate(segments):
            if j == 0 and not at_start:
                continue
            width = len(segment) - len(segment.lstrip(" \t"))
            segments[j] = segment[min(width, cut):]
        parts[i] = "\n".join(segments)
        at_start = part.endswith("\n")


def _first_error(node: Any) -> Any:
    """The first ERROR or MISSING node in document order."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error or current.is_missing:
            return current
        stack.extend(reversed([child for child in current.children if child.has_error or child.is_missing]))
    return None


_MISSING_TOKENS = {
    "quoted_template_end": '"', "quoted_template_start": '"', "tuple_end": "]", "tuple_start": "[",
    "object_end": "}", "object_start": "{", "block_end": "}", "block_start": "{",
    "template_interpolation_end": "}", "template_directive_end": "}", "heredoc_identifier": "heredoc end marker",
}


def _error_message(node: Any, converter: _Converter) -> str:
    if node.is_missing:
        token = _MISSING_TOKENS.get(node.type, node.type)
        return f"syntax error: missing {token!r}"
    snippet = converter.text(node).strip().splitlines()
    text = snippet[0][:40] if snippet else ""
    return f"syntax error: unexpected {text!r}" if text else "syntax error"


def parse(text: str | bytes) -> ParsedFile:
    """Parse one .tf (or .tfvars) file."""
    if isinstance(text, str):
        src = text.encode("utf-8")
    else:
        src = text
    if src.startswith(b"\xef\xbb\xbf"):
        src = src[3:]
    ascii_only = src.isascii()
    tree = _parser().parse(_exponents_as_digits(src))
    root = tree.root_node
    converter = _Converter(src, ascii_only)
    if root.has_error:
        bad = _first_error(root) or root
        line, column = converter.pos(bad)
        return ParsedFile(Body(), Problem(_error_message(bad, converter), line, column))
    body_node = next((child for child in root.children if child.type == "body"), None)
    if body_node is None and any(child.type == "object" for child in root.children):
        return ParsedFile(Body(), Problem("a JSON object is not HCL native syntax"))
    try:
        body = converter.body(body_node)
    except _Unsupported as exc:
        line, column = converter.pos(exc.node) if exc.node is not None else (1, 1)
        return ParsedFile(Body(), Problem(f"unsupported syntax: {exc.what}", line, column))
    except _BadEscape as exc:
        return ParsedFile(Body(), Problem(f"invalid escape sequence {exc.escape}: not a Unicode character", exc.line, exc.column))
    except RecursionError:
        return ParsedFile(Body(), Problem("expressions are nested too deeply"))
    return ParsedFile(body, None, converter.problems)


# An exponent without a fraction (1e5, 1E+5): valid HCL that the tree-sitter grammar does not read.
_BARE_EXPONENT = re.compile(rb"(?<![\w.])[0-9]+[eE][+-]?[0-9]+(?![\w.])")


def _exponents_as_digits(src: bytes) -> bytes:
    """``src`` with each ``1e5`` replaced by as many digits (``000``) for tree-sitter only.

    The converter reads every token's text from the original ``src`` (the number is then read
    as ``1e5``), and the lengths are equal, so every position stays right. Inside strings and
    comments the substitution changes nothing the converter sees.
    """
    if b"e" not in src and b"E" not in src:
        return src
    return _BARE_EXPONENT.sub(lambda m: b"0" * len(m.group(0)), src)


def parse_expression(text: str) -> Expr | None:
    """One expression (a ``-var`` value), or None when ``text`` is not a valid expression."""
    parsed = parse("v = " + text + "\n")
    if parsed.error or len(parsed.body.items) != 1 or not isinstance(parsed.body.items[0], Attribute):
        return None
    return parsed.body.items[0].expr
