"""``data "aws_iam_policy_document"``: the policy JSON the AWS provider computes from its arguments.

The provider builds this document locally, at plan time, without calling AWS, so
it is known whenever its arguments are. Vault access policies are very often
written this way, and the manual-deletion rules (BG204, BG205) read them.
An unknown argument leaves the document partly known (the statements' shape,
effects and actions usually are; an ARN often is not). Documents merged in
(``source_policy_documents``, ``override_policy_documents``) are merged as the
provider does; statements from a ``dynamic`` block over an unknown collection
leave the document unknown.
"""

from __future__ import annotations

import json
from typing import Any

from backupguard.estate import Unknown
from backupguard.scanner.terraform.evaluate import find_unknown
from backupguard.scanner.terraform.functions import fn_jsonencode, json_text, placeholders

_SOURCES = ("source_json", "source_policy_documents")  # merged first
_OVERRIDES = ("override_json", "override_policy_documents")  # merged last, replacing statements by Sid
_LISTS = (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"), ("not_resources", "NotResource"))


def policy_document_json(values: dict[str, Any], address: str) -> Any:
    """The document's ``json`` attribute: text, partly known text (an Unknown whose ``text``
    keeps the structure, with placeholders where values are unknown), or an Unknown.

    Merging follows the provider: the statements of ``source_policy_documents``, then this
    document's (replacing a source statement with the same Sid), then those of
    ``override_policy_documents`` (each replacing the statement with its Sid, if any).
    """
    statements = values.get("statement") or []
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        cause = find_unknown(statements) or Unknown("its statements could not be evaluated")
        return Unknown(f"{address}: {cause.reason}", cause.refs or (address,))
    merged: list[dict[str, Any]] = []
    partly: Unknown | None = None  # a merged document that is itself only partly known
    for group in (_SOURCES, None, _OVERRIDES):
        if group is None:
            incoming = [_statement(statement) for statement in statements]
        else:
            incoming = []
            for document in _documents(values, group):
                if isinstance(document, Unknown):
                    if document.text is None:
                        return Unknown(f"{address}: a merged document is unknown: {document.reason}", document.refs or (address,))
                    partly = partly or document
                    document = json.loads(document.text)
                found = document.get("Statement") if isinstance(document, dict) else None
                found = found if isinstance(found, list) else [found]
                incoming.extend(statement for statement in found if isinstance(statement, dict))
        for statement in incoming:
            sid = statement.get("Sid")
            index = next((i for i, s in enumerate(merged) if sid and s.get("Sid") == sid), None)
            if index is None:
                merged.append(statement)
            else:
                merged[index] = statement
    document: dict[str, Any] = {"Version": values.get("version") or "2012-10-17"}
    if values.get("policy_id"):
        document["Id"] = values["policy_id"]
    document["Statement"] = merged
    unknown = find_unknown(document) or partly
    if unknown is None:
        return fn_jsonencode(document)
    # Unlike jsonencode, keep the structure even when the cause has no reference (a variable
    # without a value): a policy's effects, actions and principals decide most rules.
    return Unknown(f"{address}: {unknown.reason}", unknown.refs, text=json_text(placeholders(document)))


def _documents(values: dict[str, Any], names: tuple[str, ...]) -> list[Any]:
    """The JSON documents given in these arguments (a string, or a list of strings), parsed."""
    documents: list[Any] = []
    for name in names:
        given = values.get(name)
        for text in given if isinstance(given, list) else [given] if given is not None else []:
            if isinstance(text, str):
                try:
                    documents.append(json.loads(text))
                except json.JSONDecodeError:
                    documents.append(Unknown(f"{name} is not a JSON document"))
            else:
                documents.append(text if isinstance(text, Unknown) else Unknown(f"{name} is not a JSON document"))
    return documents


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
    condition_blocks = _blocks(block.get("condition"))
    if isinstance(condition_blocks, Unknown):
        out["Condition"] = condition_blocks
        return out
    conditions: dict[Any, dict[Any, Any]] = {}
    for condition in condition_blocks:
        test, variable = condition.get("test"), condition.get("variable")
        if isinstance(test, Unknown) or isinstance(variable, Unknown):  # not usable as a key
            out["Condition"] = find_unknown(test, variable)
            return out
        conditions.setdefault(test, {})[variable] = _one_or_many(condition.get("values") or [])
    if conditions:
        out["Condition"] = conditions
    return out


def _blocks(value: Any) -> Any:
    """Nested blocks as a list of dicts, or an Unknown (a ``dynamic`` block over an unknown collection)."""
    if value is None:
        return []
    if isinstance(value, Unknown):
        return Unknown(value.reason, value.refs)
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    return find_unknown(value) or Unknown("a nested block could not be evaluated")


def _principals(blocks: list[dict[str, Any]]) -> Any:
    """``type = "*"`` with ``identifiers = ["*"]`` is the anonymous principal ``"*"``, as the provider writes it.

    An unknown ``identifiers`` (``var.trusted_accounts`` without a value) leaves that principal
    type's value unknown; an unknown ``type`` or set of blocks leaves the whole principal unknown.
    """
    blocks = _blocks(blocks)
    if isinstance(blocks, Unknown):
        return blocks
    if len(blocks) == 1 and blocks[0].get("type") == "*" and blocks[0].get("identifiers") == ["*"]:
        return "*"
    out: dict[str, Any] = {}
    for block in blocks:
        kind, identifiers = block.get("type"), block.get("identifiers") or []
        if isinstance(kind, Unknown) or not isinstance(kind, str):
            return find_unknown(kind) or Unknown("a principal type is not a string")
        if not isinstance(identifiers, list):  # an Unknown, or a single value
            identifiers = [identifiers]
        known = out.setdefault(kind, [])
        if isinstance(known, list):
            known.extend(identifiers)
    return {kind: _one_or_many(identifiers) for kind, identifiers in out.items()}


def _one_or_many(items: Any) -> Any:
    """One value as itself, several as a list (sorted and unique when all are known strings)."""
    if not isinstance(items, (list, tuple, set)):
        return items
    items = list(items)
    if all(isinstance(item, str) for item in items):
        items = sorted(set(items))
    return items[0] if len(items) == 1 else items
