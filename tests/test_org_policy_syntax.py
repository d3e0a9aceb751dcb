"""Syntax checks of AWS Organizations backup policy documents (resolve/org_policy_syntax.py)."""

from __future__ import annotations

import copy
import json

import pytest

from backupguard.estate import Unknown
from backupguard.resolve.org_policy_syntax import PolicyProblem, policy_problems

PLAN = "plans.Critical_Data"
RULE = f"{PLAN}.rules.SixHourly"


def a(value):
    return {"@@assign": value}


def policy() -> dict:
    """A complete policy written like AWS's parent-policy example: every setting an operator object."""
    return {
        "plans": {
            "Critical_Data": {
                "regions": a(["eu-west-1", "eu-central-1", "us-east-2"]),
                "rules": {
                    "SixHourly": {
                        "schedule_expression": a("cron(0 */6 ? * * *)"),
                        "start_backup_window_minutes": a("120"),
                        "complete_backup_window_minutes": a("1440"),
                        "target_backup_vault_name": a("CentralVault"),
                        "target_logically_air_gapped_backup_vault_arn": a(
                            "arn:aws:backup:$region:$account:backup-vault:IsolatedVault"
                        ),
                        "enable_continuous_backup": a("false"),
                        "lifecycle": {
                            "move_to_cold_storage_after_days": a("60"),
                            "delete_after_days": a("150"),
                            "opt_in_to_archive_for_supported_resources": a("false"),
                        },
                        "copy_actions": {
                            "arn:aws:backup:eu-west-1:$account:backup-vault:SecondVault": {
                                "target_backup_vault_arn": a(
                                    "arn:aws:backup:eu-west-1:$account:backup-vault:SecondVault"
                                ),
                                "lifecycle": {
                                    "move_to_cold_storage_after_days": a("14"),
                                    "delete_after_days": a("104"),
                                    "opt_in_to_archive_for_supported_resources": a(False),
                                },
                            },
                            "arn:aws:backup:us-east-2:222233334444:backup-vault:OtherAccountVault": {
                                "target_backup_vault_arn": a(
                                    "arn:aws:backup:us-east-2:222233334444:backup-vault:OtherAccountVault"
                                ),
                                "lifecycle": {"delete_after_days": a("400")},
                            },
                        },
                        "recovery_point_tags": {"team": {"tag_key": a("Team"), "tag_value": a("storage")}},
                        "index_actions": {"resource_types": a(["EBS", "S3"])},
                    }
                },
                "selections": {
                    "tags": {
                        "classified": {
                            "iam_role_arn": a("arn:aws:iam::$account:role/OrgBackupRole"),
                            "tag_key": a("classification"),
                            "tag_value": a(["confidential", "secret"]),
                            "conditions": {
                                "string_not_equals": {
                                    "skip": {
                                        "condition_key": a("aws:ResourceTag/backup"),
                                        "condition_value": a("off"),
                                    }
                                }
                            },
                        }
                    }
                },
                "advanced_backup_settings": {"ec2": {"windows_vss": a("enabled")}},
                "backup_plan_tags": {"owner": {"tag_key": a("Owner"), "tag_value": a("platform")}},
            }
        }
    }


def at(document: dict, dotted: str) -> dict:
    """The object at a dotted path of the test document (keys without dots only)."""
    node = document
    for key in dotted.split("."):
        node = node[key]
    return node


def codes_paths(problems: list[PolicyProblem]) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in problems]


# ---------------------------------------------------------------------------
# Valid documents
# ---------------------------------------------------------------------------


def test_documented_style_policy_has_no_problems():
    assert policy_problems(policy(), len(json.dumps(policy(), indent=4))) == []


def test_child_control_at_every_level_is_accepted():
    """A parent policy locking everything (AWS example 3 style): the operator may sit on containers too."""
    document = policy()
    lock = ["@@none"]
    document["plans"]["@@operators_allowed_for_child_policies"] = ["@@append"]
    plan = document["plans"]["Critical_Data"]
    for node in (
        plan,
        plan["regions"],
        plan["rules"],
        at(document, RULE),
        at(document, f"{RULE}.lifecycle"),
        at(document, f"{RULE}.lifecycle.delete_after_days"),
        at(document, f"{RULE}.schedule_expression"),
        plan["selections"],
        plan["selections"]["tags"],
        plan["selections"]["tags"]["classified"],
        plan["selections"]["tags"]["classified"]["tag_value"],
        plan["advanced_backup_settings"],
        plan["advanced_backup_settings"]["ec2"]["windows_vss"],
    ):
        node["@@operators_allowed_for_child_policies"] = lock
    at(document, f"{RULE}.schedule_expression")["@@operators_allowed_for_child_policies"] = ["@@assign", "@@append"]
    assert policy_problems(document) == []


