"""The HTML report in a real headless browser: Debian's chromium driven by playwright.

Skipped when /usr/bin/chromium or the playwright package is missing (CI installs both).
The page is loaded from file:// under its own CSP; the test listens for console errors
(a CSP violation is one), page errors, dialogs (an escaped payload that ran would open
one) and every network request, then uses the filters and sorting and saves a screenshot
to test-artifacts/html-report.png.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backupguard.reports import render
from test_html_report import PAYLOADS, examples_doc, hostile_doc

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
        self.page.goto(self.url, wait_until="load")

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visible_rows(self) -> int:
        return self.page.locator("#findings-table tbody tr[data-status]:visible").count()

    def clean(self) -> None:
        assert self.console == [], self.console
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        assert self.requests == [self.url], self.requests


def open_report(context, tmp_path: Path, doc: dict, name: str) -> Loaded:
    path = tmp_path / name
    path.write_text(render("html", doc), encoding="utf-8")
    return Loaded(context, path)


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
    # The script ran under the CSP (its hash matched): the filter bar is shown and counts rows.
    assert page.locator("#filters").is_visible()
    total = len(doc["results"])
    assert page.locator("#f-shown").inner_text() == f"{total} of {total} results shown"
    assert page.locator("svg rect").count() > 10 and page.locator("svg circle.arc").count() >= 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "html-report.png"), full_page=True)
    report.clean()


def test_search_filters_and_sorting(browser, tmp_path):
    doc = examples_doc()
    report = open_report(browser, tmp_path, doc, "report.html")
    page = report.page
    total = len(doc["results"])
    assert report.visible_rows() == total

    page.fill("#f-search", "SessionsTable")
    expected = sum(1 for r in doc["results"] if "sessionstable" in " ".join(
        str(r.get(k) or "") for k in ("resource_id", "message", "file", "rule_id")).lower())
    shown = report.visible_rows()
    assert 0 < shown < total and shown >= expected
    assert page.locator("#f-shown").inner_text() == f"{shown} of {total} results shown"
    page.press("#f-search", "Enter")  # nothing to submit: no navigation, no CSP report
    assert page.url == report.url
    page.fill("#f-search", "SessionsTable no-such-word")
    assert report.visible_rows() == 0 and page.locator("#f-none").is_visible()

    page.click("#f-reset")
    assert report.visible_rows() == total
    page.select_option("#f-status", "fail")
    assert report.visible_rows() == sum(1 for r in doc["results"] if r["status"] == "fail" and not r["suppression"])
    page.select_option("#f-status", "")
    page.select_option("#f-rule", "BG401")
    assert report.visible_rows() == sum(1 for r in doc["results"] if r["rule_id"] == "BG401")
    page.click("#f-reset")
    control = "aws-backup-audit-manager:BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"
    page.click(f'a[data-filter="fw"][data-value="{control}"]')  # the control's "findings" link
    assert page.locator("#f-fw").input_value() == control
    assert report.visible_rows() == sum(1 for r in doc["results"] if control in r["frameworks"])

    # Sorting: Status descending puts not-applicable results first; ascending puts failures first.
    page.click("#f-reset")
    status_header = page.locator("#findings-table thead th").first
    status_header.locator("button").click()
    assert status_header.get_attribute("aria-sort") == "ascending"
    assert page.locator("#findings-table tbody tr").first.get_attribute("data-status") == "fail"
    status_header.locator("button").click()
    assert status_header.get_attribute("aria-sort") == "descending"
    assert page.locator("#findings-table tbody tr").first.get_attribute("data-status") == "not_applicable"
    report.clean()


def test_hostile_payloads_stay_text(browser, tmp_path):
    doc = hostile_doc()
    report = open_report(browser, tmp_path, doc, "hostile.html")
    page = report.page
    page.mouse.move(300, 300)
    page.locator("#findings").scroll_into_view_if_needed()
    page.locator("#findings-table tbody tr").first.hover()
    page.fill("#f-search", "<script>")
    assert report.visible_rows() == len(doc["results"])  # every message carries the payload, as text
    body = page.locator("body").inner_text()
    for payload in PAYLOADS:
        assert payload in body, payload
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1
    assert page.evaluate("() => document.querySelectorAll('[onerror],[onload],[onmouseover]').length") == 0
    assert page.locator('[data-count="waived"] .num').inner_text() == "2"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "html-report-hostile.png"))
    report.clean()
