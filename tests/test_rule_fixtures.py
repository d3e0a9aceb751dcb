"""One parametrised test over the whole catalogue (Semgrep-style annotated fixtures).

Each file in ``fixtures/rules`` says, for its resources, which rule must pass,
fail or be unknown: a ``# expect: BG101=fail BG201=pass`` comment above the
resource's logical ID (YAML), or ``Metadata: {backupguard-expect: {BG101: fail}}``
(JSON or YAML). Every fail or unknown result of a rule the fixture annotates must
be annotated, so a false positive fails the test as surely as a miss.

A fixture can also say *where* a result points: a trailing ``# @BG305`` (``// @BG305``
in Terraform; several: ``# @BG302 @BG303``) on a line says that the result of that
rule for the resource annotated above is on this line: on the attribute's own line
(``DeletionProtection: false  # @BG305``) or, for an absent attribute, on the
declaration (``DefaultDatabase:  # @BG305``, ``resource "aws_db_instance" "x" {  # @BG305``).
A marker may sit in another block of the same file (a Terraform lock configuration
that sets its vault's lock); it names a rule the resource's annotation expects.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backupguard.rules import load_catalogue
from backupguard.scanner.cloudformation.loader import load_text

from conftest import lint_paths

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
# CloudFormation fixtures are files; Terraform fixtures are module folders (tests/fixtures/rules/tf-*/).
FIXTURE_FILES = sorted(
    [p for p in FIXTURES.glob("*") if p.suffix in (".yaml", ".yml", ".json")]
    + [p for p in FIXTURES.glob("*") if p.is_dir()]  # Terraform fixtures: one folder per module
)
_EXPECT = re.compile(r"^\s*(?:#|//)\s*expect:\s*(.+)$")
_KEY = re.compile(r"^\s*([A-Za-z0-9]+)\s*:")
_TF_RESOURCE = re.compile(r'^\s*(?:resource\s+"([^"]+)"\s+"([^"]+)"|module\s+"([^"]+)")')
_PAIR = re.compile(r"(BG\d{3})=(pass|fail|unknown)")
_MARKER = re.compile(r"(?:#|//)(?:.*?\s)?@(BG\d{3}(?:\s+@BG\d{3})*)\s*$")


def annotations(path: Path) -> dict[tuple[str, str], str]:
    """(rule, resource) -> expected status, from comments and Metadata.

    In Terraform the resource is its address without instance keys; the
    expectation applies to every instance (``aws_ebs_volume.data["logs"]``...).
    """
    if path.is_dir():
        expected = {}
        for tf in sorted(path.rglob("*.tf")):
            expected.update(_comment_annotations(tf, _TF_RESOURCE, _tf_address))
        return expected
    expected = _comment_annotations(path, _KEY, lambda m: m.group(1))
    template = load_text(path.read_text("utf-8"))
    for logical_id, resource in (template.get("Resources") or {}).items():
        for rule_id, status in ((resource.get("Metadata") or {}).get("backupguard-expect") or {}).items():
            expected[(rule_id, logical_id)] = status
    return expected


def expected_lines(path: Path) -> dict[tuple[str, str], tuple[Path, int]]:
    """(rule, resource) -> (file, line) its result must point at, from ``@BGnnn`` markers."""
    files = sorted(path.rglob("*.tf")) if path.is_dir() else [path]
    declaration, name_of = (_TF_RESOURCE, _tf_address) if path.is_dir() else (_KEY, lambda m: m.group(1))
    found: dict[tuple[str, str], tuple[Path, int]] = {}
    for source in files:
        for key, line in _markers(source, declaration, name_of).items():
            assert key not in found, f"{source.name}: two markers for {key}"
            found[key] = (source, line)
    return found


def _markers(path: Path, declaration: re.Pattern[str], name_of) -> dict[tuple[str, str], int]:
    """Markers of one file, each for the resource whose annotation (the latest naming its rule) expects it."""
    found: dict[tuple[str, str], int] = {}
    current: dict[str, str] = {}  # rule -> the resource its latest annotation is about
    pending: list[tuple[str, str]] = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        match = _EXPECT.match(line)
        if match:
            inner = match.group(1).split()[0] if "=" not in match.group(1).split()[0] else ""
            pending.extend((rule_id, inner) for rule_id, _ in _PAIR.findall(match.group(1)))
            continue
        key = declaration.match(line) if pending and line.strip() and not line.lstrip().startswith(("#", "//")) else None
        if key:
            current.update({rule_id: name_of(key) + inner for rule_id, inner in pending})
            pending = []
        marker = _MARKER.search(line)
        if marker:
            for rule_id in re.findall(r"BG\d{3}", marker.group(1)):
                assert rule_id in current, f"{path.name}:{number}: @{rule_id} follows no annotation expecting it"
                found[(rule_id, current[rule_id])] = number
    return found


def _tf_address(match: re.Match[str]) -> str:
    return f"{match.group(1)}.{match.group(2)}" if match.group(1) else f"module.{match.group(3)}."


def _comment_annotations(path: Path, declaration: re.Pattern[str], name_of) -> dict[tuple[str, str], str]:
    """Annotations above declarations. Above a Terraform ``module`` block, an annotation names the
    resource inside the module first: ``# expect: aws_backup_plan.this BG101=fail``."""
    expected: dict[tuple[str, str], str] = {}
    pending: list[tuple[str, str, str]] = []
    for line in path.read_text("utf-8").splitlines():
        match = _EXPECT.match(line)
        if match:
            pairs = _PAIR.findall(match.group(1))
            assert pairs, f"{path.name}: unreadable annotation {line!r}"
            inner = match.group(1).split()[0] if "=" not in match.group(1).split()[0] else ""
            pending.extend((rule_id, status, inner) for rule_id, status in pairs)
            continue
        if not line.strip() or line.lstrip().startswith(("#", "//")):
            continue
        key = declaration.match(line)
        if pending:
            assert key, f"{path.name}: annotation not followed by a resource: {line!r}"
            for rule_id, status, inner in pending:
                expected[(rule_id, name_of(key) + inner)] = status
            pending = []
    return expected


