"""Sources -> Estate. Finds input files, hands each to its source, and never stops at a broken one.

The scanner knows nothing of rules or reports: it returns an :class:`Estate`
whose ``errors`` hold one located :class:`InputError` per file it could not read.
"""

from __future__ import annotations

import codecs
import fnmatch
import json
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from backupguard.estate import Estate, InputError, Origin
from backupguard.scanner.cloudformation import CfnOptions, TemplateError, looks_like_template, parse_template
from backupguard.scanner.cloudformation.loader import load_text
from backupguard.scanner.paths import OutsideRoot, forget_real_paths, inside, real_path, scan_root
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
    """Relative to the working directory when below it (stable across machines), else as given.

    Only the folders are resolved (never the file's own symlink, which may loop), and a name
    with bytes that are not UTF-8 is shown with ``\\xNN`` escapes so that every report can encode it.
    """
    return display_paths()(path)


def display_paths() -> Callable[[Path], str]:
    """:func:`display_path` for the many paths of one run: the working directory and each folder
    are resolved once (``realpath`` walks every part of a path, for every file it is asked about)."""
    cwd = Path(os.path.realpath(Path.cwd()))
    forget_real_paths()

    def shown(path: Path) -> str:
        real = Path(_real_folders(path))
        try:
            shown = real.relative_to(cwd).as_posix()
        except ValueError:
            shown = path.as_posix()
        return encodable(shown)

    return shown


def _real_folders(path: Path) -> str:
    """The absolute path with its folders' symlinks resolved (each folder once: paths.real_path)
    but not the file's own (which may loop)."""
    absolute = os.path.abspath(path)
    return os.path.join(real_path(os.path.dirname(absolute)), os.path.basename(absolute))


def encodable(name: str) -> str:
    """A file name as text every report can encode: undecodable bytes (surrogate escapes) as ``\\xNN``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def root_relative(root: Path) -> Callable[[Path], str]:
    """Names of files relative to the scan root: what results are identified by (fingerprints),
    whichever folder backupguard runs from. A path outside the root is named absolutely."""
    forget_real_paths()
    named: dict[str, str] = {}  # a Terraform file is named by each of its module's loads and suppressions

    def name(path: Path) -> str:
        key = os.fspath(path)
        found = named.get(key)
        if found is None:
            relative = os.path.relpath(_real_folders(path), root)
            shown = os.path.abspath(path) if relative == ".." or relative.startswith("../") else relative
            found = named[key] = encodable(Path(shown).as_posix())
        return found

    return name


def source_relative(root: Path) -> Callable[[str], str]:
    """File names as results show them (relative to the working directory, or absolute) -> relative
    to ``root`` when they lie below it, else unchanged: SARIF URIs for GitHub, which resolves them
    against the repository root wherever backupguard ran from. ``<stdin>`` stays as it is."""
    cwd = os.path.realpath(Path.cwd())
    base = os.path.realpath(root)

    def relative(name: str) -> str:
        if name == STDIN_NAME:
            return name
        rel = os.path.relpath(os.path.normpath(os.path.join(cwd, name)), base)
        if rel == ".." or rel.startswith("../") or os.path.isabs(rel):
            return name
        return Path(rel).as_posix()

    return relative


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


@dataclass(frozen=True)
class Refused:
    """A path the walk found but will not read, and why (it becomes one located error)."""

    path: Path
    message: str


def discover(
    folder: Path,
    exclude: tuple[str, ...] = (),
    suffixes: frozenset[str] = TEMPLATE_SUFFIXES,
    *,
    root: Path | None = None,
    refused: list[Refused] | None = None,
) -> list[Path]:
    """Candidate files under ``folder`` in a stable order (content decides later).

    Nothing whose real path is outside ``root`` is returned, symlinked folders are not
    followed, and what cannot be read (an unreadable folder, a symlink loop, a name that is
    not UTF-8, a link out of the tree) is appended to ``refused`` instead of being skipped
    silently.
    """
    found: list[Path] = []
    refused = refused if refused is not None else []

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else folder
        refused.append(Refused(where, f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable):
        here = Path(dirpath)
        kept = []
        for name in sorted(d for d in dirnames if d not in SKIPPED_DIRS):
            path = here / name
            if _excluded(path.relative_to(folder).as_posix(), exclude):
                continue
            if path.is_symlink() and not inside(path, root):
                refused.append(Refused(path, str(OutsideRoot(encodable(name), root))))  # type: ignore[arg-type]
            elif not path.is_symlink():  # a link inside the tree is not followed (no loops, no file read twice)
                kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            path = here / name
            if path.suffix.lower() not in suffixes:
                continue
            if _excluded(path.relative_to(folder).as_posix(), exclude):
                continue
            problem = _refusal(path, root)
            if problem:
                refused.append(Refused(path, problem))
            else:
                found.append(path)
    return found


def _refusal(path: Path, root: Path | None) -> str | None:
    """Why a file must not be read (not UTF-8 named, unreadable, a loop, outside the root), else None."""
    if encodable(path.name) != path.name:
        return "file name is not valid UTF-8; not scanned"
    try:
        os.stat(path)
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    if not inside(path, root):
        return str(OutsideRoot(path.name, root))  # type: ignore[arg-type]
    return None


def _decode(data: bytes, errors: str = "strict") -> str:
    """UTF-8 (with or without BOM), or UTF-16 with a BOM as Windows tools write it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors)
    return data.decode("utf-8-sig", errors)


