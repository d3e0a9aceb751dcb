"""Sources -> Estate. Finds input files, hands each to its source, and never stops at a broken one.

The scanner knows nothing of rules or reports: it returns an :class:`Estate`
whose ``errors`` hold one located :class:`InputError` per file it could not read.
"""

from __future__ import annotations

import codecs
import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from backupguard.estate import Estate, InputError, Origin
from backupguard.scanner.cloudformation import CfnOptions, TemplateError, looks_like_template, parse_template
from backupguard.scanner.cloudformation.loader import load_text
from backupguard.scanner.org_policy import is_policy, looks_like_policy, parse_policy_file
from backupguard.scanner.terraform.plan import looks_like_plan
from backupguard.scanner.terraform.source import TerraformOptions, is_terraform_file, root_modules, scan_module, scan_plan

TEMPLATE_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".template", ".cfn"})
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".terraform", "__pycache__", ".venv", "venv", ".tox"})
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ScanOptions:
    cfn: CfnOptions = field(default_factory=CfnOptions)
    terraform: TerraformOptions = field(default_factory=TerraformOptions)
    exclude: tuple[str, ...] = ()
    root: Path | None = None  # the scan root (scanner.paths); None: computed from the scanned paths


def display_path(path: Path) -> str:
    """Relative to the working directory when below it (stable across machines), else as given."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    """True when the path, a folder on it, or a single path part matches a glob.

    ``legacy``, ``stacks/legacy``, ``stacks/legacy/*`` and ``**/legacy/**`` all
    exclude ``stacks/legacy/a.yaml``; ``*.json`` excludes every JSON file.
    """
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    candidates = prefixes + parts
    for pattern in patterns:
        pattern = pattern.strip("/")
        variants = {pattern, pattern[3:]} if pattern.startswith("**/") else {pattern}
        variants |= {v[:-3] for v in variants if v.endswith("/**")}
        if any(fnmatch.fnmatch(candidate, v) for v in variants for candidate in candidates):
            return True
    return False


def discover(root: Path, exclude: tuple[str, ...] = (), suffixes: frozenset[str] = TEMPLATE_SUFFIXES) -> list[Path]:
    """Candidate files under ``root`` in a stable order (content decides later)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix.lower() not in suffixes:
                continue
            if _excluded(path.relative_to(root).as_posix(), exclude):
                continue
            found.append(path)
    return found


def _decode(data: bytes, errors: str = "strict") -> str:
    """UTF-8 (with or without BOM), or UTF-16 with a BOM as Windows tools write it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors)
    return data.decode("utf-8-sig", errors)


def scan_file(path: Path, options: ScanOptions, *, explicit: bool) -> Estate:
    """One file -> Estate. ``explicit`` files must be templates; walked files may be skipped."""
    shown = display_path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return _error(shown, TemplateError(f"cannot read file: {exc.strerror or exc}"), True)
    # A walked file is ours only if it looks like a template or a backup policy; others are skipped quietly.
    sample = _decode(data[:65536], errors="replace")
    ours = explicit or looks_like_template(sample) or looks_like_policy(sample)
    if len(data) > MAX_FILE_BYTES:
        return _error(shown, TemplateError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not scanned"), ours)
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return _error(shown, TemplateError("file is not UTF-8 text", line), ours)
    policy = looks_like_policy(text)
    if looks_like_plan(sample):
        return _guarded(shown, lambda: scan_plan(path, text, options.cfn.account_id, display_path))
    if not ours and not policy or (not explicit and not looks_like_template(text) and not policy):
        return Estate()
    try:
        if policy:
            data = load_text(text)
            if is_policy(data):
                return parse_policy_file(shown, text, data)
        estate = parse_template(shown, text, options.cfn, strict=explicit)
    except TemplateError as exc:
        last = text.count("\n") + (0 if text.endswith("\n") else 1)  # an error "after the end" is on the last line
        if exc.line > max(last, 1):
            exc.line, exc.column = max(last, 1), 1
        return _error(shown, exc, True)
    except RecursionError:
        return _error(shown, TemplateError("nesting is too deep to evaluate"), True)
    except Exception as exc:  # noqa: BLE001 - one odd file must never stop the scan of the others
        return _error(shown, TemplateError(f"internal error while reading this file ({type(exc).__name__}: {exc}); please report it"), True)
    return estate or Estate()


def _guarded(shown: str, read: Callable[[], Estate]) -> Estate:
    """Run a source on one input; any failure becomes one located error, and the scan goes on."""
    try:
        return read()
    except TemplateError as exc:
        return _error(shown, exc, True)
    except RecursionError:
        return _error(shown, TemplateError("nesting is too deep to evaluate"), True)
    except Exception as exc:  # noqa: BLE001 - one odd input must never stop the scan of the others
        return _error(shown, TemplateError(f"internal error while reading this input ({type(exc).__name__}: {exc}); please report it"), True)


def _error(shown: str, exc: TemplateError, report: bool) -> Estate:
    if not report:
        return Estate()
    return Estate(files=[shown], errors=[InputError(exc.message, Origin(shown, exc.line, exc.column))])


def scan(paths: list[Path], options: ScanOptions | None = None) -> Estate:
    """Scan files and folders into one Estate; each file is parsed once."""
    options = options or ScanOptions()
    estate = Estate()
    seen: set[Path] = set()

    def once(path: Path, explicit: bool) -> None:
        key = path.resolve()
        if key not in seen:  # overlapping arguments (a folder and a file in it) scan a file once
            seen.add(key)
            estate.extend(scan_file(path, options, explicit=explicit))

    def module(directory: Path) -> None:
        key = directory.resolve()
        if key not in seen:
            seen.add(key)
            read = lambda: scan_module(directory, options.terraform, options.cfn.account_id, display_path)  # noqa: E731
            estate.extend(_guarded(display_path(directory), read))

    for root in paths:
        if root.is_dir():
            files = discover(root, options.exclude, TEMPLATE_SUFFIXES | {".tf"})
            for directory in root_modules(files, root):
                module(directory)
            for path in files:
                if not is_terraform_file(path):
                    once(path, False)
        elif is_terraform_file(root) and root.exists():
            module(root.parent)
        elif root.exists():
            once(root, True)
        else:
            shown = display_path(root)
            estate.extend(_error(shown, TemplateError("no such file or directory"), True))
    return estate
