"""Issue 8 items 11 and 9 (output part): reports are written atomically, and a failed output is named."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backupguard.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()


def test_a_full_disk_keeps_the_previous_report_and_writes_the_other_outputs(tmp_path: Path, monkeypatch):
    previous = tmp_path / "report.json"
    previous.write_text('{"previous": true}\n')
    sarif = tmp_path / "report.sarif"
    real = tempfile.NamedTemporaryFile

    class Full:
        """A temporary file whose writes fail after 16 KiB, as on a full disk."""

        def __init__(self, *args, **kwargs):
            self._file = real(*args, **kwargs)
            self.name = self._file.name
            self.written = 0

        def write(self, text: str) -> int:
            if Path(self.name).name.startswith(".report.json."):
                self._file.write(text[:16384])
                raise OSError(errno.ENOSPC, "No space left on device")
            return self._file.write(text)

        def __getattr__(self, name):
            return getattr(self._file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._file.close()

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", Full)
    result = runner.invoke(app, ["lint", str(EXAMPLES / "compliant"), "-o", f"json={previous}", "-o", f"sarif={sarif}"])
    assert result.exit_code == 2
    assert result.stderr == f"backupguard: error: {previous}: cannot write json report: No space left on device\n"
    assert previous.read_text() == '{"previous": true}\n'
    assert json.loads(sarif.read_text("utf-8"))["version"] == "2.1.0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.sarif"]  # no temporary file left


def test_reports_replace_the_previous_file_whole_and_keep_its_mode(tmp_path: Path):
    target = tmp_path / "out.json"
    target.write_text("old")
    target.chmod(0o640)
    result = runner.invoke(app, ["lint", str(EXAMPLES / "compliant"), "-o", f"json={target}"])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text("utf-8"))["schema_version"] == 1
    assert target.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_to_dev_full_is_one_clear_line_and_exit_2():
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "backupguard", "lint", str(EXAMPLES)],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == "backupguard: error: standard output: cannot write text report: No space left on device\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_a_closed_stdout_is_one_clear_line_and_exit_2():
    done = subprocess.run(["sh", "-c", f'"{sys.executable}" -m backupguard lint "{EXAMPLES}" >&-'],
                          stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == "backupguard: error: standard output: cannot write text report: standard output is closed\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_report_to_a_pipe_or_device_is_written_in_place_never_replaced(tmp_path):
    """`-o json=/dev/null` as root once renamed a regular file over the device: a target that exists
    and is not a regular file is written in place (here a named pipe, read by a thread)."""
    import stat
    import threading

    pipe = tmp_path / "report.pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text("utf-8")))
    reader.start()
    result = runner.invoke(app, ["lint", str(EXAMPLES / "compliant"), "-o", f"json={pipe}", "--fail-on", "never"])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)  # still the pipe, not a file renamed over it
    assert json.loads(received[0])["schema_version"]
    assert [p.name for p in tmp_path.iterdir()] == ["report.pipe"]  # no temporary file left behind
