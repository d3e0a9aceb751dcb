"""Results from the cloud (issue 9): a file-less estate over two accounts x two Regions, rendered in
every format. Live results carry account_id/region/arn, are grouped by account and Region and named
by their ARN (never "(no file):1"); identical errors of two scopes stay two; shards merge into the
same bytes in any order."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from backupguard.estate import Estate, InputError, Origin
from backupguard.pipeline import evaluate, settings
from backupguard.reports import render
from backupguard.reports.json_report import merge, validate
from backupguard.results import INPUT_ERROR_RULE, Result

from estate_builders import A, B, EAST, WEST, plan, selection, vault, volume

DENIED = "backup: ListBackupPlans failed: AccessDenied: User is not authorized to perform backup:ListBackupPlans"
PLAN_A = f"arn:aws:backup:{EAST}:{A}:backup-plan:daily"
VOL_A = f"arn:aws:ec2:{EAST}:{A}:volume/vol-1"
VOL_B = f"arn:aws:ec2:{WEST}:{B}:volume/vol-2"


def _scope(account: str, region: str) -> Origin:
    return Origin(file=None, account=account, region=region, unit=f"{account}/{region}")


def _estate(accounts: tuple[str, ...] = (A, B)) -> Estate:
    """A in us-east-1 and B in eu-west-1 are readable; A/eu-west-1 and B/us-east-1 deny the same way."""
    estate = Estate()
    if A in accounts:
        estate.vaults.append(vault(A, EAST, "main"))
        estate.plans.append(plan(A, EAST, "daily", 7, "main"))
        estate.selections.append(selection(A, EAST, PLAN_A, ["*"]))
        estate.resources.append(volume(A, EAST, "vol-1"))
        estate.errors.append(InputError(DENIED, _scope(A, WEST)))
    if B in accounts:
        estate.vaults.append(vault(B, WEST, "main"))
        estate.plans.append(plan(B, WEST, "daily", 35, "main"))
        estate.resources.append(volume(B, WEST, "vol-2"))
        estate.errors.append(InputError(DENIED, _scope(B, EAST)))
    return estate


def _doc(accounts: tuple[str, ...] = (A, B), shard: str | None = None) -> dict:
    scan = {"kind": "live", "accounts": sorted(accounts), "regions": [EAST, WEST]}
    if shard:
        scan["shard"] = shard
    doc = evaluate(_estate(accounts), settings(None, [], []), scan).document
    validate(json.loads(render("json", doc)), "live.json")  # the shipped contract takes it
    return doc


@pytest.fixture(scope="module")
def doc() -> dict:
    return _doc()


def test_every_result_carries_account_region_and_arn(doc):
    results = doc["results"]
    assert all({"account_id", "region", "arn"} <= set(r) for r in results)
    assert all(r["file"] is None for r in results)
    vol = [r for r in results if r["rule_id"] == "BG401"]
    assert [(r["account_id"], r["region"], r["arn"], r["resource_id"], r["status"]) for r in vol] == [
        (A, EAST, VOL_A, VOL_A, "pass"), (B, WEST, VOL_B, VOL_B, "fail"),
    ]
    # Sorted by account, Region, ARN (live results have no file and no meaningful line).
    keys = [(r["account_id"], r["region"], r["arn"] or "") for r in results]
    assert keys == sorted(keys)


def test_identical_errors_of_two_scopes_stay_two_with_distinct_fingerprints(doc):
    errors = [r for r in doc["results"] if r["status"] == "error"]
    assert [(r["rule_id"], r["account_id"], r["region"], r["arn"], r["message"]) for r in errors] == [
        (INPUT_ERROR_RULE, A, WEST, None, DENIED), (INPUT_ERROR_RULE, B, EAST, None, DENIED),
    ]
    assert len({r["fingerprint"] for r in errors}) == 2
    assert doc["summary"]["by_status"]["error"] == 2


def test_a_file_based_error_keeps_its_fingerprint():
    from backupguard.results import fingerprint
    from backupguard.rules.engine import error_results

    estate = Estate(errors=[InputError("bad", Origin("a.yaml", 3, 1)), InputError("bad", Origin("a.yaml", 3, 1))])
    [result] = error_results(estate)
    assert result.fingerprint == fingerprint(INPUT_ERROR_RULE, "a.yaml", "bad")
    assert (result.account_id, result.region, result.arn) == (None, None, None)


def test_the_same_resource_name_in_two_scopes_has_two_fingerprints(doc):
    vaults = [r for r in doc["results"] if r["rule_id"] == "BG202"]
    assert {(r["account_id"], r["region"]) for r in vaults} == {(A, EAST), (B, WEST)}
    assert len({r["fingerprint"] for r in vaults}) == 2


def test_an_old_document_without_the_fields_still_validates_and_reads_as_null(doc):
    old = json.loads(render("json", doc))
    for r in old["results"]:
        for key in ("account_id", "region", "arn"):
            del r[key]
    validate(old, "old.json")
    result = Result.from_dict(old["results"][0])
    assert (result.account_id, result.region, result.arn, result.is_live) == (None, None, None, False)


def test_text_groups_by_account_and_region_and_shows_the_arn(doc):
    text = render("text", doc)
    assert "(no file)" not in text and not any(line.startswith("  1:1 ") for line in text.splitlines())
    headings = [line for line in text.splitlines() if line.startswith("account ")]
    assert headings == [
        f"account {A}, Region {WEST}", f"account {A}, Region {EAST}",
        f"account {B}, Region {WEST}", f"account {B}, Region {EAST}",
    ]
    assert f"  ERROR   high     BG000  {DENIED}" in text.splitlines()
    assert f"  FAIL    high     BG401  {VOL_B}: no backup plan selects this EBS resource" in text.splitlines()
    assert text.rstrip().splitlines()[-1].startswith("2 accounts, 2 Regions scanned, ")


def test_markdown_has_a_table_per_account_and_region_and_no_file_locations(doc):
    md = render("markdown", doc)
    assert "(no file)" not in md
    assert "#### Accounts and Regions" in md
    assert f"| {A} | {WEST} | 0 | 0 | 1 | 0 | 0 | 0 |" in md
    assert f"| {B} | {EAST} | 0 | 0 | 1 | 0 | 0 | 0 |" in md
    assert f"| high | BG401 | {VOL_B} | {B} / {WEST} | no backup plan selects this EBS resource |" in md
    assert md.count(f"| high (error) | BG000 | – |") == 2


def test_html_shows_the_scopes_and_no_file_locations(doc):
    html = render("html", doc)
    assert "(no file)" not in html
    assert '<section id="scopes">' in html and '<a href="#scopes">' in html
    assert f'<td class="loc">{A} · {EAST}</td>' in html  # an error row needing attention, written as HTML
    assert "2</b> accounts × <b>2</b> Regions" in html


def test_sarif_has_logical_locations_only_and_validates(doc):
    from test_sarif import assert_schema_valid

    log = json.loads(render("sarif", doc))
    assert_schema_valid(log)
    results = log["runs"][0]["results"]
    assert results and all("physicalLocation" not in loc for r in results for loc in r["locations"])
    vol = next(r for r in results if r["ruleId"] == "BG401")
    assert vol["locations"] == [{"logicalLocations": [{"name": VOL_B, "fullyQualifiedName": VOL_B, "kind": "resource"}]}]
    assert (vol["properties"]["account_id"], vol["properties"]["region"], vol["properties"]["arn"]) == (B, WEST, VOL_B)
    errors = [r for r in results if r["ruleId"] == INPUT_ERROR_RULE]
    assert [r["locations"] for r in errors] == [
        [{"logicalLocations": [{"name": f"{A}/{WEST}", "fullyQualifiedName": f"{A}/{WEST}", "kind": "namespace"}]}],
        [{"logicalLocations": [{"name": f"{B}/{EAST}", "fullyQualifiedName": f"{B}/{EAST}", "kind": "namespace"}]}],
    ]
    assert len({r["partialFingerprints"]["backupguard/v1"] for r in errors}) == 2
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("no source file" in n["message"]["text"] for n in notes)


def test_junit_has_a_suite_per_account_and_region(doc):
    root = ET.fromstring(render("junit", doc))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == [f"account {A} Region {WEST}", f"account {A} Region {EAST}",
                            f"account {B} Region {WEST}", f"account {B} Region {EAST}"]
    assert all(c.get("file") is None for c in root.iter("testcase"))
    assert all("(no file)" not in c.get("name") for c in root.iter("testcase"))
    [error] = suites[f"account {A} Region {WEST}"].findall("testcase")
    assert (error.get("classname"), error.get("name")) == (f"{A}.{WEST}.BG000", f"account {A} Region {WEST}")
    assert error.find("error").get("message") == DENIED
    vol = next(c for c in suites[f"account {B} Region {WEST}"] if c.get("classname") == f"{B}.{WEST}.BG401")
    assert vol.get("name") == VOL_B and vol.find("failure") is not None
    assert root.get("errors") == "2" and suites[f"account {B} Region {EAST}"].get("errors") == "1"


def test_audit_exports_take_each_results_account_and_region(doc):
    rows = list(csv.DictReader(io.StringIO(render("csv-resources", doc))))
    errors = [(r["accountId"], r["region"], r["resourceId"], r["resourceComplianceStatus"])
              for r in rows if r["ruleId"] == INPUT_ERROR_RULE]
    assert errors == [(A, WEST, "", "ERROR"), (B, EAST, "", "ERROR")]
    vol = next(r for r in rows if r["ruleId"] == "BG401" and r["resourceId"] == VOL_B)
    assert (vol["accountId"], vol["region"], vol["file"], vol["resourceComplianceStatus"]) == (B, WEST, "", "NON_COMPLIANT")
    items = json.loads(render("json-resources", doc))["reportItems"]
    assert [(i["accountId"], i["region"]) for i in items] == [(r["accountId"], r["region"]) for r in rows]


def test_shards_merge_to_the_same_bytes_in_any_order():
    one, two = _doc((A,), "1/2"), _doc((B,), "2/2")
    forward = render("json", merge([json.loads(render("json", one)), json.loads(render("json", two))]))
    backward = render("json", merge([json.loads(render("json", two)), json.loads(render("json", one))]))
    assert forward == backward
    merged = json.loads(forward)
    validate(merged, "merged.json")
    scan = merged["scan"]
    assert scan["accounts"] == [A, B] and scan["regions"] == [WEST, EAST] and scan["merged_from"] == 2
    assert [s["shard"] for s in scan["shards"]] == ["1/2", "2/2"]
    assert all(s["kind"] == "live" for s in scan["shards"])
    # Everything both shards found, and the two scopes' identical errors stay two.
    assert len(merged["results"]) == len(one["results"]) + len(two["results"])
    assert [(r["account_id"], r["region"]) for r in merged["results"] if r["status"] == "error"] == [(A, WEST), (B, EAST)]
    # Merging a merged document with nothing new keeps the shards flat and the bytes the same.
    again = merge([merged])
    assert [s["shard"] for s in again["scan"]["shards"]] == ["1/2", "2/2"]
    # Every format renders the merged document.
    for name in ("text", "markdown", "html", "junit", "sarif", "csv-resources", "json-controls"):
        assert render(name, merged)
