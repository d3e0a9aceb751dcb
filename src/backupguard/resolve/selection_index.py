"""Which selections can possibly select a resource: an index, so that coverage stays linear.

Testing every selection against every resource costs their product. Instead, each
selection is given a conservative *candidate filter* derived from its entries, and
each resource a few *probe keys* derived from its ARN, ID and tags, once:

==============================  ===========================================  ==============================
selection entry                 registered under                             a resource probes it with
==============================  ===========================================  ==============================
``*``                           every resource                               (always)
ARN or ARN pattern              its service and the literal start of its     its ARN's service and resource
                                resource part (``volume/``)                  part (each known prefix)
``Ref``/``GetAtt`` of a         the referenced resource's ID                 its own ID
resource, ARN built from one
ListOfTags ``STRINGEQUALS``     ``key=value``                                each of its tags
ListOfTags ``STRINGLIKE``       the key                                      each of its tag keys
==============================  ===========================================  ==============================

A selection is a candidate for a resource when one of its routes (Resources OR
ListOfTags) may name it; when no route can be indexed (an unknown entry, a
``STRINGNOTEQUALS`` route) a ``STRINGEQUALS``/``STRINGLIKE`` Conditions entry (AND)
narrows instead, else the selection is a candidate for every resource in its scope.
A tag value or tag set that is not known (an :class:`~backupguard.estate.Unknown`
value, :class:`~backupguard.estate.OpenTags`, tags that are not a map) makes the
resource a candidate for every tag-based selection. The exact, three-valued
:func:`~backupguard.resolve.selection.selection_matches` then decides each candidate
pair: a pair the index leaves out is one it would have answered with a plain False
(``tests/test_selection_index.py`` checks that property on random estates), so an
unknown still yields unknown.

:class:`Matcher` computes ``selection_matches`` once per selection and *kind* of
resource when the answer cannot depend on the resource's ARN or ID (a selection by
tags, ``*``, references to other resources): the service, its opt-in and the values
of the tags the selection reads decide it, so thousands of resources tagged alike
cost one evaluation.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Callable

from backupguard.estate import BackupSelection, OpenTags, ProtectedResource, Reference, TagCondition, Unknown
from backupguard.resolve.selection import (
    _ARN_ATTRIBUTES, _SYMBOLIC, _TAG_PREFIX, ArnModel, Match, _entries, _glob, _pattern_fields, resource_arn,
    selection_matches,
)

# Probe keys: ("id", resource ID), ("tk", tag key), ("tkv", tag key, value as text),
# ("tkU", tag key: its value is unknown), ("tags?",: the tag set is not fully known).
_TAGS_UNKNOWN = ("tags?",)


@dataclass(frozen=True, slots=True)
class CandidateFilter:
    """Where a selection can select: resources that probe one of ``keys`` or whose ARN fits one of
    ``arns`` (service pattern, None for any service; literal start of the resource part)."""

    keys: frozenset = frozenset()
    arns: tuple[tuple[str | None, str], ...] = ()


class _Acc:
    def __init__(self) -> None:
        self.keys: set[tuple] = set()
        self.arns: list[tuple[str | None, str]] = []

    def done(self) -> CandidateFilter:
        return CandidateFilter(frozenset(self.keys), tuple(dict.fromkeys(self.arns)))


def _literal_start(pattern: str) -> str:
    """The part of an ARN field pattern before its first wildcard; '' when it is symbolic."""
    if _SYMBOLIC.search(pattern):
        return ""  # ${AWS::Region} in the pattern: the field is unknown, never False
    cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    return pattern[:cut]


def _arn_entry(pattern: Any, acc: _Acc) -> bool:
    """Register one Resources entry (as :func:`~.selection.arn_matches` reads it); False when
    it may name any resource (``*``, an unknown value)."""
    if isinstance(pattern, Reference):
        if pattern.attribute in _ARN_ATTRIBUTES:
            acc.keys.add(("id", pattern.target))
        return True
    if isinstance(pattern, Unknown):
        if pattern.candidates:  # one of a few values (an absent one names nothing)
            return all(_arn_entry(candidate, acc) for candidate in pattern.candidates)
        if pattern.refs and pattern.text is not None:  # an ARN built from these resources names one of them
            acc.keys.update(("id", ref) for ref in pattern.refs)
            return True
        return False  # unknown for every resource
    if not isinstance(pattern, str):
        return True  # names nothing
    if pattern == "*":
        return False
    fields = _pattern_fields(pattern)
    if fields is None:
        return True  # not an ARN: names nothing
    service = fields[1]
    acc.arns.append((None if _SYMBOLIC.search(service) else service, _literal_start(fields[4])))
    return True


def _operator(condition: TagCondition) -> str:
    operator = condition.operator
    return operator.upper() if isinstance(operator, str) else ("STRINGEQUALS" if operator is None else "")


def _tag_entry(condition: TagCondition, acc: _Acc) -> bool:
    """Register one ListOfTags/Conditions entry (as :func:`~.selection.tag_condition_matches`
    reads it); False when it may hold for a resource without the tag (``STRINGNOTEQUALS``...)."""
    key = condition.key
    if not isinstance(key, str):
        return False
    operator = _operator(condition)
    bare = key.removeprefix(_TAG_PREFIX)
    if operator == "STRINGEQUALS" and not isinstance(condition.value, Unknown):
        value = "" if condition.value is None else str(condition.value)
        acc.keys.update((("tkv", bare, value), ("tkU", bare), _TAGS_UNKNOWN))
    elif operator in ("STRINGEQUALS", "STRINGLIKE"):  # the tag must be there, whatever its value
        acc.keys.update((("tk", bare), _TAGS_UNKNOWN))
    else:
        return False
    return True


def candidate_filter(selection: BackupSelection) -> CandidateFilter | None:
    """The resources ``selection`` can possibly select; None: any resource in its scope."""
    routes = _Acc()
    indexed = all(_arn_entry(pattern, routes) for pattern in _entries(selection.resources, "Resources"))
    indexed = indexed and all(_tag_entry(condition, routes) for condition in selection.list_of_tags)
    if indexed:
        return routes.done()  # no route at all: it selects nothing
    for condition in selection.conditions:  # every Conditions entry must hold: any one narrows
        narrowed = _Acc()
        if _tag_entry(condition, narrowed):
            return narrowed.done()
    return None


@dataclass(slots=True)
class ResourceView:
    """What selections are matched against, computed once per resource."""

    resource: ProtectedResource
    opted_in: Callable[[str], Any]
    arn: ArnModel = field(init=False)
    probes: list[tuple] = field(init=False)
    gate: Any = field(init=False)  # whether the resource's service is opted in where it is
    signatures: dict[tuple, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        resource = self.resource
        self.arn = resource_arn(resource)
        self.gate = self.opted_in(resource.service)
        probes: list[tuple] = [("id", resource.resource_id)]
        tags = resource.tags
        if isinstance(tags, dict) and not isinstance(tags, OpenTags):
            for key, value in tags.items():
                if value is None or not isinstance(key, str):
                    continue  # an absent tag; a key no condition can name
                probes.append(("tk", key))
                probes.append(("tkU", key) if isinstance(value, (Unknown, Reference)) else ("tkv", key, str(value)))
        else:
            probes.append(_TAGS_UNKNOWN)
        self.probes = probes

    def signature(self, keys: tuple[str, ...]) -> Any:
        """The resource's tags as far as a selection reading ``keys`` can tell (None: not comparable)."""
        if keys in self.signatures:
            return self.signatures[keys]
        tags, found = self.resource.tags, None
        if type(tags) is dict:
            values = tuple(tags.get(key) for key in keys)
            if all(value is None or type(value) is str for value in values):
                found = ("tags", values)
        elif type(tags) is OpenTags and type(tags.reason) is str:
            values = tuple(tags.get(key) for key in keys)
            if all(value is None or type(value) is str for value in values):
                found = ("open", tags.reason, tuple(key in tags for key in keys), values)
        self.signatures[keys] = found
        return found


