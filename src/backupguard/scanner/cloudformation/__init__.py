"""CloudFormation source: a template file in, Estate entities (with origins) out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backupguard.estate import BackupSelection, Estate, InputError, Origin, ProtectedResource, Unknown
from backupguard.scanner.cloudformation.intrinsics import MAX_EXPANDED_RESOURCES, NO_VALUE, TemplateContext
from backupguard.scanner.cloudformation.loader import LineDict, LineList, TemplateError, load_text
from backupguard.scanner.cloudformation.resources import BUILDERS, PHYSICAL_NAMES
from backupguard.scanner.values import Rejected, as_str
from backupguard.scanner.org_policy import add_entity
from backupguard.scanner.suppressions import cloudformation as inline_suppressions

__all__ = ["CfnOptions", "looks_like_template", "parse_template", "TemplateError"]

_TEMPLATE_MARKERS = ("AWSTemplateFormatVersion", "Resources")


@dataclass(frozen=True)
class CfnOptions:
    """What the user tells us about the deployment: parameter values and pseudo-parameters."""

    parameters: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    account_id: str | None = None


def looks_like_template(text: str) -> bool:
    """Cheap content test used when walking folders (skips other YAML/JSON quietly)."""
    return any(marker in text for marker in _TEMPLATE_MARKERS)


def is_template(data: Any) -> bool:
    """A mapping with a format version, or a Resources section holding at least one typed resource.

    Entries without a Type are then reported as errors, and the typed ones are
    still checked.
    """
    if not isinstance(data, dict):
        return False
    if "AWSTemplateFormatVersion" in data:
        return True
    resources = data.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(r, dict) and isinstance(r.get("Type"), str) for r in resources.values()
    )


def parse_template(path: str, text: str, options: CfnOptions, *, strict: bool = True) -> Estate | None:
    """Parse one template into an Estate.

    Returns None when ``strict`` is false and the file is not a CloudFormation
    template (folder walks skip such files). Raises :class:`TemplateError` for a
    file that is broken.
    """
    data = load_text(text)
    if not is_template(data):
        if strict:
            raise TemplateError("not a CloudFormation template (no Resources section of typed resources)")
        return None
    estate = Estate(files=[path])
    if isinstance(data.get("Parameters"), dict):  # so that a --parameter no template declares is named
        estate.declared_parameters = sorted(str(name) for name in data["Parameters"])
    resources = data.get("Resources")
    if not isinstance(resources, LineDict):
        if resources is None and "AWSTemplateFormatVersion" in data:
            return estate
        raise TemplateError("the Resources section must be a mapping", *_pos(data, "Resources"))
    context = TemplateContext(data, options.parameters, options.region, options.account_id)
    for name in context.conditions:
        context.condition(name)  # evaluates every condition once, so cycles are found
    for logical_id, resource, (line, column) in expand_resources(resources, context):
        origin = Origin(file=path, line=line, column=column, account=options.account_id, region=options.region, unit=path)
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            estate.errors.append(InputError(f"resource '{logical_id}' has no Type", origin))
            continue
        if "Metadata" in resource:
            estate.suppressions.extend(inline_suppressions(str(logical_id), resource, origin))
        builder = BUILDERS.get(resource["Type"])
        if builder is None:
            continue
        exists: Any = True
        if "Condition" in resource:
            exists = context.condition(str(resource["Condition"]), resource)
            if exists is False:
                continue  # never created with these parameters
        null = _first_null(resource.get("Properties"), ("Properties",)) if _holds_null(resource.get("Properties")) else None
        if null is not None:
            null_path, (null_line, null_column) = null
            estate.errors.append(InputError(
                f"resource '{logical_id}': '{'/'.join(null_path)}' is null; CloudFormation does not allow null values",
                origin.at(null_line, null_column),
            ))
            continue
        props = context.resolve(resource.get("Properties") or LineDict())
        if props is NO_VALUE:  # Properties: !If [cond, {...}, !Ref AWS::NoValue]
            props = LineDict(line=line, column=column)
        if isinstance(props, Unknown) or not isinstance(props, dict):
            estate.errors.append(InputError(f"resource '{logical_id}': Properties are not a mapping", origin))
            continue
        if not isinstance(props, LineDict):
            props = LineDict(props, line=line, column=column)
        try:
            entity = builder(str(logical_id), props, origin)
        except Rejected as exc:  # AWS refuses the resource: an error for it, the others are still checked
            estate.errors.append(InputError(f"resource '{logical_id}': {exc.message}", exc.origin or origin))
            continue
        if isinstance(entity, ProtectedResource) and resource["Type"] in PHYSICAL_NAMES:
            entity.name = as_str(props.get(PHYSICAL_NAMES[resource["Type"]]))
        if isinstance(entity, BackupSelection) and isinstance(exists, Unknown):
            entity.exists = Unknown(f"the selection exists only if condition '{resource['Condition']}' holds ({exists.reason})")
        if entity is not None:
            add_entity(estate, entity)
    return estate


_FOR_EACH = "Fn::ForEach::"


def expand_resources(resources: LineDict, context: TemplateContext) -> list[tuple[str, Any, tuple[int, int]]]:
    """Resources with ``Fn::ForEach`` loops (AWS::LanguageExtensions) expanded into real logical IDs.

    A loop over a collection the inputs do not determine is skipped: there is no
    resource to locate until the collection is known. Expansion is bounded
    (:data:`MAX_EXPANDED_RESOURCES` resources beyond those written out, every copied value counted against
    the template's evaluation budget): nested loops multiply, and a few bytes
    could otherwise ask for millions of resources.
    """
    expanded: list[tuple[str, Any, tuple[int, int]]] = []
    # Resources written out are bounded by the file's size; only what loops add counts against the limit.
    written = sum(1 for logical_id in resources if not (isinstance(logical_id, str) and logical_id.startswith(_FOR_EACH)))
    _expand(resources, context, expanded, written + MAX_EXPANDED_RESOURCES)
    return expanded


def _expand(resources: LineDict, context: TemplateContext, expanded: list[tuple[str, Any, tuple[int, int]]],
            limit: int) -> None:
    for logical_id, resource in resources.items():
        position = resources.pos(logical_id)
        if not (isinstance(logical_id, str) and logical_id.startswith(_FOR_EACH)):
            expanded.append((logical_id, resource, position))
            if len(expanded) > limit:
                raise TemplateError(
                    f"Fn::ForEach expands to more than {MAX_EXPANDED_RESOURCES:,} resources "
                    "(CloudFormation allows 500 per stack); not evaluated", *position
                )
            continue
        if not isinstance(resource, list) or len(resource) != 3 or not isinstance(resource[2], dict):
            raise TemplateError(f"{logical_id} takes [identifier, collection, {{fragment}}]", *position)
        identifier, collection, fragment = resource[0], context.resolve(resource[1]), resource[2]
        if not isinstance(identifier, str) or not isinstance(collection, list):
            continue
        for item in collection:
            if not isinstance(item, (str, int, float)) or isinstance(item, bool):
                continue
            copy = _substitute(fragment, identifier, str(item), context)
            _expand(copy, context, expanded, limit)


def _substitute(value: Any, identifier: str, item: str, context: TemplateContext) -> Any:
    """Replace ``${id}``, ``&{id}`` and ``Ref: id`` in a ForEach fragment, keeping positions."""
    context.spend(1, value)
    if isinstance(value, str):
        return value.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", item)
    if isinstance(value, dict):
        if list(value) == ["Ref"] and value["Ref"] == identifier:
            return item
        line, column = (value.line, value.column) if isinstance(value, LineDict) else (1, 1)
        out = LineDict(line=line, column=column)
        for key, child in value.items():
            new_key = _substitute(key, identifier, item, context) if isinstance(key, str) else key
            out[new_key] = _substitute(child, identifier, item, context)
            out.key_pos[new_key] = value.pos(key) if isinstance(value, LineDict) else (line, column)
        return out
    if isinstance(value, list):
        items = [_substitute(child, identifier, item, context) for child in value]
        return value.like(items) if isinstance(value, LineList) else items
    return value


def _holds_null(value: Any) -> bool:
    """Whether a null is anywhere inside ``value``: one walk without paths, since nearly every
    resource has none (:func:`_first_null` then says where)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item is None and item is not value:  # Properties itself left empty is not a null inside
            return True
    return False


def _first_null(value: Any, path: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[int, int]] | None:
    """The path and position of the first null inside a resource's properties.

    CloudFormation refuses a template with a null value anywhere ("'null' values
    are not allowed in templates"); read as "not set" instead, a ``- null`` rule
    would be a rule that keeps recovery points forever.
    """
    children: Any = ()
    if isinstance(value, dict):
        children = ((str(key), child, value.pos(key) if isinstance(value, LineDict) else (1, 1))
                    for key, child in value.items())
    elif isinstance(value, list):
        children = ((str(index), child, value.pos(index) if isinstance(value, LineList) else (1, 1))
                    for index, child in enumerate(value))
    for name, child, position in children:
        if child is None:
            return path + (name,), position
        found = _first_null(child, path + (name,))
        if found is not None:
            return found
    return None


def _pos(container: Any, key: str) -> tuple[int, int]:
    return container.pos(key) if isinstance(container, LineDict) else (1, 1)
