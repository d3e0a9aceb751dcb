"""The Estate: one typed model of everything backupguard checks, whatever the source.

Sources (CloudFormation, later Terraform and live AWS) build an :class:`Estate`;
the resolver derives facts from it; rules never look at raw templates. Every
entity keeps its :class:`Origin` so that a finding can point at a file and line
(IaC) or an account, Region and ARN (live).

A value a source cannot determine (a parameter without a default, a value known
only after apply) is an :class:`Unknown` carrying the reason, never a guess.
``None`` means "not set", which is different: an absent ``DeleteAfterDays``
means "keep forever", an unknown one means "we cannot tell".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import product
from math import prod
from typing import Any, Callable


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value that the input does not determine.

    ``reason`` names the input that decides it (``parameter 'Retention' has no
    value``); ``refs`` lists resources of the same source that the value was
    built from (a ``Fn::Sub`` ARN of a template resource), so that the resolver
    can still match it to them.
    """

    reason: str
    refs: tuple[str, ...] = ()
    # The values it can take, when the input narrows it down (``Fn::If`` on an
    # undetermined condition): a rule that gives the same verdict for each of
    # them is decided after all. Empty when anything is possible.
    candidates: tuple[Any, ...] = ()
    # True when the property may be absent altogether (one branch is AWS::NoValue).
    may_be_absent: bool = False
    # For a string built from template resources (Fn::Sub), the text with their ${...} left in:
    # "arn:aws:s3:::${Bucket}" names the bucket, "arn:aws:s3:::${Bucket}-replica" does not.
    text: str | None = None

    def __str__(self) -> str:
        return f"unknown ({self.reason})"

    def map(self, convert: Any) -> "Unknown":
        """The same unknown with each candidate converted (numbers given as strings...)."""
        if not self.candidates:
            return self
        converted = tuple(convert(c) for c in self.candidates)
        if any(isinstance(c, Unknown) for c in converted):
            return Unknown(self.reason, self.refs, (), self.may_be_absent)
        return Unknown(self.reason, self.refs, converted, self.may_be_absent, self.text)


@dataclass(frozen=True, slots=True)
class Elsewhere(Unknown):
    """An unknown value that is never the deployment's own value of a pseudo parameter.

    A CloudFormation ``Fn::FindInMap`` keyed by ``AWS::Region`` whose every entry names another
    Region, or a branch of ``!If [IsUsEast1, ...]`` naming us-east-1 where the stack is not in
    us-east-1: a copy there is cross-Region wherever the stack deploys.
    """

    pseudo: str = "AWS::Region"  # or "AWS::AccountId"

    def __repr__(self) -> str:  # as a message shows it in a list ("copies it to [another Region ...]")
        return "another Region than its own" if self.pseudo == "AWS::Region" else "another account than its own"


def never_pseudo(value: Any) -> str | None:
    """The pseudo parameter (``AWS::Region``...) whose deployment value ``value`` certainly is not."""
    return value.pseudo if isinstance(value, Elsewhere) else None


# Ends the ``text`` of an Unknown name that the service or the tool completes (a Terraform bucket_prefix
# plus a unique suffix): its literal start is known, and no literal in a selection equals the rest.
GENERATED = "${generated}"


def in_words(value: Any, what: str | None = None) -> str:
    """A value as a message shows it: what is known of an undetermined one rather than its repr.

    A partly known text shows its known parts (``arn:aws:kms:${var.region}:...:alias/backup``), a
    value the inputs narrow down its possible values (``alias/aws/backup``, ``7 or 35``);
    only a value nothing is known of reads "unknown (reason)", or "a vault not known here (reason)"
    when ``what`` names what it is.
    """
    if isinstance(value, Unknown):
        if value.text is not None:
            return value.text.replace(GENERATED, "...")
        if value.candidates:
            return " or ".join(dict.fromkeys(in_words(candidate) for candidate in value.candidates))
        if what is not None:
            return f"a {what} not known here ({value.reason})"
    return "not set" if value is None else str(value)


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


