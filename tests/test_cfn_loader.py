"""Unit tests for the CloudFormation loader (YAML/JSON -> LineDict/LineList with positions)."""

from __future__ import annotations

import time

import pytest

from backupguard.scanner.cloudformation.loader import LineDict, LineList, TemplateError, load_text


def load_error(text: str) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        load_text(text)
    return info.value


def value_of(expression: str):
    """Load ``K: <expression>`` and return K's value."""
    return load_text("K: " + expression + "\n")["K"]


# -- positions ------------------------------------------------------------------


YAML_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: main
      BackupVaultTags:
        - Key: team
          Value: data
        - !Ref Extra
  Plan:
    Type: AWS::Backup::BackupPlan
"""


def test_yaml_top_level_key_positions():
    data = load_text(YAML_TEMPLATE)
    assert isinstance(data, LineDict)
    assert (data.line, data.column) == (1, 1)
    assert data.pos("AWSTemplateFormatVersion") == (1, 1)
    assert data.pos("Resources") == (2, 1)


def test_yaml_resource_positions_are_the_logical_id_keys():
    resources = load_text(YAML_TEMPLATE)["Resources"]
    assert resources.pos("Vault") == (3, 3)
    assert resources.pos("Plan") == (11, 3)
    # the mapping itself starts at its first key
    assert (resources.line, resources.column) == (3, 3)


def test_yaml_nested_key_positions():
    vault = load_text(YAML_TEMPLATE)["Resources"]["Vault"]
    assert vault.pos("Type") == (4, 5)
    assert vault.pos("Properties") == (5, 5)
    assert vault["Properties"].pos("BackupVaultName") == (6, 7)
    assert vault["Properties"].pos("BackupVaultTags") == (7, 7)


def test_yaml_list_item_positions():
    tags = load_text(YAML_TEMPLATE)["Resources"]["Vault"]["Properties"]["BackupVaultTags"]
    assert isinstance(tags, LineList)
    assert (tags.line, tags.column) == (8, 9)
    assert tags.pos(0) == (8, 11)
    assert tags.pos(1) == (10, 11)
    assert tags[0].pos("Value") == (9, 11)
    # an intrinsic is positioned at its tag
    assert (tags[1].line, tags[1].column) == (10, 11)


def test_pos_of_absent_key_or_index_is_the_containers_own_position():
    props = load_text(YAML_TEMPLATE)["Resources"]["Vault"]["Properties"]
    assert props.pos("NoSuchKey") == (props.line, props.column) == (6, 7)
    tags = props["BackupVaultTags"]
    assert tags.pos(7) == (8, 9)
    assert tags.pos(-1) == (8, 9)


def test_like_keeps_positions_but_not_items():
    props = load_text(YAML_TEMPLATE)["Resources"]["Vault"]["Properties"]
    copy = props.like({"BackupVaultName": "other"})
    assert copy == {"BackupVaultName": "other"}
    assert (copy.line, copy.column) == (6, 7)
    assert copy.pos("BackupVaultName") == (6, 7)
    tags = props["BackupVaultTags"]
    copied = tags.like(["x"])
    assert copied == ["x"] and copied.pos(0) == (8, 11)


JSON_TEMPLATE = """\
{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "Vault": {
      "Type": "AWS::Backup::BackupVault",
      "Properties": {"BackupVaultName": "main", "Tags": ["a", "b"]}
    }
  }
}
"""


def test_json_positions():
    data = load_text(JSON_TEMPLATE)
    assert (data.line, data.column) == (1, 1)
    assert data.pos("AWSTemplateFormatVersion") == (2, 3)
    assert data.pos("Resources") == (3, 3)
    assert data["Resources"].pos("Vault") == (4, 5)
    vault = data["Resources"]["Vault"]
    assert vault.pos("Type") == (5, 7)
    assert vault.pos("Properties") == (6, 7)
    props = vault["Properties"]
    assert (props.line, props.column) == (6, 21)
    assert props.pos("BackupVaultName") == (6, 22)
    assert props.pos("Tags") == (6, 49)
    assert props["Tags"].pos(1) == (6, 63)


def test_json_values_keep_json_types():
    data = load_text('{"a": 1, "b": 1.5, "c": true, "d": null, "e": "x\\/y\\u00e9", "f":[]}')
    assert data == {"a": 1, "b": 1.5, "c": True, "d": None, "e": "x/y\u00e9", "f": []}


def test_json_indented_with_tabs_keeps_positions():
    text = '{\n\t"Resources": {\n\t\t"Vault": {\n\t\t\t"Type": "AWS::Backup::BackupVault"\n\t\t}\n\t}\n}\n'
    data = load_text(text)
    assert data == {"Resources": {"Vault": {"Type": "AWS::Backup::BackupVault"}}}
    assert data.pos("Resources") == (2, 2)
    assert data["Resources"].pos("Vault") == (3, 3)
    assert data["Resources"]["Vault"].pos("Type") == (4, 4)


def test_json_with_tabs_and_a_syntax_error_reports_its_line():
    text = '{\n\t"Resources": {\n\t\t"Vault": {"Type": "X"},,\n\t}\n}\n'
    error = load_error(text)
    assert error.line == 3


# -- short-form intrinsics -------------------------------------------------------


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("!Ref Bucket", {"Ref": "Bucket"}),
        ("!Sub 'arn:${AWS::Partition}:s3:::${Name}'", {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Name}"}),
        ("!Sub ['${A}-x', {A: !Ref P}]", {"Fn::Sub": ["${A}-x", {"A": {"Ref": "P"}}]}),
        ("!GetAtt Key.Arn", {"Fn::GetAtt": ["Key", "Arn"]}),
        ("!GetAtt Db.Endpoint.Address", {"Fn::GetAtt": ["Db", "Endpoint.Address"]}),
        ("!GetAtt [Key, Arn]", {"Fn::GetAtt": ["Key", "Arn"]}),
        ("!Join ['-', [a, !Ref P]]", {"Fn::Join": ["-", ["a", {"Ref": "P"}]]}),
        ("!Select [1, !GetAZs '']", {"Fn::Select": [1, {"Fn::GetAZs": ""}]}),
        ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
        ("!FindInMap [Map, !Ref AWS::Region, Ami]", {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Ami"]}),
        ("!If [IsProd, 35, 7]", {"Fn::If": ["IsProd", 35, 7]}),
        ("!Equals [!Ref Env, prod]", {"Fn::Equals": [{"Ref": "Env"}, "prod"]}),
        ("!Not [!Condition IsProd]", {"Fn::Not": [{"Condition": "IsProd"}]}),
        ("!And [!Condition A, !Condition B]", {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
        ("!Or [!Condition A, !Equals [a, b]]", {"Fn::Or": [{"Condition": "A"}, {"Fn::Equals": ["a", "b"]}]}),
        ("!Condition IsProd", {"Condition": "IsProd"}),
        ("!Base64 hello", {"Fn::Base64": "hello"}),
        ("!ImportValue shared-key-arn", {"Fn::ImportValue": "shared-key-arn"}),
        ("!GetAZs eu-west-1", {"Fn::GetAZs": "eu-west-1"}),
        ("!Cidr [10.0.0.0/16, 4, 8]", {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}),
        ("!Transform {Name: Macro, Parameters: {a: 1}}", {"Fn::Transform": {"Name": "Macro", "Parameters": {"a": 1}}}),
    ],
)
def test_short_form_becomes_long_form(short, long):
    value = value_of(short)
    assert isinstance(value, LineDict)
    assert value == long
    (key,) = value
    assert value.pos(key) == (1, 4)  # the tag's position


def test_short_form_sequence_argument_keeps_item_positions():
    value = load_text("K:\n  !Join\n    - '-'\n    - [a, b]\n")["K"]
    args = value["Fn::Join"]
    assert isinstance(args, LineList)
    assert args.pos(0) == (3, 7)
    assert args.pos(1) == (4, 7)
    assert (value.line, value.column) == (2, 3)


def test_json_long_form_is_unchanged():
    data = load_text('{"K": {"Fn::GetAtt": ["Key", "Arn"]}, "R": {"Ref": "AWS::Region"}}')
    assert data == {"K": {"Fn::GetAtt": ["Key", "Arn"]}, "R": {"Ref": "AWS::Region"}}


# -- duplicate keys --------------------------------------------------------------


def test_duplicate_key_reports_both_lines():
    error = load_error("Resources:\n  Vault:\n    Type: A\n  Plan:\n    Type: B\n  Vault:\n    Type: C\n")
    assert error.message == "duplicate key 'Vault' (first defined on line 2)"
    assert (error.line, error.column) == (6, 3)


def test_duplicate_key_in_nested_flow_mapping():
    error = load_error("a:\n  b: {x: 1, y: 2, x: 3}\n")
    assert error.message == "duplicate key 'x' (first defined on line 2)"
    assert (error.line, error.column) == (2, 19)


def test_duplicate_key_in_json():
    error = load_error('{\n  "Resources": {},\n  "Outputs": {},\n  "Resources": {}\n}\n')
    assert error.message == "duplicate key 'Resources' (first defined on line 2)"
    assert error.line == 4


def test_duplicate_key_in_json_indented_with_tabs():
    error = load_error('{\n\t"a": 1,\n\t"a": 2\n}\n')
    assert error.message == "duplicate key 'a' (first defined on line 2)"
    assert error.line == 3


def test_same_key_in_different_mappings_is_not_a_duplicate():
    assert load_text("a: {k: 1}\nb: {k: 2}\n") == {"a": {"k": 1}, "b": {"k": 2}}


def test_keys_equal_only_in_python_are_not_duplicates():
    # CloudFormation keys are text: `1` and `true` are two keys, both strings.
    assert load_text("M:\n  1: a\n  true: b\n")["M"] == {"1": "a", "true": "b"}


# -- scalars ---------------------------------------------------------------------


def test_dates_and_timestamps_stay_strings():
    data = load_text("Version: 2012-10-17\nWhen: 2024-01-02T03:04:05Z\nPolicy: {Version: 2012-10-17}\n")
    assert data == {"Version": "2012-10-17", "When": "2024-01-02T03:04:05Z", "Policy": {"Version": "2012-10-17"}}
    assert type(data["Version"]) is str


def test_empty_text_is_none():
    assert load_text("") is None
    assert load_text("# only a comment\n") is None


# -- aliases, anchors, merge keys ---------------------------------------------------


def test_alias_is_rejected():
    error = load_error("A: &shared [1, 2]\nB: 2\nC: *shared\n")
    assert error.message == "YAML aliases (*name) are not supported by CloudFormation"


def test_alias_error_points_at_the_alias():
    error = load_error("A: &shared [1, 2]\nB: 2\nC: *shared\n")
    assert error.line == 3


def test_recursive_alias_is_rejected():
    error = load_error("A: &loop [1, *loop]\n")
    assert error.message == "YAML aliases (*name) are not supported by CloudFormation"


def test_billion_laughs_is_one_error_and_fast():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [" + ", ".join(["*" + previous] * 9) + "]")
        previous = name
    text = "\n".join(lines) + "\n"
    start = time.perf_counter()
    error = load_error(text)
    assert time.perf_counter() - start < 0.5
    assert error.message == "YAML aliases (*name) are not supported by CloudFormation"


def test_merge_key_is_rejected_at_its_line():
    error = load_error("Base: &base {a: 1}\nX:\n  b: 2\n  <<: *base\n")
    assert error.message.endswith("are not supported by CloudFormation")  # the alias is found first
    assert error.line == 4


def test_merge_key_without_alias_is_rejected():
    error = load_error("X:\n  <<: {a: 1}\n  b: 2\n")
    assert error.message == "YAML merge keys (<<) are not supported by CloudFormation"
    assert (error.line, error.column) == (2, 3)


def test_quoted_double_angle_key_is_an_ordinary_key():
    assert load_text("X:\n  '<<': 1\n") == {"X": {"<<": 1}}


# -- malformed input -----------------------------------------------------------------


def test_malformed_yaml_reports_line_and_column():
    error = load_error("Resources:\n  Vault:\n    Type: A\n   Properties: {}\n")
    assert error.message == "did not find expected key"
    assert (error.line, error.column) == (4, 4)


def test_unclosed_flow_sequence_reports_line():
    error = load_error("a: [1, 2\nb: 3\n")
    assert error.message == "did not find expected ',' or ']'"
    assert (error.line, error.column) == (2, 2)


def test_tab_indentation_is_a_template_error():
    error = load_error("Resources:\n\tVault: {}\n")
    assert error.line == 2


def test_multiple_documents_are_an_error():
    error = load_error("a: 1\n---\nb: 2\n")
    assert error.line == 2


def test_non_scalar_key_is_rejected():
    error = load_error("? [a, b]\n: 1\n")
    assert error.message == "mapping keys must be plain scalars"
    assert error.line == 1


def test_control_character_is_a_template_error():
    error = load_error("a: 1\nb: 2\nc: 'x\x01'\n")
    assert error.message == "character '\\x01' is not allowed in YAML or JSON"


def test_control_character_error_has_its_line():
    error = load_error("a: 1\nb: 2\nc: 'x\x01'\n")
    assert error.line == 3


def test_deeply_nested_lists_are_a_template_error_not_recursion_error():
    start = time.perf_counter()
    error = load_error("[" * 5000 + "]" * 5000)
    assert time.perf_counter() - start < 0.5
    assert isinstance(error, TemplateError)


def test_nesting_just_below_libyaml_limit_is_a_template_error():
    # libyaml accepts 900 levels; constructing them in Python exceeds the recursion limit
    error = load_error("[" * 900 + "]" * 900)
    assert error.message == "nesting is too deep to be a CloudFormation template"


def test_deeply_nested_json_with_a_tab_is_a_template_error():
    text = '{"a":\t' + "[" * 5000 + "]" * 5000 + "}"
    with pytest.raises(TemplateError):
        load_text(text)


def test_template_error_defaults_to_line_one():
    error = TemplateError("boom")
    assert (error.message, error.line, error.column, str(error)) == ("boom", 1, 1, "boom")
