"""Issue 11's acceptance test: a team adopts backupguard on an estate with findings.

The estate (``fixtures/adoption``) is a CloudFormation template and a Terraform root module with
every kind of suppression: backupguard's and Checkov's Metadata shapes, a ``# backupguard:skip``
comment above a block and a ``#checkov:skip`` comment inside one, a config waiver (with owner,
ticket and a future expiry), a waiver that has expired, a stale waiver and a stale inline
suppression; ``invalid/`` holds suppressions that cannot be honoured. Then a baseline is written,
the estate changes (one finding fixed, one new), and only the new finding fails.

Each run goes through the CLI, in the estate's folder, with ``BACKUPGUARD_TODAY`` fixed.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "adoption"
TODAY = "2025-06-01"  # the BG301 waiver expired on 2025-01-31; the BG101 one runs to 2030-12-31
runner = CliRunner()

LEGACY_REASON = "Encrypted with aws/backup until the 2027 migration (OPS-101)"
ARCHIVE_REASON = "Archive copies are re-encrypted by the archive account (OPS-102)"
TF_LEGACY_REASON = "Shared vault of the old platform, retired with OPS-201"
EVENTS_REASON = "Events are replayed from the stream archive (OPS-202)"
DAILY_REASON = "Development plan; 7 days agreed with the data owner"

# (rule, status, resource, file, line, suppression kind): every result of the estate, in document order.
EXPECTED = [
    ("BG002", "fail", None, "backupguard.yaml", 10, None),  # the expired BG301 waiver
    ("BG003", "fail", None, "backupguard.yaml", 16, None),  # the waiver for a vault that does not exist
    ("BG201", "pass", "MainVault", "cfn/vaults.yaml", 13, None),  # at its KmsKeyArn
    ("BG201", "fail", "LegacyVault", "cfn/vaults.yaml", 15, "inline"),
    ("BG201", "fail", "ArchiveVault", "cfn/vaults.yaml", 25, "inline"),
    ("BG201", "fail", "ScratchVault", "cfn/vaults.yaml", 35, None),
    ("BG003", "fail", "SessionsTable", "cfn/vaults.yaml", 45, None),  # its suppression of a passing rule
    ("BG301", "pass", "SessionsTable", "cfn/vaults.yaml", 57, None),  # at PointInTimeRecoveryEnabled
    ("BG201", "fail", "aws_backup_vault.legacy", "tf/main.tf", 2, "inline"),
    ("BG301", "fail", "aws_dynamodb_table.events", "tf/main.tf", 6, "inline"),
    ("BG301", "fail", "aws_dynamodb_table.orders", "tf/main.tf", 18, None),  # its waiver expired
    ("BG101", "fail", "aws_backup_plan.daily", "tf/main.tf", 38, "waiver"),  # at delete_after
]
# The unsuppressed failures: what fails the run, and what a baseline accepts.
FAILING = [(rule, resource, file) for rule, status, resource, file, _, kind in EXPECTED if status == "fail" and not kind]


@pytest.fixture
def estate(tmp_path, monkeypatch):
    """A copy of the fixture, as the working directory, with today's date fixed."""
    root = tmp_path / "estate"
    shutil.copytree(FIXTURE, root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("BACKUPGUARD_TODAY", TODAY)
    return root


def lint(*args: str):
    return runner.invoke(app, ["lint", "cfn", "tf", "--config", "backupguard.yaml", *args])


def rows(doc: dict) -> list[tuple]:
    return [(r["rule_id"], r["status"], r["resource_id"], r["file"], r["line"], (r["suppression"] or {}).get("kind"))
            for r in doc["results"]]


def test_every_kind_of_suppression_gives_exactly_the_expected_results(estate):
    run = lint("-f", "json")
    assert run.exit_code == 1, run.output  # ScratchVault, orders, the expired and stale findings
    doc = json.loads(run.stdout)
    assert rows(doc) == EXPECTED
    by_resource = {(r["rule_id"], r["resource_id"]): r for r in doc["results"]}

    # Each suppression says what it is, why, and where it is declared.
    assert by_resource[("BG201", "LegacyVault")]["suppression"] == {
        "kind": "inline", "reason": LEGACY_REASON, "owner": None, "ticket": None, "expires": None,
        "file": "cfn/vaults.yaml", "line": 20}
    assert by_resource[("BG201", "ArchiveVault")]["suppression"]["reason"] == ARCHIVE_REASON  # Checkov's comment
    assert by_resource[("BG201", "aws_backup_vault.legacy")]["suppression"] == {
        "kind": "inline", "reason": TF_LEGACY_REASON, "owner": None, "ticket": None, "expires": None,
        "file": "tf/main.tf", "line": 1}
    assert by_resource[("BG301", "aws_dynamodb_table.events")]["suppression"]["line"] == 7  # the comment inside
    assert by_resource[("BG101", "aws_backup_plan.daily")]["suppression"] == {
        "kind": "waiver", "reason": DAILY_REASON, "owner": "platform-team", "ticket": "OPS-301",
        "expires": "2030-12-31", "file": "backupguard.yaml", "line": 4}

    # The findings about suppressions name them.
    expired = by_resource[("BG002", None)]
    assert expired["severity"] == "low"
    assert expired["message"].startswith("waiver for BG301 (resource 'aws_dynamodb_table.orders') expired on 2025-01-31 "
                                         "(owner orders-team, ticket OPS-302): the finding it covered fails again")
    assert expired["values"] == {"rule": "BG301", "reason": "Point-in-time recovery comes with the schema migration",
                                 "owner": "orders-team", "ticket": "OPS-302", "expires": "2025-01-31", "matched": 1,
                                 "kind": "waiver"}
    stale_waiver = by_resource[("BG003", None)]
    assert stale_waiver["severity"] == "info" and "RetiredVault" in stale_waiver["message"]
    stale_inline = by_resource[("BG003", "SessionsTable")]
    assert stale_inline["message"].startswith("inline suppression of dynamodb-pitr-enabled matches no failing")
    assert {r["id"] for r in doc["rules"]} == {"BG002", "BG003", "BG101", "BG201", "BG301"}  # check: and the meta rules

    assert doc["summary"]["waived"] == 5 and doc["summary"]["suppressed"] == {"inline": 4, "waiver": 1}
    assert doc["summary"]["failing_by_severity"] == {"critical": 0, "high": 0, "medium": 2, "low": 1, "info": 2}
    assert "baseline" not in doc["summary"] and all(r["baseline"] is None for r in doc["results"])


def test_exit_codes_follow_the_unsuppressed_findings(estate):
    assert lint().exit_code == 1
    assert lint("--fail-on", "medium").exit_code == 1  # ScratchVault and orders are medium
    assert lint("--fail-on", "high").exit_code == 0  # the only high finding (BG101) is waived
    assert lint("--skip-check", "BG201,BG301", "--fail-on", "info").exit_code == 0  # only BG101 runs: waived
    # When the waiver had not expired yet, orders was waived: the findings left are ScratchVault's and the stale ones.
    early = runner.invoke(app, ["lint", "cfn", "tf", "--config", "backupguard.yaml", "-f", "json"],
                          env={"BACKUPGUARD_TODAY": "2025-01-31"})
    doc = json.loads(early.stdout)
    assert early.exit_code == 1
    assert not [r for r in doc["results"] if r["rule_id"] == "BG002"]
    orders = next(r for r in doc["results"] if r["resource_id"] == "aws_dynamodb_table.orders")
    assert orders["suppression"]["expires"] == "2025-01-31"


def test_suppressed_results_stay_visible_in_sarif_junit_and_text(estate):
    run = lint("--output", "sarif=out.sarif", "--output", "junit=out.xml", "--output", "markdown=out.md",
               "--output", "text=out.txt")
    assert run.exit_code == 1
    text = Path("out.txt").read_text()
    assert (f"  15:3     SUPPRESSED medium   BG201  LegacyVault: vault 'legacy' is encrypted with the AWS managed key "
            f"aws/backup (EncryptionKeyArn not set), not a customer-managed key [inline: {LEGACY_REASON} "
            "(at cfn/vaults.yaml:20)]") in text.splitlines()
    assert (f"[waiver: {DAILY_REASON} (owner platform-team, ticket OPS-301, expires 2030-12-31, at backupguard.yaml:4)]"
            in text)
    assert text.count("SUPPRESSED") == 4 and text.count("WAIVED") == 1
    assert text.splitlines()[-1] == "2 files scanned, 12 results: 10 fail, 0 unknown, 0 error, 2 pass (1 waived, 4 suppressed inline)"

    sarif = json.loads(Path("out.sarif").read_text())["runs"][0]
    suppressions = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]):
                    [s["kind"] for s in r.get("suppressions", [])] for r in sarif["results"]}
    assert suppressions == {
        ("BG002", 10): [], ("BG003", 16): [], ("BG201", 15): ["inSource"], ("BG201", 25): ["inSource"],
        ("BG201", 35): [], ("BG003", 45): [], ("BG201", 2): ["inSource"], ("BG301", 6): ["inSource"],
        ("BG301", 18): [], ("BG101", 38): ["external"],
    }
    legacy = next(r for r in sarif["results"] if r["ruleId"] == "BG201" and r.get("suppressions")
                  and r["locations"][0]["physicalLocation"]["region"]["startLine"] == 15)
    assert legacy["suppressions"] == [{"kind": "inSource", "status": "accepted", "justification": LEGACY_REASON}]
    assert not any("baselineState" in r for r in sarif["results"])
    meta = {rule["id"]: rule for rule in sarif["tool"]["driver"]["rules"] if rule["id"] in ("BG002", "BG003")}
    assert meta["BG002"]["name"] == "expired-waiver" and "security-severity" not in meta["BG002"]["properties"]
    assert meta["BG003"]["helpUri"].endswith("docs/rules/BG003.md")

    cases = {(case.get("classname"), case.get("name")): case for case in ET.parse("out.xml").getroot().iter("testcase")}
    skipped = {key: case.find("skipped").get("message") for key, case in cases.items() if case.find("skipped") is not None}
    assert skipped == {
        ("BG201", "cfn/vaults.yaml:15 LegacyVault"):
            f"suppressed inline: {LEGACY_REASON} (was fail: vault 'legacy' is encrypted with the AWS managed key "
            "aws/backup (EncryptionKeyArn not set), not a customer-managed key)",
        ("BG201", "cfn/vaults.yaml:25 ArchiveVault"): skipped[("BG201", "cfn/vaults.yaml:25 ArchiveVault")],
        ("BG201", "tf/main.tf:2 aws_backup_vault.legacy"): skipped[("BG201", "tf/main.tf:2 aws_backup_vault.legacy")],
        ("BG301", "tf/main.tf:6 aws_dynamodb_table.events"): skipped[("BG301", "tf/main.tf:6 aws_dynamodb_table.events")],
        ("BG101", "tf/main.tf:38 aws_backup_plan.daily"): skipped[("BG101", "tf/main.tf:38 aws_backup_plan.daily")],
    }
    assert skipped[("BG101", "tf/main.tf:38 aws_backup_plan.daily")].startswith(f"waived: {DAILY_REASON} (was fail: ")
    failures = sorted(key for key, case in cases.items() if case.find("failure") is not None)
    assert failures == [("BG002", "backupguard.yaml:10"), ("BG003", "backupguard.yaml:16"),
                        ("BG003", "cfn/vaults.yaml:45 SessionsTable"), ("BG201", "cfn/vaults.yaml:35 ScratchVault"),
                        ("BG301", "tf/main.tf:18 aws_dynamodb_table.orders")]

    markdown = Path("out.md").read_text()
    assert "#### Suppressed (5)" in markdown and "| BG101 | aws\\_backup\\_plan.daily | tf/main.tf:38 | waiver |" in markdown


