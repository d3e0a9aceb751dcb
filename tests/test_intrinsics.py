"""Unit tests for intrinsic evaluation (TemplateContext), template parsing and the file scanner."""

from __future__ import annotations

from pathlib import Path

import pytest

import backupguard.scanner as scanner
from backupguard.estate import Reference, Unknown
from backupguard.scanner import ScanOptions, discover, scan, scan_file
from backupguard.scanner.cloudformation import CfnOptions, parse_template
from backupguard.scanner.cloudformation.intrinsics import NO_VALUE, TemplateContext, is_symbolic
from backupguard.scanner.cloudformation.loader import TemplateError, load_text

# -- helpers ------------------------------------------------------------------------

TEMPLATE = """\
Parameters:
  Env: {Type: String, Default: dev}
  Owner: {Type: String}
  Days: {Type: Number, Default: "35"}
  Ratio: {Type: Number, Default: 2.5}
  Subnets: {Type: CommaDelimitedList, Default: "a, b ,c"}
  Ports: {Type: "List<Number>", Default: "80, 443"}
  AmiId: {Type: "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", Default: /aws/ami}
  Count: {Type: String, Default: 5}
Mappings:
  Regions:
    eu-west-1: {Vault: eu-vault}
    us-east-1: {Vault: us-vault}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Equals [!Ref Env, dev]
  OwnerIsBob: !Equals [!Ref Owner, bob]
  InEurope: !Equals [!Ref AWS::Region, eu-west-1]
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Key: {Type: AWS::KMS::Key}
"""


def context(text: str = TEMPLATE, parameters=None, region=None, account_id=None) -> TemplateContext:
    return TemplateContext(load_text(text), parameters, region, account_id)


def evaluate(ctx: TemplateContext, expression: str):
    """Resolve one YAML expression (short or long form) in ``ctx``."""
    return ctx.resolve(load_text("V: " + expression + "\n")["V"])


def parse(text: str, **options):
    return parse_template("t.yaml", text, CfnOptions(**options))


# -- parameters -----------------------------------------------------------------------


def test_default_is_used_without_a_given_value():
    assert evaluate(context(), "!Ref Env") == "dev"


def test_given_value_beats_default():
    assert evaluate(context(parameters={"Env": "prod"}), "!Ref Env") == "prod"


def test_parameter_without_default_or_value_is_unknown_naming_it():
    assert evaluate(context(), "!Ref Owner") == Unknown("parameter 'Owner' has no default and no value was given")


def test_given_value_for_parameter_without_default():
    assert evaluate(context(parameters={"Owner": "bob"}), "!Ref Owner") == "bob"


def test_value_for_undeclared_parameter_is_ignored():
    ctx = context(parameters={"Stray": "x"})
    assert evaluate(ctx, "!Ref Stray") == Unknown("Ref to 'Stray', which is not a parameter or resource of this template")


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, 35), ("7", 7), (" 12 ", 12), ("3.5", 3.5), ("-4", -4)],
)
def test_number_parameter_is_coerced(given, expected):
    ctx = context(parameters=None if given is None else {"Days": given})
    value = evaluate(ctx, "!Ref Days")
    assert value == expected and type(value) is type(expected)


def test_number_default_given_as_yaml_float():
    assert evaluate(context(), "!Ref Ratio") == 2.5


def test_number_parameter_that_is_not_a_number_is_unknown():
    value = evaluate(context(parameters={"Days": "thirty"}), "!Ref Days")
    assert value == Unknown("parameter 'Days' value 'thirty' is not a number")


def test_comma_delimited_list_is_split_and_trimmed():
    assert evaluate(context(), "!Ref Subnets") == ["a", "b", "c"]
    assert evaluate(context(parameters={"Subnets": "x,y"}), "!Ref Subnets") == ["x", "y"]


def test_list_of_numbers_is_coerced():
    assert evaluate(context(), "!Ref Ports") == [80, 443]


def test_ssm_parameter_is_unknown_even_with_a_value():
    expected = Unknown("parameter 'AmiId' is read from SSM at deploy time")
    assert evaluate(context(), "!Ref AmiId") == expected
    assert evaluate(context(parameters={"AmiId": "/other"}), "!Ref AmiId") == expected


def test_numeric_default_of_string_parameter_becomes_text():
    assert evaluate(context(), "!Ref Count") == "5"


# -- pseudo-parameters -------------------------------------------------------------


