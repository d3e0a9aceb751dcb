"""The HTML report (no browser): escaping, self-containment, numbers, determinism, empty and big documents.

The page is parsed with html.parser: hostile values from the document (tag values, resource
names, messages, titles, URLs) must come out as text, never as markup, attributes or links.
The findings and the coverage table are also a JSON data block that the page's script renders:
it must be inert inside <script>, hold every result, and keep the file proportional (a
10,000-resource estate under 5 MB).
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
    "details", "summary", "dl", "dt", "dd", "footer", "script", "noscript",
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


def synthetic_doc(resources: int = 10_000) -> dict:
    """A result document shaped like the synthetic estate's (../shared/bench/gen_synthetic.py) at
    ``resources`` resources, built in Python in about a second instead of linting it: ~13 results per
    resource (about half failing, the rest passing or needing live evidence), a third of the failure
    messages naming their resource, one inventory row per resource, and the examples' rules and
    framework."""
    base = examples_doc()
    rules = [r["id"] for r in base["rules"]]
    tags = {}
    for result in base["results"]:
        tags.setdefault(result["rule_id"], result["frameworks"])
    severity = {r["id"]: r["severity"] for r in base["rules"]}
    kinds = ("Volume", "Table", "Database", "FileSystem", "Bucket")
    types = {"Volume": "AWS::EC2::Volume", "Table": "AWS::DynamoDB::Table", "Database": "AWS::RDS::DBInstance",
             "FileSystem": "AWS::EFS::FileSystem", "Bucket": "AWS::S3::Bucket"}
    results, inventory = [], []
    for i in range(resources):
        kind = kinds[i % len(kinds)]
        name, file, line = f"{kind}{i:05d}", f"stacks/stack{i // 1000:02d}/template.yaml", 4 + 12 * (i % 1000)
        protected = i % 2 == 0
        for j in range(13):
            rule_id = rules[(i + j) % len(rules)]
            status = ("fail", "fail", "pass", "not_applicable", "fail", "pass", "fail", "fail", "pass",
                      "not_applicable", "fail", "pass", "not_applicable")[(i + j) % 13]
            message = {
                "fail": f"{name}: no backup plan selects this {kind} resource" if j % 3 == 0
                else f"rule 'daily' keeps recovery points {j} days; required: 35 days",
                "pass": f"protected by plan 'plan-{i % 25:04d}' (selection 'selection-{i % 25:04d}')",
                "not_applicable": "needs live AWS evidence (recovery points); not decided from templates",
            }[status]
            results.append({
                "rule_id": rule_id, "status": status, "severity": severity[rule_id], "resource_id": name,
                "resource_type": types[kind], "element": None, "file": file, "line": line, "column": 3,
                "account_id": None, "region": None, "arn": None, "message": message, "values": {},
                "frameworks": tags.get(rule_id, []), "fingerprint": f"{i:08x}{j:02x}", "suppression": None,
                "baseline": None,
            })
        inventory.append({
            "resource_id": name, "resource_type": types[kind], "service": kind, "file": file, "line": line,
            "arn": None, "protected": protected,
            "protected_by": f"plan 'plan-{i % 25:04d}' (selection 'selection-{i % 25:04d}': tag backup=daily)"
            if protected else "no backup plan selects it",
            "plans": [f"plan-{i % 25:04d}"] if protected else [], "shortest_interval_hours": 24.0 if protected else None,
            "longest_retention_days": 365 if protected else None, "copy_regions": [], "copy_accounts": [],
            "cross_region_copy": False, "cross_account_copy": False, "locked_vault": protected and i % 4 == 0,
            "air_gapped": False,
        })
    by_status = {s: sum(1 for r in results if r["status"] == s) for s in ("fail", "unknown", "error", "pass", "not_applicable")}
    failing = {s: sum(1 for r in results if r["status"] == "fail" and r["severity"] == s)
               for s in ("critical", "high", "medium", "low", "info")}
    doc = {**base, "results": results, "inventory": inventory,
           "summary": {"results": len(results), "by_status": by_status, "waived": 0, "failing_by_severity": failing}}
    doc["scan"] = {**base["scan"], "paths": ["stacks"], "files": sorted({r["file"] for r in results})}
    return doc


def report_data(html: str) -> dict:
    """The page's data block, parsed as the page's script parses it."""
    (attrs,) = Page(html).find("script", id="report-data")
    assert attrs["type"] == "application/json"
    raw = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(raw)


def data_findings(data: dict) -> list[dict]:
    """Every result of the data block, decoded: as the page's script reads a row."""
    strings, findings = data["strings"], data["findings"]
    decoded = []
    for row in findings["rows"]:
        kind_index, subject_index, message, suppression, baseline = (row + [0, 0, 0])[:5]
        kind, subject = findings["kinds"][kind_index], findings["subjects"][subject_index]
        rule = findings["rules"][kind["r"]]
        decoded.append({
            "verdict": strings[kind["v"]], "severity": strings[kind["s"]], "rule_id": strings[rule[0]],
            "attention": kind["a"] == 1, "resource_id": strings[subject[0]], "location": strings[subject[3]],
            "message": strings[message],
            "tags": [strings[t[0]] for t in findings["tags"][kind["t"]]],
            "suppression": [strings[v] if isinstance(v, int) else v for v in findings["suppressions"][suppression - 1]]
            if suppression else None,
            "baseline": strings[findings["baselines"][baseline - 1][0]] if baseline else None,
        })
    return decoded


