"""Values as sources hand them over, made ready for the Estate: coercion and property blocks.

Shared by the CloudFormation and Terraform sources. Numbers may arrive as
strings ("35"), booleans as "true"; a value of the wrong kind becomes
:class:`Unknown` with the reason rather than a silent default, and a block the
inputs do not determine (``Fn::If``, ``dynamic``) reads as a block whose every
field is unknown.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from backupguard.estate import Attribute, Attributes, Origin, Reference, Unknown, whole_number
from backupguard.scanner.cloudformation.loader import LineDict, LineList


class Rejected(Exception):
    """A value the service would refuse (AWS rejects the template or policy that holds it).

    It is a located error for the entity that holds it, never a guess: a
    ``DeleteAfterDays`` of ``1e999`` is not "keep forever", and a ``null`` rule
    is not a rule without a lifecycle.
    """

    def __init__(self, message: str, origin: Origin | None = None):
        super().__init__(message)
        self.message = message
        self.origin = origin


def strict_int(value: Any, what: str) -> Any:
    """A whole number as AWS parses it (:func:`~backupguard.estate.whole_number`); raises :class:`Rejected`.

    ``None`` (not set) stays None; an undetermined value stays :class:`Unknown`
    (its possible values coerced, a rejected one making it a plain Unknown).
    """
    if isinstance(value, Unknown):
        return value.map(lambda candidate: as_int(candidate, what))
    if value is None:
        return None
    if isinstance(value, Reference):
        return Unknown(f"{what} is '{value}', known only after deployment")
    try:
        return whole_number(value)
    except ValueError as exc:
        raise Rejected(f"{what}: {exc}") from None


def as_int(value: Any, what: str) -> Any:
    """:func:`strict_int`, with a rejected value read as Unknown (the reason says AWS refuses it).

    For callers that cannot report a located error: a refused value then
    decides nothing, rather than passing as a number.
    """
    try:
        return strict_int(value, what)
    except Rejected as exc:
        return Unknown(f"{exc.message}; AWS rejects it")


def strict_bool(value: Any, what: str) -> Any:
    """``true``/``false`` (booleans, or text in any case, as CloudFormation takes them); raises :class:`Rejected`."""
    if isinstance(value, Unknown):
        return value.map(lambda candidate: as_bool(candidate, what))
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip(" \t\r\n").lower() in ("true", "false"):
        return value.strip(" \t\r\n").lower() == "true"
    if isinstance(value, Reference):
        return Unknown(f"{what} is '{value}', known only after deployment")
    raise Rejected(f"{what}: {_short(value)} is not a boolean")


def as_bool(value: Any, what: str) -> Any:
    """:func:`strict_bool`, with a rejected value read as Unknown."""
    try:
        return strict_bool(value, what)
    except Rejected as exc:
        return Unknown(f"{exc.message}; AWS rejects it")


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**limit else "a huge number"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind_of(value: Any) -> str:
    """How a wrong value is named in a message (its JSON kind, not Python's)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def located(origin: Origin, container: Any, key: Any, read: Callable[[Any, str], Any], what: str | None = None) -> Any:
    """``read(container[key], what)`` with a :class:`Rejected` value located at the key."""
    try:
        return read(container.get(key) if isinstance(container, dict) else None, what or str(key))
    except Rejected as exc:
        raise Rejected(exc.message, exc.origin or at(origin, container, key)) from None


def object_at(origin: Origin, container: Any, key: str, absent: Any = None) -> Any:
    """A property that must be an object: the block, ``absent`` when not set, :class:`Rejected` otherwise.

    (An undetermined block is an empty :class:`UnknownBlock`, which is falsy: test for ``absent``, not truth.)
    """
    value = container.get(key) if isinstance(container, dict) else None
    if value is None:
        return absent
    if isinstance(value, (LineDict, Unknown)):
        return block(value)
    if isinstance(value, dict):
        return LineDict(value, line=origin.line or 1, column=origin.column or 1)
    raise Rejected(f"{key} must be an object, not {kind_of(value)}", at(origin, container, key))


def objects_at(origin: Origin, container: Any, key: str) -> list[tuple[LineDict, Origin]]:
    """A property that must be a list of objects, each with its origin; :class:`Rejected` otherwise.

    An undetermined list (``Fn::If``) reads as :func:`items` does; a null or a
    scalar element is refused rather than read as an empty object.
    """
    value = container.get(key) if isinstance(container, dict) else None
    if value is None:
        return []
    if isinstance(value, Unknown):
        return [(block(element), at(origin, container, key)) for element in items(value)]
    if not isinstance(value, list):
        raise Rejected(f"{key} must be a list, not {kind_of(value)}", at(origin, container, key))
    found = []
    for index, element in enumerate(value):
        where = origin.at(*value.pos(index)) if isinstance(value, LineList) else at(origin, container, key)
        if not isinstance(element, (dict, Unknown)):
            raise Rejected(f"{key} item {index + 1} must be an object, not {kind_of(element)}", where)
        found.append((block(element) if not isinstance(element, dict) or isinstance(element, LineDict)
                      else LineDict(element, line=where.line or 1, column=where.column or 1), where))
    return found


def strings_at(origin: Origin, container: Any, key: str) -> Any:
    """A property that must be a list of strings (``Resources``, ``NotResources``); :class:`Rejected` otherwise.

    Absent is an empty list; an undetermined list or element stays :class:`Unknown`,
    a reference stays a reference (an ARN known after deployment).
    """
    value = container.get(key) if isinstance(container, dict) else None
    if value is None:
        return []
    if isinstance(value, Unknown):
        return value
    if not isinstance(value, list):
        raise Rejected(f"{key} must be a list of strings, not {kind_of(value)}", at(origin, container, key))
    for index, element in enumerate(value):
        if not isinstance(element, (str, Unknown, Reference)):
            where = origin.at(*value.pos(index)) if isinstance(value, LineList) else at(origin, container, key)
            raise Rejected(f"{key} item {index + 1} must be a string, not {kind_of(element)}", where)
    return value


def as_str(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def as_json(value: Any, what: str) -> Any:
    """A policy document given as an object or as a JSON string.

    Text that is not valid JSON stays text: it is a defect of the template
    (AWS rejects it), which the rules that read the document report.
    """
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(value, Unknown) and value.text is not None and not value.candidates:
        # Partly known text (jsonencode or Fn::Sub of a document with an unknown ARN in it): the
        # document's structure is known, and only the values holding a placeholder stay unknown.
        try:
            document = json.loads(value.text)
        except json.JSONDecodeError:
            return value
        return _unknown_placeholders(document, value)
    return value


def _unknown_placeholders(value: Any, cause: Unknown) -> Any:
    if isinstance(value, str) and "${" in value:
        return Unknown(cause.reason, cause.refs, text=value)
    if isinstance(value, dict):
        return {key: _unknown_placeholders(item, cause) for key, item in value.items()}
    if isinstance(value, list):
        return [_unknown_placeholders(item, cause) for item in value]
    return value


def tags_of(value: Any) -> Any:
    """Tags as a ``{key: value}`` dict, from a CFN list of ``{Key, Value}`` or a map."""
    if value is None:
        return {}
    if isinstance(value, Unknown):
        return value
    if isinstance(value, dict):
        return {str(k): as_str(v) for k, v in value.items()}
    if isinstance(value, list):
        tags: dict[str, Any] = {}
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("Key"), str):
                tags[item["Key"]] = as_str(item.get("Value"))
            else:
                return Unknown("a tag key is known only at deploy time")
        return tags
    return Unknown("tags are not a list or map")


class UnknownBlock(LineDict):
    """A property block the inputs do not determine (``!If [Undecided, {...}, {...}]``).

    Every field read from it is the block's Unknown, so the entity built from it
    says "unknown" where a plain empty block would silently mean "not set".
    """

    __slots__ = ("unknown", "options")

    def __init__(self, unknown: Unknown):
        super().__init__()
        self.unknown = unknown
        # The blocks it can be (both branches of an Fn::If; None, from AWS::NoValue, is an empty block).
        options = tuple({} if c is None else c for c in unknown.candidates)
        self.options = options if all(isinstance(c, dict) for c in options) else ()

    def get(self, key: Any, default: Any = None) -> Any:
        if not self.options:
            return Unknown(self.unknown.reason, self.unknown.refs, (), self.unknown.may_be_absent)
        values = [option.get(key) for option in self.options]
        if all(value == values[0] for value in values):
            return values[0]  # every branch agrees on this field
        return Unknown(self.unknown.reason, self.unknown.refs, tuple(values), self.unknown.may_be_absent)

    def __contains__(self, key: object) -> bool:
        return any(key in option for option in self.options) if self.options else True

    def __getitem__(self, key: Any) -> Any:
        return self.get(key)


def block(value: Any) -> LineDict:
    if isinstance(value, Unknown):
        return UnknownBlock(value)
    return value if isinstance(value, LineDict) else LineDict()


def items(value: Any) -> list:
    """A list property (or repeated nested block).

    An undetermined one reads as one element whose every field is unknown. A
    Terraform ``dynamic`` block over an undetermined collection (whose Unknown
    carries ``known`` blocks and ``templates``, its content with the iterator
    unknown) reads as the known blocks plus its templates.
    """
    if isinstance(value, Unknown):
        known, templates = getattr(value, "known", None), getattr(value, "templates", None)
        if known is not None or templates:
            return list(known or []) + list(templates or [])
        return [UnknownBlock(value)]
    return value if isinstance(value, list) else []


def at(origin: Origin, container: Any, key: Any = None) -> Origin:
    """The origin moved to a key of a container (or the container itself)."""
    if isinstance(container, LineDict):
        line, column = container.pos(key) if key is not None else (container.line, container.column)
        return origin.at(line, column)
    return origin




def attribute(origin: Origin, container: Any, path: str, name: str | None = None) -> Attribute:
    """The attribute at a dotted ``path`` of ``container`` as the source writes it (a repeated nested
    block counts by its first item), named ``name`` (default: the path).

    It is positioned at the last key of the path where the whole path is written, or at the
    outermost key whose value is undetermined (a block from ``Fn::If`` or an unknown ``dynamic``
    decides every field inside it); otherwise it has no position, so a result about it stays at
    the block that leaves it out. Only recorded key positions count: a container's own position
    is never taken for its key's.
    """
    position: tuple[int, int] | None = None
    current = container
    for key in path.split("."):
        if isinstance(current, list) and not isinstance(current, Unknown):
            current = current[0] if current else None
        if isinstance(current, Unknown) or (isinstance(current, LineDict) and getattr(current, "unknown", None)):
            break  # an undetermined block: the key that holds it is where the value is decided
        if not isinstance(current, LineDict) or key not in current or key not in current.key_pos:
            position = None
            break
        position, current = current.key_pos[key], current[key]
    return Attribute(name or path, origin.at(*position) if position else None)


def attributes_of(origin: Origin, container: Any, paths: dict[str, str]) -> Attributes:
    """:func:`attribute` for each ``{key: path}``: an entity's attributes under the model's keys."""
    return {key: attribute(origin, container, path) for key, path in paths.items()}


def spec_attributes(origin: Origin, container: Any, spec: dict[str, tuple[str, Any]]) -> Attributes:
    """The attributes of a ``{property: (settings key, coerce)}`` table's settings, written or not."""
    return {key: attribute(origin, container, prop) for prop, (key, _) in spec.items()}


def named(names: dict[str, str]) -> Attributes:
    """Attributes known by name only (``{key: name}``): a source without positions, or a setting that
    is decided elsewhere (a Terraform resource that configures this one)."""
    return {key: Attribute(name) for key, name in names.items()}
