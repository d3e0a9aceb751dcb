"""Read CloudFormation JSON or YAML into plain data that remembers where each piece was.

PyYAML's C loader does the parsing (measured: a 5,000-line template in ~0.1 s);
this module only adds what CloudFormation needs on top:

* every mapping is a :class:`LineDict` that knows its own line and column and
  those of each key, and every list a :class:`LineList`;
* duplicate keys are an error (PyYAML would silently keep the last one);
* short-form intrinsics (``!Ref``, ``!Sub``, ``!GetAtt A.B`` ...) become their
  long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``, ``{"Fn::GetAtt": [A, B]}``);
* YAML timestamps stay strings (``Version: 2012-10-17``);
* YAML aliases are refused: CloudFormation does not support them, and refusing
  them removes the "billion laughs" expansion attack.

JSON goes through the same YAML loader (JSON is YAML flow syntax) so that it
gets the same positions; the rare JSON file libyaml cannot read falls back to
the standard ``json`` module without positions.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

try:  # libyaml ships in PyYAML's wheels; the pure-Python loader is ~6x slower
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader  # type: ignore[misc,assignment]


# The longest number text accepted: a 64-bit Long has 19 digits, and Python's int() of a text
# over 4,300 digits raises rather than answers (sys.get_int_max_str_digits).
MAX_NUMBER_CHARS = 64


class TemplateError(Exception):
    """A file that is not well-formed YAML/JSON, with the 1-based position of the problem."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class LineDict(dict):
    """A mapping with the position of itself (``line``, ``column``) and of each key."""

    __slots__ = ("line", "column", "key_pos")

    def __init__(self, *args: Any, line: int = 1, column: int = 1, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.line = line
        self.column = column
        self.key_pos: dict[Any, tuple[int, int]] = {}

    def pos(self, key: Any) -> tuple[int, int]:
        """Line and column of ``key``; the mapping's own position if the key is absent."""
        return self.key_pos.get(key, (self.line, self.column))

    def like(self, items: Any = ()) -> "LineDict":
        """A new LineDict with this one's positions (used when values are rewritten)."""
        new = LineDict(items, line=self.line, column=self.column)
        new.key_pos = self.key_pos
        return new


class LineList(list):
    """A sequence with its own position and the position of each item."""

    __slots__ = ("line", "column", "item_pos")

    def __init__(self, *args: Any, line: int = 1, column: int = 1):
        super().__init__(*args)
        self.line = line
        self.column = column
        self.item_pos: list[tuple[int, int]] = []

    def pos(self, index: int) -> tuple[int, int]:
        if 0 <= index < len(self.item_pos):
            return self.item_pos[index]
        return (self.line, self.column)

    def like(self, items: Any = ()) -> "LineList":
        new = LineList(items, line=self.line, column=self.column)
        new.item_pos = self.item_pos
        return new


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_STR, _MAP, _SEQ = (f"tag:yaml.org,2002:{name}" for name in ("str", "map", "seq"))
# Scalar tags whose SafeConstructor returns a value at once (not a generator, as !!set or !!omap do).
_SIMPLE_SCALARS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool", "null", "timestamp"))


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A node's value. Strings, mappings, lists and plain scalars (nearly every node of a template)
        are built here directly, without PyYAML's bookkeeping for anchors and generator constructors,
        which a template never needs: :func:`load_text` refuses every alias before construction (the
        checks below are a second guard), so no node is reached twice."""
        cls, tag = node.__class__, node.tag
        if cls is yaml.ScalarNode:
            if tag == _STR:
                return node.value
            if tag in _SIMPLE_SCALARS:
                return self.yaml_constructors[tag](self, node)
        elif cls is yaml.MappingNode:
            if tag == _MAP:
                return self.construct_line_mapping(node)
        elif tag == _SEQ:
            return self.construct_line_sequence(node)
        if node in self.constructed_objects or node in self.recursive_objects:
            line, column = _mark(node)
            raise TemplateError(
                "YAML aliases (*name) are not supported by CloudFormation", line, column
            )
        return super().construct_object(node, deep=deep)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """The tag of a node without one: PyYAML's answer, remembered per scalar text for the file
        (a template repeats its keys and values: Type, Properties, Ref...)."""
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit[0])
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag

    def __init__(self, stream: Any) -> None:
        self._tags: dict[tuple[str, bool], str] = {}
        super().__init__(stream)

    def construct_line_mapping(self, node: yaml.MappingNode) -> LineDict:
        line, column = _mark(node)
        result = LineDict(line=line, column=column)
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise TemplateError(
                    "YAML merge keys (<<) are not supported by CloudFormation", *_mark(key_node)
                )
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.startswith("!"):
                raise TemplateError("mapping keys must be plain scalars", *_mark(key_node))
            # CloudFormation keys are strings: `123456789012:` in Mappings and `true:` stay
            # text, so they match a Ref'd account ID and are not confused with each other.
            key = key_node.value
            if key in result:
                first = result.key_pos[key][0]
                raise TemplateError(
                    f"duplicate key {key!r} (first defined on line {first})", *_mark(key_node)
                )
            result.key_pos[key] = _mark(key_node)
            result[key] = self.construct_object(value_node, deep=True)
        return result

    def construct_line_sequence(self, node: yaml.SequenceNode) -> LineList:
        line, column = _mark(node)
        result = LineList(line=line, column=column)
        for child in node.value:
            result.item_pos.append(_mark(child))
            result.append(self.construct_object(child, deep=True))
        return result

    def construct_intrinsic(self, tag_suffix: str, node: yaml.Node) -> LineDict:
        """``!Name value`` -> ``{"Fn::Name": value}`` (``Ref`` and ``Condition`` stay bare)."""
        name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
        if isinstance(node, yaml.ScalarNode):
            value: Any = self.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1) if "." in value else [value]
        elif isinstance(node, yaml.SequenceNode):
            value = self.construct_line_sequence(node)
        else:
            value = self.construct_line_mapping(node)
        line, column = _mark(node)
        result = LineDict({name: value}, line=line, column=column)
        result.key_pos[name] = (line, column)
        return result

    def construct_timestamp_as_string(self, node: yaml.ScalarNode) -> str:
        return self.construct_scalar(node)

    def construct_bounded_int(self, node: yaml.ScalarNode) -> int:
        """An integer, refused with its position when longer than any number a template needs.

        Python's int() raises on texts over 4,300 digits (and is slow well before);
        no CloudFormation or Organizations setting takes a number that long.
        """
        if len(node.value) > MAX_NUMBER_CHARS:
            raise TemplateError(f"a number of {len(node.value)} characters is too long (at most {MAX_NUMBER_CHARS})",
                                *_mark(node))
        return super().construct_yaml_int(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_line_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _Loader.construct_line_sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_timestamp_as_string)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_bounded_int)
_Loader.add_multi_constructor("!", _Loader.construct_intrinsic)


def _reject_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise TemplateError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_aliases(text: str) -> None:
    """Point at the first ``*alias`` (the constructor only sees the anchored node)."""
    for token in yaml.scan(text, Loader=_BaseLoader):
        if isinstance(token, yaml.AliasToken):
            line, column = token.start_mark.line + 1, token.start_mark.column + 1
            raise TemplateError("YAML aliases (*name) are not supported by CloudFormation", line, column)


# Characters JSON strings may hold raw but YAML refuses (DEL, C1 controls, U+FFFE/U+FFFF) or reads
# as line breaks (NEL, U+2028, U+2029: folded to a space, and counted as new lines).
_JSON_ONLY = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")
# A JSON escaped surrogate pair ("\ud83d\ude00", valid JSON) that YAML cannot read; an odd run of
# backslashes before it makes it an escape, an even one a literal text.
_SURROGATE_PAIR = re.compile(r"(?<!\\)((?:\\\\)*)\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)
# Private-use blocks to stand in for those characters while YAML reads the text (one not in the text is used).
_STAND_IN_BASES = (0xE000, 0xE100, 0xF0000, 0x100000)


def _yaml_ready_json(text: str) -> tuple[str, dict[int, int]]:
    """JSON text that YAML reads as JSON does, and the table that restores the stand-ins.

    Each raw character that JSON allows and YAML refuses becomes a private-use
    character of the same width (so lines and columns stay right), restored
    after parsing; an escaped surrogate pair becomes YAML's ``\\U`` escape.
    """
    if "\\u" in text:
        text = _SURROGATE_PAIR.sub(_pair_as_yaml, text)
    found = sorted(set(_JSON_ONLY.findall(text)))
    if not found:
        return text, {}
    used = set(text)
    base = next((b for b in _STAND_IN_BASES if not any(chr(b + i) in used for i in range(len(found)))), None)
    if base is None:  # pragma: no cover - every stand-in block in use: let YAML report the character
        return text, {}
    forward = {ord(char): base + index for index, char in enumerate(found)}
    return text.translate(forward), {stand_in: original for original, stand_in in forward.items()}


def _pair_as_yaml(match: re.Match[str]) -> str:
    high, low = int(match.group(2), 16), int(match.group(3), 16)
    return f"{match.group(1)}\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08X}"


def _restored(value: Any, table: dict[int, int]) -> Any:
    """Parsed data with the stand-ins of :func:`_yaml_ready_json` turned back into the original characters."""
    if isinstance(value, str):
        return value.translate(table)
    if isinstance(value, LineDict):
        out = LineDict(line=value.line, column=value.column)
        for key, item in value.items():
            new_key = _restored(key, table)
            out[new_key] = _restored(item, table)
            out.key_pos[new_key] = value.pos(key)
        return out
    if isinstance(value, LineList):
        return value.like(_restored(item, table) for item in value)
    return value


def _is_json(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith(("{", "["))


def load_text(text: str) -> Any:
    """Parse template text; raises :class:`TemplateError` with a position."""
    table: dict[int, int] = {}
    if _is_json(text):
        text, table = _yaml_ready_json(text)
    try:
        if "&" in text:  # an alias needs an anchor; only then is the token scan worth its cost
            _reject_aliases(text)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
        return _restored(data, table) if table else data
    except TemplateError:
        raise
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise TemplateError(f"character {char!r} is not allowed in YAML or JSON", line, column) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if text.lstrip().startswith("{") and "\t" in text:
            return _restored(_load_json_fallback(text, exc), table)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "not valid YAML or JSON"
        raise TemplateError(f"{problem}", line, column) from None
    except yaml.YAMLError as exc:
        raise TemplateError(str(exc).splitlines()[0]) from None
    except RecursionError:
        raise TemplateError("nesting is too deep to be a CloudFormation template") from None


def _load_json_fallback(text: str, yaml_error: Exception) -> Any:
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicate_pairs, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise TemplateError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise TemplateError("nesting is too deep to be a CloudFormation template") from None
    return _positionless(data)


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise TemplateError(f"a number of {len(text)} characters is too long (at most {MAX_NUMBER_CHARS})")
    return int(text)


def _positionless(value: Any) -> Any:
    """Wrap plain JSON data in LineDict/LineList (every position is line 1)."""
    if isinstance(value, dict):
        return LineDict({k: _positionless(v) for k, v in value.items()})
    if isinstance(value, list):
        return LineList(_positionless(v) for v in value)
    return value
