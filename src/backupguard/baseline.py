"""Baselines: the findings a team has accepted, so that only new ones fail the run.

``backupguard baseline PATH... -o baseline.json`` writes one; ``--baseline FILE`` reads it, or a
JSON result document (``-f json``), and marks each failing or unknown result ``unchanged`` (its
fingerprint is in the baseline: it no longer fails the run) or ``new``.

The file is small, stable and sorted, one finding per line, so that it diffs well in review::

    {
      "kind": "backupguard-baseline",
      "version": 1,
      "findings": [
        {"fingerprint": "5f0c...", "rule_id": "BG201", "resource_id": "LegacyVault", "file": "stacks/vaults.yaml"}
      ]
    }

Only ``fingerprint`` decides; ``rule_id``, ``resource_id``, ``file`` (and ``account_id`` and
``region`` for a live finding) are there for humans and for counting fixed findings. A baseline
holds the failing and unknown results that nothing suppresses: a suppressed finding is accepted by
its suppression, and fails again when that expires or is removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from backupguard.results import Result

KIND = "backupguard-baseline"
VERSION = 1
_FIELDS = ("fingerprint", "rule_id", "resource_id", "file")
_LIVE_FIELDS = ("account_id", "region")


class BaselineError(ValueError):
    """A baseline file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    rule_id: str | None = None
    resource_id: str | None = None
    file: str | None = None
    account_id: str | None = None
    region: str | None = None

    def to_dict(self) -> dict[str, Any]:
        entry = {name: getattr(self, name) for name in _FIELDS}
        entry.update({name: getattr(self, name) for name in _LIVE_FIELDS if getattr(self, name) is not None})
        return entry

    def sort_key(self) -> tuple:
        return (self.file or "", self.account_id or "", self.region or "", self.rule_id or "",
                self.resource_id or "", self.fingerprint)


@dataclass(frozen=True)
class Baseline:
    source: str
    entries: dict[str, Entry]  # by fingerprint


def accepted_by_baseline(result: Result) -> bool:
    """Whether a result belongs in a baseline: failing or unknown, and not suppressed."""
    return result.status in ("fail", "unknown") and result.suppression is None and bool(result.fingerprint)


def entries(results: Iterable[Result]) -> list[Entry]:
    found = {
        r.fingerprint: Entry(r.fingerprint, r.rule_id, r.resource_id, r.file,
                             r.account_id if r.is_live else None, r.region if r.is_live else None)
        for r in results if accepted_by_baseline(r)
    }
    return sorted(found.values(), key=Entry.sort_key)


def render(results: Iterable[Result]) -> str:
    """The baseline file of these results (byte-identical for the same results)."""
    from backupguard.reports.printable import json_safe

    rows = [json.dumps(entry.to_dict(), ensure_ascii=False) for entry in entries(results)]
    findings = "[\n    " + ",\n    ".join(rows) + "\n  ]" if rows else "[]"
    return json_safe(f'{{\n  "kind": "{KIND}",\n  "version": {VERSION},\n  "findings": {findings}\n}}\n')


def read(path: Path) -> Baseline:
    """A baseline file, or the findings of a JSON result document; raises :class:`BaselineError`."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise BaselineError(f"{path}: not a baseline or JSON result document: "
                            f"{'nested too deeply' if isinstance(exc, RecursionError) else exc}") from None
    if isinstance(data, dict) and data.get("kind") == KIND:
        return Baseline(str(path), _entries(data, path))
    if isinstance(data, dict) and "schema_version" in data:
        from backupguard.reports.json_report import DocumentError, results_of, upgrade, validate

        try:
            validate(data, str(path))
        except DocumentError as exc:
            raise BaselineError(str(exc)) from None
        return Baseline(str(path), {e.fingerprint: e for e in entries(results_of(upgrade(data)))})
    raise BaselineError(f"{path}: not a baseline (written by `backupguard baseline`) or a JSON result document (-f json)")


def _entries(data: dict[str, Any], path: Path) -> dict[str, Entry]:
    if data.get("version") != VERSION:
        raise BaselineError(f"{path}: baseline version {data.get('version')!r} is not supported (expected {VERSION})")
    findings = data.get("findings")
    if not isinstance(findings, list):
        raise BaselineError(f"{path}: 'findings' must be a list")
    found: dict[str, Entry] = {}
    for index, item in enumerate(findings):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str) or not item["fingerprint"]:
            raise BaselineError(f"{path}: findings[{index}] needs a 'fingerprint' string")
        texts = {}
        for name in (*_FIELDS[1:], *_LIVE_FIELDS):
            value = item.get(name)
            if value is not None and not isinstance(value, str):
                raise BaselineError(f"{path}: findings[{index}].{name} must be a string or null")
            texts[name] = value
        found[item["fingerprint"]] = Entry(item["fingerprint"], **texts)
    return found
