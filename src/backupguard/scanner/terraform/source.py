"""Terraform source: root modules (HCL) and plan JSON files -> Estate.

A folder of ``.tf`` (and ``.tf.json``) files is a module. When a folder is walked, every module
is linted as a root module except those another scanned module calls through a
local ``source`` ("./x", "../.."): those are evaluated where they are called,
with their caller's inputs, as Terraform does.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from backupguard.estate import Estate
from backupguard.scanner.paths import inside

_LOCAL_SOURCE = re.compile(r'\bsource"?\s*[=:]\s*"(\.{1,2}/[^"]*|\.{1,2})"')  # HCL and JSON syntax


TERRAFORM_SUFFIXES = (".tf", ".tf.json")  # configuration in native and in JSON syntax


def is_terraform_file(path: Path) -> bool:
    """A Terraform configuration file, in native (``.tf``) or JSON (``.tf.json``) syntax."""
    return path.name.endswith(TERRAFORM_SUFFIXES)


def terraform_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.iterdir() if path.is_file() and is_terraform_file(path))


@dataclass(frozen=True)
class TerraformOptions:
    variables: dict[str, str] = field(default_factory=dict)  # --var NAME=VALUE
    var_files: tuple[Path, ...] = ()  # --var-file
    root: Path | None = None  # the scan root (scanner.paths): nothing outside it is read


def root_modules(paths: list[Path], given: Path, root: Path | None = None) -> list[Path]:
    """The folders among ``paths`` (as found under ``given``) to lint as root modules.

    Folders with Terraform files, except those another of them calls as a local
    module; ``given`` itself is always a root when it holds .tf files. A file whose real
    path is outside ``root`` (else outside ``given``) is not read to find the calls.
    """
    folders = {path.parent for path in paths if is_terraform_file(path)}
    called: set[Path] = set()
    limit = root if root is not None else Path(os.path.realpath(given))
    for folder in folders:
        for tf in terraform_files(folder):
            if not inside(tf, limit):
                continue  # the module loader reports it, with its location
            try:
                text = tf.read_text("utf-8", errors="replace")
            except OSError:
                continue
            for source in _LOCAL_SOURCE.findall(text):
                target = (folder / source).resolve()
                if target != folder.resolve():
                    called.add(target)
    given_key = given.resolve()
    return sorted(f for f in folders if f.resolve() not in called or f.resolve() == given_key)


def scan_module(directory: Path, options: TerraformOptions, account_id: str | None,
                display: Callable[[Path], str]) -> Estate:
    """One root module -> Estate (with located errors and notes)."""
    from backupguard.scanner.terraform.module import load_module

    files = terraform_files(directory)
    loaded = load_module(directory, dict(options.variables), list(options.var_files), display=display, account_id=account_id,
                         root=options.root)
    if any(_DUPLICATE in error.message for error in loaded.errors) and len(files) > 1 and _standalone(files):
        # Scanner fixture folders hold one independent scenario per file (no file uses a name another
        # declares): Terraform would reject the folder as a module, so each file is linted as a module
        # of its own (and said so). A folder whose files use each other's names is one module, and a
        # duplicate address in it is the located error Terraform makes (the first declaration is kept).
        estate = Estate(notes=[f"{display(directory)}: files declare the same resources; each file was linted alone"])
        for tf in files:
            estate.extend(_estate(load_module(directory, dict(options.variables), list(options.var_files),
                                              display=display, files=[tf], account_id=account_id, root=options.root),
                                  account_id, display(tf)))
    else:
        estate = _estate(loaded, account_id, display(directory))
    estate.files.extend(display(path) for path in files)
    estate.suppressions.extend(_suppressions(files, [i.origin for i in loaded.instances], display, options.root))
    return estate


def _suppressions(files: list[Path], origins: list[Origin], display: Callable[[Path], str], root: Path | None) -> list:
    """The inline suppressions of the module's files and of the files its resources come from
    (local child modules), each file read once. A resource's file is known by its shown name: the
    path is the one below the scan root (or the working directory) that shows as that name."""
    from backupguard.scanner.suppressions import terraform

    paths = {display(path): path for path in files}
    for origin in origins:
        shown = origin.file
        if not shown or shown in paths:
            continue
        candidate = Path(shown) if Path(shown).is_absolute() or root is None else root / shown
        if candidate.is_file() and inside(candidate, root) and display(candidate) == shown:
            paths[shown] = candidate
    return [found for shown, path in sorted(paths.items()) if not path.name.endswith(".json")
            for found in terraform(path, shown)]


_DUPLICATE = "is declared more than once"

_REFERENCE = re.compile(
    r"(?<![\w.])(?:(var|local|module)\.([A-Za-z_][\w-]*)|data\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)"
    r"|([a-z][a-z0-9]*_[A-Za-z0-9_]+)\.([A-Za-z_][\w-]*))"
)


def _declared(path: Path) -> set[str] | None:
    """The names a file declares (``var.x``, ``local.x``, ``module.x``, ``data.t.n``, ``t.n``); None if unreadable."""
    from backupguard.scanner.terraform import hcl
    from backupguard.scanner.terraform.configuration import parse_cached

    try:
        parsed = parse_cached(path.read_bytes(), path.name.endswith(".json"))
    except (OSError, ValueError):
        return None
    body = getattr(parsed, "body", None)
    if body is None:
        return None
    names: set[str] = set()
    for block in body.items:
        if not isinstance(block, hcl.Block):
            continue
        labels = block.labels
        if block.type == "resource" and len(labels) == 2:
            names.add(f"{labels[0]}.{labels[1]}")
        elif block.type == "data" and len(labels) == 2:
            names.add(f"data.{labels[0]}.{labels[1]}")
        elif block.type in ("variable", "module") and len(labels) == 1:
            names.add(f"{'var' if block.type == 'variable' else 'module'}.{labels[0]}")
        elif block.type == "locals":
            names.update(f"local.{item.name}" for item in block.body.items if isinstance(item, hcl.Attribute))
    return names


def _used(path: Path) -> set[str]:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return set()
    used = set()
    for m in _REFERENCE.finditer(text):
        if m.group(1):
            used.add(f"{m.group(1)}.{m.group(2)}")
        elif m.group(3):
            used.add(f"data.{m.group(3)}.{m.group(4)}")
        else:
            used.add(f"{m.group(5)}.{m.group(6)}")
    return used


def _standalone(files: list[Path]) -> bool:
    """Whether every file stands alone: none uses a name that only another file declares."""
    declared = {}
    for path in files:
        names = _declared(path)
        if names is None:
            return False
        declared[path] = names
    for path in files:
        elsewhere = set().union(*(names for other, names in declared.items() if other != path))
        if (_used(path) - declared[path]) & elsewhere:
            return False
    return True


def _estate(loaded: Any, account_id: str | None, unit: str) -> Estate:
    from backupguard.scanner.terraform.build import build_estate

    estate = build_estate(loaded.instances, account_id, unit)
    estate.errors.extend(loaded.errors)
    estate.notes.extend(loaded.notes)
    return estate


def scan_plan(path: Path, text: str, account_id: str | None, display: Callable[[Path], str],
              root: Path | None = None) -> Estate:
    """A plan JSON file; its results point at the configuration's blocks and arguments when it lies
    beside them (read within the scan ``root``, as :func:`scan_module` does)."""
    from backupguard.scanner.terraform.build import build_estate
    from backupguard.scanner.terraform.plan import load_plan

    configured: dict[str, Any] = {}
    if terraform_files(path.parent):
        from backupguard.scanner.terraform.module import load_module

        configured = {instance.address: instance for instance in load_module(path.parent, display=display, root=root).instances}
    estate = build_estate(load_plan(display(path), text, configured), account_id, display(path))
    estate.files.append(display(path))
    if configured:  # results placed in the configuration's blocks: its suppressions cover them
        origins = [instance.origin for instance in configured.values()]
        estate.suppressions.extend(_suppressions(terraform_files(path.parent), origins, display, root))
    return estate