def test_suppressions_that_cannot_be_honoured_are_located_errors(estate):
    run = runner.invoke(app, ["lint", "invalid", "--check", "BG201", "-f", "json"])
    assert run.exit_code == 2  # an error result, as for an unreadable file
    doc = json.loads(run.stdout)
    assert [(r["rule_id"], r["status"], r["resource_id"], r["line"], (r["suppression"] or {}).get("kind"))
            for r in doc["results"]] == [
        ("BG201", "fail", "aws_backup_vault.shared", 3, None),  # not suppressed: the suppression has no reason
        ("BG001", "error", "aws_backup_vault.shared", 4, None),
        ("BG201", "fail", "aws_backup_vault.typo", 8, None),
        ("BG001", "error", "aws_backup_vault.typo", 9, None),
        ("BG001", "error", None, 13, None),
        ("BG201", "fail", "aws_backup_vault.detached", 15, None),
    ]
    messages = [r["message"] for r in doc["results"] if r["rule_id"] == "BG001"]
    assert messages == [
        "the suppression of BG201 gives no reason (after the rule, or 'reason:' in Metadata): it is not honoured",
        "the suppression names no rule: no rule matches 'BG2O1' (did you mean BG201?)",
        "a suppression comment must be on the lines just above a resource, data or module block, or inside it",
    ]


