"""The GitHub Action (action.yml): its lint step runs as a script with the environment GitHub gives it,
and its inputs, outputs, script and documentation agree."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
SCRIPT = ROOT / "action" / "run.py"
STEPS = ACTION["runs"]["steps"]
LINT_STEP = next(step for step in STEPS if step.get("id") == "lint")
CONTEXT = "--region us-east-1 --account-id 111122223333"


def _run_module():
    spec = importlib.util.spec_from_file_location("action_run", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_module = _run_module()


# -- action.yml, the script and the docs agree ------------------------------------------------------


def test_every_input_is_documented_and_used():
    steps_text = yaml.safe_dump(STEPS)
    guide = (ROOT / "docs" / "ci.md").read_text("utf-8")
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"
        assert "default" in spec and spec.get("required") is False, name
        assert re.search(rf"inputs\.{re.escape(name)}\b", steps_text), f"input {name} is not used by any step"
        assert f"| `{name}` |" in guide, f"input {name} is not documented in docs/ci.md"


def test_the_lint_step_passes_exactly_the_inputs_the_script_reads():
    env = LINT_STEP["env"]
    assert set(env) == set(run_module.INPUTS)
    source = SCRIPT.read_text("utf-8")
    for variable, value in env.items():
        name = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", value).group(1)
        assert variable == "INPUT_" + name.upper().replace("-", "_")
        assert f'"{variable}"' in source
    assert LINT_STEP["run"] == 'python "$GITHUB_ACTION_PATH/action/run.py"'


def test_outputs_come_from_the_script_and_are_documented():
    guide = (ROOT / "docs" / "ci.md").read_text("utf-8")
    source = SCRIPT.read_text("utf-8")
    for name, spec in ACTION["outputs"].items():
        assert spec["value"] == f"${{{{ steps.lint.outputs.{name} }}}}"
        assert spec["description"] and f"| `{name}` |" in guide
        counted = name.endswith("-count") and name.removesuffix("-count") in (*run_module.COUNTS, "waived")
        assert counted or f'"{name}"' in source, name


def test_sarif_is_uploaded_even_when_lint_fails_and_the_exit_code_fails_last():
    upload = next(step for step in STEPS if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["uses"].endswith("@v3")
    assert upload["if"].startswith("always()") and "inputs.upload-sarif == 'true'" in upload["if"]
    assert upload["with"] == {"sarif_file": "${{ steps.lint.outputs.sarif-file }}", "category": "${{ inputs.category }}"}
    last = STEPS[-1]
    assert last["if"] == "always()" and 'exit "$LINT_EXIT_CODE"' in last["run"]
    assert STEPS.index(upload) > STEPS.index(LINT_STEP)
    assert ACTION["runs"]["using"] == "composite"


def test_arguments_from_inputs(monkeypatch, tmp_path):
    for variable in run_module.INPUTS:
        monkeypatch.delenv(variable, raising=False)
    args, sarif = run_module.lint_arguments(tmp_path / "r.json")
    assert args == ["lint", ".", "--output", "sarif=backupguard.sarif", "--output", f"json={tmp_path / 'r.json'}"]
    monkeypatch.setenv("INPUT_PATHS", "infra 'stacks/with space'")
    monkeypatch.setenv("INPUT_FRAMEWORK", "aws-backup-audit-manager, pci-dss-4")
    monkeypatch.setenv("INPUT_FAIL_ON", "high")
    monkeypatch.setenv("INPUT_BASELINE", ".backupguard-baseline.json")
    monkeypatch.setenv("INPUT_SARIF_FILE", "out/bg.sarif")
    monkeypatch.setenv("INPUT_EXTRA_ARGS", "--region eu-west-1 --var 'name=a b'")
    args, sarif = run_module.lint_arguments(tmp_path / "r.json")
    assert sarif == "out/bg.sarif"
    assert args == ["lint", "infra", "stacks/with space", "--framework", "aws-backup-audit-manager", "--framework",
                    "pci-dss-4", "--fail-on", "high", "--baseline", ".backupguard-baseline.json",
                    "--output", "sarif=out/bg.sarif", "--output", f"json={tmp_path / 'r.json'}",
                    "--region", "eu-west-1", "--var", "name=a b"]


# -- the lint step, run as GitHub runs it ------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path) -> Path:
    """A repository checkout: the bundled examples (one compliant estate, one that breaks many rules)."""
    repo = tmp_path / "workspace"
    shutil.copytree(ROOT / "examples" / "compliant", repo / "stacks" / "compliant")
    shutil.copytree(ROOT / "examples" / "noncompliant", repo / "stacks" / "noncompliant")
    (repo / "README.md").write_text("# infra\n")
    return repo


def run_step(workspace: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, dict[str, str], str]:
    """The lint step with the environment GitHub gives a composite step's `run` (the action's env mapping,
    GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, GITHUB_ACTION_PATH), in the workspace."""
    runner_temp = workspace.parent / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    output, summary = runner_temp / "output.txt", runner_temp / "summary.md"
    for step_file in (output, summary):  # each step has its own (GitHub creates them empty)
        step_file.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    env.update({
        "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(runner_temp),
        "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_WORKSPACE": str(workspace), "GITHUB_ACTIONS": "true",
    })
    for variable, value in LINT_STEP["env"].items():  # the action's defaults, then the test's inputs
        name = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", value).group(1)
        env[variable] = inputs.get(name.replace("-", "_"), ACTION["inputs"][name].get("default", ""))
    script = LINT_STEP["run"].replace('"$GITHUB_ACTION_PATH/action/run.py"', str(SCRIPT))
    assert script.startswith("python ")
    done = subprocess.run([sys.executable, SCRIPT], cwd=workspace, env=env, capture_output=True, text=True, timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text("utf-8").splitlines())
    return done, outputs, summary.read_text("utf-8")


def test_findings_give_sarif_outputs_and_a_summary_and_keep_lint_exit_code(workspace):
    done, outputs, summary = run_step(workspace, extra_args=CONTEXT, fail_on="high")
    assert done.returncode == 0, done.stderr  # the step itself succeeds so that the SARIF upload runs
    assert outputs["exit-code"] == "1"
    assert outputs["sarif-file"] == "backupguard.sarif"
    sarif = json.loads((workspace / "backupguard.sarif").read_text("utf-8"))
    assert sarif["version"] == "2.1.0"
    located = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert located == {"stacks/noncompliant/backup-estate.yaml"}
    doc = json.loads(Path(outputs["json-file"]).read_text("utf-8"))
    by_status = doc["summary"]["by_status"]
    assert int(outputs["fail-count"]) == by_status["fail"] > 10
    assert outputs["unknown-count"] == str(by_status["unknown"])
    assert outputs["error-count"] == "0" and int(outputs["pass-count"]) > 50 and outputs["waived-count"] == "0"
    assert summary.startswith("### ❌ backupguard:")
    assert "stacks/noncompliant/backup-estate.yaml" in done.stdout and "files scanned" in done.stdout  # the log
    assert done.stdout.splitlines()[0].startswith("backupguard lint . --fail-on high --output sarif=backupguard.sarif")
    assert done.stdout.rstrip().endswith("backupguard exit code: 1")


def test_a_compliant_checkout_exits_0(workspace):
    done, outputs, summary = run_step(workspace, paths="stacks/compliant", extra_args=CONTEXT,
                                      framework="aws-backup-audit-manager", sarif_file="reports/bg.sarif")
    assert outputs["exit-code"] == "0", done.stdout + done.stderr
    assert outputs["fail-count"] == "0" and outputs["sarif-file"] == "reports/bg.sarif"
    assert (workspace / "reports" / "bg.sarif").is_file()  # its folder is created
    assert summary.startswith("### ✅ backupguard:")
    assert "aws-backup-audit-manager" in summary


def test_fail_on_never_and_a_usage_error(workspace):
    _, outputs, _ = run_step(workspace, extra_args=CONTEXT, fail_on="never")
    assert outputs["exit-code"] == "0"
    done, outputs, summary = run_step(workspace, framework="no-such-framework")
    assert done.returncode == 0
    assert outputs["exit-code"] == "2" and "sarif-file" not in outputs and outputs["json-file"] == ""
    assert "no framework 'no-such-framework'" in done.stderr
    assert summary.startswith("### ⛔ backupguard could not run (exit code 2)")


def test_custom_rules_through_extra_args(workspace):
    shutil.copytree(ROOT / "examples" / "custom-rules" / "rules", workspace / "policy" / "rules")
    _, outputs, _ = run_step(workspace, paths="stacks/compliant", extra_args=f"{CONTEXT} --rules-dir policy/rules")
    doc = json.loads(Path(outputs["json-file"]).read_text("utf-8"))
    assert {r["status"] for r in doc["results"] if r["rule_id"] == "ACME-101"} == {"fail"}  # no backup:owner tag


def test_a_baseline_accepts_the_known_findings(workspace):
    """With the previous run's JSON as the baseline, every finding is already known: the step passes."""
    _, first, _ = run_step(workspace, extra_args=CONTEXT)
    baseline = workspace / ".backupguard-baseline.json"
    shutil.copy(first["json-file"], baseline)
    done, outputs, _ = run_step(workspace, extra_args=CONTEXT, baseline=baseline.name)
    assert outputs["exit-code"] == "0", done.stderr
    doc = json.loads(Path(outputs["json-file"]).read_text("utf-8"))
    assert {r["baseline"] for r in doc["results"] if r["status"] == "fail"} == {"unchanged"}
