"""The JSON result document: complete enough to re-render every other report, byte-stable.

Every report renders from this document (``backupguard report`` re-renders
saved ones and merges shards), so it holds the results, the metadata of the
rules that ran, the per-control verdicts of the selected frameworks and the
protection inventory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Iterator

from backupguard import __version__
from backupguard.reports import control_summary, summary
from backupguard.reports.printable import json_safe
from backupguard.results import Result

SCHEMA_VERSION = 1


def document(
    results: list[Result],
    rules: list[dict[str, Any]],
    scan: dict[str, Any],
    frameworks: list[dict[str, Any]],
    inventory: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "backupguard", "version": __version__},
        "scan": scan,
        "summary": summary(results, scan.get("baseline") if isinstance(scan, dict) else None),
        "frameworks": frameworks,
        "rules": sorted(rules, key=lambda r: r["id"]),
        "inventory": inventory or [],
        "results": ResultRows(results),
    }


class ResultRows(Sequence):
    """A document's results as the JSON objects it holds, each made when it is read: the document
    keeps the results themselves rather than a second copy of every one as a dict (a report reads
    them one at a time; :func:`results_of` gets the results back as they are). A document read from
    a file holds a plain list of objects instead."""

    __slots__ = ("results",)

    def __init__(self, results: list[Result]) -> None:
        self.results = results

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [result.to_dict() for result in self.results[index]]
        return self.results[index].to_dict()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (result.to_dict() for result in self.results)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, ResultRows)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"ResultRows({len(self.results)} results)"


# Long lists written one element per line: readable, greppable and diff-friendly, and ~10x faster than
# indenting them (the json module's C encoder only runs without ``indent``).
_ONE_PER_LINE = frozenset({"results", "inventory"})


def render(doc: dict[str, Any]) -> str:
    return "".join(stream(doc))


# Lines of a long list written per piece of :func:`stream`: few enough pieces that writing them costs
# nothing, small enough that no piece holds more than a few hundred kilobytes.
_LINES_PER_PIECE = 256
# One encoder for every line: json.dumps with ensure_ascii=False builds a new one per call (a tenth
# of the JSON report's time at 130,000 results).
_ONE_LINE = json.JSONEncoder(ensure_ascii=False).encode


def stream(doc: dict[str, Any]) -> Iterator[str]:
    """The document's JSON text in pieces, in order (``"".join`` of them is :func:`render`): a report
    file is written as it is rendered, never held whole in memory."""
    yield "{\n"
    for number, (key, value) in enumerate(doc.items()):
        head = (",\n  " if number else "  ") + json.dumps(key) + ": "
        if isinstance(value, ResultRows):
            value = value if value else []
        if key in _ONE_PER_LINE and isinstance(value, (list, ResultRows)) and value:
            opening = head + "[\n    "
            for start in range(0, len(value), _LINES_PER_PIECE):
                lines = ",\n    ".join(map(_ONE_LINE, value[start:start + _LINES_PER_PIECE]))
                yield json_safe(opening + lines)
                opening = ",\n    "
            yield "\n  ]"
        else:
            yield json_safe(head + json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  "))
    yield "\n}\n"


def results_of(doc: dict[str, Any]) -> list[Result]:
    rows = doc.get("results") or []
    if isinstance(rows, ResultRows):
        return list(rows.results)
    return [Result.from_dict(r) for r in rows]


class DocumentError(ValueError):
    """A saved document backupguard cannot read (wrong schema version, not a result document)."""


SCHEMA_FILE = "results.schema.json"  # shipped beside this module: the contract of the document (docs/result-document.md)


@lru_cache(maxsize=1)
def _validator() -> Any:
    """The document's JSON Schema (draft 2020-12), loaded only when a saved document is read."""
    from importlib.resources import files

    from jsonschema import Draft202012Validator

    schema = json.loads(files("backupguard.reports").joinpath(SCHEMA_FILE).read_text("utf-8"))
    return Draft202012Validator(schema)


def validate(doc: Any, source: str) -> None:
    """Raise :class:`DocumentError` naming ``source`` and the first wrong place when ``doc`` is not
    a result document this version can render (a list, a number, junk results, a bogus status...)."""
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        found = f"schema_version {doc.get('schema_version')!r}" if isinstance(doc, dict) else f"a JSON {_json_type(doc)}"
        raise DocumentError(f"{source}: not a backupguard result document (schema version {SCHEMA_VERSION}); found {found}")
    errors = sorted(_validator().iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        first = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first.absolute_path).lstrip(".") or "(document)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DocumentError(f"{source}: not a valid result document: {where}: {_short(first.message)}{more}")


