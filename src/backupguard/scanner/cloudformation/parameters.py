"""Read a ``--parameters-file``: the values a deployment gives a template's parameters.

Two shapes are accepted: the AWS CLI's ``[{"ParameterKey": ..., "ParameterValue": ...}]``
(``aws cloudformation create-stack --parameters file://...``) and a plain
``{"Name": value}`` object. The file is UTF-8 (with or without BOM) or UTF-16
with a BOM, as Windows tools write it. Values are returned as the text AWS
receives: CloudFormation parameter values are strings, so ``{"Days": "1e999"}``
stays ``"1e999"`` and is judged where it is used (a ``DeleteAfterDays`` refuses it).

Anything else (nesting, a non-scalar value, a number too long to be one) is a
:class:`TemplateError` naming the line, never a traceback.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

from backupguard.scanner.cloudformation.loader import MAX_NUMBER_CHARS, TemplateError

MAX_PARAMETERS_FILE_BYTES = 1024 * 1024
"""A parameters file is a few hundred bytes; CloudFormation allows 200 parameters of 4 KB each."""

_MAX_NESTING = 4
"""The deepest a valid file nests (a list of objects): deeper input is refused before json parses it."""


def read_parameters_file(path: Path) -> dict[str, str]:
    """The parameter values in ``path``; raises :class:`TemplateError` (with the line) for a bad file."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PARAMETERS_FILE_BYTES + 1)
    except OSError as exc:
        raise TemplateError(f"cannot read parameters file: {exc.strerror or exc}") from None
    if len(data) > MAX_PARAMETERS_FILE_BYTES:
        raise TemplateError(f"parameters file is larger than {MAX_PARAMETERS_FILE_BYTES // 1024} KiB")
    return parse_parameters(_decode(data))


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), or UTF-16 with a BOM."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TemplateError("parameters file is not UTF-8 or UTF-16 (with a BOM) text", line) from None


def parse_parameters(text: str) -> dict[str, str]:
    """Parameter values from the text of a parameters file (see the module docstring)."""
    _check_nesting(text)
    try:
        data = json.loads(text, parse_int=_bounded_number, parse_float=_bounded_number,
                          parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"parameters file is not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    if isinstance(data, dict):
        return {str(key): _scalar(value, str(key), text) for key, value in data.items()}
    if isinstance(data, list):
        return dict(_cli_entry(entry, index, text) for index, entry in enumerate(data))
    raise TemplateError("parameters file must hold an object or a list of ParameterKey/ParameterValue objects")


class _Number(str):
    """A JSON number kept as the text it was written as (AWS receives parameter values as text)."""


def _bounded_number(text: str) -> _Number:
    if len(text) > MAX_NUMBER_CHARS:
        raise TemplateError(f"parameters file: a number of {len(text)} characters is too long (at most {MAX_NUMBER_CHARS})")
    return _Number(text)


def _refuse_constant(name: str) -> Any:
    raise TemplateError(f"parameters file: {name} is not JSON")


def _check_nesting(text: str) -> None:
    """Refuse deep nesting up front (json recurses per level, and a valid file nests at most twice)."""
    depth, in_string, escaped, line = 0, False, False, 1
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > _MAX_NESTING:
                raise TemplateError(f"parameters file nests deeper than {_MAX_NESTING} levels", line)
        elif char in "]}":
            depth -= 1


def _scalar(value: Any, name: str, text: str) -> str:
    """A parameter value as CloudFormation receives it: text (lists of values are comma-joined)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, str) and not isinstance(item, bool) for item in value):
        return ",".join(value)  # a CommaDelimitedList given as a list
    what = "null" if value is None else "a list" if isinstance(value, list) else "an object"
    raise TemplateError(f"parameters file: the value of '{name}' is {what}, not text or a number", _line_of(text, name))


def _cli_entry(entry: Any, index: int, text: str) -> tuple[str, str]:
    if not isinstance(entry, dict) or not isinstance(entry.get("ParameterKey"), str):
        raise TemplateError(f"parameters file: entry {index + 1} is not a {{\"ParameterKey\", \"ParameterValue\"}} object")
    key = entry["ParameterKey"]
    if "ParameterValue" not in entry:
        raise TemplateError(f"parameters file: '{key}' has no ParameterValue (UsePreviousValue needs a deployed stack)",
                            _line_of(text, key))
    return key, _scalar(entry["ParameterValue"], key, text)


def _line_of(text: str, name: str) -> int:
    """The line where ``"name"`` first appears (json does not keep positions of values)."""
    found = text.find(json.dumps(name))
    return text.count("\n", 0, found) + 1 if found >= 0 else 1
