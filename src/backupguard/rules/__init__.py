"""The rule catalogue: YAML files validated against ``rule.schema.json``, compiled once.

A rule file is data a compliance engineer can read and change: thresholds are
typed parameters, the decision is a JMESPath expression over the facts the
resolver computed (JMESPath is what AWS users already know from ``--query``).
Every expression is compiled when the catalogue loads, not per resource.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

CATALOGUE_PACKAGE = "backupguard.rules"
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~5x faster


class CatalogueError(Exception):
    """A rule or framework file that is broken: names the file and the field."""


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

    schema = json.loads(resources.files(CATALOGUE_PACKAGE).joinpath("rule.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def schema_errors(document: Any, validator: Any, source: str) -> None:
    """Raise a CatalogueError naming the file and the first offending field."""
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        raise CatalogueError(f"{source}: field '{where}': {first.message}")


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


def compile_rule(document: dict[str, Any], source: str) -> Rule:
    """Validate and compile one rule document."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    schema_errors(document, _validator(), source)

    def compiled(text: str, where: str) -> Any:
        try:
            expression = jmespath.compile(text)
            annotate_fields(expression.parsed)
            return expression
        except JMESPathError as exc:
            raise CatalogueError(f"{source}: field '{where}': invalid JMESPath: {exc}") from None

    inputs = {name: compiled(text, f"inputs/{name}") for name, text in document["inputs"].items()}
    condition = compiled(document["condition"], "condition")
    applies_if = compiled(document["applies_if"], "applies_if") if "applies_if" in document else None
    parameters = {}
    for name, spec in (document.get("parameters") or {}).items():
        param = Parameter(
            name, spec["type"], None, spec["description"], spec.get("minimum"), spec.get("maximum"),
            tuple(spec["enum"]) if "enum" in spec else None, spec.get("shown_when_empty"),
        )
        parameters[name] = replace(param, default=param.coerce(spec["default"], f"{source}: parameters/{name}/default"))
    input_names = set(inputs)
    if document.get("each_empty") == "fail" and "empty" not in document["message"]:
        raise CatalogueError(f"{source}: field 'message': each_empty 'fail' needs an 'empty' message")
    if document.get("each_label") not in (None, *input_names):
        raise CatalogueError(f"{source}: field 'each_label': '{document['each_label']}' is not an input")
    allowed = input_names | set(parameters) | {"element"} | {f"@{name}" for name in input_names}
    for key, text in document["message"].items():
        _check_placeholders(text, allowed, f"{source}: field 'message/{key}'")
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


def _check_placeholders(text: str, allowed: set[str], where: str) -> None:
    import string

    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in allowed:
            raise CatalogueError(f"{where}: placeholder '{{{name}}}' is not an input, '@' and an input, or a parameter")


def load_rule_file(path: Path) -> Rule:
    try:
        document = yaml.load(path.read_text("utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise CatalogueError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(document, dict):
        raise CatalogueError(f"{path}: a rule file must be a mapping")
    return compile_rule(document, str(path))


def catalogue_dir() -> Path:
    return Path(str(resources.files(CATALOGUE_PACKAGE).joinpath("catalogue")))


@lru_cache(maxsize=4)
def load_catalogue(directory: Path | None = None) -> dict[str, Rule]:
    """Every rule of the catalogue by ID. Duplicate IDs or names are errors."""
    rules: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for path in sorted((directory or catalogue_dir()).glob("*.yaml")):
        rule = load_rule_file(path)
        if rule.id in rules:
            raise CatalogueError(f"{path}: field 'id': {rule.id} is already used by {rules[rule.id].file}")
        if rule.name in names:
            raise CatalogueError(f"{path}: field 'name': {rule.name} is already used by {names[rule.name]}")
        rules[rule.id] = rule
        names[rule.name] = str(path)
    return rules