# AWS APIs take day counts, windows and other whole numbers as a Java ``Long``.
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
# Longer number texts are refused before conversion: no Long needs more, and Python's int()
# raises on texts over 4,300 digits (sys.get_int_max_str_digits) instead of answering.
MAX_NUMBER_TEXT = 64
# ASCII only: Python's int() and float() also accept other scripts' digits ("٣٥" is 35), AWS does not.
ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def whole_number(value: Any) -> int:
    """A whole number the way the AWS APIs parse one; raises ValueError with the reason otherwise.

    Accepts ints, integral finite floats and ASCII number texts ("35", " 35 ",
    "35.0") within the Long range; refuses booleans, non-finite and fractional
    numbers, other scripts' digits and anything else, so that a value AWS
    rejects never reads as a (huge or infinite) retention.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{_shown(value)} is not a number")
    number: Any = value
    if isinstance(value, str):
        text = value.strip(" \t\r\n")
        if len(text) > MAX_NUMBER_TEXT or not ASCII_NUMBER.fullmatch(text):
            raise ValueError(f"{_shown(value)} is not a number")
        number = int(text) if text.lstrip("+-").isdigit() else float(text)
    if isinstance(number, float):
        if not math.isfinite(number):
            raise ValueError(f"{_shown(value)} is not a finite number")
        if not number.is_integer():
            raise ValueError(f"{_shown(value)} is not a whole number")
        number = int(number)
    if not LONG_MIN <= number <= LONG_MAX:
        raise ValueError(f"{_shown(value)} is out of range (AWS takes a 64-bit whole number)")
    return number


def _shown(value: Any, limit: int = 40) -> str:
    """A value for a message, shortened (a 5,000-digit number is not repeated in full)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**limit:
        return f"a number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_MAX_COMBINATIONS = 64


def derive(compute: Callable[..., Any], *inputs: Any) -> Any:
    """``compute(*inputs)``, carried through unknown inputs.

    With no unknown input this is just the call. When unknown inputs have a few
    possible values (candidates), the result is computed for each combination:
    a single outcome is known after all, several become the candidates of an
    Unknown. Otherwise the result is Unknown with the first input's reason and
    *no* candidates: an input's candidates are never a derived fact's.
    """
    unknowns = [value for value in inputs if isinstance(value, Unknown)]
    if not unknowns:
        return compute(*inputs)
    first = unknowns[0]
    bare = Unknown(first.reason, first.refs)
    choices = [value.candidates if isinstance(value, Unknown) else (value,) for value in inputs]
    if any(not c for c in choices) or prod(len(c) for c in choices) > _MAX_COMBINATIONS:
        return bare
    outcomes: list[Any] = []
    for combination in product(*choices):
        outcome = compute(*combination)
        if isinstance(outcome, Unknown):
            return bare
        if outcome not in outcomes:
            outcomes.append(outcome)
    if len(outcomes) == 1:
        return outcomes[0]
    return Unknown(first.reason, first.refs, tuple(outcomes))


