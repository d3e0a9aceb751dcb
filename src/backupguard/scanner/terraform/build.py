"""Terraform instances -> Estate: build each entity, merge default tags, join the split-off resources."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from backupguard.estate import (
    Attribute,
    BackupSelection,
    OpenTags,
    BackupVault,
    Estate,
    InputError,
    Origin,
    ProtectedResource,
    Reference,
    Unknown,
    VaultLock,
    region_scope,
    settings_scope,
)
from backupguard.scanner.org_policy import add_entity
from backupguard.scanner.terraform.resources import ATTACHMENTS, BUILDERS, ShapeError, provider_int
from backupguard.scanner.values import as_bool, as_json, attribute, block, items

def _merged_tags(default_tags: Any, tags: Any) -> Any:
    """Provider default_tags under the resource's own tags (the resource wins), as tags_all."""
    if isinstance(tags, Unknown):
        return tags
    if isinstance(default_tags, Unknown):  # the resource's own tags are known; others may come from the provider
        return OpenTags(tags, f"provider default_tags ({default_tags.reason})")
    if not default_tags:
        return tags
    return {**{str(k): v for k, v in default_tags.items()}, **tags}


def _origin(instance: Any, account_id: str | None, unit: str | None) -> Origin:
    region = instance.region if isinstance(instance.region, str) else None
    account = instance.origin.account or account_id  # a provider's allowed_account_ids pins it
    return Origin(instance.origin.file, instance.origin.line, instance.origin.column, account=account, region=region,
                  unit=unit)


def build_estate(instances: Iterable[Any], account_id: str | None = None, unit: str | None = None) -> Estate:
    """The Estate of a set of Terraform instances (from HCL or from a plan); ``unit`` names the
    deployment (the root module or the plan file)."""
    instances = list(instances)
    estate = Estate()
    entities: dict[str, Any] = {}
    for instance in instances:
        builder = BUILDERS.get(instance.type)
        if builder is None:
            continue
        origin = _origin(instance, account_id, unit)
        entity = _confined(estate, instance, origin, lambda: builder(instance.address, instance.values, origin))
        if entity is None:
            continue
        if hasattr(entity, "tags") and isinstance(getattr(entity, "tags"), (dict, Unknown)):
            entity.tags = _merged_tags(instance.default_tags, entity.tags)
        exists = getattr(instance, "exists", True)
        if isinstance(entity, BackupSelection) and isinstance(exists, Unknown):
            entity.exists = Unknown(f"{instance.address} may not exist ({exists.reason})")
        entities[instance.address] = entity
        add_entity(estate, entity)
    for instance in instances:
        if instance.type in ATTACHMENTS:
            origin = _origin(instance, account_id, unit)
            _confined(estate, instance, origin, lambda: _attach(instance, entities, estate, origin))
    return estate


def _confined(estate: Estate, instance: Any, origin: Origin, build: Callable[[], Any]) -> Any:
    """``build()``, with a failure confined to this one resource: a located error at its block
    (a value of an unexpected shape, in a plan, is reported there), the others still built."""
    try:
        return build()
    except ShapeError as exc:
        estate.errors.append(InputError(f"{instance.address}: {exc}", origin))
    except RecursionError:
        estate.errors.append(InputError(f"{instance.address}: its values are nested too deeply", origin))
    except Exception as exc:  # noqa: BLE001 - one resource must never cost the others their results
        estate.errors.append(InputError(
            f"{instance.address}: values of an unexpected shape ({type(exc).__name__}: {exc})", origin))
    return None


def _target(value: Any, entities: dict[str, Any], kind: type, name_of: str = "name") -> Any:
    """The entity an attachment points at: by reference, or by its literal name."""
    if isinstance(value, Reference):
        found = entities.get(value.target)
        return found if isinstance(found, kind) else None
    if isinstance(value, Unknown):
        for ref in value.refs:
            if isinstance(entities.get(ref), kind):
                return entities[ref]
        return None
    if isinstance(value, str):
        return next((e for e in entities.values() if isinstance(e, kind) and getattr(e, name_of) == value), None)
    return None


def _maybe(value: Any, instead: Any, exists: Any) -> Any:
    """What an attachment sets, when the attachment itself may not exist (count on an unknown)."""
    if exists is True:
        return value
    options = [v for v in (value, instead) if not isinstance(v, Unknown)]
    return Unknown(exists.reason, candidates=tuple(options) if len(options) == 2 else (), may_be_absent=True)


