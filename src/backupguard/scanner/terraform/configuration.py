"""One Terraform module folder's configuration, read and declared: the first step of :mod:`module`.

:class:`Loader` reads a folder's ``*.tf`` and ``*.tf.json`` files (sorted by name, each parsed once
per process by its content: :func:`parse_cached`), refuses what lies outside the scan root, records
each declaration in a :class:`Config` (variables, locals, outputs, resources, data sources, module
calls, providers), merges override files after the others as Terraform does, and keeps the load's
located errors and notes, each once. It also guards evaluation against cycles (``enter``/``leave``)
and finds the modules ``terraform init`` installed (``.terraform/modules/modules.json``, only read).
Nothing here evaluates an expression: :mod:`module` does, from the Config.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from backupguard.estate import InputError, Origin, Unknown
from backupguard.scanner.paths import OutsideRoot, check_inside
from backupguard.scanner.terraform import hcl, hcl_json
from backupguard.scanner.terraform.budget import BudgetExceeded, read_capped, too_large
from backupguard.scanner.terraform.files import FileAccess
from backupguard.scanner.terraform.source import TERRAFORM_SUFFIXES

__all__ = ["Config", "Decl", "Loader", "parse_cached"]


@dataclass
class Decl:
    """A resource or data source block as declared (``mode`` "managed" or "data"), and its file."""

    mode: str
    type: str
    name: str
    block: hcl.Block
    file: str


@dataclass
class Config:
    """What one module folder declares, by kind and name, each with its block and file."""

    directory: Path
    shown: str
    variables: dict = field(default_factory=dict)  # name -> (Block, file)
    locals: dict = field(default_factory=dict)  # name -> (Attribute, file)
    outputs: dict = field(default_factory=dict)  # name -> (Block, file)
    resources: dict = field(default_factory=dict)  # (type, name) -> Decl
    data: dict = field(default_factory=dict)  # (type, name) -> Decl
    calls: dict = field(default_factory=dict)  # name -> (Block, file)
    providers: list = field(default_factory=list)  # (Block, file)
    resource_types: set = field(default_factory=set)


_PARSED: dict[tuple[bytes, bool], hcl.ParsedFile] = {}


def parse_cached(data: bytes, is_json: bool) -> hcl.ParsedFile:
    """Parse a file's content once per process: a local module called from many root modules
    (or many times from one) is read each time but parsed once. The AST is never mutated."""
    key = (data, is_json)
    parsed = _PARSED.get(key)
    if parsed is None:
        if len(_PARSED) >= 4096:
            _PARSED.clear()
        parsed = _PARSED[key] = hcl_json.parse(data) if is_json else hcl.parse(data)
    return parsed


def _is_override(name: str) -> bool:
    stem = name.removesuffix(".json")
    return stem == "override.tf" or stem.endswith("_override.tf")


def _moved(item: Any, line: int, column: int) -> Any:
    """A copy of an override file's attribute or block, placed where the original is (the
    cached AST is shared, and a position must point into the file the result names)."""
    return hcl.relocate(copy.deepcopy(item), line, column)


def _nested_type(block: hcl.Block) -> str:
    return block.labels[0] if block.type == "dynamic" and block.labels else block.type


def _merged(original: hcl.Block, override: hcl.Block) -> hcl.Block:
    """Terraform's override merge: each argument replaces the original's; nested blocks of a
    type the override holds replace all of the original's blocks of that type."""
    arguments = {item.name: item for item in override.body.items if isinstance(item, hcl.Attribute)}
    block_types = {_nested_type(item) for item in override.body.items if isinstance(item, hcl.Block)}
    body = hcl.Body()
    for item in original.body.items:
        if isinstance(item, hcl.Attribute) and item.name in arguments:
            item = _moved(arguments.pop(item.name), item.line, item.column)
        elif isinstance(item, hcl.Block) and _nested_type(item) in block_types:
            continue
        body.items.append(item)
    body.items.extend(_moved(item, original.line, original.column) for item in arguments.values())
    body.items.extend(_moved(item, original.line, original.column)
                      for item in override.body.items if isinstance(item, hcl.Block))
    for item in body.items:
        if isinstance(item, hcl.Attribute):
            body.attributes.setdefault(item.name, item)
    return hcl.Block(original.type, original.labels, body, original.line, original.column, original.end_line)


