"""Issue 8 (hardening), CloudFormation and Organizations policy part: what AWS rejects is a located
error, never a pass; evaluation is bounded; JSON that AWS accepts is read; bad files stay one error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.estate import BackupSelection, Origin, ProtectedResource, Unknown, whole_number
from backupguard.resolve.selection import selection_matches
from backupguard.scanner.cloudformation import CfnOptions, parse_template
from backupguard.scanner.cloudformation.loader import TemplateError, load_text
from backupguard.scanner.cloudformation.parameters import read_parameters_file
from backupguard.scanner.values import as_int

runner = CliRunner()

PLAN = """\
Parameters:
  Days:
    Type: Number
    Default: 7
Resources:
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: p
        BackupPlanRule:
          - RuleName: weekly
            TargetBackupVault: v
            ScheduleExpression: cron(0 5 ? * 1 *)
            Lifecycle:
              DeleteAfterDays: {days}
{extra}
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: v
"""


def lint_file(tmp_path: Path, name: str, text: str | bytes, *args: str) -> tuple[int, list[dict]]:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["lint", str(path), *args, "--format", "json", "-o", str(out)])
    assert "internal error" not in result.output
    return result.exit_code, json.loads(out.read_text("utf-8"))["results"]


def errors(results: list[dict]) -> list[tuple[int, str]]:
    return [(r["line"], r["message"]) for r in results if r["status"] == "error"]


def plan_template(days: str = "7", extra: str = "") -> str:
    return PLAN.format(days=days, extra=extra)


# -- item 10: silently wrong answers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        ("          - null", 17,
         "resource 'Plan': 'Properties/BackupPlan/BackupPlanRule/1' is null; CloudFormation does not allow null values"),
        ("          - 5", 17, "resource 'Plan': BackupPlanRule item 2 must be an object, not a number"),
    ],
)
def test_a_rule_that_is_not_an_object_is_an_error_not_a_forever_rule(tmp_path, extra, line, message):
    _, results = lint_file(tmp_path, "t.yaml", plan_template(extra=extra))
    assert errors(results) == [(line, message)]
    assert not [r for r in results if r["rule_id"] == "BG101" and r["status"] == "pass"]
    assert any(r["resource_id"] == "Vault" for r in results)  # the other resources are still checked


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (".inf", "DeleteAfterDays: inf is not a finite number"),
        ("1e30", "DeleteAfterDays: '1e30' is out of range (AWS takes a 64-bit whole number)"),
        ('"1e999"', "DeleteAfterDays: '1e999' is not a finite number"),
        ('"٣٥"', "DeleteAfterDays: '٣٥' is not a number"),
        ("7.5", "DeleteAfterDays: 7.5 is not a whole number"),
    ],
)
def test_retention_aws_rejects_is_a_located_error(tmp_path, days, message):
    _, results = lint_file(tmp_path, "t.yaml", plan_template(days=days))
    assert errors(results) == [(16, f"resource 'Plan': {message}")]


def test_a_5000_digit_number_is_a_located_error(tmp_path):
    code, results = lint_file(tmp_path, "t.yaml", plan_template(days="9" * 5000))
    assert errors(results) == [(16, "a number of 5000 characters is too long (at most 64)")]
    assert code == 2


def test_parameters_file_value_is_judged_where_it_is_used(tmp_path):
    params = tmp_path / "p.json"
    params.write_text('{"Days": "1e999"}', "utf-8")
    _, results = lint_file(tmp_path, "t.yaml", plan_template(days="!Ref Days"), "--parameters-file", str(params))
    assert errors(results) == [(16, "resource 'Plan': DeleteAfterDays: inf is not a finite number")]


def test_as_int_shared_with_terraform_never_passes_a_refused_number():
    for value in ("1e999", float("inf"), 10**5000, "٣٥", True, 7.5):
        assert isinstance(as_int(value, "delete_after"), Unknown), value
    assert as_int(" 35 ", "d") == 35 and as_int(35.0, "d") == 35 and as_int("1e2", "d") == 100


def test_whole_number_refuses_what_the_aws_apis_refuse():
    with pytest.raises(ValueError, match="out of range"):
        whole_number(2**63)
    assert whole_number(2**63 - 1) == 2**63 - 1
    assert whole_number("-3") == -3


SELECTION = """\
Resources:
  Sel:
    Type: AWS::Backup::BackupSelection
    Properties:
      BackupPlanId: abc
      BackupSelection:
        SelectionName: s
        IamRoleArn: arn:aws:iam::123456789012:role/r
        Resources: {resources}
  Vol:
    Type: AWS::EC2::Volume
    Properties:
      AvailabilityZone: us-east-1a