def test_effective_policy_with_bare_values_has_no_problems():
    """Effective policies (DescribeEffectivePolicy) hold plain values: accepted."""
    effective = {
        "plans": {
            "Critical_Data": {
                "regions": ["eu-west-1", "us-east-2"],
                "rules": {
                    "sixhourly": {
                        "schedule_expression": "cron(0 */6 ? * * *)",
                        "start_backup_window_minutes": "60",
                        "target_backup_vault_name": "CentralVault",
                        "lifecycle": {"move_to_cold_storage_after_days": "30", "delete_after_days": "120"},
                        "copy_actions": {
                            "arn:aws:backup:eu-west-1:111122223333:backup-vault:SecondVault": {
                                "target_backup_vault_arn": (
                                    "arn:aws:backup:eu-west-1:111122223333:backup-vault:SecondVault"
                                ),
                                "lifecycle": {"delete_after_days": "35"},
                            }
                        },
                    }
                },
                "selections": {
                    "resources": {
                        "everything_but_volumes": {
                            "iam_role_arn": "arn:aws:iam::111122223333:role/OrgBackupRole",
                            "resource_types": ["*"],
                            "not_resource_types": ["arn:aws:ec2:*:*:volume/*"],
                        }
                    }
                },
                "advanced_backup_settings": {"ec2": {"windows_vss": "disabled"}},
            }
        }
    }
    assert policy_problems(effective) == []


def test_append_and_remove_on_list_settings_are_accepted():
    document = policy()
    plan = document["plans"]["Critical_Data"]
    plan["regions"] = {"@@append": ["ap-southeast-2"]}
    plan["selections"]["tags"]["classified"]["tag_value"] = {"@@remove": ["secret"]}
    at(document, f"{RULE}.index_actions")["resource_types"] = {"@@append": ["S3"]}
    assert policy_problems(document) == []


def test_resources_selection_with_conditions_is_accepted():
    document = policy()
    document["plans"]["Critical_Data"]["selections"] = {
        "resources": {
            "tagged_databases": {
                "iam_role_arn": a("arn:aws:iam::$account:role/OrgBackupRole"),
                "resource_types": a(["arn:aws:rds:*:*:db:*", "arn:aws:dynamodb:*:*:table/*"]),
                "conditions": {
                    "string_equals": {"c1": {"condition_key": a("aws:ResourceTag/tier"), "condition_value": a("1")}},
                    "string_not_like": {
                        "c2": {"condition_key": a("aws:ResourceTag/env"), "condition_value": a("*dev*")}
                    },
                },
            }
        }
    }
    assert policy_problems(document) == []


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:backup:$region:$account:backup-vault:IsolatedVault",
        "arn:aws:backup:eu-west-1:111122223333:backup-vault:Isolated_Vault-1",
        "arn:aws-us-gov:backup:us-gov-west-1:$account:backup-vault:IsolatedVault",
    ],
)
def test_air_gapped_arn_placeholders_or_real_values_are_accepted(arn):
    document = policy()
    at(document, RULE)["target_logically_air_gapped_backup_vault_arn"] = a(arn)
    assert policy_problems(document) == []


# ---------------------------------------------------------------------------
# operator
# ---------------------------------------------------------------------------


def test_unknown_operator_on_a_setting():
    document = policy()
    document["plans"]["Critical_Data"]["regions"] = {"@@apend": ["eu-west-1"]}
    problems = policy_problems(document)
    assert codes_paths(problems) == [("operator", f"{PLAN}.regions.@@apend")]
    assert '"@@apend"' in problems[0].message


def test_unknown_operator_on_a_container():
    document = policy()
    document["plans"]["@@merge"] = ["x"]
    assert codes_paths(policy_problems(document)) == [("operator", "plans.@@merge")]


