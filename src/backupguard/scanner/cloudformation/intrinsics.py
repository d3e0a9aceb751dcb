"""Evaluate CloudFormation intrinsic functions as far as the inputs determine them.

Parameters (given values, else defaults), pseudo-parameters (``--region``,
``--account-id``, else symbolic), Conditions and Mappings are known before
deployment, so ``Ref``, ``Fn::Sub``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
``Fn::If``, ``Fn::FindInMap`` and the condition functions can often be computed.
What cannot be computed (an import, a parameter without a value, an attribute
that exists only after deployment) becomes :class:`~backupguard.estate.Unknown`
with the reason, never a guess. A ``Ref``/``Fn::GetAtt`` of a resource in the
same template becomes a :class:`~backupguard.estate.Reference`.

Symbolic pseudo-parameters stay in strings as ``${AWS::Region}`` so that an ARN
built with them is still recognisable as, for example, a KMS key ARN.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import replace
from itertools import product
from math import prod
from typing import Any

import re2

from backupguard.estate import ASCII_NUMBER, Elsewhere, Reference, Unknown, never_pseudo
from backupguard.scanner.cloudformation.loader import MAX_NUMBER_CHARS, LineDict, LineList, TemplateError

NO_VALUE = object()  # AWS::NoValue: the property is removed

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_INTRINSICS = frozenset(
    {
        "Ref", "Condition", "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt", "Fn::GetAZs",
        "Fn::If", "Fn::ImportValue", "Fn::Join", "Fn::Length", "Fn::Select", "Fn::Split", "Fn::Sub",
        "Fn::ToJsonString", "Fn::Transform", "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not",
        "Fn::Contains", "Fn::EachMemberEquals", "Fn::ValueOf", "Fn::ValueOfAll", "Fn::RefAll",
        "Fn::EachMemberIn", "Fn::ForEach",
    }
)
_MAX_DEPTH = 200

# The evaluation budget of one template. Without it a few bytes ask for gigabytes: three nested
# Fn::ForEach loops over 200 items (a 5 KB file) are 8 million resources (3.6 GB measured), and
# Fn::Join/Fn::Sub can multiply a string. Excess is one located error for the template.
MAX_EXPANDED_RESOURCES = 2_000
"""Resources after Fn::ForEach expansion: four times CloudFormation's quota of 500 per stack."""
MAX_EVALUATION_STEPS = 2_000_000
"""Values copied (ForEach) or evaluated (intrinsics) per template: about a second of work; a real
template needs a few thousand."""
MAX_STRING_CHARS = 1_000_000
"""Characters of one computed string (Fn::Join, Fn::Sub, Fn::Base64, Fn::ToJsonString): a template
body is at most 1 MB, so a value it can really produce is never longer."""


_PARTITIONS = (
    ("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f"),
)


def _partition(region: str) -> str:
    return next((partition for prefix, partition in _PARTITIONS if region.startswith(prefix)), "aws")


def _symbolic(name: str) -> str:
    return "${" + name + "}"


def is_symbolic(value: Any) -> bool:
    """True for a string that still holds a symbolic pseudo-parameter."""
    return isinstance(value, str) and "${AWS::" in value


