"""Linear coverage (issue 12): the selection index leaves out only pairs that cannot match.

The index (``resolve.selection_index``) decides which selections a resource meets; the exact,
three-valued ``selection_matches`` decides those. Both properties are checked against the
brute force (every selection against every resource of its account and Region, or unit) on
random small estates, and on the corpus, the examples and the rule fixtures.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from backupguard.estate import (
    BackupPlan, BackupRule, BackupSelection, Estate, Lifecycle, OpenTags, Origin, ProtectedResource, Reference,
    TagCondition, Unknown,
)
from backupguard.resolve.coverage import (
    Coverage, _elsewhere, _outside_view, any_true, both, _resource_facts, _rule_views, _unreadable_rules, _efs_automatic_view,
    EFS_AUTOMATIC_PLAN, _SelectionsByScope, _policy_status_name, coverage, opt_in_lookup,
)
from backupguard.resolve.links import EstateIndex
from backupguard.resolve.selection import resource_arn, selection_matches
from backupguard.resolve.selection_index import Compiled, Matcher, ResourceView, candidate_filter
from backupguard.scanner import ScanOptions, scan
from backupguard.scanner.cloudformation import CfnOptions

from conftest import CORPUS

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def brute_force(estate: Estate, links: EstateIndex, opt_in_at, answers: dict[tuple[int, int], object]
                ) -> dict[int, Coverage]:
    """Coverage as it was computed before the index: every selection against every resource
    (``answers``: selection_matches of each pair, by their positions, computed by the caller)."""
    selections = [(s, links.plan_of(s)) for s in estate.selections]
    shared: dict[tuple, list] = {}
    result: dict[int, Coverage] = {}
    for position, resource in enumerate(estate.resources):
        found = Coverage(protected=False)
        verdicts, covered_plans = [], set()
        facts = _resource_facts(resource)
        for ordinal, (selection, plan) in enumerate(selections):
            if _elsewhere(selection, resource):
                continue
            match = answers[(ordinal, position)]
            if match.selected is False:
                continue
            certainty = both(both(match.selected, selection.exists),
                             True if isinstance(plan, BackupPlan) or plan is None else plan)
            verdicts.append(certainty)
            if certainty is False:
                continue
            sel_name = selection.name if isinstance(selection.name, str) else selection.resource_id
            if isinstance(plan, BackupPlan):
                plan_name = plan.name if isinstance(plan.name, str) else plan.resource_id
                found.plans.append(f"plan '{plan_name}' (selection '{sel_name}': {match.how})")
                if certainty is True and id(plan) in covered_plans:
                    continue
                covered_plans.add(id(plan))
                key = (id(plan), certainty if certainty is True else id(certainty), resource.origin.region,
                       resource.origin.account, tuple(facts.items()))
                if key not in shared:
                    shared[key] = _rule_views(plan, certainty, resource, links, facts) or [
                        _unreadable_rules(plan_name, certainty)]
                found.rules.extend(shared[key])
            else:
                where = "an undetermined plan" if isinstance(plan, Unknown) else "a plan outside this template"
                found.plans.append(f"{where} (selection '{sel_name}': {match.how})")
                found.rules.append({**_outside_view(certainty, plan), **facts})
        automatic = _efs_automatic_view(resource, facts)
        if automatic is not None:
            verdicts.append(automatic["certain"])
            found.plans.append(f"plan '{EFS_AUTOMATIC_PLAN}' (EFS automatic backups: {_policy_status_name(resource)} ENABLED)")
            found.rules.append(automatic)
        found.protected = any_true(verdicts)
        result[id(resource)] = found
    return result


def check(estate: Estate, opt_in: dict | None = None) -> None:
    """The index leaves out only pairs selection_matches answers False; memoised answers equal
    fresh ones; coverage equals the brute force's, resource by resource."""
    links = EstateIndex(estate)
    opt_in_at = opt_in_lookup(opt_in, estate.opt_in)
    compiled = Compiled(estate.selections)
    partition, matcher = _SelectionsByScope(estate.selections, compiled), Matcher(compiled)
    answers = {}
    for position, resource in enumerate(estate.resources):
        view = ResourceView(resource, opt_in_at(resource.origin))
        candidates, _keys = partition.candidates(view)
        assert list(candidates) == sorted(set(candidates))
        for ordinal, selection in enumerate(estate.selections):
            if _elsewhere(selection, resource):
                assert ordinal not in candidates
                continue
            fresh = answers[(ordinal, position)] = selection_matches(selection, resource, opt_in_at(resource.origin),
                                                                     resource_arn(resource))
            if ordinal not in candidates:
                assert fresh.selected is False, (selection, resource, candidate_filter(selection), view.probes)
            else:
                assert matcher.match(ordinal, view) == fresh
    indexed, brute = coverage(estate, links, opt_in_at), brute_force(estate, links, opt_in_at, answers)
    for resource in estate.resources:
        assert indexed[id(resource)] == brute[id(resource)], resource


