"""The lint step of the backupguard GitHub Action (action.yml), as a script a test can run.

It runs ``backupguard lint`` with the action's inputs (environment variables ``INPUT_*``, set by
action.yml), writes SARIF for code scanning and the JSON result document, prints the terminal summary
to the log, appends a Markdown summary to ``$GITHUB_STEP_SUMMARY`` and writes step outputs to
``$GITHUB_OUTPUT``: ``exit-code``, ``sarif-file`` (only when the file was written), ``json-file`` and
the counts ``fail-count``, ``unknown-count``, ``error-count``, ``pass-count``, ``waived-count``.

It exits 0 whatever lint found, so that the SARIF upload step runs; the action's last step then
fails with lint's exit code (0 compliant, 1 findings at fail-on, 2 usage or input error). Only the
standard library is used; backupguard is run with this interpreter (``python -m backupguard``), the
one the action installed it into, through its command line (so a pinned older ``version`` works).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

# Environment variables action.yml passes to this step (tests check both sides agree).
INPUTS = ("INPUT_PATHS", "INPUT_FRAMEWORK", "INPUT_CONFIG", "INPUT_FAIL_ON", "INPUT_BASELINE", "INPUT_SARIF_FILE",
          "INPUT_EXTRA_ARGS")
COUNTS = ("fail", "unknown", "error", "pass")


def _input(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def lint_arguments(json_file: Path) -> tuple[list[str], str]:
    """``backupguard lint`` arguments from the inputs, and the SARIF file they write."""
    sarif = _input("INPUT_SARIF_FILE", "backupguard.sarif")
    args = ["lint", *shlex.split(_input("INPUT_PATHS", "."))]
    for framework in re.split(r"[\s,]+", _input("INPUT_FRAMEWORK")):
        if framework:
            args += ["--framework", framework]
    for option, name in (("--config", "INPUT_CONFIG"), ("--fail-on", "INPUT_FAIL_ON"), ("--baseline", "INPUT_BASELINE")):
        if _input(name):  # only when set: a backupguard without the option still runs the others
            args += [option, _input(name)]
    args += ["--output", f"sarif={sarif}", "--output", f"json={json_file}"]
    args += shlex.split(_input("INPUT_EXTRA_ARGS"))
    return args, sarif


def backupguard(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backupguard", *args], **kwargs)


def _append(variable: str, text: str) -> None:
    target = os.environ.get(variable)
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)


def main() -> int:
    folder = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir())
    json_file = folder / f"backupguard-{os.getpid()}.json"
    args, sarif = lint_arguments(json_file)
    Path(sarif).parent.mkdir(parents=True, exist_ok=True)
    Path(sarif).unlink(missing_ok=True)  # a stale report (a reused workspace) must never be uploaded as this run's
    print("backupguard " + shlex.join(args), flush=True)
    # Lint prints nothing to stdout when every format goes to a file; its errors go to stderr (the log).
    code = backupguard(*args, stdout=subprocess.DEVNULL).returncode
    outputs = {"exit-code": str(code), "json-file": str(json_file) if json_file.is_file() else ""}
    if Path(sarif).is_file():
        outputs["sarif-file"] = sarif
    if json_file.is_file():
        backupguard("report", str(json_file), "--format", "text")  # the terminal summary, in the log
        summary = backupguard("report", str(json_file), "--format", "markdown", capture_output=True, text=True)
        _append("GITHUB_STEP_SUMMARY", summary.stdout)
        doc = json.loads(json_file.read_text("utf-8"))
        by_status = doc.get("summary", {}).get("by_status", {})
        for status in COUNTS:
            outputs[f"{status}-count"] = str(by_status.get(status, 0))
        outputs["waived-count"] = str(doc.get("summary", {}).get("waived", 0))
    else:
        _append("GITHUB_STEP_SUMMARY", f"### ⛔ backupguard could not run (exit code {code})\n\nSee the step's log.\n")
    _append("GITHUB_OUTPUT", "".join(f"{name}={value}\n" for name, value in outputs.items()))
    print(f"backupguard exit code: {code}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