def test_pseudo_parameters_with_region_and_account():
    ctx = context(region="eu-west-1", account_id="123456789012")
    assert evaluate(ctx, "!Ref AWS::Region") == "eu-west-1"
    assert evaluate(ctx, "!Ref AWS::AccountId") == "123456789012"
    assert evaluate(ctx, "!Ref AWS::Partition") == "aws"
    assert evaluate(ctx, "!Ref AWS::URLSuffix") == "amazonaws.com"


def test_pseudo_parameters_without_region_and_account_stay_symbolic():
    ctx = context()
    assert evaluate(ctx, "!Ref AWS::Region") == "${AWS::Region}"
    assert evaluate(ctx, "!Ref AWS::AccountId") == "${AWS::AccountId}"
    assert evaluate(ctx, "!Ref AWS::StackName") == "${AWS::StackName}"
    assert evaluate(ctx, "!Ref AWS::StackId") == "${AWS::StackId}"
    assert is_symbolic(evaluate(ctx, "!Ref AWS::Region"))


def test_notification_arns_are_unknown():
    value = evaluate(context(region="eu-west-1"), "!Ref AWS::NotificationARNs")
    assert value == Unknown("pseudo parameter AWS::NotificationARNs is known only at deploy time")


@pytest.mark.parametrize(
    ("region", "partition", "suffix"),
    [
        ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
        ("cn-northwest-1", "aws-cn", "amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
        ("us-gov-east-1", "aws-us-gov", "amazonaws.com"),
        ("us-east-1", "aws", "amazonaws.com"),
    ],
)
def test_partition_and_url_suffix_follow_region(region, partition, suffix):
    ctx = context(region=region)
    assert evaluate(ctx, "!Ref AWS::Partition") == partition
    assert evaluate(ctx, "!Ref AWS::URLSuffix") == suffix


def test_partition_of_iso_region():
    assert evaluate(context(region="us-iso-east-1"), "!Ref AWS::Partition") == "aws-iso"


def test_is_symbolic():
    assert is_symbolic("arn:aws:kms:${AWS::Region}:1:key/x")
    assert not is_symbolic("arn:aws:kms:eu-west-1:1:key/x")
    assert not is_symbolic(Unknown("x"))


def test_no_value_removes_a_property():
    assert evaluate(context(), "{A: !Ref AWS::NoValue, B: 1}") == {"B": 1}


def test_no_value_removes_a_list_item():
    assert evaluate(context(), "[a, !Ref AWS::NoValue, b]") == ["a", "b"]


def test_no_value_through_if_removes_a_property_and_an_item():
    ctx = context()
    assert evaluate(ctx, "{A: !If [IsProd, 1, !Ref AWS::NoValue], B: 2}") == {"B": 2}
    assert evaluate(ctx, "[!If [IsDev, !Ref AWS::NoValue, x], y]") == ["y"]
    assert evaluate(ctx, "!Ref AWS::NoValue") is NO_VALUE


def test_resolve_keeps_positions():
    ctx = context()
    value = load_text("V:\n  A: !Ref Env\n  B: [x, !Ref AWS::NoValue]\n")["V"]
    resolved = ctx.resolve(value)
    assert resolved == {"A": "dev", "B": ["x"]}
    assert resolved.pos("A") == (2, 3)
    assert resolved["B"].pos(0) == (3, 7)


# -- Ref / GetAtt of resources ---------------------------------------------------------


def test_ref_of_resource_is_reference_with_type():
    assert evaluate(context(), "!Ref Bucket") == Reference("Bucket", None, "AWS::S3::Bucket")


@pytest.mark.parametrize("expression", ["!GetAtt Key.Arn", "!GetAtt [Key, Arn]", "{Fn::GetAtt: Key.Arn}"])
def test_getatt_of_resource_is_reference_with_type(expression):
    assert evaluate(context(), expression) == Reference("Key", "Arn", "AWS::KMS::Key")


def test_getatt_attribute_may_contain_dots():
    text = TEMPLATE + "  Db: {Type: AWS::RDS::DBInstance}\n"
    assert evaluate(context(text), "!GetAtt Db.Endpoint.Address") == Reference("Db", "Endpoint.Address", "AWS::RDS::DBInstance")


def test_ref_and_getatt_of_unknown_names():
    ctx = context()
    assert evaluate(ctx, "!Ref Nope") == Unknown("Ref to 'Nope', which is not a parameter or resource of this template")
    assert evaluate(ctx, "!GetAtt Nope.Arn") == Unknown("Fn::GetAtt of 'Nope', which is not a resource of this template")


# -- Fn::Sub --------------------------------------------------------------------------------


def test_sub_with_known_values():
    ctx = context(parameters={"Env": "prod"}, region="eu-west-1", account_id="123456789012")
    value = evaluate(ctx, "!Sub 'arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:backup-vault:${Env}-${Days}'")
    assert value == "arn:aws:backup:eu-west-1:123456789012:backup-vault:prod-35"


def test_sub_keeps_symbolic_pseudo_parameters():
    value = evaluate(context(), "!Sub 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/k'")
    assert value == "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/k"


def test_sub_literal_escape():
    assert evaluate(context(), "!Sub '${!Literal}-${Env}'") == "${Literal}-dev"


def test_sub_list_form_variables_beat_parameters():
    value = evaluate(context(), "!Sub ['${Env}/${Name}/${Days}', {Env: mine, Name: !Ref Env}]")
    assert value == "mine/dev/35"


def test_sub_long_form():
    assert evaluate(context(), "{Fn::Sub: ['x-${A}', {A: 1}]}") == "x-1"


def test_sub_of_resource_attributes_is_unknown_with_refs():
    value = evaluate(context(), "!Sub '${Bucket.Arn}/*:${Key}'")
    assert value == Unknown(
        "Fn::Sub '${Bucket.Arn}/*:${Key}': 'Bucket.Arn' is known only after deployment; "
        "'Key' is known only after deployment",
        ("Bucket", "Key"),
        text="${Bucket.Arn}/*:${Key}",
    )


def test_sub_variable_holding_a_reference_is_unknown_with_refs():
    value = evaluate(context(), "!Sub ['${K}', {K: !GetAtt Key.Arn}]")
    assert isinstance(value, Unknown)
    assert value.refs == ("Key",)


def test_sub_of_parameter_without_value_is_unknown():
    value = evaluate(context(), "!Sub 'owner-${Owner}'")
    assert value == Unknown("Fn::Sub 'owner-${Owner}': parameter 'Owner' has no default and no value was given")


def test_sub_of_undefined_name_and_list_are_unknown():
    ctx = context()
    assert evaluate(ctx, "!Sub '${Nothing}'") == Unknown("Fn::Sub '${Nothing}': 'Nothing' is not defined in this template")
    assert evaluate(ctx, "!Sub '${Subnets}'") == Unknown("Fn::Sub '${Subnets}': 'Subnets' is a list")


def test_sub_with_malformed_list_form_is_error():
    with pytest.raises(TemplateError) as info:
        evaluate(context(), "!Sub [a, b, c]")
    assert (info.value.line, info.value.column) == (1, 4)


# -- Join / Select / Split / FindInMap ---------------------------------------------------


def test_join():
    ctx = context()
    assert evaluate(ctx, "!Join ['-', [a, !Ref Env, 7, true]]") == "a-dev-7-true"
    assert evaluate(ctx, "!Join ['', !Ref Subnets]") == "abc"
    assert evaluate(ctx, "!Join [',', [a, !Ref AWS::NoValue, b]]") == "a,b"


def test_join_with_reference_is_unknown_with_refs():
    value = evaluate(context(), "!Join [':', [arn, !Ref Bucket]]")
    assert value == Unknown("Fn::Join: 'Bucket' is known only after deployment", ("Bucket",))


def test_join_wrong_shape_is_error():
    with pytest.raises(TemplateError):
        evaluate(context(), "!Join [a, b, c]")


def test_select():
    ctx = context()
    assert evaluate(ctx, "!Select [1, [a, b, c]]") == "b"
    assert evaluate(ctx, "!Select ['2', !Ref Subnets]") == "c"
    assert evaluate(ctx, "!Select [0, !GetAZs '']") == Unknown("Fn::GetAZs is evaluated only at deploy time")


def test_select_out_of_range_is_error_at_the_function():
    with pytest.raises(TemplateError) as info:
        evaluate(context(), "!Select [3, [a, b, c]]")
    assert info.value.message == "Fn::Select index 3 is out of range (0-2)"
    assert (info.value.line, info.value.column) == (1, 4)


def test_select_negative_index_is_error():
    with pytest.raises(TemplateError):
        evaluate(context(), "!Select [-1, [a, b]]")


def test_select_from_a_string_is_not_a_character():
    with pytest.raises(TemplateError, match="takes a list"):
        evaluate(context(), "!Select [0, abc]")


def test_split():
    ctx = context()
    assert evaluate(ctx, "!Split [',', 'a,b,,c']") == ["a", "b", "", "c"]
    assert evaluate(ctx, "!Select [1, !Split ['/', 'x/y/z']]") == "y"
    assert evaluate(ctx, "!Split [',', !Ref Owner]") == Unknown("parameter 'Owner' has no default and no value was given")


def test_find_in_map():
    ctx = context(region="us-east-1")
    assert evaluate(ctx, "!FindInMap [Regions, eu-west-1, Vault]") == "eu-vault"
    assert evaluate(ctx, "!FindInMap [Regions, !Ref AWS::Region, Vault]") == "us-vault"


def test_find_in_map_missing_key():
    value = evaluate(context(), "!FindInMap [Regions, ap-south-1, Vault]")
    assert value == Unknown("Fn::FindInMap: ['Regions', 'ap-south-1', 'Vault'] is not in the Mappings section")


def test_find_in_map_default_value():
    ctx = context()
    assert evaluate(ctx, "!FindInMap [Regions, ap-south-1, Vault, {DefaultValue: !Ref Env}]") == "dev"
    assert evaluate(ctx, "!FindInMap [Regions, eu-west-1, Vault, {DefaultValue: other}]") == "eu-vault"


def test_find_in_map_with_symbolic_key_is_one_of_the_entries_or_the_default():
    value = evaluate(context(), "!FindInMap [Regions, !Ref AWS::Region, Vault, {DefaultValue: d}]")
    assert isinstance(value, Unknown) and value.candidates == ("eu-vault", "us-vault", "d")  # issue 10 item 2


def test_find_in_map_with_numeric_key_matches_string():
    text = "Mappings:\n  Accounts:\n    123456789012: {Env: prod}\nResources: {}\n"
    ctx = context(text, account_id="123456789012")
    assert evaluate(ctx, "!FindInMap [Accounts, !Ref AWS::AccountId, Env]") == "prod"


# -- conditions ----------------------------------------------------------------------------


def test_if_with_true_false_and_unknown_conditions():
    ctx = context(parameters={"Env": "prod"})
    assert evaluate(ctx, "!If [IsProd, 35, 7]") == 35
    assert evaluate(ctx, "!If [IsDev, 35, 7]") == 7
    assert evaluate(ctx, "!If [OwnerIsBob, 35, 7]") == Unknown(
        "condition 'OwnerIsBob' is undetermined (parameter 'Owner' has no default and no value was given)",
        candidates=(35, 7),
    )
    maybe_absent = evaluate(ctx, "!If [OwnerIsBob, 35, !Ref AWS::NoValue]")
    assert maybe_absent.may_be_absent and maybe_absent.candidates == (35, None)  # None: not set


def test_if_with_unknown_condition_but_equal_branches():
    ctx = context()
    assert evaluate(ctx, "!If [OwnerIsBob, same, same]") == "same"
    assert evaluate(ctx, "!If [OwnerIsBob, {a: !Ref Env}, {a: dev}]") == {"a": "dev"}


def test_if_with_undefined_condition_is_unknown():
    value = evaluate(context(), "!If [Missing, a, b]")
    assert value == Unknown(
        "condition 'Missing' is undetermined (condition 'Missing' is not defined in the Conditions section)",
        candidates=("a", "b"),
    )


def test_equals_against_symbolic_region_is_unknown_and_known_with_region():
    assert context().condition("InEurope") == Unknown("Fn::Equals compares '${AWS::Region}', known only at deploy time")
    assert context(region="eu-west-1").condition("InEurope") is True
    assert context(region="us-east-1").condition("InEurope") is False


def test_equals_compares_as_text():
    text = "Parameters:\n  D: {Type: Number, Default: 35}\nConditions:\n  C: !Equals [!Ref D, '35']\nResources: {}\n"
    assert context(text).condition("C") is True


KLEENE = """\
Parameters:
  Owner: {Type: String}
Conditions:
  T: !Equals [a, a]
  F: !Equals [a, b]
  U: !Equals [!Ref Owner, x]
  FalseAndUnknown: !And [!Condition F, !Condition U]
  UnknownAndFalse: !And [!Condition U, !Condition F]
  TrueAndUnknown: !And [!Condition T, !Condition U]
  TrueAndTrue: !And [!Condition T, !Condition T]
  TrueOrUnknown: !Or [!Condition U, !Condition T]
  FalseOrUnknown: !Or [!Condition F, !Condition U]
  FalseOrFalse: !Or [!Condition F, !Condition F]
  NotTrue: !Not [!Condition T]
  NotUnknown: !Not [!Condition U]
  Nested: !Or [!And [!Condition F, !Condition U], !Not [!Condition F]]
Resources: {}
"""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("FalseAndUnknown", False),
        ("UnknownAndFalse", False),
        ("TrueAndUnknown", None),
        ("TrueAndTrue", True),
        ("TrueOrUnknown", True),
        ("FalseOrUnknown", None),
        ("FalseOrFalse", False),
        ("NotTrue", False),
        ("NotUnknown", None),
        ("Nested", True),
    ],
)
def test_condition_functions_use_three_valued_logic(name, expected):
    value = context(KLEENE).condition(name)
    if expected is None:
        assert value == Unknown("parameter 'Owner' has no default and no value was given")
    else:
        assert value is expected