def test_append_on_a_single_valued_setting():
    document = policy()
    at(document, RULE)["schedule_expression"] = {"@@append": ["cron(0 5 ? * * *)"]}
    problems = policy_problems(document)
    assert codes_paths(problems) == [("operator", f"{RULE}.schedule_expression.@@append")]
    assert "cron(0 5 ? * * *)" in problems[0].message


def test_remove_with_a_value_that_is_not_a_list():
    document = policy()
    document["plans"]["Critical_Data"]["selections"]["tags"]["classified"]["tag_value"] = {"@@remove": "secret"}
    problems = policy_problems(document)
    assert codes_paths(problems) == [("operator", f"{PLAN}.selections.tags.classified.tag_value.@@remove")]
    assert '"secret"' in problems[0].message


def test_append_on_a_scalar_inside_a_free_form_block():
    document = policy()
    document["plans"]["Critical_Data"]["advanced_backup_settings"]["ec2"]["windows_vss"] = {"@@append": ["enabled"]}
    assert codes_paths(policy_problems(document)) == [
        ("operator", f"{PLAN}.advanced_backup_settings.ec2.windows_vss.@@append")
    ]


def test_object_without_operator_in_a_setting_place():
    document = policy()
    at(document, RULE)["target_backup_vault_name"] = {"assign": "CentralVault"}
    problems = policy_problems(document)
    assert codes_paths(problems) == [("operator", f"{RULE}.target_backup_vault_name.assign")]
    assert '"assign"' in problems[0].message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (["@@all", "@@assign"], "stand alone"),
        (["@@none", "@@none"], "stand alone"),
        (["@@assign", "@@replace"], '["@@replace"]'),
        ("@@none", '"@@none"'),
        ([], "non-empty list"),
    ],
)
def test_bad_child_control(value, fragment):
    document = policy()
    at(document, f"{RULE}.lifecycle.delete_after_days")["@@operators_allowed_for_child_policies"] = value
    problems = policy_problems(document)
    assert codes_paths(problems) == [
        ("operator", f"{RULE}.lifecycle.delete_after_days.@@operators_allowed_for_child_policies")
    ]
    assert fragment in problems[0].message


# ---------------------------------------------------------------------------
# required-key
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["regions", "rules", "selections"])
def test_plan_without_a_required_key(key):
    document = policy()
    del document["plans"]["Critical_Data"][key]
    problems = policy_problems(document)
    assert codes_paths(problems) == [("required-key", f"{PLAN}.{key}")]
    assert f"'{key}'" in problems[0].message


@pytest.mark.parametrize("key", ["schedule_expression", "target_backup_vault_name"])
def test_rule_without_a_required_key(key):
    document = policy()
    del at(document, RULE)[key]
    assert codes_paths(policy_problems(document)) == [("required-key", f"{RULE}.{key}")]


@pytest.mark.parametrize("key", ["iam_role_arn", "tag_key", "tag_value"])
def test_tags_selection_without_a_required_key(key):
    document = policy()
    del document["plans"]["Critical_Data"]["selections"]["tags"]["classified"][key]
    assert codes_paths(policy_problems(document)) == [("required-key", f"{PLAN}.selections.tags.classified.{key}")]


@pytest.mark.parametrize("key", ["iam_role_arn", "resource_types"])
def test_resources_selection_without_a_required_key(key):
    document = policy()
    entry = {"iam_role_arn": a("arn:aws:iam::$account:role/R"), "resource_types": a(["*"])}
    del entry[key]
    document["plans"]["Critical_Data"]["selections"] = {"resources": {"all": entry}}
    assert codes_paths(policy_problems(document)) == [("required-key", f"{PLAN}.selections.resources.all.{key}")]


def test_selections_with_neither_tags_nor_resources():
    document = policy()
    document["plans"]["Critical_Data"]["selections"] = {}
    assert codes_paths(policy_problems(document)) == [("required-key", f"{PLAN}.selections")]


def test_empty_rules():
    document = policy()
    document["plans"]["Critical_Data"]["rules"] = {}
    assert codes_paths(policy_problems(document)) == [("required-key", f"{PLAN}.rules")]


def test_document_without_plans():
    assert codes_paths(policy_problems({"plan": {}})) == [("required-key", "plans")]


