"""The shipped rule catalogue and frameworks against their JSON Schemas.

A run trusts the shipped files (it does not import jsonschema for them: issue 12, start-up), so
this is where a rule or framework file that breaks its schema is caught, before it ships. The
user's own files (--rules-dir, --frameworks-dir) are still validated on every run
(tests/test_custom_rules.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

import backupguard.frameworks
from backupguard.frameworks import framework_schema, load_frameworks
from backupguard.rules import catalogue_dir, load_catalogue, rule_schema

RULE_FILES = sorted(catalogue_dir().glob("*.yaml"))
FRAMEWORK_DIR = Path(backupguard.frameworks.__file__).parent
FRAMEWORK_FILES = sorted(FRAMEWORK_DIR.glob("*.yaml"))


def _errors(schema: dict, path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text("utf-8"))
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{path.name}: {'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors]


def test_the_schemas_are_valid_draft_2020_12():
    Draft202012Validator.check_schema(rule_schema())
    Draft202012Validator.check_schema(framework_schema())


def test_there_are_shipped_files_to_check():
    assert len(RULE_FILES) >= 60 and len(FRAMEWORK_FILES) >= 6


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_every_shipped_rule_file_conforms_to_the_rule_schema(path):
    assert _errors(rule_schema(), path) == []


@pytest.mark.parametrize("path", FRAMEWORK_FILES, ids=lambda p: p.stem)
def test_every_shipped_framework_file_conforms_to_the_framework_schema(path):
    assert _errors(framework_schema(), path) == []


def test_the_shipped_catalogue_loads_the_same_with_and_without_the_schema():
    """The trusted load (the run's) and the validated load (a folder given) build the same rules and frameworks."""
    trusted, validated = load_catalogue(), load_catalogue.__wrapped__(catalogue_dir())
    assert [r.metadata() for r in trusted.values()] == [r.metadata() for r in validated.values()]
    assert [r.condition_text for r in trusted.values()] == [r.condition_text for r in validated.values()]
    shipped, checked = load_frameworks(), load_frameworks.__wrapped__(FRAMEWORK_DIR)
    assert shipped == checked
