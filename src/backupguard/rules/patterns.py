"""Rule patterns: how a user names rules in ``--check``, ``--skip-check``, waivers and suppressions.

A pattern is a rule ID (``BG201``), a rule name (``vault-encrypted-with-cmk``) or a glob over
either (``BG3*``, ``vault-*``), compared without regard to case. A pattern that names no rule
is a mistake, reported with the closest ID or name, never a silent no-op.

Another tool's check ID (``CKV_AWS_28`` in a Checkov skip) names the rules whose
``references.other`` cite it ("Checkov CKV_AWS_28"): :func:`foreign_rules`.
"""

from __future__ import annotations

import difflib
import fnmatch
from typing import Iterable, Mapping

from backupguard.rules import Rule

_GLOB = frozenset("*?[")


class PatternError(ValueError):
    """A pattern that matches no rule; the message names the closest rule."""


def split(values: Iterable[str]) -> list[str]:
    """``["BG1*,BG201", " BG3* "]`` -> ``["BG1*", "BG201", "BG3*"]`` (options may be repeated or comma-separated)."""
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def matching(pattern: str, rules: Mapping[str, Rule]) -> list[str]:
    """The IDs of the rules ``pattern`` names, in catalogue order (empty when none)."""
    wanted = pattern.strip().lower()
    if not any(char in _GLOB for char in wanted):
        return [rule.id for rule in rules.values() if wanted in (rule.id.lower(), rule.name.lower())]
    return [rule.id for rule in rules.values()
            if fnmatch.fnmatchcase(rule.id.lower(), wanted) or fnmatch.fnmatchcase(rule.name.lower(), wanted)]


def closest(pattern: str, rules: Mapping[str, Rule]) -> str | None:
    """The rule ID or name most like ``pattern`` (a typo's likely meaning), or None."""
    candidates = {rule.id.lower(): rule.id for rule in rules.values()}
    candidates.update({rule.name.lower(): rule.name for rule in rules.values()})
    text = pattern.strip().lower().rstrip("*?")
    found = difflib.get_close_matches(text, sorted(candidates), n=8, cutoff=0.6)
    if not found:
        return None
    return candidates[min(found, key=lambda c: (_edits(text, c), c))]  # "bg2o1" is BG201, not BG421


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def unknown(pattern: str, rules: Mapping[str, Rule]) -> str:
    """The message for a pattern that names no rule."""
    near = closest(pattern, rules)
    hint = f"did you mean {near}?" if near else "`backupguard rules` lists them"
    return f"no rule matches {pattern.strip()!r} ({hint})"


def resolve(patterns: Iterable[str], rules: Mapping[str, Rule], where: str) -> list[str]:
    """The IDs every pattern names, in catalogue order; raises :class:`PatternError` for the first
    pattern that names no rule."""
    found: set[str] = set()
    for pattern in patterns:
        ids = matching(pattern, rules)
        if not ids:
            raise PatternError(f"{where}: {unknown(pattern, rules)}")
        found.update(ids)
    return [rule_id for rule_id in rules if rule_id in found]


def selected(rules: Mapping[str, Rule], check: Iterable[str], skip: Iterable[str],
             where: tuple[str, str] = ("--check", "--skip-check")) -> set[str] | None:
    """The rule IDs a run keeps: those ``check`` names (every rule when it is empty) minus those
    ``skip`` names; None when neither narrows anything."""
    check, skip = list(check), list(skip)
    if not check and not skip:
        return None
    kept = set(resolve(check, rules, where[0])) if check else set(rules)
    return kept - set(resolve(skip, rules, where[1]))


def foreign_rules(rules: Mapping[str, Rule], tool: str) -> dict[str, list[str]]:
    """Another tool's check IDs -> our rule IDs, from the rules' ``references.other`` entries
    ("Checkov CKV_AWS_28" maps CKV_AWS_28 of tool "Checkov")."""
    prefix = tool.lower() + " "
    mapping: dict[str, list[str]] = {}
    for rule in rules.values():
        others = rule.references.get("other") or []
        for entry in others if isinstance(others, list) else [others]:
            text = str(entry).strip()
            if text.lower().startswith(prefix):
                mapping.setdefault(text[len(prefix):].strip().upper(), []).append(rule.id)
    return mapping