def test_partial_child_policy_is_reported_for_the_caller_to_grade():
    """A child policy holding only overrides: reported, since the document is evaluated alone."""
    child = {"plans": {"Critical_Data": {"rules": {"SixHourly": {"start_backup_window_minutes": a("90")}}}}}
    assert codes_paths(policy_problems(child)) == [
        ("required-key", f"{PLAN}.regions"),
        ("required-key", f"{PLAN}.selections"),
        ("required-key", f"{RULE}.schedule_expression"),
        ("required-key", f"{RULE}.target_backup_vault_name"),
    ]


# ---------------------------------------------------------------------------
# tags-and-resources
# ---------------------------------------------------------------------------


def test_tags_and_resources_in_one_plan():
    document = policy()
    document["plans"]["Critical_Data"]["selections"]["resources"] = {
        "all": {"iam_role_arn": a("arn:aws:iam::$account:role/R"), "resource_types": a(["*"])}
    }
    problems = policy_problems(document)
    assert codes_paths(problems) == [("tags-and-resources", f"{PLAN}.selections")]


# ---------------------------------------------------------------------------
# value
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", ["59", 30, " 0 "])
def test_start_window_under_60_minutes(minutes):
    document = policy()
    at(document, RULE)["start_backup_window_minutes"] = a(minutes)
    problems = policy_problems(document)
    assert codes_paths(problems) == [("value", f"{RULE}.start_backup_window_minutes")]
    assert json.dumps(minutes) in problems[0].message


def test_start_window_of_60_minutes_is_accepted():
    document = policy()
    at(document, RULE)["start_backup_window_minutes"] = "60"
    assert policy_problems(document) == []


def test_less_than_90_days_in_cold_storage():
    document = policy()
    at(document, f"{RULE}.lifecycle")["delete_after_days"] = a("149")  # cold at 60
    problems = policy_problems(document)
    assert codes_paths(problems) == [("value", f"{RULE}.lifecycle.delete_after_days")]
    assert '"149"' in problems[0].message and '"60"' in problems[0].message


def test_less_than_90_days_in_cold_storage_in_a_copy_lifecycle():
    document = policy()
    copy_arn = "arn:aws:backup:eu-west-1:$account:backup-vault:SecondVault"
    at(document, f"{RULE}.copy_actions")[copy_arn]["lifecycle"]["delete_after_days"] = a("100")  # cold at 14
    assert codes_paths(policy_problems(document)) == [
        ("value", f"{RULE}.copy_actions.{copy_arn}.lifecycle.delete_after_days")
    ]


def test_continuous_backup_kept_over_35_days():
    document = policy()
    rule = at(document, RULE)
    rule["enable_continuous_backup"] = a("TRUE")
    rule["lifecycle"] = {"delete_after_days": a("36")}
    problems = policy_problems(document)
    assert codes_paths(problems) == [("value", f"{RULE}.lifecycle.delete_after_days")]
    assert '"36"' in problems[0].message


def test_continuous_backup_with_cold_storage():
    document = policy()
    rule = at(document, RULE)
    rule["enable_continuous_backup"] = True
    rule["lifecycle"] = {"move_to_cold_storage_after_days": a("7"), "delete_after_days": a("30")}
    problems = policy_problems(document)
    # 30 < 7 + 90 as well: the cold-storage minimum and the continuous-backup rule both apply.
    assert codes_paths(problems) == [
        ("value", f"{RULE}.lifecycle.move_to_cold_storage_after_days"),
        ("value", f"{RULE}.lifecycle.delete_after_days"),
    ]
    assert '"7"' in problems[0].message


def test_continuous_backup_within_35_days_is_accepted():
    document = policy()
    rule = at(document, RULE)
    rule["enable_continuous_backup"] = a("true")
    rule["lifecycle"] = {"delete_after_days": a("35")}
    assert policy_problems(document) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("lifecycle.delete_after_days", "ninety"),
        ("lifecycle.move_to_cold_storage_after_days", "7.5"),
        ("complete_backup_window_minutes", True),
        ("start_backup_window_minutes", ["60"]),
    ],
)
def test_number_that_does_not_coerce(key, value):
    document = policy()
    parent, _, leaf = f"{RULE}.{key}".rpartition(".")
    at(document, parent)[leaf] = a(value)
    problems = policy_problems(document)
    assert codes_paths(problems) == [("value", f"{RULE}.{key}")]
    assert json.dumps(value) in problems[0].message