"""


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ('"*"', "resource 'Sel': Resources must be a list of strings, not a string"),
        ("~", "resource 'Sel': 'Properties/BackupSelection/Resources' is null; CloudFormation does not allow null values"),
        ("[5]", "resource 'Sel': Resources item 1 must be a string, not a number"),
    ],
)
def test_selection_resources_aws_rejects_are_an_error(tmp_path, resources, message):
    code, results = lint_file(tmp_path, "t.yaml", SELECTION.format(resources=resources))
    assert errors(results) == [(9, message)]
    assert code == 2


def test_resources_string_never_selects_everything():
    volume = ProtectedResource("Vol", "AWS::EC2::Volume", "EBS", Origin("t.yaml"), {}, {})
    selection = BackupSelection("Sel", "s", "p", "role", resources="*")
    match = selection_matches(selection, volume, lambda service: True)
    assert isinstance(match.selected, Unknown)
    assert "its resource ARNs are not a list; AWS rejects the selection" in match.selected.reason


POLICY = {
    "plans": {
        "P": {
            "regions": {"@@assign": ["us-east-1"]},
            "rules": {
                "R": {
                    "schedule_expression": {"@@assign": "cron(0 5 ? * 1 *)"},
                    "target_backup_vault_name": {"@@assign": "v"},
                    "lifecycle": {"delete_after_days": {"@@assign": "7"}},
                }
            },
            "selections": {"tags": {"t": {"iam_role_arn": {"@@assign": "arn:aws:iam::$account:role/r"},
                                           "tag_key": {"@@assign": "a"}, "tag_value": {"@@assign": ["b"]}}}},
        }
    }
}


def policy_with(change) -> str:
    policy = json.loads(json.dumps(POLICY))
    change(policy["plans"]["P"])
    return json.dumps(policy, indent=2)


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (lambda p: p.update(rules=[1]), 9, "plan 'P' rules must be an object, not a list"),
        (lambda p: p.update(rules={"R": None}), 10, "plan 'P' rules entry 'R' must be an object, not null"),
        (lambda p: p["rules"]["R"].update(copy_actions=[1, 2]), 22, "rule 'R' copy_actions must be an object, not a list"),
        (lambda p: p["rules"]["R"].update(copy_actions={"arn:x": 5}), 23,
         "rule 'R' copy_actions entry 'arn:x' must be an object, not a number"),
        (lambda p: p["rules"]["R"]["lifecycle"].update(delete_after_days={"@@assign": "9" * 5000}), 18,
         "rule 'R' delete_after_days: '999999999999999999999999999999999999... is not a number"),
        (lambda p: p["rules"]["R"]["lifecycle"].update(delete_after_days={"@@assign": "٣٥"}), 18,
         "rule 'R' delete_after_days: '٣٥' is not a number"),
    ],
)
def test_policy_parts_aws_rejects_are_a_located_error(tmp_path, change, line, message):
    code, results = lint_file(tmp_path, "policy.json", policy_with(change))
    assert errors(results) == [(line, f"backup policy 'policy.json': {message}")]
    assert code == 2


# -- items 5 and 9: one bad file is one located error ---------------------------------------------


def test_bad_files_are_one_error_each_and_the_others_are_scanned(tmp_path):
    (tmp_path / "surrogate.json").write_text(
        '{"Resources": {"V": {"Type": "AWS::Backup::BackupVault", "Properties": {"BackupVaultName": "a\\udc00"}}}}')
    policy = json.loads(policy_with(lambda p: None))
    policy["plans"]["P"]["rules"]["R"]["lifecycle"]["delete_after_days"] = {"@@assign": 0}
    (tmp_path / "policy.json").write_text(json.dumps(policy, indent=2).replace('"@@assign": 0', '"@@assign": ' + "9" * 5000))
    (tmp_path / "good.yaml").write_text(plan_template())
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["lint", str(tmp_path), "--format", "json", "-o", str(out)])
    assert "internal error" not in result.output
    results = json.loads(out.read_text("utf-8"))["results"]
    by_file = {}
    for r in results:
        by_file.setdefault(Path(r["file"]).name, []).append(r)
    assert [(r["line"], r["message"]) for r in by_file["surrogate.json"]] == [(1, "found invalid Unicode character escape code")]
    assert errors(by_file["policy.json"]) == [(19, "a number of 5000 characters is too long (at most 64)")]
    assert any(r["rule_id"] == "BG101" for r in by_file["good.yaml"])


# -- item 8: JSON that AWS accepts ----------------------------------------------------------------


def test_json_may_hold_del_c1_controls_and_noncharacters_raw():
    name = "a\x7fb\x80c\x85d\x9fe\ufffef\u2028g"
    text = ('{"AWSTemplateFormatVersion": "2010-09-09",\n"Resources": {"V": {"Type": "AWS::Backup::BackupVault",\n'
            '"Properties": {"BackupVaultName": "' + name + '",\n "Tags": 1}}}}')
    data = load_text(text)
    props = data["Resources"]["V"]["Properties"]
    assert props["BackupVaultName"] == name
    assert props.pos("Tags") == (4, 2)  # NEL and U+2028 inside the string do not count as line breaks


def test_escaped_surrogate_pair_is_valid_json():
    data = load_text('{"Resources": {"V": {"Type": "T", "Properties": {"Name": "x\\ud83d\\ude00\\\\ud83d"}}}}')
    assert data["Resources"]["V"]["Properties"]["Name"] == "x\U0001F600\\ud83d"


def test_yaml_keeps_refusing_control_characters():
    with pytest.raises(TemplateError, match="is not allowed"):
        load_text("a: b\x7f\n")


# -- item 3: bounded evaluation ---------------------------------------------------------------------


FOR_EACH = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::LanguageExtensions
Parameters:
  L:
    Type: CommaDelimitedList
    Default: "{items}"
Resources:
  Fn::ForEach::A:
    - a
    - !Ref L
    - Fn::ForEach::B:
        - b
        - !Ref L
        - Fn::ForEach::C:
            - c
            - !Ref L
            - "V${{a}}x${{b}}x${{c}}":
                Type: AWS::Backup::BackupVault
                Properties:
                  BackupVaultName: !Sub "v-${{a}}-${{b}}-${{c}}"
"""


