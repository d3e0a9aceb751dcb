"""The config file as a file: where it is found, its JSON Schema, and the starter ``backupguard init`` writes.

* **Discovery**: ``.backupguard.yaml`` (or ``.yml``) in the working directory, else in the nearest
  folder above it, up to the repository root (the first folder holding ``.git``) or the
  filesystem root: a config at the top of a repository applies wherever in it backupguard runs.
* **Schema**: ``config.schema.json`` (draft 2020-12) ships with the package; editors use it
  through ``# yaml-language-server: $schema=...``, and :func:`schema_problem` checks a loaded file
  against it. ``jsonschema`` is imported only when a config file was found. Each mistake is
  reported with the file and the line of the value (or key) that is wrong; the schema's
  ``errorMessage`` texts (which editors show too) say what was expected.
"""

from __future__ import annotations

import datetime
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

CONFIG_NAMES = (".backupguard.yaml", ".backupguard.yml")
SCHEMA_FILE = "config.schema.json"
SCHEMA_URL = "https://raw.githubusercontent.com/backupguard/backupguard/main/src/backupguard/config.schema.json"


def find_config(start: Path | None = None) -> Path | None:
    """The config file of the working directory (or ``start``): the first of :data:`CONFIG_NAMES`
    in it or a folder above it, stopping after the repository root (a folder with ``.git``).

    Returned relative to ``start`` (``.backupguard.yaml``, ``../../.backupguard.yaml``), as error
    messages show it."""
    here = Path(os.path.abspath(start or Path.cwd()))
    up = Path(".")
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return up / name
        if (folder / ".git").exists():
            return None
        up = up / ".."
    return None


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    from importlib.resources import files

    return json.loads(files("backupguard").joinpath(SCHEMA_FILE).read_text("utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def schema_problem(data: Any, node: Any, source: str) -> str | None:
    """The first (by line) way the loaded config breaks the schema, as ``file:line: message``; None
    when it conforms. ``node`` is the YAML node tree the data was built from (for lines)."""
    errors = list(_validator().iter_errors(_json_view(data)))
    if not errors:
        return None
    located = sorted(((_line(node, error) or 0, _message(error)) for error in errors), key=lambda found: found)
    line, message = located[0]
    return f"{source}{f':{line}' if line else ''}: {message}"


def _json_view(value: Any) -> Any:
    """The data as JSON would carry it: keys as text, YAML dates (``expires: 2025-01-31``) as ISO text."""
    if isinstance(value, dict):
        return {str(key): _json_view(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_view(item) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _where(path: Any) -> str:
    """``waivers[0].expires`` for the instance path ['waivers', 0, 'expires']."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


def _custom(error: Any) -> tuple[str | None, bool]:
    """The deepest ``errorMessage`` on the schema path of ``error``, and whether it lies inside
    the items of an array (then the message is about one entry, which must be named)."""
    node: Any = schema()
    found, in_items, items = None, False, False
    for keyword in error.absolute_schema_path:
        if isinstance(node, dict) and "errorMessage" in node:
            found, in_items = node["errorMessage"], items
        if keyword == "items":
            items = True
        try:
            node = node[keyword]
        except (KeyError, IndexError, TypeError):
            break
    if isinstance(node, dict) and "errorMessage" in node:
        found, in_items = node["errorMessage"], items
    return found, in_items


def _message(error: Any) -> str:
    path = list(error.absolute_path)
    where = _where(path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(str(key) for key in error.instance if key not in allowed)
        return f"{where + ': ' if where else ''}unknown key(s) {', '.join(unknown)}; expected {', '.join(allowed)}"
    custom, in_items = _custom(error)
    if error.validator == "enum" and "propertyNames" in error.absolute_schema_path:
        valid = ", ".join(str(v) for v in error.validator_value)
        return f"{custom or 'unknown name'} {error.instance!r} in '{where}' (expected one of: {valid})"
    if custom:
        if in_items:  # name the entry: waivers[2]
            index = next(i for i, part in enumerate(path) if isinstance(part, int))
            return f"{_where(path[: index + 1])}: {custom}"
        return custom
    return f"{where or 'the config file'}: {error.message}"


def _line(node: Any, error: Any) -> int | None:
    """The line of the value (or, for an unknown or misnamed key, of the key) that ``error`` is about."""
    import yaml

    target = node
    for part in error.absolute_path:
        target = _child(target, part)
        if target is None:
            return None
    if isinstance(target, yaml.MappingNode) and error.validator in ("additionalProperties", "enum"):
        names = set()
        if error.validator == "additionalProperties":
            names = {str(k) for k in error.instance if k not in error.schema.get("properties", {})}
        elif "propertyNames" in error.absolute_schema_path:
            names = {str(error.instance)}
        keys = [key for key, _ in target.value if str(key.value) in names]
        if keys:
            return min(key.start_mark.line for key in keys) + 1
    return target.start_mark.line + 1 if target is not None else None


def _child(node: Any, part: Any) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if str(key.value) == str(part)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


STARTER = f"""\
# yaml-language-server: $schema={SCHEMA_URL}
#
# backupguard configuration. backupguard reads it from the working directory or the nearest
# folder above it (up to the repository root); command-line options win over it.
# Every key is optional; the values below are the defaults.

# Frameworks whose controls run (`backupguard frameworks` lists them); empty: every rule.
frameworks: []
#  - aws-backup-audit-manager

# Exit 1 when a failing result has at least this severity: info, low, medium, high, critical,
# or never.
fail_on: low

# Count unknown results (a value the templates do not give) as failures too.
strict: false

# A scan that finds no template, Terraform configuration, plan or backup policy exits 0
# instead of 2.
allow_empty: false

# Files and folders not to scan (globs).
exclude: []
#  - "**/test/**"

# AWS Backup service opt-in of your Regions, where the templates do not declare it
# (AWS's defaults: S3 not opted in, the other services opted in).
opt_in: {{}}
#  S3: true

# Only these rules run (IDs, names or globs such as "BG3*"); empty: every rule. And rules left out.
check: []
skip_check: []
#  - BG207

# Folders of your own rule and framework files (docs/custom-rules.md), inside this file's folder.
#rules_dir: policies/rules
#frameworks_dir: policies/frameworks

# Rule parameters (`backupguard explain BG101` lists a rule's parameters).
parameters: {{}}
#  BG101:
#    required_retention_days: 35

# Accepted findings: each stays in every report but does not fail the run.
waivers: []
#  - rule: BG201
#    resource: "LegacyVault*"     # glob over the resource ID
#    file: "stacks/legacy/*"      # glob over the file
#    reason: "Encrypted with aws/backup until the 2027 migration (TICKET-123)"
#    owner: platform-team
#    ticket: TICKET-123
#    expires: "2027-06-30"        # after it the waiver waives nothing and is a finding (BG002)
"""


def write_starter(path: Path) -> None:
    """Write :data:`STARTER` to ``path``; never over an existing file (``FileExistsError``)."""
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(STARTER)
