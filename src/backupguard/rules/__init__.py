"""The rule catalogue: YAML files validated against ``rule.schema.json``, compiled once.

A rule file is data a compliance engineer can read and change: thresholds are
typed parameters, the decision is a JMESPath expression over the facts the
resolver computed (JMESPath is what AWS users already know from ``--query``).
Every expression is compiled when the catalogue loads, not per resource.

The shipped catalogue is checked against the schema by the test suite
(``tests/test_catalogue_schema.py``), so a build cannot ship a file that breaks it;
at run time it is trusted, and ``jsonschema`` (~0.15 s to import and run) is
imported only for the user's own rule files (``--rules-dir``), which are always
validated. The checks the schema cannot express (JMESPath syntax, parameter
defaults, message placeholders) run on every file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_PACKAGE = "backupguard.rules"
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~5x faster


class CatalogueError(Exception):
    """A rule or framework file that is broken: names the file and the field (and, read from a
    file, the line: :func:`located` adds it)."""

    def __init__(self, message: str, *, source: str | None = None, path: tuple = (), detail: str | None = None):
        super().__init__(message)
        self.source, self.path, self.detail = source, tuple(path), detail


def field_error(source: str, path: tuple, detail: str) -> CatalogueError:
    """``<source>: field 'a/b': <detail>``; :func:`located` turns it into ``<source>:<line>: ...``."""
    shown = "/".join(str(p) for p in path) or "(top level)"
    text = f"field '{shown}': {detail}"
    return CatalogueError(f"{source}: {text}", source=source, path=path, detail=text)


def line_of(text: str, path: tuple) -> int | None:
    """The line of the YAML node at ``path`` (keys and list indexes), or of its deepest existing parent."""
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except (yaml.YAMLError, RecursionError):
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def located(exc: CatalogueError, text: str) -> CatalogueError:
    """The error with the line of the field it names (``file:line: field ...``), when it names one."""
    if exc.source is None or exc.detail is None:
        return exc
    line = line_of(text, exc.path)
    return exc if line is None else CatalogueError(f"{exc.source}:{line}: {exc.detail}")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: str
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple | None = None
    shown_when_empty: str | None = None  # a string_list's words in messages when it is empty ("any other Region")

    def coerce(self, raw: Any, where: str) -> Any:
        """Convert a user-given value (often a string from the command line) to this type."""
        try:
            value = _coerce(self.type, raw)
        except (TypeError, ValueError):
            raise CatalogueError(f"{where}: {raw!r} is not a valid {self.type} for parameter '{self.name}'") from None
        if self.minimum is not None and isinstance(value, (int, float)) and value < self.minimum:
            raise CatalogueError(f"{where}: parameter '{self.name}' must be at least {self.minimum:g}, got {value}")
        if self.maximum is not None and isinstance(value, (int, float)) and value > self.maximum:
            raise CatalogueError(f"{where}: parameter '{self.name}' must be at most {self.maximum:g}, got {value}")
        if self.enum is not None and value not in self.enum:
            raise CatalogueError(f"{where}: parameter '{self.name}' must be one of {list(self.enum)}, got {value!r}")
        return value


def _coerce(kind: str, raw: Any) -> Any:
    if kind == "integer":
        if isinstance(raw, bool):
            raise TypeError
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError
        return int(raw)
    if kind == "number":
        if isinstance(raw, bool):
            raise TypeError
        return float(raw) if not isinstance(raw, int) else raw
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("true", "false"):
            return str(raw).lower() == "true"
        raise ValueError
    if kind == "string_list":
        if isinstance(raw, str):
            return [item.strip() for item in raw.split(",") if item.strip()]
        if isinstance(raw, list):
            return [str(item) for item in raw]
        raise TypeError
    return str(raw)


@dataclass(frozen=True, slots=True)
class Rule:
    """One check of the catalogue, as its YAML file declares it (validated), with its expressions parsed."""

    id: str
    name: str
    title: str
    severity: str
    subject: str
    summary: str
    rationale: str
    remediation: str
    source_url: str
    parameters: dict[str, Parameter]
    inputs: dict[str, Any]  # name -> compiled JMESPath
    condition: Any
    condition_text: str
    messages: dict[str, str]
    examples: dict[str, str]
    references: dict[str, Any] = field(default_factory=dict)
    known_limits: str | None = None
    applies_if: Any = None
    applies_if_text: str | None = None
    each: Any = None
    each_label: str | None = None
    each_empty: str = "not_applicable"
    each_quantifier: str = "any"
    evidence: str = "any"
    file: str = ""
    # The facts each input reads (from its expression's tree): the attributes a message and a location use.
    input_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The inputs, applies_if, condition and each compiled into plain callables (rules.program), once,
    # when the rule is first evaluated (listing the catalogue compiles nothing).
    compiled: Any = field(default=None, compare=False, repr=False)

    @property
    def program(self) -> Any:
        if self.compiled is None:
            from backupguard.rules.program import compile_program

            object.__setattr__(self, "compiled", compile_program(self.inputs, self.condition, self.applies_if, self.each))
        return self.compiled

    def defaults(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.parameters.items()}

    def metadata(self) -> dict[str, Any]:
        """The rule as the JSON report and ``backupguard rules --format json`` show it."""
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "severity": self.severity,
            "subject": self.subject,
            "summary": self.summary,
            "rationale": self.rationale,
            "remediation": self.remediation,
            "source_url": self.source_url,
            "known_limits": self.known_limits,
            "examples": self.examples,
            "evidence": self.evidence,
            "references": self.references,
            "parameters": {
                name: {"type": p.type, "default": p.default, "description": p.description}
                for name, p in sorted(self.parameters.items())
            },
        }


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(rule_schema())


def rule_schema() -> dict[str, Any]:
    """``rule.schema.json``: what every rule file must look like."""
    return json.loads(Path(__file__).with_name("rule.schema.json").read_text("utf-8"))


def schema_errors(document: Any, validator: Any, source: str) -> None:
    """Raise a CatalogueError naming the file and the first offending field."""
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise field_error(source, tuple(first.absolute_path), first.message)


FIELDS_KEY = "bg_fields"


def annotate_fields(node: Any) -> set[str]:
    """Store on every AST node the field names it reads (``node[FIELDS_KEY]``).

    The engine uses them to see which unknown inputs can affect a
    sub-expression, without walking the tree again for every resource.
    """
    found: set[str] = set()
    if isinstance(node, dict):
        if node.get("type") == "field":
            found.add(node.get("value"))
        for child in node.get("children", []):
            found |= annotate_fields(child)
        node[FIELDS_KEY] = frozenset(found)
    elif isinstance(node, list):
        for child in node:
            found |= annotate_fields(child)
    return found


def compile_rule(document: dict[str, Any], source: str, *, validate: bool = True) -> Rule:
    """Validate and compile one rule document. ``validate=False`` skips the JSON Schema (the shipped
    catalogue, which the test suite validates), not the checks that compiling makes anyway."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    if validate:
        schema_errors(document, _validator(), source)

    def compiled(text: str, where: str) -> Any:
        try:
            expression = jmespath.compile(text)
            annotate_fields(expression.parsed)
            return expression
        except JMESPathError as exc:
            raise field_error(source, tuple(where.split("/")), f"invalid JMESPath: {exc}") from None

    inputs = {name: compiled(text, f"inputs/{name}") for name, text in document["inputs"].items()}
    condition = compiled(document["condition"], "condition")
    applies_if = compiled(document["applies_if"], "applies_if") if "applies_if" in document else None
    parameters = {}
    for name, spec in (document.get("parameters") or {}).items():
        param = Parameter(
            name, spec["type"], None, spec["description"], spec.get("minimum"), spec.get("maximum"),
            tuple(spec["enum"]) if "enum" in spec else None, spec.get("shown_when_empty"),
        )
        try:
            default = param.coerce(spec["default"], "default")
        except CatalogueError as exc:
            raise field_error(source, ("parameters", name, "default"), str(exc)) from None
        parameters[name] = replace(param, default=default)
    input_names = set(inputs)
    if document.get("each_empty") == "fail" and "empty" not in document["message"]:
        raise field_error(source, ("message",), "each_empty 'fail' needs an 'empty' message")
    if document.get("each_label") not in (None, *input_names):
        raise field_error(source, ("each_label",), f"'{document['each_label']}' is not an input")
    allowed = input_names | set(parameters) | {"element"} | {f"@{name}" for name in input_names}
    for key, text in document["message"].items():
        _check_placeholders(text, allowed, source, ("message", key))
    return Rule(
        id=document["id"],
        name=document["name"],
        title=document["title"],
        severity=document["severity"],
        subject=document["subject"],
        summary=document["summary"].strip(),
        rationale=document["rationale"].strip(),
        remediation=document["remediation"].strip(),
        source_url=document["source_url"],
        parameters=parameters,
        inputs=inputs,
        condition=condition,
        condition_text=document["condition"],
        messages=document["message"],
        examples=document["examples"],
        references=document.get("references", {}),
        known_limits=(document.get("known_limits") or "").strip() or None,
        applies_if=applies_if,
        applies_if_text=document.get("applies_if"),
        each=compiled(document["each"], "each") if "each" in document else None,
        each_label=document.get("each_label"),
        each_empty=document.get("each_empty", "not_applicable"),
        each_quantifier=document.get("each_quantifier", "any"),
        evidence=document.get("evidence", "any"),
        file=source,
        input_fields={name: _read_fields(expression) for name, expression in inputs.items()},
    )


