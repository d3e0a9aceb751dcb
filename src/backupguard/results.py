"""The result document: what the engine produces and every report renders.

One :class:`Result` per rule x subject (and one ``error`` result per input that
could not be read). Results sort in a fixed order so that the same input gives
byte-identical output.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "low", "medium", "high", "critical")
STATUSES = ("fail", "unknown", "error", "pass", "not_applicable")
INPUT_ERROR_RULE = "BG000"
# Findings about suppressions themselves (metadata: backupguard.suppress.META_RULES).
INVALID_SUPPRESSION_RULE = "BG001"  # error: an inline suppression without a reason, or naming no rule
EXPIRED_WAIVER_RULE = "BG002"  # fail: a waiver past its expiry date (it no longer waives)
STALE_SUPPRESSION_RULE = "BG003"  # fail: a waiver or inline suppression that matches no finding
META_RULE_IDS = (INVALID_SUPPRESSION_RULE, EXPIRED_WAIVER_RULE, STALE_SUPPRESSION_RULE)


def shipped_rule(rule_id: str) -> bool:
    """A rule of backupguard's own catalogue (BGnnn, with a page under docs/rules), not a user's (PREFIX-NAME)."""
    return len(rule_id) == 5 and rule_id.startswith("BG") and rule_id[2:].isascii() and rule_id[2:].isdigit()


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def fingerprint(*parts: str | None) -> str:
    """Stable identity of a finding: rule, file, resource and element, never the line."""
    text = "\x1f".join([part or "" for part in parts])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


SUPPRESSION_KINDS = ("inline", "waiver")  # in the source (SARIF inSource) or in the config (external)
BASELINE_STATES = ("new", "unchanged")  # SARIF baselineState of a result compared with a baseline


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a failing or unknown result does not fail the run, and who said so.

    ``kind`` is ``inline`` (a comment or Metadata next to the resource) or ``waiver`` (the config
    file). ``file``/``line`` locate the suppression itself, so a report can link to it.
    """

    kind: str
    reason: str
    owner: str | None = None
    ticket: str | None = None
    expires: str | None = None  # ISO date; an expired waiver no longer suppresses
    file: str | None = None
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Suppression":
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__ if name in data})


# Not frozen: a result is treated as a value (changed only by dataclasses.replace), but a frozen
# dataclass's __init__ sets each of its 18 fields through object.__setattr__, a third of the engine's
# time per result (0.6 s of a 130,000-result run).
@dataclass(slots=True)
class Result:
    rule_id: str
    status: str  # fail | unknown | error | pass | not_applicable (a live-evidence rule on IaC)
    severity: str
    resource_id: str | None
    resource_type: str | None
    file: str | None
    line: int
    column: int
    message: str
    element: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    frameworks: tuple[str, ...] = ()
    fingerprint: str = ""
    suppression: Suppression | None = None  # an inline suppression or a config waiver covers this finding
    # Compared with a baseline (``--baseline``): "unchanged" when the baseline holds its fingerprint
    # (it no longer fails the run), "new" otherwise; None without a baseline.
    baseline: str | None = None
    # Where the subject lives in AWS: a live result always has account and Region (Region null for a
    # global scope such as Organizations) and, for a resource, its ARN. An IaC result has them only
    # when its origin says so (``--account-id``/``--region``, a Terraform provider's literal region).
    account_id: str | None = None
    region: str | None = None
    arn: str | None = None

    @property
    def is_live(self) -> bool:
        """A result located in an account and Region rather than in a file (a live scan's)."""
        return not self.file and (self.account_id is not None or self.region is not None or self.arn is not None)

    def scope(self) -> tuple[str, str]:
        """(account, Region) of a live result, for grouping; "" for what is not known."""
        return (self.account_id or "", self.region or "")

    def sort_key(self) -> tuple:
        # A file-based result sorts by file and position exactly as before; a live result (no file)
        # by account, Region and ARN. The scope is blank for file-based results on purpose: a
        # Terraform file whose resources use two providers keeps its line order.
        live = not self.file
        return (
            self.file or "",
            (self.account_id or "") if live else "",
            (self.region or "") if live else "",
            (self.arn or "") if live else "",
            self.line,
            self.column,
            self.rule_id,
            self.resource_id or "",
            self.element or "",
            self.status,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "status": self.status,
            "severity": self.severity,
            "resource_id": self.resource_id,
            "resource_type": self.resource_type,
            "element": self.element,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "account_id": self.account_id,
            "region": self.region,
            "arn": self.arn,
            "message": self.message,
            "values": self.values,
            "frameworks": list(self.frameworks),
            "fingerprint": self.fingerprint,
            "suppression": self.suppression.to_dict() if self.suppression else None,
            "baseline": self.baseline,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Result":
        """A result read back from a JSON result document (``backupguard report``)."""
        fields = {name: data.get(name) for name in cls.__dataclass_fields__ if name in data}
        fields["frameworks"] = tuple(data.get("frameworks") or ())
        fields["values"] = data.get("values") or {}
        if isinstance(data.get("suppression"), dict):
            fields["suppression"] = Suppression.from_dict(data["suppression"])
        elif data.get("waiver"):  # a document written by backupguard 0.1
            fields["suppression"] = Suppression("waiver", str(data["waiver"]))
        return cls(**fields)

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    @property
    def accepted(self) -> bool:
        """Suppressed, or already in the baseline: shown, but never fails the run."""
        return self.suppression is not None or self.baseline == "unchanged"

    @property
    def counts_as_failure(self) -> bool:
        return self.status == "fail" and not self.accepted