def test_circular_conditions_name_the_cycle_and_line():
    text = """\
Conditions:
  A: !Condition B
  B: !Or [!Condition C, !Equals [a, b]]
  C: !Not [!Condition A]
Resources: {}
"""
    with pytest.raises(TemplateError) as info:
        context(text).condition("A")
    assert info.value.message == "circular condition: A -> B -> C -> A"
    assert (info.value.line, info.value.column) == (2, 3)


def test_self_referencing_condition():
    text = "Resources: {}\nConditions:\n  Loop: !And [!Condition Loop, !Equals [a, a]]\n"
    with pytest.raises(TemplateError) as info:
        context(text).condition("Loop")
    assert info.value.message == "circular condition: Loop -> Loop"
    assert info.value.line == 3


def test_condition_must_be_a_condition_function():
    text = "Conditions:\n  Bad: !Ref Env\nResources: {}\n"
    with pytest.raises(TemplateError) as info:
        context(text).condition("Bad")
    assert info.value.message == "Ref cannot be used in a condition"
    assert info.value.line == 2


# -- other functions ---------------------------------------------------------------------


def test_import_value_cidr_and_getazs_are_unknown():
    ctx = context()
    assert evaluate(ctx, "!ImportValue shared-key") == Unknown("value imported from another stack (Fn::ImportValue shared-key)")
    assert evaluate(ctx, "!Cidr [10.0.0.0/16, 4, 8]") == Unknown("Fn::Cidr is evaluated only at deploy time")
    assert evaluate(ctx, "!GetAZs ''") == Unknown("Fn::GetAZs is evaluated only at deploy time")


