"""Whether a backup selection (resource assignment) picks a resource, the way AWS Backup decides it.

AWS's formula (shared/reference/aws-backup.md, section 4)::

    (any Resources entry OR any ListOfTags entry) AND every Conditions entry AND NOT any NotResources entry

with no Resources and no ListOfTags meaning "every resource". Region opt-in
gates the broad routes ("*", service-only ARNs, tags); a resource-type or
specific ARN selects a resource even when its type is not opted in, except
Aurora, DocumentDB and Neptune. Before deployment much is unknown (the Region,
generated IDs, parameter values), so every answer is three-valued: True, False
or :class:`Unknown` with the reason, combined with Kleene logic (a known True
decides an OR, a known False decides an AND).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from backupguard.estate import GENERATED, BackupSelection, OpenTags, ProtectedResource, Reference, TagCondition, Unknown
from backupguard.resolve.services import facts_for

Tri = Any  # True | False | Unknown

# service -> (ARN service, resource-part prefix, prefix of the ID AWS assigns; None: a physical name)
_FORMATS = {
    "EC2": ("ec2", "instance/", "i-"),
    "EBS": ("ec2", "volume/", "vol-"),
    "RDS": ("rds", "db:", None),
    "Aurora": ("rds", "cluster:", None),
    "DocumentDB": ("rds", "cluster:", None),
    "Neptune": ("rds", "cluster:", None),
    "DynamoDB": ("dynamodb", "table/", None),
    "EFS": ("elasticfilesystem", "file-system/", "fs-"),
    "FSx": ("fsx", "file-system/", "fs-"),
    "S3": ("s3", "", None),
}
_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"))
# GetAtt attributes that return the resource's ARN; Ref of these types returns a name or ID, which is no ARN.
_ARN_ATTRIBUTES = {"Arn", "DBInstanceArn", "DBClusterArn", "ResourceARN", "arn"}  # CloudFormation, Terraform
_SYMBOLIC = re.compile(r"\$\{AWS::[A-Za-z]+\}")
_TAG_PREFIX = "aws:ResourceTag/"


@dataclass(frozen=True)
class Hole:
    """A part of an ARN that is not known before deployment."""

    reason: str
    generated: bool = False  # an ID/name AWS or CloudFormation makes up: a literal in a pattern never equals it
    candidates: tuple[str, ...] = ()  # the values it can take, when the input narrows it down
    pseudo: str | None = None  # "AWS::Region": a pattern field "${AWS::Region}" is the same deployment's value


@dataclass(frozen=True)
class ArnModel:
    """An ARN split into fields; the resource part is a known start plus, maybe, an unknown rest."""

    partition: str | Hole
    service: str
    region: str | Hole
    account: str | Hole
    resource: str
    rest: Hole | None = None

    def fields(self) -> list[tuple[str, Hole | None]]:
        def split(value: str | Hole) -> tuple[str, Hole | None]:
            return ("", value) if isinstance(value, Hole) else (value, None)

        return [split(self.partition), (self.service, None), split(self.region), split(self.account),
                (self.resource, self.rest)]

    def display(self) -> str:
        def show(known: str, hole: Hole | None) -> str:
            if hole is None:
                return known
            if len(hole.candidates) == 1:
                return known + hole.candidates[0]
            return known + ("<generated>" if hole.generated else "*")

        return "arn:" + ":".join(show(known, hole) for known, hole in self.fields())


def _deployment(resource: ProtectedResource) -> tuple[str | Hole, str | Hole, str | Hole]:
    """Partition, Region and account; without --region the partition is assumed to be "aws"."""
    region, account = resource.origin.region, resource.origin.account
    if region:
        partition: str | Hole = next((p for prefix, p in _PARTITIONS if region.startswith(prefix)), "aws")
    else:
        partition = Hole("the partition follows the deployment Region (give --region)", False, ("aws",), "AWS::Partition")
    return (
        partition,
        region or Hole("the deployment Region is not known (give --region)", pseudo="AWS::Region"),
        account or Hole("the deployment account is not known (give --account-id)", pseudo="AWS::AccountId"),
    )


def _name_hole(name: Any, lower: bool) -> tuple[str, Hole | None]:
    """A declared physical name: known text, or the known start and an unknown rest."""
    fix = str.lower if lower else str  # RDS, DocumentDB and Neptune store identifiers in lower case
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        name = str(name)
    if isinstance(name, str):
        symbolic = _SYMBOLIC.search(name)
        if not symbolic:
            return fix(name), None
        return fix(name[: symbolic.start()]), Hole(f"the name uses {symbolic.group(0)}, known only at deployment")
    if isinstance(name, Unknown):
        if name.text and not name.candidates:  # a partly known name: its literal start is known
            cut = name.text.find("${")
            start = name.text if cut < 0 else name.text[:cut]
            return fix(start), Hole(name.reason, generated=name.text.endswith(GENERATED))
        options = tuple(fix(c) for c in name.candidates if isinstance(c, str))
        return "", Hole(name.reason, candidates=options if len(options) == len(name.candidates) else ())
    return "", Hole(f"the name is '{name}', known only after deployment")


def _arn_format(resource: ProtectedResource) -> tuple[str, str, str | None]:
    """(ARN service, resource part's prefix, ID prefix when AWS generates the ID) of the resource's type."""
    service, prefix, id_prefix = _FORMATS.get(resource.service, ("", "", None))
    if resource.service == "RDS" and resource.resource_type.endswith("DBCluster"):
        prefix = "cluster:"  # an RDS Multi-AZ DB cluster
    return service, prefix, id_prefix


def resource_arn(resource: ProtectedResource) -> ArnModel:
    """The resource's ARN as far as it is known before deployment (a live resource's is simply known)."""
    if isinstance(resource.arn, str):
        parts = (resource.arn.split(":", 5) + [""] * 6)[1:6]
        return ArnModel(*parts)
    service, prefix, id_prefix = _arn_format(resource)
    partition, region, account = _deployment(resource)
    if service == "s3":
        region = account = ""  # S3 ARNs have no Region or account
    if id_prefix is not None:
        rest: Hole | None = Hole(f"the ID is assigned when the {resource.service} resource is created", True)
        return ArnModel(partition, service, region, account, prefix + id_prefix, rest)
    if resource.name is None:  # a source that names it (Terraform) says how; CloudFormation generates it
        return ArnModel(partition, service, region, account, prefix,
                        Hole("the name is generated by CloudFormation (stack name, logical ID, random suffix)", True))
    known, rest = _name_hole(resource.name, lower=service == "rds")
    return ArnModel(partition, service, region, account, prefix + known, rest)


def deployed_arn(resource: ProtectedResource, physical_id: str, partition: str, region: str, account: str) -> str | None:
    """The ARN of a deployed resource from its physical ID (what ``ListStackResources`` reports: a
    table's or bucket's name, an instance's, volume's or file system's ID, a DB identifier), in the
    same formats as :func:`resource_arn`; None for a service whose ARN is not built that way."""
    if physical_id.startswith("arn:"):
        return physical_id
    service, prefix, _ = _arn_format(resource)
    if not service or not physical_id:
        return None
    if service == "s3":
        return f"arn:{partition}:s3:::{physical_id}"
    return f"arn:{partition}:{service}:{region}:{account}:{prefix}{physical_id.lower() if service == 'rds' else physical_id}"


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    # IAM wildcards: '*' any run, '?' one character; everything else ('[' included) is literal.
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


def _glob(pattern: str, text: str) -> bool:
    return _regex(pattern).fullmatch(text) is not None


def _field(pattern: str, known: str, hole: Hole | None) -> Tri:
    """One ARN field: the value is ``known`` followed by ``hole`` (unknown), if any."""
    if hole is not None and hole.pseudo and not known and pattern == "${" + hole.pseudo + "}":
        return True  # both are the deploying Region/account
    symbolic = _SYMBOLIC.search(pattern)
    if symbolic:
        return Unknown(f"the pattern uses {symbolic.group(0)}, known only at deployment")
    if hole is None:
        return _glob(pattern, known)
    if hole.candidates:
        return _decided([_glob(pattern, known + c) for c in hole.candidates], hole.reason)
    if _glob(pattern, known + "\0") and _glob(pattern, known + "\0" * 20):
        return True  # the wildcards cover whatever fills the hole
    for cut in range(len(pattern) + 1):
        # A literal never equals a generated ID or name: 'vol-0abc' names some existing volume.
        if _glob(pattern[:cut], known) and (not hole.generated or "*" in pattern[cut:]):
            return Unknown(hole.reason)
    return False


@lru_cache(maxsize=4096)
def _pattern_fields(pattern: str) -> tuple[str, ...] | None:
    """partition, service, Region, account, resource; 'arn:aws:ec2:*' fills the rest with '*'.

    Cached: a selection's few patterns are read for every resource it is matched against."""
    protected = _SYMBOLIC.sub(lambda m: m.group(0).replace(":", "\0"), pattern)  # ${AWS::Region} has colons
    parts = [part.replace("\0", ":") for part in protected.split(":", 5)]
    if parts[0] != "arn" or len(parts) < 3:
        return None
    if len(parts) < 6:
        if not parts[-1].endswith("*"):
            return None
        parts += ["*"] * (6 - len(parts))
    return tuple(parts[1:])


def arn_matches(pattern: Any, resource: ProtectedResource, arn: ArnModel, unit: str | None = None) -> Tri:
    """Whether one Resources/NotResources entry names the resource. ``unit``: the selection's deployment
    unit (template, root module): a reference names a resource of its own unit only, whatever another
    template linted in the same run calls its resources."""
    foreign = unit is not None and resource.origin.unit is not None and unit != resource.origin.unit
    if isinstance(pattern, Reference):
        # Ref of a protectable resource gives its name or ID, which AWS Backup does not match to anything.
        return not foreign and pattern.target == resource.resource_id and pattern.attribute in _ARN_ATTRIBUTES
    if isinstance(pattern, Unknown):
        if pattern.candidates:
            options = list(pattern.candidates) + ([None] if pattern.may_be_absent else [])
            return _decided([arn_matches(c, resource, arn, unit) for c in options], pattern.reason)
        if pattern.refs:  # an ARN built (Fn::Sub) from template resources: those of its own unit
            return False if foreign else _built_from(pattern, resource, arn)
        return Unknown(pattern.reason)
    if not isinstance(pattern, str):
        return False
    if pattern == "*":
        return True
    fields = _pattern_fields(pattern)
    if fields is None:
        return False
    return _all_of([_field(p, known, hole) for p, (known, hole) in zip(fields, arn.fields())])


def _value_test(operator: str, expected: str, actual: Any) -> Tri:
    if isinstance(actual, Reference):
        return Unknown(f"the tag value is '{actual}', known only after deployment")
    present = actual is not None
    if operator in ("STRINGEQUALS", "STRINGNOTEQUALS"):
        hit = present and str(actual) == expected
    else:
        hit = present and _glob(expected, str(actual))
    return hit if operator in ("STRINGEQUALS", "STRINGLIKE") else not hit


def tag_condition_matches(condition: TagCondition, tags: Any) -> Tri:
    """One ListOfTags or Conditions entry against a resource's tags (case-sensitive, IAM semantics)."""
    key, expected = condition.key, condition.value
    for value, what in ((key, "key"), (tags, "tag set")):
        if isinstance(value, Unknown):
            return Unknown(f"the {what} is unknown: {value.reason}")
    if not isinstance(key, str):
        return Unknown(f"the condition key is '{key}', known only after deployment")
    operator = condition.operator.upper() if isinstance(condition.operator, str) else (
        "STRINGEQUALS" if condition.operator is None else ""  # missing: BG420 reports it
    )
    if operator not in ("STRINGEQUALS", "STRINGNOTEQUALS", "STRINGLIKE", "STRINGNOTLIKE"):
        return Unknown(f"the condition operator '{condition.operator}' is not known")
    if not isinstance(tags, dict):
        return Unknown("the tags are not a key-value map")
    bare_key = key.removeprefix(_TAG_PREFIX)
    if isinstance(tags, OpenTags) and bare_key not in tags:
        return Unknown(f"tag '{bare_key}' may come from {tags.reason}")
    actual = tags.get(bare_key)
    # StringNotEquals/StringNotLike on a missing tag hold: IAM treats an absent key as "not equal".
    if actual is None:  # and StringEquals/StringLike fail whatever the value: an unknown value decides nothing
        return _value_test(operator, "", None)
    return _over(expected, lambda e: _over(actual, lambda a: _value_test(operator, "" if e is None else str(e), a)))


# -- three-valued logic -------------------------------------------------------------


def _over(value: Any, test: Callable[[Any], Tri]) -> Tri:
    """``test`` of a value; of an Unknown, decided when every value it can take agrees."""
    if not isinstance(value, Unknown):
        return test(value)
    if not value.candidates:
        return Unknown(value.reason)
    options = list(value.candidates) + ([None] if value.may_be_absent else [])
    return _decided([_over(o, test) for o in options], value.reason)


def _decided(results: list[Tri], reason: str) -> Tri:
    """Known when every possibility agrees, else Unknown(reason)."""
    if all(r is True for r in results) or all(r is False for r in results):
        return results[0]
    return Unknown(reason)


def _all_of(values: list[Tri]) -> Tri:
    """Kleene AND: a known False decides; otherwise unknown reasons are joined."""
    if any(v is False for v in values):
        return False
    if all(v is True for v in values):
        return True
    return Unknown("; ".join(dict.fromkeys(v.reason for v in values if isinstance(v, Unknown))))


def _explained(value: Tri, text: str) -> Tri:
    return Unknown(f"{text}: {value.reason}") if isinstance(value, Unknown) else value


@dataclass(frozen=True)
class Match:
    """Whether a selection picks a resource, and a human explanation of why (or why not)."""

    selected: Tri
    how: str


# Explanations are in words, not in one source's vocabulary (ListOfTags or selection_tag, StringEquals
# or string_equals): they reach CloudFormation, Terraform and live results alike.
_OPERATOR_WORDS = {"StringEquals": "equals", "StringNotEquals": "does not equal", "StringLike": "is like",
                   "StringNotLike": "is not like"}


def _describe(condition: TagCondition, listed: bool) -> str:
    if listed:
        return f"tag {condition.key}={condition.value}"
    return f"condition {condition.key} {_OPERATOR_WORDS.get(condition.operator, condition.operator)} {condition.value}"


def _built_from(pattern: Unknown, resource: ProtectedResource, arn: ArnModel) -> Tri:
    """Whether an Fn::Sub ARN built from template resources names this one.

    ``${Bucket.Arn}`` does; ``arn:aws:s3:::${Bucket}`` does (a Ref gives the name
    the ARN ends with) when the rest matches the resource's ARN; a text that
    goes on after the reference (``${Bucket}-replica``, ``${Table}/index/*``)
    names something else.
    """
    text = pattern.text
    if text is None:  # a value (often a whole list) built from these resources in ways we cannot see
        return True if resource.resource_id in pattern.refs else Unknown(pattern.reason)
    if resource.resource_id not in pattern.refs:
        return False
    whole_arn = {f"${{{resource.resource_id}.{attribute}}}" for attribute in _ARN_ATTRIBUTES}
    if text in whole_arn:
        return True
    ref = f"${{{resource.resource_id}}}"
    if text.endswith(ref) and text.count(ref) == 1 and "${" not in text[: -len(ref)].replace("${AWS::", ""):
        return arn_matches(text[: -len(ref)] + "*", resource, arn)
    return False


def _broad(pattern: Any) -> bool:
    """'*' or a service-only ARN ('arn:aws:ec2:*'), in every reading of the pattern: these honour opt-in.

    ``arn:aws:s3:::*`` is S3's resource-type ARN (bucket ARNs have no type
    prefix), which AWS backs up without opt-in, like ``arn:aws:ec2:*:*:volume/*``.
    """
    if isinstance(pattern, Unknown):
        return bool(pattern.candidates) and all(_broad(c) for c in pattern.candidates)
    fields = _pattern_fields(pattern) if isinstance(pattern, str) else None
    if fields and fields[1] == "s3" and pattern.count(":") >= 5:
        return False
    return pattern == "*" or bool(fields) and fields[4] == "*"


def _how(pattern: Any) -> str:
    if pattern == "*":
        return "'*' (every resource)"
    if isinstance(pattern, Reference):
        return f"a reference to it ({pattern})"
    if isinstance(pattern, Unknown):
        return f"ARN built from {', '.join(pattern.refs)}" if pattern.refs else "an ARN that depends on the inputs"
    return f"ARN {pattern}"


def _entries(value: Any, what: str) -> list[Any]:
    """A selection's Resources/NotResources entries (``what`` names them in words).

    AWS takes a list of strings: an undetermined value is one unknown entry,
    and anything else (``Resources: "*"``, a string AWS rejects) is an unknown
    entry too, never the pattern it would be inside a list.
    """
    if isinstance(value, (list, tuple)):
        return [entry if isinstance(entry, (str, Reference, Unknown))
                else Unknown(f"one of its {what} is not a string ({entry!r}); AWS rejects the selection")
                for entry in value]
    if isinstance(value, Unknown):
        return [value]
    return [Unknown(f"its {what} are not a list; AWS rejects the selection")]


def _routes(selection: BackupSelection, resource: ProtectedResource, arn: ArnModel,
            opted_in: Callable[[str], Tri]) -> list[tuple[Tri, Tri, str]]:
    """(matches, opt-in gate, explanation) for every way the selection can include the resource."""
    service = resource.service
    broad = opted_in(service)  # '*', service-only ARNs and tags honour the Region's opt-in
    narrow = broad if facts_for(service).always_needs_opt_in else True
    routes: list[tuple[Tri, Tri, str]] = []
    for pattern in _entries(selection.resources, "resource ARNs"):
        routes.append((arn_matches(pattern, resource, arn, selection.origin.unit), broad if _broad(pattern) else narrow,
                       _how(pattern)))
    for condition in selection.list_of_tags:
        routes.append((tag_condition_matches(condition, resource.tags), broad, _describe(condition, True)))
    return routes  # no Resources and no ListOfTags: AWS rejects the selection (BG425), it selects nothing


def selection_matches(selection: BackupSelection, resource: ProtectedResource,
                      opted_in: Callable[[str], Tri], arn: ArnModel | None = None) -> Match:
    """Whether ``selection`` picks ``resource``, with AWS's formula, opt-in rules and honest unknowns.

    ``arn`` is the resource's :func:`resource_arn`, when the caller has it already.
    """
    arn = arn or resource_arn(resource)
    included: Tri = False  # Kleene OR over the routes: a known True decides
    how = "none of its resource ARNs and tags matches"
    if not selection.resources and not selection.list_of_tags:
        how = "the selection names neither resource ARNs nor tags, which AWS rejects"
    unknowns: list[Tri] = []
    for matched, gate, route in _routes(selection, resource, arn, opted_in):
        value = _all_of([matched, gate])
        if value is True:
            included, how = True, route
            break
        if isinstance(value, Unknown):
            unknowns.append(_explained(value, route))
        elif matched is True:
            how = f"{route} matches, but {resource.service} is not opted in for the Region"
    if included is False and unknowns:
        included = _all_of(unknowns)
    parts: list[tuple[Tri, str]] = [(included, how)]
    for condition in selection.conditions:
        text = _describe(condition, False)
        parts.append((_explained(tag_condition_matches(condition, resource.tags), text), f"{text} failed"))
    for pattern in _entries(selection.not_resources, "excluded ARNs"):
        value = _explained(arn_matches(pattern, resource, arn, selection.origin.unit), f"excluded ARN {pattern}")
        parts.append((value if isinstance(value, Unknown) else not value, f"excluded by its excluded ARN {pattern}"))
    verdict = _all_of([value for value, _ in parts])
    if verdict is False:
        return Match(False, next(text for value, text in parts if value is False))
    return Match(verdict, verdict.reason if isinstance(verdict, Unknown) else how)