def test_a_baseline_blocks_only_regressions_and_counts_what_was_fixed(estate):
    written = runner.invoke(app, ["baseline", "cfn", "tf", "--config", "backupguard.yaml", "-o", "baseline.json"])
    assert written.exit_code == 0, written.output
    assert "baseline of 5 findings written to baseline.json" in written.stderr
    baseline = json.loads(Path("baseline.json").read_text())
    assert baseline["kind"] == "backupguard-baseline" and baseline["version"] == 1
    assert [(f["rule_id"], f["resource_id"], f["file"]) for f in baseline["findings"]] == [
        ("BG002", None, "backupguard.yaml"), ("BG003", None, "backupguard.yaml"),
        ("BG003", "SessionsTable", "cfn/vaults.yaml"), ("BG201", "ScratchVault", "cfn/vaults.yaml"),
        ("BG301", "aws_dynamodb_table.orders", "tf/main.tf"),
    ]
    assert set(FAILING) == {(f["rule_id"], f["resource_id"], f["file"]) for f in baseline["findings"]}

    # The same estate against its baseline: everything is known, nothing fails.
    same = lint("--baseline", "baseline.json", "-f", "json")
    assert same.exit_code == 0, same.output
    doc = json.loads(same.stdout)
    assert doc["summary"]["baseline"] == {"new": 0, "unchanged": 5, "fixed": 0}
    states = {(r["rule_id"], r["resource_id"]): r["baseline"] for r in doc["results"]}
    assert states[("BG201", "ScratchVault")] == "unchanged"
    assert states[("BG201", "LegacyVault")] is None and states[("BG201", "MainVault")] is None  # suppressed; passes

    # One finding is fixed (ScratchVault gets a key) and one appears (a new vault without one).
    template = Path("cfn/vaults.yaml")
    text = template.read_text().replace("      BackupVaultName: scratch\n",
                                        "      BackupVaultName: scratch\n      EncryptionKeyArn: !GetAtt BackupKey.Arn\n")
    template.write_text(text + "\n  NewVault:\n    Type: AWS::Backup::BackupVault\n    Properties:\n      BackupVaultName: new\n")
    changed = lint("--baseline", "baseline.json", "--output", "json=results.json", "--output", "sarif=out.sarif",
                   "--output", "junit=out.xml")
    assert changed.exit_code == 1
    doc = json.loads(Path("results.json").read_text())
    assert [(r["rule_id"], r["resource_id"], r["baseline"]) for r in doc["results"]
            if r["status"] == "fail" and not r["suppression"]] == [
        ("BG002", None, "unchanged"), ("BG003", None, "unchanged"), ("BG003", "SessionsTable", "unchanged"),
        ("BG201", "NewVault", "new"), ("BG301", "aws_dynamodb_table.orders", "unchanged"),
    ]
    assert doc["summary"]["baseline"] == {"new": 1, "unchanged": 4, "fixed": 1}
    assert doc["summary"]["failing_by_severity"]["medium"] == 1  # only NewVault fails the run
    assert [(f["rule_id"], f["resource_id"]) for f in doc["scan"]["baseline"]["fixed"]] == [("BG201", "ScratchVault")]
    assert doc["scan"]["baseline"]["findings"] == 5

    sarif = json.loads(Path("out.sarif").read_text())["runs"][0]
    assert {r.get("baselineState") for r in sarif["results"]} == {"new", "unchanged", None}
    assert all(("baselineState" in r) != bool(r.get("suppressions")) for r in sarif["results"])
    new = [r for r in sarif["results"] if r.get("baselineState") == "new"]
    assert [r["locations"][0]["logicalLocations"][0]["name"] for r in new] == ["NewVault"]
    assert sarif["properties"]["summary"]["baseline"]["fixed"] == 1
    junit = ET.parse("out.xml").getroot()
    assert [case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None] == ["cfn/vaults.yaml:60 NewVault"]

    text = lint("--baseline", "baseline.json")
    assert text.exit_code == 1
    assert text.stdout.splitlines()[-1].endswith("; baseline: 1 new, 4 unchanged, 1 fixed")
    assert "FAIL    medium   BG201  NewVault: vault 'new'" in text.stdout and "[new]" in text.stdout

    # A JSON result document serves as a baseline too: the run above, saved, accepts NewVault.
    again = lint("--baseline", "results.json", "-f", "json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["summary"]["baseline"] == {"new": 0, "unchanged": 5, "fixed": 0}


def test_the_same_input_and_date_give_byte_identical_output(estate):
    runner.invoke(app, ["baseline", "cfn", "tf", "--config", "backupguard.yaml", "-o", "baseline.json"])
    outputs = []
    for _ in range(2):
        run = lint("--baseline", "baseline.json", "--output", "json=out.json", "--output", "sarif=out.sarif",
                   "--output", "junit=out.xml", "--output", "text=out.txt", "--output", "markdown=out.md")
        assert run.exit_code == 0
        outputs.append({name: Path(name).read_bytes() for name in ("out.json", "out.sarif", "out.xml", "out.txt", "out.md")})
        written = runner.invoke(app, ["baseline", "cfn", "tf", "--config", "backupguard.yaml"])
        outputs[-1]["baseline"] = written.stdout.encode()
    assert outputs[0] == outputs[1]
    assert outputs[0]["baseline"] == Path("baseline.json").read_bytes()