class SelectionIndex:
    """Some selections (by their position in the estate) indexed by :class:`CandidateFilter`.

    ``compiled`` holds each selection's filter and :func:`sharing` by position, computed once
    for the estate (a selection belongs to more than one index: its account and Region's and
    its deployment unit's)."""

    def __init__(self, ordinals: list[int], compiled: "Compiled"):
        self.everywhere: set[int] = set()
        self.postings: dict[tuple, list[int]] = {}
        self._arn_specs: list[tuple[str | None, str, int]] = []
        self.unshared: set[int] = set()  # selections whose answers depend on each resource's ARN
        keys: dict[str, None] = {}
        ids: set[str] = set()
        for ordinal in ordinals:
            found, shared = compiled.filter(ordinal), compiled.sharing(ordinal)
            if found is None:
                self.everywhere.add(ordinal)
            else:
                for key in found.keys:
                    self.postings.setdefault(key, []).append(ordinal)
                self._arn_specs.extend((service, start, ordinal) for service, start in found.arns)
            if shared is None:
                self.unshared.add(ordinal)
            else:
                keys.update(dict.fromkeys(shared.keys))
                ids.update(shared.ids)
        self.keys, self.ids = tuple(keys), frozenset(ids)
        self._by_service: dict[str, tuple[dict[str, list[int]], list[int], list[str]]] = {}

    def _service(self, service: str) -> tuple[dict[str, list[int]], list[int], list[str]]:
        """ARN patterns that can name a resource of this ARN service: by the literal start of their resource part."""
        found = self._by_service.get(service)
        if found is None:
            starts: dict[str, list[int]] = {}
            for pattern, start, ordinal in self._arn_specs:
                if pattern is None or pattern == service or (
                        ("*" in pattern or "?" in pattern) and _glob(pattern, service)):
                    starts.setdefault(start, []).append(ordinal)
            found = self._by_service[service] = (starts, sorted({len(s) for s in starts}), sorted(starts))
        return found

    def candidates(self, view: ResourceView) -> set[int]:
        """The selections that may select the resource (a superset of those that do)."""
        hits = set(self.everywhere)
        postings = self.postings
        for key in view.probes:
            found = postings.get(key)
            if found:
                hits.update(found)
        if self._arn_specs:
            starts, lengths, ordered = self._service(view.arn.service)
            known = view.arn.resource
            for length in lengths:  # a pattern whose literal start the resource part begins with
                if length > len(known):
                    break
                found = starts.get(known[:length])
                if found:
                    hits.update(found)
            if view.arn.rest is not None:  # the rest is unknown: a longer literal start may still fit
                at = bisect_right(ordered, known)
                while at < len(ordered) and ordered[at].startswith(known):
                    hits.update(starts[ordered[at]])
                    at += 1
        return hits


