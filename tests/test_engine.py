"""The rule engine: three-valued decisions, any-element rules, scopes, messages, catalogue errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backupguard.estate import Attribute, Origin, Unknown
from backupguard.resolve import Subject
from backupguard.rules import CatalogueError, compile_rule, load_catalogue, load_rule_file
from backupguard.rules.engine import Check, Scope, evaluate_subject

RULE = {
    "id": "BG999",
    "name": "test-rule",
    "title": "A rule used by the engine tests",
    "severity": "low",
    "subject": "backup_rule",
    "summary": "s",
    "rationale": "r",
    "remediation": "m",
    "source_url": "https://example.com",
    "parameters": {"minimum": {"type": "integer", "default": 35, "description": "d"}},
    "inputs": {"retention": "retention_days", "gap": "max_gap_hours"},
    "condition": "retention >= params.minimum && gap <= `24`",
    "message": {"pass": "ok {retention}", "fail": "retention {retention}, gap {gap}, minimum {minimum}"},
    "examples": {"fail": "x", "pass": "y"},
}


def subject(**facts) -> Subject:
    return Subject("backup_rule", "Plan", "AWS::Backup::BackupPlan", Origin("t.yaml", 7, 5), facts, "rule 'daily'")


def evaluate(facts: dict, rule: dict = RULE, params: dict | None = None):
    compiled = compile_rule(rule, "test")
    return evaluate_subject(Check(compiled, {**compiled.defaults(), **(params or {})}), subject(**facts))


def test_pass_and_fail_quote_the_deciding_values():
    assert evaluate({"retention_days": 40, "max_gap_hours": 24}).status == "pass"
    failed = evaluate({"retention_days": 7, "max_gap_hours": 24})
    assert failed.status == "fail"
    assert failed.message == "retention 7, gap 24, minimum 35"
    assert (failed.file, failed.line, failed.column) == ("t.yaml", 7, 5)


def test_an_unknown_input_that_cannot_change_the_verdict_does_not_hide_a_fail():
    unknown_gap = Unknown("parameter 'Schedule' has no default")
    assert evaluate({"retention_days": 7, "max_gap_hours": unknown_gap}).status == "fail"
    result = evaluate({"retention_days": 40, "max_gap_hours": unknown_gap})
    assert result.status == "unknown"
    # no source attribute behind the fact: the reason alone, never the internal fact name
    assert result.message == "Cannot decide: parameter 'Schedule' has no default"


def test_or_with_a_true_side_passes_despite_unknown():
    rule = {**RULE, "condition": "retention >= params.minimum || gap <= `24`"}
    assert evaluate({"retention_days": 40, "max_gap_hours": Unknown("x")}, rule).status == "pass"
    assert evaluate({"retention_days": 7, "max_gap_hours": Unknown("x")}, rule).status == "unknown"


def test_not_of_unknown_is_unknown():
    rule = {**RULE, "condition": "!(retention < params.minimum)"}
    assert evaluate({"retention_days": Unknown("x"), "max_gap_hours": 1}, rule).status == "unknown"
    assert evaluate({"retention_days": 40, "max_gap_hours": 1}, rule).status == "pass"


def test_applies_if_false_gives_no_result():
    rule = {**RULE, "applies_if": "gap != null"}
    assert evaluate({"retention_days": 7, "max_gap_hours": None}, rule) is None


def test_parameters_change_the_verdict():
    assert evaluate({"retention_days": 20, "max_gap_hours": 24}, params={"minimum": 14}).status == "pass"


def test_any_element_rule():
    rule = {**RULE, "subject": "backup_plan", "each": "rules"}
    good, bad, unknown = (
        {"retention_days": 40, "max_gap_hours": 24},
        {"retention_days": 7, "max_gap_hours": 24},
        {"retention_days": Unknown("u"), "max_gap_hours": 24},
    )
    assert evaluate({"rules": [bad, good]}, rule).status == "pass"
    assert evaluate({"rules": [bad, unknown]}, rule).status == "unknown"
    both_bad = evaluate({"rules": [bad, bad | {"retention_days": 3}]}, rule)
    assert both_bad.status == "fail"
    assert "retention 7" in both_bad.message and "retention 3" in both_bad.message
    assert evaluate({"rules": []}, rule) is None


def test_fingerprint_ignores_the_line_but_not_the_element():
    compiled = compile_rule(RULE, "test")
    check = Check(compiled, compiled.defaults())
    facts = {"retention_days": 7, "max_gap_hours": 24}
    here = evaluate_subject(check, subject(**facts))
    moved = evaluate_subject(
        check, Subject("backup_rule", "Plan", "AWS::Backup::BackupPlan", Origin("t.yaml", 90, 1), facts, "rule 'daily'")
    )
    other = evaluate_subject(
        check, Subject("backup_rule", "Plan", "AWS::Backup::BackupPlan", Origin("t.yaml", 7, 5), facts, "rule 'weekly'")
    )
    assert here.fingerprint == moved.fingerprint != other.fingerprint


def test_scope_filters_by_type_and_tag():
    tagged = Subject("database", "Db", "AWS::RDS::DBInstance", Origin(), {}, None, {"env": "prod"})
    assert Scope(("AWS::RDS::DBInstance",), (("env", "prod"),)).admits(tagged)
    assert not Scope(("AWS::RDS::DBCluster",)).admits(tagged)
    assert not Scope((), (("env", "dev"),)).admits(tagged)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "urgent"}, "field 'severity'"),
        ({"id": "X1"}, "field 'id'"),
        ({"condition": "retention >= "}, "field 'condition': invalid JMESPath"),
        ({"message": {"pass": "{nope}", "fail": "x"}}, "placeholder '{nope}'"),
        ({"parameters": {"minimum": {"type": "integer", "default": "many", "description": "d"}}}, "parameters/minimum"),
        ({"extra": 1}, "'extra' was unexpected"),
    ],
)
def test_broken_rule_documents_name_the_field(change, message):
    with pytest.raises(CatalogueError, match=message) as info:
        compile_rule({**RULE, **change}, "rules/BG999.yaml")
    assert "rules/BG999.yaml" in str(info.value)


def test_broken_rule_file_names_file_and_line(tmp_path: Path):
    path = tmp_path / "BG999.yaml"
    path.write_text("id: BG999\nname: [unclosed\n")
    with pytest.raises(CatalogueError, match=r"BG999.yaml:\d+: not valid YAML"):
        load_rule_file(path)


def test_catalogue_ids_and_names_are_unique_and_files_match_ids():
    rules = load_catalogue()
    assert len({r.name for r in rules.values()}) == len(rules)
    for rule in rules.values():
        assert Path(rule.file).stem == rule.id
        assert rule.source_url.startswith("https://docs.aws.amazon.com/")


def test_duplicate_rule_id_is_rejected(tmp_path: Path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump(RULE))
    with pytest.raises(CatalogueError, match="already used"):
        load_catalogue.__wrapped__(tmp_path)


# -- locations and vocabulary ----------------------------------------------------------------

AT_RETENTION = Origin("t.yaml", 12, 9)
AT_SCHEDULE = Origin("t.yaml", 10, 9)


def located(facts: dict, attributes: dict, rule: dict = RULE):
    compiled = compile_rule(rule, "test")
    subject = Subject("backup_rule", "Plan", "AWS::Backup::BackupPlan", Origin("t.yaml", 7, 5), facts, "rule 'daily'",
                      attributes=attributes)
    return evaluate_subject(Check(compiled, compiled.defaults()), subject)


ATTRIBUTES = {
    "retention_days": Attribute("Lifecycle.DeleteAfterDays", AT_RETENTION),
    "max_gap_hours": Attribute("ScheduleExpression", AT_SCHEDULE),
}


def test_a_result_points_at_the_attribute_that_decided_it():
    short = located({"retention_days": 7, "max_gap_hours": 24}, ATTRIBUTES)
    assert (short.status, short.line, short.column) == ("fail", 12, 9)  # the retention fails, the gap does not
    rare = located({"retention_days": 40, "max_gap_hours": 168}, ATTRIBUTES)
    assert (rare.status, rare.line) == ("fail", 10)
    both = located({"retention_days": 7, "max_gap_hours": 168}, ATTRIBUTES)
    assert both.line == 12  # the first false side of the &&, in the rule's order of inputs
    passed = located({"retention_days": 40, "max_gap_hours": 24}, ATTRIBUTES)
    assert passed.line == 12  # every input decides a pass: the first in the rule's order


def test_an_attribute_without_a_position_leaves_the_result_at_the_block():
    absent = {"retention_days": Attribute("Lifecycle.DeleteAfterDays"), "max_gap_hours": ATTRIBUTES["max_gap_hours"]}
    result = located({"retention_days": 7, "max_gap_hours": 24}, absent)
    assert (result.line, result.column) == (7, 5)


def test_an_unknown_points_at_and_names_the_attribute_that_left_it_open():
    rule = {**RULE, "message": {"pass": "ok", "fail": "{@retention} is {retention}"}}
    result = located({"retention_days": 40, "max_gap_hours": Unknown("variable 'cron' has no value")}, ATTRIBUTES, rule)
    assert result.status == "unknown" and result.line == 10
    assert result.message == "Cannot decide: ScheduleExpression is unknown (variable 'cron' has no value)"


def test_messages_name_attributes_in_the_source_vocabulary_and_show_absent_values_as_not_set():
    rule = {**RULE, "condition": "retention == `35`", "message": {"pass": "ok", "fail": "{@retention}: {retention}"}}
    terraform = {"retention_days": Attribute("lifecycle.delete_after")}
    assert located({"retention_days": None, "max_gap_hours": 24}, terraform, rule).message == "lifecycle.delete_after: not set"
    # no attribute recorded (a hand-built subject): the fact's own name
    assert located({"retention_days": 7, "max_gap_hours": 24}, {}, rule).message == "retention_days: 7"


def test_an_attribute_placeholder_must_name_an_input():
    with pytest.raises(CatalogueError, match="@minimum"):
        compile_rule({**RULE, "message": {"pass": "ok", "fail": "{@minimum}"}}, "test")


def test_subjects_that_share_a_verdict_keep_their_own_words_element_and_place():
    """A rule without "each" works out a verdict once per check for subjects with the same plain
    input values (engine._subject_verdict); what differs between them still shows: the source's
    attribute names, the element, the position, and a value of another type (true is not 1)."""
    from backupguard.rules.engine import _Memo

    rule = {**RULE, "condition": "retention == `35`",
            "message": {"pass": "ok", "fail": "{@retention} of {element} is {retention}"}}
    compiled = compile_rule(rule, "test")
    check = Check(compiled, compiled.defaults())
    memo = _Memo(check.params_key())

    def judged(retention, attributes, element="rule 'daily'", line=7):
        facts = {"retention_days": retention, "max_gap_hours": 24}
        subject = Subject("backup_rule", f"Plan{line}", "AWS::Backup::BackupPlan", Origin("t.yaml", line, 5), facts,
                          element, attributes=attributes)
        return evaluate_subject(check, subject, memo)

    cfn = {"retention_days": Attribute("Lifecycle.DeleteAfterDays", Origin("t.yaml", 12, 9))}
    tf = {"retention_days": Attribute("lifecycle.delete_after", Origin("t.tf", 30, 7))}
    first, again = judged(7, cfn), judged(7, cfn, line=40)
    assert first.message == again.message == "Lifecycle.DeleteAfterDays of rule 'daily' is 7"
    assert (first.resource_id, again.resource_id) == ("Plan7", "Plan40") and first.fingerprint != again.fingerprint
    assert judged(7, tf).message == "lifecycle.delete_after of rule 'daily' is 7"
    assert (judged(7, tf).file, judged(7, tf).line) == ("t.tf", 30)
    assert judged(7, cfn, element="rule 'weekly'").message == "Lifecycle.DeleteAfterDays of rule 'weekly' is 7"
    assert judged(True, cfn).message == "Lifecycle.DeleteAfterDays of rule 'daily' is true"
    assert judged(1, cfn).message == "Lifecycle.DeleteAfterDays of rule 'daily' is 1"
    assert judged(35, cfn).status == "pass" and judged(35.0, cfn).status == "pass"
    assert len(memo.subjects) == 7  # 7 cfn, 7 tf, weekly, true, 1, 35, 35.0: each its own entry
