"""``backupguard drift`` end to end: an account deployed from the bundled example (moto, plus canned
answers validated against the service models for what moto lacks), compared before and after a
console user's edits; and the matching strategies, defaults and guards one by one."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytest.importorskip("boto3")
pytest.importorskip("moto")

from moto import mock_aws  # noqa: E402

from backupguard import pipeline  # noqa: E402
from backupguard.estate import Reference, Unknown  # noqa: E402
from backupguard.scanner import ScanOptions, scan  # noqa: E402
from backupguard.scanner.aws import readonly  # noqa: E402
from backupguard.scanner.aws.drift_source import LiveDriftSource  # noqa: E402
from backupguard.scanner.cloudformation import CfnOptions  # noqa: E402
from backupguard.scanner.paths import scan_root  # noqa: E402
from live_fakes import Canned, CannedConnector, error  # noqa: E402

ACCOUNT, REGION = "123456789012", "eu-west-1"
EXAMPLE = Path(__file__).parent.parent / "examples" / "drift" / "backup.yaml"
STACK = "backup"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"
# What the example's resource assignments are in the account (AWS Backup's own shape).
EMPTY = {
    ("backup", "GetBackupVaultNotifications"): error("ResourceNotFoundException", status=404),
    ("backup", "ListRecoveryPointsByBackupVault"): {"RecoveryPoints": []},
    ("backup", "ListProtectedResources"): {"Results": []},
    ("backup", "DescribeRegionSettings"): {"ResourceTypeOptInPreference": {}},
    ("backup", "DescribeGlobalSettings"): error("InvalidRequestException"),
    ("backup", "ListFrameworks"): {"Frameworks": []},
    ("backup", "ListRestoreTestingPlans"): {"RestoreTestingPlans": []},
    ("storagegateway", "ListGateways"): {"Gateways": []},
}


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


class Account:
    """One account and Region as the console shows it: vaults, locks, plan IDs and tags in moto; plan
    bodies, selections, access policies and the stack's resources (which moto does not keep) here,
    answered through canned responses."""

    def __init__(self, canned: Canned):
        import boto3

        self.backup = boto3.client("backup", REGION)
        self.kms = boto3.client("kms", REGION)
        self.plans: dict[str, dict] = {}  # plan ID -> BackupPlan body (GetBackupPlan)
        self.selections: dict[str, dict[str, dict]] = {}  # plan ID -> selection ID -> BackupSelection
        self.policies: dict[str, str] = {}  # vault name -> access policy text
        self.stack: list[dict] = []  # ListStackResources summaries
        self.tags: dict[str, dict[str, str]] = {}  # resource ARN -> its live tags (GetResources)
        self.canned = canned
        canned.on(ACCOUNT, REGION, "resourcegroupstaggingapi", "GetResources", lambda p: {"ResourceTagMappingList": [
            {"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in sorted(self.tags[arn].items())]}
            for arn in p.get("ResourceARNList", []) if arn in self.tags]})
        canned.on(ACCOUNT, REGION, "backup", "GetBackupPlan", lambda p: {
            "BackupPlanId": p["BackupPlanId"], "BackupPlan": self.plans[p["BackupPlanId"]]})
        canned.on(ACCOUNT, REGION, "backup", "ListBackupSelections", lambda p: {"BackupSelectionsList": [
            {"SelectionId": sid, "SelectionName": body["SelectionName"], "BackupPlanId": p["BackupPlanId"]}
            for sid, body in sorted(self.selections.get(p["BackupPlanId"], {}).items())]})
        canned.on(ACCOUNT, REGION, "backup", "GetBackupSelection", lambda p: {
            "BackupPlanId": p["BackupPlanId"], "SelectionId": p["SelectionId"],
            "BackupSelection": self.selections[p["BackupPlanId"]][p["SelectionId"]]})
        canned.on(ACCOUNT, REGION, "backup", "GetBackupVaultAccessPolicy", lambda p: {
            "BackupVaultName": p["BackupVaultName"], "Policy": self.policies[p["BackupVaultName"]]}
            if p["BackupVaultName"] in self.policies else error("ResourceNotFoundException", status=404))
        canned.on(ACCOUNT, REGION, "cloudformation", "ListStackResources", lambda p: {"StackResourceSummaries": [
            {**r, "LastUpdatedTimestamp": NOW, "ResourceStatus": "CREATE_COMPLETE"} for r in self.stack]}
            if p["StackName"] == STACK else error("ValidationError", f"Stack with id {p['StackName']} does not exist"))
        for (service, operation), answer in EMPTY.items():
            canned.on("*", "*", service, operation, answer)

    def create_plan(self, body: dict) -> str:
        """A plan as AWS stores it: the API fills in the defaults the request leaves out."""
        stored = copy.deepcopy(body)
        for rule in stored["Rules"]:
            rule.setdefault("ScheduleExpression", "cron(0 5 ? * * *)")
            rule.setdefault("ScheduleExpressionTimezone", "Etc/UTC")
            rule.setdefault("StartWindowMinutes", 480)
            rule.setdefault("CompletionWindowMinutes", 10080)
        plan_id = self.backup.create_backup_plan(BackupPlan={
            "BackupPlanName": body["BackupPlanName"],
            "Rules": [{"RuleName": r["RuleName"], "TargetBackupVaultName": r["TargetBackupVaultName"]} for r in body["Rules"]],
        })["BackupPlanId"]
        self.plans[plan_id] = stored
        self.selections[plan_id] = {}
        return plan_id

    def deploy(self, estate) -> None:
        """Create what the code estate declares, as ``aws cloudformation deploy`` would."""
        physical: dict[str, str] = {}
        key = self.kms.create_key()["KeyMetadata"]
        physical["BackupKey"] = key["KeyId"]
        self.stack.append({"LogicalResourceId": "BackupKey", "PhysicalResourceId": key["KeyId"], "ResourceType": "AWS::KMS::Key"})
        for vault in estate.vaults:
            self.backup.create_backup_vault(BackupVaultName=vault.name, EncryptionKeyArn=key["Arn"])
            lock = vault.lock
            self.backup.put_backup_vault_lock_configuration(
                BackupVaultName=vault.name, MinRetentionDays=lock.min_retention_days,
                MaxRetentionDays=lock.max_retention_days, ChangeableForDays=lock.changeable_for_days)
            self.policies[vault.name] = json.dumps(vault.access_policy)
            physical[vault.resource_id] = vault.name
            self.stack.append({"LogicalResourceId": vault.resource_id, "PhysicalResourceId": vault.name,
                               "ResourceType": "AWS::Backup::BackupVault"})
        for plan in estate.plans:
            rules = []
            for rule in plan.rules:
                target = physical[rule.target_vault.target] if isinstance(rule.target_vault, Reference) else rule.target_vault
                body = {"RuleName": rule.name, "TargetBackupVaultName": target, "ScheduleExpression": rule.schedule}
                if rule.lifecycle is not None:
                    body["Lifecycle"] = {"DeleteAfterDays": rule.lifecycle.delete_after_days}
                rules.append(body)
            plan_id = self.create_plan({"BackupPlanName": plan.name, "Rules": rules})
            physical[plan.resource_id] = plan_id
            self.stack.append({"LogicalResourceId": plan.resource_id, "PhysicalResourceId": plan_id,
                               "ResourceType": "AWS::Backup::BackupPlan"})
        tables = {}
        for resource in estate.resources:  # the example's tables: their physical ID is their name
            tables[resource.resource_id] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{resource.name}"
            self.stack.append({"LogicalResourceId": resource.resource_id, "PhysicalResourceId": resource.name,
                               "ResourceType": resource.resource_type})
        for number, selection in enumerate(estate.selections, start=1):
            plan_id = physical[selection.plan_ref.target]
            selection_id = f"{number:08d}-aaaa-bbbb-cccc-dddddddddddd"
            body = {"SelectionName": selection.name, "IamRoleArn": selection.iam_role_arn}
            if selection.resources:
                body["Resources"] = [tables[r.target] if isinstance(r, Reference) else r for r in selection.resources]
            if selection.list_of_tags:
                body["ListOfTags"] = [{"ConditionType": t.operator, "ConditionKey": t.key, "ConditionValue": t.value}
                                      for t in selection.list_of_tags]
            self.selections[plan_id][selection_id] = body
            self.stack.append({"LogicalResourceId": selection.resource_id, "PhysicalResourceId": selection_id,
                               "ResourceType": "AWS::Backup::BackupSelection"})

    def plan_id(self, name: str) -> str:
        return next(pid for pid, body in self.plans.items() if body["BackupPlanName"] == name)

    def selection(self, plan: str, name: str) -> tuple[str, str]:
        """(plan ID, selection ID) of a plan's selection, by names."""
        plan_id = self.plan_id(plan)
        return plan_id, next(sid for sid, body in self.selections[plan_id].items() if body["SelectionName"] == name)