def test_nested_for_each_is_bounded():
    text = FOR_EACH.format(items=",".join(f"i{i}" for i in range(200)))
    with pytest.raises(TemplateError, match="Fn::ForEach expands to more than 2,000 resources") as caught:
        parse_template("t.yaml", text, CfnOptions())
    assert caught.value.line == 17  # the resource of the innermost loop


def test_resources_written_out_do_not_count_against_the_loop_limit():
    """The limit bounds what loops add; resources written in the file are bounded by its size."""
    vaults = "".join(f"  V{i}:\n    Type: AWS::Backup::BackupVault\n    Properties: {{BackupVaultName: v{i}}}\n"
                     for i in range(2_500))
    estate = parse_template("t.yaml", "Resources:\n" + vaults, CfnOptions())
    assert len(estate.vaults) == 2_500 and not estate.errors


def test_small_for_each_still_expands():
    estate = parse_template("t.yaml", FOR_EACH.format(items="x,y"), CfnOptions())
    assert sorted(v.resource_id for v in estate.vaults) == [f"V{a}x{b}x{c}" for a in "xy" for b in "xy" for c in "xy"]


def test_joined_strings_are_bounded():
    text = ("Parameters:\n  P:\n    Type: String\n    Default: " + "x" * 100_000 + "\nResources:\n  V:\n"
            "    Type: AWS::Backup::BackupVault\n    Properties:\n      BackupVaultName: !Join ['', ["
            + ", ".join(["!Ref P"] * 100) + "]]\n")
    with pytest.raises(TemplateError, match="Fn::Join builds a string of more than 1,000,000 characters") as caught:
        parse_template("t.yaml", text, CfnOptions())
    assert caught.value.line == 9


# -- read_parameters_file ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('[{"ParameterKey": "Days", "ParameterValue": "35"}, {"ParameterKey": "N", "ParameterValue": 1e999}]'.encode(),
         {"Days": "35", "N": "1e999"}),
        ('{"Days": "1e999", "On": true, "L": ["a", "b"]}'.encode("utf-16"), {"Days": "1e999", "On": "true", "L": "a,b"}),
        (b"\xef\xbb\xbf{\"Days\": 35}", {"Days": "35"}),
    ],
)
def test_parameters_file_shapes_and_encodings(tmp_path, data, expected):
    path = tmp_path / "p.json"
    path.write_bytes(data)
    assert read_parameters_file(path) == expected


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"a":' + "[" * 10000 + "]" * 10000 + "}", 1, "parameters file nests deeper than 4 levels"),
        ('{"a": "b",\n "c": {"d": 1}}', 2, "parameters file: the value of 'c' is an object, not text or a number"),
        ('{"a":\n' + "9" * 5000 + "}", 1, "parameters file: a number of 5000 characters is too long (at most 64)"),
        ('{"a": NaN}', 1, "parameters file: NaN is not JSON"),
        ('{"a": \n', 2, "parameters file is not valid JSON: Expecting value"),
        ("5", 1, "parameters file must hold an object or a list of ParameterKey/ParameterValue objects"),
    ],
)
def test_bad_parameters_file_is_a_clear_error(tmp_path, text, line, message):
    path = tmp_path / "p.json"
    path.write_text(text, "utf-8")
    with pytest.raises(TemplateError) as caught:
        read_parameters_file(path)
    assert (caught.value.line, caught.value.message) == (line, message)


def test_non_utf_parameters_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b'{"a":\n "\xff"}')
    with pytest.raises(TemplateError) as caught:
        read_parameters_file(path)
    assert (caught.value.line, caught.value.message) == (2, "parameters file is not UTF-8 or UTF-16 (with a BOM) text")
