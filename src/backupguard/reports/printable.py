"""Input-derived text made safe for humans: terminals and CI logs.

Resource names, tags, messages and file names come from files strangers write. Printed
raw, an ANSI/OSC sequence rewrites the terminal (or a link's target), a BEL rings, a
newline forges a result line, and a line that starts with ``::`` is a GitHub Actions
workflow command (``::error file=README.md::...``, ``::add-mask::``, ``::stop-commands::``;
Azure Pipelines reads ``##vso[``). Every human-facing renderer (text, Markdown, the CLI's
messages on stderr) passes such strings through :func:`printable`, and :func:`inert_lines`
makes sure no line it prints can start a workflow command.
"""

from __future__ import annotations

import re

# C0 controls (newline and tab included: one value stays on one line), DEL, C1 controls, the Unicode
# line and paragraph separators, and the bidirectional overrides/isolates/marks that reorder what is shown
# ("Trojan Source"); lone surrogates (undecodable bytes of a file name) cannot be encoded at all.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# json.dumps escapes C0 inside strings already; the C0 left in its output are its own line breaks.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# What the runner reads as a command after leading whitespace: GitHub's "::name" and the older
# "##[name]", Azure Pipelines' "##vso[".
_COMMAND = re.compile(r"^(\s*)(:(?=:)|#(?=#\[|#vso\[))", re.MULTILINE)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, keep: str = "") -> str:
    """``text`` with every control, separator, bidi or surrogate character written as ``\\xNN``/``\\uNNNN``
    (except those in ``keep``: a multi-line body keeps its ``\\n``)."""
    escape = (lambda m: m.group() if m.group() in keep else _escaped(m)) if keep else _escaped
    return UNSAFE.sub(escape, "" if text is None else str(text))


def inert_lines(text: str) -> str:
    """``text`` whose lines cannot start a workflow command: the first character of a leading ``::``,
    ``##[`` or ``##vso[`` is written ``\\x3a``/``\\x23`` (the rest of the line is kept as it is)."""
    return _COMMAND.sub(lambda m: f"{m.group(1)}\\x{ord(m.group(2)):02x}", text)


def json_safe(text: str) -> str:
    """JSON text (``ensure_ascii=False``) with the characters :func:`printable` escapes written as
    ``\\uNNNN``: the same JSON value, but no raw C1 control, separator, bidi override or lone
    surrogate (which could not even be encoded as UTF-8) reaches a terminal or a file."""
    if text.isascii() and "\x7f" not in text:  # the rest of what is escaped here is past ASCII
        return text
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def inert_markup(text: str) -> str:
    """XML/HTML whose lines cannot start a workflow command: the leading ``:``/``#`` becomes a
    character reference (``&#58;``/``&#35;``), which parsers read back as the same text."""
    return _COMMAND.sub(lambda m: f"{m.group(1)}&#{ord(m.group(2))};", text)