def _code(path: Path = EXAMPLE, **cfn):
    return scan([path], ScanOptions(cfn=CfnOptions(region=REGION, account_id=ACCOUNT, **cfn)))


def _drift(account_setup, paths=(EXAMPLE,), stacks=(STACK,), plan_json=None, calls=None, show=None):
    """Deploy, let ``account_setup`` edit the account, then run the drift pipeline; the results and the calls made."""
    made: set[tuple[str, str]] = set() if calls is None else calls
    from moto.moto_api._internal import mock_random

    with mock_aws():
        mock_random.seed(13)  # the IDs moto makes up (plans, keys) are the same in every run
        canned = Canned()
        account = Account(canned)
        account_setup(account)
        connector = CannedConnector(canned, home_region=REGION, observer=lambda service, op: made.add((service, op)))
        source = LiveDriftSource(region=REGION, stacks=tuple(stacks), connector=connector, as_of=NOW)
        run = pipeline.settings(None, [], [], drift=True)
        options = ScanOptions(root=scan_root(list(paths), None))
        outcome = pipeline.drift(list(paths), run, options, source, {"paths": [str(p) for p in paths]}, show,
                                 plan_json=plan_json)
    return outcome, made


def _deployed(account: Account) -> None:
    account.deploy(_code())


def _line(text: str) -> int:
    """The line of the example that holds ``text``."""
    return next(number for number, line in enumerate(EXAMPLE.read_text().splitlines(), start=1) if text in line)


def _plan_arn(outcome, name: str) -> str:
    return next(r.arn for r in outcome.results if r.rule_id == "BG701" and r.values.get("plan") == name)


def test_a_fresh_deployment_has_no_drift_even_where_aws_filled_in_defaults():
    outcome, calls = _drift(_deployed)
    assert [r for r in outcome.results if r.status != "pass"] == []
    verdicts = sorted((r.rule_id, r.resource_id, r.values.get("match")) for r in outcome.results)
    stack = lambda logical: f"CloudFormation stack '{STACK}' (logical ID {logical})"  # noqa: E731
    assert verdicts == [
        ("BG701", "Plan", stack("Plan")),
        ("BG702", "InvoicesTable", stack("InvoicesTable")),
        ("BG702", "OrdersTable", stack("OrdersTable")), ("BG702", "TaggedResources", stack("TaggedResources")),
        ("BG704", "Vault", stack("Vault")),
        ("BG706", "Invoices", stack("Invoices")),  # the table the code protects is selected in the account
    ]
    invoices = next(r for r in outcome.results if r.rule_id == "BG706")
    assert invoices.arn == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/invoices"
    assert "selected in the account by plan 'daily' (selection 'invoices'" in invoices.message
    # read-only: only allow-listed calls, and the drift-only ones among them (the effective policy only
    # when the code has Organizations policies: tests below)
    allowed = {(s, o) for s, ops in readonly.ALLOWED.items() for o in ops}
    effective = ("organizations", "DescribeEffectivePolicy")
    assert calls <= allowed and readonly.DRIFT_ONLY - {effective} <= calls and effective not in calls
    assert ("backup", "DescribeRegionSettings") in calls  # the opt-in tag selections depend on
    assert outcome.document["scan"]["kind"] == "drift" and outcome.document["scan"]["stacks"] == [STACK]