def test_base64_is_encoded_or_unknown():
    value = evaluate(context(), "!Base64 abc")
    assert value == "YWJj" or isinstance(value, Unknown)


def test_value_nested_too_deeply_is_error():
    with pytest.raises(TemplateError) as info:
        evaluate(context(), "{a: " * 250 + "x" + "}" * 250)
    assert info.value.message == "value nested too deeply"


# -- parse_template: the Estate ---------------------------------------------------------------


CONDITIONAL = """\
Parameters:
  Env: {Type: String, Default: dev}
  Owner: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  OwnerKnown: !Not [!Equals [!Ref Owner, '']]
Resources:
  ProdVault:
    Type: AWS::Backup::BackupVault
    Condition: IsProd
    Properties: {BackupVaultName: prod}
  MaybeVault:
    Type: AWS::Backup::BackupVault
    Condition: OwnerKnown
    Properties: {BackupVaultName: maybe}
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: !If [IsProd, prod-main, dev-main]
      EncryptionKeyArn: !If [IsProd, !GetAtt Key.Arn, !Ref AWS::NoValue]
  Key: {Type: AWS::KMS::Key}
"""


def test_resource_with_false_condition_is_omitted():
    estate = parse(CONDITIONAL)
    assert [v.resource_id for v in estate.vaults] == ["MaybeVault", "Vault"]
    vault = estate.vaults[1]
    assert vault.name == "dev-main"
    assert vault.encryption_key_arn is None  # AWS::NoValue removed the property
    assert estate.errors == []


