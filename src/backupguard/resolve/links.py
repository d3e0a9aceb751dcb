"""How entities point at each other: which vault a rule or copy targets, which plan a selection serves.

In CloudFormation these links are ``Ref``/``Fn::GetAtt`` (a
:class:`~backupguard.estate.Reference`), names (``TargetBackupVault: main``) or
ARNs (``DestinationBackupVaultArn``). A link to something outside the estate is
not an error: the target exists elsewhere and its properties are unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backupguard.estate import (
    BackupPlan, BackupSelection, BackupVault, Elsewhere, Estate, Origin, Reference, Unknown, never_pseudo,
)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a copy action sends recovery points."""

    region: Any  # str, None (same as the source's, symbolically) or Unknown
    account: Any
    vault: BackupVault | None  # the vault when it is declared in the estate
    arn: Any


_PSEUDO = ("${AWS::Region}", "${AWS::AccountId}", "${AWS::Partition}", "${not AWS::Region}", "${not AWS::AccountId}")


def split_arn(arn: str, fields: int = 6) -> list[str]:
    """An ARN's colon-separated fields, keeping symbolic ``${AWS::Region}``-style parts whole."""
    protected = arn
    for index, pseudo in enumerate(_PSEUDO):
        protected = protected.replace(pseudo, f"\x00{index}\x00")
    parts = protected.split(":", fields - 1)
    for index, pseudo in enumerate(_PSEUDO):
        parts = [part.replace(f"\x00{index}\x00", pseudo) for part in parts]
    return parts


def parse_vault_arn(arn: str) -> tuple[str, str, str] | None:
    """``arn:aws:backup:<region>:<account>:backup-vault:<name>`` -> (region, account, name)."""
    parts = split_arn(arn, 7)
    if len(parts) != 7 or parts[2] != "backup" or parts[5] != "backup-vault":
        return None
    return parts[3], parts[4], parts[6]


def _folder(origin: Origin) -> str | None:
    return origin.file.rsplit("/", 1)[0] if origin.file and "/" in origin.file else origin.file and ""


def _vault_key(origin: Origin, name: str, region: str | None = None, account: str | None = None) -> tuple:
    """Where a vault name is unique: (account, Region) when both are known, else the folder."""
    region, account = region or origin.region, account or origin.account
    if region and account:
        return ("scope", account, region, name)
    return ("folder", _folder(origin), name)


def _field(text: str, arn: Unknown, home: Any, index: int) -> Any:
    """One field of a partly known destination ARN: literal, the source's own, or unknown.

    An unknown part of the ARN leaves the other fields known: ``${AWS::Region}`` with an unknown
    account is still the source's Region. An unknown field keeps what is known of it: the values
    it can take (from the ARN's candidates) and whether it is never the source's own
    (``${not AWS::Region}``: a Region-keyed map whose every entry names another Region).
    """
    if "${" not in text:
        return None if text == home else text
    if text in ("${AWS::Region}", "${AWS::AccountId}"):
        return None
    options: list[Any] = []
    for candidate in arn.candidates:
        parsed = parse_vault_arn(candidate) if isinstance(candidate, str) else None
        if parsed is None:
            options = []
            break
        value = _field(parsed[index], Unknown(arn.reason), home, index)
        if isinstance(value, Unknown):
            options = []
            break
        if value not in options:
            options.append(value)
    pseudo = text[len("${not "):-1] if text.startswith("${not AWS::") and text.endswith("}") else None
    if len(options) == 1 and pseudo is None:
        return options[0]
    if pseudo:
        return Elsewhere(arn.reason, arn.refs, tuple(options), pseudo=pseudo)
    return Unknown(arn.reason, arn.refs, tuple(options))


def _own(text: str, home: Any) -> Any:
    """A literal ARN field as a destination's Region/account: None for the source's own, an Unknown
    that is never the source's for ``${not AWS::Region}`` (a branch of a Region condition)."""
    if text in ("${AWS::Region}", "${AWS::AccountId}"):
        return None
    if text in ("${not AWS::Region}", "${not AWS::AccountId}"):
        what = "Region" if "Region" in text else "account"
        return Elsewhere(f"another {what} than the deployment's, which is not known", pseudo=text[6:-1])
    return None if text == home else text


def _agreed(values: list[Any], arn: Unknown) -> Any:
    """One field over a few candidate ARNs: decided where they agree, else an Unknown that keeps
    the values (and whether each is certainly another Region or account than the source's)."""
    if all(v is None for v in values):
        return None
    marks = {never_pseudo(v) for v in values}
    if len(marks) == 1 and None not in marks:
        return Elsewhere(arn.reason, arn.refs, pseudo=marks.pop())
    if any(isinstance(v, Unknown) for v in values):
        return Unknown(arn.reason, arn.refs)
    if len(set(values)) == 1:
        return values[0]
    return Unknown(arn.reason, arn.refs, tuple(dict.fromkeys(values)))


def _elsewhere(value: Any, home: Any) -> Any:
    """A declared vault's Region/account as a copy destination: None when it is the source's own."""
    return None if value is None or value == home else value


