#!/usr/bin/env python3
"""Accuracy report: precision and recall of failing verdicts on the annotated fixtures and the corpus.

Run from the repository root: ``python benchmarks/accuracy.py``. The fixture
figures come from tests/fixtures/rules (every annotated rule x resource); the
corpus figures from the third-party labels in ../shared/corpus/expected.json
(skipped when absent). Unknown verdicts are counted separately: they are
neither a detection nor a miss.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from conftest import CORPUS, lint_paths  # noqa: E402
from test_rule_fixtures import FIXTURE_FILES, _resource_key, annotations  # noqa: E402


def fixture_table() -> Counter:
    counts: Counter = Counter()
    for path in FIXTURE_FILES:
        expected = annotations(path)
        results = lint_paths([path])
        for (rule_id, resource), wanted in expected.items():
            got = {r.status for r in results if r.rule_id == rule_id and _resource_key(r.resource_id or "") == resource}
            counts[(wanted, "fail" if "fail" in got else "unknown" if "unknown" in got else "pass")] += 1
    return counts


def report(name: str, counts: Counter) -> None:
    tp, fp = counts[("fail", "fail")], sum(n for (w, g), n in counts.items() if g == "fail" and w != "fail")
    fn = sum(n for (w, g), n in counts.items() if w == "fail" and g != "fail")
    total = sum(counts.values())
    exact = sum(n for (w, g), n in counts.items() if w == g)
    print(f"{name}: {total} labelled verdicts, {exact} exact ({exact / total:.1%})")
    print(f"  failing verdicts: precision {tp / (tp + fp) if tp + fp else 1:.3f}, recall {tp / (tp + fn) if tp + fn else 1:.3f}")
    print("  expected -> got: " + ", ".join(f"{w}->{g} {n}" for (w, g), n in sorted(counts.items())))


if __name__ == "__main__":
    report(f"annotated fixtures ({len(FIXTURE_FILES)} files)", fixture_table())
    if CORPUS.is_dir():
        from corpus_labels import comparisons, precision_recall

        rows = comparisons()
        agreeing = sum(row["agrees"] for row in rows)
        precision, recall = precision_recall(rows)
        print(f"corpus labels (CloudFormation and Terraform): {agreeing}/{len(rows)} agree; "
              f"precision {precision:.3f}, recall {recall:.3f}")
    else:
        print("corpus: ../shared/corpus not present, skipped")
