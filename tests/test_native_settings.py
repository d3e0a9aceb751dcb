"""Every source fills ``ProtectedResource.settings`` within the one contract (backupguard.native_settings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backupguard.estate import Attribute
from backupguard.native_settings import COPY_ATTRIBUTES, RULE_ATTRIBUTES, SETTING_NAMES, VAULT_ATTRIBUTES
from backupguard.scanner import scan

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_contract_names_every_setting_the_rules_read():
    assert {"backup_retention_days", "pitr_enabled", "versioning_status", "backup_policy_status"} <= SETTING_NAMES


@pytest.mark.parametrize("kind", ["cloudformation", "terraform"])
def test_iac_sources_fill_only_contract_keys(kind: str):
    estate = scan([FIXTURES])
    resources = [r for r in estate.resources if (r.origin.file or "").endswith(".tf") == (kind == "terraform")]
    assert resources, f"the fixtures hold {kind} resources"
    used = {key for r in resources for key in r.settings}
    assert used, "the fixtures set native settings"
    assert used <= SETTING_NAMES, f"{kind} settings outside the contract: {sorted(used - SETTING_NAMES)}"


# Settings a source derives from other properties (a cluster identifier, the resource type) rather than
# reads one to one: they have no attribute of their own.
DERIVED = {"cluster_member", "read_replica", "encryption_from", "retention_is_default", "file_system_type", "engine"}
_TERRAFORM_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_CLOUDFORMATION_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$")


def _entities(estate):
    """(entity, its allowed attribute keys) for everything that records attributes."""
    for resource in estate.resources:
        yield resource, SETTING_NAMES
    for vault in estate.vaults:
        yield vault, set(VAULT_ATTRIBUTES)
    for plan in estate.plans:
        if plan.resource_type.startswith("AWS::Organizations"):
            continue  # a backup policy's plans speak the policy's own (snake_case) keys
        for rule in plan.rules:
            yield rule, set(RULE_ATTRIBUTES)
            for copy in rule.copy_actions:
                yield copy, set(COPY_ATTRIBUTES)


@pytest.mark.parametrize("kind", ["cloudformation", "terraform"])
def test_iac_sources_name_every_setting_they_read_in_their_own_vocabulary(kind: str):
    estate = scan([FIXTURES])
    pattern = _TERRAFORM_NAME if kind == "terraform" else _CLOUDFORMATION_NAME
    checked = 0
    for entity, allowed in _entities(estate):
        if (entity.origin.file or "").endswith(".tf") != (kind == "terraform") or entity.origin.file.endswith(".json"):
            continue
        assert set(entity.attributes) <= allowed, (entity, sorted(set(entity.attributes) - allowed))
        if allowed is not SETTING_NAMES:
            assert set(entity.attributes) >= allowed - {"lock", "lock.changeable_for_days"}, entity
        else:
            assert set(entity.settings) - DERIVED <= set(entity.attributes), entity.resource_id
        for key, attribute in entity.attributes.items():
            assert pattern.match(attribute.name), f"{key}: {attribute.name!r} is not a {kind} name"
            if attribute.origin is not None:
                assert attribute.origin.file == entity.origin.file or kind == "terraform", attribute
        checked += 1
    assert checked > 50


def test_a_written_setting_has_its_position_and_an_absent_one_only_its_name():
    estate = scan([FIXTURES / "rules" / "BG305.yaml", FIXTURES / "rules" / "tf-native-settings"])
    by_id = {r.resource_id: r for r in estate.resources}
    written = by_id["ProtectedDatabase"].attributes["deletion_protection"]
    assert (written.name, written.origin.line, written.origin.column) == ("DeletionProtection", 46, 7)
    assert by_id["DefaultDatabase"].attributes["deletion_protection"] == Attribute("DeletionProtection")
    pitr = by_id["aws_dynamodb_table.pitr_off"].attributes["pitr_enabled"]
    assert (pitr.name, pitr.origin.line) == ("point_in_time_recovery.enabled", 78)
    assert by_id["aws_dynamodb_table.no_pitr"].attributes["pitr_enabled"] == Attribute("point_in_time_recovery.enabled")
