"""Terraform plan JSON (``terraform show -json plan.out``) -> instances for the Estate.

A plan holds the values Terraform computed: variables, locals, count and
for_each are already resolved. What it does not know until apply is omitted
from ``values`` and marked in ``after_unknown``; those become
:class:`Reference` (when the configuration says which resource the value comes
from, e.g. a selection's ``plan_id``) or :class:`Unknown`. Resources being
deleted are skipped. The plan has no source positions: when the Terraform
configuration is given too (the directory the plan was made in), results point
at its blocks, and the plan's values take the positions of the arguments the
configuration writes (so a result can point at ``backup_retention_period``);
otherwise at the resource's ``address`` in the plan file.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from backupguard.estate import Origin, Reference, Unknown
from backupguard.scanner.cloudformation.loader import LineDict, LineList, TemplateError

if TYPE_CHECKING:  # the HCL engine is imported only when a plan is loaded (looks_like_plan runs on every JSON file)
    from backupguard.scanner.terraform.module import Instance


def looks_like_plan(text: str) -> bool:
    return '"format_version"' in text and ('"planned_values"' in text or '"resource_changes"' in text)


def _wrap(value: Any, unknown: Any, refs: dict[str, list[str]], path: str) -> Any:
    """Plan values as LineDict/LineList, with after_unknown leaves made Reference or Unknown."""
    if unknown is True:
        return _reference(_resource_refs(refs.get(_argument(path), [])), path)
    if isinstance(value, dict) or isinstance(unknown, dict):
        value = value if isinstance(value, dict) else {}
        unknown = unknown if isinstance(unknown, dict) else {}
        out = LineDict()
        for key in sorted(set(value) | {k for k, v in unknown.items() if v is True}):
            out[key] = _wrap(value.get(key), unknown.get(key), refs, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, list):
        unknown = unknown if isinstance(unknown, list) else []
        targets = _resource_refs(refs.get(_argument(path), []))
        out_list = LineList()
        for index, item in enumerate(value):
            if index < len(unknown) and unknown[index] is True:
                # [a.arn, b.arn] with both unknown: the n-th unknown item is the n-th referenced resource
                nth = sum(1 for u in unknown[:index] if u is True)
                out_list.append(_reference(targets[nth:nth + 1], f"{path}[{index}]"))
            else:
                out_list.append(_wrap(item, unknown[index] if index < len(unknown) else None, refs, f"{path}[{index}]"))
        return out_list
    return value


def _argument(path: str) -> str:
    return path.split(".")[0].split("[")[0]


def _resource_refs(references: list[str]) -> list[Reference]:
    """Resource attribute references, one per resource, in order (``aws_x.y.arn`` -> Reference)."""
    found: dict[str, Reference] = {}
    for ref in references:
        parts = ref.split(".")
        if parts[0] == "module" and len(parts) > 2:  # module.m.aws_x.y.attr
            prefix, parts = ".".join(parts[:2]) + ".", parts[2:]
        else:
            prefix = ""
        if len(parts) >= 3 and parts[0] not in ("var", "local", "each", "count", "path", "data", "module"):
            target = prefix + ".".join(parts[:2])
            found.setdefault(target, Reference(target, ".".join(parts[2:]), parts[0]))
    return list(found.values())


def _reference(references: list[Reference], path: str) -> Any:
    return references[0] if references else Unknown(f"'{path}' is known only after apply")


def _config_refs(configuration: dict, module_address: str) -> tuple[dict[str, dict[str, list[str]]], dict[str, str]]:
    """Per resource address (without instance keys): each argument's references (module prefix
    applied) and the provider configuration it uses."""
    found: dict[str, dict[str, list[str]]] = {}
    providers: dict[str, str] = {}

    def walk(module: dict, prefix: str) -> None:
        for resource in _array(module.get("resources"), "configuration resources"):
            if not isinstance(resource, dict):
                continue
            refs = {}
            for arg, expr in _object(resource.get("expressions"), "expressions").items():
                if isinstance(expr, dict) and isinstance(expr.get("references"), list):
                    refs[arg] = [prefix + r if not r.startswith(("var.", "local.", "each.", "count.")) else r
                                 for r in expr["references"] if isinstance(r, str)]
            address = prefix + str(resource.get("address", ""))
            found[address] = refs
            providers[address] = str(resource.get("provider_config_key", "aws")).split(":")[-1]
        for name, call in _object(module.get("module_calls"), "module_calls").items():
            walk(_object(_object(call, f"module call {name}").get("module"), f"module {name}"), f"{prefix}module.{name}.")

    walk(_object(configuration.get("root_module"), "configuration root_module"), module_address)
    return found, providers


def _provider_regions(configuration: dict) -> dict[str, Any]:
    regions = {}
    for key, config in _object(configuration.get("provider_config"), "provider_config").items():
        expr = _object(_object(_object(config, f"provider_config {key}").get("expressions"), "expressions").get("region"), "region")
        regions[key] = expr.get("constant_value") if "constant_value" in expr else Unknown(
            f"provider {key} region is set by an expression"
        )
    return regions


def _strip_index(address: str) -> str:
    """``module.m[0].aws_x.y["k"]`` -> ``module.m.aws_x.y`` (how the configuration names it)."""
    out, depth = [], 0
    for char in address:
        depth += char == "["
        if depth == 0:
            out.append(char)
        depth -= char == "]"
    return "".join(out)


_ADDRESS = re.compile(r'"address"\s*:\s*("(?:[^"\\]|\\.)*")')


def _address_lines(text: str) -> dict[str, tuple[int, int]]:
    """Where each ``"address": "..."`` first appears in the plan text (line, column): a plan has no
    source positions, but a result or error about a resource should still point at it."""
    found: dict[str, tuple[int, int]] = {}
    line, last, line_start = 1, 0, 0
    for match in _ADDRESS.finditer(text):
        newlines = text.count("\n", last, match.start())
        if newlines:
            line += newlines
            line_start = text.rfind("\n", last, match.start()) + 1
        last = match.start()
        try:
            address = json.loads(match.group(1))
        except ValueError:
            continue
        found.setdefault(address, (line, match.start() - line_start + 1))
    return found


def _object(value: Any, what: str) -> dict:
    """``value`` when it is a JSON object (or absent); a plan of another shape is a clear error."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TemplateError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def _array(value: Any, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TemplateError(f"{what} must be a JSON array, not {type(value).__name__}")
    return value