# ----------------------------------------------------------------------------- parsing


class Page(HTMLParser):
    """Tags, attributes, scripts, styles and the text of a page, as a browser would read them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []  # the code, not the JSON data block
        self.data: list[str] = []  # <script type="application/json">
        self.styles: list[str] = []
        self.text: list[str] = []
        self._raw: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._raw = "data" if tag == "script" and dict(attrs).get("type") == "application/json" else tag
            {"script": self.scripts, "style": self.styles, "data": self.data}[self._raw].append("")

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == self._raw or (tag == "script" and self._raw == "data"):
            self._raw = None

    def handle_data(self, data):
        if self._raw == "data":
            self.data[-1] += data
        elif self._raw == "script":
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
    assert len(page.scripts) == 1 and len(page.styles) == 1 and len(page.data) == 1
    # The data block is inert JSON: nothing in it can end the element, open a comment or a tag, or
    # end a line for an old parser; it is the value the script reads.
    data = page.data[0]
    assert not set(data) & {"<", ">", "&", "\u2028", "\u2029"}, "raw markup characters in the data block"
    assert isinstance(json.loads(data), dict)
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
    assert "{{ 7*7 }}" in text and "note" + HOSTILE in text
    # Waived results are rendered by the script from the data block: their reasons are strings there.
    assert "accepted" + HOSTILE in report_data(html)["strings"]
    # The unsafe source URLs are text, not links.
    assert not [a for a in page.find("a") if "example.com" in (a.get("href") or "") or "javascript" in (a.get("href") or "")]


def test_every_string_hostile_ids_and_statuses_included():
    doc = poison_everything(examples_doc())
    html = render("html", doc)
    page = assert_safe(html, doc)
    # Rule IDs with markup in them get no docs link (in the HTML or the data); no result is lost.
    assert not [a for a in page.find("a") if (a.get("href") or "").startswith(DOCS_BASE)]
    data = report_data(html)
    assert not [s for s in data["strings"] if s.startswith(DOCS_BASE)]
    assert len(data_findings(data)) == len(doc["results"])
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
    shown = data_findings(report_data(html))
    assert len([r for r in shown if r["verdict"] == "waived"]) == 2
    assert len(shown) == len(doc["results"])
    attention = sum(1 for r in doc["results"] if r["status"] in ("fail", "unknown", "error") and not r["suppression"])
    assert len([r for r in shown if r["attention"]]) == attention
    # Without JavaScript the table holds the results needing attention (the first page of them).
    assert len([a for t, a in page.tags if t == "tr" and "data-status" in a]) == attention
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
    coverage = html[html.index('id="c-table"'):html.index('id="rules"')]
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


def test_without_javascript_the_findings_needing_attention_are_in_the_page():
    doc = examples_doc()
    html = render("html", doc)
    page = Page(html)
    (bar,) = page.find("div", id="f-filters")
    assert "hidden" in bar  # the filter bar appears only when the script runs
    text = page.all_text
    attention = [r for r in doc["results"] if r["status"] in ("fail", "unknown", "error") and not r["suppression"]]
    assert 0 < len(attention) <= 100
    for result in attention:
        assert result["message"] in text
    assert "JavaScript is off" in text  # the <noscript> note says what needs the script
    # The data block has every result, most urgent first: every failure before the first pass.
    shown = data_findings(report_data(html))
    statuses = [r["verdict"] for r in shown]
    assert sorted(statuses) == sorted("waived" if r["suppression"] else r["status"] for r in doc["results"])
    assert statuses.index("pass") > max(i for i, s in enumerate(statuses) if s == "fail")
    # Passing and not-applicable results carry no message in the page (the JSON document has it).
    assert {r["message"] for r in shown if r["verdict"] in ("pass", "not_applicable")} == {""}
    assert {r["message"] for r in shown if r["verdict"] == "fail"} == {r["message"] for r in attention if r["status"] == "fail"}


def test_big_document_renders_every_row():
    """Render time is measured in benchmarks/html_report.py, not asserted here (shared machines are noisy)."""
    html = render("html", big_doc(4500))
    assert len(data_findings(report_data(html))) == 4500
    assert len(re.findall(r"<tr data-status=", html)) == 100  # the first page of findings needing attention


def test_ten_thousand_resources_stay_under_five_megabytes():
    """The 10,000-resource estate (~130,000 results) in a file a browser opens: under 5 MB, with
    every result and resource in the data block and one page of each written as HTML."""
    doc = synthetic_doc(10_000)
    assert len(doc["results"]) == 130_000
    html = render("html", doc)
    size = len(html.encode("utf-8"))
    assert size < 5_000_000, f"{size / 1e6:.1f} MB"
    data = report_data(html)
    assert len(data["findings"]["rows"]) == len(doc["results"]) and len(data["coverage"]["rows"]) == 10_000
    assert len(re.findall(r"<tr data-status=", html)) == 100
    # Proportional: about what the 1,000-resource estate takes, times ten.
    small = len(render("html", synthetic_doc(1_000)).encode("utf-8"))
    assert size < 12 * small, (size, small)


def suppressed_doc() -> dict:
    """The examples with an inline suppression, a config waiver (owner, ticket, expiry, where), a
    baseline (some failures new, some unchanged), a fixed count and a meta-finding (BG001, a stale
    waiver) whose rule is not in the document's rules."""
    doc = examples_doc()
    fails = [r for r in doc["results"] if r["status"] == "fail"]
    fails[0]["suppression"] = {"kind": "inline", "reason": "restored from the DR copy instead", "owner": None,
                               "ticket": None, "expires": None, "file": fails[0]["file"], "line": fails[0]["line"] - 1}
    fails[1]["suppression"] = {"kind": "waiver", "reason": "legacy vault until the migration", "owner": "team-storage",
                               "ticket": "OPS-42", "expires": "2027-01-31", "file": ".backupguard.yaml", "line": 12}
    for i, result in enumerate(doc["results"]):
        result["baseline"] = "unchanged" if i % 2 else "new"
    doc["results"].append({**fails[2], "rule_id": "BG001", "status": "fail", "severity": "low", "suppression": None,
                           "message": "waiver for BG201 (OPS-7) expired on 2024-01-01", "frameworks": [],
                           "resource_id": None, "resource_type": None, "file": ".backupguard.yaml", "line": 20,
                           "baseline": "new"})
    doc["summary"] = {**doc["summary"], "waived": 2, "fixed": 3}
    return doc