# -- random small estates -----------------------------------------------------------------

SERVICES = {
    "EBS": "AWS::EC2::Volume", "EC2": "AWS::EC2::Instance", "RDS": "AWS::RDS::DBInstance",
    "Aurora": "AWS::RDS::DBCluster", "DynamoDB": "AWS::DynamoDB::Table", "EFS": "AWS::EFS::FileSystem",
    "S3": "AWS::S3::Bucket", "FSx": "AWS::FSx::FileSystem", "Storage Gateway": "AWS::StorageGateway::Gateway",
}
IDS = ["A", "B", "Vol", "Table"]
PLACES = [  # account, Region, unit
    (None, None, "t1"), (None, "us-east-1", "t1"), ("111111111111", "us-east-1", "t1"),
    ("111111111111", None, "t2"), ("222222222222", "eu-west-1", "t2"), (None, "eu-west-1", "t2"),
    (None, "us-west-2", "t1"), ("111111111111", "eu-west-1", "t2"),
    ("", "us-east-1", "t1"), ("111111111111", "", "t1"), ("222222222222", "us-east-1", "t1"),
]
LIVE_ARNS = [
    None, None, None, "arn:aws:ec2:us-east-1:111111111111:volume/vol-1", "arn:aws:s3:::logs",
    "arn:aws:dynamodb:us-east-1:111111111111:table/orders", "arn:aws:rds:eu-west-1:222222222222:db:logs",
    "arn:aws:ec2:us-east-1:111111111111:instance/i-9",
]
NAMES = [None, "logs", "logs-2024", "orders", "LOGS", 7,
         Unknown("the name is a parameter", text="logs-${Env}"),
         Unknown("Fn::If", candidates=("logs", "orders")), Unknown("no default"),
         Unknown("Fn::Sub", text="orders-${AWS::Region}"), Reference("Other", "Name")]
TAG_VALUES = ["daily", "weekly", "", "prod", 1, True, None, Unknown("v"),
              Unknown("Fn::If", candidates=("daily", "weekly")), Unknown("Fn::If", candidates=("daily", None)),
              Reference("Param")]
TAG_KEYS = ["backup", "env", "Backup", "aws:ResourceTag/backup"]
PATTERNS = [
    "*", "arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*", "arn:aws:*:*:*:table/*", "arn:aws:s3:::logs*",
    "arn:aws:s3:::*", "arn:aws:s3:::logs", "arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders",
    "arn:aws:rds:*:*:db:log?", "arn:aws:ec2:us-east-1:111111111111:volume/vol-1", "arn:aws:ec2:*:*:volume/vol-0abc",
    "arn:${AWS::Partition}:ec2:*:*:instance/*", "arn:aws:e?2:*:*:volume/v*", "arn:aws:s3:::${AWS::AccountId}-logs",
    "arn:aws:${AWS::Region}:*", "not-an-arn", "arn:aws:dynamodb:*:*:table/ord*", "arn:aws:rds:eu-west-1:*:db:*",
    "arn:aws:elasticfilesystem:*:*:file-system/fs-*", "arn:aws", "", 5,
    Reference("A", "Arn"), Reference("Vol", "arn"), Reference("B"), Reference("Table", "StreamArn"),
    Unknown("p"), Unknown("Fn::If", candidates=("arn:aws:s3:::logs", "arn:aws:ec2:*:*:volume/*")),
    Unknown("Fn::If", candidates=("*", "arn:aws:s3:::x"), may_be_absent=True),
    Unknown("Fn::If", candidates=(Reference("A", "Arn"), None)),
    Unknown("Fn::Sub", refs=("A",), text="arn:aws:s3:::${A}"), Unknown("Fn::Sub", refs=("Vol",), text="${Vol.Arn}"),
    Unknown("Fn::Sub", refs=("Table",), text="arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}"),
    Unknown("Fn::Sub", refs=("B",), text="arn:aws:s3:::${B}-replica"),
    Unknown("a list built from A", refs=("A",)),
]
OPERATORS = ["STRINGEQUALS", "STRINGEQUALS", "StringLike", "STRINGNOTEQUALS", "StringNotLike", None, "bogus", 3,
             Unknown("op")]
CONDITION_VALUES = ["daily", "d*", "", None, "weekly", "1", "True", Unknown("v"),
                    Unknown("Fn::If", candidates=("daily", "prod"))]


def origins(place, file: str, arn: str | None = None) -> Origin:
    account, region, unit = place
    return Origin(file=file, account=account, region=region, arn=arn, unit=unit)


