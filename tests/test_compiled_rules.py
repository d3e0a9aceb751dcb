"""Compiled rules (backupguard.rules.program) decide exactly as JMESPath's interpreter would.

The reference below is the evaluator the engine used before rules were compiled: each
input searched with ``jmespath``, each condition walked node by node with
``TreeInterpreter``, three-valued over ``&&``/``||``/``!``. It lives here, as the test's
oracle, and nowhere in the product: every rule of the catalogue is evaluated both ways on
every subject of the annotated fixtures, the examples and (when present) the corpus, with
the parameters of every framework, and inputs, ``each``, ``applies_if``, ``condition``
and the inputs that decide each verdict must agree.
"""

from __future__ import annotations

from itertools import product
from math import prod
from pathlib import Path
from typing import Any

import jmespath
import pytest
from jmespath import functions as jmespath_functions
from jmespath.exceptions import JMESPathError
from jmespath.visitor import Options, TreeInterpreter

from backupguard.config import UserConfig, build_checks
from backupguard.estate import Reference, Unknown
from backupguard.frameworks import load_frameworks
from backupguard.resolve import subjects
from backupguard.rules import FIELDS_KEY, load_catalogue, load_rule_file
from backupguard.rules.engine import Check, _materialise
from backupguard.rules.functions import RuleFunctions
from backupguard.rules.program import _BUILDERS, Blocked, compile_jmespath, split
from backupguard.scanner import ScanOptions, scan
from backupguard.scanner.cloudformation import CfnOptions

from conftest import CORPUS

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = Options(custom_functions=RuleFunctions())
INTERPRETER = TreeInterpreter(OPTIONS)


# -- the reference: the interpreted evaluator ---------------------------------------------------


def reference_input(expression: Any, element: Any) -> Any:
    if isinstance(element, dict):
        for name in expression.parsed[FIELDS_KEY]:
            fact = element.get(name)
            if isinstance(fact, Unknown):
                return fact if expression.parsed.get("type") == "field" else Unknown(fact.reason, fact.refs)
    try:
        return expression.search(element, options=OPTIONS)
    except JMESPathError as exc:
        return Unknown(f"cannot evaluate '{expression.expression}': {exc}")


def reference_verdict(node: dict, data: dict, unknowns: dict) -> Any:
    kind = node["type"]
    if kind in ("and_expression", "or_expression"):
        decisive = kind == "or_expression"
        sides = [reference_verdict(child, data, unknowns) for child in node["children"]]
        if any(side is decisive for side in sides):
            return decisive
        pending = [side for side in sides if isinstance(side, Unknown)]
        return pending[0] if pending else not decisive
    if kind == "not_expression":
        inner = reference_verdict(node["children"][0], data, unknowns)
        return inner if isinstance(inner, Unknown) else not inner
    blocking = sorted(node[FIELDS_KEY] & unknowns.keys())
    if blocking:
        return Blocked(unknowns[blocking[0]], input=blocking[0])
    value = INTERPRETER.visit(node, data)
    return value if isinstance(value, Unknown) else bool(value)


def reference_deciding(node: dict, data: dict, unknowns: dict) -> frozenset:
    kind = node["type"]
    if kind in ("and_expression", "or_expression"):
        decisive = kind == "or_expression"
        sides = [(child, reference_verdict(child, data, unknowns)) for child in node["children"]]
        chosen = next((child for child, verdict in sides if verdict is decisive), None)
        if chosen is None:
            chosen = next((child for child, verdict in sides if isinstance(verdict, Unknown)), None)
        if chosen is not None:
            return reference_deciding(chosen, data, unknowns)
        return frozenset().union(*(reference_deciding(child, data, unknowns) for child, _ in sides))
    if kind == "not_expression":
        return reference_deciding(node["children"][0], data, unknowns)
    blocking = sorted(node[FIELDS_KEY] & unknowns.keys())
    return frozenset(blocking[:1]) if blocking else node[FIELDS_KEY]


def reference_split(values: dict, params: dict) -> tuple[dict, dict]:
    unknowns = {n: v.reason if isinstance(v, Unknown) else f"'{v}' is known only after deployment"
                for n, v in values.items() if isinstance(v, (Unknown, Reference))}
    return {**{k: v for k, v in values.items() if k not in unknowns}, "params": params}, unknowns


