"""The HTML report (no browser): escaping, self-containment, numbers, determinism, empty and big documents.

The page is parsed with html.parser: hostile values from the document (tag values, resource
names, messages, titles, URLs) must come out as text, never as markup, attributes or links.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import subprocess
import sys
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.reports import render
from backupguard.reports.html import DOCS_BASE
from backupguard.reports.json_report import document

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FRAMEWORK = "aws-backup-audit-manager"

PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "'><svg onload=alert(1)>",
    "</style></script><script>alert(2)</script>",
)
HOSTILE = " " + " ".join(PAYLOADS)

# Every element the template writes; anything else in a page came from the data.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "b", "nav", "a", "section",
    "div", "span", "svg", "circle", "text", "rect", "line", "ul", "li", "table", "colgroup", "col", "thead",
    "tbody", "tr", "th", "td", "label", "select", "option", "optgroup", "input", "button", "code",
    "details", "summary", "dl", "dt", "dd", "footer", "script",
}


# ----------------------------------------------------------------------------- documents


@lru_cache(maxsize=1)
def _examples_json() -> str:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "doc.json"
        result = CliRunner().invoke(app, [
            "lint", str(EXAMPLES), "--region", "us-east-1", "--account-id", "111122223333",
            "--framework", FRAMEWORK, "--fail-on", "never", "--format", "json", "--output", str(out),
        ])
        assert result.exit_code == 0, result.output
        return out.read_text(encoding="utf-8")


def examples_doc() -> dict:
    """``backupguard lint examples/ --framework aws-backup-audit-manager -f json``, paths made relative."""
    doc = json.loads(_examples_json())
    prefix = EXAMPLES.parent.as_posix() + "/"

    def relative(value):
        if isinstance(value, str):
            return value.replace(prefix, "")
        if isinstance(value, list):
            return [relative(v) for v in value]
        if isinstance(value, dict):
            return {k: relative(v) for k, v in value.items()}
        return value

    return relative(doc)


def hostile_doc() -> dict:
    """The examples document with a hostile payload in every free-text value; enums and IDs stay valid.

    Two failures get a hostile waiver, so the summary is recomputed as the engine would.
    """
    doc = examples_doc()
    fails = [r for r in doc["results"] if r["status"] == "fail"]
    for result in fails[:2]:
        result["suppression"] = {"kind": "waiver", "reason": "accepted" + HOSTILE}
    for result in doc["results"]:
        for key in ("resource_id", "resource_type", "element", "file", "message"):
            if result.get(key) is not None or key == "element":
                result[key] = (result.get(key) or "") + HOSTILE
    for row in doc["inventory"]:
        for key in ("resource_id", "resource_type", "service", "file", "protected_by", "arn"):
            row[key] = (row.get(key) or "") + HOSTILE
        row["plans"] = [p + HOSTILE for p in row["plans"]] + [HOSTILE.strip()]
        row["copy_regions"] = row["copy_regions"] + [HOSTILE.strip()]
    doc["inventory"][0]["protected"] = {"unknown": "reason" + HOSTILE}
    doc["inventory"][0]["locked_vault"] = {"unknown": "reason" + HOSTILE}
    for rule in doc["rules"]:
        rule["title"] += HOSTILE
        rule["references"] = {**rule.get("references", {}), "other": ["ref" + HOSTILE], "x" + HOSTILE: "y" + HOSTILE}
    doc["rules"][0]["source_url"] = "javascript:alert(1)"
    doc["rules"][1]["source_url"] = 'https://example.com/" onmouseover="alert(1)'
    for framework in doc["frameworks"]:
        framework["title"] += HOSTILE
        framework["description"] = "about" + HOSTILE
        framework["source_url"] = "javascript:alert(1)"
        for control in framework["controls"]:
            control["title"] += HOSTILE
    scan = doc["scan"]
    scan["paths"] = [p + HOSTILE for p in scan["paths"]]
    scan["files"] = [f + HOSTILE for f in scan["files"]]
    scan["notes"] = ["note" + HOSTILE]
    scan["region"] += HOSTILE
    scan["account_id"] += HOSTILE
    scan["checks"][0]["parameters"] = {"p" + HOSTILE: "v" + HOSTILE}
    scan["extra" + HOSTILE] = "value" + HOSTILE
    doc["tool"]["version"] += HOSTILE
    doc["summary"]["waived"] = sum(1 for r in doc["results"] if r["suppression"])
    return doc


def poison_everything(value):
    """Every string of the document, IDs and statuses included, with the payloads appended."""
    if isinstance(value, str):
        return value + HOSTILE
    if isinstance(value, list):
        return [poison_everything(v) for v in value]
    if isinstance(value, dict):
        return {k: poison_everything(v) for k, v in value.items()}
    return value


def empty_doc() -> dict:
    scan = {"paths": [], "files": [], "region": None, "account_id": None, "notes": [], "checks": []}
    return document([], [], scan, [], [])


def big_doc(size: int = 4500) -> dict:
    """The examples' results repeated over many files, about ``size`` of them (the corpus is ~4,500)."""
    doc = examples_doc()
    base = doc["results"]
    results, inventory = [], []
    for i in range(size // len(base) + 1):
        for result in base:
            results.append({**result, "file": f"corpus/repo{i:03d}/{result['file']}", "message": result["message"] * 3})
        inventory.extend({**row, "file": f"corpus/repo{i:03d}/{row['file']}"} for row in doc["inventory"])
    doc["results"] = results[:size]
    doc["inventory"] = inventory
    doc["scan"]["files"] = sorted({r["file"] for r in results})
    return doc


# ----------------------------------------------------------------------------- parsing


class Page(HTMLParser):
    """Tags, attributes, scripts, styles and the text of a page, as a browser would read them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._raw: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._raw = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data):
        if self._raw == "script":
            self.scripts[-1] += data
        elif self._raw == "style":
            self.styles[-1] += data
        else:
            self.text.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def cell_numbers(html: str, key: str) -> str:
    match = re.search(rf'data-count="{key}"><span class="num">(\d+)</span>', html)
    assert match, f"no card for {key}"
    return match.group(1)


def csp_of(page: Page) -> dict[str, list[str]]:
    (meta,) = [a for a in page.find("meta") if (a.get("http-equiv") or "").lower() == "content-security-policy"]
    policy = {}
    for directive in meta["content"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def allowed_links(doc: dict) -> set[str]:
    rules = {r["id"] for r in doc.get("rules") or []}
    links = {f"{DOCS_BASE}{rule_id}.md" for rule_id in rules if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", rule_id)}
    links |= {r["source_url"] for r in (doc.get("rules") or []) + (doc.get("frameworks") or [])
              if isinstance(r.get("source_url"), str) and re.fullmatch(r"https://[^\s\"'<>`\\]+", r["source_url"])}
    return links


def assert_safe(html: str, doc: dict) -> Page:
    """No markup, attribute, script or link in the page that the template did not write."""
    page = Page(html)
    assert {t for t, _ in page.tags} <= TEMPLATE_TAGS, {t for t, _ in page.tags} - TEMPLATE_TAGS
    assert len(page.scripts) == 1 and len(page.styles) == 1
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)
        assert "src" not in attrs and "srcset" not in attrs and "style" not in attrs, (tag, attrs)
        for name, value in attrs.items():
            if value and "://" in value:
                assert (tag, name) == ("a", "href"), (tag, name, value)
        if tag == "a" and "href" in attrs:
            href = attrs["href"]
            assert href.startswith("#") or href in allowed_links(doc), href
    # The one script is ours: its hash is the CSP's, and it never writes markup.
    assert "innerHTML" not in page.scripts[0] and "insertAdjacentHTML" not in page.scripts[0]
    assert "document.write" not in page.scripts[0] and "eval(" not in page.scripts[0]
    policy = csp_of(page)
    assert policy["script-src"] == [sha256_source(page.scripts[0])]
    assert policy["style-src"] == [sha256_source(page.styles[0])]
    return page


# ----------------------------------------------------------------------------- tests


def test_render_dispatches_and_ends_with_newline():
    html = render("html", examples_doc())
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")


def test_hostile_values_are_escaped_everywhere():
    doc = hostile_doc()
    html = render("html", doc)
    page = assert_safe(html, doc)
    for payload in PAYLOADS:
        if payload != "{{ 7*7 }}":
            assert payload not in html, payload
    assert "<img" not in html and "<svg onload" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    # Shown as text: the resource names, messages, waivers and notes keep their payloads visibly.
    text = page.all_text
    for payload in PAYLOADS:
        assert text.count(payload) >= 10, payload
    assert "{{ 7*7 }}" in text and "note" + HOSTILE in text and "accepted" + HOSTILE in text
    # The unsafe source URLs are text, not links.
    assert not [a for a in page.find("a") if "example.com" in (a.get("href") or "") or "javascript" in (a.get("href") or "")]


def test_every_string_hostile_ids_and_statuses_included():
    doc = poison_everything(examples_doc())
    html = render("html", doc)
    page = assert_safe(html, doc)
    # Rule IDs with markup in them get no docs link; no result is lost.
    assert not [a for a in page.find("a") if (a.get("href") or "").startswith(DOCS_BASE)]
    assert len([a for t, a in page.tags if t == "tr" and "data-status" in a]) == len(doc["results"])
    for payload in PAYLOADS:
        if payload != "{{ 7*7 }}":
            assert payload not in html


def test_self_contained_with_strict_csp():
    doc = examples_doc()
    html = render("html", doc)
    page = assert_safe(html, doc)
    policy = csp_of(page)
    assert policy["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in " ".join(v for values in policy.values() for v in values)
    assert "'unsafe-eval'" not in html
    assert "url(" not in page.styles[0] and "@import" not in page.styles[0]
    assert "fetch(" not in page.scripts[0] and "XMLHttpRequest" not in page.scripts[0]
    # The only absolute URLs in markup are <a href> links: rule pages, and the rules' and frameworks' sources.
    urls = {v for _, attrs in page.tags for v in attrs.values() if v and "://" in v}
    hrefs = {a["href"] for a in page.find("a") if "href" in a}
    assert urls <= hrefs and not [u for u in urls if not u.startswith("https://")], urls - hrefs
    assert {f"{DOCS_BASE}BG101.md", f"{DOCS_BASE}BG401.md"} <= hrefs
    assert len([u for u in urls if u.startswith(DOCS_BASE)]) == len({r["id"] for r in doc["rules"]})


def test_headline_numbers_equal_the_document_summary():
    doc = hostile_doc()  # with waivers, so "waived" is not zero
    html = render("html", doc)
    summary = doc["summary"]
    assert summary["waived"] == 2
    assert cell_numbers(html, "results") == str(summary["results"])
    for status, count in summary["by_status"].items():
        assert cell_numbers(html, status) == str(count), status
    assert cell_numbers(html, "waived") == str(summary["waived"])
    page = Page(html)
    assert len(page.find("tr", data_status="waived")) == 2
    assert len([a for t, a in page.tags if t == "tr" and "data-status" in a]) == len(doc["results"])
    assert len(page.find("tr", data_attention="1")) == sum(
        1 for r in doc["results"] if r["status"] in ("fail", "unknown", "error") and not r["suppression"])
    failing = sum(summary["failing_by_severity"].values())
    assert f"<b>{failing}</b> failing result" in html
    # The donut's centre is the result count; its arcs add up to 100.
    assert re.search(rf'<text class="big"[^>]*>{summary["results"]}</text>', html)
    dashes = re.findall(r'class="arc k-[a-z_]+" cx="21" cy="21" r="15.9155" stroke-dasharray="([\d.]+) ', html)
    assert abs(sum(float(d) for d in dashes) - 100) < 0.01


def test_control_table_matches_the_framework_verdicts():
    doc = examples_doc()
    html = render("html", doc)
    page = Page(html)
    (framework,) = doc["frameworks"]
    assert framework["id"] == FRAMEWORK
    controls = framework["controls"]
    assert len(page.find("a", data_filter="fw")) == len(controls) + 1  # one per control + the framework's
    text = page.all_text
    for control in controls:
        assert control["id"] in text and control["title"] in text
        row = re.search(rf'<span class="mono">{control["id"]}</span>.*?</tr>', html, re.S).group(0)
        cells = re.findall(r'<td class="num">(\d+)</td>', row)
        counts = control["results"]
        assert cells == [str(counts["pass"]), str(counts["fail"]), str(counts["unknown"] + counts["error"]),
                         str(counts["waived"]), str(counts["not_applicable"])], control["id"]
    compliant = sum(1 for c in controls if c["status"] in ("pass", "waived"))
    assert f"<b>{compliant}</b> of {len(controls)} controls compliant in {FRAMEWORK}" in html
    assert "Non-compliant" in text and "Compliant" in text


def test_coverage_rules_notes_and_scan_metadata():
    doc = examples_doc()
    html = render("html", doc)
    page = Page(html)
    text = page.all_text
    coverage = html[html.index('id="coverage-table"'):html.index('id="findings"')]
    assert coverage.count("<tr>") == len(doc["inventory"]) + 1  # + the header row
    protected = sum(1 for row in doc["inventory"] if row["protected"] is True)
    assert f"<b>{protected}</b> of {len(doc['inventory'])} resources protected" in html
    for row in doc["inventory"]:
        assert row["resource_id"] in text
    assert "prod-plan" in text and "365 d" in text and "eu-west-1" in text
    for rule in doc["rules"]:
        assert rule["id"] in text and rule["title"] in text
    assert "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" in text and "required_retention_days=35" in text
    assert "us-east-1" in text and "111122223333" in text and f"backupguard {doc['tool']['version']}" in text
    assert "examples" in text
    noted = copy.deepcopy(doc)
    noted["scan"]["notes"] = ["template.yaml: skipped, not a template"]
    assert "template.yaml: skipped, not a template" in render("html", noted)


def test_deterministic_and_independent_of_result_order():
    doc = hostile_doc()
    first = render("html", doc)
    assert render("html", json.loads(json.dumps(doc))) == first
    shuffled = copy.deepcopy(doc)
    shuffled["results"].reverse()
    shuffled["inventory"].reverse()
    assert render("html", shuffled) == first
    # No clock in the page: the document has no timestamp, so neither does the report.
    assert not re.search(r"\b20\d\d-\d\d-\d\d[T ]\d\d:\d\d", first)


def test_empty_and_minimal_documents_render():
    doc = empty_doc()
    html = render("html", doc)
    assert_safe(html, doc)
    assert "No results." in html and "No protectable resources" in html and "No framework was selected" in html
    for key in ("results", "fail", "unknown", "error", "pass", "not_applicable", "waived"):
        assert cell_numbers(html, key) == "0"
    assert "<text class=\"big\" x=\"21\" y=\"22\">0</text>" in html
    bare = render("html", {})  # not even a summary: still a page, all zeros
    assert cell_numbers(bare, "results") == "0" and "No rule metadata" in bare


def test_without_javascript_every_finding_is_in_the_page():
    doc = examples_doc()
    html = render("html", doc)
    page = Page(html)
    (bar,) = page.find("div", id="filters")
    assert "hidden" in bar  # the filter bar appears only when the script runs
    text = page.all_text
    for result in doc["results"]:
        assert result["message"] in text
    # Most urgent first: every failing row comes before the first passing one.
    statuses = [a["data-status"] for t, a in page.tags if t == "tr" and "data-status" in a]
    assert statuses.index("pass") > max(i for i, s in enumerate(statuses) if s == "fail")


def test_big_document_renders_every_row():
    """Render time is measured in benchmarks/, not asserted here (shared machines are noisy)."""
    html = render("html", big_doc(4500))
    assert len([1 for _ in re.finditer(r"<tr data-status=", html)]) == 4500


def test_jinja2_is_imported_only_when_rendering():
    code = ("import sys, backupguard.reports.html as h; assert 'jinja2' not in sys.modules; "
            "h.render({}); assert 'jinja2' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_template_is_package_data():
    from importlib.resources import files

    assert (files("backupguard.reports") / "templates" / "report.html.j2").is_file()
    assert '"backupguard.reports" = ["templates/*.j2"]' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.parametrize("autoescape_probe", ["<b>bold</b>", "&amp;"])
def test_autoescape_is_on_for_the_j2_template(autoescape_probe):
    doc = empty_doc()
    doc["scan"]["notes"] = [autoescape_probe]
    html = render("html", doc)
    assert autoescape_probe.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in html
