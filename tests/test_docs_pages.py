"""The documentation as a whole: the index lists every page, links and anchors resolve, and what the
pages state about the code (the shipped frameworks, the example estates) is still true."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app
from backupguard.frameworks import load_frameworks

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _links(page: Path) -> list[str]:
    """Markdown links of the page, outside code blocks and code spans."""
    text = re.sub(r"^```.*?^```", "", page.read_text("utf-8"), flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    return [target for target in LINK.findall(re.sub(r"\n(?!\n)", " ", text))]


def _anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings."""
    text = re.sub(r"^```.*?^```", "", page.read_text("utf-8"), flags=re.MULTILINE | re.DOTALL)
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in anchors:
            n += 1
            candidate = f"{slug}-{n}"
        anchors.add(candidate)
    return anchors


def test_the_index_lists_every_page_in_order():
    index = DOCS / "README.md"
    listed = [link for link in _links(index) if "#" not in link and not link.startswith(("http", ".."))]
    pages = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    assert set(listed) == pages | {"rules/README.md"}, "docs/README.md must list every page of docs/"
    assert len(listed) == len(set(listed)), "each page once"
    assert listed[0] == "getting-started.md"  # reading order: start here
    assert "docs/README.md" in _links(ROOT / "README.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_and_anchors_resolve(page):
    for target in _links(page):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.exists(), f"{page.name}: link to {target}: no such file"
        if anchor and file.suffix == ".md":
            assert anchor in _anchors(file), f"{page.name}: link to {target}: no such heading"


def test_the_frameworks_table_is_current():
    text = (DOCS / "frameworks.md").read_text("utf-8")
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| (\d+) \|", text, re.MULTILINE))
    shipped = load_frameworks()
    assert set(rows) == set(shipped), "docs/frameworks.md: the shipped frameworks changed"
    assert {fid: int(count) for fid, count in rows.items()} == {fid: len(f.controls) for fid, f in shipped.items()}


def test_the_adoption_baseline_is_a_baseline_of_the_example(tmp_path, monkeypatch):
    """examples/adoption/backupguard-baseline.json is the example's baseline of an earlier day:
    MainVault not yet fixed, ScratchVault not yet added (docs/suppressions.md tells that story)."""
    committed = json.loads((ROOT / "examples" / "adoption" / "backupguard-baseline.json").read_text("utf-8"))
    monkeypatch.chdir(ROOT / "examples" / "adoption")
    monkeypatch.setenv("BACKUPGUARD_TODAY", "2026-06-30")
    written = CliRunner().invoke(app, ["baseline", ".", "-o", str(tmp_path / "today.json")])
    assert written.exit_code == 0, written.stderr
    today = json.loads((tmp_path / "today.json").read_text("utf-8"))
    then = {(f["rule_id"], f["resource_id"]): f["fingerprint"] for f in committed["findings"]}
    now = {(f["rule_id"], f["resource_id"]): f["fingerprint"] for f in today["findings"]}
    assert set(now) - set(then) == {("BG201", "ScratchVault")}  # new
    assert set(then) - set(now) == {("BG201", "MainVault")}  # fixed
    assert all(then[key] == now[key] for key in set(then) & set(now))  # unchanged: the same fingerprints


def test_the_example_estates_lint_without_errors():
    """Every folder of examples/ is linted together by the docs (ci.md, README): none may be an error."""
    result = CliRunner().invoke(app, ["lint", str(ROOT / "examples"), "-f", "json"])
    assert result.exit_code == 1, result.stderr
    statuses = {r["status"] for r in json.loads(result.stdout)["results"]}
    assert "error" not in statuses
