"""Selection matching: AWS Backup's resource-assignment semantics, opt-in and honest unknowns."""

from __future__ import annotations

import pytest

from backupguard.estate import BackupSelection, Origin, ProtectedResource, Reference, TagCondition, Unknown
from backupguard.resolve.selection import (
    Match,
    arn_matches,
    resource_arn,
    selection_matches,
    tag_condition_matches,
)

TYPES = {
    "EC2": "AWS::EC2::Instance",
    "EBS": "AWS::EC2::Volume",
    "RDS": "AWS::RDS::DBInstance",
    "Aurora": "AWS::RDS::DBCluster",
    "DocumentDB": "AWS::DocDB::DBCluster",
    "Neptune": "AWS::Neptune::DBCluster",
    "DynamoDB": "AWS::DynamoDB::Table",
    "EFS": "AWS::EFS::FileSystem",
    "FSx": "AWS::FSx::FileSystem",
    "S3": "AWS::S3::Bucket",
}
ACCOUNT = "123456789012"


def res(service, name=None, tags=None, region="us-east-1", account=ACCOUNT, rid="Res", rtype=None, arn=None):
    origin = Origin(file="t.yaml", region=region, account=account)
    return ProtectedResource(rid, rtype or TYPES[service], service, origin, {} if tags is None else tags, arn=arn, name=name)


def sel(resources=(), not_resources=(), tags=(), conditions=()):
    return BackupSelection(
        "Sel", "sel", "Plan", "role",
        resources=list(resources) if isinstance(resources, tuple) else resources,
        not_resources=list(not_resources),
        list_of_tags=[TagCondition("STRINGEQUALS", k, v) for k, v in tags],
        conditions=[TagCondition(op, f"aws:ResourceTag/{k}", v) for op, k, v in conditions],
    )


def everything(service):
    return True


def nothing(service):
    return False


def match(pattern, resource):
    return arn_matches(pattern, resource, resource_arn(resource))


def is_unknown(value, *words):
    return isinstance(value, Unknown) and all(w in value.reason for w in words)


