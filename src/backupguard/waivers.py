"""Waivers: accepted findings, with their justification, declared in the config file.

::

    waivers:
      - rule: BG201                   # a rule ID, name or glob (BG2*), as for --check
        reason: Encrypted with aws/backup until the 2027 migration
        owner: storage-team           # optional: who accepted it
        ticket: OPS-123               # optional
        expires: 2026-06-30           # optional: from the day after, it no longer waives
        resource: "LegacyVault*"      # globs, each optional (default: any)
        file: "stacks/legacy/*"
        account: "111122223333"       # live (and --account-id) results: account, Region, ARN
        region: "eu-*"
        arn: "arn:aws:backup:*:*:backup-vault:legacy-*"

A waiver keeps the result (reports show it as waived, SARIF as an external suppression, JUnit as
skipped) but stops it from failing the run. This module reads and matches waivers; applying them
with inline suppressions and the baseline is :mod:`backupguard.suppress`'s job.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from backupguard.results import Result, Suppression

_MATCHERS = ("resource", "file", "account", "region", "arn")  # globs over the result's fields
_TEXTS = ("owner", "ticket")
_KEYS = {"rule", "reason", "expires", *_MATCHERS, *_TEXTS}


@dataclass(frozen=True)
class Waiver:
    rule: str  # a rule ID, name or glob
    reason: str
    resource: str = "*"
    file: str = "*"
    account: str | None = None
    region: str | None = None
    arn: str | None = None
    owner: str | None = None
    ticket: str | None = None
    expires: date | None = None  # waives through this day (UTC), not after
    source: str | None = None  # the config file that declares it
    line: int | None = None

    def covers(self, result: Result) -> bool:
        """Whether the waiver's globs match the result (its rule is matched by the caller)."""
        return (
            result.status in ("fail", "unknown")
            and fnmatch.fnmatchcase(result.resource_id or "", self.resource)
            and fnmatch.fnmatchcase(result.file or "", self.file)
            and all(getattr(self, key) is None or fnmatch.fnmatchcase(value or "", getattr(self, key))
                    for key, value in (("account", result.account_id), ("region", result.region), ("arn", result.arn)))
        )

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def suppression(self) -> Suppression:
        return Suppression("waiver", self.reason, self.owner, self.ticket,
                           self.expires.isoformat() if self.expires else None, self.source, self.line)

    def describe(self) -> str:
        """``waiver for BG201 (resource 'Legacy*', file 'stacks/*')``: what it says it waives."""
        scope = [f"{key} {getattr(self, key)!r}" for key in _MATCHERS
                 if getattr(self, key) not in (None, "*")]
        return f"waiver for {self.rule}" + (f" ({', '.join(scope)})" if scope else "")

    def identity(self) -> tuple[str, ...]:
        """What the waiver is, for its findings' fingerprints: never its reason, line or file."""
        return (self.rule, *(str(getattr(self, key) or "") for key in _MATCHERS))


def parse_waivers(entries: Any, source: str, lines: dict[int, int] | None = None) -> list[Waiver]:
    """The ``waivers`` list of a config file; raises ValueError naming the entry that is wrong.

    ``lines`` gives each entry's line in the file (results about a waiver point at it)."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ValueError(f"{source}: 'waivers' must be a list")
    waivers = []
    for index, entry in enumerate(entries):
        line = (lines or {}).get(index)
        where = f"{source}{f':{line}' if line else ''}: waivers[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str) or not str(entry.get("reason") or "").strip():
            raise ValueError(f"{where}: needs 'rule' and a non-empty 'reason' (resource, file, account, region, arn, "
                             "owner, ticket and expires are optional)")
        unknown = set(map(str, entry)) - _KEYS
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (expected {', '.join(sorted(_KEYS))})")
        texts: dict[str, Any] = {}
        for key in (*_MATCHERS, *_TEXTS):
            value = entry.get(key)
            if value is not None and not isinstance(value, str):
                hint = " (quote account IDs: '012345678901')" if key == "account" else ""
                raise ValueError(f"{where}: '{key}' must be a string{hint}")
            if value is not None:
                texts[key] = value
        waivers.append(Waiver(
            entry["rule"].strip(), " ".join(str(entry["reason"]).split()), **texts,
            expires=_date(entry.get("expires"), where), source=source, line=line,
        ))
    return waivers


def _date(value: Any, where: str) -> date | None:
    """A YAML date (``2026-06-30``) or the same as a string; anything else is a mistake."""
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{where}: 'expires' must be a date YYYY-MM-DD, got {value!r}")