def test_boolean_that_does_not_coerce():
    document = policy()
    at(document, RULE)["enable_continuous_backup"] = a("yes")
    problems = policy_problems(document)
    assert codes_paths(problems) == [("value", f"{RULE}.enable_continuous_backup")]
    assert '"yes"' in problems[0].message


def test_rule_that_is_not_an_object():
    document = policy()
    document["plans"]["Critical_Data"]["rules"]["SixHourly"] = "cron(0 5 ? * * *)"
    assert codes_paths(policy_problems(document)) == [("value", RULE)]


# ---------------------------------------------------------------------------
# air-gapped-arn
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:backup:us-east-1:$account:vault:IsolatedVault",  # resource type is backup-vault
        "arn:aws:backup:region:account:backup-vault:IsolatedVault",  # placeholders without '$'
        "arn:aws:backup:$region:1234:backup-vault:IsolatedVault",  # account is 12 digits
        "IsolatedVault",  # a name, not an ARN
        "arn:aws:backup:$region:$account:backup-vault:",
    ],
)
def test_air_gapped_arn_that_is_not_a_vault_arn(arn):
    document = policy()
    at(document, RULE)["target_logically_air_gapped_backup_vault_arn"] = a(arn)
    problems = policy_problems(document)
    assert codes_paths(problems) == [("air-gapped-arn", f"{RULE}.target_logically_air_gapped_backup_vault_arn")]
    assert json.dumps(arn) in problems[0].message


# ---------------------------------------------------------------------------
# unknown-key
# ---------------------------------------------------------------------------


def test_misspelt_rule_key():
    document = policy()
    rule = at(document, RULE)
    rule["schedule_expresion"] = rule.pop("schedule_expression")
    problems = policy_problems(document)
    assert codes_paths(problems) == [
        ("required-key", f"{RULE}.schedule_expression"),
        ("unknown-key", f"{RULE}.schedule_expresion"),
    ]
    assert '"schedule_expresion"' in problems[1].message
    assert "schedule_expression" in problems[1].message.split("allowed:")[1]


def test_unknown_plan_key():
    document = policy()
    document["plans"]["Critical_Data"]["region"] = a(["eu-west-1"])
    problems = policy_problems(document)
    assert codes_paths(problems) == [("unknown-key", f"{PLAN}.region")]
    assert "regions, rules, selections" in problems[0].message


def test_unknown_lifecycle_key():
    document = policy()
    lifecycle = at(document, f"{RULE}.lifecycle")
    lifecycle["delete_after_day"] = lifecycle.pop("delete_after_days")
    assert codes_paths(policy_problems(document)) == [("unknown-key", f"{RULE}.lifecycle.delete_after_day")]


def test_unknown_key_in_a_copy_action_and_its_lifecycle():
    document = policy()
    copy_arn = "arn:aws:backup:us-east-2:222233334444:backup-vault:OtherAccountVault"
    action = at(document, f"{RULE}.copy_actions")[copy_arn]
    action["destination_vault_arn"] = action.pop("target_backup_vault_arn")
    action["lifecycle"]["cold_after_days"] = a("30")
    assert codes_paths(policy_problems(document)) == [
        ("unknown-key", f"{RULE}.copy_actions.{copy_arn}.lifecycle.cold_after_days"),
        ("unknown-key", f"{RULE}.copy_actions.{copy_arn}.destination_vault_arn"),
    ]


def test_unknown_key_in_a_selection():
    document = policy()
    document["plans"]["Critical_Data"]["selections"]["tags"]["classified"]["tag_values"] = a(["x"])
    assert codes_paths(policy_problems(document)) == [("unknown-key", f"{PLAN}.selections.tags.classified.tag_values")]


def test_schedule_timezone_is_not_in_the_backup_policy_syntax():
    document = policy()
    at(document, RULE)["schedule_expression_timezone"] = a("Europe/Paris")
    assert codes_paths(policy_problems(document)) == [("unknown-key", f"{RULE}.schedule_expression_timezone")]


# ---------------------------------------------------------------------------
# Unknown values (unresolved CloudFormation intrinsics)
# ---------------------------------------------------------------------------


