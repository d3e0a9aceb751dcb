"""The HTML report in a real headless browser: Debian's chromium driven by playwright.

Skipped when /usr/bin/chromium or the playwright package is missing (CI installs both).
The page is loaded from file:// under its own CSP; the test listens for console errors
(a CSP violation is one), page errors, dialogs (an escaped payload that ran would open
one) and every network request, then uses the filters, sorting and paging and saves
screenshots to test-artifacts/. It also checks that no table is clipped (at 1,280, 1,400
and 2,560 px and in print), that the page reads without JavaScript, and that the report of
a 10,000-resource estate (built in Python, not linted) loads.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from backupguard.reports import render
from test_html_report import PAYLOADS, empty_doc, examples_doc, hostile_doc, suppressed_doc, synthetic_doc

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
    pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (pip install playwright)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A persistent context on a fresh user data dir, so nothing of another profile leaks in."""
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=ARGS, viewport={"width": 1400, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


class Loaded:
    """A report opened in a new tab, with everything the page did recorded."""

    def __init__(self, context, path: Path):
        self.url = path.as_uri()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(self.url, wait_until="load", timeout=120_000)
        self.page.wait_for_selector("html[data-ready]", state="attached", timeout=120_000)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visible_rows(self) -> int:
        return self.page.locator("#f-table tbody tr[data-status]:visible").count()

    def shown(self) -> str:
        return self.page.locator("#f-shown").inner_text()

    def clean(self) -> None:
        assert self.console == [], self.console
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        assert self.requests == [self.url], self.requests


def open_report(context, tmp_path: Path, doc: dict, name: str) -> Loaded:
    path = tmp_path / name
    path.write_text(render("html", doc), encoding="utf-8")
    return Loaded(context, path)


def attention(doc: dict) -> list[dict]:
    return [r for r in doc["results"] if r["status"] in ("fail", "unknown", "error") and not r["suppression"]]


def test_report_loads_offline_and_shows_the_numbers(browser, tmp_path):
    doc = examples_doc()
    report = open_report(browser, tmp_path, doc, "report.html")
    page = report.page
    summary = doc["summary"]
    assert page.locator('[data-count="results"] .num').inner_text() == str(summary["results"])
    for status, count in summary["by_status"].items():
        assert page.locator(f'[data-count="{status}"] .num').inner_text() == str(count)
    body = page.locator("body").inner_text()
    failing = sum(summary["failing_by_severity"].values())
    assert f"{failing} failing results (not waived)" in body
    assert "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" in body and "Non-compliant" in body
    # The script ran under the CSP (its hash matched): the filter bar is shown and counts rows; the
    # findings default to the results needing attention, most urgent first.
    assert page.locator("#f-filters").is_visible()
    total, needing = len(doc["results"]), len(attention(doc))
    assert report.shown() == f"{needing} of {total} results shown"
    assert report.visible_rows() == needing
    assert page.locator("#f-table tbody tr").first.get_attribute("data-status") == "fail"
    assert page.locator("#c-shown").inner_text() == f"{len(doc['inventory'])} of {len(doc['inventory'])} resources shown"
    assert page.locator("svg rect").count() > 10 and page.locator("svg circle.arc").count() >= 3
    # The coverage table comes after the findings.
    assert page.evaluate("() => document.querySelector('#findings').compareDocumentPosition("
                         "document.querySelector('#coverage')) & Node.DOCUMENT_POSITION_FOLLOWING") != 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "html-report.png"), full_page=True)
    report.clean()


def test_empty_document(browser, tmp_path):
    report = open_report(browser, tmp_path, empty_doc(), "empty.html")
    assert report.page.locator("#f-table tbody td.empty").inner_text() == "No results."
    assert report.shown() == "0 of 0 results shown" and not report.page.locator("#f-pager").is_visible()
    report.clean()