class OpenTags(dict):
    """Tags of which only some are known: those the resource sets itself, while more may come
    from somewhere undetermined (Terraform provider default_tags from a variable without value).
    A key it does not hold is unknown, not absent."""

    def __init__(self, known: dict, reason: str):
        super().__init__(known)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reference:
    """A value that names another resource of the same source.

    CloudFormation ``Ref``/``Fn::GetAtt`` (``target`` is the logical ID) and, later,
    Terraform references (the address). Whether the value is known depends on
    what the referenced resource is: a reference to an ``AWS::KMS::Key`` is a
    customer-managed key even though its ARN exists only after deployment.
    """

    target: str
    attribute: str | None = None
    target_type: str | None = None

    def __str__(self) -> str:
        return f"{self.target}.{self.attribute}" if self.attribute else self.target


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an entity or value was declared.

    ``file`` is the path as given to the scanner (relative when the user gave a
    relative path); ``line`` and ``column`` are 1-based. Live entities carry
    ``account``, ``region`` and ``arn`` instead.
    """

    file: str | None = None
    line: int = 1
    column: int = 1
    account: str | None = None
    region: str | None = None
    arn: str | None = None
    # The deployment it belongs to: a CloudFormation template (a stack), a Terraform root module, a
    # policy file. Without a known account and Region, a selection is paired with its own unit only.
    unit: str | None = None

    def at(self, line: int | None, column: int | None = None) -> "Origin":
        """The same file, another position (used for a property inside a resource)."""
        if line is None:
            return self
        return Origin(self.file, line, column or 1, self.account, self.region, self.arn, self.unit)


@dataclass(frozen=True, slots=True)
class Attribute:
    """A setting as its source writes it, so a result can name it and point at it.

    ``name`` is the dotted path the user writes (CloudFormation
    ``PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled``, Terraform
    ``point_in_time_recovery.enabled``, the API's ``BackupRetentionPeriod``), known
    whether or not the setting is written, so a message can say "``deletion_protection``
    not set". ``origin`` is where the key is written (IaC); None when it is not written,
    or when the source has no positions (live, a plan without its configuration).
    """

    name: str
    origin: Origin | None = None


# Entities' attributes, keyed by the model's own name for the setting: a NativeSettings key for a
# protected resource, a field name (dotted for a nested one: ``lifecycle.delete_after_days``,
# ``lock.min_retention_days``) for plan rules, copy actions and vaults. See native_settings.
Attributes = dict[str, Attribute]


# ---------------------------------------------------------------------------
# AWS Backup entities
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Lifecycle:
    delete_after_days: Any = None  # int | None (never expires) | Unknown
    move_to_cold_storage_after_days: Any = None
    opt_in_to_archive: Any = None
    origin: Origin = field(default_factory=Origin)


@dataclass(slots=True)
class CopyAction:
    destination_vault_arn: Any
    lifecycle: Lifecycle | None
    origin: Origin
    attributes: Attributes = field(default_factory=dict)  # destination_vault_arn, lifecycle.*


@dataclass(slots=True)
class BackupRule:
    name: Any
    target_vault: Any  # vault name (CFN TargetBackupVault)
    schedule: Any = None  # "cron(...)" | None | Unknown
    timezone: Any = None
    start_window_minutes: Any = None
    completion_window_minutes: Any = None
    lifecycle: Lifecycle | None = None
    copy_actions: list[CopyAction] = field(default_factory=list)
    continuous_backup: Any = False
    target_air_gapped_vault_arn: Any = None
    origin: Origin = field(default_factory=Origin)
    attributes: Attributes = field(default_factory=dict)  # schedule, start_window_minutes, lifecycle.*...


@dataclass(slots=True)
class BackupPlan:
    resource_id: str
    name: Any
    rules: list[BackupRule]
    origin: Origin
    resource_type: str = "AWS::Backup::BackupPlan"
    tags: Any = field(default_factory=dict)
    advanced_backup_settings: Any = field(default_factory=list)


@dataclass(slots=True)
class TagCondition:
    """One ListOfTags entry or one Conditions entry of a selection."""

    operator: str  # STRINGEQUALS (ListOfTags) or StringEquals/StringNotEquals/StringLike/StringNotLike
    key: Any
    value: Any


@dataclass(slots=True)
class BackupSelection:
    resource_id: str
    name: Any
    plan_ref: Any  # the plan's resource id when the source links it, else the raw id/Unknown
    iam_role_arn: Any
    resources: Any = field(default_factory=list)
    not_resources: Any = field(default_factory=list)
    list_of_tags: list[TagCondition] = field(default_factory=list)
    conditions: list[TagCondition] = field(default_factory=list)
    origin: Origin = field(default_factory=Origin)
    resource_type: str = "AWS::Backup::BackupSelection"
    exists: Any = True  # Unknown when its CloudFormation Condition is undetermined


@dataclass(slots=True)
class VaultLock:
    min_retention_days: Any = None
    max_retention_days: Any = None
    changeable_for_days: Any = None  # None -> governance mode; a number -> compliance mode
    origin: Origin = field(default_factory=Origin)
    present: Any = True  # Unknown when the whole LockConfiguration may be removed (Fn::If ... AWS::NoValue)


def air_gapped_lock(min_retention_days: Any, max_retention_days: Any, origin: Origin) -> VaultLock:
    """A logically air-gapped vault is always locked in compliance mode, within its own bounds (AWS docs)."""
    return VaultLock(min_retention_days, max_retention_days, changeable_for_days=0, origin=origin)


@dataclass(slots=True)
class BackupVault:
    resource_id: str
    name: Any
    origin: Origin
    encryption_key_arn: Any = None  # None -> AWS Backup's default key (aws/backup)
    lock: VaultLock | None = None
    access_policy: Any = None  # parsed JSON policy document, None or Unknown
    notifications: Any = None
    air_gapped: bool = False
    resource_type: str = "AWS::Backup::BackupVault"
    tags: Any = field(default_factory=dict)
    attributes: Attributes = field(default_factory=dict)  # encryption_key_arn, lock, lock.*, access_policy...


@dataclass(slots=True)
class BackupFramework:
    resource_id: str
    name: Any
    controls: Any
    origin: Origin
    resource_type: str = "AWS::Backup::Framework"


@dataclass(slots=True)
class ReportPlan:
    resource_id: str
    name: Any
    template: Any
    framework_arns: Any
    origin: Origin
    resource_type: str = "AWS::Backup::ReportPlan"


@dataclass(slots=True)
class RestoreTestingPlan:
    resource_id: str
    name: Any
    schedule: Any
    properties: Any
    origin: Origin
    resource_type: str = "AWS::Backup::RestoreTestingPlan"
    start_window_hours: Any = None  # None: AWS's default (24)
    selection_window_days: Any = None


@dataclass(slots=True)
class RestoreTestingSelection:
    resource_id: str
    name: Any
    plan_name: Any
    properties: Any
    origin: Origin
    resource_type: str = "AWS::Backup::RestoreTestingSelection"
    # As the source writes them (CloudFormation and the API: ProtectedResourceType...; Terraform:
    # protected_resource_type...): AWS Backup's type name, ["*"] or ARNs, the tag conditions, and
    # the hours a restored resource is kept for validation (None: not set, AWS keeps none).
    protected_resource_type: Any = None
    protected_resource_arns: Any = None
    protected_resource_conditions: Any = None
    validation_window_hours: Any = None


@dataclass(slots=True)
class OrgBackupPolicy:
    """An Organizations policy of type BACKUP_POLICY; ``content`` is the parsed JSON document."""

    resource_id: str
    name: Any
    content: Any
    origin: Origin
    resource_type: str = "AWS::Organizations::Policy"
    text_length: int | None = None  # characters of the document as submitted (the 10,000 limit)


# ---------------------------------------------------------------------------
# Protectable resources
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class ProtectedResource:
    """A resource AWS Backup can protect, with its native backup settings.

    ``service`` is AWS Backup's resource-type name (``EBS``, ``RDS``, ``Aurora``,
    ``DynamoDB``...). ``settings`` holds the native backup settings under
    source-independent names (see ``scanner.cloudformation.resources`` for the
    mapping); a setting the template leaves out is absent from the dict, so a
    rule can tell "not set" (service default) from "set to X".
    """

    resource_id: str
    resource_type: str
    service: str
    origin: Origin
    tags: Any = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    arn: Any = None  # known for live resources; for IaC, resolve.selection.resource_arn models it
    name: Any = None  # physical name when the source declares one (BucketName, TableName...)
    evidence: "BackupEvidence | None" = None  # live scans only: what AWS Backup reports about it
    attributes: Attributes = field(default_factory=dict)  # per settings key: its name and position in the source


@dataclass(frozen=True, slots=True)
class BackupEvidence:
    """What AWS Backup says about a resource it protects (``ListProtectedResources``,
    ``DescribeProtectedResource``). Templates have none: the evidence rules are then not applicable.

    ``as_of`` is when the scan read it, so ages are computed against the scan, not the clock of
    whoever renders the report (re-rendering stays byte-identical).
    """

    as_of: datetime
    last_backup_time: datetime | None = None
    latest_restore_minutes: int | None = None  # LatestRestoreExecutionTimeMinutes
    latest_restore_job_time: datetime | None = None


@dataclass(slots=True)
class RecoveryPoint:
    """One recovery point in a vault (live scans only; ``ListRecoveryPointsByBackupVault``)."""

    arn: str
    resource_arn: str
    resource_type: str  # AWS Backup's name (EBS, RDS, ...)
    vault_arn: str
    created: datetime
    status: str  # COMPLETED, PARTIAL, DELETING, EXPIRED, ...
    origin: Origin
    encrypted: bool | None = None
    encryption_key_arn: str | None = None
    delete_at: datetime | None = None  # CalculatedLifecycle.DeleteAt; None: kept forever
    air_gapped_vault: bool = False


@dataclass(frozen=True, slots=True)
class StackResource:
    """One resource of a deployed CloudFormation stack (``ListStackResources``): what a template's
    logical ID became in the account. Drift pairs code with live entities through it; it is not
    part of the Estate (nothing else needs it)."""

    stack: str
    logical_id: str
    physical_id: str | None
    resource_type: str


@dataclass(slots=True)
class RestoreJob:
    """One completed restore job (live scans only; ``ListRestoreJobs`` with ``ByStatus=COMPLETED``).

    ``resource_type`` is AWS Backup's name (EBS, RDS, ...), as a restore testing selection's
    ``ProtectedResourceType`` and a resource's ``service`` spell it. ``restore_testing_plan_arn``
    is set when restore testing started the job (``CreatedBy``), None for an on-demand restore.
    """

    job_id: str
    resource_type: str
    completed: datetime | None
    origin: Origin
    source_resource_arn: str | None = None
    restore_testing_plan_arn: str | None = None
    validation_status: str | None = None


@dataclass(frozen=True, slots=True)
class RestoreJobWindow:
    """When a live scan read an account and Region's completed restore jobs (``as_of``), and from
    when (``since``: the lookback). Ages are computed against ``as_of``, never the renderer's clock."""

    as_of: datetime
    since: datetime