def upgrade(doc: dict[str, Any]) -> dict[str, Any]:
    """A valid document in this version's shape: a 0.1 result's ``waiver`` text becomes its
    ``suppression`` (kind "waiver"), so every report reads one field."""
    for result in doc.get("results") or []:
        if result.get("waiver") and not result.get("suppression"):
            result["suppression"] = {"kind": "waiver", "reason": str(result["waiver"])}
        result.pop("waiver", None)
    return doc


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", type(None): "null", int: "number", float: "number"}
    return names.get(type(value), "value")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _first(candidates: list[Any]) -> Any:
    """One of several versions of the same thing, chosen by content, never by input order."""
    return min(candidates, key=_canonical)


def _union(values: Any) -> list[Any]:
    """Distinct values, sorted (strings as text, anything else by its JSON)."""
    distinct = {_canonical(v): v for v in values}
    return sorted(distinct.values(), key=lambda v: (0, v, "") if isinstance(v, str) else (1, "", _canonical(v)))


_UNITED = ("paths", "files", "notes", "accounts", "regions")


def merge(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """One document from several (shards of a scan, or scans of several repositories).

    Results are united (a finding present in two shards counts once), rules and
    inventory likewise; framework verdicts are recomputed from the merged results.
    The scan section unites ``paths``, ``files``, ``notes``, ``accounts`` and
    ``regions`` and keeps every input's whole ``scan`` object in ``shards`` (a
    merged input contributes its own shards). Nothing depends on the order of
    ``docs``: where inputs disagree about one item, the one with the smallest JSON
    text is kept, so merging shards in any order gives byte-identical output.
    """
    for doc in docs:
        if doc.get("schema_version") != SCHEMA_VERSION or "results" not in doc:
            raise DocumentError(f"not a backupguard {SCHEMA_VERSION} result document")
    found: dict[tuple, list[Result]] = {}
    for doc in docs:
        for result in results_of(doc):
            found.setdefault((result.fingerprint, result.status, result.message), []).append(result)
    merged = [_first_result(versions) for versions in found.values()]
    rules: dict[Any, list[dict[str, Any]]] = {}
    inventory: dict[tuple, list[dict[str, Any]]] = {}
    frameworks: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        for rule in doc.get("rules") or []:
            rules.setdefault(rule["id"], []).append(rule)
        for row in doc.get("inventory") or []:
            inventory.setdefault((row.get("file"), row.get("resource_id")), []).append(row)
        for framework in doc.get("frameworks") or []:
            frameworks.setdefault(framework["id"], []).append({
                "id": framework["id"], "title": framework["title"],
                "description": framework.get("description", ""), "source_url": framework.get("source_url", ""),
                "controls": [{k: c[k] for k in ("id", "title", "rules")} for c in framework["controls"]],
            })
    results = sorted(merged, key=lambda r: (r.sort_key(), r.fingerprint, r.message, _canonical(r.to_dict())))
    scans = [doc.get("scan") if isinstance(doc.get("scan"), dict) else {} for doc in docs]
    shards = [shard for scan in scans for shard in (scan.get("shards") if isinstance(scan.get("shards"), list) else [scan])]
    scan: dict[str, Any] = {}
    for key in _UNITED:
        values = [v for shard in [*scans, *shards] for v in (shard.get(key) if isinstance(shard.get(key), list) else [])]
        if values or key in ("paths", "files", "notes"):
            scan[key] = _union(values)
    baselines = [b for b in (s.get("baseline") for s in scans) if isinstance(b, dict)]
    if baselines:  # fixed in some shard and not failing or unknown in the merged results
        present = {r.fingerprint for r in results if r.status in ("fail", "unknown")}
        fixed = {f["fingerprint"]: f for b in baselines for f in (b.get("fixed") or [])
                 if isinstance(f, dict) and isinstance(f.get("fingerprint"), str) and f["fingerprint"] not in present}
        scan["baseline"] = {"path": _first([b.get("path") for b in baselines]),
                            "findings": max((b["findings"] for b in baselines if type(b.get("findings")) is int), default=0),
                            "fixed": [fixed[key] for key in sorted(fixed, key=lambda k: (_canonical(fixed[k]), k))]}
    scan["merged_from"] = len(docs)
    scan["shards"] = sorted(shards, key=_canonical)
    chosen_frameworks = [_first(frameworks[key]) for key in sorted(frameworks)]
    # Frameworks in the order the inputs name them first (by id when they disagree).
    order = {fid: i for i, fid in enumerate(dict.fromkeys(f["id"] for doc in docs for f in doc.get("frameworks") or []))}
    if len({tuple(f["id"] for f in doc.get("frameworks") or []) for doc in docs}) > 1:
        order = {}
    chosen_frameworks.sort(key=lambda f: (order.get(f["id"], 0), f["id"]))
    return document(results, [_first(v) for v in rules.values()], scan, control_summary(results, chosen_frameworks),
                    [_first(inventory[key]) for key in sorted(inventory, key=lambda k: (k[0] or "", k[1] or ""))])


def _first_result(versions: list[Result]) -> Result:
    return min(versions, key=lambda r: _canonical(r.to_dict()))
