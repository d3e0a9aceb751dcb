"""Sources -> Estate. Finds input files, hands each to its source, and never stops at a broken one.

The scanner knows nothing of rules or reports: it returns an :class:`Estate`
whose ``errors`` hold one located :class:`InputError` per file it could not read.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from backupguard.estate import Estate, InputError, Origin
from backupguard.scanner.cloudformation import CfnOptions, TemplateError, looks_like_template, parse_template

TEMPLATE_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".template", ".cfn"})
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".terraform", "__pycache__", ".venv", "venv", ".tox"})
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class ScanOptions:
    cfn: CfnOptions = field(default_factory=CfnOptions)
    exclude: tuple[str, ...] = ()


def display_path(path: Path) -> str:
    """Relative to the working directory when below it (stable across machines), else as given."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    parts = rel.split("/")
    return any(
        fnmatch.fnmatch(rel, pattern) or any(fnmatch.fnmatch(part, pattern) for part in parts) for pattern in patterns
    )


def discover(root: Path, exclude: tuple[str, ...] = ()) -> list[Path]:
    """Candidate files under ``root`` in a stable order (content decides later)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix.lower() not in TEMPLATE_SUFFIXES:
                continue
            if _excluded(path.relative_to(root).as_posix(), exclude):
                continue
            found.append(path)
    return found


def scan_file(path: Path, options: ScanOptions, *, explicit: bool) -> Estate:
    """One file -> Estate. ``explicit`` files must be templates; walked files may be skipped."""
    shown = display_path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TemplateError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not scanned")
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return _error(shown, TemplateError("file is not UTF-8 text"), explicit)
    except TemplateError as exc:
        return _error(shown, exc, True)
    except OSError as exc:
        return _error(shown, TemplateError(f"cannot read file: {exc.strerror or exc}"), True)
    if not explicit and not looks_like_template(text):
        return Estate()
    try:
        estate = parse_template(shown, text, options.cfn, strict=explicit)
    except TemplateError as exc:
        return _error(shown, exc, True)
    except RecursionError:
        return _error(shown, TemplateError("nesting is too deep to evaluate"), True)
    return estate or Estate()


def _error(shown: str, exc: TemplateError, report: bool) -> Estate:
    if not report:
        return Estate()
    return Estate(files=[shown], errors=[InputError(exc.message, Origin(shown, exc.line, exc.column))])


def scan(paths: list[Path], options: ScanOptions | None = None) -> Estate:
    """Scan files and folders into one Estate; each file is parsed once."""
    options = options or ScanOptions()
    estate = Estate()
    for root in paths:
        if root.is_dir():
            for path in discover(root, options.exclude):
                estate.extend(scan_file(path, options, explicit=False))
        elif root.exists():
            estate.extend(scan_file(root, options, explicit=True))
        else:
            shown = display_path(root)
            estate.extend(_error(shown, TemplateError("no such file or directory"), True))
    return estate