def test_search_filters_and_sorting(browser, tmp_path):
    doc = examples_doc()
    report = open_report(browser, tmp_path, doc, "report.html")
    page = report.page
    total = len(doc["results"])
    page.select_option("#f-status", "")
    page.select_option("#f-size", "1000")  # the examples hold more than one page of 100 results
    assert total > 100 and report.visible_rows() == total

    page.fill("#f-search", "SessionsTable")
    expected = sum(1 for r in doc["results"] if "sessionstable" in " ".join(
        str(r.get(k) or "") for k in ("resource_id", "message", "file", "rule_id")).lower())
    shown = report.visible_rows()
    assert 0 < shown < total and shown >= expected
    assert report.shown() == f"{shown} of {total} results shown"
    page.press("#f-search", "Enter")  # nothing to submit: no navigation, no CSP report
    assert page.url == report.url
    page.fill("#f-search", "SessionsTable no-such-word")
    assert report.visible_rows() == 0
    assert page.locator("#f-table tbody td.empty").inner_text() == "No result matches these filters."

    page.click("#f-reset")
    assert report.visible_rows() == len(attention(doc))
    page.select_option("#f-status", "fail")
    assert report.visible_rows() == sum(1 for r in doc["results"] if r["status"] == "fail" and not r["suppression"])
    page.select_option("#f-status", "pass")
    assert report.visible_rows() == sum(1 for r in doc["results"] if r["status"] == "pass" and not r["suppression"])
    page.select_option("#f-status", "")
    page.select_option("#f-rule", "BG401")
    assert report.visible_rows() == sum(1 for r in doc["results"] if r["rule_id"] == "BG401")
    page.click("#f-reset")
    control = "aws-backup-audit-manager:BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"
    page.click(f'a[data-filter="fw"][data-value="{control}"]')  # the control's "findings" link: all its results
    assert page.locator("#f-fw").input_value() == control and page.locator("#f-status").input_value() == ""
    assert report.visible_rows() == sum(1 for r in doc["results"] if control in r["frameworks"])
    page.click('#rules-table a[data-filter="rule"][data-value="BG401"]')  # "Rules that ran": its findings link works
    assert report.visible_rows() == sum(1 for r in doc["results"] if r["rule_id"] == "BG401")

    # Sorting: Status descending puts not-applicable results first; ascending puts failures first.
    page.click("#f-reset")
    page.select_option("#f-status", "")
    status_header = page.locator("#f-table thead th").first
    status_header.locator("button").click()
    assert status_header.get_attribute("aria-sort") == "ascending"
    assert page.locator("#f-table tbody tr").first.get_attribute("data-status") == "fail"
    status_header.locator("button").click()
    assert status_header.get_attribute("aria-sort") == "descending"
    assert page.locator("#f-table tbody tr").first.get_attribute("data-status") == "not_applicable"
    # Coverage: filter by protection, then sort by resource.
    page.select_option("#c-protected", "no")
    unprotected = sum(1 for r in doc["inventory"] if r["protected"] is False)
    assert page.locator("#c-table tbody tr").count() == unprotected
    page.locator('#c-table th[data-key="resource"] button').click()
    names = page.locator("#c-table tbody tr td:first-child").evaluate_all("cells => cells.map(c => c.firstChild.textContent)")
    assert names == sorted(names, key=str.lower)
    report.clean()


def test_suppressed_and_baselined_results(browser, tmp_path):
    doc = suppressed_doc()
    report = open_report(browser, tmp_path, doc, "suppressed.html")
    page = report.page
    assert page.locator('[data-count="fixed"] .num').inner_text() == "3"
    # Default view: new failures first, marked; baselined ones marked "In baseline".
    first = page.locator("#f-table tbody tr").first
    assert first.get_attribute("data-baseline") == "new" and "New" in first.inner_text()
    page.select_option("#f-baseline", "unchanged")
    rows = page.locator("#f-table tbody tr[data-status]")
    assert rows.count() == sum(1 for r in attention(doc) if r["baseline"] == "unchanged")
    assert "In baseline" in rows.first.inner_text() and rows.first.get_attribute("class") == "in-base"
    # Choosing a kind of suppression shows the waived results, with reason, owner, ticket, expiry and place.
    page.click("#f-reset")
    page.select_option("#f-suppression", "waiver")
    assert page.locator("#f-status").input_value() == "waived"
    assert report.visible_rows() == 1
    text = page.locator("#f-table tbody tr").first.inner_text()
    for part in ("config waiver: legacy vault until the migration", "owner team-storage", "ticket OPS-42",
                 "expires 2027-01-31", "declared at .backupguard.yaml:12"):
        assert part in text, part
    page.select_option("#f-suppression", "inline")
    assert "inline suppression: restored from the DR copy instead" in page.locator("#f-table tbody tr").first.inner_text()
    # Search finds a waiver by its owner; the meta-finding (BG001, no rule metadata) is a row like the others.
    page.click("#f-reset")
    page.select_option("#f-status", "")
    page.fill("#f-search", "team-storage")
    assert report.visible_rows() == 1
    page.fill("#f-search", "expired on 2024-01-01")
    assert report.visible_rows() == 1 and page.locator("#f-table tbody tr td").nth(2).inner_text() == "BG001"
    report.clean()