def scan_file(path: Path, options: ScanOptions, *, explicit: bool, name: Callable[[Path], str] = display_path) -> Estate:
    """One file -> Estate. Walked files that are not ours are skipped quietly; a named (``explicit``)
    file that is not infrastructure as code at all (a workflow, a Kubernetes manifest, a README:
    pre-commit passes every staged file) is skipped with a note, and one that is IaC but broken is
    a located error."""
    shown = name(path)
    if not inside(path, options.root):
        return _error(shown, TemplateError(str(OutsideRoot(shown, options.root))), True)  # type: ignore[arg-type]
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return _error(shown, TemplateError(f"cannot read file: {exc.strerror or exc}"), True)
    # A walked file is ours only if it looks like a template or a backup policy; others are skipped quietly.
    sample = _decode(data[:65536], errors="replace")
    if explicit:
        ours = _named_iac_hint(sample)
    else:
        ours = looks_like_template(sample) or looks_like_policy(sample)
    if len(data) > MAX_FILE_BYTES:
        problem = TemplateError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not scanned")
        return _error(shown, problem, True) if ours else _skipped(shown, explicit)
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return _error(shown, TemplateError("file is not UTF-8 text", line), True) if ours else _skipped(shown, explicit)
    if is_plan_text(text):
        return _guarded(shown, lambda: scan_plan(path, text, options.cfn.account_id, name, options.root))
    policy = looks_like_policy(text)
    if not explicit and (not ours and not policy or not looks_like_template(text) and not policy):
        return Estate()
    return _scan_text(shown, text, options, explicit=explicit, named_iac=lambda: _named_iac(path, text))


def _scan_text(shown: str, text: str, options: ScanOptions, *, explicit: bool,
               named_iac: Callable[[], bool] | None = None) -> Estate:
    """Template or backup policy text -> Estate; a named file's failure is an error only when
    ``named_iac`` says that it is IaC (else it is skipped with a note)."""
    try:
        if looks_like_policy(text):
            data = load_text(text)
            if is_policy(data):
                return parse_policy_file(shown, text, data)
        estate = parse_template(shown, text, options.cfn, strict=explicit)
    except TemplateError as exc:
        if explicit and named_iac is not None and not named_iac():
            return _skipped(shown, True)
        last = text.count("\n") + (0 if text.endswith("\n") else 1)  # an error "after the end" is on the last line
        if exc.line > max(last, 1):
            exc.line, exc.column = max(last, 1), 1
        return _error(shown, exc, True)
    except RecursionError:
        return _error(shown, TemplateError("nesting is too deep to evaluate"), True)
    except Exception as exc:  # noqa: BLE001 - one odd file must never stop the scan of the others
        return _error(shown, TemplateError(f"internal error while reading this file ({type(exc).__name__}: {exc}); please report it"), True)
    return estate or Estate()


