"""The configuration's own files, as ``file()``, ``fileexists()`` and ``templatefile()`` read them.

Terraform resolves a relative path against its working directory (the root module folder, where
``terraform plan`` runs), after cleaning it lexically (``filepath.Clean``); ``path.module`` is
the module's folder relative to that directory, so ``"${path.module}/policy.json"`` finds the
file beside the module. :class:`FileAccess` does the same, with the scan's rules (see
:mod:`backupguard.scanner.paths`): the real path (every symlink followed) must lie in the scanned
tree, else :class:`~backupguard.scanner.paths.OutsideRoot` names the path as written (never the
root, never the content); at most :data:`~budget.MAX_FILE_BYTES` are read, and the bytes read
count as work. ``~`` (Terraform expands the home folder) is outside by definition.

A template file is parsed by the same HCL parser as ``.tf`` files: its text, in template mode,
is exactly the body of a heredoc, so it is parsed as one (``<<MARK`` ... ``MARK``) and its
positions moved back to the file's own lines.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from backupguard.scanner.paths import OutsideRoot, check_inside
from backupguard.scanner.terraform import hcl
from backupguard.scanner.terraform.budget import BudgetExceeded, read_capped, spend, too_large
from backupguard.scanner.terraform.evaluate import EvalError

__all__ = ["FileAccess", "FileError", "free_variables", "parse_template"]


class FileError(EvalError):
    """A file function's argument Terraform rejects (no such file, not UTF-8, a broken template):
    a mistake in the configuration we are sure of, so reported as an error rather than a note;
    ``try()`` and ``can()`` still catch it, as they do in Terraform."""


Report = Callable[[str, "str | None", int, int], None]  # (message, file, line, column): a located error


@dataclass(frozen=True)
class FileAccess:
    """What the file functions of one module load may read.

    ``base`` is Terraform's working directory (the root module folder): relative paths start
    there. ``limit`` is the scanned tree. ``show`` names a file in messages (relative to the
    scan root), ``report`` records a located error. ``in_template`` is set while a template is
    rendered: Terraform refuses a ``templatefile()`` call there.
    """

    base: Path
    limit: Path
    show: Callable[[Path], str]
    report: Report
    in_template: bool = False

    def template_access(self) -> "FileAccess":
        return dataclasses.replace(self, in_template=True)

    def joined(self, text: str) -> Path:
        """``text`` as Terraform reads it: from the working directory, cleaned lexically (an
        absolute path replaces the base)."""
        return Path(os.path.normpath(self.base / text))

    def name(self, text: str) -> str:
        """The file ``text`` names, as messages show it (relative to the scan root)."""
        return self.show(self.joined(text))

    def locate(self, text: str, function: str) -> Path:
        """The real path ``text`` names, checked to be inside the scanned tree (else OutsideRoot)."""
        reference = f"{function}() path {json.dumps(text)}"
        if text.startswith("~") or "\x00" in text:
            raise OutsideRoot(reference, self.limit)
        return check_inside(Path(os.path.realpath(self.joined(text))), self.limit, reference)

    def read(self, text: str, function: str) -> bytes:
        """The bytes of the file ``text`` names (Terraform's errors for a missing file or a folder;
        anything but a regular file, a FIFO that would block for one, is refused before opening)."""
        path = self.locate(text, function)
        if not self._regular(path, text):
            raise FileError(f"no file exists at {_cleaned(text)}; {function}() reads only files of the configuration, "
                            "not files that a resource creates")
        try:
            data = read_capped(path)
        except OSError as exc:
            raise FileError(f"cannot read {_cleaned(text)}: {exc.strerror or type(exc).__name__}") from None
        if data is None:
            raise BudgetExceeded(f"{_cleaned(text)} is {too_large()}; not read")
        spend(1 + len(data) // 256)
        return data

    @staticmethod
    def _regular(path: Path, text: str) -> bool:
        """Whether ``path`` is a regular file (False: nothing there); a folder or a device is Terraform's error."""
        try:
            mode = path.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise FileError(f"cannot read {_cleaned(text)}: {exc.strerror or type(exc).__name__}") from None
        if stat.S_ISDIR(mode):
            raise FileError(f"{_cleaned(text)} is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise FileError(f"{_cleaned(text)} is not a regular file")
        return True

    def text(self, text: str, function: str) -> str:
        """The file's content as a string: UTF-8, or Terraform's error."""
        data = self.read(text, function)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise FileError(f"contents of {_cleaned(text)} are not valid UTF-8; use filebase64() to read them "
                            "as Base64") from None

    def exists(self, text: str) -> bool:
        """``fileexists()``: whether a regular file is there (a folder is Terraform's error)."""
        return self._regular(self.locate(text, "fileexists"), text)


def _cleaned(text: str) -> str:
    """The path as Terraform names it in its errors: lexically cleaned, quoted."""
    return json.dumps(Path(os.path.normpath(text)).as_posix())


# ---------------------------------------------------------------------------
# templates
# ---------------------------------------------------------------------------

_TEMPLATES: dict[str, hcl.Expr | hcl.Problem] = {}


def parse_template(text: str) -> hcl.Expr | hcl.Problem:
    """A template file's text as a template expression, or the syntax Problem (at the file's own
    line and column; line 0 when the parser gives none). Parsed once per process per text; the
    AST is never mutated."""
    cached = _TEMPLATES.get(text)
    if cached is None:
        if len(_TEMPLATES) >= 64:
            _TEMPLATES.clear()
        cached = _TEMPLATES[text] = _parse_template(text)
    return cached


def _parse_template(text: str) -> hcl.Expr | hcl.Problem:
    marker = "BG_TEMPLATE"
    while marker in text:
        marker += "_"
    newline = text.endswith("\n")
    parsed = hcl.parse(f"t = <<{marker}\n{text}{'' if newline else chr(10)}{marker}\n")
    if parsed.error is not None or parsed.problems:
        problem = parsed.error or parsed.problems[0]
        if problem.line <= 1:  # the parser blames the whole heredoc: no position in the file to give
            return hcl.Problem("syntax error: an interpolation, a directive or a string in it is not closed", 0, 0)
        return hcl.Problem(problem.message, problem.line - 1, problem.column)
    expr = _shifted(parsed.body.items[0].expr)
    return expr if newline else _without_final_newline(expr)


def _shifted(node: object) -> hcl.Expr:
    """``node`` with every line one up: the heredoc's first line is not the file's."""
    if isinstance(node, list):
        for item in node:
            _shifted(item)
    elif dataclasses.is_dataclass(node):
        for spec in dataclasses.fields(node):
            value = getattr(node, spec.name)
            if spec.name == "line" and isinstance(value, int):
                setattr(node, "line", max(value - 1, 1))
            elif not isinstance(value, (str, int, float, bool)) and value is not None:
                _shifted(value)
    return node  # type: ignore[return-value]


def _without_final_newline(expr: hcl.Expr) -> hcl.Expr:
    """The template without the newline the heredoc needed after a file that has none (a strip
    marker ``~}`` at the end may have removed it already)."""
    if isinstance(expr, hcl.Literal) and isinstance(expr.value, str) and expr.value.endswith("\n"):
        return hcl.Literal(expr.line, expr.column, expr.value[:-1])
    if isinstance(expr, hcl.Template) and expr.parts and isinstance(expr.parts[-1], str) and expr.parts[-1].endswith("\n"):
        parts = expr.parts[:-1] + ([expr.parts[-1][:-1]] if expr.parts[-1] != "\n" else [])
        if not parts:
            return hcl.Literal(expr.line, expr.column, "")
        if len(parts) == 1 and isinstance(parts[0], str):
            return hcl.Literal(expr.line, expr.column, parts[0])
        return hcl.Template(expr.line, expr.column, parts)
    return expr


def free_variables(node: object, bound: frozenset[str] = frozenset()) -> Iterator[hcl.Variable]:
    """The variables ``node`` refers to that no enclosing ``for`` binds, in source order: what
    Terraform checks against a template's vars before rendering (so a reference in a branch
    not taken is an error too)."""
    if isinstance(node, hcl.Variable):
        if node.name not in bound:
            yield node
    elif isinstance(node, (hcl.ForExpr, hcl.TemplateFor)):
        yield from free_variables(node.collection, bound)
        inner = bound | {name for name in (node.key_var, node.value_var) if name}
        for spec in dataclasses.fields(node):
            if spec.name not in ("collection", "key_var", "value_var"):
                yield from free_variables(getattr(node, spec.name), inner)
    elif isinstance(node, list):
        for item in node:
            yield from free_variables(item, bound)
    elif dataclasses.is_dataclass(node):
        for spec in dataclasses.fields(node):
            value = getattr(node, spec.name)
            if not isinstance(value, (str, int, float, bool)) and value is not None:
                yield from free_variables(value, bound)