def _read_fields(expression: Any) -> tuple[str, ...]:
    """The facts an input expression reads: the field itself for a plain field, else every field of its tree."""
    parsed = expression.parsed
    if parsed.get("type") == "field":
        return (parsed["value"],)
    return tuple(sorted(parsed[FIELDS_KEY]))


def _check_placeholders(text: str, allowed: set[str], source: str, path: tuple) -> None:
    import string

    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in allowed:
            raise field_error(source, path, f"placeholder '{{{name}}}' is not an input, '@' and an input, or a parameter")


def load_rule_file(path: Path, *, user: bool = False, shipped: bool = False) -> Rule:
    """One rule file, compiled; an error names the file and the line of the field at fault.

    ``shipped``: a file of the catalogue that ships with backupguard, not checked against the JSON
    Schema again (the test suite does that); never for a file a user gave."""
    document, text = read_document(path, user=user)
    if not isinstance(document, dict):
        raise CatalogueError(f"{path}: a rule file must be a mapping")
    try:
        rule = compile_rule(document, str(path), validate=user or not shipped)
        if user and rule.id.startswith(RESERVED_PREFIX):
            raise field_error(str(path), ("id",), f"{rule.id}: IDs that start with {RESERVED_PREFIX} are reserved for "
                              "backupguard's own rules; give yours a prefix of your own (ACME-101)")
    except CatalogueError as exc:
        raise located(exc, text) from None
    return rule