def _edited(account: Account) -> None:
    """Deployed, then changed in the console."""
    account.deploy(_code())
    daily = account.plan_id("daily")
    account.plans[daily]["Rules"][0]["Lifecycle"]["DeleteAfterDays"] = 7  # retention changed
    orders = next(sid for sid, body in account.selections[daily].items() if body["SelectionName"] == "orders")
    del account.selections[daily][orders]  # a selection deleted
    account.backup.delete_backup_vault_lock_configuration(BackupVaultName="main")  # the lock removed
    account.create_plan({"BackupPlanName": "adhoc", "Rules": [{"RuleName": "once", "TargetBackupVaultName": "main"}]})
    plan_id, invoices = account.selection("daily", "invoices")  # a resource replaced in a selection
    account.selections[plan_id][invoices]["Resources"] = [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/invoices-archive"]


def test_console_edits_are_exactly_the_drift_results_with_both_locations():
    outcome, _ = _drift(_edited)
    drifted = sorted((r.rule_id, r.status, r.resource_id, r.file, r.line, r.arn, r.message)
                     for r in outcome.results if r.status != "pass")
    vault_arn = f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:main"
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/invoices"
    daily, adhoc = _plan_arn(outcome, "daily"), next(r.arn for r in outcome.results if r.rule_id == "BG703")
    shown = EXAMPLE.name  # root-relative (the CLI shows it relative to the working directory)
    assert drifted == sorted([
        ("BG701", "fail", "Plan", shown, _line("DeleteAfterDays: 35"), daily,
         "backup plan 'daily' differs from the account: rule 'daily' retention (Lifecycle.DeleteAfterDays) is "
         "35 days in code, 7 days live"),
        ("BG702", "fail", "OrdersTable", shown, _line("  OrdersTable:"), daily,  # the plan it is missing from
         f"backup selection 'orders' differs from the account: it is not in account {ACCOUNT}, Region {REGION} "
         f"(looked up by CloudFormation stack '{STACK}' (logical ID OrdersTable))"),
        ("BG703", "fail", adhoc, None, 1, adhoc, "backup plan 'adhoc' is in the account but declared by no code"),
        ("BG704", "fail", "Vault", shown, _line("LockConfiguration:"), vault_arn,
         "backup vault 'main' differs from the account: Vault Lock (LockConfiguration) is set in code, absent live"),
        # the fifth edit: the selection differs, and what it costs: the table is no longer selected
        ("BG702", "fail", "InvoicesTable", shown, _line("  InvoicesTable:"),
         f"{daily}/selection/00000003-aaaa-bbbb-cccc-dddddddddddd",
         "backup selection 'invoices' differs from the account: Resources is 'invoices' in code, "
         f"'arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/invoices-archive' live"),
        ("BG706", "fail", "Invoices", shown, _line("  Invoices:"), table,
         "DynamoDB resource 'invoices' is protected in code by plan 'daily', but no backup plan in the account "
         f"selects {table} (matched by CloudFormation stack '{STACK}' (logical ID Invoices))"),
    ])
    assert adhoc.startswith(f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:") and adhoc != daily
    # both locations in every report: SARIF's primary location is the code, the ARN a related location
    from backupguard.reports.sarif import build

    sarif = build(outcome.document)["runs"][0]["results"]
    plan = next(r for r in sarif if r["ruleId"] == "BG701")
    assert plan["locations"][0]["physicalLocation"]["region"]["startLine"] == _line("DeleteAfterDays: 35")
    assert plan["relatedLocations"] == [{
        "id": 1, "message": {"text": f"in the account: {daily}"},
        "physicalLocation": plan["locations"][0]["physicalLocation"],
        "logicalLocations": [{"name": daily, "fullyQualifiedName": daily, "kind": "resource"}]}]
    assert (plan["properties"]["account_id"], plan["properties"]["region"], plan["properties"]["arn"]) == (ACCOUNT, REGION, daily)
    unmanaged = next(r for r in sarif if r["ruleId"] == "BG703")
    assert "physicalLocation" not in unmanaged["locations"][0] and "relatedLocations" not in unmanaged


def test_drift_output_is_deterministic():
    from backupguard.reports import stream

    first, _ = _drift(_edited)
    second, _ = _drift(_edited)
    for name in ("json", "sarif", "junit", "text", "html"):
        def render(outcome):
            return "".join(stream(name, outcome.document, show_passed=True, strict=False, color=False))
        assert render(first) == render(second), name
        # both locations are shown: the declaration and the live ARN of the changed plan
        assert "backup.yaml" in render(first) and _plan_arn(first, "daily") in render(first), name


def test_names_match_without_a_stack_and_say_so():
    outcome, calls = _drift(_deployed, stacks=())
    matches = {(r.rule_id, r.resource_id): (r.status, r.values.get("match")) for r in outcome.results}
    assert matches[("BG701", "Plan")] == ("pass", "plan name 'daily'")
    assert matches[("BG702", "TaggedResources")] == ("pass", "selection name 'tagged'")
    # without the stack, !GetAtt BackupKey.Arn cannot be told from another key: unknown, never drift
    assert matches[("BG704", "Vault")][0] == "unknown"
    vault = next(r for r in outcome.results if r.rule_id == "BG704")
    assert "BackupKey.Arn" in vault.message and "--stack" in vault.message
    assert ("cloudformation", "ListStackResources") not in calls


def test_cloudformation_tags_match_a_renamed_plan():
    def renamed(account: Account) -> None:
        account.deploy(_code())
        daily = account.plan_id("daily")
        account.plans[daily]["BackupPlanName"] = "daily-renamed"
        arn = f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:{daily}"
        account.backup.tag_resource(ResourceArn=arn, Tags={"aws:cloudformation:logical-id": "Plan",
                                                           "aws:cloudformation:stack-name": STACK})

    outcome, _ = _drift(renamed, stacks=())
    plan = next(r for r in outcome.results if r.rule_id == "BG701")
    assert (plan.status, plan.values.get("match")) == ("pass", "tag aws:cloudformation:logical-id=Plan")


def test_terraform_prior_state_pairs_addresses(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "aws_backup_vault" "main" {\n  name = var.vault_name\n}\n\n'
        'resource "aws_backup_plan" "daily" {\n  name = "nightly-${var.env}"\n  rule {\n    rule_name         = "daily"\n'
        '    target_vault_name = aws_backup_vault.main.name\n    schedule          = "cron(0 5 ? * * *)"\n'
        '    lifecycle {\n      delete_after = 35\n    }\n  }\n}\n\n'
        'variable "vault_name" {}\nvariable "env" {}\n', encoding="utf-8")
    state: dict = {}

    def deployed(account: Account) -> None:
        account.backup.create_backup_vault(BackupVaultName="tf-main")
        plan_id = account.create_plan({"BackupPlanName": "nightly-prod", "Rules": [{
            "RuleName": "daily", "TargetBackupVaultName": "tf-main", "ScheduleExpression": "cron(0 5 ? * * *)",
            "StartWindowMinutes": 60, "CompletionWindowMinutes": 180, "Lifecycle": {"DeleteAfterDays": 14}}]})
        state["plan"] = (plan_id, f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:{plan_id}")

    plan_json = tmp_path / "plan.json"

    def setup(account: Account) -> None:
        deployed(account)
        plan_id, arn = state["plan"]
        plan_json.write_text(json.dumps({"format_version": "1.2", "prior_state": {"values": {"root_module": {"resources": [
            {"address": "aws_backup_vault.main", "mode": "managed", "type": "aws_backup_vault", "name": "main",
             "values": {"id": "tf-main", "name": "tf-main", "arn": f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:tf-main"}},
            {"address": "aws_backup_plan.daily", "mode": "managed", "type": "aws_backup_plan", "name": "daily",
             "values": {"id": plan_id, "arn": arn, "name": "nightly-prod"}},
        ]}}}}), encoding="utf-8")

    outcome, _ = _drift(setup, paths=(tmp_path,), stacks=(), plan_json=plan_json)
    results = {(r.rule_id, r.resource_id): r for r in outcome.results}
    plan = results[("BG701", "aws_backup_plan.daily")]
    assert plan.values["match"] == "Terraform prior state (aws_backup_plan.daily)"
    assert plan.status == "fail" and plan.values["drift"] == [
        "rule 'daily' retention (Lifecycle.DeleteAfterDays) is 35 days in code, 14 days live"]
    written = (tmp_path / "main.tf").read_text().splitlines()
    assert plan.line == written.index("      delete_after = 35") + 1 and plan.arn == state["plan"][1]
    vault = results[("BG704", "aws_backup_vault.main")]
    assert vault.status == "pass" and vault.values["match"] == "Terraform prior state (aws_backup_vault.main)"
    # without the plan JSON the variables leave both names undetermined: unknown, not missing
    outcome, _ = _drift(deployed, paths=(tmp_path,), stacks=())
    statuses = {(r.rule_id, r.resource_id): r.status for r in outcome.results}
    assert statuses[("BG701", "aws_backup_plan.daily")] == "unknown"
    assert statuses[("BG704", "aws_backup_vault.main")] == "unknown"
    assert statuses[("BG703", f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:{state['plan'][0]}")] == "fail"


def test_a_plan_json_without_prior_state_is_a_clear_error(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text(json.dumps({"format_version": "1.2", "planned_values": {}}), encoding="utf-8")
    with pytest.raises(pipeline.RunError, match="plan.json: the plan has no prior_state"):
        _drift(_deployed, plan_json=bad)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(pipeline.RunError, match="plan.json: not a Terraform plan JSON"):
        _drift(_deployed, plan_json=bad)
    with bad.open("wb") as handle:  # past the 20 MiB every input is read up to: not read further
        handle.truncate(21 * 2**20)
    with pytest.raises(pipeline.RunError, match="plan.json: the plan JSON is larger than 20 MiB"):
        _drift(_deployed, plan_json=bad)


def test_drift_rules_never_run_in_lint_and_lint_rules_never_in_drift():
    lint = pipeline.settings(None, [], [])
    drift = pipeline.settings(None, [], [], drift=True)
    assert not [c for c in lint.checks if c.rule.id.startswith("BG7")]
    assert sorted(c.rule.id for c in drift.checks) == ["BG701", "BG702", "BG703", "BG704", "BG705", "BG706", "BG707"]
    with pytest.raises(pipeline.RunError, match="run only in `backupguard drift`"):
        pipeline.settings(None, [], [], check=["BG701"])


def test_defaults_are_applied_once_from_the_settings_contract():
    from backupguard.native_settings import RULE_DEFAULTS, with_default
    from backupguard.resolve.plans import DEFAULT_SCHEDULE

    assert (RULE_DEFAULTS["start_window_minutes"], RULE_DEFAULTS["completion_window_minutes"]) == (480, 10080)
    assert DEFAULT_SCHEDULE == RULE_DEFAULTS["schedule"] and RULE_DEFAULTS["timezone"] == "Etc/UTC"
    assert with_default(RULE_DEFAULTS, "start_window_minutes", None) == 480
    assert with_default(RULE_DEFAULTS, "start_window_minutes", 60) == 60
    assert with_default(RULE_DEFAULTS, "lifecycle.delete_after_days", None) is None  # kept forever


def test_an_undetermined_code_value_is_unknown_never_drift():
    from backupguard.estate import BackupPlan, BackupRule, Lifecycle, Origin
    from backupguard.resolve.drift import compare_plan
    from backupguard.resolve.drift_match import Matching, Pair

    origin = Origin("t.yaml", 3)
    code = BackupPlan("Plan", "daily", [BackupRule("daily", "main", lifecycle=Lifecycle(Unknown("parameter 'Days' has no value")),
                                                   origin=origin)], origin)
    live = BackupPlan("arn:p", "daily", [BackupRule("daily", "main", start_window_minutes=480, lifecycle=Lifecycle(7))], Origin())
    drift = compare_plan(Pair("backup_plan", code, live, "plan name 'daily'"), Matching(ACCOUNT, REGION))
    assert drift.differences == [] and isinstance(drift.facts(), Unknown)
    assert "parameter 'Days' has no value" in drift.facts().reason


def test_a_plan_outside_the_template_is_named_as_restore_readiness_names_it():
    """BG706's covering plans and BG440's protected_by word a plan the coverage knows only by where it
    is declared the same way (builders.covering_plan_words), not as a plan named '(outside this template)'."""
    from backupguard.resolve.coverage import Coverage
    from backupguard.resolve.drift_protection import _plan_names

    cover = Coverage(protected=True, rules=[{"plan": "daily"}, {"plan": "(outside this template)"}, {"plan": "daily"}])
    assert _plan_names(cover) == ["plan 'daily'", "a plan (outside this template)"]


def test_a_kind_whose_comparison_fails_costs_that_kind_alone(monkeypatch):
    from backupguard.estate import BackupPlan, BackupRule, Estate, Origin
    from backupguard.resolve import drift_subjects
    from backupguard.resolve.drift_match import Identities, match

    def broken(*args, **kwargs):
        raise ValueError("input no one foresaw")

    monkeypatch.setattr(drift_subjects, "protection_subjects", broken)
    code = Estate(plans=[BackupPlan("Plan", "daily", [BackupRule("daily", "main", origin=Origin("t.yaml", 3))],
                                    Origin("t.yaml", 2))])
    live = Estate()
    errors: list = []
    by_kind = drift_subjects.subjects(code, live, None, match(code, live, Identities(), ACCOUNT, REGION), None, errors)
    assert by_kind["drift_protection"] == []
    assert [e.message for e in errors] == [
        "internal error while comparing drift protection with the account (ValueError); please report it"]
    [plan] = by_kind["drift_plan"]  # the other kinds are still compared
    assert plan.origin.file == "t.yaml" and plan.facts["drift"]


def test_the_worked_example_in_the_docs_is_this_output():
    """docs/drift.md shows the text report of the console edits above, as the CLI prints it."""
    from backupguard.reports import stream

    outcome, _ = _drift(_edited, show=lambda name: f"examples/drift/{name}" if name else name)
    printed = "".join(stream("text", outcome.document, show_passed=False, strict=False, color=False)).rstrip("\n")
    page = (Path(__file__).parent.parent / "docs" / "drift.md").read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(page) if line.startswith("$ backupguard drift examples/drift/"))
    shown = page[start + 1:page.index("```", start)]
    assert "\n".join(shown) == printed


def test_every_drift_rule_has_a_page_and_results_of_each_kind():
    from backupguard.rules import load_catalogue

    drift_rules = {r.id for r in load_catalogue().values() if r.evidence == "drift"}
    docs = Path(__file__).parent.parent / "docs" / "rules"
    assert drift_rules == {"BG701", "BG702", "BG703", "BG704", "BG705", "BG706", "BG707"}
    assert all((docs / f"{rule}.md").is_file() for rule in drift_rules)


def test_organizations_backup_policies_are_compared_with_their_files(tmp_path):
    def policy(days: str) -> dict:
        return {"plans": {"org-daily": {
            "regions": {"@@assign": [REGION]},
            "rules": {"daily": {"schedule_expression": {"@@assign": "cron(0 5 ? * * *)"},
                                "target_backup_vault_name": {"@@assign": "main"},
                                "lifecycle": {"delete_after_days": {"@@assign": days}}}},
            "selections": {"tags": {"all": {"iam_role_arn": {"@@assign": ROLE},
                                            "tag_key": {"@@assign": "backup"}, "tag_value": {"@@assign": ["daily"]}}}}}}}

    for name in ("org-daily", "org-weekly", "org-gone"):
        (tmp_path / f"{name}.json").write_text(json.dumps(policy("35"), indent=2), encoding="utf-8")
    live = {"org-daily": policy("7"), "org-weekly": policy("35")}

    def organization(account: Account) -> None:
        canned = account.canned
        summaries = [{"Id": f"p-{n:08d}", "Arn": f"arn:aws:organizations::{ACCOUNT}:policy/o-abc/backup_policy/p-{n:08d}",
                      "Name": name, "Type": "BACKUP_POLICY", "AwsManaged": False} for n, name in enumerate(sorted(live))]
        canned.on(ACCOUNT, "*", "organizations", "ListPolicies", {"Policies": summaries})
        canned.on(ACCOUNT, "*", "organizations", "DescribePolicy", lambda p: {"Policy": {
            "PolicySummary": next(s for s in summaries if s["Id"] == p["PolicyId"]),
            "Content": json.dumps(live[next(s["Name"] for s in summaries if s["Id"] == p["PolicyId"])])}})
        # the account's effective policy: both live policies attached, merged, operators resolved
        canned.on(ACCOUNT, "*", "organizations", "DescribeEffectivePolicy", _effective_answer(
            {"plans": {**live["org-daily"]["plans"], "org-weekly": live["org-weekly"]["plans"]["org-daily"]}}))

    outcome, calls = _drift(organization, paths=(tmp_path,), stacks=())
    found = sorted((r.rule_id, r.status, r.resource_id, r.region, r.message) for r in outcome.results
                   if r.rule_id != "BG707")
    daily_arn = f"arn:aws:organizations::{ACCOUNT}:policy/o-abc/backup_policy/p-00000000"
    assert found == [
        ("BG705", "fail", "org-daily.json", None,
         "backup policy 'org-daily.json' differs from the Organization: plan 'org-daily' "
         'rules.daily.lifecycle.delete_after_days is {"@@assign":"35"} in code, {"@@assign":"7"} live'),
        ("BG705", "fail", "org-gone.json", None,
         "backup policy 'org-gone.json' differs from the Organization: it is not in the Organization "
         "(looked up by policy name 'org-gone')"),
        ("BG705", "pass", "org-weekly.json", None,
         "backup policy 'org-weekly.json' matches the Organization (matched by policy name 'org-weekly')"),
    ]
    daily = next(r for r in outcome.results if r.resource_id == "org-daily.json")
    assert daily.arn == daily_arn and daily.file == "org-daily.json"
    assert daily.line == next(i for i, line in enumerate((tmp_path / "org-daily.json").read_text().splitlines(), 1)
                              if '"delete_after_days"' in line)  # where the file writes what differs
    assert ("organizations", "DescribePolicy") in calls
    # BG707: each file's plan against the effective policy (all three files declare 'org-daily')
    effective = sorted((r.resource_id, r.status) for r in outcome.results if r.rule_id == "BG707")
    assert effective == [("org-daily.json", "fail"), ("org-gone.json", "fail"), ("org-weekly.json", "fail")]


def test_the_command_maps_its_options_and_exits_by_the_table(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from backupguard.cli import app
    from backupguard.scanner.aws import drift_source
    from moto.moto_api._internal import mock_random

    with mock_aws():
        mock_random.seed(13)
        canned = Canned()
        account = Account(canned)
        _edited(account)
        monkeypatch.setattr(drift_source, "Connector", lambda profile, role, external, region: CannedConnector(
            canned, profile=profile, role_name=role, external_id=external, home_region=region))
        runner = CliRunner()
        result = runner.invoke(app, ["drift", str(EXAMPLE), "--stack", STACK, "--region", REGION, "-f", "json", "-q"])
        bad_account = runner.invoke(app, ["drift", str(EXAMPLE), "--account", "12345"])
        (tmp_path / "plan.json").write_text("[]", encoding="utf-8")
        bad_plan = runner.invoke(app, ["drift", str(EXAMPLE), "--plan-json", str(tmp_path / "plan.json")])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert document["scan"]["kind"] == "drift" and document["scan"]["region"] == REGION
    assert sorted((r["rule_id"], r["status"]) for r in document["results"] if r["status"] != "pass") == [
        ("BG701", "fail"), ("BG702", "fail"), ("BG702", "fail"), ("BG703", "fail"), ("BG704", "fail"), ("BG706", "fail")]
    assert bad_account.exit_code == 2 and "not a 12-digit AWS account ID" in bad_account.stderr
    assert bad_plan.exit_code == 2 and "plan.json: not a Terraform plan JSON" in bad_plan.stderr


# -- Organizations: the account's effective backup policy (BG707) --------------------------------


def _plain(policy):
    """A policy as the effective policy renders it: operators resolved into plain values."""
    if isinstance(policy, dict):
        if "@@assign" in policy:
            return policy["@@assign"]
        return {k: _plain(v) for k, v in policy.items() if k != "@@operators_allowed_for_child_policies"}
    return policy


def _effective_answer(content):
    return lambda params: {"EffectivePolicy": {
        "PolicyContent": json.dumps(_plain(content)), "TargetId": params["TargetId"], "PolicyType": params["PolicyType"],
        "LastUpdatedTimestamp": NOW}} if params["TargetId"] == ACCOUNT else error("TargetNotFoundException")


def _org_plan(days="35", regions=(REGION,), vault="main"):
    return {"regions": {"@@assign": list(regions)},
            "rules": {"daily": {"schedule_expression": {"@@assign": "cron(0 5 ? * * *)"},
                                "target_backup_vault_name": {"@@assign": vault},
                                "lifecycle": {"delete_after_days": {"@@assign": days}}}},
            "selections": {"tags": {"all": {"iam_role_arn": {"@@assign": ROLE}, "tag_key": {"@@assign": "backup"},
                                            "tag_value": {"@@assign": ["daily"]}}}}}


def _effective(tmp_path, files: dict, answer):
    """Policy files in tmp_path, the effective policy answer (a document or error(...)); the BG707 results
    by (file, plan) and every error result."""
    for name, content in files.items():
        (tmp_path / name).write_text(json.dumps(content, indent=2), encoding="utf-8")

    def organization(account: Account) -> None:
        account.canned.on(ACCOUNT, "*", "organizations", "ListPolicies", {"Policies": []})
        account.canned.on(ACCOUNT, "*", "organizations", "DescribeEffectivePolicy",
                          answer if "__error__" in answer else _effective_answer(answer))

    outcome, calls = _drift(organization, paths=(tmp_path,), stacks=())
    assert ("organizations", "DescribeEffectivePolicy") in calls
    results = {(r.resource_id, r.values["plan"]): r for r in outcome.results if r.rule_id == "BG707"}
    return results, [r for r in outcome.results if r.status == "error"]


def test_an_effective_policy_that_holds_the_files_plans_is_no_drift(tmp_path):
    # the file writes numbers and lists its own way; the effective policy has strings, another order and
    # more (a parent's plan, a parent's setting): none of that is drift
    mine = {"plans": {"org-daily": {**_org_plan(days=35, regions=("eu-west-1", "us-east-1")),
                                    "@@operators_allowed_for_child_policies": ["@@none"]}}}
    theirs = {"plans": {"org-daily": _org_plan(days="35", regions=("us-east-1", "eu-west-1")),
                        "root-weekly": _org_plan(days="90")}}
    theirs["plans"]["org-daily"]["rules"]["daily"]["start_backup_window_minutes"] = {"@@assign": "60"}
    results, errors = _effective(tmp_path, {"org-daily.json": mine}, theirs)
    assert errors == []
    daily = results[("org-daily.json", "org-daily")]
    assert daily.status == "pass", daily.message
    assert daily.message == (f"backup policy plan 'org-daily' of org-daily.json is in the effective BACKUP_POLICY of account "
                             f"{ACCOUNT} as written (matched by plan name 'org-daily' in the effective BACKUP_POLICY of "
                             f"account {ACCOUNT})")
    assert list(results) == [("org-daily.json", "org-daily")]  # the effective policy's other plans are not judged


def test_a_retention_changed_in_the_effective_policy_is_drift_with_both_locations(tmp_path):
    results, errors = _effective(tmp_path, {"org-daily.json": {"plans": {"org-daily": _org_plan("35")}}},
                                 {"plans": {"org-daily": _org_plan("7")}})
    daily = results[("org-daily.json", "org-daily")]
    written = (tmp_path / "org-daily.json").read_text().splitlines()
    assert (daily.status, daily.file, daily.arn, daily.account_id) == (
        "fail", "org-daily.json", f"effective BACKUP_POLICY of account {ACCOUNT}", ACCOUNT)
    assert daily.line == next(i for i, line in enumerate(written, 1) if '"delete_after_days"' in line)
    assert daily.message == (f"backup policy plan 'org-daily' of org-daily.json differs from the effective BACKUP_POLICY "
                             f"of account {ACCOUNT}: plan 'org-daily' rules.daily.lifecycle.delete_after_days is "
                             '"35" in code, "7" live')
    from backupguard.reports.sarif import build

    sarif = next(r for r in build(_document(daily))["runs"][0]["results"] if r["ruleId"] == "BG707")
    assert sarif["locations"][0]["physicalLocation"]["region"]["startLine"] == daily.line
    assert sarif["relatedLocations"][0]["logicalLocations"][0]["fullyQualifiedName"] == daily.arn


def _document(result):
    from backupguard.reports.json_report import document

    return document([result], [], {"kind": "drift", "files": [result.file]}, [], [])


def test_a_plan_missing_from_the_effective_policy_is_drift(tmp_path):
    files = {"org-daily.json": {"plans": {"org-daily": _org_plan()}},
             "org-append.json": {"plans": {"org-append": {"regions": {"@@append": ["us-east-1"]},
                                                          "rules": {"daily": {"target_backup_vault_name": "main"}}}}}}
    results, _ = _effective(tmp_path, files, {"plans": {"org-append": _org_plan()}})
    missing = results[("org-daily.json", "org-daily")]
    assert (missing.status, missing.line) == ("fail", 3)  # the plan's key in the file
    assert missing.message.endswith(f"plan 'org-daily' is in the policy files, not in the effective BACKUP_POLICY of "
                                    f"account {ACCOUNT}")
    appended = results[("org-append.json", "org-append")]  # @@append: the item must be in the effective list
    assert appended.status == "fail" and 'regions item "us-east-1" is appended in code, absent live' in appended.message
    # no backup policy in effect at all: every plan is missing
    results, errors = _effective(tmp_path, {}, error("EffectivePolicyNotFoundException"))
    assert errors == [] and {r.status for r in results.values()} == {"fail"} and len(results) == 2


def test_two_files_writing_a_setting_differently_are_unknown_never_drift(tmp_path):
    files = {"root.json": {"plans": {"org-daily": _org_plan("35")}},
             "ou-prod.json": {"plans": {"org-daily": {"rules": {"daily": {"lifecycle": {"delete_after_days": {"@@assign": "90"}}}}}}}}
    results, _ = _effective(tmp_path, files, {"plans": {"org-daily": _org_plan("90")}})
    # which file wins depends on where each is attached: the retention is unknown for both, never drift
    ou, root = results[("ou-prod.json", "org-daily")], results[("root.json", "org-daily")]
    assert ou.status == "unknown" and "also written, differently, by root.json" in ou.message
    assert root.status == "unknown" and "also written, differently, by ou-prod.json" in root.message
    # what only one of them writes is still compared: a changed vault is drift whatever the retention
    results, _ = _effective(tmp_path, {}, {"plans": {"org-daily": _org_plan("90", vault="other")}})
    root = results[("root.json", "org-daily")]
    assert root.status == "fail" and root.values["drift"] == [
        'plan \'org-daily\' rules.daily.target_backup_vault_name is "main" in code, "other" live']


@pytest.mark.parametrize("code", ["AccessDeniedException", "AWSOrganizationsNotInUseException"])
def test_an_unreadable_effective_policy_is_one_located_error_and_unknown(tmp_path, code):
    results, errors = _effective(tmp_path, {"org-daily.json": {"plans": {"org-daily": _org_plan()}}}, error(code))
    assert [(e.rule_id, e.account_id, e.region) for e in errors] == [("BG000", ACCOUNT, None)]
    assert f"DescribeEffectivePolicy failed: {code}" in errors[0].message
    daily = results[("org-daily.json", "org-daily")]
    assert daily.status == "unknown" and "could not be read" in daily.message


# -- protection: resources the code protects that no live plan selects (BG706) -------------------

PROTECTED = """\
Resources:
  Plan:
    Type: AWS::Backup::BackupPlan
    Properties:
      BackupPlan:
        BackupPlanName: daily
        BackupPlanRule:
          - {RuleName: daily, TargetBackupVault: main, ScheduleExpression: cron(0 5 ? * * *)}
  Tagged:
    Type: AWS::Backup::BackupSelection
    Properties:
      BackupPlanId: !Ref Plan
      BackupSelection:
        SelectionName: tagged
        IamRoleArn: arn:aws:iam::123456789012:role/backup
        ListOfTags:
          - {ConditionType: STRINGEQUALS, ConditionKey: backup, ConditionValue: daily}
  Data:
    Type: AWS::EC2::Volume
    Properties:
      AvailabilityZone: eu-west-1a
      Size: 10
      Tags:
        - {Key: backup, Value: daily}
  Ledger:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: ledger
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"""


VOLUME = f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-0abc"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0f6e4a10-1111-2222-3333-444455556666"
# What the volume carries once deployed: the template's tag and the three CloudFormation adds.
VOLUME_TAGS = {"backup": "daily", "aws:cloudformation:stack-name": STACK, "aws:cloudformation:logical-id": "Data",
               "aws:cloudformation:stack-id": STACK_ID}


def _protection(tmp_path, selection: dict, stack: bool, live_tags: dict | None = VOLUME_TAGS, with_errors: bool = False):
    """The template above deployed (the volume as vol-0abc, with ``live_tags``; None: GetResources is
    refused), with the account's 'tagged' selection as given; BG706 results by resource."""
    template = tmp_path / "stack.yaml"
    template.write_text(PROTECTED, encoding="utf-8")

    def deployed(account: Account) -> None:
        plan_id = account.create_plan({"BackupPlanName": "daily", "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "main"}]})
        account.selections[plan_id]["sel-1"] = {"SelectionName": "tagged", "IamRoleArn": ROLE, **selection}
        account.stack.extend([{"LogicalResourceId": "Data", "PhysicalResourceId": "vol-0abc", "ResourceType": "AWS::EC2::Volume"},
                              {"LogicalResourceId": "Ledger", "PhysicalResourceId": "ledger", "ResourceType": "AWS::DynamoDB::Table"}])
        if live_tags is None:
            account.canned.on(ACCOUNT, REGION, "resourcegroupstaggingapi", "GetResources", error("AccessDeniedException"))
        else:
            account.tags[VOLUME] = live_tags

    outcome, _ = _drift(deployed, paths=(template,), stacks=(STACK,) if stack else ())
    found = {r.resource_id: r for r in outcome.results if r.rule_id == "BG706"}
    return (found, [r for r in outcome.results if r.status == "error"]) if with_errors else found


def test_a_resource_the_code_protects_is_found_through_the_stack_and_judged_by_the_live_selections(tmp_path):
    volume = VOLUME
    tagged = {"ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}]}
    found = _protection(tmp_path, tagged, stack=True)
    # the table is in no selection of the code: not drift (lint's BG401 says so)
    assert list(found) == ["Data"]
    data = found["Data"]
    declared = PROTECTED.splitlines().index("  Data:") + 1
    assert (data.status, data.arn, data.line) == ("pass", volume, declared)
    assert data.values["match"] == f"CloudFormation stack '{STACK}' (logical ID Data)"
    # the console changed the tag the selection wants: the volume the code protects is not selected
    data = _protection(tmp_path, {"ListOfTags": [{**tagged["ListOfTags"][0], "ConditionValue": "weekly"}]}, stack=True)["Data"]
    assert (data.status, data.file, data.line, data.arn) == ("fail", "stack.yaml", declared, volume)
    assert data.message == ("EBS resource 'Data' is protected in code by plan 'daily', but no backup plan in the account "
                            f"selects {volume} (matched by CloudFormation stack '{STACK}' (logical ID Data))")
    # a selection by the tags CloudFormation adds, read in the account (the stack's ID is in no template)
    for key, value in (("aws:cloudformation:stack-name", STACK), ("aws:cloudformation:stack-id", STACK_ID)):
        by_stack = {"ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": key, "ConditionValue": value}]}
        assert _protection(tmp_path, by_stack, stack=True)["Data"].status == "pass", key
    # without the stack a volume's ID cannot be known: unknown, never drift
    data = _protection(tmp_path, tagged, stack=False)["Data"]
    assert data.status == "unknown" and data.arn is None and "ID is assigned when the EBS resource is created" in data.message


def test_the_live_tags_decide_a_selection_by_tags_not_the_code_s(tmp_path):
    """The tags a resource has in the account (tag:GetResources) meet the live selections: a tag removed
    in the console is drift although the code still declares it; tags that cannot be read leave a
    selection by tags undecided (unknown, and the refused call is a located error), never drift."""
    tagged = {"ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}]}
    removed = {k: v for k, v in VOLUME_TAGS.items() if k != "backup"}
    assert _protection(tmp_path, tagged, stack=True, live_tags=removed)["Data"].status == "fail"
    assert _protection(tmp_path, tagged, stack=True, live_tags={**VOLUME_TAGS, "backup": "weekly"})["Data"].status == "fail"
    found, errors = _protection(tmp_path, tagged, stack=True, live_tags=None, with_errors=True)
    assert found["Data"].status == "unknown" and "tag:GetResources failed" in found["Data"].message
    assert [("resourcegroupstaggingapi: GetResources failed" in e.message, "AccessDenied" in e.message) for e in errors] == [(True, True)]
    # an ARN selection does not need the tags: decided even when they cannot be read
    by_arn = {"Resources": [VOLUME]}
    assert _protection(tmp_path, by_arn, stack=True, live_tags=None)["Data"].status == "pass"


def test_live_tags_are_asked_for_100_arns_a_call_and_an_arn_not_returned_has_none():
    import boto3
    from botocore.stub import Stubber

    from backupguard.scanner.aws.drift_source import resource_tags
    from backupguard.scanner.aws.scope import Scope
    from live_fakes import StubAccess

    arns = [f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-{n:03d}" for n in range(150)]
    client = boto3.client("resourcegroupstaggingapi", REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("get_resources", {"ResourceTagMappingList": [
            {"ResourceARN": arns[0], "Tags": [{"Key": "backup", "Value": "daily"}]}]}, {"ResourceARNList": sorted(arns)[:100]})
        stub.add_client_error("get_resources", "ThrottlingException", "slow down", 400,
                              expected_params={"ResourceARNList": sorted(arns)[100:]})
        scope = Scope(StubAccess({"resourcegroupstaggingapi": client}, ACCOUNT), ACCOUNT, REGION, REGION, NOW, NOW)
        found = resource_tags(scope, arns + arns[:3])  # an ARN asked for twice is asked for once
        stub.assert_no_pending_responses()
    assert found[arns[0]] == {"backup": "daily"} and found[arns[1]] == {}  # not returned: no tags
    assert all(isinstance(found[arn], Unknown) for arn in sorted(arns)[100:])
    assert len(found) == 150 and [e.message.split(": ")[1] for e in scope.estate.errors] == ["GetResources failed"]


def test_a_named_resource_is_found_by_the_arn_its_name_makes(tmp_path):
    (tmp_path / "stack.yaml").write_text(PROTECTED.replace("      TableName: ledger\n", "      TableName: ledger\n      Tags:\n        - {Key: backup, Value: daily}\n"), encoding="utf-8")
    ledger = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ledger"

    def deployed(resources: list[str]):
        def setup(account: Account) -> None:
            plan_id = account.create_plan({"BackupPlanName": "daily", "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "main"}]})
            account.selections[plan_id]["sel-1"] = {"SelectionName": "tagged", "IamRoleArn": ROLE, "Resources": resources}
        return setup

    for resources, status in (([ledger], "pass"), ([f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*"], "pass"),
                              ([f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ledger-old"], "fail")):
        outcome, _ = _drift(deployed(resources), paths=(tmp_path / "stack.yaml",), stacks=())
        table = next(r for r in outcome.results if r.rule_id == "BG706" and r.resource_id == "Ledger")
        assert (table.status, table.arn, table.values["match"]) == (status, ledger, "ARN built from its name 'ledger'"), resources


def test_terraform_resources_are_found_through_the_plan_json_prior_state(tmp_path):
    (tmp_path / "main.tf").write_text(
        'resource "aws_backup_plan" "daily" {\n  name = "nightly"\n  rule {\n    rule_name         = "daily"\n'
        '    target_vault_name = "main"\n    schedule          = "cron(0 5 ? * * *)"\n  }\n}\n\n'
        'resource "aws_backup_selection" "tables" {\n  name         = "tables"\n  plan_id      = aws_backup_plan.daily.id\n'
        '  iam_role_arn = "arn:aws:iam::123456789012:role/backup"\n  resources    = [aws_dynamodb_table.orders.arn]\n}\n\n'
        'resource "aws_dynamodb_table" "orders" {\n  name         = var.table\n  billing_mode = "PAY_PER_REQUEST"\n'
        '  hash_key     = "id"\n  attribute {\n    name = "id"\n    type = "S"\n  }\n}\n\nvariable "table" {}\n',
        encoding="utf-8")
    orders = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-prod"
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(json.dumps({"format_version": "1.2", "prior_state": {"values": {"root_module": {"resources": [
        {"address": "aws_dynamodb_table.orders", "mode": "managed", "type": "aws_dynamodb_table", "name": "orders",
         "values": {"id": "orders-prod", "name": "orders-prod", "arn": orders}}]}}}}), encoding="utf-8")

    def deployed(resources: list[str]):
        def setup(account: Account) -> None:
            plan_id = account.create_plan({"BackupPlanName": "nightly", "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "main"}]})
            account.selections[plan_id]["sel-1"] = {"SelectionName": "tables", "IamRoleArn": ROLE, "Resources": resources}
        return setup

    def judged(resources, plan=plan_json):
        outcome, _ = _drift(deployed(resources), paths=(tmp_path,), stacks=(), plan_json=plan)
        return next(r for r in outcome.results if r.rule_id == "BG706")

    table = judged([orders])
    assert (table.status, table.arn, table.values["match"]) == ("pass", orders, "Terraform prior state (aws_dynamodb_table.orders)")
    assert table.line == 17 and table.file == "main.tf"
    table = judged([f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-test"])
    assert table.status == "fail" and f"no backup plan in the account selects {orders}" in table.message
    # without the plan JSON the table's name is a variable without a value: unknown
    table = judged([orders], plan=None)
    assert table.status == "unknown" and table.arn is None and "--plan-json" in table.message
