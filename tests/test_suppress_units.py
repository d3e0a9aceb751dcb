"""Issue 11 in parts: rule patterns and selection, config validation, waivers on live results,
expiry, inline suppression reading (Terraform comments, CloudFormation Metadata), baselines."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.baseline import Baseline, BaselineError, Entry, read, render
from backupguard.cli import app
from backupguard.config import ConfigError, UserConfig, build_checks, load_config
from backupguard.estate import InlineSuppression, Origin
from backupguard.frameworks import load_frameworks
from backupguard.reports.json_report import document, merge, render as render_document
from backupguard.results import Result, Suppression
from backupguard.rules import load_catalogue
from backupguard.rules.docs import meta_page
from backupguard.rules.patterns import PatternError, closest, foreign_rules, matching, resolve, split
from backupguard.scanner.suppressions import cloudformation, terraform_text
from backupguard.suppress import META_RULES, TodayError, apply, today
from backupguard.waivers import Waiver, parse_waivers

RULES = load_catalogue()
DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules"
runner = CliRunner()

VAULT = """\
Resources:
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: v
"""


# ---------------------------------------------------------------------------------------------
# rule patterns and selection


@pytest.mark.parametrize(("pattern", "expected"), [
    ("BG201", ["BG201"]),
    ("bg201", ["BG201"]),
    ("vault-encrypted-with-cmk", ["BG201"]),
    ("BG20[12]", ["BG201", "BG202"]),
    ("dynamodb-*", ["BG301", "BG304", "BG312"]),
    ("BG2O1", []),
])
def test_a_pattern_is_an_id_a_name_or_a_glob(pattern, expected):
    assert matching(pattern, RULES) == expected


def test_a_glob_names_a_whole_family():
    assert matching("BG3*", RULES) == [rule_id for rule_id in RULES if rule_id.startswith("BG3")]
    assert split(["BG1*, BG201", " BG3* ", ""]) == ["BG1*", "BG201", "BG3*"]


def test_a_pattern_naming_no_rule_names_the_closest():
    assert closest("BG2O1", RULES) == "BG201"
    assert closest("vault-encrypted-with-kms", RULES) == "vault-encrypted-with-cmk"
    with pytest.raises(PatternError, match=r"^--check: no rule matches 'BG2O1' \(did you mean BG201\?\)$"):
        resolve(["BG101", "BG2O1"], RULES, "--check")
    with pytest.raises(PatternError, match=r"no rule matches 'zzz' \(`backupguard rules` lists them\)"):
        resolve(["zzz"], RULES, "--check")


def test_other_tools_ids_map_through_the_rules_references():
    checkov = foreign_rules(RULES, "checkov")
    assert checkov["CKV_AWS_166"] == ["BG201"] and checkov["CKV_AWS_28"] == ["BG301"]
    assert foreign_rules(RULES, "cfn-lint") == {"E3504": ["BG102"]}


def _ids(checks) -> list[str]:
    return sorted({check.rule.id for check in checks})


def test_check_and_skip_narrow_the_checks_before_anything_runs():
    frameworks = load_frameworks()
    checks = build_checks(RULES, frameworks, [], UserConfig(), {}, ["BG2*"], ["BG207,vault-lock-*"])
    assert _ids(checks) == ["BG201", "BG204", "BG205"]  # vault-lock-* are BG202, BG203 and BG206
    assert len(build_checks(RULES, frameworks, [], UserConfig(), {}, [], ["BG1*"])) == len(RULES) - len(matching("BG1*", RULES))


def test_selection_composes_with_a_framework():
    frameworks = load_frameworks()
    checks = build_checks(RULES, frameworks, ["aws-backup-audit-manager"], UserConfig(), {}, ["BG101"])
    assert _ids(checks) == ["BG101"] and all(c.frameworks[0].startswith("aws-backup-audit-manager:") for c in checks)
    with pytest.raises(ConfigError, match="leaves no rule to run in aws-backup-audit-manager"):
        build_checks(RULES, frameworks, ["aws-backup-audit-manager"], UserConfig(), {}, ["BG601"])


def test_the_command_line_selection_replaces_the_config_file_s():
    config = UserConfig(check=["BG201"], skip_check=["BG301"], source="bg.yaml")
    assert _ids(build_checks(RULES, load_frameworks(), [], config, {})) == ["BG201"]
    assert _ids(build_checks(RULES, load_frameworks(), [], config, {}, ["BG10[12]"])) == ["BG101", "BG102"]
    with pytest.raises(ConfigError, match=r"^bg\.yaml: skip_check: no rule matches 'BG9O1'"):
        build_checks(RULES, load_frameworks(), [], UserConfig(skip_check=["BG9O1"], source="bg.yaml"), {})


def lint(*args: str, env: dict | None = None):
    return runner.invoke(app, ["lint", *args], env=env)


def test_cli_check_and_skip_check(tmp_path):
    template = tmp_path / "vault.yaml"
    template.write_text(VAULT)
    run = lint(str(template), "--check", "BG2*", "--check", "BG101", "--skip-check", "BG202,BG203", "-f", "json")
    doc = json.loads(run.stdout)
    assert {c["rule_id"] for c in doc["scan"]["checks"]} == {"BG101", "BG201", "BG204", "BG205", "BG206", "BG207"}
    assert {r["rule_id"] for r in doc["results"]} <= {"BG201", "BG204", "BG205", "BG206", "BG207"}
    bad = lint(str(template), "--skip-check", "vault-encrypted-with-kms")
    assert bad.exit_code == 2
    assert bad.stderr == ("backupguard: error: --skip-check: no rule matches 'vault-encrypted-with-kms' "
                          "(did you mean vault-encrypted-with-cmk?)\n")


# ---------------------------------------------------------------------------------------------
# config validation


def _config(tmp_path, text: str) -> Path:
    path = tmp_path / "bg.yaml"
    path.write_text(text)
    return path


WAIVER = "waivers:\n  - rule: BG201\n    reason: accepted\n"


@pytest.mark.parametrize(("extra", "message"), [
    ("    expires: '2025-02-30'\n", "bg.yaml:2: waivers[0]: 'expires' must be a date YYYY-MM-DD, got '2025-02-30'"),
    ("    expires: 2025-02-30\n", "bg.yaml: a value cannot be read: day is out of range for month"),  # YAML's own date
    ("    expires: next year\n", "bg.yaml:4: waivers[0]: 'expires' must be a date YYYY-MM-DD"),
    ("    expires: 2025-06-30 12:00:00\n", "'expires' must be a date YYYY-MM-DD"),
    ("    account: 111122223333\n", "'account' must be a string (quote account IDs: '012345678901')"),
    ("    team: storage\n", "unknown key(s) team"),
])
def test_waiver_mistakes_are_configuration_errors(tmp_path, extra, message):
    path = _config(tmp_path, WAIVER.replace("rule: BG201", "rule: BG201") + extra)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value)


def test_a_waiver_naming_an_unknown_rule_exits_2_naming_the_closest(tmp_path):
    path = _config(tmp_path, "fail_on: high\n" + WAIVER.replace("BG201", "BG2O1"))
    template = tmp_path / "vault.yaml"
    template.write_text(VAULT)
    run = lint(str(template), "--config", str(path))
    assert run.exit_code == 2
    assert run.stderr == f"backupguard: error: {path}:3: waiver for 'BG2O1': no rule matches 'BG2O1' (did you mean BG201?)\n"


def test_a_waiver_reads_owner_ticket_expiry_and_its_line(tmp_path):
    path = _config(tmp_path, "# waivers\n" + WAIVER + "    owner: team\n    ticket: OPS-1\n    expires: 2026-01-31\n"
                   "  - rule: BG3*\n    reason: \"quoted date\"\n    expires: '2026-02-01'\n    region: eu-*\n")
    first, second = load_config(path).waivers
    assert (first.owner, first.ticket, first.expires, first.line, first.source) == ("team", "OPS-1", date(2026, 1, 31), 3, str(path))
    assert (second.rule, second.expires, second.region, second.line) == ("BG3*", date(2026, 2, 1), "eu-*", 8)


def test_check_and_skip_check_in_the_config_must_be_lists_of_strings(tmp_path):
    with pytest.raises(ConfigError, match="'check' must be a list of strings"):
        load_config(_config(tmp_path, "check: BG201\n"))
    assert load_config(_config(tmp_path, "check: [BG201]\nskip_check: [BG3*]\n")).skip_check == ["BG3*"]


def test_today_is_fixed_by_the_environment_or_is_the_utc_date():
    assert today({"BACKUPGUARD_TODAY": "2025-06-01"}) == date(2025, 6, 1)
    assert isinstance(today({}), date)
    with pytest.raises(TodayError, match="BACKUPGUARD_TODAY='06/01/2025': expected a date YYYY-MM-DD"):
        today({"BACKUPGUARD_TODAY": "06/01/2025"})


def test_a_bad_today_is_a_usage_error(tmp_path):
    template = tmp_path / "vault.yaml"
    template.write_text(VAULT)
    run = lint(str(template), env={"BACKUPGUARD_TODAY": "tomorrow"})
    assert run.exit_code == 2 and "BACKUPGUARD_TODAY='tomorrow'" in run.stderr


# ---------------------------------------------------------------------------------------------
# waivers over results built directly: live matching, expiry


EAST, WEST = "us-east-1", "eu-west-1"
A, B = "111111111111", "222222222222"


def live(rule_id: str, account: str, region: str, name: str, status: str = "fail") -> Result:
    arn = f"arn:aws:backup:{region}:{account}:backup-vault:{name}"
    return Result(rule_id, status, "medium", arn, "AWS::Backup::BackupVault", None, 1, 1, "m",
                  fingerprint=f"{rule_id}-{account}-{region}-{name}", account_id=account, region=region, arn=arn)


ESTATE = [live("BG201", A, EAST, "main"), live("BG201", A, WEST, "main"), live("BG201", B, EAST, "legacy-1"),
          live("BG201", B, WEST, "legacy-2"), live("BG202", A, EAST, "main", "pass")]


def waived(waivers: list[Waiver], results=ESTATE, on=date(2025, 6, 1)) -> tuple[list[str], list[Result]]:
    out = apply(results, [], waivers, RULES, {"BG201", "BG202"}, on).results
    return [r.arn.split(":", 3)[3] for r in out if r.suppression], [r for r in out if r.rule_id.startswith("BG00")]


@pytest.mark.parametrize(("matchers", "expected"), [
    ({"account": A}, [f"{EAST}:{A}:backup-vault:main", f"{WEST}:{A}:backup-vault:main"]),
    ({"region": "eu-*"}, [f"{WEST}:{A}:backup-vault:main", f"{WEST}:{B}:backup-vault:legacy-2"]),
    ({"arn": "arn:aws:backup:*:*:backup-vault:legacy-*"}, [f"{EAST}:{B}:backup-vault:legacy-1", f"{WEST}:{B}:backup-vault:legacy-2"]),
    ({"account": B, "region": EAST}, [f"{EAST}:{B}:backup-vault:legacy-1"]),
    ({"resource": "*:legacy-2"}, [f"{WEST}:{B}:backup-vault:legacy-2"]),
])
def test_waivers_match_live_results_by_account_region_and_arn(matchers, expected):
    names, meta = waived([Waiver("BG201", "accepted", **matchers)])
    assert sorted(names) == sorted(expected) and meta == []


def test_an_account_waiver_does_not_match_a_result_without_an_account():
    template = Result("BG201", "fail", "medium", "Vault", "AWS::Backup::BackupVault", "t.yaml", 3, 3, "m", fingerprint="t")
    names, meta = waived([Waiver("BG201", "accepted", account=A)], [template])
    assert names == [] and [r.rule_id for r in meta] == ["BG003"]


def test_a_waiver_waives_through_its_expiry_day_and_then_is_a_finding():
    waiver = Waiver("vault-encrypted-with-cmk", "accepted", account=B, owner="team", ticket="OPS-9",
                    expires=date(2025, 6, 1), source="bg.yaml", line=7)
    names, meta = waived([waiver], on=date(2025, 6, 1))
    assert len(names) == 2 and meta == []
    names, meta = waived([waiver], on=date(2025, 6, 2))
    assert names == []
    (expired,) = meta
    assert (expired.rule_id, expired.status, expired.severity, expired.file, expired.line) == ("BG002", "fail", "low", "bg.yaml", 7)
    assert expired.message == ("waiver for vault-encrypted-with-cmk (account '222222222222') expired on 2025-06-01 (owner team, "
                               "ticket OPS-9): the 2 findings it covered fail again; fix and remove the waiver, or give it a new date")


def test_waivers_of_rules_that_did_not_run_are_not_judged():
    stale = Waiver("BG301", "accepted", resource="gone")
    expired = Waiver("BG302", "accepted", expires=date(2020, 1, 1))
    out = apply(ESTATE, [], [stale, expired], RULES, {"BG201"}, date(2025, 6, 1)).results
    assert [r.rule_id for r in out if r.rule_id.startswith("BG00")] == []
    out = apply(ESTATE, [], [stale, expired], RULES, {"BG201", "BG301", "BG302"}, date(2025, 6, 1)).results
    assert [r.rule_id for r in out if r.rule_id.startswith("BG00")] == ["BG002", "BG003"]


def test_identical_waivers_give_findings_with_distinct_fingerprints():
    twice = [Waiver("BG301", "a", resource="gone", source="bg.yaml", line=3), Waiver("BG301", "b", resource="gone", source="bg.yaml", line=6)]
    out = apply(ESTATE, [], twice, RULES, {"BG201", "BG301"}, date(2025, 6, 1)).results
    stale = [r for r in out if r.rule_id == "BG003"]
    assert [r.line for r in stale] == [3, 6] and len({r.fingerprint for r in stale}) == 2


def test_a_suppression_never_covers_a_pass_or_an_error():
    out = apply(ESTATE, [], [Waiver("BG202", "accepted")], RULES, {"BG201", "BG202"}, date(2025, 6, 1)).results
    assert not any(r.suppression for r in out) and [r.rule_id for r in out if r.rule_id == "BG003"] == ["BG003"]


# ---------------------------------------------------------------------------------------------
# reading inline suppressions


def _read(src: str) -> list[tuple]:
    return [(s.rule, s.reason, s.origin.line, s.resource, s.lines, s.tool, s.problem is not None)
            for s in terraform_text(src.encode(), "main.tf")]


def test_terraform_comments_above_or_inside_a_block():
    src = '''\
/* backupguard:skip=BG201
   a reason on the next line */
// another comment between
resource "aws_backup_vault" "v" {
  name = "v # backupguard:skip=BG999 inside a string is no comment"
  tags = { # backupguard:skip=vault-lock-*: locks come with the migration
    a = "b"
  } // checkov:skip=CKV_AWS_166
}

# backupguard:skip=BG101 -- belongs to no block: a blank line follows

data "aws_region" "here" {}
module "m" { # BACKUPGUARD:SKIP=BG4*,BG101 whole module
  source = "./m"
}
'''
    assert _read(src) == [
        ("BG201", "a reason on the next line", 1, "aws_backup_vault.v", (4, 9), None, False),
        ("vault-lock-*", "locks come with the migration", 6, "aws_backup_vault.v", (4, 9), None, False),
        ("CKV_AWS_166", None, 8, "aws_backup_vault.v", (4, 9), "checkov", False),
        ("BG101", "belongs to no block: a blank line follows", 11, None, None, None, True),
        ("BG4*", "whole module", 14, "module.m", (14, 16), None, False),
        ("BG101", "whole module", 14, "module.m", (14, 16), None, False),
    ]


def test_a_file_without_markers_or_with_a_syntax_error_is_not_parsed_for_suppressions():
    assert terraform_text(b'resource "a_b" "c" {\n  # just a comment\n}\n', "x.tf") == []
    assert terraform_text(b'# backupguard:skip=BG201 why\nresource "a_b" "c" {\n', "x.tf") == []


def test_cloudformation_metadata_shapes():
    from backupguard.scanner.cloudformation.loader import load_text

    template = load_text("""\