def test_resource_with_true_condition_is_kept():
    estate = parse(CONDITIONAL, parameters={"Env": "prod"})
    assert [v.resource_id for v in estate.vaults] == ["ProdVault", "MaybeVault", "Vault"]
    assert estate.vaults[2].name == "prod-main"
    assert estate.vaults[2].encryption_key_arn == Reference("Key", "Arn", "AWS::KMS::Key")


def test_entity_origin_is_the_logical_id_line():
    estate = parse(CONDITIONAL)
    origin = estate.vaults[1].origin
    assert (origin.file, origin.line, origin.column) == ("t.yaml", 16, 3)
    assert estate.files == ["t.yaml"]


def test_circular_condition_fails_the_template_even_if_unused():
    text = "Conditions:\n  A: !Condition B\n  B: !Condition A\nResources:\n  V: {Type: AWS::S3::Bucket}\n"
    with pytest.raises(TemplateError) as info:
        parse(text)
    assert info.value.message == "circular condition: A -> B -> A"
    assert info.value.line == 2


def test_resource_without_type_is_an_error_and_others_are_kept():
    text = "Resources:\n  V: {Type: AWS::Backup::BackupVault}\n  W: {Properties: {}}\n"
    estate = parse(text)
    assert [v.resource_id for v in estate.vaults] == ["V"]
    assert [(e.message, e.origin.line, e.origin.column) for e in estate.errors] == [("resource 'W' has no Type", 3, 3)]