# A user's rule and framework files (--rules-dir, --frameworks-dir) may come from the pull request
# under review: like the config file, they are bounded and may not use YAML anchors or aliases.
MAX_USER_FILE_BYTES = 256 * 1024
USER_SUFFIXES = (".yaml", ".yml")
RESERVED_PREFIX = "BG"  # the shipped catalogue's IDs (BGnnn); a user's rules are PREFIX-NAME (rule.schema.json)


def read_document(path: Path, *, user: bool = False) -> tuple[Any, str]:
    """A rule or framework file's YAML data and text; every failure is a CatalogueError with file and line."""
    try:
        if user:
            with path.open("rb") as handle:
                raw = handle.read(MAX_USER_FILE_BYTES + 1)
            if len(raw) > MAX_USER_FILE_BYTES:
                raise CatalogueError(f"{path}: larger than {MAX_USER_FILE_BYTES // 1024} KiB")
            text = raw.decode("utf-8-sig")
        else:
            text = path.read_text("utf-8")
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1 if isinstance(exc.object, bytes) else 1
        raise CatalogueError(f"{path}:{line}: not UTF-8 text") from None
    try:
        if user:
            for event in yaml.parse(text, Loader=yaml.SafeLoader):
                if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                    raise CatalogueError(f"{path}:{event.start_mark.line + 1}: YAML anchors and aliases are not allowed")
        document = yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise CatalogueError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise CatalogueError(f"{path}: nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise CatalogueError(f"{path}: a value cannot be read: {exc}") from None
    return document, text


def user_files(location: Path, option: str) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files directly in a folder a user named (or that one file)."""
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise CatalogueError(f"{option} {location}: no such folder")
    try:
        found = sorted(p for p in location.iterdir() if p.suffix.lower() in USER_SUFFIXES and p.is_file())
    except OSError as exc:
        raise CatalogueError(f"{option} {location}: cannot read folder: {exc.strerror or exc}") from None
    real = os.path.realpath(location)
    for path in found:  # the folder may come from the change under review: a link out of it is refused
        if os.path.commonpath([os.path.realpath(path), real]) != real:
            raise CatalogueError(f"{path}: a symbolic link to a file outside {location}; not read")
    if not found:
        raise CatalogueError(f"{option} {location}: no {' or '.join('*' + s for s in USER_SUFFIXES)} files in this folder")
    return found


def load_rules(directories: tuple[Path, ...] = ()) -> dict[str, Rule]:
    """The shipped catalogue plus the rules of the user's folders (``--rules-dir``, config ``rules_dir``).

    A user's rule passes the catalogue's JSON Schema, its ID is ``PREFIX-NAME`` (``BG`` is reserved)
    and neither its ID nor its name may be taken, by a shipped rule or another of the user's."""
    shipped = load_catalogue()
    if not directories:
        return shipped
    rules = dict(shipped)
    seen: set[str] = set()
    for directory in directories:
        for path in user_files(directory, "--rules-dir"):
            if os.path.realpath(path) in seen:  # a folder named twice (config and command line) is read once
                continue
            seen.add(os.path.realpath(path))
            rule = load_rule_file(path, user=True)
            for key, taken in (("id", rules.get(rule.id)), ("name", next((r for r in rules.values() if r.name == rule.name), None))):
                if taken is not None:
                    line = line_of(path.read_text("utf-8-sig"), (key,))
                    owner = f"backupguard's rule {taken.id}" if taken.id in shipped else taken.file
                    raise CatalogueError(f"{path}{f':{line}' if line else ''}: field '{key}': "
                                         f"{getattr(rule, key)} is already used by {owner}")
            rules[rule.id] = rule
    return rules


def catalogue_dir() -> Path:
    """The shipped catalogue's folder (package data: a folder of the installed package)."""
    return Path(__file__).with_name("catalogue")


@lru_cache(maxsize=4)
def load_catalogue(directory: Path | None = None) -> dict[str, Rule]:
    """Every rule of the catalogue by ID (``directory``: another catalogue folder, validated against
    the JSON Schema; none: the shipped one, which the test suite validates). Duplicate IDs or names are errors."""
    rules: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for path in sorted((directory or catalogue_dir()).glob("*.yaml")):
        rule = load_rule_file(path, shipped=directory is None)
        if rule.id in rules:
            raise CatalogueError(f"{path}: field 'id': {rule.id} is already used by {rules[rule.id].file}")
        if rule.name in names:
            raise CatalogueError(f"{path}: field 'name': {rule.name} is already used by {names[rule.name]}")
        rules[rule.id] = rule
        names[rule.name] = str(path)
    return rules