Resources:
  A:
    Type: AWS::Backup::BackupVault
    Metadata:
      backupguard:
        skip:
          - id: BG201, BG202
            reason: two rules, one reason
          - BG203
          - reason: no id
      checkov:
        skip:
          - id: CKV_AWS_166
          - id: CKV_AWS_1
            comment: not ours
      cfn-lint:
        config:
          ignore_checks: [E3504]
  B:
    Type: AWS::Backup::BackupVault
    Metadata:
      backupguard: BG201
""")
    origin = Origin("t.yaml", 2, 3)
    found = [(s.rule, s.reason, s.origin.line, s.tool, s.problem is not None)
             for name in ("A", "B") for s in cloudformation(name, template["Resources"][name], origin)]
    assert found == [
        ("BG201", "two rules, one reason", 7, None, False), ("BG202", "two rules, one reason", 7, None, False),
        ("BG203", None, 9, None, False), ("", "no id", 10, None, True),
        ("CKV_AWS_166", None, 13, "checkov", False), ("CKV_AWS_1", "not ours", 14, "checkov", False),
        ("", None, 22, None, True),
    ]


def _lint_json(tmp_path, name: str, text: str, *args: str) -> tuple[int, dict]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    run = lint(str(path), "-f", "json", *args)
    return run.exit_code, json.loads(run.stdout)


def test_metadata_judgements(tmp_path):
    code, doc = _lint_json(tmp_path, "t.yaml", """\
