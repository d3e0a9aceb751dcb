"""The user's own rules and frameworks (--rules-dir, --frameworks-dir, config rules_dir/frameworks_dir).

The worked example (examples/custom-rules) is linted as docs/custom-rules.md shows it; broken files
are refused with their file and line, and exit code 2.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "custom-rules"
RULE = EXAMPLE / "rules" / "ACME-101.yaml"
FRAMEWORK = EXAMPLE / "frameworks" / "acme-baseline.yaml"
CONTEXT = ["--region", "us-east-1", "--account-id", "111122223333"]
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def verdicts(doc: dict) -> dict[tuple[str, str], str]:
    return {(r["rule_id"], r["resource_id"]): r["status"] for r in doc["results"]}


def _lint_example(*extra: str) -> tuple[int, dict]:
    result = run("lint", EXAMPLE / "stacks", *CONTEXT, "-f", "json", *extra)
    return result.exit_code, json.loads(result.stdout)


def test_worked_example_with_options(tmp_path):
    code, doc = _lint_example("--rules-dir", EXAMPLE / "rules", "--frameworks-dir", EXAMPLE / "frameworks",
                              "--framework", "acme-baseline")
    assert code == 1
    found = verdicts(doc)
    assert found[("ACME-101", "AcmeScratchVault")] == "fail"
    assert found[("ACME-101", "AcmeMainVault")] == "pass"
    assert found[("BG201", "AcmeScratchVault")] == "fail"
    assert found[("BG402", "OrdersTable")] == "fail"  # env=prod: the control asks 90 days, the plan keeps 35
    assert ("BG402", "DevTable") not in found  # env=dev: outside the control's scope
    scratch = next(r for r in doc["results"] if r["rule_id"] == "ACME-101" and r["status"] == "fail")
    assert scratch["message"] == "vault 'acme-scratch' has tags none; required: backup:owner"
    orders = next(r for r in doc["results"] if r["rule_id"] == "BG402")
    assert "90 days" in orders["message"]
    controls = {c["id"]: c["status"] for c in doc["frameworks"][0]["controls"]}
    assert doc["frameworks"][0]["id"] == "acme-baseline"
    assert controls == {"ACME-1-OWNERSHIP": "fail", "ACME-2-ENCRYPTION": "fail", "ACME-3-PROD-RETENTION": "fail"}
    assert "ACME-101" in {r["id"] for r in doc["rules"]}


def test_worked_example_from_its_config(monkeypatch):
    """Run from the example's folder, its .backupguard.yaml adds the rules and frameworks and selects the framework."""
    monkeypatch.chdir(EXAMPLE)
    result = run("lint", "stacks", *CONTEXT, "-f", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert verdicts(doc)[("ACME-101", "AcmeScratchVault")] == "fail"
    assert [f["id"] for f in doc["frameworks"]] == ["acme-baseline"]
    # the same config and an option naming the same folder: read once, no "already used"
    assert run("lint", "stacks", *CONTEXT, "--rules-dir", "rules", "-f", "json").exit_code == 1


def test_custom_rule_without_a_framework_runs_with_the_catalogue_and_takes_params(tmp_path):
    code, doc = _lint_example("--rules-dir", EXAMPLE / "rules")
    found = verdicts(doc)
    assert found[("ACME-101", "AcmeMainVault")] == "pass" and found[("BG202", "AcmeMainVault")] == "fail"
    code, doc = _lint_example("--rules-dir", EXAMPLE / "rules", "--param", "ACME-101.required_tags=backup:owner,cost-centre")
    assert verdicts(doc)[("ACME-101", "AcmeMainVault")] == "fail"
    config = tmp_path / "c.yaml"
    config.write_text("parameters:\n  ACME-101:\n    required_tags: [env]\n"
                      "waivers:\n  - {rule: ACME-101, resource: AcmeScratchVault, reason: 'scratch space, deleted in May'}\n")
    code, doc = _lint_example("--rules-dir", EXAMPLE / "rules", "--config", config)
    scratch = next(r for r in doc["results"] if r["rule_id"] == "ACME-101" and r["resource_id"] == "AcmeScratchVault")
    assert scratch["status"] == "fail" and scratch["suppression"]["kind"] == "waiver"
    assert verdicts(doc)[("ACME-101", "AcmeMainVault")] == "fail"  # no env tag


@pytest.mark.parametrize("which", ["fail", "pass"])
def test_the_example_rules_own_examples_do_what_they_say(tmp_path, which):
    import yaml

    example = yaml.safe_load(RULE.read_text())["examples"][which]
    template = tmp_path / "t.yaml"
    template.write_text("Resources:\n" + "".join(f"  {line}\n" for line in example.splitlines()))
    result = run("lint", template, "--rules-dir", EXAMPLE / "rules", "-f", "json", "--fail-on", "never")
    assert {r["status"] for r in json.loads(result.stdout)["results"] if r["rule_id"] == "ACME-101"} == {which}


def test_unknown_tags_give_an_unknown_result(tmp_path):
    (tmp_path / "main.tf").write_text('variable "tags" {}\nresource "aws_backup_vault" "v" {\n  name = "v"\n  tags = var.tags\n}\n')
    result = run("lint", tmp_path, "--rules-dir", EXAMPLE / "rules", "-f", "json", "--fail-on", "never")
    acme = [r for r in json.loads(result.stdout)["results"] if r["rule_id"] == "ACME-101"]
    assert [r["status"] for r in acme] == ["unknown"]
    assert "tags" in acme[0]["message"]


def test_listing_commands_show_the_users_rules_and_frameworks():
    listed = run("rules", "--rules-dir", EXAMPLE / "rules")
    assert listed.exit_code == 0 and "ACME-101  medium   Backup vault names the team that owns it" in listed.stdout
    as_json = json.loads(run("rules", "--rules-dir", EXAMPLE / "rules", "-f", "json").stdout)
    assert as_json[-1]["id"] == "ACME-101" and as_json[-1]["parameters"]["required_tags"]["default"] == ["backup:owner"]
    page = run("explain", "acme-101", "--rules-dir", EXAMPLE / "rules")
    assert page.exit_code == 0 and page.stdout.startswith("ACME-101: vault-has-owner-tag\n=====")
    assert run("explain", "vault-has-owner-tag", "--rules-dir", EXAMPLE / "rules").exit_code == 0
    assert run("explain", "ACME-101").exit_code == 2  # not without its folder
    frameworks = run("frameworks", "--rules-dir", EXAMPLE / "rules", "--frameworks-dir", EXAMPLE / "frameworks")
    assert frameworks.exit_code == 0 and "acme-baseline  ACME backup standard" in frameworks.stdout
    assert "  ACME-1-OWNERSHIP: ACME-101" in frameworks.stdout
    for command in ("lint", "scan", "rules", "explain", "frameworks"):
        assert "--rules-dir" in run(command, "--help").stdout


def test_reports_link_a_users_rule_to_its_own_source(tmp_path):
    sarif, html = tmp_path / "r.sarif", tmp_path / "r.html"
    run("lint", EXAMPLE / "stacks", "--rules-dir", EXAMPLE / "rules", "-o", f"sarif={sarif}", "-o", f"html={html}")
    rules = {r["id"]: r for r in json.loads(sarif.read_text())["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["ACME-101"]["helpUri"] == "https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-vault.html"
    assert rules["BG201"]["helpUri"].endswith("/docs/rules/BG201.md")
    page = html.read_text()
    assert "docs/rules/BG201.md" in page and "docs/rules/ACME-101.md" not in page


# -- broken files: file, line, field; exit 2 --------------------------------------------------------


def _broken_rule(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    text = RULE.read_text()
    assert old in text
    (folder / "mine.yaml").write_text(text.replace(old, new, 1))
    return folder


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("severity: medium", "severity: urgent", 6, "field 'severity': 'urgent' is not one of"),
        ("id: ACME-101", "id: acme_101", 3, "field 'id': 'acme_101' does not match"),
        ("id: ACME-101", "id: BG101", 3, "field 'id': BG101: IDs that start with BG are reserved"),
        ("id: ACME-101", "id: BG-101", 3, "field 'id': BG-101: IDs that start with BG are reserved"),
        ("name: vault-has-owner-tag", "name: vault-encrypted-with-cmk", 4,
         "field 'name': vault-encrypted-with-cmk is already used by backupguard's rule BG201"),
        ("condition: all_in(", "condition: all_in((", 26, "field 'condition': invalid JMESPath"),
        ("  tag_keys: keys(tags)", "  tag_keys: keys(tags\n", 25, "field 'inputs/tag_keys': invalid JMESPath"),
        ("  fail: \"vault", "  fail: \"{nope} vault", 29, "field 'message/fail': placeholder '{nope}'"),
        ("    default: [\"backup:owner\"]", "    default: {a: 1}", 21, "field 'parameters/required_tags/default'"),
        ("subject: backup_vault", "subject: bucket", 7, "field 'subject': 'bucket' is not one of"),
        ("examples:", "extra: 1\nexamples:", None, "'extra' was unexpected"),
        ("title: Backup", "title: &t Backup", 5, "YAML anchors and aliases are not allowed"),
        ("inputs:", "inputs: [", 25, "not valid YAML"),
    ],
)
def test_a_broken_rule_file_is_refused_with_file_and_line(tmp_path, old, new, line, message):
    folder = _broken_rule(tmp_path, old, new)
    for args in (["rules", "--rules-dir", folder], ["lint", EXAMPLE / "stacks", "--rules-dir", folder]):
        result = run(*args)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"backupguard: error: {folder / 'mine.yaml'}:"), result.stderr
        assert message in result.stderr
        if line is not None:
            assert re.match(rf"backupguard: error: .*mine\.yaml:{line}: ", result.stderr), result.stderr


def test_duplicate_ids_across_folders_and_missing_or_empty_folders(tmp_path):
    first, second, empty = tmp_path / "a", tmp_path / "b", tmp_path / "empty"
    for folder in (first, second, empty):
        folder.mkdir()
    shutil.copy(RULE, first / "ACME-101.yaml")
    shutil.copy(RULE, second / "copy.yml")
    result = run("rules", "--rules-dir", first, "--rules-dir", second)
    assert result.exit_code == 2
    assert result.stderr == f"backupguard: error: {second / 'copy.yml'}:3: field 'id': ACME-101 is already used by {first / 'ACME-101.yaml'}\n"
    assert run("rules", "--rules-dir", tmp_path / "nope").stderr == f"backupguard: error: --rules-dir {tmp_path / 'nope'}: no such folder\n"
    assert "no *.yaml or *.yml files in this folder" in run("rules", "--rules-dir", empty).stderr
    assert run("rules", "--rules-dir", first / "ACME-101.yaml").exit_code == 0  # one file is fine too
    big = tmp_path / "big"
    big.mkdir()
    (big / "r.yaml").write_text("# " + "x" * 300_000)
    assert "larger than 256 KiB" in run("rules", "--rules-dir", big).stderr


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("rule: ACME-101", "rule: ACME-999", 14, "field 'controls/0/rules/0/rule': rule ACME-999 does not exist"),
        ("required_retention_days: 90", "required_retention_days: -4", 25,
         "parameter 'required_retention_days' must be at least 1"),
        ("required_retention_days: 90", "retention: 90", 25, "rule BG402 has no parameter 'retention'"),
        ("id: acme-baseline", "id: pci-dss-4", 3, "field 'id': pci-dss-4 is already used by backupguard"),
        ("    title: Every backup vault names its owner\n", "", 10, "'title' is a required property"),
    ],
)
def test_a_broken_framework_file_is_refused_with_file_and_line(tmp_path, old, new, line, message):
    folder = tmp_path / "frameworks"
    folder.mkdir()
    text = FRAMEWORK.read_text()
    assert old in text
    (folder / "fw.yaml").write_text(text.replace(old, new, 1))
    result = run("lint", EXAMPLE / "stacks", "--rules-dir", EXAMPLE / "rules", "--frameworks-dir", folder)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"backupguard: error: {folder / 'fw.yaml'}:{line}: "), result.stderr
    assert message in result.stderr