def test_without_javascript_the_summary_and_controls_read(browser, tmp_path):
    doc = examples_doc()
    path = tmp_path / "nojs.html"
    path.write_text(render("html", doc), encoding="utf-8")
    page = browser.new_page()
    # Scripting off for this tab only (a persistent context cannot switch it off per page).
    browser.new_cdp_session(page).send("Emulation.setScriptExecutionDisabled", {"value": True})
    page.goto(path.as_uri(), wait_until="load")
    assert page.locator("html").get_attribute("data-ready") is None  # the script did not run
    assert page.locator('[data-count="results"] .num').inner_text() == str(doc["summary"]["results"])
    body = page.locator("body").inner_text()
    assert "Non-compliant" in body and "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" in body
    assert "JavaScript is off" in body and not page.locator("#f-filters").is_visible()
    assert page.locator("#f-table tbody tr[data-status]").count() == len(attention(doc))
    assert page.locator("#c-table tbody tr").count() == len(doc["inventory"])
    page.close()


CLIPPING = """() => {
  const problems = [];
  const cut = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'hidden' || s.overflowX === 'clip' || s.contentVisibility === 'auto' || s.contentVisibility === 'hidden')
        return a.tagName + '#' + a.id + ' ' + s.overflowX + ' ' + s.contentVisibility;
    }
    return null;
  };
  document.querySelectorAll('table').forEach((table) => {
    const name = table.id || table.className;
    const box = table.parentElement.clientWidth;
    if (table.scrollWidth > box) problems.push(`${name}: ${table.scrollWidth} px in ${box} px`);
    if (table.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
      problems.push(`${name}: ends past the page`);
    const ancestor = cut(table);
    if (ancestor) problems.push(`${name}: inside ${ancestor}`);
    table.querySelectorAll('th').forEach((th) => {
      if (th.scrollWidth > th.clientWidth + 1) problems.push(`${name}: header "${th.textContent}" ${th.scrollWidth} > ${th.clientWidth}`);
    });
  });
  if (document.documentElement.scrollWidth > document.documentElement.clientWidth)
    problems.push(`page: ${document.documentElement.scrollWidth} px wide in ${document.documentElement.clientWidth}`);
  return problems;
}"""


def long_tokens_doc() -> dict:
    """The hostile examples with long unbreakable tokens where tables hold them: resource IDs, files,
    messages, ARNs, rule sources, references and parameters."""
    doc = hostile_doc()
    token = "arn:aws:backup:eu-west-1:111122223333:backup-vault:" + "x" * 180
    for result in doc["results"][:40]:
        result["resource_id"] += token
        result["message"] += token
        result["file"] = "stacks/" + "deeply-nested-folder-name/" * 8 + "template.yaml"
    for row in doc["inventory"]:
        row["plans"] = row["plans"] + [token]
        row["copy_regions"] = row["copy_regions"] + [token]
    doc["rules"][2]["source_url"] = "https://docs.aws.amazon.com/" + "very-long-path-segment-" * 12 + "page.html"
    doc["rules"][3]["references"]["other"] = ["CKV_AWS_" + "X" * 120]
    doc["scan"]["checks"][0]["parameters"] = {"required_" + "y" * 60: "z" * 150}
    return doc