def test_suppressions_baseline_and_meta_findings_are_shown():
    doc = suppressed_doc()
    html = render("html", doc)
    page = assert_safe(html, doc)
    text = page.all_text
    # Cards: new and baselined failures, and what the baseline had that is gone.
    attention = [r for r in doc["results"] if r["status"] in ("fail", "unknown", "error") and not r["suppression"]]
    assert cell_numbers(html, "new") == str(sum(1 for r in attention if r["baseline"] == "new"))
    assert cell_numbers(html, "unchanged") == str(sum(1 for r in attention if r["baseline"] == "unchanged"))
    assert cell_numbers(html, "fixed") == "3" and cell_numbers(html, "waived") == "2"
    # Filters for the baseline state and the kind of suppression.
    assert {o["value"] for o in page.find("option") if o.get("value") in ("new", "unchanged", "inline", "waiver")} == {
        "new", "unchanged", "inline", "waiver"}
    assert page.find("select", id="f-baseline") and page.find("select", id="f-suppression")
    # Server-rendered rows: new failures first and marked; baselined ones marked and muted.
    rows = [a for t, a in page.tags if t == "tr" and "data-status" in a]
    states = [r.get("data-baseline") for r in rows]
    assert "new" in states and "unchanged" in states
    assert states.index("unchanged") > max(i for i, s in enumerate(states) if s == "new" and rows[i]["data-status"] == "fail")
    assert all(r.get("class") == "in-base" for r in rows if r.get("data-baseline") == "unchanged")
    assert "In baseline" in text and "New" in text
    # The meta-finding is a row like any other, without a docs link.
    assert "waiver for BG201 (OPS-7) expired on 2024-01-01" in text
    assert not [a for a in page.find("a") if (a.get("href") or "").endswith("/BG001.md")]
    # Suppressed results: kind, reason, owner, ticket, expiry and where, in the data for the script.
    shown = {tuple(r["suppression"]) for r in data_findings(report_data(html)) if r["suppression"]}
    assert ("waiver", "config waiver", "waiver", "legacy vault until the migration", "team-storage", "OPS-42",
            "2027-01-31", ".backupguard.yaml:12") in shown
    assert any(s[:4] == ("inline", "inline suppression", "inline", "restored from the DR copy instead") for s in shown)


def test_data_block_is_inert_inside_script():
    from backupguard.reports.html import script_json

    value = {"s": ["</script><script>alert(1)</script>", "<!-- x", "a & b > c", "line\u2028sep\u2029", "]]>"]}
    text = script_json(value)
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(text) == value
    doc = hostile_doc()
    doc["results"][0]["message"] = "</script><script>alert(3)</script> \u2028 & <!--"
    html = render("html", doc)
    assert_safe(html, doc)
    assert "</script><script>alert(3)" not in html


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
