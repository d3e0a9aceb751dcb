"""Frameworks: named sets of controls that select rules, set their parameters and narrow their scope.

A framework maps only to rules that exist (checked at load), so its coverage is
honest. Framework files are YAML validated against ``framework.schema.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from backupguard.rules import SAFE_LOADER, CatalogueError, Rule, schema_errors

PACKAGE = "backupguard.frameworks"


@dataclass(frozen=True)
class ControlRule:
    rule_id: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    source: str
    rules: tuple[ControlRule, ...]
    resource_types: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    description: str
    source_url: str
    controls: tuple[Control, ...]
    file: str

    def metadata(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description.strip(),
            "source_url": self.source_url,
            "controls": [
                {"id": c.id, "title": c.title, "rules": [r.rule_id for r in c.rules]} for c in self.controls
            ],
        }


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(resources.files(PACKAGE).joinpath("framework.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def load_framework_file(path: Path, rules: dict[str, Rule]) -> Framework:
    try:
        document = yaml.load(path.read_text("utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    schema_errors(document, _validator(), str(path))
    controls = []
    for c_index, control in enumerate(document["controls"]):
        mapped = []
        for r_index, entry in enumerate(control["rules"]):
            where = f"{path}: field 'controls/{c_index}/rules/{r_index}'"
            rule = rules.get(entry["rule"])
            if rule is None:
                raise CatalogueError(f"{where}: rule {entry['rule']} does not exist")
            params = {}
            for name, value in (entry.get("parameters") or {}).items():
                if name not in rule.parameters:
                    raise CatalogueError(f"{where}: rule {rule.id} has no parameter '{name}'")
                params[name] = rule.parameters[name].coerce(value, where)
            mapped.append(ControlRule(rule.id, params))
        scope = control.get("scope") or {}
        controls.append(
            Control(
                id=control["id"],
                title=control["title"],
                source=(control.get("source") or "").strip(),
                rules=tuple(mapped),
                resource_types=tuple(scope.get("resource_types", ())),
                tags=tuple(sorted((scope.get("tags") or {}).items())),
            )
        )
    return Framework(
        document["id"], document["title"], document["description"], document["source_url"], tuple(controls), str(path)
    )


@lru_cache(maxsize=4)
def load_frameworks(directory: Path | None = None) -> dict[str, Framework]:
    """Every shipped framework by ID, checked against the rule catalogue."""
    from backupguard.rules import load_catalogue

    rules = load_catalogue()
    found: dict[str, Framework] = {}
    for path in sorted((directory or Path(str(resources.files(PACKAGE)))).glob("*.yaml")):
        framework = load_framework_file(path, rules)
        if framework.id in found:
            raise CatalogueError(f"{path}: field 'id': {framework.id} is already used by {found[framework.id].file}")
        found[framework.id] = framework
    return found
