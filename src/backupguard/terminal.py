"""What a terminal gets and a file or pipe does not: colour, and Markdown rendered for reading.

Colour is decided once, for the stream that will receive the text (:func:`use_color`): only a
terminal gets it, never a file or a pipe, and never when ``NO_COLOR`` is set (https://no-color.org)
or ``--no-color`` is given. Nothing here reads the results: callers colour words they produced.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

# SGR codes per status word (upper or lower case as the reports print them).
_STATUS_COLOURS = {
    "fail": "31",  # red
    "error": "1;31",  # bold red
    "unknown": "33",  # yellow
    "pass": "32",  # green
    "waived": "36",  # cyan
    "not_applicable": "2",  # dim
    "no_resources": "2",
}
_BOLD = "1"


def use_color(stream: Any, no_color: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    """True only for a terminal, without ``--no-color``, ``NO_COLOR`` (any non-empty value) or ``TERM=dumb``."""
    env = os.environ if environ is None else environ
    if no_color or env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def paint(text: str, status: str, enabled: bool) -> str:
    """``text`` in the colour of ``status`` (fail, unknown, pass...) when ``enabled``; unchanged otherwise."""
    code = _STATUS_COLOURS.get(status.strip().lower())
    return f"\x1b[{code}m{text}\x1b[0m" if enabled and code else text


def bold(text: str, enabled: bool) -> str:
    return f"\x1b[{_BOLD}m{text}\x1b[0m" if enabled else text


# ---------------------------------------------------------------------------------------------
# Markdown for a terminal (backupguard explain): the subset the rule pages use.

_INLINE_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def _inline(text: str, color: bool) -> str:
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _STRONG.sub(lambda m: bold(m.group(1), color), text)
    return _INLINE_CODE.sub(lambda m: f"\x1b[36m{m.group(1)}\x1b[0m" if color else m.group(1), text)


def _visible(text: str) -> int:
    return len(re.sub(r"\x1b\[[0-9;]*m", "", text))


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """Words of ``text`` in lines of at most ``width`` visible columns (a longer word gets a line of
    its own); the first line starts with ``first``, the others with ``rest``. Colour codes are
    inside words, so they are never split."""
    lines: list[str] = []
    line, words = first, 0
    for word in text.split():
        if words and _visible(line) + 1 + _visible(word) > width:
            lines.append(line)
            line, words = rest + word, 1
        else:
            line, words = line + (" " if words else "") + word, words + 1
    lines.append(line)
    return lines


def _table(rows: list[list[str]], width: int, color: bool) -> list[str]:
    """Aligned columns when they fit, else one block per row ("header: value")."""
    header, body = rows[0], rows[1:]
    cells = [[_inline(c, color) for c in row] for row in body]
    widths = [max([_visible(h)] + [_visible(r[i]) for r in cells if i < len(r)]) for i, h in enumerate(header)]
    if sum(widths) + 2 * (len(widths) - 1) + 2 <= width:
        def line(row: list[str]) -> str:
            return "  " + "  ".join(c + " " * (w - _visible(c)) for c, w in zip(row, widths)).rstrip()

        return [line([bold(h, color) for h in header]), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in cells]
    out: list[str] = []
    for row in cells:
        out.append("  " + bold(row[0], color) if row else "")
        for name, value in zip(header[1:], row[1:]):
            out.extend(_wrap(f"{name}: {value}", width, "      ", "        "))
    return out


def render_markdown(text: str, width: int = 80, color: bool = False) -> str:
    """A rule page for reading in a terminal: headings set off (bold in colour), paragraphs and
    list items wrapped to ``width``, code blocks indented and never wrapped, tables aligned."""
    width = max(40, width)
    out: list[str] = []
    lines = text.splitlines()
    i = 0

    def gap() -> None:
        if out and out[-1] != "":
            out.append("")

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            gap()
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                out.append(("    " + lines[i]).rstrip())
                i += 1
            i += 1
            out.append("")
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            gap()
            title = _inline(heading.group(2).strip(), False)
            if len(heading.group(1)) == 1:
                out.extend([bold(title, color), "=" * min(len(title), width)])
            else:
                out.extend([bold(title, color), "-" * min(len(title), width)])
            i += 1
            continue
        if stripped.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            gap()
            out.extend(_table(rows, width, color))
            out.append("")
            continue
        item = re.match(r"^(\s*)[-*]\s+(.*)$", line)
        if item:
            indent = "  " + item.group(1)
            out.extend(_wrap(_inline(item.group(2), color), width, indent + "- ", indent + "  "))
            i += 1
            continue
        if not stripped:
            gap()
            i += 1
            continue
        paragraph = [stripped]
        i += 1
        while i < len(lines) and lines[i].strip() and not re.match(r"^(#|```|\||\s*[-*]\s)", lines[i].strip()):
            paragraph.append(lines[i].strip())
            i += 1
        out.extend(_wrap(_inline(" ".join(paragraph), color), width))
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def wrap_width(stream: Any, default: int = 80, cap: int = 100) -> int:
    """The width to wrap text for: the terminal's (at most ``cap``), else ``default``."""
    import shutil

    try:
        if stream is not None and stream.isatty():
            return min(cap, shutil.get_terminal_size((default, 24)).columns)
    except (AttributeError, ValueError, OSError):
        pass
    return default