def test_format_version_only_template_is_empty_estate():
    estate = parse("AWSTemplateFormatVersion: '2010-09-09'\nDescription: nothing yet\n")
    assert estate.files == ["t.yaml"] and estate.errors == [] and estate.vaults == []


def test_not_a_template_strict_and_lenient():
    with pytest.raises(TemplateError) as info:
        parse("services: {web: {image: x}}\n")
    assert info.value.message == "not a CloudFormation template (no Resources section of typed resources)"
    assert parse_template("t.yaml", "services: {}\n", CfnOptions(), strict=False) is None


def test_resources_not_a_mapping_is_error_with_line():
    with pytest.raises(TemplateError) as info:
        parse("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  - a\n")
    assert info.value.message == "the Resources section must be a mapping"
    assert info.value.line == 2


def test_properties_removed_by_no_value():
    text = """\
Conditions:
  IsOff: !Equals [a, b]
Resources:
  V:
    Type: AWS::Backup::BackupVault
    Properties: !If [IsOff, {BackupVaultName: v}, !Ref AWS::NoValue]
"""
    estate = parse(text)
    assert estate.errors == []
    assert [v.resource_id for v in estate.vaults] == ["V"]


# -- scanner: discover / scan / scan_file ----------------------------------------------------

VAULT = "Resources:\n  {name}:\n    Type: AWS::Backup::BackupVault\n    Properties: {{BackupVaultName: {name}}}\n"
JSON_VAULT = '{{"Resources": {{"{name}": {{"Type": "AWS::Backup::BackupVault"}}}}}}'


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A project folder; the working directory is the folder, so shown paths are relative."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(VAULT.format(name="A"))
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "b.json").write_text(JSON_VAULT.format(name="B"))
    (tmp_path / "stacks" / "c.template").write_text(VAULT.format(name="C"))
    (tmp_path / "docker-compose.yml").write_text(
        "x-common: &common\n  restart: always\nservices:\n  web:\n    <<: *common\n    image: nginx\n"
        "    deploy: {resources: {limits: {cpus: '0.5'}}}\n"
    )
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0", "dependencies": {}}')
    (tmp_path / "k8s.yaml").write_text("Resources:\n  limits: {cpu: 1}\n")  # mentions Resources, not CFN
    (tmp_path / "notes.txt").write_text(VAULT.format(name="Txt"))
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.yaml").write_text(VAULT.format(name="Dep"))
    return tmp_path


def test_discover_filters_by_suffix_skips_vendor_dirs_and_sorts(tree):
    (tree / "UPPER.YAML").write_text("x: 1\n")
    (tree / "z.cfn").write_text("x: 1\n")
    (tree / ".git").mkdir()
    (tree / ".git" / "x.yaml").write_text("x: 1\n")
    found = [p.relative_to(tree).as_posix() for p in discover(tree)]
    assert found == [
        "UPPER.YAML", "a.yaml", "docker-compose.yml", "k8s.yaml", "package.json", "z.cfn",
        "stacks/b.json", "stacks/c.template",
    ]


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (("*.json",), ["a.yaml", "docker-compose.yml", "k8s.yaml", "stacks/c.template"]),
        (("stacks",), ["a.yaml", "docker-compose.yml", "k8s.yaml", "package.json"]),
        (("stacks/*",), ["a.yaml", "docker-compose.yml", "k8s.yaml", "package.json"]),
        (("docker-*", "k8s.yaml"), ["a.yaml", "package.json", "stacks/b.json", "stacks/c.template"]),
        (("stacks/c.*",), ["a.yaml", "docker-compose.yml", "k8s.yaml", "package.json", "stacks/b.json"]),
    ],
)
def test_discover_exclude_globs(tree, patterns, expected):
    assert [p.relative_to(tree).as_posix() for p in discover(tree, patterns)] == expected


