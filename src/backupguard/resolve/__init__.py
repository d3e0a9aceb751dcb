"""Estate -> facts. AWS semantics live here, once, in Python; rules only compare facts with thresholds.

:func:`subjects` turns the Estate into flat, rule-ready views ("subjects"),
grouped by kind. Each view is a plain dict of facts; a fact the input does not
determine is an :class:`~backupguard.estate.Unknown` carrying the reason, so a
rule that needs it reports *unknown* and says why. A fact that depends on a
rule's parameters (a vault policy read against an exempt-principal list) is a
:class:`Deferred`, computed by the engine with the rule's parameters.

Kinds (the ``subject`` a rule names) and the modules that compute them:

=======================  ===========================================================
``backup_plan``          a plan with ``rules``, its rule views (``plans``)
``backup_rule``          one plan rule: cadence, retention, cold storage, target vault (``plans``)
``lifecycle``            one lifecycle, of a rule or of a copy action (``plans``)
``copy_action``          one copy action: destination, retention, destination lock (``plans``)
``backup_vault``         a vault: key, lock, access policy (``vaults``, ``vault_policy``)
``backup_selection``     a resource assignment: its syntax (``selections``)
``resource``             a protectable resource: native settings and coverage (``resources``, ``coverage``)
``org_policy``           an Organizations backup policy document (``org_policy_syntax``)
``backup_framework``     an AWS::Backup::Framework; ``report_plan``, ``restore_testing_plan`` likewise
``recovery_point``       one recovery point a live scan read: encryption, retention (``evidence``)
``protected_resource_type``  a resource type plans protect in one place: restore tests and restore jobs (``restore``)
``restore_testing_selection``  a restore testing selection with its plan's windows (``restore``)
=======================  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from backupguard.estate import Attributes, Estate, InputError, Origin

SUBJECT_KINDS = (
    "backup_plan", "backup_rule", "lifecycle", "copy_action", "backup_vault", "backup_selection", "resource",
    "org_policy", "backup_framework", "report_plan", "restore_testing_plan", "recovery_point",
    "protected_resource_type", "restore_testing_selection",
)


@dataclass(slots=True)
class Subject:
    """One thing a rule is evaluated against, with its facts and where it was declared."""

    kind: str
    resource_id: str
    resource_type: str
    origin: Origin
    facts: dict[str, Any]
    element: str | None = None  # which part of the resource ("rule 'Daily'"), for messages and fingerprints
    tags: Any = field(default_factory=dict)
    deferred: bool = False  # some facts are Deferred (computed with the rule's parameters)
    # fact -> the source attribute it reads (resolve.attributes): a result's position and its messages' names
    attributes: Attributes = field(default_factory=dict)
    # For "each" rules over the subject's own parts (a plan's rules): id(element view) -> its attributes
    element_attributes: dict[int, Attributes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deferred:
    """A fact computed with the evaluating rule's parameters: ``compute(params)``."""

    compute: Callable[[dict[str, Any]], Any]


def subjects(estate: Estate, opt_in: dict[str, bool] | None = None) -> dict[str, list[Subject]]:
    """Every subject of the estate, grouped by kind, in source order.

    ``opt_in`` states which AWS Backup resource types are opted in where the
    estate does not say (IaC); otherwise AWS's defaults are assumed.
    """
    from backupguard.resolve import builders, restore
    from backupguard.resolve.coverage import coverage, opt_in_lookup
    from backupguard.resolve.evidence import points_by_resource
    from backupguard.resolve.links import EstateIndex

    links = EstateIndex(estate)
    out: dict[str, list[Subject]] = {kind: [] for kind in SUBJECT_KINDS}

    def each(kind: str, entities: list, build: Callable[[Any], Subject | None]) -> None:
        """Build the subjects of each entity; a failure costs that entity alone (a located error)."""
        for entity in entities:
            try:
                made = build(entity)
            except (Exception, RecursionError) as exc:  # noqa: BLE001 - one odd entity never stops the run
                name = getattr(entity, "resource_id", None) or getattr(entity, "arn", "")
                estate.errors.append(InputError(
                    f"internal error while resolving {kind.replace('_', ' ')} '{name}' "
                    f"({type(exc).__name__}); its rules were not evaluated, please report it", entity.origin))
                continue
            if made is not None:  # plan_subjects adds its plan, rule, lifecycle and copy subjects itself
                out[kind].append(made)

    each("backup_plan", estate.plans, lambda plan: builders.plan_subjects(plan, links, out))
    each("backup_vault", estate.vaults, builders.vault_subject)
    each("backup_selection", estate.selections, builders.selection_subject)
    protection = coverage(estate, links, opt_in_lookup(opt_in, estate.opt_in))
    by_id = {(r.origin.file, r.resource_id): r for r in estate.resources}
    points = points_by_resource(estate)
    each("resource", estate.resources, lambda r: builders.resource_subject(
        r, protection[id(r)], by_id, points.get(r.arn, []) if isinstance(r.arn, str) else []))
    each("recovery_point", estate.recovery_points, builders.recovery_point_subject)
    each("org_policy", estate.org_policies, builders.org_policy_subject)
    each("backup_framework", estate.frameworks, builders.framework_subject)
    each("report_plan", estate.report_plans, builders.report_plan_subject)
    each("restore_testing_plan", estate.restore_testing_plans, builders.restore_testing_subject)
    testing = restore.RestoreTesting(estate)
    each("restore_testing_selection", estate.restore_testing_selections, lambda s: restore.selection_subject(s, testing))
    try:
        out["protected_resource_type"].extend(restore.type_subjects(estate, protection, testing))
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - like each(): a located error, the run goes on
        estate.errors.append(InputError(
            f"internal error while resolving restore testing coverage ({type(exc).__name__}); "
            "its rules were not evaluated, please report it", Origin()))
    return out
