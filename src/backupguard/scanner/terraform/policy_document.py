"""``data "aws_iam_policy_document"``: the policy JSON the AWS provider computes from its arguments.

The provider builds this document locally, at plan time, without calling AWS, so
it is known whenever its arguments are. Vault access policies are very often
written this way, and the manual-deletion rules (BG204, BG205) read them.
An unknown argument leaves the document partly known (the statements' shape,
effects and actions usually are; an ARN often is not). Documents that merge
others (``source_policy_documents``, ``override_policy_documents``...) and
statements from a ``dynamic`` block over an unknown collection stay unknown.
"""

from __future__ import annotations

import json
from typing import Any

from backupguard.estate import Unknown
from backupguard.scanner.terraform.evaluate import find_unknown, fn_jsonencode, json_text, placeholders

_MERGES = ("source_json", "override_json", "source_policy_documents", "override_policy_documents")
_LISTS = (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"), ("not_resources", "NotResource"))


def policy_document_json(values: dict[str, Any], address: str) -> Any:
    """The document's ``json`` attribute: text, partly known text (an Unknown whose ``text``
    keeps the structure, with placeholders where values are unknown), or an Unknown."""
    merged = [name for name in _MERGES if values.get(name)]
    if merged:
        return Unknown(f"{address} merges other documents ({', '.join(merged)}); not computed", (address,))
    statements = values.get("statement") or []
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        cause = find_unknown(statements) or Unknown("its statements could not be evaluated")
        return Unknown(f"{address}: {cause.reason}", cause.refs or (address,))
    document: dict[str, Any] = {"Version": values.get("version") or "2012-10-17"}
    if values.get("policy_id"):
        document["Id"] = values["policy_id"]
    document["Statement"] = [_statement(statement) for statement in statements]
    unknown = find_unknown(document)
    if unknown is None:
        return fn_jsonencode(document)
    # Unlike jsonencode, keep the structure even when the cause has no reference (a variable
    # without a value): a policy's effects, actions and principals decide most rules.
    return Unknown(f"{address}: {unknown.reason}", unknown.refs, text=json_text(placeholders(document)))


def _statement(block: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if block.get("sid"):
        out["Sid"] = block["sid"]
    out["Effect"] = block.get("effect") or "Allow"
    for argument, key in _LISTS:
        items = block.get(argument)
        if items:
            out[key] = _one_or_many(items)
    for argument, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        principals = block.get(argument)
        if principals:
            out[key] = _principals(principals)
    conditions: dict[str, dict[str, Any]] = {}
    for condition in block.get("condition") or []:
        conditions.setdefault(condition.get("test"), {})[condition.get("variable")] = _one_or_many(condition.get("values") or [])
    if conditions:
        out["Condition"] = conditions
    return out


def _principals(blocks: list[dict[str, Any]]) -> Any:
    """``type = "*"`` with ``identifiers = ["*"]`` is the anonymous principal ``"*"``, as the provider writes it."""
    if len(blocks) == 1 and blocks[0].get("type") == "*" and list(blocks[0].get("identifiers") or []) == ["*"]:
        return "*"
    out: dict[str, list] = {}
    for block in blocks:
        out.setdefault(block.get("type"), []).extend(block.get("identifiers") or [])
    return {kind: _one_or_many(identifiers) for kind, identifiers in out.items()}


def _one_or_many(items: Any) -> Any:
    """One value as itself, several as a list (sorted and unique when all are known strings)."""
    if not isinstance(items, (list, tuple, set)):
        return items
    items = list(items)
    if all(isinstance(item, str) for item in items):
        items = sorted(set(items))
    return items[0] if len(items) == 1 else items
