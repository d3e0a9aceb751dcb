"""Frameworks: named sets of controls that select rules, set their parameters and narrow their scope.

A framework maps only to rules that exist (checked at load), so its coverage is
honest. Framework files are YAML validated against ``framework.schema.json``: the
user's (``--frameworks-dir``) when they load, the shipped ones by the test suite
(``tests/test_catalogue_schema.py``), so that a run does not import ``jsonschema``
for them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from backupguard.rules import CatalogueError, Rule, field_error, line_of, located, read_document, schema_errors, user_files

PACKAGE = "backupguard.frameworks"


# A control's scope names resource types as AWS does (AWS Config / CloudFormation type names, which
# live resources carry too); the other sources name the same resources their own way. The one mapping
# from an AWS type to the source types that deploy it (Terraform, AWS SAM); a scope admits all of them.
SOURCE_TYPES: dict[str, tuple[str, ...]] = {
    "AWS::EC2::Instance": ("aws_instance",),
    "AWS::EC2::Volume": ("aws_ebs_volume",),
    "AWS::RDS::DBInstance": ("aws_db_instance",),
    "AWS::RDS::DBCluster": ("aws_rds_cluster",),
    "AWS::DocDB::DBCluster": ("aws_docdb_cluster",),
    "AWS::Neptune::DBCluster": ("aws_neptune_cluster",),
    "AWS::DynamoDB::Table": ("aws_dynamodb_table", "AWS::Serverless::SimpleTable"),
    # A Terraform global table is an aws_dynamodb_table with replica blocks.
    "AWS::DynamoDB::GlobalTable": ("aws_dynamodb_table",),
    "AWS::EFS::FileSystem": ("aws_efs_file_system",),
    "AWS::FSx::FileSystem": (
        "aws_fsx_windows_file_system", "aws_fsx_lustre_file_system", "aws_fsx_ontap_file_system",
        "aws_fsx_openzfs_file_system",
    ),
    "AWS::S3::Bucket": ("aws_s3_bucket",),
    "AWS::StorageGateway::Volume": ("aws_storagegateway_cached_iscsi_volume", "aws_storagegateway_stored_iscsi_volume"),
    "AWS::Backup::BackupVault": ("aws_backup_vault",),
    "AWS::Backup::LogicallyAirGappedBackupVault": ("aws_backup_logically_air_gapped_vault",),
    "AWS::Backup::BackupPlan": ("aws_backup_plan",),
    "AWS::Backup::BackupSelection": ("aws_backup_selection",),
}


def scope_types(names: Any) -> tuple[str, ...]:
    """A scope's resource types with every name the same resources carry in another source: a
    control scoped to AWS::DynamoDB::Table also admits aws_dynamodb_table (and a scope written with
    a Terraform name admits the AWS type, so live resources and templates too)."""
    found = dict.fromkeys(names)
    for name in names:
        for aws_type, source_types in SOURCE_TYPES.items():
            if name == aws_type or name in source_types:
                found.update(dict.fromkeys((aws_type, *source_types)))
    return tuple(found)


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

    return jsonschema.Draft202012Validator(framework_schema())


def framework_schema() -> dict[str, Any]:
    """``framework.schema.json``: what every framework file must look like."""
    return json.loads(Path(__file__).with_name("framework.schema.json").read_text("utf-8"))


def load_framework_file(path: Path, rules: dict[str, Rule], *, user: bool = False, shipped: bool = False) -> Framework:
    """One framework file, checked against ``rules``; an error names the file and the line of the field at fault.

    ``shipped``: a framework that ships with backupguard, not checked against the JSON Schema again
    (the test suite does that); never for a file a user gave."""
    document, text = read_document(path, user=user)
    try:
        return _framework(document, rules, str(path), validate=user or not shipped)
    except CatalogueError as exc:
        raise located(exc, text) from None


def _framework(document: Any, rules: dict[str, Rule], path: str, *, validate: bool = True) -> Framework:
    if validate:
        schema_errors(document, _validator(), path)
    controls = []
    for c_index, control in enumerate(document["controls"]):
        mapped = []
        for r_index, entry in enumerate(control["rules"]):
            where = ("controls", c_index, "rules", r_index)
            rule = rules.get(entry["rule"])
            if rule is None:
                raise field_error(path, (*where, "rule"), f"rule {entry['rule']} does not exist")
            params = {}
            for name, value in (entry.get("parameters") or {}).items():
                if name not in rule.parameters:
                    raise field_error(path, (*where, "parameters", name), f"rule {rule.id} has no parameter '{name}'")
                try:
                    params[name] = rule.parameters[name].coerce(value, f"rule {rule.id}")
                except CatalogueError as exc:
                    raise field_error(path, (*where, "parameters", name), str(exc)) from None
            mapped.append(ControlRule(rule.id, params))
        scope = control.get("scope") or {}
        controls.append(
            Control(
                id=control["id"],
                title=control["title"],
                source=(control.get("source") or "").strip(),
                rules=tuple(mapped),
                resource_types=scope_types(scope.get("resource_types", ())),
                tags=tuple(sorted((scope.get("tags") or {}).items())),
            )
        )
    return Framework(
        document["id"], document["title"], document["description"], document["source_url"], tuple(controls), path
    )


@lru_cache(maxsize=4)
def load_frameworks(directory: Path | None = None) -> dict[str, Framework]:
    """Every shipped framework by ID, checked against the rule catalogue (``directory``: another
    folder of frameworks, validated against the JSON Schema)."""
    from backupguard.rules import load_catalogue

    rules = load_catalogue()
    found: dict[str, Framework] = {}
    for path in sorted((directory or Path(__file__).parent).glob("*.yaml")):
        framework = load_framework_file(path, rules, shipped=directory is None)
        if framework.id in found:
            raise CatalogueError(f"{path}: field 'id': {framework.id} is already used by {found[framework.id].file}")
        found[framework.id] = framework
    return found


def load_user_frameworks(directories: tuple[Path, ...], rules: dict[str, Rule]) -> dict[str, Framework]:
    """The frameworks of the user's folders (``--frameworks-dir``, config ``frameworks_dir``), checked
    against ``rules`` (the shipped catalogue and the user's rules); an ID a shipped framework has is refused."""
    shipped = load_frameworks()
    found: dict[str, Framework] = {}
    seen: set[str] = set()
    for directory in directories:
        for path in user_files(directory, "--frameworks-dir"):
            if os.path.realpath(path) in seen:
                continue
            seen.add(os.path.realpath(path))
            framework = load_framework_file(path, rules, user=True)
            taken = shipped.get(framework.id) or found.get(framework.id)
            if taken is not None:
                line = line_of(path.read_text("utf-8-sig"), ("id",))
                raise CatalogueError(f"{path}{f':{line}' if line else ''}: field 'id': {framework.id} is already used by "
                                     f"{'backupguard' if framework.id in shipped else taken.file}")
            found[framework.id] = framework
    return found
