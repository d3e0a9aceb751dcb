"""Property-based fuzzing of every input the tool reads (issue 8, "Done when").

Each example mutates one seed input (tests/fuzz_seeds/): a CloudFormation template
(YAML, JSON), an Organizations backup policy, a Terraform module (.tf, .tf.json,
.tfvars, ``--var``), the ``.backupguard.yaml`` config, or a result document for
``backupguard report``; and runs the real console entry point on it beside unmutated
neighbours, in a forked child with a wall-clock timeout and an address-space limit
(tests/fuzzing.py). The properties (``fuzzing.problems``): no "internal error", no
traceback, no crash, no timeout (so no run over the time and memory budget), no raw
control character or workflow command in human-facing output, every error located and
at most one per file, and every unmutated neighbour still reported with all its results.

Deterministic (derandomized, no example database) and bounded: about 25 examples per
input kind, no shrinking (a shrink step may be a timeout); a failure prints the
mutated input and the command that replays it. benchmarks/fuzz.py runs the same
mutations for longer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fuzzing  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="runs each example in a forked child")

EXAMPLES_PER_KIND = 25
FILE_KINDS = [k for k in fuzzing.KINDS if k != "report"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    fuzzing.warm_up()
    return tmp_path_factory.mktemp("fuzz")


class Baselines:
    """Each kind's unmutated run: its outcome and the neighbours' result keys (short repr: Hypothesis prints it)."""

    def __init__(self, workdir: Path) -> None:
        self.runs: dict[str, tuple[fuzzing.Outcome, set[tuple]]] = {}
        self.runs = {kind: fuzzing.baseline(kind, workdir / f"baseline-{kind}") for kind in FILE_KINDS}

    def __getitem__(self, kind: str) -> tuple[fuzzing.Outcome, set[tuple]]:
        return self.runs[kind]

    def __repr__(self) -> str:
        return f"Baselines({', '.join(self.runs)})"


@pytest.fixture(scope="module")
def baselines(workdir: Path) -> Baselines:
    return Baselines(workdir)


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_the_unmutated_seeds_scan_cleanly(kind, baselines):
    """The oracle's premise: without mutation there is nothing to report, and the neighbours have results."""
    outcome, keys = baselines[kind]
    case = fuzzing.unmutated_case(kind)
    assert fuzzing.problems(case, outcome, keys) == [], outcome.stderr
    doc = json.loads(outcome.reports["json"])
    assert [r for r in doc["results"] if r["status"] == "error"] == []
    assert {k[0] for k in keys} == set(fuzzing.NEIGHBOURS)


FUZZ = settings(
    max_examples=EXAMPLES_PER_KIND,
    derandomize=True,
    database=None,
    deadline=None,  # each run has its own wall-clock budget (fuzzing.TIMEOUT_SECONDS), enforced by killing the child
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def _check(case: fuzzing.Case, root: Path, expected: set[tuple]) -> None:
    outcome = fuzzing.run_case(case, root)
    found = fuzzing.problems(case, outcome, expected)
    assert not found, "\n" + fuzzing.reproducer(case, outcome, found)


@pytest.mark.parametrize("kind", FILE_KINDS)
@FUZZ
@given(data=st.data())
def test_a_mutated_input_gives_at_most_one_located_error_and_the_others_are_still_reported(kind, data, workdir, baselines):
    case = fuzzing.make_case(kind, fuzzing.HypothesisChooser(data))
    _check(case, workdir / kind, baselines[kind][1])


@FUZZ
@given(data=st.data())
def test_a_mutated_result_document_is_rendered_or_refused_by_name(data, workdir, baselines):
    result_doc = baselines["tf"][0].reports["json"].encode()
    case = fuzzing.make_case("report", fuzzing.HypothesisChooser(data), result_doc)
    _check(case, workdir / "report", set())
