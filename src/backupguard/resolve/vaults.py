"""Facts about backup vaults: who manages the key, whether and how the vault is locked."""

from __future__ import annotations

from typing import Any

from backupguard.estate import BackupVault, Reference, Unknown, derive, in_words
from backupguard.resolve.attributes import name_of

KMS_KEY_TYPES = (
    "AWS::KMS::Key", "AWS::KMS::ReplicaKey", "AWS::KMS::Alias",
    "aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key", "aws_kms_replica_external_key", "aws_kms_alias",
)


def key_kind(key: Any) -> Any:
    """Who manages a vault's KMS key: ``customer`` or ``aws`` (AWS Backup's default ``aws/backup``)."""
    if isinstance(key, Unknown):
        return derive(key_kind, key)
    if key is None or key == "":
        return "aws"
    if isinstance(key, Reference):
        if key.target_type in KMS_KEY_TYPES:
            return "customer"
        return Unknown(f"key is '{key}', a {key.target_type or 'resource'} rather than a KMS key")
    if not isinstance(key, str):
        return Unknown("key is not a string")
    if ":alias/aws/" in key or key.startswith("alias/aws/"):
        return "aws"
    if ":key/" in key or ":alias/" in key or key.startswith("alias/") or _is_key_id(key):
        return "customer"
    return Unknown(f"key {key!r} is not a KMS key ARN")


def _is_key_id(text: str) -> bool:
    return (len(text) == 36 and text.count("-") == 4) or text.startswith("mrk-")


def is_locked(vault: BackupVault) -> Any:
    """Whether the vault has a Vault Lock at all (air-gapped vaults always do)."""
    if vault.air_gapped:
        return True
    if vault.lock is None:
        return False
    return vault.lock.present


def lock_mode(vault: BackupVault) -> Any:
    """``none``, ``governance`` or ``compliance``.

    Compliance mode is a lock with ChangeableForDays (or an air-gapped vault).
    A ChangeableForDays whose value is unknown but which is certainly set (a
    parameter without a default) is still compliance mode: AWS rejects values
    below 3 rather than falling back to governance.
    """
    if vault.air_gapped:
        return "compliance"
    if vault.lock is None:
        return "none"
    days = vault.lock.changeable_for_days
    if isinstance(days, Unknown) and not days.may_be_absent and not days.candidates:
        return "compliance"  # certainly set, value unknown

    def mode(locked: Any, changeable: Any) -> str:
        if locked is not True:
            return "none"
        return "governance" if changeable is None else "compliance"

    return derive(mode, vault.lock.present, days)


def key_description(vault: BackupVault, managed_by: Any) -> str:
    """How the vault's recovery points are encrypted, in words for messages (the key as far as it is
    known: its alias or ARN with the undetermined parts marked, never an internal repr)."""
    key = in_words(vault.encryption_key_arn)
    if managed_by == "customer":
        return f"the customer-managed key {key}"
    if vault.encryption_key_arn in (None, ""):
        unset = f"{name_of(vault.attributes, 'encryption_key_arn', 'EncryptionKeyArn')} not set"
        if vault.air_gapped:
            return f"an AWS owned key ({unset})"
        return f"the AWS managed key aws/backup ({unset})"
    if managed_by == "aws":
        return f"the AWS managed key {key}"
    return f"the key {key}"


# Vault Lock bounds AWS accepts (PutBackupVaultLockConfiguration; logically air-gapped vaults).
LOCK_MAX_DAYS = 36500
MIN_CHANGEABLE_DAYS = 3
AIR_GAPPED_MIN_DAYS = 7


def lock_bounds_problem(vault: BackupVault) -> Any:
    """Why AWS would reject the vault's lock settings, or None when they are valid."""
    if vault.lock is None:
        return None
    lock = vault.lock
    values = (lock.min_retention_days, lock.max_retention_days, lock.changeable_for_days)
    if any(isinstance(v, Unknown) and v.candidates for v in values):
        return derive(lambda low, high, changeable: _lock_problem(vault, low, high, changeable), *values)
    return _lock_problem(vault, *values)


def _lock_problem(vault: BackupVault, low: Any, high: Any, changeable: Any) -> Any:
    """The first bound AWS would reject; a check whose input is unknown is skipped, then Unknown if none failed."""
    unknown = next((v for v in (low, high, changeable) if isinstance(v, Unknown)), None)
    low, high, changeable = (None if isinstance(v, Unknown) else v for v in (low, high, changeable))
    lock = vault.lock
    names = vault.attributes
    minimum = name_of(names, "lock.min_retention_days", "MinRetentionDays")
    maximum = name_of(names, "lock.max_retention_days", "MaxRetentionDays")
    if vault.air_gapped and low is not None and low < AIR_GAPPED_MIN_DAYS:
        return f"{minimum} {low} is below {AIR_GAPPED_MIN_DAYS}, the minimum for a logically air-gapped vault"
    if vault.air_gapped and unknown is None and (low is None or high is None):
        return f"a logically air-gapped vault needs both {minimum} and {maximum}"
    if low is not None and low < 1:
        return f"{minimum} {low} is below 1"
    if high is not None and high > LOCK_MAX_DAYS:
        return f"{maximum} {high} is above {LOCK_MAX_DAYS}"
    if low is not None and high is not None and low > high:
        return f"{minimum} {low} is above {maximum} {high}"
    # A template's ChangeableForDays is the grace time asked for (AWS refuses less than 3); a live lock's
    # is the grace time left before its LockDate, which counts down to 0: not a mistake.
    declared = vault.origin.file is not None
    if changeable is not None and declared and not vault.air_gapped and changeable < MIN_CHANGEABLE_DAYS:
        return f"{name_of(names, 'lock.changeable_for_days', 'ChangeableForDays')} {changeable} is below {MIN_CHANGEABLE_DAYS}"
    if not vault.air_gapped and low is None and unknown is None and lock.present is True:
        return f"{name_of(names, 'lock', 'LockConfiguration')} needs {minimum}"
    return Unknown(unknown.reason, unknown.refs) if unknown is not None else None