NOT_IAC = "not a CloudFormation template, Terraform file, plan or backup policy; skipped"

# What a template that does not parse still shows: its format version or a top-level Resources key.
_TEMPLATE_MARK = re.compile(r'AWSTemplateFormatVersion|^Resources\s*:|"Resources"\s*:', re.M)
_RESOURCE_KEYS = frozenset({"Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy",
                            "Metadata", "CreationPolicy", "UpdatePolicy"})


def _named_iac_hint(sample: str) -> bool:
    """Cheap: may a named file's first 64 KiB be IaC (so that its size or encoding is an error, not a skip)?"""
    return bool(_TEMPLATE_MARK.search(sample) or looks_like_policy(sample) or '"format_version"' in sample)


def _named_iac(path: Path, text: str) -> bool:
    """Is a named file that failed to read as a template or policy infrastructure as code (then the
    failure is an error), or something else pre-commit passed (a workflow, a manifest, a README)?

    Read again only on failure: a template that reads is never parsed twice. Parsed: a template
    format version, a Resources mapping with a resource-shaped entry, or a backup policy's plans.
    Not parsed (broken YAML or JSON): a template or policy file suffix and the marks of a template
    or policy in the text."""
    try:
        data = load_text(text)
    except (TemplateError, RecursionError):
        return path.suffix.lower() in TEMPLATE_SUFFIXES and bool(
            _TEMPLATE_MARK.search(text) or looks_like_policy(text) and '"plans"' in text
        )
    if not isinstance(data, dict):
        return False
    if "AWSTemplateFormatVersion" in data or "plans" in data and looks_like_policy(text):
        return True
    resources = data.get("Resources")
    return isinstance(resources, dict) and any(isinstance(r, dict) and _RESOURCE_KEYS & set(r) for r in resources.values())


def _skipped(shown: str, explicit: bool) -> Estate:
    """A file that is not ours: nothing when walked, a note when named."""
    return Estate(notes=[f"{shown}: {NOT_IAC}"]) if explicit else Estate()


PLAN_CONTENT = frozenset({"planned_values", "resource_changes", "configuration", "prior_state"})


def is_plan_text(text: str) -> bool:
    """A ``terraform show -json`` plan, by its structure wherever its keys are (not in a prefix window).

    A cheap marker test first; then the JSON must be an object with ``format_version`` (and
    ``terraform_version``, when present, a string) and plan content. JSON that does not parse
    but has the markers is handed to the plan source, which reports where it breaks.
    """
    if '"format_version"' not in text or not any(f'"{key}"' in text for key in PLAN_CONTENT):
        return False
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return looks_like_plan(text)
    return isinstance(data, dict) and "format_version" in data and bool(PLAN_CONTENT & data.keys())


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


STDIN = "-"  # a path argument that means standard input
STDIN_NAME = "<stdin>"  # the file name results from standard input carry

# A Terraform snippet: a top-level block (resource "type" "name" {, locals {, ...).
_HCL_BLOCK = re.compile(r'^(?:resource|data|module|provider|variable|locals|terraform|output)\b[^\n{=:]*\{', re.M)


def is_stdin(path: Path) -> bool:
    return str(path) == STDIN


def read_stdin() -> bytes:
    """Standard input, bounded like a file (one byte more than the limit, to tell that it is over)."""
    stream = getattr(sys.stdin, "buffer", None) or sys.stdin
    if stream is None:
        return b""
    data = stream.read(MAX_FILE_BYTES + 1)
    return data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data


