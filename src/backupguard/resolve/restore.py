"""Restore readiness: which protected resource types restore testing covers, and what it proves.

Two kinds of subject come from here:

* ``protected_resource_type``: one per AWS Backup resource type (EBS, RDS...) that a backup plan
  protects in one account and Region (or, where those are not known, one deployment unit: a
  template, a Terraform root module), for the types restore testing can restore. It says whether a
  restore testing selection of that type, whose plan is in the estate and in the same place,
  tests it, and (live scans) how long ago a restore job of the type last completed. It is placed
  at the first resource of the type that a plan protects: a missing test has no place of its own.
* ``restore_testing_selection``: one restore testing selection with its plan's start window and
  schedule, for the validation-window rule.

A selection of the type counts whatever it picks: ``ProtectedResourceArns: ["*"]`` (every resource
of the type, narrowed by ``ProtectedResourceConditions``) or listed ARNs (those resources alone);
``restore_scope`` says which, so a message can show how much of the type is tested.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backupguard.estate import (
    Estate, ProtectedResource, Reference, RestoreJob, RestoreTestingPlan, RestoreTestingSelection, Unknown, derive,
    region_scope,
)
from backupguard.resolve import Deferred, Subject
from backupguard.resolve.builders import RESTORE_TEST_START_WINDOW_HOURS, covering_plan_words
from backupguard.resolve.coverage import Coverage, any_true, apart, both
from backupguard.resolve.plans import name_of, schedule_facts
from backupguard.resolve.services import facts_for

# The longest ValidationWindowHours AWS accepts (seven days).
MAX_VALIDATION_WINDOW_HOURS = 168
# The parameter of the restore-job evidence rule that decides how far back a job may lie.
MAX_DAYS_PARAMETER = "max_days_since_restore"


def _text(value: Any, what: str) -> str:
    """A name as a message shows it: quoted when known, else what is known of it."""
    if isinstance(value, (str, Reference)):
        return f"'{value}'"
    return f"an undetermined {what}" if isinstance(value, Unknown) else f"{what} {value!r}"


class RestoreTesting:
    """The estate's restore testing plans and selections, linked once per run."""

    def __init__(self, estate: Estate):
        self.plans = estate.restore_testing_plans
        # by deployment unit and ID: two templates may both call their plan "RestoreTests"
        self.plans_by_id = {(plan.origin.unit, plan.resource_id): plan for plan in self.plans}
        self.selections = estate.restore_testing_selections
        self.links = {id(selection): self.plan_of(selection) for selection in self.selections}

    def plan_of(self, selection: RestoreTestingSelection) -> RestoreTestingPlan | None | Unknown:
        """The plan a selection belongs to: by reference, else by name in the same account and Region
        (or unit). None when no such plan is in the estate (the selection then tests nothing here)."""
        ref, unit = selection.plan_name, selection.origin.unit
        if isinstance(ref, Reference):
            return self.plans_by_id.get((unit, ref.target)) or self.plans_by_id.get((unit, ref.target.split("[")[0]))
        if isinstance(ref, Unknown):
            for target in ref.refs:
                plan = self.plans_by_id.get((unit, target)) or self.plans_by_id.get((unit, target.split("[")[0]))
                if plan is not None:
                    return plan
            names = [c for c in ref.candidates if isinstance(c, str)]
            if names and len(names) == len(ref.candidates):
                found = [self._named(name, selection) for name in names]
                if all(f is None for f in found):
                    return None
            return Unknown(f"the restore testing plan name of selection '{_name(selection)}' is not known ({ref.reason})")
        if isinstance(ref, str):
            return self._named(ref, selection)
        return None

    def _named(self, name: str, selection: RestoreTestingSelection) -> RestoreTestingPlan | None | Unknown:
        nearby = [plan for plan in self.plans if not apart(plan.origin, selection.origin)]
        found = next((plan for plan in nearby if plan.name == name), None)
        if found is not None:
            return found
        undetermined = next((plan for plan in nearby if not isinstance(plan.name, str)), None)
        if undetermined is not None:
            return Unknown(f"restore testing plan '{undetermined.resource_id}' has a name that is not known")
        return None

    def tests(self, selection: RestoreTestingSelection, service: str) -> Any:
        """Whether the selection tests resources of ``service``: its type is that one and its plan exists."""
        kind = selection.protected_resource_type
        if isinstance(kind, Reference):
            same: Any = Unknown(f"the ProtectedResourceType of selection '{_name(selection)}' is '{kind}'")
        elif isinstance(kind, Unknown):
            same = derive(lambda value: value == service, kind)
        else:
            same = kind == service
        plan = self.links[id(selection)]
        exists = True if isinstance(plan, RestoreTestingPlan) else plan if isinstance(plan, Unknown) else False
        return both(same, exists)


