"""Values as sources hand them over, made ready for the Estate: coercion and property blocks.

Shared by the CloudFormation and Terraform sources. Numbers may arrive as
strings ("35"), booleans as "true"; a value of the wrong kind becomes
:class:`Unknown` with the reason rather than a silent default, and a block the
inputs do not determine (``Fn::If``, ``dynamic``) reads as a block whose every
field is unknown.
"""

from __future__ import annotations

import json
from typing import Any

from backupguard.estate import Origin, Reference, Unknown
from backupguard.scanner.cloudformation.loader import LineDict


def as_int(value: Any, what: str) -> Any:
    """CloudFormation accepts numbers as strings; anything else is Unknown, not a guess."""
    if isinstance(value, Unknown):
        return value.map(lambda candidate: as_int(candidate, what))
    if value is None or isinstance(value, Reference):
        return value if value is None else Unknown(f"{what} is '{value}', known only after deployment")
    if isinstance(value, bool):
        return Unknown(f"{what} is a boolean, not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            return float(str(value).strip())
        except ValueError:
            return Unknown(f"{what} {value!r} is not a number")


def as_bool(value: Any, what: str) -> Any:
    if isinstance(value, Unknown):
        return value.map(lambda candidate: as_bool(candidate, what))
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, Reference):
        return Unknown(f"{what} is '{value}', known only after deployment")
    return Unknown(f"{what} {value!r} is not a boolean")


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