@dataclass(slots=True)
class InputError:
    """A file or value that could not be read; it becomes one ``error`` result."""

    message: str
    origin: Origin
    code: str = "input-error"


@dataclass(frozen=True, slots=True)
class InlineSuppression:
    """A suppression written next to a resource: CloudFormation ``Metadata`` or a Terraform comment.

    ``rule`` is as written: a rule ID, name or glob, or another tool's check ID when ``tool`` names
    that tool ("checkov"). ``reason`` is None when none was given (never honoured: an error result
    says so), ``problem`` says what is wrong with an entry that cannot be read. ``origin`` locates
    the suppression itself. It covers the results of its file that name ``resource`` or, when
    ``lines`` is set (a Terraform block's first and last line), that lie within those lines.
    """

    rule: str
    reason: str | None
    origin: Origin
    resource: str | None = None
    lines: tuple[int, int] | None = None
    tool: str | None = None
    problem: str | None = None


@dataclass(slots=True)
class Estate:
    plans: list[BackupPlan] = field(default_factory=list)
    selections: list[BackupSelection] = field(default_factory=list)
    vaults: list[BackupVault] = field(default_factory=list)
    frameworks: list[BackupFramework] = field(default_factory=list)
    report_plans: list[ReportPlan] = field(default_factory=list)
    restore_testing_plans: list[RestoreTestingPlan] = field(default_factory=list)
    restore_testing_selections: list[RestoreTestingSelection] = field(default_factory=list)
    org_policies: list[OrgBackupPolicy] = field(default_factory=list)
    resources: list[ProtectedResource] = field(default_factory=list)
    recovery_points: list[RecoveryPoint] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the sources want the user to know (modules not followed)
    # AWS Backup service opt-in the sources declare (aws_backup_region_settings, DescribeRegionSettings),
    # per region_scope(): {scope: {service: bool}}. Region settings are per account and Region.
    opt_in: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Account-wide AWS Backup settings the sources declare (aws_backup_global_settings), as AWS
    # gives them (strings: {"isCrossAccountBackupEnabled": "true"}), per settings_scope()
    global_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    suppressions: list[InlineSuppression] = field(default_factory=list)  # inline, as the sources read them
    # CloudFormation parameter names the templates declare (a --parameter none declares is a typo to warn about)
    declared_parameters: list[str] = field(default_factory=list)
    # Completed restore jobs a live scan read, and per region_scope() the window it read them in
    # (RestoreJobWindow), or Unknown when ListRestoreJobs failed there: no job is then not "none happened".
    restore_jobs: list[RestoreJob] = field(default_factory=list)
    restore_jobs_read: dict[str, Any] = field(default_factory=dict)

    def add(self, entity: Any) -> None:
        """Put an entity in the collection of its kind."""
        getattr(self, _COLLECTIONS[type(entity).__name__]).append(entity)

    def extend(self, other: "Estate") -> None:
        """Merge another estate (one file's or module's) into this one."""
        for name in self.__dataclass_fields__:
            mine = getattr(self, name)
            mine.update(getattr(other, name)) if isinstance(mine, dict) else mine.extend(getattr(other, name))


def region_scope(origin: Origin) -> str:
    """Where Region settings (service opt-in) apply: the account and Region when both are known, else
    the deployment unit that declares them (a template or root module is deployed to one Region)."""
    if origin.account and origin.region:
        return f"account {origin.account} region {origin.region}"
    return f"unit {origin.unit or origin.file}"


def settings_scope(origin: Origin) -> str:
    """Where account-wide settings apply: the account when known, else the deployment unit
    (template or root module) that declares them, never the whole scan."""
    return f"account {origin.account}" if origin.account else f"unit {origin.unit or origin.file}"


_COLLECTIONS = {
    "BackupPlan": "plans",
    "BackupSelection": "selections",
    "BackupVault": "vaults",
    "BackupFramework": "frameworks",
    "ReportPlan": "report_plans",
    "RestoreTestingPlan": "restore_testing_plans",
    "RestoreTestingSelection": "restore_testing_selections",
    "OrgBackupPolicy": "org_policies",
    "ProtectedResource": "resources",
    "RecoveryPoint": "recovery_points",
    "RestoreJob": "restore_jobs",
}