class Loader:
    """One load_module call's reading of files: each folder's Config (once), the scan root it may not
    leave, the installed modules, the located errors and notes (each once) and the cycle guard."""

    def __init__(self, display: Callable[[Path], str]):
        self.display = display
        self.errors: list[InputError] = []
        self.notes: list[str] = []
        self._seen_errors: set = set()
        self._seen_notes: set = set()
        self.configs: dict[Path, Config] = {}
        self.active: dict[Any, str] = {}
        self.root_shown = ""
        self.root_dir: Path | None = None
        self.account_id: str | None = None  # --account-id: what data.aws_caller_identity returns
        self.root: Path | None = None  # the scan root: no file whose real path is outside it is read
        self.files: FileAccess | None = None  # what file() and templatefile() may read (set by load_module)
        self._installed: dict[str, Path] | None = None

    def path_values(self, directory: Path) -> dict[str, str]:
        """``path.module``, ``path.root`` and ``path.cwd`` as Terraform gives them when it runs in the
        root module folder: the module's folder relative to it, and ``.`` (Terraform's cwd is an
        absolute path; its relative form keeps the machine's folders out of values and messages,
        and resolves to the same files)."""
        base = os.path.abspath(self.root_dir or ".")
        module = Path(os.path.relpath(os.path.abspath(directory), base)).as_posix()
        return {"module": module, "root": ".", "cwd": "."}

    def outside(self, path: Path, reference: str, file: str | None, line: int = 1, column: int = 1) -> bool:
        """True (and a located error naming ``reference``) when ``path`` resolves outside the scan root."""
        try:
            check_inside(path, self.root, reference)
        except OutsideRoot as exc:
            self.error(str(exc), file, line, column)
            return True
        return False

    def installed_module(self, key: str) -> Path | None:
        """Where ``terraform init`` put the module with this key ("vpc", "vpc.subnets"), if it ran.

        ``.terraform/modules/modules.json`` in the root module maps each module call path to
        the directory of its downloaded source (registry, git...); it is only read, never written.
        """
        if self._installed is None:
            self._installed = {}
            root = self.root_dir or Path(".")
            manifest = root / ".terraform" / "modules" / "modules.json"
            entries = []
            if manifest.is_file() and not self.outside(manifest, ".terraform/modules/modules.json", self.show(manifest)):
                try:
                    entries = json.loads(manifest.read_text("utf-8")).get("Modules") or []
                except (OSError, ValueError, AttributeError, RecursionError):
                    entries = []
                if not isinstance(entries, list):
                    entries = []
            for entry in entries:
                if isinstance(entry, dict) and isinstance(entry.get("Key"), str) and isinstance(entry.get("Dir"), str):
                    self._installed[entry["Key"]] = Path(os.path.normpath(root / entry["Dir"]))
        return self._installed.get(key)

    def over_budget(self, exc: BudgetExceeded, what: str, file: str | None, at: Any) -> Unknown:
        """A value too costly to evaluate: a located error, and the value is unknown."""
        self.error(f"{what}: {exc.message}", getattr(exc, "file", None) or file, exc.line or at.line, exc.column or at.column)
        return Unknown(f"{what} was not evaluated: {exc.message}")

    def show(self, path: Path) -> str:
        return str(self.display(path)).replace("\\", "/")

    def error(self, message: str, file: str | None, line: int = 1, column: int = 1) -> None:
        key = (message, file, line, column)
        if key not in self._seen_errors:
            self._seen_errors.add(key)
            self.errors.append(InputError(message, Origin(file=file, line=line, column=column)))

    def note(self, message: str) -> None:
        if message not in self._seen_notes:
            self._seen_notes.add(message)
            self.notes.append(message)

    # -- reading files -------------------------------------------------------

    def config(self, directory: Path, only: list[str] | None = None) -> Config:
        cached = self.configs.get(directory)
        if cached is not None and only is None:
            return cached
        config = Config(directory, self.show(directory))
        if only is None:
            self.configs[directory] = config
        try:
            names = sorted(entry.name for entry in directory.iterdir() if entry.is_file())
        except OSError as exc:
            self.error(f"cannot read directory: {exc.strerror or exc}", config.shown)
            return config
        if only is not None:
            names = [name for name in names if name in only]
        names = [name for name in names if name.endswith(TERRAFORM_SUFFIXES)]
        overrides = [name for name in names if _is_override(name)]
        for name in [name for name in names if name not in overrides] + overrides:
            shown = self.show(directory / name)
            if self.outside(directory / name, f"file '{name}'", shown):
                continue
            parsed = self.parse_file(directory / name, shown)
            if parsed is None:
                continue
            if name in overrides:
                self._override(config, parsed.body, shown)
            else:
                self._declare(config, parsed.body, shown)
        return config

    def _override(self, config: Config, body: hcl.Body, shown: str) -> None:
        """Merge an override file into the declarations, as Terraform does after loading the others."""
        for block in body.items:
            if not isinstance(block, hcl.Block):
                continue
            kind, labels = block.type, block.labels
            if kind in ("resource", "data") and len(labels) == 2:
                decl = (config.resources if kind == "resource" else config.data).get((labels[0], labels[1]))
                if decl is None:
                    self.error(f"override of {'.'.join(labels)} has no original declaration", shown, block.line, block.column)
                    continue
                decl.block = _merged(decl.block, block)
                self.note(f"{shown}: overrides {'data.' if kind == 'data' else ''}{'.'.join(labels)} in {decl.file}")
            elif kind in ("variable", "output", "module") and len(labels) == 1:
                table = {"variable": config.variables, "output": config.outputs, "module": config.calls}[kind]
                if labels[0] not in table:
                    self.error(f"override of {kind} '{labels[0]}' has no original declaration", shown, block.line, block.column)
                    continue
                original, file = table[labels[0]]
                table[labels[0]] = (_merged(original, block), file)
            elif kind == "locals":
                for item in block.body.items:
                    if not isinstance(item, hcl.Attribute):
                        continue
                    if item.name not in config.locals:
                        self.error(f"override of local '{item.name}' has no original definition", shown, item.line, item.column)
                        continue
                    original, file = config.locals[item.name]
                    config.locals[item.name] = (_moved(item, original.line, original.column), file)
            elif kind == "provider" and labels:
                self.note(f"{shown}: provider overrides are not merged")

    def parse_file(self, path: Path, shown: str) -> hcl.ParsedFile | None:
        try:
            data = read_capped(path)
        except OSError as exc:
            self.error(f"cannot read file: {exc.strerror or exc}", shown)
            return None
        if data is None:
            self.error(f"file is {too_large()}; not parsed", shown)
            return None
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            self.error("the file is not UTF-8 text", shown, line)
            return None
        parsed = parse_cached(data, path.name.endswith(".json"))
        if parsed.error is not None:
            self.error(parsed.error.message, shown, parsed.error.line, parsed.error.column)
            return None
        for problem in parsed.problems:
            self.error(problem.message, shown, problem.line, problem.column)
        return parsed

    def _declare(self, config: Config, body: hcl.Body, shown: str) -> None:
        for block in body.items:
            if not isinstance(block, hcl.Block):
                self.error(f"unexpected argument '{block.name}' at the top level", shown, block.line, block.column)
                continue
            kind, labels = block.type, block.labels
            if kind in ("resource", "data") and len(labels) == 2:
                table = config.resources if kind == "resource" else config.data
                key = (labels[0], labels[1])
                if key in table:
                    first = table[key]
                    what = f"{'data.' if kind == 'data' else ''}{labels[0]}.{labels[1]}"
                    self.error(f"{what} is declared more than once (first in {first.file} line {first.block.line})", shown, block.line, block.column)
                    continue
                table[key] = Decl("managed" if kind == "resource" else "data", labels[0], labels[1], block, shown)
                if kind == "resource":
                    config.resource_types.add(labels[0])
            elif kind == "variable" and len(labels) == 1:
                self._unique(config.variables, labels[0], (block, shown), "variable", shown, block)
            elif kind == "output" and len(labels) == 1:
                self._unique(config.outputs, labels[0], (block, shown), "output", shown, block)
            elif kind == "module" and len(labels) == 1:
                self._unique(config.calls, labels[0], (block, shown), "module", shown, block)
            elif kind == "provider" and len(labels) == 1:
                config.providers.append((block, shown))
            elif kind == "locals":
                for item in block.body.items:
                    if isinstance(item, hcl.Attribute):
                        if item.name in config.locals:
                            first = config.locals[item.name]
                            self.error(f"local '{item.name}' is defined more than once (first in {first[1]} line {first[0].line})", shown, item.line, item.column)
                            continue
                        config.locals[item.name] = (item, shown)

    def _unique(self, table: dict, name: str, entry: tuple, what: str, shown: str, block: hcl.Block) -> None:
        if name in table:
            first_block, first_file = table[name]
            self.error(f"{what} '{name}' is declared more than once (first in {first_file} line {first_block.line})", shown, block.line, block.column)
            return
        table[name] = entry

    # -- cycle guard -----------------------------------------------------------

    def enter(self, key: Any, label: str) -> list[str] | None:
        """Mark ``key`` as being evaluated; if it already is, the cycle (labels) instead."""
        if key in self.active:
            labels = list(self.active.values())
            keys = list(self.active)
            return labels[keys.index(key):] + [label]
        self.active[key] = label
        return None

    def leave(self, key: Any) -> None:
        self.active.pop(key, None)