def test_a_framework_cannot_map_a_users_rule_it_was_not_given():
    result = run("frameworks", "--frameworks-dir", EXAMPLE / "frameworks")
    assert result.exit_code == 2 and "rule ACME-101 does not exist" in result.stderr


def test_config_folders_must_stay_inside_the_config_folder(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(RULE, tmp_path / "elsewhere" / "r.yaml")
    (repo / "link").symlink_to(tmp_path / "elsewhere")
    monkeypatch.chdir(repo)
    for value in ("../elsewhere", "link", str(tmp_path / "elsewhere")):
        (repo / ".backupguard.yaml").write_text(f"rules_dir: [{json.dumps(value)}]\n")
        result = run("rules")
        assert result.exit_code == 2
        assert f"'rules_dir' {value!r} is outside the config file's folder" in result.stderr
    (repo / ".backupguard.yaml").write_text("frameworks_dir: 3\n")
    assert "'frameworks_dir' must be a folder or a list of folders" in run("frameworks").stderr
    # the same folder named on the command line is the user's own choice
    assert run("rules", "--rules-dir", tmp_path / "elsewhere", "--config", "/dev/null").exit_code == 0
    # a file in a rules folder that links out of it is refused (the folder may come from the change under review)
    (repo / "rules").mkdir()
    (repo / "rules" / "r.yaml").symlink_to(tmp_path / "elsewhere" / "r.yaml")
    result = run("rules", "--rules-dir", repo / "rules", "--config", "/dev/null")
    assert result.exit_code == 2 and "a symbolic link to a file outside" in result.stderr


# -- docs/custom-rules.md ---------------------------------------------------------------------------


def test_documented_facts_exist():
    """Every fact the guide's tables name is a fact of that subject (the tables cannot drift from the resolver)."""
    from backupguard.resolve import subjects
    from backupguard.scanner import ScanOptions, scan
    from backupguard.scanner.cloudformation import CfnOptions

    estate = scan([ROOT / "examples"], ScanOptions(cfn=CfnOptions({}, "us-east-1", "111122223333")))
    facts = {kind: set().union(*(s.facts for s in found)) for kind, found in subjects(estate).items() if found}
    guide = (ROOT / "docs" / "custom-rules.md").read_text("utf-8")
    documented = re.findall(r"^\| `([a-z_]+)` \| `([a-z_]+)` \|", guide, re.MULTILINE)
    assert len(documented) >= 20
    missing = [(kind, name) for kind, name in documented if name not in facts.get(kind, set())]
    assert not missing