@pytest.mark.parametrize("name,make", [("examples", examples_doc), ("long-tokens", long_tokens_doc)])
def test_no_table_is_clipped(browser, tmp_path, name, make):
    """Issue 11: every table fits its section (nothing to scroll to, nothing cut off, no header cut)
    at 1,280, 1,400 and 2,560 px and in print (also at 760 px, about an A4 page), with passes,
    not-applicable and waived rows shown."""
    report = open_report(browser, tmp_path, make(), f"{name}.html")
    page = report.page
    page.select_option("#f-status", "")  # every result: the longest rows are among them
    problems = {}
    for media in ("screen", "print"):
        page.emulate_media(media=media)
        for width in (1280, 1400, 2560) if media == "screen" else (760, 1280, 1400, 2560):
            page.set_viewport_size({"width": width, "height": 900})
            found = page.evaluate(CLIPPING)
            if found:
                problems[f"{media} {width}"] = found
    page.emulate_media(media="screen")
    assert not problems, problems
    # A full-page capture draws every section (no content-visibility: auto leaving blank areas).
    page.set_viewport_size({"width": 1400, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"html-report-{name}-1400.png"), full_page=True)
    report.clean()


def test_ten_thousand_resource_report_loads(browser, tmp_path):
    """The 10,000-resource estate (~130,000 results): under 5 MB, interactive in a few seconds,
    every result reachable through the filters and the pager."""
    doc = synthetic_doc(10_000)
    path = tmp_path / "estate-10k.html"
    path.write_text(render("html", doc), encoding="utf-8")
    assert path.stat().st_size < 5_000_000
    start = time.perf_counter()
    report = Loaded(browser, path)
    loaded = time.perf_counter() - start
    page = report.page
    ready_ms = float(page.locator("html").get_attribute("data-ready"))
    print(f"10,000 resources: {path.stat().st_size / 1e6:.2f} MB, ready after {ready_ms:.0f} ms ({loaded:.2f} s to load)")
    assert ready_ms < 10_000  # the goal is 2 s (benchmarks/html_report.py); CI machines are slower and shared
    total, needing = len(doc["results"]), len(attention(doc))
    assert report.shown() == f"{needing:,} of {total:,} results shown, rows 1–100"
    assert report.visible_rows() == 100
    assert page.locator("#f-range").inner_text().startswith(f"Rows 1–100 of {needing:,} (page 1 of ")
    page.click('#f-pager button[data-page="last"]')
    last = needing - (needing - 1) // 100 * 100
    assert report.visible_rows() == last
    page.select_option("#f-status", "pass")
    passing = sum(1 for r in doc["results"] if r["status"] == "pass")
    assert report.shown() == f"{passing:,} of {total:,} results shown, rows 1–100"
    page.fill("#f-search", "Volume00042")
    assert report.visible_rows() == sum(1 for r in doc["results"] if r["status"] == "pass" and r["resource_id"] == "Volume00042")
    page.select_option("#c-protected", "no")
    assert page.locator("#c-shown").inner_text() == f"5,000 of 10,000 resources shown, rows 1–100"
    assert not page.evaluate(CLIPPING)
    report.clean()


def test_hostile_payloads_stay_text(browser, tmp_path):
    doc = hostile_doc()
    report = open_report(browser, tmp_path, doc, "hostile.html")
    page = report.page
    page.mouse.move(300, 300)
    page.locator("#findings").scroll_into_view_if_needed()
    page.locator("#f-table tbody tr").first.hover()
    page.select_option("#f-status", "")
    page.select_option("#f-size", "1000")  # more than one page of 100 results
    page.fill("#f-search", "<script>")
    assert report.visible_rows() == len(doc["results"])  # every message carries the payload, as text
    body = page.locator("body").inner_text()
    for payload in PAYLOADS:
        assert payload in body, payload
    page.select_option("#f-status", "waived")
    assert ("accepted" + " " + " ".join(PAYLOADS)) in page.locator("#f-table tbody").inner_text()
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 2  # the data block and the script
    assert page.evaluate("() => document.querySelectorAll('[onerror],[onload],[onmouseover]').length") == 0
    assert page.evaluate("() => [...document.querySelectorAll('a[href]')].every(a => a.href.startsWith('https://') || "
                         "a.getAttribute('href').startsWith('#'))")
    assert page.locator('[data-count="waived"] .num').inner_text() == "2"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "html-report-hostile.png"))
    report.clean()