Resources:
  NoReason:
    Type: AWS::Backup::BackupVault
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_166
          - id: CKV_AWS_1
  Stale:
    Type: AWS::Backup::BackupVault
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_166
            comment: Checkov's shapes are never stale
      backupguard:
        skip:
          - {id: BG202, reason: "stale unless BG202 fails"}
    Properties:
      EncryptionKeyArn: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
""", "--check", "BG201")
    # Checkov's comment is optional in Checkov: a skip without one is not honoured, and a note (not an
    # error that would break the build of a repository adopting backupguard) says so.
    assert code == 1
    assert [(r["rule_id"], r["status"], r["resource_id"], r["line"]) for r in doc["results"] if r["status"] != "pass"] == [
        ("BG201", "fail", "NoReason", 2),  # CKV_AWS_1 cites no rule of ours: ignored
    ]
    assert [n.rsplit("/", 1)[-1] for n in doc["scan"]["notes"] if "CKV_AWS_166" in n] == [
        "t.yaml:7: checkov's skip of CKV_AWS_166 gives no reason, so it does not suppress backupguard's BG201 "
        "(give it one: Checkov's comment)"]


def test_inline_suppressions_cover_every_instance_of_a_counted_block_and_a_child_module(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "main.tf").write_text(
        'resource "aws_backup_vault" "child" {\n  # backupguard:skip=BG201 child module vault\n  name = "child"\n}\n')
    code, doc = _lint_json(tmp_path, "main.tf", """\
