"""Standalone Organizations backup policy documents: found by content, checked like plans, located."""

from __future__ import annotations

import json
from pathlib import Path

from backupguard.scanner import scan

from conftest import lint_paths

POLICY = {
    "plans": {
        "Daily": {
            "regions": {"@@assign": ["us-east-1"]},
            "rules": {
                "daily": {
                    "schedule_expression": {"@@assign": "cron(0 5 ? * * *)"},
                    "target_backup_vault_name": {"@@assign": "main"},
                    "lifecycle": {"move_to_cold_storage_after_days": {"@@assign": "30"},
                                  "delete_after_days": {"@@assign": "60"}},
                }
            },
            "selections": {"tags": {"all": {"iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/b"},
                                            "tag_key": {"@@assign": "backup"},
                                            "tag_value": {"@@assign": ["yes"]}}}},
        }
    }
}


def test_a_walked_policy_file_is_read_and_its_plans_are_checked(tmp_path: Path):
    (tmp_path / "policies").mkdir()
    path = tmp_path / "policies" / "backup.json"
    path.write_text(json.dumps(POLICY, indent=2))
    (tmp_path / "package.json").write_text('{"name": "x"}')
    estate = scan([tmp_path])
    assert [p.resource_id for p in estate.org_policies] == ["backup.json"]
    assert [p.resource_id for p in estate.plans] == ["backup.json/Daily"]
    results = lint_paths([tmp_path])
    cold = [r for r in results if r.rule_id == "BG102"]
    assert [r.status for r in cold] == ["fail"]
    # the line of the delete_after_days that decides it
    assert cold[0].line == path.read_text().splitlines().index('            "delete_after_days": {') + 1
    assert {r.rule_id for r in results if r.resource_id == "backup.json" and r.status == "pass"} >= {"BG501", "BG504"}


def test_a_policy_with_both_tags_and_resources_fails_bg503(tmp_path: Path):
    broken = json.loads(json.dumps(POLICY))
    broken["plans"]["Daily"]["selections"]["resources"] = {
        "volumes": {"iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/b"},
                    "resource_types": {"@@assign": ["arn:aws:ec2:*:*:volume/*"]}}
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(broken))
    statuses = {r.rule_id: r.status for r in lint_paths([path]) if r.resource_id == "policy.json"}
    assert statuses["BG503"] == "fail"
