"""Rule pages are generated from rule files; the committed copies must not drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from backupguard.rules import load_catalogue
from backupguard.rules.docs import example_language, index, page

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules"


def test_every_rule_page_is_current():
    stale = [
        rule.id
        for rule in load_catalogue().values()
        if not (DOCS / f"{rule.id}.md").is_file() or (DOCS / f"{rule.id}.md").read_text("utf-8") != page(rule)
    ]
    assert not stale, f"regenerate with: python -m backupguard.rules.docs docs/rules ({stale})"
    assert (DOCS / "README.md").read_text("utf-8") == index(), "regenerate the rule index"


def test_page_has_the_ruff_style_sections():
    text = page(load_catalogue()["BG101"])
    for heading in ("## What it checks", "## Why it matters", "## How to fix it", "## Example that fails",
                    "## Example that passes", "## Parameters", "## References"):
        assert heading in text
    assert "`required_retention_days` | integer | `35`" in text
    assert "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" in text


def _example_results(rule_id: str, which: str, lint_text):
    example = load_catalogue()[rule_id].examples[which]
    if example_language(example) == "hcl":  # a Terraform root module of one file
        results = lint_text(example, name="main.tf", region="us-east-1", account_id="111122223333")
    else:
        template = "Resources:\n" + "".join(f"  {line}\n" for line in example.splitlines())
        results = lint_text(template, region="us-east-1", account_id="111122223333")
    return {r.status for r in results if r.rule_id == rule_id}


TEMPLATE_EXAMPLES = sorted(
    rule.id for rule in load_catalogue().values()
    if not rule.examples["fail"].lstrip().startswith("#") and rule.evidence != "live"
)


@pytest.mark.parametrize("rule_id", TEMPLATE_EXAMPLES)
def test_documented_examples_do_what_they_say(rule_id, lint_text):
    """Each page's failing example fails its rule and the passing one passes."""
    assert _example_results(rule_id, "fail", lint_text) == {"fail"}
    assert _example_results(rule_id, "pass", lint_text) == {"pass"}


def test_only_live_or_oversized_examples_are_illustrations():
    rules = load_catalogue().values()
    illustrated = {r.id for r in rules} - set(TEMPLATE_EXAMPLES)
    assert illustrated - {r.id for r in rules if r.evidence in ("live", "drift")} == {"BG504"}