# -- resource_arn --------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "shown"),
    [
        (res("S3", "logs", region=None, account=None), "arn:aws:s3:::logs"),
        (res("S3", "logs", region="cn-north-1"), "arn:aws-cn:s3:::logs"),
        (res("EBS"), f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-<generated>"),
        (res("EBS", region=None, account=None), "arn:aws:ec2:*:*:volume/vol-<generated>"),
        (res("EC2", region="us-gov-west-1"), f"arn:aws-us-gov:ec2:us-gov-west-1:{ACCOUNT}:instance/i-<generated>"),
        (res("DynamoDB", "Orders"), f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders"),
        (res("DynamoDB"), f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/<generated>"),
        (res("RDS", "MyDB"), f"arn:aws:rds:us-east-1:{ACCOUNT}:db:mydb"),  # RDS stores identifiers in lower case
        (res("RDS"), f"arn:aws:rds:us-east-1:{ACCOUNT}:db:<generated>"),
        (res("Aurora", "prod"), f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:prod"),
        (res("RDS", "maz", rtype="AWS::RDS::DBCluster"), f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:maz"),
        (res("DocumentDB", "docs"), f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:docs"),
        (res("Neptune", "graph"), f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:graph"),
        (res("EFS"), f"arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/fs-<generated>"),
        (res("FSx"), f"arn:aws:fsx:us-east-1:{ACCOUNT}:file-system/fs-<generated>"),
        (res("DynamoDB", Unknown("parameter 'T' has no value")), f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*"),
        (res("EBS", arn="arn:aws:ec2:eu-west-1:111122223333:volume/vol-0abc"),
         "arn:aws:ec2:eu-west-1:111122223333:volume/vol-0abc"),
    ],
)
def test_resource_arn(resource, shown):
    assert resource_arn(resource).display() == shown


def test_s3_arn_is_fully_known_without_region():
    arn = resource_arn(res("S3", "logs", region=None, account=None))
    assert (arn.service, arn.region, arn.account, arn.resource, arn.rest) == ("s3", "", "", "logs", None)
    assert arn.partition.candidates == ("aws",)  # assumed without --region; a China bucket would be aws-cn


# -- arn_matches ---------------------------------------------------------------

VOLUMES = "arn:aws:ec2:*:*:volume/*"


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("*", res("EFS"), True),
        (VOLUMES, res("EBS"), True),
        (VOLUMES, res("EC2"), False),
        (VOLUMES, res("EBS", region=None, account=None), True),  # '*' covers the unknown Region
        ("arn:aws:ec2:*", res("EBS"), True),  # service-only prefix
        ("arn:aws:ec2:*", res("EC2"), True),
        ("arn:aws:ec2:*", res("RDS", "db1"), False),
        ("arn:aws:fsx:*", res("FSx"), True),
        ("arn:aws:rds:*:*:db:*", res("RDS", "db1"), True),
        ("arn:aws:rds:*:*:db:*", res("Aurora", "c1"), False),
        ("arn:aws:rds:*:*:db:*", res("RDS", "maz", rtype="AWS::RDS::DBCluster"), False),
        ("arn:aws:rds:*:*:cluster:*", res("Aurora", "c1"), True),
        ("arn:aws:rds:*:*:cluster:*", res("DocumentDB"), True),
        ("arn:aws:rds:*:*:cluster:*", res("Neptune"), True),
        ("arn:aws:rds:*:*:cluster:*", res("RDS", "maz", rtype="AWS::RDS::DBCluster"), True),
        ("arn:aws:rds:*:*:cluster:*", res("RDS", "db1"), False),
        ("arn:aws:rds:*", res("RDS"), True),
        ("arn:aws:rds:*", res("Neptune"), True),
        ("arn:aws:ec2:us-east-1:*:volume/*", res("EBS"), True),
        ("arn:aws:ec2:eu-west-1:*:volume/*", res("EBS"), False),
        ("arn:aws:ec2:*:999999999999:volume/*", res("EBS"), False),
        # A literal volume ID names an existing volume, never one this template creates.
        (f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-0abc1234def567890", res("EBS"), False),
        ("arn:aws:ec2:*:*:volume/vol-0abc1234def567890", res("EBS", region=None), False),  # False beats unknown Region
        ("arn:aws:ec2:*:*:volume/vol-*", res("EBS"), True),
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders", res("DynamoDB", "Orders"), True),
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders", res("DynamoDB", "Orders"), False),  # case-sensitive
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Users", res("DynamoDB", "Orders"), False),
        ("arn:aws:dynamodb:*:*:table/Orders", res("DynamoDB"), False),  # generated name never equals a literal
        ("arn:aws:dynamodb:*:*:table/*", res("DynamoDB"), True),
        (f"arn:aws:rds:us-east-1:{ACCOUNT}:db:mydb", res("RDS", "MyDB"), True),
        ("arn:aws:s3:::logs-*", res("S3", "logs-app", region=None, account=None), True),
        ("arn:aws:s3:::logs-*", res("S3", "logs"), False),
        ("arn:aws:s3:::logs-*", res("S3", "app-logs"), False),
        ("arn:aws:s3:::log?", res("S3", "logs"), True),  # '?' is one character
        ("arn:aws:s3:::log?", res("S3", "logs1"), False),
        ("arn:aws:s3:::logs[1]", res("S3", "logs1"), False),  # no character classes: '[' is literal
        ("arn:aws-cn:s3:::logs", res("S3", "logs", region="cn-north-1"), True),
        ("arn:aws:s3:::logs", res("S3", "logs", region="cn-north-1"), False),
        ("arn:aws:ec2:*:*:volume/*", res("EBS", arn="arn:aws:ec2:eu-west-1:111122223333:volume/vol-0abc"), True),
        ("arn:aws:ec2:*:*:volume/vol-0abc", res("EBS", arn="arn:aws:ec2:eu-west-1:111122223333:volume/vol-0abc"), True),
        ("vol-0abc", res("EBS"), False),  # not an ARN
        ("arn:aws:ec2", res("EBS"), False),
        (None, res("EBS"), False),
        (42, res("EBS"), False),
        # The same template's pseudo parameters: the deployment Region/account, whatever it is.
        ("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/Orders",
         res("DynamoDB", "Orders", region=None, account=None), True),
    ],
)
def test_arn_matches(pattern, resource, expected):
    assert match(pattern, resource) is expected


def test_literal_region_with_unknown_region_is_unknown():
    found = match("arn:aws:ec2:us-east-1:*:volume/*", res("EBS", region=None))
    assert is_unknown(found, "--region")
    assert is_unknown(match("arn:aws:ec2:*:123456789012:volume/*", res("EBS", account=None)), "--account-id")
    assert is_unknown(match(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders", res("DynamoDB", "Orders", region=None)),
                      "--region")


def test_partial_wildcards_over_generated_parts_are_unknown():
    assert is_unknown(match("arn:aws:ec2:*:*:volume/vol-0a*", res("EBS")), "ID is assigned")
    assert is_unknown(match("arn:aws:dynamodb:*:*:table/Ord*", res("DynamoDB")), "generated by CloudFormation")
    assert is_unknown(match("arn:aws:dynamodb:*:*:table/Orders", res("DynamoDB", Unknown("parameter 'T'"))), "parameter 'T'")


def test_symbolic_pattern_against_a_known_region_is_unknown():
    found = match("arn:aws:dynamodb:${AWS::Region}:*:table/Orders", res("DynamoDB", "Orders"))
    assert is_unknown(found, "${AWS::Region}")


def test_references():
    table = res("DynamoDB", "Orders", rid="Table")
    assert match(Reference("Table", "Arn"), table) is True
    assert match(Reference("Other", "Arn"), table) is False
    assert match(Reference("Table", "StreamArn"), table) is False  # not the table's ARN
    assert match(Reference("Table"), table) is False  # Ref gives the table name, which is no ARN
    cluster = res("Aurora", "c1", rid="Cluster")
    assert match(Reference("Cluster", "DBClusterArn"), cluster) is True


def test_unknown_patterns():
    volume = res("EBS", rid="Vol")
    built = Unknown("Fn::Sub 'arn:aws:ec2:...:volume/${Vol}': 'Vol' is known only after deployment", ("Vol",))
    assert match(built, volume) is True
    # without the text of the value (a list built from Vol, say), another resource may be in it too
    assert is_unknown(match(built, res("EBS", rid="Other")), "Fn::Sub")
    with_text = Unknown(built.reason, ("Vol",), text="arn:aws:ec2:us-east-1:123456789012:volume/${Vol}")
    assert match(with_text, res("EBS", rid="Other")) is False
    assert is_unknown(match(Unknown("parameter 'Arns' has no value"), volume), "parameter 'Arns'")
    either = Unknown("condition 'Prod' is undetermined", candidates=("arn:aws:ec2:*:*:volume/*", "arn:aws:ec2:*"))
    assert match(either, volume) is True
    split = Unknown("condition 'Prod' is undetermined", candidates=("arn:aws:ec2:*:*:volume/*", "arn:aws:s3:::x"))
    assert is_unknown(match(split, volume), "condition 'Prod'")


# -- tag_condition_matches -----------------------------------------------------


def listed(key, value):
    return TagCondition("STRINGEQUALS", key, value)


def cond(op, key, value):
    return TagCondition(op, f"aws:ResourceTag/{key}", value)


@pytest.mark.parametrize(
    ("condition", "tags", "expected"),
    [
        (listed("backup", "daily"), {"backup": "daily"}, True),
        (listed("backup", "daily"), {"backup": "Daily"}, False),  # values are case-sensitive
        (listed("backup", "daily"), {"Backup": "daily"}, False),  # keys too
        (listed("backup", "daily"), {}, False),
        (listed("backup", "dai*"), {"backup": "daily"}, False),  # ListOfTags is StringEquals: no wildcards
        (TagCondition("StringEquals", "backup", "daily"), {"backup": "daily"}, True),  # CLI spelling
        (cond("StringEquals", "env", "prod"), {"env": "prod"}, True),
        (cond("StringEquals", "env", "prod"), {"env": "prod-eu"}, False),
        (cond("StringNotEquals", "stage", "test"), {"stage": "test"}, False),
        (cond("StringNotEquals", "stage", "test"), {"stage": "prod"}, True),
        (cond("StringNotEquals", "stage", "test"), {}, True),  # absent key: "not equals" holds
        (cond("StringLike", "env", "prod*"), {"env": "production"}, True),
        (cond("StringLike", "env", "prod*"), {"env": "preprod"}, False),
        (cond("StringLike", "env", "prod*"), {"env": "Production"}, False),
        (cond("StringLike", "env", "*rod*"), {"env": "preprod"}, True),
        (cond("StringLike", "env", "*rod*"), {"env": "dev"}, False),
        (cond("StringLike", "env", "pr?d"), {"env": "prod"}, True),
        (cond("StringLike", "env", "[p]rod"), {"env": "prod"}, False),
        (cond("StringLike", "env", "[p]rod"), {"env": "[p]rod"}, True),
        (cond("StringLike", "env", "*"), {}, False),  # StringLike needs the tag
        (cond("StringNotLike", "env", "prod*"), {"env": "production"}, False),
        (cond("StringNotLike", "env", "prod*"), {"env": "dev"}, True),
        (cond("StringNotLike", "env", "prod*"), {}, True),
        (listed("backup", "daily"), {"backup": "daily", "owner": Unknown("parameter 'Owner'")}, True),
        (cond("StringLike", "env", "prod*"), {"env": Unknown("if", candidates=("prod", "prod-eu"))}, True),
        (cond("StringLike", "env", "prod*"), {"env": Unknown("if", candidates=("dev", "test"))}, False),
    ],
)
def test_tag_conditions(condition, tags, expected):
    assert tag_condition_matches(condition, tags) is expected


def test_unknown_tags():
    assert is_unknown(tag_condition_matches(listed("backup", "daily"), Unknown("a tag key is known only at deploy time")),
                      "deploy time")
    assert is_unknown(tag_condition_matches(listed("backup", "daily"), {"backup": Unknown("parameter 'B'")}), "parameter 'B'")
    assert is_unknown(tag_condition_matches(cond("StringNotEquals", "stage", "test"), {"stage": Unknown("parameter 'S'")}),
                      "parameter 'S'")
    assert is_unknown(tag_condition_matches(listed(Unknown("parameter 'K'"), "daily"), {"backup": "daily"}), "parameter 'K'")
    assert is_unknown(tag_condition_matches(listed("backup", Unknown("parameter 'V'")), {"backup": "daily"}), "parameter 'V'")
    assert isinstance(tag_condition_matches(listed("backup", "daily"), {"backup": Reference("Topic")}), Unknown)


# -- selection_matches ---------------------------------------------------------

# AWS's documented example: (FSx + one Aurora cluster OR tagged backup=true) AND NOT stage=test.
AURORA_ARN = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:prod-aurora"
DOC_EXAMPLE = sel(
    resources=("arn:aws:fsx:*:*:file-system/*", AURORA_ARN),
    tags=[("backup", "true")],
    conditions=[("StringNotEquals", "stage", "test")],
)


@pytest.mark.parametrize(
    ("resource", "selected", "how"),
    [
        (res("FSx"), True, "ARN arn:aws:fsx:*:*:file-system/*"),
        (res("FSx", tags={"stage": "test"}), False, "condition aws:ResourceTag/stage does not equal test failed"),
        (res("Aurora", "prod-aurora"), True, f"ARN {AURORA_ARN}"),
        (res("Aurora", "Prod-Aurora"), True, f"ARN {AURORA_ARN}"),  # identifiers are lower-cased
        (res("Aurora", "other"), False, "none of its resource ARNs and tags matches"),
        (res("EBS", tags={"backup": "true"}), True, "tag backup=true"),
        (res("EBS", tags={"backup": "true", "stage": "test"}), False,
         "condition aws:ResourceTag/stage does not equal test failed"),
        (res("EBS"), False, "none of its resource ARNs and tags matches"),
        (res("DynamoDB", "t", tags={"backup": "True"}), False, "none of its resource ARNs and tags matches"),
    ],
)
def test_documented_example(resource, selected, how):
    assert selection_matches(DOC_EXAMPLE, resource, everything) == Match(selected, how)


def test_not_resources_excludes():
    selection = sel(resources=("*",), not_resources=["arn:aws:s3:::logs-*"])
    assert selection_matches(selection, res("S3", "logs-app"), everything) == Match(
        False, "excluded by its excluded ARN arn:aws:s3:::logs-*"
    )
    assert selection_matches(selection, res("S3", "data"), everything) == Match(True, "'*' (every resource)")
    by_ref = sel(resources=("*",), not_resources=[Reference("Vol", "Arn")])
    assert selection_matches(by_ref, res("EBS", rid="Vol"), everything).selected is False


def test_empty_selection_selects_nothing():
    # AWS rejects it: "Either 'ListOfTags' or 'Resources' section must be non-empty" (BG425).
    found = selection_matches(sel(), res("EBS"), everything)
    assert found.selected is False and "neither resource ARNs nor tags" in found.how


def test_conditions_only_selection_is_rejected_and_selects_nothing():
    selection = sel(conditions=[("StringEquals", "env", "prod")])
    assert selection_matches(selection, res("EBS", tags={"env": "prod"}), everything).selected is False


@pytest.mark.parametrize(
    ("pattern", "service", "opted", "selected"),
    [
        ("*", "EBS", True, True),
        ("*", "EBS", False, False),  # '*' honours opt-in
        ("arn:aws:ec2:*", "EBS", False, False),  # so do service-only ARNs
        ("arn:aws:ec2:*:*:volume/*", "EBS", False, True),  # a resource-type ARN does not
        ("arn:aws:dynamodb:*:*:table/*", "DynamoDB", False, True),
        ("arn:aws:rds:*:*:cluster:*", "Aurora", False, False),  # ... except for Aurora, DocumentDB, Neptune
        ("arn:aws:rds:*:*:cluster:*", "Aurora", True, True),
        ("arn:aws:rds:*:*:cluster:*", "DocumentDB", False, False),
        ("arn:aws:rds:*:*:cluster:*", "Neptune", False, False),
        (f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:c1", "Aurora", False, False),  # even a specific ARN
        ("arn:aws:rds:*:*:db:*", "RDS", False, True),
    ],
)
def test_opt_in(pattern, service, opted, selected):
    resource = res(service, "c1")
    assert selection_matches(sel(resources=(pattern,)), resource, lambda s: opted).selected is selected


def test_rds_multi_az_cluster_follows_rds_opt_in_rules():
    cluster = res("RDS", "maz", rtype="AWS::RDS::DBCluster")
    assert selection_matches(sel(resources=("arn:aws:rds:*:*:cluster:*",)), cluster, nothing).selected is True


def test_tags_honour_opt_in():
    found = selection_matches(sel(tags=[("backup", "daily")]), res("EBS", tags={"backup": "daily"}), nothing)
    assert found == Match(False, "tag backup=daily matches, but EBS is not opted in for the Region")


def test_unknown_opt_in():
    opted = lambda s: Unknown("the Region's opt-in settings are not known")  # noqa: E731
    assert is_unknown(selection_matches(sel(resources=("*",)), res("EBS"), opted).selected, "opt-in")
    assert selection_matches(sel(resources=(VOLUMES,)), res("EBS"), opted).selected is True
    assert is_unknown(selection_matches(sel(resources=(VOLUMES, "arn:aws:rds:*")), res("Aurora", "c"), opted).selected,
                      "opt-in")


def test_kleene_logic():
    unknown_tags = res("EBS", tags=Unknown("a tag key is known only at deploy time"))
    found = selection_matches(sel(tags=[("backup", "daily")]), unknown_tags, everything)
    assert is_unknown(found.selected, "tag backup=daily", "deploy time") and found.how == found.selected.reason
    # A known True decides the OR.
    assert selection_matches(sel(resources=("*",), tags=[("backup", "daily")]), unknown_tags, everything).selected is True
    # A known False decides the AND.
    regional = sel(resources=("arn:aws:ec2:us-east-1:*:volume/*",), conditions=[("StringEquals", "env", "prod")])
    assert selection_matches(regional, res("EBS", region=None, tags={"env": "dev"}), everything).selected is False
    found = selection_matches(regional, res("EBS", region=None, tags={"env": "prod"}), everything)
    assert is_unknown(found.selected, "--region") and "ARN arn:aws:ec2:us-east-1:*:volume/*" in found.how
    # Unknown conditions and NotResources leave a match open, not closed.
    assert isinstance(selection_matches(regional, res("EBS", tags=unknown_tags.tags), everything).selected, Unknown)
    open_exclusion = sel(resources=("*",), not_resources=[Unknown("parameter 'Excluded' has no value")])
    assert is_unknown(selection_matches(open_exclusion, res("EBS"), everything).selected, "excluded ARN", "Excluded")
    assert selection_matches(sel(resources=("arn:aws:s3:::*",), not_resources=[Unknown("p")]), res("EBS"),
                             everything).selected is False


def test_references_and_sub_arns_in_selections():
    volume = res("EBS", rid="Vol")
    built = sel(resources=(Unknown("Fn::Sub 'arn:...:volume/${Vol}'", ("Vol",), text="arn:aws:ec2:us-east-1:123456789012:volume/${Vol}"),))
    assert selection_matches(built, volume, nothing) == Match(True, "ARN built from Vol")
    assert selection_matches(built, res("EBS", rid="Other"), everything).selected is False
    table = res("DynamoDB", "Orders", rid="Table")
    assert selection_matches(sel(resources=(Reference("Table", "Arn"),)), table, everything) == Match(
        True, "a reference to it (Table.Arn)"
    )
    assert selection_matches(sel(resources=(Reference("Table"),)), table, everything).selected is False


def test_unknown_resource_list():
    selection = sel(resources=Unknown("parameter 'Arns' has no value"))
    assert is_unknown(selection_matches(selection, res("EBS"), everything).selected, "parameter 'Arns'")
    tagged = sel(resources=Unknown("parameter 'Arns' has no value"), tags=[("backup", "daily")])
    assert selection_matches(tagged, res("EBS", tags={"backup": "daily"}), everything).selected is True


def test_dynamodb_by_name_and_s3_by_wildcard():
    orders = res("DynamoDB", "Orders")
    by_name = sel(resources=(f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders",))
    assert selection_matches(by_name, orders, nothing).selected is True
    assert selection_matches(by_name, res("DynamoDB", "Users"), everything).selected is False
    logs = sel(resources=("arn:aws:s3:::logs-*",))
    assert selection_matches(logs, res("S3", "logs-2024", region=None, account=None), everything) == Match(
        True, "ARN arn:aws:s3:::logs-*"
    )
    # A generated bucket name starts with the stack name, which may start with 'logs-'.
    assert is_unknown(selection_matches(logs, res("S3"), everything).selected, "generated by CloudFormation")