tag_maps = st.dictionaries(st.sampled_from(TAG_KEYS), st.sampled_from(TAG_VALUES), max_size=3)
tag_sets = st.one_of(
    tag_maps, tag_maps,
    tag_maps.map(lambda known: OpenTags(known, "default_tags from var.tags")),
    st.sampled_from([Unknown("the tags are a parameter"), ["not", "a", "map"], None]),
)
conditions = st.builds(TagCondition, st.sampled_from(OPERATORS),
                       st.sampled_from(TAG_KEYS + [Unknown("key"), 4]), st.sampled_from(CONDITION_VALUES))
entries = st.one_of(
    st.lists(st.sampled_from(PATTERNS), max_size=4), st.lists(st.sampled_from(PATTERNS), max_size=4),
    st.sampled_from(["*", Unknown("Resources is a parameter"), None]),
)


@st.composite
def estates(draw) -> tuple[Estate, dict]:
    estate = Estate()
    plan_origin = origins(draw(st.sampled_from(PLACES)), "plan.yaml")
    rule = BackupRule("daily", "vault", "cron(0 5 ? * * *)", lifecycle=Lifecycle(35), origin=plan_origin)
    plan = BackupPlan("Plan", "daily", [rule], plan_origin)
    estate.plans.append(plan)
    estate.plans.append(BackupPlan("Empty", "empty", [], plan_origin))
    for index in range(draw(st.integers(1, 10))):
        service = draw(st.sampled_from(sorted(SERVICES)))
        place = draw(st.sampled_from(PLACES))
        arn = draw(st.sampled_from(LIVE_ARNS))
        estate.resources.append(ProtectedResource(
            draw(st.sampled_from(IDS)), SERVICES[service], service, origins(place, f"r{index}.yaml", arn),
            draw(tag_sets), settings=draw(st.sampled_from([{}, {"backup_policy_status": "ENABLED"}])), arn=arn,
            name=draw(st.sampled_from(NAMES))))
    for index in range(draw(st.integers(1, 6))):
        place = draw(st.sampled_from(PLACES))
        plan_ref = draw(st.sampled_from([Reference("Plan"), Reference("Empty"), "Plan", Reference("Elsewhere"),
                                         Unknown("imported"), Unknown("Fn::If", candidates=(Reference("Plan"),
                                                                                           Reference("Empty")))]))
        estate.selections.append(BackupSelection(
            f"Sel{index}", draw(st.sampled_from([f"sel{index}", Unknown("a name")])), plan_ref, "role",
            resources=draw(entries), not_resources=draw(st.one_of(st.just([]), entries)),
            list_of_tags=draw(st.lists(conditions, max_size=3)), conditions=draw(st.lists(conditions, max_size=2)),
            origin=origins(place, f"s{index}.yaml"),
            exists=draw(st.sampled_from([True, True, False, Unknown("Condition IsProd")]))))
    opt_in = draw(st.dictionaries(st.sampled_from(sorted(SERVICES)), st.sampled_from([True, False]), max_size=3))
    if draw(st.booleans()):  # Region settings declared in the estate, some undetermined
        scope = "account 111111111111 region us-east-1"
        estate.opt_in[scope] = {"S3": draw(st.sampled_from([True, False, Unknown("Region settings parameter")]))}
    return estate, opt_in


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estates())
def test_indexed_coverage_equals_the_brute_force_on_random_estates(drawn):
    estate, opt_in = drawn
    check(estate, opt_in)


def _grid_resources(place, services, names, arns, tag_sets_) -> list[ProtectedResource]:
    found = []
    for service in services:
        for name, arn in [(name, None) for name in names] + [(None, arn) for arn in arns]:
            for tags in tag_sets_:
                found.append(ProtectedResource(IDS[len(found) % len(IDS)], SERVICES[service], service,
                                               origins(place, "r.yaml", arn), tags, arn=arn, name=name))
    return found


def _plan(estate: Estate) -> None:
    origin = origins(PLACES[0], "plan.yaml")
    rule = BackupRule("daily", "vault", "cron(0 5 ? * * *)", lifecycle=Lifecycle(35), origin=origin)
    estate.plans.append(BackupPlan("Plan", "daily", [rule], origin))


def test_every_resources_entry_alone_and_as_notresources_against_many_resources():
    estate = Estate()
    _plan(estate)
    estate.resources = _grid_resources(PLACES[2], sorted(SERVICES), NAMES, [arn for arn in LIVE_ARNS if arn], [{}])
    for n, pattern in enumerate(PATTERNS):
        estate.selections.append(BackupSelection(f"R{n}", f"r{n}", Reference("Plan"), "role", resources=[pattern],
                                                 origin=origins(PLACES[2], "s.yaml")))
        estate.selections.append(BackupSelection(f"N{n}", f"n{n}", Reference("Plan"), "role", resources=["*"],
                                                 not_resources=[pattern], origin=origins(PLACES[2], "s.yaml")))
    check(estate, {"S3": True})