def test_folder_scan_finds_templates_by_content_and_skips_other_files_quietly(tree):
    estate = scan([Path(".")])
    assert estate.errors == []
    assert estate.files == ["a.yaml", "stacks/b.json", "stacks/c.template"]
    assert [v.resource_id for v in estate.vaults] == ["A", "B", "C"]
    assert estate.vaults[1].origin.file == "stacks/b.json"
    assert (estate.vaults[1].origin.line, estate.vaults[1].origin.column) == (1, 16)


def test_folder_scan_with_exclude(tree):
    estate = scan([Path(".")], ScanOptions(exclude=("stacks/*.json",)))
    assert estate.files == ["a.yaml", "stacks/c.template"]
    assert [v.resource_id for v in estate.vaults] == ["A", "C"]


def test_broken_template_in_folder_is_one_error_and_others_are_scanned(tree):
    (tree / "stacks" / "broken.yaml").write_text("Resources:\n  X:\n    Type: A\n  X:\n    Type: B\n")
    estate = scan([Path(".")])
    assert [(e.message, e.origin.file, e.origin.line, e.origin.column) for e in estate.errors] == [
        ("duplicate key 'X' (first defined on line 2)", "stacks/broken.yaml", 4, 3)
    ]
    assert [v.resource_id for v in estate.vaults] == ["A", "B", "C"]
    assert "stacks/broken.yaml" in estate.files


def test_circular_condition_in_folder_is_one_located_error(tree):
    (tree / "loop.yaml").write_text("Resources:\n  B: {Type: AWS::S3::Bucket}\nConditions:\n  A: !Condition A\n")
    estate = scan([Path(".")])
    assert [(e.message, e.origin.file, e.origin.line) for e in estate.errors] == [
        ("circular condition: A -> A", "loop.yaml", 4)
    ]
    assert [v.resource_id for v in estate.vaults] == ["A", "B", "C"]


def test_explicit_non_template_is_skipped_with_a_note(tree):
    # pre-commit names every staged file: one that is not IaC is no error (tests/test_adoption_cli.py has more).
    estate = scan([Path("package.json"), Path("k8s.yaml"), Path("docker-compose.yml")])
    assert estate.errors == [] and estate.files == []
    assert estate.notes == [f"{name}: {scanner.NOT_IAC}" for name in ("package.json", "k8s.yaml", "docker-compose.yml")]


def test_explicit_broken_template_is_an_error(tree):
    (tree / "broken.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  - a\n")
    (tree / "untyped.yaml").write_text("Resources:\n  W: {Properties: {}}\n")
    estate = scan([Path("broken.yaml"), Path("untyped.yaml")])
    assert [(e.message, e.origin.file, e.origin.line) for e in estate.errors] == [
        ("the Resources section must be a mapping", "broken.yaml", 2),
        ("not a CloudFormation template (no Resources section of typed resources)", "untyped.yaml", 1),
    ]


def test_explicit_file_with_any_suffix_is_scanned(tree):
    estate = scan([Path("notes.txt")])
    assert estate.errors == [] and [v.resource_id for v in estate.vaults] == ["Txt"]


def test_missing_path_is_an_error(tree):
    estate = scan([Path("nope/missing.yaml"), Path("a.yaml")])
    assert [(e.message, e.origin.file, e.origin.line) for e in estate.errors] == [
        ("no such file or directory", "nope/missing.yaml", 1)
    ]
    assert [v.resource_id for v in estate.vaults] == ["A"]


def test_explicit_non_utf8_file_is_an_error(tree):
    (tree / "latin1.yaml").write_bytes("Description: caf\xe9\n".encode("latin-1") + VAULT.format(name="L").encode())
    estate = scan([Path("latin1.yaml")])
    assert [(e.message, e.origin.file) for e in estate.errors] == [("file is not UTF-8 text", "latin1.yaml")]
    assert estate.vaults == []


