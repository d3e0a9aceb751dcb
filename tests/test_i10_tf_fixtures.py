"""Issue 10 Terraform fixtures (tests/fixtures/rules/i10-tf-*), run through the one fixture test."""

from __future__ import annotations

from pathlib import Path

import pytest

import test_rule_fixtures as base

I10_TF = sorted(p for p in base.FIXTURES.glob("i10-tf-*") if p.is_dir())


@pytest.mark.parametrize("path", I10_TF, ids=lambda p: p.name)
def test_i10_tf_fixture(path: Path):
    base.test_fixture(path)