def test_every_tag_entry_alone_as_listoftags_and_as_a_condition():
    estate = Estate()
    _plan(estate)
    tag_sets_ = [{}, {"backup": None}, OpenTags({}, "default_tags"), OpenTags({"backup": "daily"}, "default_tags"),
                 OpenTags({"backup": None}, "default_tags"), Unknown("tags"), ["x"]]
    tag_sets_ += [{key: value} for key in TAG_KEYS[:3] for value in TAG_VALUES]
    estate.resources = (_grid_resources(PLACES[0], ["EBS"], [None], [], tag_sets_)
                        + _grid_resources(PLACES[0], ["Aurora"], [None], [], tag_sets_[:3]))
    for n, operator in enumerate(OPERATORS[1:]):
        for key in ["backup", "env", "aws:ResourceTag/backup", Unknown("key"), 4]:
            for value in ["daily", "d*", "", None, "1", Unknown("v"), Unknown("Fn::If", candidates=("daily", "prod"))]:
                condition = TagCondition(operator, key, value)
                estate.selections.append(BackupSelection(f"T{n}", f"t{n}", Reference("Plan"), "role",
                                                         list_of_tags=[condition], origin=origins(PLACES[0], "s.yaml")))
                estate.selections.append(BackupSelection(f"C{n}", f"c{n}", Reference("Plan"), "role", resources=["*"],
                                                         conditions=[condition], origin=origins(PLACES[0], "s.yaml")))
    check(estate, {"Aurora": False})


def test_resources_alike_but_for_their_service_do_not_share_answers():
    # RDS and Aurora have the same resource-type facts, but a specific (here unknown) ARN selects
    # Aurora only where it is opted in: not here, so Aurora is not covered while RDS may be.
    estate = Estate()
    _plan(estate)
    estate.resources = _grid_resources(PLACES[0], ["RDS", "Aurora", "RDS"], [None], [], [{"backup": "daily"}])
    estate.selections.append(BackupSelection("S", "s", Reference("Plan"), "role", resources=[Unknown("a parameter")],
                                             origin=origins(PLACES[0], "s.yaml")))
    check(estate, {"RDS": False, "Aurora": False})
    protected = [found.protected for found in coverage(estate, EstateIndex(estate), opt_in_lookup(
        {"RDS": False, "Aurora": False})).values()]
    assert [isinstance(p, Unknown) for p in protected] == [True, False, True]


def test_many_alike_resources_share_answers_and_still_equal_the_brute_force():
    estate = Estate()
    origin = Origin(file="t.yaml", unit="t")
    rule = BackupRule("daily", "vault", "cron(0 5 ? * * *)", lifecycle=Lifecycle(35), origin=origin)
    estate.plans.append(BackupPlan("Plan", "daily", [rule], origin))
    for n in range(60):
        tags = {"backup": ("daily", "weekly", "none")[n % 3]}
        if n % 7 == 0:
            tags = OpenTags(tags, "default_tags from var.tags")
        estate.resources.append(ProtectedResource(f"Vol{n}", "AWS::EC2::Volume", "EBS", origin, tags))
    for n, value in enumerate(("daily", "weekly")):
        estate.selections.append(BackupSelection(
            f"Sel{n}", f"sel{n}", Reference("Plan"), "role", resources=[Reference(f"Vol{n + 1}", "Arn")],
            list_of_tags=[TagCondition("STRINGEQUALS", "backup", value)], origin=origin))
    estate.selections.append(BackupSelection("Env", "env", Reference("Plan"), "role", resources=["*"],
                                             conditions=[TagCondition("StringEquals", "aws:ResourceTag/backup", "daily")],
                                             origin=origin))
    check(estate)


# -- real inputs --------------------------------------------------------------------------

def _scanned(path: Path, **cfn) -> Estate:
    return scan([path], ScanOptions(cfn=CfnOptions(**cfn)))


def test_indexed_coverage_equals_the_brute_force_on_the_examples_and_fixtures():
    check(_scanned(ROOT / "examples"))
    check(_scanned(ROOT / "examples", region="us-east-1", account_id="111122223333"))
    check(_scanned(ROOT / "tests" / "fixtures"))  # with --region and --account-id: one scope, too slow here


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_indexed_coverage_equals_the_brute_force_on_the_corpus():
    estate = _scanned(CORPUS)
    check(estate)
    for resource in [*estate.resources, *estate.selections]:  # the same inputs, all in one account and Region
        resource.origin = replace(resource.origin, account="111122223333", region="us-east-1")
    check(estate)
