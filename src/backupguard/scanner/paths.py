"""The scan root: the one folder a scan may read from.

Input is hostile (pull requests from strangers): a symlink, a module ``source``
that climbs with ``../..``, a ``.terraform/modules/modules.json`` entry or a
``file()`` call may point anywhere on the machine. Every source asks
:func:`inside` before it opens a file, and reports a refused reference as a
located error that names the reference, never the content.
"""

from __future__ import annotations

import os
from pathlib import Path


class OutsideRoot(Exception):
    """A reference resolves outside the scan root; ``message`` names the reference, not the target's content."""

    def __init__(self, reference: str, root: Path):
        # The root is not named: it differs between checkouts, and error fingerprints hash the message.
        super().__init__(f"{reference} resolves outside the scanned tree; not read")
        self.reference = reference
        self.root = root


def scan_root(paths: list[Path], explicit: Path | None = None) -> Path:
    """``--root`` when given, else the deepest folder that holds every given path (real paths)."""
    if explicit is not None:
        return Path(os.path.realpath(explicit))
    folders = []
    for path in paths:
        if str(path) == "-":  # standard input (scanner.STDIN) is no folder
            continue
        # A named file's own symlink is not followed here: the root is its folder, so a link named
        # on the command line (pre-commit passes the PR's file names) to /etc/passwd stays outside.
        absolute = Path(os.path.abspath(path))
        folders.append(Path(os.path.realpath(absolute if absolute.is_dir() else absolute.parent)))
    if not folders:
        return Path(os.path.realpath(Path.cwd()))
    return Path(os.path.commonpath([str(f) for f in folders]))


def inside(path: Path, root: Path | None) -> bool:
    """True when ``path``'s real path (every symlink followed) lies in ``root``; no root allows everything."""
    if root is None:
        return True
    try:
        real = real_path(os.fspath(path))
    except (OSError, ValueError):
        return False
    base = str(root)
    return real == base or real.startswith(base if base.endswith(os.sep) else base + os.sep)


# Path -> its real path, for one scan (scanner.scan clears it): a scan asks about thousands of files
# in a few hundred folders, and os.path.realpath checks every component of every path again.
_REAL_PATHS: dict[str, str] = {}


def real_path(path: str) -> str:
    """``os.path.realpath(path)``, remembered for the scan, and built from its folder's: a module
    source spells the same folders many ways (``modules/a/../../modules/b``), and each spelling
    would otherwise resolve every component again. Resolution is the one realpath does (and the
    system's), a name at a time: a link is followed (its target resolved in full), ``..`` is the
    parent of what the path so far resolved to, ``.`` is that path itself.

    Only a path through a link loop may be named otherwise (realpath stops resolving at the loop,
    this goes on): no file can be opened through a loop, so what confinement says of it is moot."""
    real = _REAL_PATHS.get(path)
    if real is not None:
        return real
    unresolved = []  # (path, its last name), from ``path`` up to the nearest one remembered
    while path not in _REAL_PATHS:
        parent, name = os.path.split(path)
        if not parent or not name or parent == path:  # a bare name, the root, a trailing separator
            _REAL_PATHS[path] = os.path.realpath(path)
            break
        unresolved.append((path, name))
        path = parent
    for child, name in reversed(unresolved):  # a loop, not recursion: a path may have thousands of names
        base = _REAL_PATHS[path]
        if name == os.curdir:
            real = base
        elif name == os.pardir:
            real = os.path.dirname(base)
        else:
            candidate = os.path.join(base, name)
            real = os.path.realpath(candidate) if os.path.islink(candidate) else candidate
        _REAL_PATHS[child] = real
        path = child
    return _REAL_PATHS[path]


def forget_real_paths() -> None:
    """Start a scan (or a run's file names) with nothing remembered: the tree may have changed since."""
    _REAL_PATHS.clear()


def check_inside(path: Path, root: Path | None, reference: str) -> Path:
    """``path`` itself when :func:`inside` the root, else :class:`OutsideRoot` naming ``reference``."""
    if not inside(path, root):
        raise OutsideRoot(reference, root)  # type: ignore[arg-type]
    return path


def repository_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds ``.git`` (a folder, or a file in a git
    worktree or submodule), else None."""
    here = Path(os.path.realpath(start))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None