def scan_stdin(data: bytes, options: ScanOptions) -> Estate:
    """A template, Terraform snippet, plan JSON or backup policy given on standard input, named
    ``<stdin>`` in results. What it holds is decided by content; anything else is an error (it was
    given explicitly). Terraform (a snippet or a plan) is read from a private temporary folder
    that is its own scan root: no other file is read with it."""
    if len(data) > MAX_FILE_BYTES:
        return _error(STDIN_NAME, TemplateError(f"standard input is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not scanned"), True)
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        return _error(STDIN_NAME, TemplateError("standard input is not UTF-8 text", data.count(b"\n", 0, exc.start) + 1), True)
    if not text.strip():
        return _error(STDIN_NAME, TemplateError("standard input is empty"), True)
    plan = is_plan_text(text)
    if plan or not text.lstrip().startswith("{") and _HCL_BLOCK.search(text):
        return _terraform_text(text, options, plan)
    return _scan_text(STDIN_NAME, text, options, explicit=True)


def _terraform_text(text: str, options: ScanOptions, plan: bool) -> Estate:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="backupguard-stdin-") as tmp:
        folder = Path(os.path.realpath(tmp))
        path = folder / ("plan.json" if plan else "stdin.tf")
        path.write_text(text, encoding="utf-8")
        name = lambda _path: STDIN_NAME  # noqa: E731 - every file of the folder is standard input
        if plan:
            return _guarded(STDIN_NAME, lambda: scan_plan(path, text, options.cfn.account_id, name, folder))
        terraform = replace(options.terraform, root=folder)
        return _guarded(STDIN_NAME, lambda: scan_module(folder, terraform, options.cfn.account_id, name))


def scan(paths: list[Path], options: ScanOptions | None = None, *, name: Callable[[Path], str] | None = None) -> Estate:
    """Scan files and folders into one Estate; each file is parsed once, and nothing outside the root is read.

    ``name`` turns a path into the file name results carry (default: relative to the working
    directory); the CLI passes :func:`root_relative` so that fingerprints do not depend on it.
    """
    options = options or ScanOptions()
    forget_real_paths()
    root = options.root or scan_root(paths)
    options = replace(options, root=root, terraform=replace(options.terraform, root=root))
    shown = name or display_paths()  # the working directory and each folder resolved once, not per file
    estate = Estate()
    seen: set[str] = set()

    def once(path: Path, explicit: bool) -> None:
        key = real_path(os.fspath(path))
        if key not in seen:  # overlapping arguments (a folder and a file in it) scan a file once
            seen.add(key)
            estate.extend(scan_file(path, options, explicit=explicit, name=shown))

    def module(directory: Path) -> None:
        key = real_path(os.fspath(directory))
        if key not in seen:
            seen.add(key)
            read = lambda: scan_module(directory, options.terraform, options.cfn.account_id, shown)  # noqa: E731
            estate.extend(_guarded(shown(directory), read))

    def refuse(path: Path, message: str) -> None:
        estate.extend(_error(shown(path), TemplateError(message), True))

    for given in paths:
        if is_stdin(given):
            if STDIN not in seen:  # standard input can be read once
                seen.add(STDIN)
                estate.extend(scan_stdin(read_stdin(), options))
        elif not os.path.lexists(given):
            refuse(given, "no such file or directory")
        elif not inside(given, root):
            refuse(given, str(OutsideRoot(encodable(given.as_posix()), root)))
        elif given.is_dir():
            refused: list[Refused] = []
            files = discover(given, options.exclude, TEMPLATE_SUFFIXES | {".tf"}, root=root, refused=refused)
            modules = root_modules(files, given, root)
            loaded = {real_path(os.fspath(d)) for d in modules}
            for problem in refused:
                # the module loader reports the Terraform files of the folders it loads, once
                if not (is_terraform_file(problem.path) and real_path(os.fspath(problem.path.parent)) in loaded):
                    refuse(problem.path, problem.message)
            for directory in modules:
                module(directory)
            for path in files:
                if not is_terraform_file(path):
                    once(path, False)
        elif (problem := _refusal(given, root)) is not None:
            refuse(given, problem)
        elif is_terraform_file(given):
            module(given.parent)
        else:
            once(given, True)
    return estate