def reference_decide(expression: Any, values: dict, params: dict) -> Any:
    data, unknowns = reference_split(values, params)
    verdict = reference_verdict(expression.parsed, data, unknowns)
    if not isinstance(verdict, Unknown):
        return verdict
    bounded = {n: v.candidates for n, v in values.items() if isinstance(v, Unknown) and v.candidates}
    if not bounded or prod(len(c) for c in bounded.values()) > 64:
        return verdict
    remaining = {n: r for n, r in unknowns.items() if n not in bounded}
    outcomes = set()
    for combination in product(*bounded.values()):
        outcome = reference_verdict(expression.parsed, {**data, **dict(zip(bounded, combination))}, remaining)
        if isinstance(outcome, Unknown):
            return verdict
        outcomes.add(outcome)
    return outcomes.pop() if len(outcomes) == 1 else verdict


# -- comparing the two on real subjects -----------------------------------------------------------


def same(left: Any, right: Any) -> bool:
    """Equal values of the same types (True is not 1; a Blocked unknown is not a plain one)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, (list, tuple)):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    return left == right


def outcome(call: Any) -> tuple[str, Any]:
    try:
        return "value", call()
    except Exception as exc:  # noqa: BLE001 - an error must be the same error both ways
        return "error", (type(exc), str(exc))


def compare(check: Check, facts: dict, where: str, seen: set, done: set) -> int:
    """Evaluate ``check`` on one subject's facts both ways; the number of elements compared
    (``seen`` collects the kinds of verdicts met: True, False, unknown, blocked by an input;
    ``done``, the ids of the elements compared already: subjects share their rules' views)."""
    rule, params, program = check.rule, check.params, check.rule.program
    if rule.each is not None:
        compiled_each, reference_each = outcome(lambda: program.each(facts)), outcome(lambda: rule.each.search(facts))
        assert same(compiled_each, reference_each), f"{where}: each"
        elements = (compiled_each[1] or []) if compiled_each[0] == "value" else []
    else:
        elements = [facts]
    elements = [element for element in elements if id(element) not in done]
    done.update(id(element) for element in elements if element is not facts)
    for index, element in enumerate(elements):
        at = f"{where} element {index}"
        values = program.values(element)
        reference = {name: reference_input(expression, element) for name, expression in rule.inputs.items()}
        assert same(values, reference), f"{at}: inputs"
        data, unknowns = split(values, params)
        assert same((data, unknowns), reference_split(values, params)), f"{at}: known and unknown inputs"
        for name in ("applies_if", "condition"):
            compiled, expression = getattr(program, name), getattr(rule, name)
            if expression is None:
                assert compiled is None
                continue
            verdict = outcome(lambda: compiled.decide(values, data, unknowns))
            assert same(verdict, outcome(lambda: reference_decide(expression, values, params))), f"{at}: {name}"
            seen.add(verdict[1] if isinstance(verdict[1], bool) else type(verdict[1]).__name__)
            deciding = outcome(lambda: compiled.deciding(data, unknowns))
            assert same(deciding, outcome(lambda: reference_deciding(expression.parsed, data, unknowns))), \
                f"{at}: inputs deciding {name}"
    return len(elements)


def checks_with_every_framework(rules: dict) -> list[Check]:
    """Each rule with its defaults, and with the parameters of every framework control that maps it."""
    frameworks = load_frameworks()
    found = build_checks(rules, frameworks, [], UserConfig(), {})
    found += build_checks(rules, frameworks, sorted(frameworks), UserConfig(), {})
    distinct = {(c.rule.id, c.params_key()): c for c in found}
    return list(distinct.values())


def custom_rules() -> dict:
    folder = ROOT / "examples" / "custom-rules" / "rules"
    return {rule.id: rule for rule in (load_rule_file(p, user=True) for p in sorted(folder.glob("*.yaml")))}


FIXTURES = ROOT / "tests" / "fixtures" / "rules"
TARGETS = [  # each a list of scans: a fixture alone, as test_rule_fixtures lints it
    pytest.param([[p] for p in sorted(FIXTURES.iterdir()) if p.suffix in (".yaml", ".yml", ".json") or p.is_dir()],
                 id="rule-fixtures"),
    pytest.param([[ROOT / "examples"]], id="examples"),
    pytest.param([[CORPUS]], id="corpus",
                 marks=pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")),
]


@pytest.mark.parametrize("scans", TARGETS)
@pytest.mark.parametrize("account", [{}, {"region": "us-east-1", "account_id": "111122223333"}], ids=["anonymous", "placed"])
def test_compiled_rules_decide_as_the_interpreter_does(scans: list[list[Path]], account: dict):
    rules = {**load_catalogue(), **custom_rules()}
    checks = checks_with_every_framework(rules)
    compared, kinds, seen = 0, set(), set()
    for paths in scans:
        by_kind = subjects(scan(paths, ScanOptions(cfn=CfnOptions({}, account.get("region"), account.get("account_id")))))
        for check in checks:
            done: set[int] = set()
            for subject in by_kind.get(check.rule.subject, []):
                facts = _materialise(subject, check.params)
                where = f"{paths[0].name}: {check.rule.id} on {subject.resource_id} {subject.element or ''}"
                compared += compare(check, facts, where, seen, done)
                kinds.add(check.rule.subject)
    assert compared > 100 and len(kinds) >= 6
    assert {True, False, "Blocked"} <= seen


# -- JMESPath itself, node type by node type --------------------------------------------------------

DATA = {
    "a": 1, "b": 0, "t": True, "f": False, "n": None, "s": "text", "e": "", "l": [3, 1, 2], "el": [], "m": {},
    "people": [{"name": "ann", "age": 31, "tags": ["x"]}, {"name": "bob", "age": 17, "tags": []},
               {"name": "cy", "age": None}],
    "nested": [[1, 2], [3, [4]], 5],
    "by": {"x": {"v": 1}, "y": {"v": 2}, "z": {}},
    "params": {"allowed": ["x", "y"], "days": 35, "empty": []},
    "mixed": [1, "1", True, None, 1.5, Unknown("later")],
    "u": Unknown("not known", candidates=(1, 7)),
}

EXPRESSIONS = [
    "a", "missing", "a.b", "people[0].name", "people[-1]", "people[5]", "l[1:]", "l[::-1]", "l[:5:2]", "s[0]",
    "people[*].name", "people[].tags[]", "nested[]", "nested[][]", "by.*.v", "by.*", "a.*", "people[?age > `18`].name",
    "people[?age].name", "people[?tags].name", "people[?!tags].name", "l[?@ > `1`]", "el[?@]",
    "a == `1`", "a == `true`", "b == `false`", "t == `1`", "a != `1`", "b != f", "s == 'text'", "a < `2`",
    "a <= s", "s > 'a'", "n < `1`", "t > f", "mixed[?@ == `1`]", "a >= `1.0`", "l == [`3`, `1`, `2`]",
    "a && b", "b && a", "e || s", "el || m || n", "n || `0`", "!a", "!b", "!e", "!el", "!n", "!`0`", "!t",
    "a && (e || l)", "!(a && f)", "[a, b, n]", "n.[a]", "{x: a, y: s}", "n.{x: a}", "people[*].{n: name, a: age}",
    "@", "a | [@]", "people | [0] | name", "`[1, 2]`", "'raw'", "`null`",
    "length(l)", "length(s)", "length(a)", "contains(l, `1`)", "contains(['x', 'y'], s)", "keys(by)", "sort(l)",
    "max(l)", "min_by(people[:2], &age).name", "sort_by(people[:2], &age)[*].name", "map(&name, people)",
    "join(', ', people[*].name)", "to_string(a)", "to_number('7')", "type(u)", "not_null(n, e, a)",
    "intersects(people[0].tags, params.allowed)", "all_in(people[0].tags, params.allowed)",
    "intersects(mixed, l)", "all_in(l, mixed)", "length(params.empty) == `0`", "unknown_function(a)",
    "abs(s)", "avg(el)", "reverse(s)", "ends_with(s, 'xt')", "merge(by.x, by.y)", "values(by)[*].v",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_compiled_jmespath_evaluates_as_jmespath_does(text: str):
    parsed = jmespath.compile(text).parsed
    compiled = compile_jmespath(parsed, RuleFunctions())
    assert same(outcome(lambda: compiled(DATA)), outcome(lambda: jmespath.search(text, DATA, options=OPTIONS)))
    plain = compile_jmespath(parsed, jmespath_functions.Functions())
    assert same(outcome(lambda: plain(DATA)), outcome(lambda: jmespath.search(text, DATA)))
    for value in (None, [DATA], "text", 3):
        assert same(outcome(lambda: compiled(value)), outcome(lambda: jmespath.search(text, value, options=OPTIONS)))


def test_every_node_type_jmespath_evaluates_is_compiled():
    """A later jmespath with a new node type would be interpreted: this says so before a user's rule does."""
    visited = {name[len("visit_"):] for name in dir(TreeInterpreter) if name.startswith("visit_")}
    assert visited == set(_BUILDERS)


SCALARS = [0, 1, 2, 0.0, 1.0, 0.5, -1, True, False, None, "", "0", "1", "a", [], [0], {}, {"a": 1}, Unknown("x"),
           10**20, float("inf")]


def test_comparisons_are_jmespaths():
    from jmespath import visitor

    from backupguard.rules import program

    for x in SCALARS:
        assert program._is_actual_number(x) == visitor._is_actual_number(x), x
        assert program._comparable(x) == visitor._is_comparable(x), x
        for y in SCALARS:
            assert program._equals(x, y) is visitor._equals(x, y), (x, y)


def reference_format(rule, template: str, values: dict, params: dict, element, attributes) -> str:
    """Messages as they were formatted before templates were parsed once: str.format over every name."""
    import string

    from backupguard.rules.engine import _Namespace, _name, _shown, _shown_param

    shown = _Namespace({k: _shown_param(rule, k, v) for k, v in params.items()})
    shown.update({k: _shown(v) for k, v in values.items()})
    shown.update({f"@{k}": _name(rule, k, attributes) for k in rule.inputs})
    shown["element"] = element or ""
    return string.Formatter().vformat(template, (), shown)


TEMPLATES = [
    "plain", "{days} of {required_retention_days} ({@days}) in {element}", "{{literal}} {days!r:>8} {days:^9}",
    "{@retention_days} is {retention_days}, {@max_gap_days!r:>30}", "{max_gap_days}{@rule}",
    "{missing} and {@missing} and {@days!s}", "{days:{width}}", "{element}{element}", "", "{required_retention_days:>4}",
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_messages_are_formatted_as_str_format_does(template: str):
    from backupguard.estate import Attribute
    from backupguard.rules.engine import _format

    rule = load_catalogue()["BG101"]
    name = "retention_days"
    for values, attributes in (({name: 7, "days": [1, None, True]}, {}),
                               ({"days": Unknown("x", candidates=(1, 2))}, {f: Attribute(f"Src{f}") for f in rule.input_fields[name]})):
        params = {**rule.defaults(), "width": 5}
        for element in (None, "rule 'daily'"):
            assert _format(rule, template, values, params, element, attributes) == \
                reference_format(rule, template, values, params, element, attributes)


@pytest.mark.parametrize("scans", TARGETS)
def test_a_rule_for_other_services_would_not_apply(scans: list[list[Path]]):
    """The engine passes over a resource whose service a rule's applies_if leaves out (program._services)
    without evaluating it: evaluated, its applies_if is false on every such subject."""
    from backupguard.rules.engine import _SKIP, _evaluate_element

    checks = [c for c in checks_with_every_framework(load_catalogue()) if c.rule.program.services is not None]
    assert {c.rule.id for c in checks} >= {"BG301", "BG302", "BG307", "BG308", "BG309"}
    passed_over = 0
    for paths in scans:
        resources = subjects(scan(paths, ScanOptions()))["resource"]
        for check in checks:
            for subject in resources:
                service = subject.facts.get("service")
                if isinstance(service, str) and service not in check.rule.program.services:
                    outcome = _evaluate_element(check.rule, _materialise(subject, check.params), check.params)
                    assert outcome.status == _SKIP, (check.rule.id, subject.resource_id, service)
                    passed_over += 1
    assert passed_over > 50
