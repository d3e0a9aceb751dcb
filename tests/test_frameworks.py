"""Frameworks: every mapping names an implemented rule and cites its source; broken files are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backupguard.frameworks import load_framework_file, load_frameworks
from backupguard.rules import CatalogueError, load_catalogue

SHIPPED = {"aws-backup-audit-manager", "aws-security-hub", "nist-800-53-r5", "hipaa-164-308-a-7", "sec-17a-4-f", "pci-dss-4", "restore-readiness"}


def test_shipped_frameworks_load_and_map_only_tested_rules():
    frameworks = load_frameworks()
    assert set(frameworks) == SHIPPED
    rules = load_catalogue()
    fixtures = Path(__file__).parent / "fixtures" / "rules"
    annotated = {p.stem.split("-")[0] for p in fixtures.glob("BG*")}
    for framework in frameworks.values():
        for control in framework.controls:
            assert len(control.source) >= 20
            for mapped in control.rules:
                rule = rules[mapped.rule_id]
                # "maps only to rules that are implemented and tested": template rules have fixtures
                assert rule.evidence == "live" or mapped.rule_id in annotated, (framework.id, mapped.rule_id)


def test_audit_manager_framework_covers_every_control_with_aws_defaults():
    framework = load_frameworks()["aws-backup-audit-manager"]
    controls = {c.id: c for c in framework.controls}
    assert len(controls) == 11
    frequency = controls["BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"].rules[0]
    assert frequency.parameters == {
        "required_frequency_unit": "days", "required_frequency_value": 1, "required_retention_days": 35,
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"controls": [{"id": "C", "title": "t", "source": "a source text long enough", "rules": [{"rule": "BG999"}]}]},
         "rule BG999 does not exist"),
        ({"controls": [{"id": "C", "title": "t", "source": "a source text long enough",
                        "rules": [{"rule": "BG101", "parameters": {"nope": 1}}]}]}, "has no parameter 'nope'"),
        ({"controls": [{"id": "C", "title": "t", "source": "a source text long enough",
                        "rules": [{"rule": "BG101", "parameters": {"required_retention_days": "x"}}]}]},
         "not a valid integer"),
        ({"controls": [{"id": "C", "title": "t", "rules": [{"rule": "BG101"}]}]}, "'source' is a required property"),
        ({"id": "Bad Id"}, "field 'id'"),
    ],
)
def test_broken_framework_files_name_file_and_field(tmp_path, change, message):
    document = {
        "id": "test", "title": "t", "description": "d", "source_url": "https://example.com",
        "controls": [{"id": "C", "title": "t", "source": "a source text long enough", "rules": [{"rule": "BG101"}]}],
        **change,
    }
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(CatalogueError, match=message) as info:
        load_framework_file(path, load_catalogue())
    assert str(path) in str(info.value)