class _ByResourceId:
    """Plans or vaults by resource ID (logical ID, Terraform address, live ARN). A reference (``!Ref``,
    a Terraform address) names one of its own template's or root module's: two templates linted
    together may both call their plan ``BackupPlan``, so the referring entity's unit is looked in first."""

    def __init__(self, entities: list[Any]):
        self.in_unit: dict[tuple, Any] = {}
        self.anywhere: dict[str, Any] = {}
        for entity in entities:
            self.in_unit.setdefault((entity.origin.unit, entity.resource_id), entity)
            self.anywhere[entity.resource_id] = entity

    def get(self, resource_id: Any, near: Origin | None = None) -> Any:
        if near is not None and near.unit:
            found = self.in_unit.get((near.unit, resource_id))
            if found is not None:
                return found
        return self.anywhere.get(resource_id)

    def __contains__(self, resource_id: Any) -> bool:
        return resource_id in self.anywhere


class EstateIndex:
    """Lookups over an estate, built once per run."""

    def __init__(self, estate: Estate):
        self.estate = estate
        self.vaults_by_id = _ByResourceId(estate.vaults)
        # A vault's name is unique within an account and Region, so that is where a name is looked up.
        # Without a known account and Region (a template alone) the folder stands in for them: a
        # Terraform module spans its files, and templates deployed side by side share an account.
        self.vaults_by_name: dict[tuple, BackupVault] = {}
        self.vaults_by_arn: dict[str, BackupVault] = {}
        for vault in estate.vaults:
            if isinstance(vault.name, str):
                self.vaults_by_name.setdefault(_vault_key(vault.origin, vault.name), vault)
                # a Terraform root module deploys its child modules' vaults too (module outputs name them)
                self.vaults_by_name.setdefault(("unit", vault.origin.unit, vault.name), vault)
            if vault.origin.arn:
                self.vaults_by_arn.setdefault(vault.origin.arn, vault)
        self.plans_by_id = _ByResourceId(estate.plans)

    def vault_named(self, name: Any, near: Origin) -> BackupVault | None | Unknown:
        """The vault a rule's TargetBackupVault names (a Ref returns the vault's name)."""
        if isinstance(name, Reference):
            return self.vaults_by_id.get(name.target, near)
        if isinstance(name, Unknown):
            for ref in name.refs:
                if ref in self.vaults_by_id:
                    return self.vaults_by_id.get(ref, near)
            return name
        if isinstance(name, str):
            return self._named(name, near)
        return None

    def _named(self, name: str, near: Origin) -> BackupVault | None:
        """A vault by name where it is unique (account and Region, else folder), else in the same deployment unit."""
        found = self.vaults_by_name.get(_vault_key(near, name))
        if found is None and near.unit and not (near.account and near.region):
            found = self.vaults_by_name.get(("unit", near.unit, name))
        return found

    def destination(self, arn: Any, near: Origin) -> Destination:
        """Region, account and (when declared) vault of a copy action's destination."""
        if isinstance(arn, Reference) or (isinstance(arn, Unknown) and arn.refs):
            target = arn.target if isinstance(arn, Reference) else next(
                (r for r in arn.refs if r in self.vaults_by_id), None
            )
            vault = self.vaults_by_id.get(target, near) if target else None
            if vault is not None:  # a declared vault: its own Region and account (None: the source's)
                return Destination(_elsewhere(vault.origin.region, near.region), _elsewhere(vault.origin.account, near.account), vault, arn)
        if isinstance(arn, Unknown) and arn.text and parse_vault_arn(arn.text):
            # partly known ("arn:aws:backup:eu-central-1:${account}:backup-vault:dr"): its literal fields count
            region, account, name = parse_vault_arn(arn.text)
            return Destination(_field(region, arn, near.region, 0), _field(account, arn, near.account, 1), None, arn)
        if isinstance(arn, Unknown) and arn.candidates and all(
            isinstance(c, str) and parse_vault_arn(c) for c in arn.candidates
        ):  # one of a few ARNs (Fn::If, a Region-keyed map): each field is decided where they agree
            fields = [parse_vault_arn(c) for c in arn.candidates]
            return Destination(_agreed([_own(f[0], near.region) for f in fields], arn),
                               _agreed([_own(f[1], near.account) for f in fields], arn), None, arn)
        if isinstance(arn, Unknown):
            return Destination(arn, arn, None, arn)
        if not isinstance(arn, str):
            unknown = Unknown("the copy destination is not an ARN")
            return Destination(unknown, unknown, None, arn)
        parsed = parse_vault_arn(arn)
        if parsed is None:
            unknown = Unknown(f"copy destination {arn!r} is not a backup vault ARN")
            return Destination(unknown, unknown, None, arn)
        region, account, name = parsed
        region_value, account_value = _own(region, None), _own(account, None)
        if isinstance(region_value, Unknown) or isinstance(account_value, Unknown):
            return Destination(region_value, account_value, None, arn)
        vault = self.vaults_by_arn.get(arn)  # a scanned vault in any account and Region
        if vault is None and region_value in (None, near.region) and account_value in (None, near.account):
            vault = self._named(name, near)
        return Destination(region_value, account_value, vault, arn)

    def plan_of(self, selection: BackupSelection) -> BackupPlan | None | Unknown:
        """The plan a selection assigns resources to (None: a plan outside the estate)."""
        ref, near = selection.plan_ref, selection.origin
        if isinstance(ref, str):  # a live selection names its plan by the plan's resource ID (its ARN)
            return self.plans_by_id.get(ref, near)
        if isinstance(ref, Reference):
            return self.plans_by_id.get(ref.target, near)
        if isinstance(ref, Unknown):
            for target in ref.refs:
                if target in self.plans_by_id:
                    return self.plans_by_id.get(target, near)
            if ref.candidates and any(isinstance(c, Reference) for c in ref.candidates):
                return ref  # one of several template plans: which one is undetermined
            return None  # an imported or parameter-given ID: a plan outside the template
        return None