def _attach(instance: Any, entities: dict[str, Any], estate: Estate, origin: Origin) -> None:
    """Join a resource that configures another onto it; an attachment that may not exist makes
    what it sets unknown (with the values it could take)."""
    values, kind = instance.values, instance.type
    exists = getattr(instance, "exists", True)
    if kind == "aws_backup_global_settings":
        settings = values.get("global_settings")
        if isinstance(settings, dict):
            scoped = estate.global_settings.setdefault(settings_scope(origin), {})
            scoped.update({str(k): _maybe(v, None, exists) for k, v in settings.items()})
        return
    if kind == "aws_backup_region_settings":
        preference = values.get("resource_type_opt_in_preference")
        if isinstance(preference, dict):
            scoped = estate.opt_in.setdefault(region_scope(origin), {})
            scoped.update({str(k): _maybe(as_bool(v, k), None, exists) for k, v in preference.items()})
        return
    if kind.startswith("aws_backup_vault_"):
        vault = _target(values.get("backup_vault_name"), entities, BackupVault)
        if vault is None:
            return
        vault.attributes.update(_attachment_attributes(kind, instance, origin))
        if kind == "aws_backup_vault_lock_configuration":
            vault.lock = VaultLock(
                min_retention_days=provider_int(values.get("min_retention_days"), "min_retention_days"),
                max_retention_days=provider_int(values.get("max_retention_days"), "max_retention_days"),
                changeable_for_days=provider_int(values.get("changeable_for_days"), "changeable_for_days"),
                origin=origin,
                present=_maybe(True, False, exists),
            )
        elif kind == "aws_backup_vault_policy":
            vault.access_policy = _maybe(as_json(values.get("policy"), "policy"), vault.access_policy, exists)
        elif kind == "aws_backup_vault_notifications":
            events = {"SNSTopicArn": values.get("sns_topic_arn"), "BackupVaultEvents": values.get("backup_vault_events")}
            vault.notifications = _maybe(events, vault.notifications, exists)
        return
    if kind.startswith("aws_s3_bucket_"):
        bucket = _target(values.get("bucket"), entities, ProtectedResource)
        if bucket is None:
            return
        bucket.attributes.update(_attachment_attributes(kind, instance, origin))
        if kind == "aws_s3_bucket_versioning":
            configs = items(values.get("versioning_configuration"))
            status = block(configs[0]).get("status") if configs else None
            bucket.settings["versioning_status"] = _maybe(status, bucket.settings.get("versioning_status"), exists)
        else:
            bucket.settings["object_lock_enabled"] = _maybe(True, bucket.settings.get("object_lock_enabled", False), exists)
            bucket.settings.setdefault("versioning_status", _maybe("Enabled", None, exists))
        return
    if kind == "aws_efs_backup_policy":
        file_system = _target(values.get("file_system_id"), entities, ProtectedResource)
        policies = items(values.get("backup_policy"))
        if file_system is not None and policies:
            file_system.attributes.update(_attachment_attributes(kind, instance, origin))
            status = block(policies[0]).get("status")
            file_system.settings["backup_policy_status"] = _maybe(status, file_system.settings.get("backup_policy_status"), exists)


# What a resource that configures another writes, under the configured entity's attribute keys: the
# attachment itself is where a setting is decided (the lock is its resource block, the bounds its arguments).
_ATTACHMENT_PATHS: dict[str, dict[str, str | None]] = {
    "aws_backup_vault_lock_configuration": {
        "lock": None, "lock.min_retention_days": "min_retention_days", "lock.max_retention_days": "max_retention_days",
        "lock.changeable_for_days": "changeable_for_days",
    },
    "aws_backup_vault_policy": {"access_policy": "policy"},
    "aws_backup_vault_notifications": {"notifications": "backup_vault_events"},
    "aws_s3_bucket_versioning": {"versioning_status": "versioning_configuration.status"},
    "aws_s3_bucket_object_lock_configuration": {"object_lock_enabled": None},
    "aws_efs_backup_policy": {"backup_policy_status": "backup_policy.status"},
}


def _attachment_attributes(kind: str, instance: Any, origin: Origin) -> dict[str, Attribute]:
    """The attributes an attachment sets on the entity it configures: an argument at its own line (named
    as written in the attachment), the attachment as a whole (``None``) at its block."""
    found = {}
    for key, path in _ATTACHMENT_PATHS.get(kind, {}).items():
        found[key] = Attribute(kind, origin) if path is None else attribute(origin, instance.values, path)
    return found