def _borrow_positions(value: Any, configured: Any) -> None:
    """Give plan values the positions of the same arguments and blocks in the configuration (in place):
    only where the configuration writes them, and only list items of a block list as long as the plan's."""
    if isinstance(value, LineDict) and isinstance(configured, LineDict):
        value.line, value.column = configured.line, configured.column
        for key, child in value.items():
            if key in configured.key_pos:
                value.key_pos[key] = configured.key_pos[key]
                _borrow_positions(child, configured.get(key))
    elif isinstance(value, LineList) and isinstance(configured, LineList) and len(value) == len(configured):
        value.line, value.column = configured.line, configured.column
        value.item_pos = list(configured.item_pos)
        for item, configured_item in zip(value, configured):
            _borrow_positions(item, configured_item)


def _place_at(value: Any, line: int, column: int) -> None:
    """Without a configuration, every block of a resource is at the resource's address in the plan
    (in place), so a plan rule or lifecycle is located there rather than at line 1."""
    if isinstance(value, (LineDict, LineList)):
        value.line, value.column = line, column
        for child in value.values() if isinstance(value, LineDict) else value:
            _place_at(child, line, column)


def load_plan(path: str, text: str, configured: dict[str, Instance] | None = None) -> list[Instance]:
    """Every planned (not deleted) managed resource of a plan document; ``configured`` holds the
    configuration's instances by address when the plan lies beside its configuration."""
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise TemplateError("the plan is nested too deeply") from None
    except ValueError as exc:  # a number of more than 4,300 digits
        raise TemplateError(f"invalid JSON: {exc}") from None
    plan = _object(plan, "a plan")
    version = str(plan.get("format_version", ""))
    if not version.startswith(("0.", "1.")):  # 0.x (Terraform 0.12-0.15) has the same structure
        raise TemplateError(f"plan format_version {version!r} is not supported (expected 0.x or 1.x)")
    changes = {c.get("address"): c for c in _array(plan.get("resource_changes"), "resource_changes") if isinstance(c, dict)}
    configuration = _object(plan.get("configuration"), "configuration")
    refs, provider_keys = _config_refs(configuration, "")
    regions = _provider_regions(configuration)
    configured = configured or {}
    lines = _address_lines(text)
    from backupguard.scanner.terraform.module import Instance

    instances: list[Instance] = []

    def walk(module: dict) -> None:
        for resource in _array(module.get("resources"), "planned_values resources"):
            if not isinstance(resource, dict) or resource.get("mode") != "managed":
                continue
            address = str(resource.get("address", ""))
            change = _object(changes.get(address), address).get("change") or {}
            if not isinstance(change, dict) or change.get("actions") == ["delete"]:
                continue
            plain = _strip_index(address)
            line, column = lines.get(address, (1, 1))
            source = configured.get(address) or configured.get(plain)
            origin = source.origin if source is not None else Origin(path, line, column)
            values = resource.get("values") or {}
            if not isinstance(values, dict):
                raise TemplateError(f"{address}: values must be a JSON object, not {type(values).__name__}", line, column)
            values = _wrap(values, change.get("after_unknown") or {}, refs.get(plain, {}), "")
            if source is not None:
                _borrow_positions(values, source.values)
            else:
                _place_at(values, line, column)
            provider = provider_keys.get(plain, "aws")
            region = regions.get(provider)
            tags_all = values.get("tags_all")  # the provider's default_tags merged in by Terraform
            instances.append(Instance(address, resource.get("type", ""), resource.get("name", ""), values,
                                          origin, region, tags_all if isinstance(tags_all, dict) else {}, provider))
        for child in _array(module.get("child_modules"), "child_modules"):
            walk(_object(child, "a child module"))

    walk(_object(_object(plan.get("planned_values"), "planned_values").get("root_module"), "root_module"))
    return instances