def test_unknown_values_are_never_reported():
    document = policy()
    unknown = Unknown("parameter 'Retention' has no value")
    rule = at(document, RULE)
    rule["start_backup_window_minutes"] = a(unknown)
    rule["enable_continuous_backup"] = unknown
    rule["target_logically_air_gapped_backup_vault_arn"] = a(unknown)
    rule["lifecycle"]["delete_after_days"] = a(unknown)  # cold at 60: the 90-day check needs both
    rule["lifecycle"]["@@operators_allowed_for_child_policies"] = unknown
    rule["target_backup_vault_name"] = unknown  # counts as present
    plan = document["plans"]["Critical_Data"]
    plan["regions"] = {"@@append": unknown}
    plan["selections"]["tags"]["classified"]["tag_value"] = {"@@remove": unknown}
    plan["selections"]["tags"]["classified"]["iam_role_arn"] = unknown
    assert policy_problems(document) == []


@pytest.mark.parametrize("where", ["content", "plans", "plan", "rules", "rule", "lifecycle", "selections"])
def test_unknown_blocks_are_skipped(where):
    unknown = Unknown("Fn::If on an undetermined condition")
    document = policy()
    plan = document["plans"]["Critical_Data"]
    if where == "content":
        document = unknown
    elif where == "plans":
        document["plans"] = unknown
    elif where == "plan":
        document["plans"]["Critical_Data"] = unknown
    elif where == "rules":
        plan["rules"] = unknown
    elif where == "rule":
        plan["rules"]["SixHourly"] = unknown
    elif where == "lifecycle":
        at(document, RULE)["enable_continuous_backup"] = "true"
        at(document, RULE)["lifecycle"] = unknown
    else:
        plan["selections"] = unknown
    assert policy_problems(document) == []


def test_continuous_backup_with_unknown_retention_is_not_reported():
    document = policy()
    rule = at(document, RULE)
    rule["enable_continuous_backup"] = a("true")
    rule["lifecycle"] = {"delete_after_days": Unknown("parameter 'Days' has no value")}
    assert policy_problems(document) == []


# ---------------------------------------------------------------------------
# size, order, paths
# ---------------------------------------------------------------------------


def test_size_over_10000_characters():
    problems = policy_problems(policy(), text_length=10_001)
    assert codes_paths(problems) == [("size", "")]
    assert "10,001" in problems[0].message


@pytest.mark.parametrize("length", [10_000, None])
def test_size_at_the_limit_or_unknown(length):
    assert policy_problems(policy(), text_length=length) == []


def test_problems_come_in_document_order():
    document = policy()
    plan = document["plans"]["Critical_Data"]
    rule = at(document, RULE)
    # Continuous backup is set after the lifecycle it invalidates: reported at the lifecycle's place.
    rule["lifecycle"] = {"delete_after_days": a("60")}
    rule["enable_continuous_backup"] = a("true")
    rule["start_backup_window_minutes"] = a("5")  # earlier in the rule than the lifecycle
    plan["regions"] = {"@@bogus": []}
    plan["selections"]["resources"] = {"all": {"iam_role_arn": a("r"), "resource_types": a(["*"])}}
    document["plans"]["Second"] = {
        "regions": ["eu-west-1"],
        "rules": {},
        "selections": copy.deepcopy(plan["selections"]),
    }
    problems = policy_problems(document, text_length=12_000)
    assert codes_paths(problems) == [
        ("size", ""),
        ("operator", f"{PLAN}.regions.@@bogus"),
        ("value", f"{RULE}.start_backup_window_minutes"),
        ("value", f"{RULE}.lifecycle.delete_after_days"),
        ("tags-and-resources", f"{PLAN}.selections"),
        ("required-key", "plans.Second.rules"),
        ("tags-and-resources", "plans.Second.selections"),
    ]


def test_keys_with_dots_are_quoted_in_paths():
    document = {"plans": {"daily.plan": {"regions": ["eu-west-1"], "rules": {}, "selections": {"tags": {}}}}}
    assert codes_paths(policy_problems(document)) == [
        ("required-key", 'plans["daily.plan"].rules'),
        ("required-key", 'plans["daily.plan"].selections.tags'),
    ]


def test_messages_are_one_line():
    document = policy()
    at(document, RULE)["schedule_expression"] = {"@@append": ["line one\nline two"]}
    at(document, RULE)["lifecycle"]["delete_after_days"] = a("x" * 500)
    problems = policy_problems(document)
    assert len(problems) == 2
    assert all("\n" not in p.message and len(p.message) < 400 for p in problems)