def _resource_key(resource_id: str) -> str:
    """A Terraform address without instance keys or module instance keys; a logical ID unchanged."""
    return re.sub(r"\[[^\]]*\]", "", resource_id)


# Rules that need live evidence (recovery points, restore jobs) have no template fixtures, nor drift
# rules (they compare code with an account: tests/test_drift.py covers each of them).
TEMPLATE_RULES = {rule.id for rule in load_catalogue().values() if rule.evidence == "any"}


def test_fixtures_exist_for_every_rule():
    covered = {rule_id for path in FIXTURE_FILES for rule_id, _ in annotations(path)}
    assert TEMPLATE_RULES <= covered, sorted(TEMPLATE_RULES - covered)


def test_every_rule_has_pass_fail_and_unknown_fixtures():
    seen: dict[str, set[str]] = {}
    for path in FIXTURE_FILES:
        for (rule_id, _), status in annotations(path).items():
            seen.setdefault(rule_id, set()).add(status)
    missing = {rule: {"pass", "fail", "unknown"} - seen.get(rule, set()) for rule in TEMPLATE_RULES}
    assert not {rule: gap for rule, gap in missing.items() if gap}


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture(path: Path):
    expected = annotations(path)
    assert expected, f"{path.name} has no annotations"
    results = lint_paths([path])
    assert not [r for r in results if r.status == "error"], [r.message for r in results if r.status == "error"]
    actual: dict[tuple[str, str], set[str]] = {}
    for r in results:
        actual.setdefault((r.rule_id, _resource_key(r.resource_id or "")), set()).add(r.status)
    problems = []
    for key, status in sorted(expected.items()):
        got = actual.get(key, set())
        if got != {status}:
            problems.append(f"{key[0]} on {key[1]}: expected {status}, got {sorted(got) or 'no result'}")
    covered_rules = {rule_id for rule_id, _ in expected}
    for key, statuses in sorted(actual.items()):
        for status in statuses & {"fail", "unknown"}:
            if key[0] in covered_rules and key not in expected:
                problems.append(f"{key[0]} on {key[1]}: unannotated {status}")
    for (rule_id, resource), (source, line) in sorted(expected_lines(path).items()):
        assert (rule_id, resource) in expected, f"@{rule_id} for {resource}: not annotated"
        where = {(Path(r.file).resolve() if r.file else None, r.line) for r in results
                 if r.rule_id == rule_id and _resource_key(r.resource_id or "") == resource}
        if where != {(source.resolve(), line)}:
            shown = sorted(f"{f.name if f else None}:{n}" for f, n in where)
            problems.append(f"{rule_id} on {resource}: expected at {source.name}:{line}, got {shown}")
    assert not problems, "\n".join(problems)