def test_walked_non_utf8_non_template_is_skipped_quietly(tree):
    (tree / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    estate = scan([Path(".")])
    assert estate.errors == []


def test_walked_utf16_template_with_bom_is_scanned(tree):
    (tree / "win.yaml").write_text(VAULT.format(name="W"), encoding="utf-16")  # Python writes the BOM
    estate = scan([Path(".")])
    assert estate.errors == [] and "W" in [v.resource_id for v in estate.vaults]


def test_walked_template_in_another_encoding_is_reported_with_its_line(tree):
    (tree / "latin.yaml").write_bytes(VAULT.format(name="L").encode() + b"# caf\xe9\n")
    estate = scan([Path(".")])
    assert [(e.message, e.origin.file) for e in estate.errors] == [("file is not UTF-8 text", "latin.yaml")]
    assert estate.errors[0].origin.line == VAULT.count("\n") + 1


def test_utf8_bom_is_accepted(tree):
    (tree / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + VAULT.format(name="Bom").encode())
    estate = scan([Path("bom.yaml")])
    assert estate.errors == [] and [v.resource_id for v in estate.vaults] == ["Bom"]


def test_empty_file_explicit_is_skipped_with_a_note_and_walked_is_skipped(tree):
    (tree / "empty.yaml").write_text("")
    estate = scan([Path("empty.yaml")])
    assert estate.errors == [] and estate.notes == [f"empty.yaml: {scanner.NOT_IAC}"]
    walked = scan([Path(".")])
    assert walked.errors == [] and "empty.yaml" not in walked.files


def test_oversized_file_is_an_error_when_it_is_a_template_or_named(tree, monkeypatch):
    monkeypatch.setattr(scanner, "MAX_FILE_BYTES", 10)
    (tree / "big.yaml").write_text(VAULT.format(name="Big"))
    walked_template = scan_file(Path("big.yaml"), ScanOptions(), explicit=False)
    assert [e.origin.file for e in walked_template.errors] == ["big.yaml"]
    assert "larger than" in walked_template.errors[0].message
    assert scan_file(Path("package.json"), ScanOptions(), explicit=False).errors == []  # not ours: quiet
    named = scan_file(Path("package.json"), ScanOptions(), explicit=True)  # not IaC either: a note
    assert named.errors == [] and named.notes == [f"package.json: {scanner.NOT_IAC}"]
    assert len(scan_file(Path("big.yaml"), ScanOptions(), explicit=True).errors) == 1


def test_scan_file_walked_non_template_returns_empty_estate(tree):
    estate = scan_file(Path("k8s.yaml"), ScanOptions(), explicit=False)
    assert estate.files == [] and estate.errors == []


def test_deeply_nested_template_in_folder_is_an_error(tree):
    (tree / "deep.yaml").write_text("Resources: " + "[" * 5000 + "]" * 5000 + "\n")
    estate = scan([Path(".")])
    assert [e.origin.file for e in estate.errors] == ["deep.yaml"]
    assert [v.resource_id for v in estate.vaults] == ["A", "B", "C"]


def test_scan_passes_parameters_and_region(tree):
    (tree / "p.yaml").write_text(
        "Parameters:\n  Name: {Type: String}\nResources:\n  P:\n    Type: AWS::Backup::BackupVault\n"
        "    Properties: {BackupVaultName: !Sub '${Name}-${AWS::Region}'}\n"
    )
    options = ScanOptions(cfn=CfnOptions(parameters={"Name": "x"}, region="eu-west-1"))
    estate = scan([Path("p.yaml")], options)
    assert [v.name for v in estate.vaults] == ["x-eu-west-1"]


def test_overlapping_paths_scan_a_file_once(tree):
    estate = scan([Path("."), Path("a.yaml")])
    assert [v.resource_id for v in estate.vaults] == ["A", "B", "C"]


def test_malformed_conditions_section_does_not_abort_the_scan(tree):
    (tree / "odd.yaml").write_text("Conditions:\n  - A: !Equals [a, a]\nResources:\n  B: {Type: AWS::S3::Bucket}\n")
    try:
        estate = scan([Path(".")])
    except TypeError as exc:
        raise AssertionError(f"scan() aborted: {exc!r}") from exc
    assert [e.origin.file for e in estate.errors] == ["odd.yaml"]
    assert [v.resource_id for v in estate.vaults] == ["A", "B", "C"]
