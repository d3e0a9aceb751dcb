"""Every source fills ``ProtectedResource.settings`` within the one contract (backupguard.native_settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backupguard.native_settings import SETTING_NAMES
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
