"""Inline suppressions, read where each ecosystem writes them.

CloudFormation: a resource's ``Metadata``::

    Metadata:
      backupguard:
        skip:
          - id: BG201                 # a rule ID, name or glob; "BG201,BG202" names several
            reason: Encrypted with aws/backup until the 2027 migration
      checkov:                        # Checkov's own shape, honoured for the rules that cite the check
        skip:
          - id: CKV_AWS_166
            comment: Encrypted with aws/backup until the 2027 migration

Terraform: a comment on the lines just above a ``resource``, ``data`` or ``module`` block, or
anywhere inside it (``#``, ``//`` or ``/* */``)::

    # backupguard:skip=BG201 Encrypted with aws/backup until the 2027 migration
    resource "aws_backup_vault" "legacy" {
      #checkov:skip=CKV_AWS_166:Encrypted with aws/backup until the 2027 migration
    }

A Checkov check ID names the rules whose ``references.other`` cite it ("Checkov CKV_AWS_166").
Sources only read suppressions into :class:`~backupguard.estate.InlineSuppression` facts; whether
a rule ID is known, a reason is given and a suppression covers anything is judged when results
exist (:mod:`backupguard.suppress`). This module knows nothing of rules.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

from backupguard.estate import InlineSuppression, Origin

# Tools whose Metadata shape is read: the key, the tool (None: ours), and the reason's key.
_METADATA = (("backupguard", None, "reason"), ("checkov", "checkov", "comment"))

_OURS = re.compile(r"backupguard:skip\s*=\s*(?P<rules>[A-Za-z0-9_*?\[\],.-]*)(?P<reason>.*)", re.IGNORECASE | re.DOTALL)
_CHECKOV = re.compile(r"checkov:skip\s*=\s*(?P<rules>[A-Za-z0-9_]*)(?::(?P<reason>.*))?", re.IGNORECASE | re.DOTALL)
_LEADING = " \t:-\u2013\u2014"  # separators before a reason: "BG201: why", "BG201 -- why"


def _pos(container: Any, key: Any) -> tuple[int, int]:
    pos = getattr(container, "pos", None)
    return pos(key) if callable(pos) else (getattr(container, "line", 1), getattr(container, "column", 1))


def _reason(value: Any) -> str | None:
    text = " ".join(str(value).split()) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
    return text or None


def cloudformation(logical_id: str, resource: Any, origin: Origin) -> list[InlineSuppression]:
    """The suppressions in one resource's ``Metadata`` (``origin`` is the resource's)."""
    metadata = resource.get("Metadata") if isinstance(resource, dict) else None
    if not isinstance(metadata, dict):
        return []
    found: list[InlineSuppression] = []
    for key, tool, reason_key in _METADATA:
        if key not in metadata:
            continue
        section = metadata[key]
        at = origin.at(*_pos(metadata, key))
        skips = section.get("skip") if isinstance(section, dict) else None
        if not isinstance(skips, list):
            if tool is None:  # ours must be right; another tool's other settings are its business
                found.append(InlineSuppression("", None, at, logical_id, problem=(
                    "Metadata 'backupguard' must be a mapping with a 'skip' list of {id, reason}")))
            continue
        for index, entry in enumerate(skips):
            where = origin.at(*_pos(skips, index))
            if isinstance(entry, dict):
                rules, reason = entry.get("id"), _reason(entry.get(reason_key))
            else:
                rules, reason = entry, None
            if not isinstance(rules, str) or not rules.strip():
                if tool is None:
                    found.append(InlineSuppression("", reason, where, logical_id, problem=(
                        f"Metadata 'backupguard' skip entry {index + 1} needs an 'id' (a rule ID, name or glob) "
                        "and a 'reason'")))
                continue
            found.extend(InlineSuppression(rule, reason, where, logical_id, tool=tool) for rule in _split(rules))
    return found


def _split(rules: str) -> list[str]:
    return [part.strip() for part in rules.split(",") if part.strip()]


# ---------------------------------------------------------------------------------------------
# Terraform


_MARKERS = (b"backupguard:", b"checkov:")
_MAX_BYTES = 20 * 1024 * 1024  # as the scanner: a larger file is an error of the module loader
_ADDRESSED = {"resource": "{0}.{1}", "data": "data.{0}.{1}", "module": "module.{0}"}


def terraform(path: Path, shown: str) -> list[InlineSuppression]:
    """The suppressions in one ``.tf`` file (none when it cannot be read or parsed: the module
    loader reports that file)."""
    try:
        with path.open("rb") as handle:
            src = handle.read(_MAX_BYTES + 1)
    except OSError:
        return []
    return terraform_text(src, shown) if len(src) <= _MAX_BYTES else []


def terraform_text(src: bytes, shown: str) -> list[InlineSuppression]:
    lowered = src.lower()
    if not any(marker in lowered for marker in _MARKERS):  # the usual case: no parse at all
        return []
    if src.startswith(b"\xef\xbb\xbf"):
        src = src[3:]
    from backupguard.scanner.terraform import hcl

    try:
        root = hcl.syntax_tree(src).root_node
    except (ValueError, RecursionError):
        return []
    if root.has_error:
        return []
    blocks, comments = _blocks_and_comments(root, src)
    starts = [first for _, first, _ in blocks]
    alone = {c.end_point[0]: c for c in comments if _alone_on_line(src, c)}
    owner: dict[int, tuple[str, tuple[int, int]]] = {}  # comment id -> (block address, lines)
    for comment in comments:  # inside a block (top-level blocks do not overlap)
        index = bisect.bisect_right(starts, comment.start_point[0]) - 1
        if index >= 0 and comment.start_point[0] <= blocks[index][2]:
            address, first, last = blocks[index]
            owner[id(comment)] = (address, (first + 1, last + 1))
    for address, first, last in blocks:  # on the lines just above it, with no blank line between
        row = first - 1
        while row in alone and id(alone[row]) not in owner:
            owner[id(alone[row])] = (address, (first + 1, last + 1))
            row = alone[row].start_point[0] - 1
    found: list[InlineSuppression] = []
    for comment in comments:
        text = _comment_text(src[comment.start_byte:comment.end_byte].decode("utf-8", "replace"))
        parsed = _directive(text)
        if parsed is None:
            continue
        rules, reason, tool = parsed
        line, column = _position(src, comment)
        origin = Origin(file=shown, line=line, column=column, unit=None)
        address, lines = owner.get(id(comment), (None, None))
        if address is None:
            found.append(InlineSuppression(",".join(rules), reason, origin, problem=(
                "a suppression comment must be on the lines just above a resource, data or module block, "
                "or inside it")))
        elif not rules:
            found.append(InlineSuppression("", reason, origin, address, lines, tool, problem=(
                "the suppression names no rule (backupguard:skip=BG201 reason)")))
        else:
            found.extend(InlineSuppression(rule, reason, origin, address, lines, tool) for rule in rules)
    return found


def _directive(text: str) -> tuple[list[str], str | None, str | None] | None:
    """(rules, reason, tool) of a comment that is a suppression, else None."""
    ours = _OURS.match(text)
    if ours:
        return _split(ours.group("rules")), _reason(ours.group("reason").strip(_LEADING)), None
    theirs = _CHECKOV.match(text)
    if theirs:
        return _split(theirs.group("rules")), _reason(theirs.group("reason") or ""), "checkov"
    return None


def _comment_text(raw: str) -> str:
    if raw.startswith("/*"):
        raw = raw[2:-2] if raw.endswith("*/") else raw[2:]
    elif raw.startswith("//"):
        raw = raw[2:]
    elif raw.startswith("#"):
        raw = raw[1:]
    return raw.strip()


def _blocks_and_comments(root: Any, src: bytes) -> tuple[list[tuple[str, int, int]], list[Any]]:
    """The top-level blocks (address, first row, last row; 0-based) and every comment node."""
    blocks: list[tuple[str, int, int]] = []
    comments: list[Any] = []
    body = next((child for child in root.children if child.type == "body"), None)
    for child in body.children if body is not None else ():
        if child.type != "block":
            continue
        kids = [kid for kid in child.children if kid.type != "comment"]
        kind = src[kids[0].start_byte:kids[0].end_byte].decode("utf-8", "replace") if kids else ""
        labels = [_label(kid, src) for kid in kids[1:] if kid.type in ("string_lit", "identifier")]
        form = _ADDRESSED.get(kind)
        if form is not None and len(labels) == form.count("{"):
            blocks.append((form.format(*labels), child.start_point[0], child.end_point[0]))
    stack = [root]
    while stack:  # iterative: a deeply nested file must not exhaust the recursion limit
        node = stack.pop()
        if node.type == "comment":
            comments.append(node)
        else:
            stack.extend(node.children)
    comments.sort(key=lambda node: node.start_byte)
    return blocks, comments


def _label(node: Any, src: bytes) -> str:
    text = src[node.start_byte:node.end_byte].decode("utf-8", "replace")
    return text[1:-1] if node.type == "string_lit" and len(text) >= 2 else text


def _alone_on_line(src: bytes, node: Any) -> bool:
    """Whether only blanks come before the comment on its line (and it ends that line or a run of lines)."""
    start = src.rfind(b"\n", 0, node.start_byte) + 1
    end = src.find(b"\n", node.end_byte)
    after = src[node.end_byte: end if end >= 0 else len(src)]
    return not src[start:node.start_byte].strip() and not after.strip()


def _position(src: bytes, node: Any) -> tuple[int, int]:
    row, column = node.start_point
    start = node.start_byte - column
    return row + 1, len(src[start:node.start_byte].decode("utf-8", "replace")) + 1