resource "aws_backup_vault" "v" {
  # backupguard:skip=BG201 two vaults, one comment
  count = 2
  name  = "v${count.index}"
}

module "child" {
  source = "./m"
}
""", "--check", "BG201")
    assert code == 0
    assert [(r["resource_id"], r["file"].rsplit("/", 2)[-2:], (r["suppression"] or {}).get("reason")) for r in doc["results"]] == [
        ("module.child.aws_backup_vault.child", ["m", "main.tf"], "child module vault"),
        ("aws_backup_vault.v[0]", [tmp_path.name, "main.tf"], "two vaults, one comment"),
        ("aws_backup_vault.v[1]", [tmp_path.name, "main.tf"], "two vaults, one comment"),
    ]


def test_a_stale_inline_suppression_is_not_judged_when_its_rule_did_not_run(tmp_path):
    text = 'resource "aws_backup_vault" "v" {\n  # backupguard:skip=BG202 no lock yet\n  name = "v"\n}\n'
    code, doc = _lint_json(tmp_path, "main.tf", text, "--check", "BG201")
    assert code == 1 and [r["rule_id"] for r in doc["results"]] == ["BG201"]
    code, doc = _lint_json(tmp_path, "main.tf", text.replace("BG202", "BG201"), "--check", "BG201")
    assert code == 0 and [r["suppression"]["kind"] for r in doc["results"]] == ["inline"]


# ---------------------------------------------------------------------------------------------
# baselines


def test_a_baseline_file_is_sorted_small_and_stable():
    results = [
        Result("BG201", "fail", "medium", "Z", None, "b.yaml", 9, 1, "m", fingerprint="f1"),
        Result("BG101", "unknown", "high", "P", None, "a.yaml", 3, 1, "m", fingerprint="f2"),
        Result("BG201", "fail", "medium", "W", None, "a.yaml", 5, 1, "m", fingerprint="f3",
               suppression=Suppression("waiver", "accepted")),
        Result("BG201", "pass", "medium", "V", None, "a.yaml", 1, 1, "m", fingerprint="f4"),
        live("BG201", A, EAST, "main"),
    ]
    text = render(results)
    assert text == render(list(reversed(results)))
    assert text == (
        '{\n  "kind": "backupguard-baseline",\n  "version": 1,\n  "findings": [\n'
        f'    {{"fingerprint": "BG201-{A}-{EAST}-main", "rule_id": "BG201", "resource_id": "arn:aws:backup:{EAST}:{A}:'
        f'backup-vault:main", "file": null, "account_id": "{A}", "region": "{EAST}"}},\n'
        '    {"fingerprint": "f2", "rule_id": "BG101", "resource_id": "P", "file": "a.yaml"},\n'
        '    {"fingerprint": "f1", "rule_id": "BG201", "resource_id": "Z", "file": "b.yaml"}\n  ]\n}\n'
    )
    assert render([]) == '{\n  "kind": "backupguard-baseline",\n  "version": 1,\n  "findings": []\n}\n'


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not a baseline or JSON result document"),
    ('{"kind": "backupguard-baseline", "version": 2, "findings": []}', "baseline version 2 is not supported"),
    ('{"kind": "backupguard-baseline", "version": 1, "findings": [{"rule_id": "BG201"}]}', "findings[0] needs a 'fingerprint'"),
    ('{"kind": "backupguard-baseline", "version": 1, "findings": [{"fingerprint": "x", "file": 3}]}', "findings[0].file must be"),
    ('{"schema_version": 1, "results": "junk"}', "not a valid result document"),
    ("[1, 2]", "not a baseline (written by `backupguard baseline`) or a JSON result document"),
])
def test_a_bad_baseline_is_a_usage_error(tmp_path, content, message):
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(BaselineError, match=None) as caught:
        read(path)
    assert message in str(caught.value) and str(path) in str(caught.value)
    template = tmp_path / "vault.yaml"
    template.write_text(VAULT)
    run = lint(str(template), "--baseline", str(path))
    assert run.exit_code == 2 and message in run.stderr


def test_fixed_counts_only_rules_that_ran_in_files_that_were_read():
    now = [Result("BG201", "fail", "medium", "V", None, "a.yaml", 1, 1, "m", fingerprint="kept")]
    baseline = Baseline("b.json", {e.fingerprint: e for e in [
        Entry("kept", "BG201", "V", "a.yaml"), Entry("fixed", "BG201", "W", "a.yaml"),
        Entry("other-rule", "BG301", "T", "a.yaml"), Entry("other-file", "BG201", "X", "elsewhere.yaml"),
        Entry("live-read", "BG201", "arn", None, A, EAST), Entry("live-unread", "BG201", "arn", None, B, EAST),
    ]})
    accepted = apply(now + [live("BG201", A, WEST, "x", "pass")], [], [], RULES, {"BG201"}, date(2025, 6, 1), baseline,
                     files=["a.yaml"])
    assert [e.fingerprint for e in accepted.fixed] == ["live-read", "fixed"]
    assert [r.baseline for r in accepted.results] == [None, "unchanged"]  # the live pass has no state


def test_merging_documents_unites_fixed_findings_less_those_failing_again():
    def doc(fixed: list[str], failing: list[str]) -> dict:
        results = [Result("BG201", "fail", "medium", fp, None, "a.yaml", 1, 1, "m", fingerprint=fp, baseline="unchanged")
                   for fp in failing]
        scan = {"paths": ["a"], "baseline": {"path": "b.json", "findings": 4,
                                              "fixed": [{"fingerprint": fp, "rule_id": "BG201"} for fp in fixed]}}
        return json.loads(render_document(document(results, [], scan, [])))

    merged = merge([doc(["x", "y"], ["z"]), doc(["z"], ["y"])])
    assert [f["fingerprint"] for f in merged["scan"]["baseline"]["fixed"]] == ["x"]
    assert merged["summary"]["baseline"] == {"new": 0, "unchanged": 2, "fixed": 1}
    assert merge([doc(["z"], ["y"]), doc(["x", "y"], ["z"])]) == merged


# ---------------------------------------------------------------------------------------------
# documentation


@pytest.mark.parametrize("rule_id", sorted(META_RULES))
def test_the_suppression_rules_pages_are_current(rule_id):
    assert (DOCS / f"{rule_id}.md").read_text("utf-8") == meta_page(META_RULES[rule_id])
    assert rule_id not in RULES  # reserved: never a catalogue rule


def test_parse_waivers_without_lines_still_works():
    (waiver,) = parse_waivers([{"rule": "BG201", "reason": " two  words "}], "cfg")
    assert waiver.reason == "two words" and waiver.line is None and waiver.describe() == "waiver for BG201"
    assert InlineSuppression("BG201", "r", Origin("f")).lines is None
