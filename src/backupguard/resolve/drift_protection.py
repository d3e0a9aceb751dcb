"""Drift of protection: resources the code protects that no backup plan in the account selects (BG706).

The code promises protection when its own plans and selections select a resource (the coverage
:mod:`.coverage` computes for ``lint``'s BG401). For each such resource this module finds its
identity in the account, most certain first, and records which was used:

1. **The CloudFormation stack**: the physical ID ``ListStackResources`` gives its logical ID (a
   table's name, a volume's ID), made an ARN as :func:`.selection.deployed_arn` builds it.
2. **The Terraform plan's prior state**: the address's ``arn`` (or ``id``).
3. **Its name**: the ARN :func:`.selection.resource_arn` models from the declared physical name,
   in the compared account and Region; unknown when part of it is generated (an instance ID).

Then the *same* matcher decides whether a live selection selects it: a copy of the resource with
that ARN and its live tags (``tag:GetResources``, by ARN) meets the account's plans and selections
in :func:`.coverage.coverage`. Tags that cannot be read are unknown, so a selection by tags is
undecided for that resource, never "not selected". Without a tag reader (a caller of the library),
the code's declared tags stand in (they are what the stack or ``terraform apply`` sets), with the
``aws:cloudformation:stack-name`` and ``logical-id`` tags CloudFormation adds when the stack matched
it. Resources the code does not protect are not drift (lint's BG401 reports them), nor those whose
protection the code leaves undetermined.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from backupguard.estate import Estate, OpenTags, Origin, ProtectedResource, Unknown
from backupguard.resolve import Subject
from backupguard.resolve.builders import covering_plan_words, plans_in_brief
from backupguard.resolve.coverage import Coverage, coverage, opt_in_lookup
from backupguard.resolve.drift_match import LOGICAL_ID_TAG, STACK_NAME_TAG, Matching, in_target
from backupguard.resolve.links import EstateIndex
from backupguard.resolve.selection import deployed_arn, resource_arn

KIND = "drift_protection"


def _without_automatic_backups(resource: ProtectedResource) -> ProtectedResource:
    """The resource as backup plans see it: EFS automatic backups (a setting of the file system,
    compared by no drift rule) must not count as a plan on either side."""
    if "backup_policy_status" not in resource.settings:
        return resource
    return replace(resource, settings={k: v for k, v in resource.settings.items() if k != "backup_policy_status"})


def _covered(estate: Estate, resources: list[ProtectedResource], opt_in: dict[str, bool] | None) -> dict[int, Coverage]:
    """Coverage of ``resources`` by the plans and selections of ``estate`` (code or account)."""
    view = Estate(plans=estate.plans, selections=estate.selections, vaults=estate.vaults, resources=resources,
                  opt_in=estate.opt_in)
    return coverage(view, EstateIndex(view), opt_in_lookup(opt_in, estate.opt_in))


def live_identity(resource: ProtectedResource, matching: Matching) -> tuple[Any, str, dict[str, str]]:
    """(the resource's ARN in the account, or Unknown; how it was found; tags the deployment adds)."""
    known = matching.identities.by_id.get(resource.resource_id)
    if known is not None:
        added = {STACK_NAME_TAG: known.stack, LOGICAL_ID_TAG: resource.resource_id} if known.stack else {}
        arn = known.arn or (deployed_arn(resource, known.physical_id, matching.partition, matching.region,
                                         matching.account) if known.physical_id else None)
        if arn is None:
            return Unknown(f"{known.how} gives no ARN for this {resource.service} resource"), known.how, added
        return arn, known.how, added
    placed = replace(resource, origin=replace(resource.origin, account=resource.origin.account or matching.account,
                                              region=resource.origin.region or matching.region))
    model = resource_arn(placed)
    holes = [hole for _, hole in model.fields() if hole is not None]
    name = resource.name if isinstance(resource.name, str) else None
    how = f"ARN built from its name '{name}'" if name else "ARN built from its name"
    if holes:
        reasons = "; ".join(dict.fromkeys(hole.reason for hole in holes))
        return Unknown(f"its ARN is not known before deployment ({reasons}): name its stack (--stack) or give "
                       "the plan JSON (--plan-json)"), how, {}
    return model.display(), how, {}


def _with_tags(tags: Any, added: dict[str, str]) -> Any:
    if not added or not isinstance(tags, dict):
        return tags
    merged = {**tags, **added}
    return OpenTags(merged, tags.reason) if isinstance(tags, OpenTags) else merged


def _plan_names(cover: Coverage) -> list[str]:
    """The covering plans by name ("plan 'daily'"), once each, in the order the coverage found them."""
    return [covering_plan_words(name) for name in dict.fromkeys(str(view.get("plan")) for view in cover.rules)]


def protection_subjects(code: Estate, live: Estate, matching: Matching, opt_in: dict[str, bool] | None = None,
                        live_tags: Callable[[list[str]], dict[str, Any]] | None = None) -> list[Subject]:
    """One ``drift_protection`` subject per protectable resource that the code's plans protect.
    ``live_tags`` gives the deployed resources' tags by ARN (see the module docstring)."""
    here = in_target(code, matching.account, matching.region)
    declared = [r for r in code.resources if here(r) and r.settings.get("cluster_member") is not True]
    if not declared:
        return []
    views = [_without_automatic_backups(r) for r in declared]
    promised = _covered(code, views, opt_in)
    kept = [(r, promised[id(v)]) for r, v in zip(declared, views) if promised[id(v)].protected is True]
    identities = [live_identity(r, matching) for r, _ in kept]
    arns = [arn for arn, _, _ in identities if isinstance(arn, str)]
    tags_live = live_tags(arns) if live_tags is not None and arns else {}
    deployed = [
        ProtectedResource(r.resource_id, r.resource_type, r.service,
                          Origin(r.origin.file, r.origin.line, r.origin.column, matching.account, matching.region,
                                 unit=f"{matching.account}/{matching.region}"),
                          tags_live[arn] if arn in tags_live else _with_tags(r.tags, added), arn=arn, name=r.name)
        if isinstance(arn, str) else None
        for (r, _), (arn, _, added) in zip(kept, identities)
    ]
    here_live = Estate(
        plans=[p for p in live.plans if p.origin.region == matching.region],
        selections=[s for s in live.selections if s.origin.region == matching.region],
        vaults=[v for v in live.vaults if v.origin.region == matching.region], opt_in=live.opt_in)
    selected = _covered(here_live, [d for d in deployed if d is not None], opt_in)
    out = []
    for (resource, cover), (arn, how, _), mine in zip(kept, identities, deployed):
        found = selected[id(mine)] if mine is not None else None
        protected: Any = found.protected if found is not None else arn
        origin = resource.origin
        out.append(Subject(KIND, resource.resource_id, resource.resource_type, Origin(
            origin.file, origin.line, origin.column, account=matching.account, region=matching.region,
            arn=arn if isinstance(arn, str) else None, unit=origin.unit), {
            "name": resource.name if isinstance(resource.name, str) else resource.resource_id,
            "service": resource.service,
            "code_plans": plans_in_brief(_plan_names(cover)),
            "protected_live": protected,
            "live_plans": plans_in_brief(found.plans) if found is not None else "no backup plan",
            "live": arn,
            "match": how,
        }, tags=resource.tags if isinstance(resource.tags, dict) else {}))
    return out