def _name(entity: Any) -> str:
    return name_of(entity.name, entity.resource_id)


def restore_scope(selection: RestoreTestingSelection) -> str:
    """What part of its type a selection tests, in words."""
    arns, conditions = selection.protected_resource_arns, selection.protected_resource_conditions
    narrowed = " matching its tag conditions" if conditions else ""
    if isinstance(arns, list):
        if "*" in arns:
            return f"every resource of the type{narrowed}"
        if arns:
            return f"{len(arns)} listed resource{'s' if len(arns) != 1 else ''}"
    if isinstance(arns, (Unknown, Reference)):
        return "resources not known here"
    return f"resources{narrowed or ' it does not name'}"


def _place(origin: Any) -> tuple:
    """Where restore testing reaches: the account and Region when both are known, else the unit."""
    if origin.account and origin.region:
        return ("scope", origin.account, origin.region)
    return ("unit", origin.unit, origin.region)


def type_subjects(estate: Estate, protection: dict[int, Coverage], testing: RestoreTesting) -> list[Subject]:
    """One subject per protected, restore-testable resource type and place, in source order."""
    groups: dict[tuple, list[tuple[ProtectedResource, Coverage]]] = {}
    for resource in estate.resources:
        cover = protection.get(id(resource))
        if cover is None or cover.protected is False or not facts_for(resource.service).restore_testing:
            continue
        groups.setdefault((_place(resource.origin), resource.service), []).append((resource, cover))
    jobs = _jobs_by_place(estate.restore_jobs)
    return [_type_subject(service, members, testing, jobs, estate.restore_jobs_read)
            for (_, service), members in groups.items()]


def _type_subject(service: str, members: list[tuple[ProtectedResource, Coverage]], testing: RestoreTesting,
                  jobs: dict[tuple, list[RestoreJob]], since: dict[str, Any]) -> Subject:
    first = next((r for r, cover in members if cover.protected is True), members[0][0])
    origin = first.origin
    # The resolver shares rule views between resources: each distinct view is read once, in the order
    # first seen (10,000 resources under 100 rules were a million formatted views).
    views: dict[int, dict[str, Any]] = {}
    for rules in {id(cover.rules): cover.rules for _, cover in members}.values():  # shared lists once
        views.update(zip(map(id, rules), rules))
    plans = list(dict.fromkeys(
        covering_plan_words(view["plan"]) for view in views.values() if isinstance(view.get("plan"), str)))
    chosen = [s for s in testing.selections if not apart(s.origin, origin)]
    verdicts = [(s, testing.tests(s, service)) for s in chosen]
    testing_it = [s for s, verdict in verdicts if verdict is not False]
    facts: dict[str, Any] = {
        "service": service,
        "resource_count": len(members),
        "protected": any_true([cover.protected for _, cover in members]),
        "protected_by": ", ".join(plans[:3]) + (f" and {len(plans) - 3} more" if len(plans) > 3 else "")
        if plans else "a plan not known here",
        "restore_tested": any_true([verdict for _, verdict in verdicts]),
        "restore_selections": "; ".join(
            f"selection '{_name(s)}' of restore testing plan {_plan_words(testing.links[id(s)], s)} "
            f"({restore_scope(s)})" for s in testing_it[:3]) or "none",
    }
    deferred = False
    if origin.file is None:  # a live scan: restore jobs are evidence
        scope = region_scope(origin)
        found = jobs.get((origin.account, origin.region, service), [])
        facts["restore_job_age_days"] = Deferred(
            lambda params, found=found, read=since.get(scope): _job_age(found, read, origin, params, service))
        facts["restore_job"] = _job_words(found, since.get(scope))
        deferred = True
    return Subject("protected_resource_type", first.resource_id, first.resource_type, origin, facts,
                   f"resource type {service}", first.tags, deferred)


