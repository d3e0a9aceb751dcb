"""One documentation page per rule, generated from the rule file (so it never drifts).

The same text is what ``backupguard explain RULE`` prints and what
``docs/rules/<ID>.md`` holds (``python -m backupguard.rules.docs docs/rules``
regenerates them; a test fails when they are stale).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from backupguard.rules import Rule, load_catalogue

_REFERENCE_LABELS = {
    "audit_manager_control": "AWS Backup Audit Manager control",
    "config_rule": "AWS Config rule",
    "security_hub_control": "Security Hub control",
    "other": "Other tools",
}


def example_language(example: str) -> str:
    """``hcl`` for a Terraform example (rules about resources CloudFormation has no type for), else ``yaml``."""
    return "hcl" if re.search(r'^(resource|provider|data|module|variable) "', example, re.MULTILINE) else "yaml"


def page(rule: Rule) -> str:
    out = [f"# {rule.id}: {rule.name}", "", f"**{rule.title}** (severity: {rule.severity})", ""]
    out += ["## What it checks", "", rule.summary, ""]
    out += ["## Why it matters", "", rule.rationale, ""]
    out += ["## How to fix it", "", rule.remediation, ""]
    for which, heading in (("fail", "## Example that fails"), ("pass", "## Example that passes")):
        example = rule.examples[which]
        out += [heading, "", f"```{example_language(example)}", example.rstrip(), "```", ""]
    if rule.parameters:
        out += ["## Parameters", "", "| name | type | default | description |", "| --- | --- | --- | --- |"]
        for name, param in sorted(rule.parameters.items()):
            out.append(f"| `{name}` | {param.type} | `{param.default}` | {param.description} |")
        out += ["", f"Override with `--param {rule.id}.NAME=VALUE` or in `.backupguard.yaml`.", ""]
    if rule.known_limits:
        out += ["## Known limits", "", rule.known_limits, ""]
    out += ["## References", "", f"- Source: <{rule.source_url}>"]
    for key, label in _REFERENCE_LABELS.items():
        value = rule.references.get(key)
        if value:
            shown = ", ".join(value) if isinstance(value, list) else value
            out.append(f"- {label}: {shown}")
    out += ["", f"Decision: `{' '.join(rule.condition_text.split())}`" + "", ""]
    return "\n".join(out)


def meta_page(meta: dict) -> str:
    """The page of a finding about suppressions (BG001-BG003: ``backupguard.suppress.META_RULES``)."""
    out = [f"# {meta['id']}: {meta['name']}", "", f"**{meta['title']}** (severity: {meta['severity']})", ""]
    out += ["## What it checks", "", meta["summary"], ""]
    out += ["## Why it matters", "", meta["rationale"], ""]
    out += ["## How to fix it", "", meta["remediation"], ""]
    for which, heading in (("fail", "## Example that fails"), ("pass", "## Example that passes")):
        example = meta["examples"][which]
        out += [heading, "", f"```{example_language(example)}", example.rstrip(), "```", ""]
    out += ["## References", "", f"- Source: <{meta['source_url']}>", ""]
    return "\n".join(out)


def _meta_rules() -> dict:
    from backupguard.suppress import META_RULES

    return META_RULES


_FAMILIES = (
    ("BG1", "Backup plans"), ("BG2", "Backup vaults"), ("BG3", "Native backup settings"),
    ("BG40", "Coverage: how each resource is protected"), ("BG41", "Coverage: how each resource is protected"),
    ("BG42", "Resource assignments (selections)"), ("BG43", "Live evidence: recovery points and restores"),
    ("BG44", "Restore readiness"), ("BG5", "Organizations backup policies"),
    ("BG6", "Audit Manager frameworks, report plans, restore testing"),
    ("BG7", "Drift: the code against the account (backupguard drift)"),
)


def aliases(rule: Rule) -> list[str]:
    """What a user may call a rule: its ID and name, and each reference (the Audit Manager control,
    the AWS Config rule, Security Hub controls, other tools' IDs such as "Checkov CKV_AWS_166",
    also without the tool's name). A ``<type>`` in a Config rule name stands for any resource type."""
    names = [rule.id, rule.name]
    for value in rule.references.values():
        for entry in value if isinstance(value, list) else str(value).split(","):
            entry = str(entry).strip()
            if entry:
                names.append(entry)
                if " " in entry:
                    names.append(entry.rsplit(" ", 1)[1])  # "Checkov CKV_AWS_166" -> "CKV_AWS_166"
    return names


def _matches(query: str, alias: str) -> bool:
    alias = alias.casefold()
    if "<type>" in alias:
        before, _, after = alias.partition("<type>")
        return re.fullmatch(re.escape(before) + r"[a-z0-9-]+" + re.escape(after), query) is not None
    return alias == query


def lookup(query: str, rules: dict[str, Rule]) -> list[Rule]:
    """The rules ``query`` names (case-insensitive): one by ID or name, else every rule one of whose
    :func:`aliases` it is (an Audit Manager control may map to several rules)."""
    wanted = query.strip().casefold()
    exact = [rule for rule in rules.values() if wanted in (rule.id.casefold(), rule.name.casefold())]
    if exact:
        return exact
    return [rule for rule in rules.values() if any(_matches(wanted, alias) for alias in aliases(rule))]


def index() -> str:
    """The catalogue at a glance: one line per rule, grouped by family, with its references."""
    out = ["# Rule catalogue", "", "Generated from the rule files; `backupguard explain RULE` prints each page.", ""]
    out += ["", "## Suppressions and waivers", "", "| rule | severity | checks |", "| --- | --- | --- |"]
    out += [f"| [{m['id']}]({m['id']}.md) `{m['name']}` | {m['severity']} | {m['title']} |" for m in _meta_rules().values()]
    heading = None
    for rule in load_catalogue().values():
        family = next(title for prefix, title in _FAMILIES if rule.id.startswith(prefix))
        if family != heading:
            out += ["", f"## {family}", "", "| rule | severity | checks | Audit Manager / Config / Security Hub |",
                    "| --- | --- | --- | --- |"]
            heading = family
        refs = " / ".join(
            str(rule.references[k]) for k in ("audit_manager_control", "config_rule", "security_hub_control")
            if rule.references.get(k)
        )
        live = {"live": " (live evidence)", "drift": " (drift: code against the account)"}.get(rule.evidence, "")
        out.append(f"| [{rule.id}]({rule.id}.md) `{rule.name}` | {rule.severity} | {rule.title}{live} | {refs} |")
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def write_pages(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in load_catalogue().values():
        path = directory / f"{rule.id}.md"
        path.write_text(page(rule), encoding="utf-8")
        written.append(path)
    for meta in _meta_rules().values():
        path = directory / f"{meta['id']}.md"
        path.write_text(meta_page(meta), encoding="utf-8")
        written.append(path)
    (directory / "README.md").write_text(index(), encoding="utf-8")
    return written + [directory / "README.md"]


if __name__ == "__main__":  # pragma: no cover
    for written in write_pages(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")):
        print(written)