def _constant_for_others(pattern: Any, ids: set[str]) -> bool:
    """Whether a Resources/NotResources entry gives the same answer for every resource outside
    ``ids`` (which it extends): it cannot depend on their ARNs or IDs."""
    if isinstance(pattern, Reference):
        ids.add(pattern.target)
        return True
    if isinstance(pattern, Unknown):
        if pattern.candidates:
            return all(_constant_for_others(candidate, ids) for candidate in pattern.candidates)
        ids.update(pattern.refs)
        return True
    if isinstance(pattern, str) and pattern != "*":
        return _pattern_fields(pattern) is None
    return True


@dataclass(frozen=True, slots=True)
class _Shared:
    """How to share a selection's answers: the tag keys it reads, and the resources it names by ID."""

    keys: tuple[str, ...]
    ids: frozenset


def sharing(selection: BackupSelection) -> _Shared | None:
    """When ``selection``'s answer is the same for resources it cannot tell apart: the tag keys it
    reads and the resources it names by ID (None: its answer depends on each resource's ARN)."""
    ids: set[str] = set()
    entries = _entries(selection.resources, "Resources") + _entries(selection.not_resources, "NotResources")
    if not all(_constant_for_others(pattern, ids) for pattern in entries):
        return None
    keys = [condition.key for condition in [*selection.list_of_tags, *selection.conditions]]
    if not all(isinstance(key, str) for key in keys):
        return None
    return _Shared(tuple(dict.fromkeys(key.removeprefix(_TAG_PREFIX) for key in keys)), frozenset(ids))


class Compiled:
    """Each selection's :func:`candidate_filter` and :func:`sharing`, computed once, on first use."""

    def __init__(self, selections: list[BackupSelection]):
        self.selections = selections
        self._filters: dict[int, CandidateFilter | None] = {}
        self._sharing: dict[int, _Shared | None] = {}

    def filter(self, ordinal: int) -> CandidateFilter | None:
        if ordinal not in self._filters:
            self._filters[ordinal] = candidate_filter(self.selections[ordinal])
        return self._filters[ordinal]

    def sharing(self, ordinal: int) -> _Shared | None:
        if ordinal not in self._sharing:
            self._sharing[ordinal] = sharing(self.selections[ordinal])
        return self._sharing[ordinal]


class Matcher:
    """:func:`~backupguard.resolve.selection.selection_matches`, shared between resources it
    cannot tell apart (same service, opt-in and values of the tags it reads; not named by ID)."""

    def __init__(self, compiled: Compiled):
        self.compiled = compiled
        self._answers: dict[tuple, Match] = {}

    def match(self, ordinal: int, view: ResourceView) -> Match:
        selection = self.compiled.selections[ordinal]
        shared = self.compiled.sharing(ordinal)
        resource = view.resource
        if shared is None or resource.resource_id in shared.ids or type(view.gate) is not bool:
            return selection_matches(selection, resource, view.opted_in, view.arn)
        signature = view.signature(shared.keys)
        if signature is None:
            return selection_matches(selection, resource, view.opted_in, view.arn)
        key = (ordinal, resource.service, view.gate, signature)
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = selection_matches(selection, resource, view.opted_in, view.arn)
        return found