def _plan_words(plan: Any, selection: RestoreTestingSelection) -> str:
    if isinstance(plan, RestoreTestingPlan):
        return f"'{_name(plan)}'"
    return _text(selection.plan_name, "plan")


def _jobs_by_place(jobs: list[RestoreJob]) -> dict[tuple, list[RestoreJob]]:
    """Completed restore jobs per (account, Region, type), newest first."""
    grouped: dict[tuple, list[RestoreJob]] = {}
    for job in jobs:
        if job.completed is not None:
            grouped.setdefault((job.origin.account, job.origin.region, job.resource_type), []).append(job)
    for found in grouped.values():
        found.sort(key=lambda j: (j.completed, j.job_id), reverse=True)
    return grouped


def _days(later: datetime, earlier: datetime) -> float:
    return round((later - earlier).total_seconds() / 86400, 2)


def _job_age(found: list[RestoreJob], read: Any, origin: Any, params: dict[str, Any], service: str) -> Any:
    """Days since the newest completed restore job of the type, against the scan's time; None when
    there is none in what the scan read; Unknown when it could not read them, or read less far back
    than the rule asks."""
    if isinstance(read, Unknown):
        return read
    if read is None:
        return Unknown(f"restore jobs were not read in account {origin.account}, Region {origin.region}")
    if found:
        return _days(read.as_of, found[0].completed)
    window = _days(read.as_of, read.since)
    wanted = params.get(MAX_DAYS_PARAMETER)
    if isinstance(wanted, (int, float)) and wanted > window:
        return Unknown(f"no {service} restore job completed in the {window:g} days the scan read "
                       f"(--lookback-days); older ones were not read")
    return None


def _job_words(found: list[RestoreJob], read: Any) -> str:
    """The newest completed restore job in words: "job 1a2b (a restore test, validation SUCCESSFUL) 2.5 days ago"."""
    if not found:
        return "none"
    job = found[0]
    how = "a restore test" if job.restore_testing_plan_arn else "an on-demand restore"
    validated = f", validation {job.validation_status}" if job.validation_status else ""
    age = f" {_days(read.as_of, job.completed):g} days ago" if hasattr(read, "as_of") else ""
    return f"job {job.job_id} ({how}{validated}){age}"


def selection_subject(selection: RestoreTestingSelection, testing: RestoreTesting) -> Subject:
    """A restore testing selection with the start window and schedule of its plan."""
    plan = testing.links[id(selection)]
    if isinstance(plan, RestoreTestingPlan):
        start = RESTORE_TEST_START_WINDOW_HOURS if plan.start_window_hours is None else plan.start_window_hours
        gap_minutes = schedule_facts(plan.schedule)["min_gap_minutes"]
        gap = derive(lambda minutes: round(minutes / 60, 2), gap_minutes)
        plan_name = _name(plan)
    else:
        missing = plan if isinstance(plan, Unknown) else Unknown(
            f"restore testing plan {_text(selection.plan_name, 'plan')} is not in the scanned files")
        start = gap = missing
        plan_name = _text(selection.plan_name, "plan").strip("'")
    window = selection.validation_window_hours
    hours = 0 if window is None else window
    facts = {
        "selection": _name(selection),
        "plan": plan_name,
        "service": selection.protected_resource_type if isinstance(selection.protected_resource_type, str) else None,
        "validation_window_hours": hours,
        "validation_window": "not set (0 hours)" if window is None else in_words_hours(window),
        "start_window_hours": start,
        "plan_min_gap_hours": gap,
        "test_cycle_hours": derive(lambda a, b: a + b, start, hours)
        if all(isinstance(v, (int, float, Unknown)) and not isinstance(v, bool) for v in (start, hours))
        else Unknown("the start or validation window is not a number"),
        "max_validation_window_hours": MAX_VALIDATION_WINDOW_HOURS,
    }
    return Subject("restore_testing_selection", selection.resource_id, selection.resource_type, selection.origin, facts)


def in_words_hours(value: Any) -> str:
    if isinstance(value, Unknown):
        return f"unknown ({value.reason})"
    return f"{value} hours"
