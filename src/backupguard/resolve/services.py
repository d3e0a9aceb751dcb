"""What each AWS Backup resource type supports: the feature-availability facts the rules rely on.

One table, so that a correction (AWS adds cold storage for a type) is one line.
Sources: AWS Backup Developer Guide, "Feature availability by resource"
(https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-feature-availability.html),
"Encryption for backups" (.../encryption.html) and "Service opt-in"
(.../service-opt-in.html), as summarised in shared/reference/aws-backup.md
sections 4 and 5. Where AWS's table could not be confirmed the value errs
towards *not* reporting a problem (these facts feed low-severity rules).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    cold_storage: bool  # lifecycle to cold storage is honoured (ignored silently otherwise)
    vault_key: bool  # backups are encrypted with the vault's key, independently of the source
    continuous: bool  # continuous backup / point-in-time recovery through AWS Backup
    always_needs_opt_in: bool = False  # selected even by a resource-type ARN only when opted in
    opted_in_by_default: bool = True  # assumption for IaC when the Region's settings are not declared
    # restore testing can restore it (ProtectedResourceType of a restore testing selection); the
    # Developer Guide's "Restore testing" page lists the types. False errs towards no report.
    restore_testing: bool = True


SERVICES: dict[str, ServiceFacts] = {
    "EC2": ServiceFacts(cold_storage=False, vault_key=False, continuous=False),
    "EBS": ServiceFacts(cold_storage=False, vault_key=False, continuous=False),
    "RDS": ServiceFacts(cold_storage=False, vault_key=False, continuous=True),
    "Aurora": ServiceFacts(cold_storage=False, vault_key=False, continuous=True, always_needs_opt_in=True),
    "DocumentDB": ServiceFacts(cold_storage=False, vault_key=False, continuous=False, always_needs_opt_in=True),
    "Neptune": ServiceFacts(cold_storage=False, vault_key=False, continuous=False, always_needs_opt_in=True),
    # DynamoDB: cold storage and the vault key need "advanced features", which new accounts have on.
    "DynamoDB": ServiceFacts(cold_storage=True, vault_key=True, continuous=False),
    "EFS": ServiceFacts(cold_storage=True, vault_key=True, continuous=False),
    "FSx": ServiceFacts(cold_storage=False, vault_key=False, continuous=False),
    "S3": ServiceFacts(cold_storage=False, vault_key=True, continuous=True, opted_in_by_default=False),
    "Storage Gateway": ServiceFacts(cold_storage=False, vault_key=False, continuous=False, restore_testing=False),
    "VirtualMachine": ServiceFacts(cold_storage=True, vault_key=True, continuous=False, restore_testing=False),
}

UNKNOWN_SERVICE = ServiceFacts(cold_storage=False, vault_key=False, continuous=False, restore_testing=False)


def facts_for(service: str) -> ServiceFacts:
    return SERVICES.get(service, UNKNOWN_SERVICE)