class TemplateContext:
    """Everything needed to evaluate intrinsics in one template."""

    def __init__(
        self,
        template: LineDict,
        parameter_values: dict[str, str] | None = None,
        region: str | None = None,
        account_id: str | None = None,
    ):
        self.template = template
        self.resources = _section(template, "Resources")
        self.mappings = _section(template, "Mappings")
        self.conditions = _section(template, "Conditions")
        self.region = region
        self.account_id = account_id
        self.parameters = self._parameter_values(_section(template, "Parameters"), parameter_values or {})
        self._condition_values: dict[str, Any] = {}
        self._evaluating: list[str] = []
        self.steps = 0  # work done so far, against MAX_EVALUATION_STEPS

    # -- budget --------------------------------------------------------------

    def spend(self, steps: int, node: Any) -> None:
        """Count work; past :data:`MAX_EVALUATION_STEPS` the template is refused (located at ``node``)."""
        self.steps += steps
        if self.steps > MAX_EVALUATION_STEPS:
            raise TemplateError(
                f"evaluating this template takes more than {MAX_EVALUATION_STEPS:,} steps "
                "(Fn::ForEach or intrinsic functions expand too far); not evaluated", *_pos(node)
            )

    # -- inputs ------------------------------------------------------------

    def _parameter_values(self, declared: dict, given: dict[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if not isinstance(declared, dict):
            return values
        for name, spec in declared.items():
            spec = spec if isinstance(spec, dict) else {}
            ptype = str(spec.get("Type", "String"))
            if name in given:
                raw: Any = given[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                values[name] = _constrained(name, spec, ptype)
                continue
            if ptype.startswith("AWS::SSM::Parameter::Value"):
                values[name] = Unknown(f"parameter '{name}' is read from SSM at deploy time")
            elif ptype == "Number":
                values[name] = _number(raw, name)
            elif ptype.startswith("List<") or ptype == "CommaDelimitedList":
                items = raw if isinstance(raw, list) else [s.strip() for s in str(raw).split(",")]
                if ptype == "List<Number>":
                    items = [_number(item, name) for item in items]
                values[name] = items
            else:
                values[name] = str(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else raw
        return values

    def pseudo(self, name: str) -> Any:
        if name == "AWS::Region":
            return self.region or _symbolic(name)
        if name == "AWS::AccountId":
            return self.account_id or _symbolic(name)
        if name == "AWS::Partition":
            return _partition(self.region) if self.region else _symbolic(name)
        if name == "AWS::URLSuffix":
            if not self.region:
                return _symbolic(name)
            return "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in ("AWS::StackName", "AWS::StackId"):
            return _symbolic(name)
        return Unknown(f"pseudo parameter {name} is known only at deploy time")

    # -- values ------------------------------------------------------------

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """The value with every intrinsic evaluated as far as possible."""
        if depth > _MAX_DEPTH:
            raise TemplateError("value nested too deeply", *_pos(value))
        self.spend(1, value)
        if isinstance(value, dict):
            if len(value) == 1:
                (key,) = value
                if key in _INTRINSICS:
                    return self._intrinsic(key, value[key], value, depth + 1)
            out = value.like() if isinstance(value, LineDict) else {}
            for key, item in value.items():
                resolved = self.resolve(item, depth + 1)
                if resolved is not NO_VALUE:
                    out[key] = resolved
            return out
        if isinstance(value, list):
            items = [self.resolve(item, depth + 1) for item in value]
            kept = [item for item in items if item is not NO_VALUE]
            return value.like(kept) if isinstance(value, LineList) else kept
        return value

    def _intrinsic(self, name: str, arg: Any, node: Any, depth: int) -> Any:
        handler = getattr(self, "_fn_" + name.replace("Fn::", "").lower(), None)
        if handler is None:
            return Unknown(f"{name} is evaluated only at deploy time")
        return handler(arg, node, depth)

    def _fn_ref(self, arg: Any, node: Any, depth: int) -> Any:
        arg = self.resolve(arg, depth)
        if not isinstance(arg, str):
            return Unknown("Ref of a computed name")
        if arg in self.parameters:
            return self.parameters[arg]
        if arg.startswith("AWS::"):
            return self.pseudo(arg)
        if arg in self.resources:
            return Reference(arg, None, _resource_type(self.resources[arg]))
        return Unknown(f"Ref to '{arg}', which is not a parameter or resource of this template")

    def _fn_getatt(self, arg: Any, node: Any, depth: int) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        arg = self.resolve(arg, depth)
        if not isinstance(arg, list) or len(arg) != 2 or not all(isinstance(a, str) for a in arg):
            return Unknown("Fn::GetAtt with a computed resource or attribute name")
        target, attribute = arg
        if target not in self.resources:
            return Unknown(f"Fn::GetAtt of '{target}', which is not a resource of this template")
        return Reference(target, attribute, _resource_type(self.resources[target]))

    def _fn_sub(self, arg: Any, node: Any, depth: int) -> Any:
        variables: dict = {}
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], dict):
                raise TemplateError("Fn::Sub takes a string or [string, {variables}]", *_pos(node))
            text, variables = arg[0], arg[1]
        else:
            text = arg
        text = self.resolve(text, depth)
        if not isinstance(text, str):
            return Unknown("Fn::Sub of a computed string")
        values = {key: self.resolve(val, depth) for key, val in variables.items()}
        unknown_reasons: list[str] = []
        refs: list[str] = []
        size = [len(text)]

        def substitute(match: re.Match[str]) -> str:
            replacement = _value_text(match)
            size[0] += len(replacement) - len(match.group(0))
            _check_size(size[0], "Fn::Sub", node)
            return replacement

        def _value_text(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                value = values[name]
            elif name in self.parameters:
                value = self.parameters[name]
            elif name.startswith("AWS::"):
                value = self.pseudo(name)
            else:
                target = name.split(".", 1)[0]
                if target in self.resources:
                    refs.append(target)
                    unknown_reasons.append(f"'{name}' is known only after deployment")
                else:
                    unknown_reasons.append(f"'{name}' is not defined in this template")
                return match.group(0)
            if isinstance(value, Unknown):
                if name in chosen:
                    return _text(chosen[name])
                unknown_reasons.append(value.reason)
                refs.extend(value.refs)
                if value.candidates and all(_scalar(c) for c in value.candidates):
                    bounded[name] = value.candidates
                else:
                    unbounded.append(name)
                if never_pseudo(value):
                    return "${not " + never_pseudo(value) + "}"  # a hole that is never the deployment's own
                if value.text is not None:
                    return value.text  # a value without wildcards (an AWS-typed parameter, a built ARN)
                if not value.candidates or any(_WILDCARD.search(_text(c)) for c in value.candidates):
                    wild.append(name)  # this hole could hold '*' or '?'
                return match.group(0)
            if isinstance(value, Reference):
                refs.append(value.target)
                unknown_reasons.append(f"'{value}' is known only after deployment")
                return match.group(0)
            if isinstance(value, list):
                unknown_reasons.append(f"'{name}' is a list")
                return match.group(0)
            return _text(value)

        wild: list[str] = []
        bounded: dict[str, tuple] = {}
        unbounded: list[str] = []
        chosen: dict[str, Any] = {}
        result = _SUB_VAR.sub(substitute, text)
        if unknown_reasons:
            reason = f"Fn::Sub '{text}': " + "; ".join(dict.fromkeys(unknown_reasons))
            options: list[str] = []
            if bounded and not unbounded and not refs and len(unknown_reasons) == len(bounded) and (
                prod(len(c) for c in bounded.values()) <= _MAX_CANDIDATES
            ):  # every hole has a few possible values: so has the whole text
                for combination in product(*bounded.values()):
                    chosen.update(zip(bounded, combination))
                    size[0] = len(text)
                    option = _SUB_VAR.sub(substitute, text)
                    if option not in options:
                        options.append(option)
                chosen.clear()
            # The text with the undetermined ${...} left in, whose literal parts then count: when no
            # hole can hold a wildcard (its values are known to have none), and for a backup vault
            # ARN, whose Region and account fields decide where a copy goes whatever the name is
            # ("arn:aws:backup:${AWS::Region}:${DrAccount}:backup-vault:dr" stays in the Region).
            # A hole that may be '*' otherwise leaves no text: "arn:aws:s3:::${Name}" may be any bucket.
            literal = _SUB_VAR.sub("", result)
            vault_arn = result.startswith("arn:") and ":backup-vault:" in result
            known_text = refs or literal and (not wild or vault_arn)
            return Unknown(reason, tuple(dict.fromkeys(refs)), tuple(options), text=result if known_text else None)
        return result

    def _fn_join(self, arg: Any, node: Any, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise TemplateError("Fn::Join takes [delimiter, [values]]", *_pos(node))
        delimiter, items = self.resolve(arg[0], depth), self.resolve(arg[1], depth)
        if isinstance(items, Unknown):
            return items
        if not isinstance(delimiter, str) or not isinstance(items, list):
            return Unknown("Fn::Join of computed values")
        return _join_known(delimiter, items, node)

    def _fn_select(self, arg: Any, node: Any, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise TemplateError("Fn::Select takes [index, [values]]", *_pos(node))
        index, items = self.resolve(arg[0], depth), self.resolve(arg[1], depth)
        if isinstance(items, Unknown):
            return items
        if isinstance(index, Unknown):
            return index
        if not isinstance(items, list):
            raise TemplateError("Fn::Select takes a list of values", *_pos(node))
        try:
            position = int(index)
        except (ValueError, TypeError):
            raise TemplateError(f"Fn::Select index {index!r} is not a number", *_pos(node)) from None
        if not 0 <= position < len(items):
            raise TemplateError(f"Fn::Select index {position} is out of range (0-{len(items) - 1})", *_pos(node))
        return items[position]

    def _fn_split(self, arg: Any, node: Any, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 2:
            raise TemplateError("Fn::Split takes [delimiter, string]", *_pos(node))
        delimiter, text = self.resolve(arg[0], depth), self.resolve(arg[1], depth)
        if isinstance(text, Unknown):
            return text
        if not isinstance(delimiter, str) or not isinstance(text, str):
            return Unknown("Fn::Split of a computed string")
        return text.split(delimiter)

    def _fn_findinmap(self, arg: Any, node: Any, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) not in (3, 4):
            raise TemplateError("Fn::FindInMap takes [map, top-level key, second-level key]", *_pos(node))
        keys = [self.resolve(item, depth) for item in arg[:3]]
        for key in keys:
            if isinstance(key, Unknown):
                return key
        if keys.count(_symbolic("AWS::Region")) + keys.count(_symbolic("AWS::AccountId")) == 1 and not any(
            not isinstance(key, (str, int)) or is_symbolic(key) and key not in _ENUMERABLE for key in keys
        ):
            return self._findinmap_by_pseudo(keys, arg, depth)
        if any(not isinstance(key, (str, int)) or is_symbolic(key) for key in keys):
            return Unknown(f"Fn::FindInMap key depends on {', '.join(map(str, keys))}")
        try:
            return self.resolve(self.mappings[str(keys[0])][str(keys[1])][str(keys[2])], depth)
        except (KeyError, TypeError, IndexError):
            if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return self.resolve(arg[3]["DefaultValue"], depth)
            return Unknown(f"Fn::FindInMap: {keys} is not in the Mappings section")

    def _findinmap_by_pseudo(self, keys: list, arg: list, depth: int) -> Any:
        """Fn::FindInMap keyed by the deploying Region or account, which is not given.

        A stack deployed where the map has no entry fails (unless a DefaultValue is given), so the
        value is one of the entries': their candidates. When every entry's value is its own key
        (``us-east-1: {Dr: us-east-1}``) the value is the deployment's Region itself; when none is
        (and the values are Regions, or accounts), it is never the deployment's.
        """
        position = next(i for i, key in enumerate(keys) if key in _ENUMERABLE)
        pseudo = keys[position][2:-1]
        reason = f"Fn::FindInMap {[str(k) for k in keys]}: the value depends on {pseudo}, known only at deploy time"
        table = self.mappings.get(str(keys[0])) if position > 0 else None
        entries: list[tuple[str, Any]] = []
        if position == 0 or not isinstance(table, dict):
            return Unknown(reason)
        if position == 1:
            for key, inner in table.items():
                if isinstance(inner, dict) and str(keys[2]) in inner:
                    entries.append((str(key), inner[str(keys[2])]))
        else:
            inner = table.get(str(keys[1]))
            if not isinstance(inner, dict):
                return Unknown(reason)
            entries = [(str(key), value) for key, value in inner.items()]
        values = [(key, self.resolve(value, depth)) for key, value in entries]
        has_default = len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]
        if has_default:
            values.append(("", self.resolve(arg[3]["DefaultValue"], depth)))
        if not values or any(isinstance(v, (Unknown, Reference, dict, list)) or v is NO_VALUE for _, v in values):
            return Unknown(reason)
        if not has_default and all(_text(v) == key for key, v in values):
            return keys[position]  # every entry maps a Region (account) to itself
        candidates: list[Any] = []
        field = 3 if pseudo == "AWS::Region" else 4
        for key, value in values:
            # an ARN in the entry of Region (account) k is read where the stack is in k: its own
            # Region field becomes ${AWS::Region}, another one ${not AWS::Region}
            value = _mark_arns(value, field, pseudo, key, True) if key else value
            if value not in candidates:
                candidates.append(value)
        shape = _REGION if pseudo == "AWS::Region" else _ACCOUNT
        elsewhere = not has_default and all(
            isinstance(v, str) and shape.fullmatch(v) and v != key for key, v in values
        )
        options = tuple(candidates) if len(candidates) <= _MAX_CANDIDATES else ()
        return Elsewhere(reason, candidates=options, pseudo=pseudo) if elsewhere else Unknown(reason, candidates=options)

    def _fn_if(self, arg: Any, node: Any, depth: int) -> Any:
        if not isinstance(arg, list) or len(arg) != 3 or not isinstance(arg[0], str):
            raise TemplateError("Fn::If takes [condition name, value if true, value if false]", *_pos(node))
        decided = self.condition(arg[0], node)
        if decided is True:
            return self.resolve(arg[1], depth)
        if decided is False:
            return self.resolve(arg[2], depth)
        test = self._pseudo_test(arg[0])
        if test is not None:  # a condition on the deploying Region/account: each branch knows which
            pseudo, literal, positive = test
            when_true = self._under(pseudo, literal, positive, arg[1], depth)
            when_false = self._under(pseudo, literal, not positive, arg[2], depth)
        else:
            when_true, when_false = self.resolve(arg[1], depth), self.resolve(arg[2], depth)
        if when_true == when_false:
            return when_true
        candidates: list[Any] = []
        for branch in (when_true, when_false):
            options = branch.candidates if isinstance(branch, Unknown) else (branch,)
            if isinstance(branch, Unknown) and not branch.candidates or isinstance(branch, (list, Reference)):
                candidates = []  # an unbounded unknown, a list or a reference: anything is possible
                break
            for option in options:
                option = None if option is NO_VALUE else option  # AWS::NoValue: the property is not set
                if option not in candidates:
                    candidates.append(option)
        absent = NO_VALUE in (when_true, when_false) or any(
            isinstance(b, Unknown) and b.may_be_absent for b in (when_true, when_false)
        )
        return Unknown(
            f"condition '{arg[0]}' is undetermined ({decided.reason})",
            candidates=tuple(candidates),
            may_be_absent=absent,
        )

    def _pseudo_test(self, name: str) -> tuple[str, str, bool] | None:
        """(pseudo parameter, value, True for equal) when the condition is ``Fn::Equals`` of the deploying
        Region or account (not given) and a literal, maybe under ``Fn::Not`` or via ``Condition``."""
        expr, positive, seen = self.conditions.get(name), True, {name}
        while isinstance(expr, dict) and len(expr) == 1:
            (fn,) = expr
            inner = expr[fn]
            if fn == "Condition" and isinstance(inner, str) and inner not in seen:
                seen.add(inner)
                expr = self.conditions.get(inner)
            elif fn == "Fn::Not":
                expr, positive = (inner[0] if isinstance(inner, list) and len(inner) == 1 else inner), not positive
            elif fn == "Fn::Equals" and isinstance(inner, list) and len(inner) == 2:
                for side, other in (inner, inner[::-1]):
                    pseudo = side.get("Ref") if isinstance(side, dict) and len(side) == 1 else None
                    if pseudo == "AWS::Region" and self.region or pseudo == "AWS::AccountId" and self.account_id:
                        return None
                    if pseudo in ("AWS::Region", "AWS::AccountId"):
                        literal = self.resolve(other)
                        if isinstance(literal, (str, int)) and not isinstance(literal, bool) and not is_symbolic(literal):
                            return pseudo, _text(literal), positive
                return None
            else:
                return None
        return None

    def _under(self, pseudo: str, literal: str, equal: bool, expr: Any, depth: int) -> Any:
        """A branch's value where the deploying Region (account) is ``literal`` (``equal``) or is not.

        A vault or resource ARN in the branch then names that Region (account) as the deployment's
        own (``${AWS::Region}``) or as certainly another (``${not AWS::Region}``).
        """
        if not equal:
            value = self.resolve(expr, depth)
        else:
            saved = self.region, self.account_id, self._condition_values
            if pseudo == "AWS::Region":
                self.region = literal
            else:
                self.account_id = literal
            self._condition_values = {}
            try:
                value = self.resolve(expr, depth)
            finally:
                self.region, self.account_id, self._condition_values = saved
        return _mark_arns(value, 3 if pseudo == "AWS::Region" else 4, pseudo, literal, equal)

    def _fn_base64(self, arg: Any, node: Any, depth: int) -> Any:
        value = self.resolve(arg, depth)
        if not isinstance(value, str) or is_symbolic(value):
            return Unknown("Fn::Base64 of a value known only at deploy time")
        _check_size(len(value) * 4 // 3 * 4, "Fn::Base64", node)  # UTF-8 and base64 grow it at most 16/3 times
        return base64.b64encode(value.encode("utf-8")).decode("ascii")

    def _fn_importvalue(self, arg: Any, node: Any, depth: int) -> Any:
        name = self.resolve(arg, depth)
        shown = name if isinstance(name, str) else "a computed export"
        return Unknown(f"value imported from another stack (Fn::ImportValue {shown})")

    def _fn_length(self, arg: Any, node: Any, depth: int) -> Any:
        items = self.resolve(arg, depth)
        return len(items) if isinstance(items, list) else Unknown("Fn::Length of a computed list")

    def _fn_tojsonstring(self, arg: Any, node: Any, depth: int) -> Any:
        value = self.resolve(arg, depth)
        if _contains_unknown(value):
            return Unknown("Fn::ToJsonString of values known only at deploy time")
        text = json.dumps(value, separators=(",", ":"))
        _check_size(len(text), "Fn::ToJsonString", node)
        return text

    # -- conditions ----------------------------------------------------------

    def condition(self, name: str, node: Any = None) -> bool | Unknown:
        """The value of a named condition: True, False or Unknown. Cycles are errors."""
        if name in self._condition_values:
            return self._condition_values[name]
        if name not in self.conditions:
            return Unknown(f"condition '{name}' is not defined in the Conditions section")
        if name in self._evaluating:
            cycle = " -> ".join(self._evaluating[self._evaluating.index(name):] + [name])
            line, column = self.conditions.pos(name) if isinstance(self.conditions, LineDict) else (1, 1)
            raise TemplateError(f"circular condition: {cycle}", line, column)
        self._evaluating.append(name)
        try:
            value = self._truth(self.conditions[name], 0)
        finally:
            self._evaluating.pop()
        self._condition_values[name] = value
        return value

    def _truth(self, expr: Any, depth: int) -> bool | Unknown:
        if depth > _MAX_DEPTH:
            raise TemplateError("condition nested too deeply", *_pos(expr))
        if isinstance(expr, bool):
            return expr
        if isinstance(expr, str) and expr.lower() in ("true", "false"):
            return expr.lower() == "true"
        if not isinstance(expr, dict) or len(expr) != 1:
            raise TemplateError("a condition must be a condition function", *_pos(expr))
        (fn,) = expr
        arg = expr[fn]
        if fn == "Condition":
            if not isinstance(arg, str):
                raise TemplateError("Condition takes the name of a condition", *_pos(expr))
            return self.condition(arg, expr)
        if fn == "Fn::Equals":
            if not isinstance(arg, list) or len(arg) != 2:
                raise TemplateError("Fn::Equals takes two values", *_pos(expr))
            left, right = (self.resolve(item, depth + 1) for item in arg)
            for side in (left, right):
                if isinstance(side, Unknown):
                    return side
                if isinstance(side, Reference) or is_symbolic(side):
                    return Unknown(f"Fn::Equals compares '{side}', known only at deploy time")
            return _text(left) == _text(right)
        if fn == "Fn::Not":
            inner = self._truth(arg[0] if isinstance(arg, list) and arg else arg, depth + 1)
            return inner if isinstance(inner, Unknown) else not inner
        if fn in ("Fn::And", "Fn::Or"):
            if not isinstance(arg, list) or not arg:
                raise TemplateError(f"{fn} takes a list of conditions", *_pos(expr))
            return _kleene(fn, [self._truth(item, depth + 1) for item in arg])
        if fn == "Fn::If":
            return _as_truth(self._fn_if(arg, expr, depth + 1))
        raise TemplateError(f"{fn} cannot be used in a condition", *_pos(expr))


_ENUMERABLE = ("${AWS::Region}", "${AWS::AccountId}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+")
_ACCOUNT = re.compile(r"[0-9]{12}")

_AWS_ID_TYPE = re.compile(r"AWS::EC2::[A-Za-z]+::Id|AWS::Route53::HostedZone::Id|AWS::EC2::AvailabilityZone::Name")
_WILDCARD = re.compile(r"[*?]")

_MAX_CANDIDATES = 64
"""Values a constrained parameter is enumerated into (the rules engine tries at most 64 combinations)."""


def _constrained(name: str, spec: dict, ptype: str) -> Unknown:
    """A parameter without a value, narrowed down by its constraints where they enumerate it.

    CloudFormation refuses to deploy a value outside ``AllowedValues``, ``MinValue``/``MaxValue``
    (Number) or ``AllowedPattern`` (String), so the parameter is one of the values that satisfy
    all of them: ``AllowedValues: [35, 90]`` is 35 or 90; ``MinValue: 1, MaxValue: 7`` is 1-7
    (a day count AWS Backup takes is whole, so only whole numbers are listed). A rule that gives
    every candidate the same verdict is then decided.
    """
    reason = f"parameter '{name}' has no default and no value was given"
    if _AWS_ID_TYPE.fullmatch(ptype):
        # an existing resource's ID (i-..., vol-..., sg-...) or zone name: never a wildcard
        return Unknown(f"{reason} (an existing {ptype})", text="${" + name + "}")
    if ptype not in ("String", "Number"):
        return Unknown(reason)
    allowed = spec.get("AllowedValues")
    low, high = _bound(spec.get("MinValue")), _bound(spec.get("MaxValue"))
    if isinstance(allowed, list) and allowed:
        options: list[Any] = []
        for raw in allowed:
            if isinstance(raw, (dict, list)):
                return Unknown(reason)
            option = _number(raw, name) if ptype == "Number" else _text(raw)
            if isinstance(option, Unknown):
                return Unknown(reason)
            if ptype == "Number" and not _within(option, low, high):
                continue
            if ptype == "String" and not _matches_pattern(spec.get("AllowedPattern"), option):
                continue
            if option not in options:
                options.append(option)
        if not options or len(options) > _MAX_CANDIDATES:
            return Unknown(reason)
        shown = ", ".join(map(_text, options))
        return Unknown(f"{reason} (AllowedValues: {shown})", candidates=tuple(options))
    if ptype == "Number" and low is not None and high is not None:
        first, last = math.ceil(low), math.floor(high)
        if 0 <= last - first < _MAX_CANDIDATES:
            return Unknown(f"{reason} (MinValue {_text(low)}, MaxValue {_text(high)})",
                           candidates=tuple(range(first, last + 1)))
    return Unknown(reason)


def _bound(raw: Any) -> float | None:
    """A MinValue/MaxValue as a number (None when absent or not a finite number)."""
    if isinstance(raw, bool) or raw is None:
        return None
    value = _number(raw, "MinValue/MaxValue")
    if isinstance(value, Unknown) or not math.isfinite(value):
        return None
    return value


def _within(value: Any, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _matches_pattern(pattern: Any, value: str) -> bool:
    """Whether CloudFormation accepts ``value`` under AllowedPattern (a Java regex over the whole value).

    Matched with RE2 (linear time: a template's ``(a+)+$`` cannot backtrack for minutes); a pattern
    RE2 cannot read (backreferences, lookaround) keeps the value: it is not excluded on a guess.
    """
    if not isinstance(pattern, str):
        return True
    try:
        return re2.fullmatch(pattern, value, _RE2_OPTIONS) is not None
    except re2.error:
        return True


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


_RE2_OPTIONS = _re2_options()


def _section(template: LineDict, name: str) -> LineDict:
    """A top-level section, which must be a mapping when present."""
    value = template.get(name)
    if value is None:
        return LineDict()
    if not isinstance(value, LineDict):
        raise TemplateError(f"the {name} section must be a mapping", *template.pos(name))
    return value


def _kleene(fn: str, values: list[bool | Unknown]) -> bool | Unknown:
    """Three-valued AND/OR: a decisive known operand wins over unknown ones."""
    decisive = fn == "Fn::Or"
    if any(v is decisive for v in values):
        return decisive
    unknowns = [v for v in values if isinstance(v, Unknown)]
    return unknowns[0] if unknowns else not decisive


def _as_truth(value: Any) -> bool | Unknown:
    if isinstance(value, (bool, Unknown)):
        return value
    return Unknown("condition value is not a boolean")


def _join_known(delimiter: str, items: list, node: Any) -> Any:
    reasons, refs = [], []
    for item in items:
        if isinstance(item, Unknown):
            reasons.append(item.reason)
            refs.extend(item.refs)
        elif isinstance(item, Reference):
            reasons.append(f"'{item}' is known only after deployment")
            refs.append(item.target)
        elif isinstance(item, (list, dict)):
            reasons.append("a joined item is not a string")
    if reasons:
        return Unknown("Fn::Join: " + "; ".join(dict.fromkeys(reasons)), tuple(dict.fromkeys(refs)))
    texts = [_text(item) for item in items]
    _check_size(sum(map(len, texts)) + len(delimiter) * max(len(texts) - 1, 0), "Fn::Join", node)
    return delimiter.join(texts)


def _check_size(length: int, function: str, node: Any) -> None:
    if length > MAX_STRING_CHARS:
        raise TemplateError(f"{function} builds a string of more than {MAX_STRING_CHARS:,} characters", *_pos(node))


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, (Unknown, Reference)):
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return False


_HOLE = re.compile(r"\$\{[^}]*\}")


def _mark_arns(value: Any, index: int, pseudo: str, literal: str, equal: bool) -> Any:
    """ARNs in ``value`` with their Region (index 3) or account (4) field rewritten for a branch
    where the deployment's is ``literal`` (``equal``) or is not: the deployment's own becomes
    ``${AWS::Region}``, a certainly different one ``${not AWS::Region}``; other fields stay."""
    if isinstance(value, str):
        if not value.startswith("arn:"):
            return value
        holes: list[str] = []
        protected = _HOLE.sub(lambda m: holes.append(m.group(0)) or f"\x00{len(holes) - 1}\x00", value)
        parts = protected.split(":", 5)
        shape = _REGION if index == 3 else _ACCOUNT
        if len(parts) < 6 or not shape.fullmatch(parts[index]):
            return value  # a field that is no Region (account): empty in S3 ARNs, a wildcard, a hole
        if parts[index] == literal:
            parts[index] = "${" + pseudo + "}" if equal else "${not " + pseudo + "}"
        elif equal:
            parts[index] = "${not " + pseudo + "}"
        else:
            return value
        return re.sub("\x00([0-9]+)\x00", lambda m: holes[int(m.group(1))], ":".join(parts))
    if type(value) in (Unknown, Elsewhere) and (value.text or value.candidates):
        return replace(
            value,
            candidates=tuple(_mark_arns(c, index, pseudo, literal, equal) for c in value.candidates),
            text=_mark_arns(value.text, index, pseudo, literal, equal) if value.text else None,
        )
    return value


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and not is_symbolic(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(raw: Any, name: str) -> Any:
    """A Number parameter's value: ASCII digits only (Python would also read "٣٥" as 35; AWS does not)."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip(" \t\r\n")
    if len(text) > MAX_NUMBER_CHARS or not ASCII_NUMBER.fullmatch(text):
        return Unknown(f"parameter '{name}' value {raw!r:.40} is not a number")
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def _resource_type(resource: Any) -> str | None:
    return resource.get("Type") if isinstance(resource, dict) else None


def _pos(node: Any) -> tuple[int, int]:
    return (getattr(node, "line", 1), getattr(node, "column", 1))
