"""The generic Terraform engine: HCL parsing with positions, expression evaluation, module loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backupguard.estate import Reference, Unknown
from backupguard.scanner.cloudformation.loader import LineDict, LineList
from backupguard.scanner.terraform import hcl
from backupguard.scanner.terraform.evaluate import EvalError, Scope, evaluate_value
from backupguard.scanner.terraform.module import Instance, LoadResult, UnknownBlocks, load_module

from conftest import CORPUS


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def load(root: Path, files: dict[str, str], **kwargs) -> LoadResult:
    write(root, files)
    return load_module(root, display=lambda p: p.relative_to(root.parent).as_posix(), **kwargs)


def by_address(result: LoadResult) -> dict[str, Instance]:
    return {i.address: i for i in result.instances}


def ev(source: str, **symbols):
    expr = hcl.parse_expression(source)
    assert expr is not None, source
    return evaluate_value(expr, Scope(symbols=symbols))


UNKNOWN = Unknown("variable 'x' has no value")


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------


def test_parse_positions_of_blocks_attributes_and_expressions():
    parsed = hcl.parse('# c\nresource "aws_backup_vault" "main" {\n  name = "v-${var.env}"\n  tags = { a = 1 }\n}\n')
    assert parsed.error is None
    block = parsed.body.items[0]
    assert (block.type, block.labels, block.line, block.column, block.end_line) == ("resource", ["aws_backup_vault", "main"], 2, 1, 5)
    name = block.body.attributes["name"]
    assert (name.line, name.column) == (3, 3)
    assert isinstance(name.expr, hcl.Template)
    assert (name.expr.line, name.expr.column) == (3, 10)
    interp = name.expr.parts[1]
    assert interp.source == "var.env"
    assert (interp.expr.line, interp.expr.column) == (3, 15)
    tags = block.body.attributes["tags"].expr
    assert isinstance(tags, hcl.ObjectExpr)
    key, value = tags.items[0]
    assert (key.value, key.line, key.column, value.value) == ("a", 4, 12, 1)


def test_parse_columns_count_characters_not_bytes():
    parsed = hcl.parse('x = "é${y}"\n')
    template = parsed.body.items[0].expr
    assert template.parts[0] == "é"
    assert (template.parts[1].expr.line, template.parts[1].expr.column) == (1, 9)


def test_parse_syntax_error_is_located():
    parsed = hcl.parse('resource "a" "b" {\n  x = \n}\n')
    assert parsed.error is not None
    assert (parsed.error.message, parsed.error.line, parsed.error.column) == ("syntax error: unexpected 'x ='", 2, 3)
    assert parsed.body.items == []
    assert hcl.parse('a = "x\nb = 1\n').error == hcl.Problem("syntax error: missing '\"'", 3, 1)


def test_parse_duplicate_attribute_is_a_problem():
    parsed = hcl.parse("a = 1\na = 2\n")
    assert [(p.message, p.line, p.column) for p in parsed.problems] == [
        ("attribute 'a' is defined more than once (first on line 1)", 2, 1)
    ]
    assert parsed.body.attributes["a"].expr.value == 1


def test_parse_chained_conditionals_are_right_associative():
    assert [ev("c1 ? 1 : c2 ? 2 : c3 ? 3 : 4", c1=a, c2=b, c3=c) for a, b, c in
            [(True, False, False), (False, True, False), (False, False, True), (False, False, False)]] == [1, 2, 3, 4]
    assert ev("(c1 ? c2 : c3) ? 3 : 4", c1=False, c2=True, c3=False) == 4


def test_parse_expression_rejects_non_expressions():
    assert hcl.parse_expression("[1, 2") is None
    assert hcl.parse_expression("a b") is None
    assert isinstance(hcl.parse_expression("prod"), hcl.Variable)


# ---------------------------------------------------------------------------
# literals, templates, heredocs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("42", 42),
        ("2.5", 2.5),
        ("1.0", 1),
        ("true", True),
        ("null", None),
        ('"a\\nb\\t\\"q\\" \\u00e9 \\\\"', 'a\nb\t"q" é \\'),
        ('"$${literal} %%{literal}"', "${literal} %{literal}"),
        ('"x-${1 + 1}-${true}-${2.5}"', "x-2-true-2.5"),
        ('"%{ if c }yes%{ else }no%{ endif }"', "yes"),
        ('"a %{~ if c ~}  yes  %{~ endif ~} b"', "ayesb"),
        ('"${~ "x" ~}   y"', "xy"),
        ('"%{ for k, v in {a = 1, b = 2} }${k}=${v};%{ endfor }"', "a=1;b=2;"),
        ('"%{ for v in ["x", "y"] }<${v}>%{ endfor }"', "<x><y>"),
        ("[1, 2, [3]]", [1, 2, [3]]),
        ('{ a = 1, "b.c" = 2, d: 3 }', {"a": 1, "b.c": 2, "d": 3}),
        ('{ (k) = 1 }', {"key": 1}),
    ],
)
def test_literals_and_templates(source, expected):
    value = ev(source, c=True, k="key")
    assert value == expected
    assert type(value) is type(expected) or isinstance(expected, (list, dict)) and isinstance(value, type(expected))


def test_single_interpolation_keeps_the_value_type():
    assert ev('"${t}"', t={"a": 1}) == {"a": 1}
    assert ev('"${n}"', n=5) == 5


def test_heredocs(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'locals {\n'
        '  plain = <<EOT\n'
        '  keep ${"indent"}\n'
        'EOT\n'
        '  stripped = <<-EOT\n'
        '      {\n'
        '        "a": "${local.x}"\n'
        '      }\n'
        '    EOT\n'
        '  x = "y"\n'
        '}\n'
        'resource "null_resource" "r" {\n'
        '  triggers = { plain = local.plain, stripped = local.stripped }\n'
        '}\n'
    )})
    values = result.instances[0].values["triggers"]
    assert values["plain"] == "  keep indent\n"
    assert values["stripped"] == '{\n  "a": "y"\n}\n'


def test_template_with_unknown_and_reference():
    value = ev('"arn:aws:kms:${r}:111:key/${k}"', r=UNKNOWN, k="abc")
    assert value == Unknown("variable 'x' has no value", text="arn:aws:kms:${r}:111:key/abc")
    ref = Reference("aws_backup_vault.main", "arn", "aws_backup_vault")
    value = ev('"${v}/x"', v=ref)
    assert value == Unknown(
        "'aws_backup_vault.main.arn' is known only after apply", ("aws_backup_vault.main",),
        text="${aws_backup_vault.main.arn}/x",
    )


def test_template_over_candidates_gives_candidates():
    choice = Unknown("variable 'env' has no value", candidates=("prod", "dev"))
    assert ev('"vault-${e}"', e=choice) == Unknown("variable 'env' has no value", candidates=("vault-prod", "vault-dev"))


def test_template_directive_on_unknown_condition_is_unknown():
    assert ev('"%{ if c }a%{ else }b%{ endif }"', c=UNKNOWN) == Unknown(
        "variable 'x' has no value", text="${%{if}}")


# ---------------------------------------------------------------------------
# operators, conditionals, for, splat, traversal
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("10 - 4 - 3", 3),
        ("10 / 4", 2.5),
        ("10 / 5", 2),
        ("7 % 3", 1),
        ("-2 * 3", -6),
        ('"5" + 1', 6),
        ("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 4", False),
        ('1 == 1.0 && "1" != 1 && [1, {a = true}] == [1, {a = true}]', True),
        ("!false || false", True),
        ("true ? 1 : 2", 1),
        ("[1, 2, 3][1]", 2),
        ('{a = {b = [5]}}.a.b[0]', 5),
        ('{a = {b = [5]}}["a"]["b"]', [5]),
        ("[[10, 20]].0.1", 20),
        ("[{n = 1}, {n = 2}][*].n", [1, 2]),
        ("[{n = 1}, {n = 2}].*.n", [1, 2]),
        ("{n = 1}[*].n", [1]),
        ("null[*]", []),
        ('[for s in ["a", "b"] : upper(s)]', ["A", "B"]),
        ("[for i, v in [10, 20] : i + v if v > 10]", [21]),
        ('{for k, v in {b = 2, a = 1} : v => k}', {"1": "a", "2": "b"}),
        ('[for k, v in {b = 2, a = 1} : k]', ["a", "b"]),
        ('{for s in ["x", "y", "x"] : s => s...}', {"x": ["x", "x"], "y": ["y"]}),
    ],
)
def test_operators_conditionals_for_and_splat(source, expected):
    assert ev(source) == expected


def test_conditional_with_unknown_condition():
    # equal branches: decided
    assert ev("c ? 1 : 1", c=UNKNOWN) == 1
    # scalar branches: candidates; a null branch may leave the argument unset
    assert ev('c ? "a" : null', c=UNKNOWN) == Unknown("variable 'x' has no value", candidates=("a", None), may_be_absent=True)
    # a list branch: anything is possible
    assert ev("c ? [1] : [2]", c=UNKNOWN) == Unknown("variable 'x' has no value")
    # a condition whose candidates agree is decided
    assert ev("c ? 1 : 2", c=Unknown("r", candidates=(True,))) == 1
    # an undetermined condition feeding arithmetic keeps candidates
    assert ev("(c ? 1 : 2) * 10", c=UNKNOWN) == Unknown("variable 'x' has no value", candidates=(10, 20))


def test_logical_operators_are_kleene():
    assert ev("false && u", u=UNKNOWN) is False
    assert ev("u && false", u=UNKNOWN) is False
    assert ev("u || true", u=UNKNOWN) is True
    assert ev("u && true", u=UNKNOWN) == UNKNOWN
    assert ev("u == 1", u=UNKNOWN) == UNKNOWN
    assert ev("u != null", u=Unknown("r", text="vault-${x}")) is True  # a string being built is never null


def test_traversal_errors_and_unknown_propagation():
    with pytest.raises(EvalError, match="does not have an attribute named 'b'"):
        ev("{a = 1}.b")
    with pytest.raises(EvalError, match="out of range"):
        ev("[1][3]")
    with pytest.raises(EvalError, match="null"):
        ev("null.a")
    assert ev("u.a.b[0]", u=UNKNOWN) == UNKNOWN
    ref = Reference("aws_backup_plan.p", "rule", "aws_backup_plan")
    assert ev("r[0].rule_name", r=ref) == Reference("aws_backup_plan.p", "rule[0].rule_name", "aws_backup_plan")


def test_for_expression_over_unknown_collection_is_unknown():
    assert ev("[for v in u : v]", u=UNKNOWN) == UNKNOWN
    assert ev("[for v in [1, 2] : v if u]", u=UNKNOWN) == UNKNOWN
    assert ev("[for v in [1, u] : v]", u=UNKNOWN) == [1, UNKNOWN]


# ---------------------------------------------------------------------------
# functions
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('merge({a = 1, b = 1}, {b = 2}, null)', {"a": 1, "b": 2}),
        ('merge([{a = 1}, {b = 2}]...)', {"a": 1, "b": 2}),
        ('lookup({a = 1}, "a", 0)', 1),
        ('lookup({a = 1}, "z", 0)', 0),
        ('try({a = 1}.b, "fallback")', "fallback"),
        ('try(tonumber("x"), 7)', 7),
        ('can({a = 1}.a)', True),
        ('can({a = 1}.b)', False),
        ('coalesce(null, "", "x", "y")', "x"),
        ('coalescelist([], [1], [2])', [1]),
        ('concat([1], [2, 3], [])', [1, 2, 3]),
        ('flatten([1, [2, [3, []]], []])', [1, 2, 3]),
        ('tomap({a = 1})', {"a": 1}),
        ('toset(["b", "a", "b"])', ["a", "b"]),
        ('tolist(["x"])', ["x"]),
        ('tostring(5)', "5"),
        ('tonumber("5")', 5),
        ('tobool("true")', True),
        ('format("%s-%d-%v-%05.1f|%q", "a", 3, true, 2.25, "q")', 'a-3-true-002.2|"q"'),
        ('join(",", ["a", "b"], ["c"])', "a,b,c"),
        ('split(",", "a,b,,c")', ["a", "b", "", "c"]),
        ('lower("AbC")', "abc"),
        ('upper("AbC")', "ABC"),
        ('replace("a-b-c", "-", "_")', "a_b_c"),
        ('replace("vault-01", "/(\\\\w+)-(\\\\d+)/", "$2:$1")', "01:vault"),
        ('substr("backup", 1, 3)', "ack"),
        ('substr("backup", -2, -1)', "up"),
        ('trimspace("  x \\n")', "x"),
        ('jsonencode({b = [1, true, null], a = "<&>"})', '{"a":"\\u003c\\u0026\\u003e","b":[1,true,null]}'),
        ('jsondecode("{\\"a\\": [1, 2.0, {\\"b\\": null}]}")', {"a": [1, 2, {"b": None}]}),
        ('length([1, 2, 3])', 3),
        ('length({a = 1})', 1),
        ('length("abc")', 3),
        ('contains(["a", "b"], "b")', True),
        ('contains(["a", "b"], "c")', False),
        ('keys({b = 1, a = 2})', ["a", "b"]),
        ('values({b = 1, a = 2})', [2, 1]),
        ('element(["a", "b"], 3)', "b"),
        ('compact(["a", "", null, "b"])', ["a", "b"]),
        ('distinct([1, 2, 1, 3])', [1, 2, 3]),
        ('range(3)', [0, 1, 2]),
        ('range(1, 7, 2)', [1, 3, 5]),
        ('min(3, 1, 2)', 1),
        ('max([3, 9]...)', 9),
        ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
        ('one([])', None),
        ('one(["x"])', "x"),
        ('startswith("arn:aws:kms", "arn:")', True),
        ('endswith("vault", "ult")', True),
        ('regex("^arn:aws:([a-z]+):", "arn:aws:kms:x")', ["kms"]),
        ('regex("(?P<svc>[a-z]+):(?P<region>[a-z0-9-]+)", "kms:eu-west-1")', {"svc": "kms", "region": "eu-west-1"}),
        ('regexall("[0-9]+", "a1b22")', ["1", "22"]),
        ('alltrue([true, 1 == 1])', True),
        ('anytrue([false])', False),
        ('slice([1, 2, 3], 1, 3)', [2, 3]),
        ('cidrsubnet("10.0.0.0/16", 8, 2)', "10.0.2.0/24"),
        ('sha256("a")', "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"),
        ('base64encode("hi")', "aGk="),
    ],
)
def test_functions(source, expected):
    value = ev(source)
    assert value == expected
    assert type(value) is type(expected) or isinstance(expected, (list, dict)) and isinstance(value, type(expected))


def test_functions_with_unknown_arguments():
    ref = Reference("aws_kms_key.k", "arn", "aws_kms_key")
    # the reason names the deciding input
    assert ev('upper(u)', u=UNKNOWN) == UNKNOWN
    assert ev('merge({a = 1}, u)', u=UNKNOWN) == UNKNOWN
    # ... unless the function can decide anyway
    assert ev("length([1, u])", u=UNKNOWN) == 2
    assert ev("keys({b = u, a = 1})", u=UNKNOWN) == ["a", "b"]
    assert ev('merge({a = u}, {b = 2})', u=UNKNOWN) == {"a": UNKNOWN, "b": 2}
    assert ev('contains([u, "x"], "x")', u=UNKNOWN) is True
    assert ev('contains([u, "x"], "y")', u=UNKNOWN) == UNKNOWN
    assert ev('lookup({a = u, b = 2}, "b", 0)', u=UNKNOWN) == 2
    assert ev('coalesce("x", u)', u=UNKNOWN) == "x"
    assert ev('coalesce(null, u, "x")', u=UNKNOWN) == UNKNOWN
    assert ev('try(u.a, "fallback")', u=UNKNOWN) == UNKNOWN
    assert ev("can(u)", u=UNKNOWN) == UNKNOWN
    assert ev('concat([u], ["b"])', u=UNKNOWN) == [UNKNOWN, "b"]
    assert ev("flatten([[1], u])", u=UNKNOWN) == UNKNOWN
    assert ev('toset(["a", u])', u=UNKNOWN) == UNKNOWN
    assert ev('lower(u)', u=Unknown("r", candidates=("A", "B"))) == Unknown("r", candidates=("a", "b"))
    # references keep the address and a text with placeholders
    assert ev('join(":", ["arn", r])', r=ref) == Unknown(
        "'aws_kms_key.k.arn' is known only after apply", ("aws_kms_key.k",), text="arn:${aws_kms_key.k.arn}")
    assert ev('jsonencode({Resource = r, Effect = "Allow"})', r=ref) == Unknown(
        "'aws_kms_key.k.arn' is known only after apply", ("aws_kms_key.k",),
        text='{"Effect":"Allow","Resource":"${aws_kms_key.k.arn}"}')


def test_functions_that_read_files_or_clocks_are_unknown():
    assert ev('file("policy.json")') == Unknown("file() reads a file when Terraform runs")
    assert ev('templatefile("t.tpl", {})') == Unknown("templatefile() reads a file when Terraform runs")
    assert ev("timestamp()") == Unknown("timestamp() is known only at apply time")
    assert ev("nosuchfunction(1)") == Unknown("function nosuchfunction() is not evaluated")


# ---------------------------------------------------------------------------
# variables and locals
# ---------------------------------------------------------------------------


def test_variable_precedence(tmp_path):
    names = ["default", "tfvars", "tfvars_json", "auto_a", "auto_b", "file1", "file2", "cli"]
    variables = "".join(f'variable "{n}" {{ default = "default" }}\n' for n in names)
    attrs = "".join(f"    {n} = var.{n}\n" for n in names)
    later = names[1:]

    def assign(start: int, value: str) -> str:
        return "".join(f'{n} = "{value}"\n' for n in later[start:])

    files = {
        "variables.tf": variables,
        "main.tf": f'resource "null_resource" "r" {{\n  triggers = {{\n{attrs}  }}\n}}\n',
        "terraform.tfvars": assign(0, "tfvars"),
        "terraform.tfvars.json": json.dumps({n: "tfvars_json" for n in later[1:]}),
        "b.auto.tfvars": assign(3, "auto_b"),
        "a.auto.tfvars": assign(2, "auto_a"),
        "one.tfvars": assign(4, "file1"),
        "two.tfvars.json": json.dumps({n: "file2" for n in later[5:]}),
    }
    root = tmp_path / "root"
    result = load(root, files, var_files=[root / "one.tfvars", root / "two.tfvars.json"], variables={"cli": "cli"})
    assert result.errors == []
    assert dict(result.instances[0].values["triggers"]) == {n: n for n in names}


def test_cli_values_are_parsed_as_expressions_unless_primitive(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'variable "env" { type = string }\n'
        'variable "code" { type = string }\n'
        'variable "days" { type = number }\n'
        'variable "ids" {}\n'
        'variable "word" {}\n'
        'resource "null_resource" "r" { triggers = { env = var.env, code = var.code, days = var.days, ids = var.ids, word = var.word } }\n'
    )}, variables={"env": "prod", "code": "007", "days": "35", "ids": '["a", "b"]', "word": "hello"})
    assert result.instances[0].values["triggers"] == {"env": "prod", "code": "007", "days": 35, "ids": ["a", "b"], "word": "hello"}


def test_variable_without_value_and_type_conversion(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'variable "name" {}\n'
        'variable "rules" {\n'
        '  type = list(object({ name = string, days = optional(number, 35), cold = optional(number) }))\n'
        '  default = [{ name = "daily", extra = 1 }, { name = "weekly", days = "90" }]\n'
        '}\n'
        'variable "strict" {\n'
        '  default  = "d"\n'
        '  nullable = false\n'
        '}\n'
        'resource "null_resource" "r" {\n'
        '  triggers = { name = var.name, rules = var.rules }\n'
        '}\n'
    )})
    triggers = result.instances[0].values["triggers"]
    assert triggers["name"] == Unknown("variable 'name' has no value", may_be_absent=True)  # nullable: may be null
    assert triggers["rules"] == [{"name": "daily", "days": 35, "cold": None}, {"name": "weekly", "days": 90, "cold": None}]


def test_invalid_variables_file_is_located(tmp_path):
    result = load(tmp_path / "m", {
        "main.tf": 'variable "a" { default = 1 }\nresource "null_resource" "r" { triggers = { a = var.a } }\n',
        "terraform.tfvars": "a = [1,\n",
        "x.auto.tfvars.json": "{not json",
    })
    assert result.instances[0].values["triggers"] == {"a": 1}
    assert [(e.origin.file, e.origin.line, e.origin.column) for e in result.errors] == [
        ("m/terraform.tfvars", 1, 1), ("m/x.auto.tfvars.json", 1, 2)
    ]


def test_path_terraform_and_self(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'resource "null_resource" "r" {\n'
        "  triggers = { module = path.module, ws = terraform.workspace }\n"
        "}\n"
    )})
    # Terraform's path.module is relative to its working directory, the root module folder
    assert result.instances[0].values["triggers"] == {"module": ".", "ws": "default"}


def test_locals_in_any_order_and_cycles(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        "locals {\n"
        "  c = local.b * 2\n"
        "  b = local.a + 1\n"
        "  a = 1\n"
        "  x = local.y\n"
        "  y = local.x\n"
        "}\n"
        'resource "null_resource" "r" { triggers = { c = local.c, x = local.x } }\n'
    )})
    triggers = result.instances[0].values["triggers"]
    assert triggers["c"] == 4
    assert isinstance(triggers["x"], Unknown)
    assert "cycle" in triggers["x"].reason
    assert [(e.message, e.origin.file, e.origin.line, e.origin.column) for e in result.errors] == [
        ("local value 'x' refers to itself: local.x -> local.y -> local.x", "m/main.tf", 5, 3)
    ]


# ---------------------------------------------------------------------------
# resources: count, for_each, references, dynamic blocks
# ---------------------------------------------------------------------------


def test_count_and_for_each_addresses(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'variable "enabled" { default = false }\n'
        'resource "aws_backup_plan" "this" {\n'
        "  count = 2\n"
        '  name  = "plan-${count.index}"\n'
        "}\n"
        'resource "aws_ebs_volume" "data" {\n'
        '  for_each = { logs = 10, db = 20 }\n'
        "  size     = each.value\n"
        "  tags     = { Name = each.key }\n"
        "}\n"
        'resource "aws_backup_vault" "v" {\n'
        '  for_each = toset(["b", "a"])\n'
        '  name     = "vault-${each.value}"\n'
        "}\n"
        'resource "aws_backup_vault" "off" {\n'
        "  count = var.enabled ? 1 : 0\n"
        "}\n"
    )})
    found = by_address(result)
    assert list(found) == [
        "aws_backup_plan.this[0]", "aws_backup_plan.this[1]",
        'aws_ebs_volume.data["db"]', 'aws_ebs_volume.data["logs"]',
        'aws_backup_vault.v["a"]', 'aws_backup_vault.v["b"]',
    ]
    assert found["aws_backup_plan.this[1]"].values["name"] == "plan-1"
    assert found["aws_backup_plan.this[1]"].key == 1
    assert dict(found['aws_ebs_volume.data["logs"]'].values) == {"size": 10, "tags": {"Name": "logs"}}
    assert found['aws_backup_vault.v["b"]'].values["name"] == "vault-b"
    assert found['aws_backup_vault.v["b"]'].key == "b"
    assert all(i.exists is True for i in result.instances)


def test_count_with_unknown_candidates_expands_to_possible_instances(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'variable "enabled" { type = bool }\n'
        'resource "aws_backup_vault" "v" {\n'
        "  count = var.enabled ? 1 : 0\n"
        '  name  = "v${count.index}"\n'
        "}\n"
    )})
    (instance,) = result.instances
    assert instance.address == "aws_backup_vault.v[0]"
    assert instance.values["name"] == "v0"
    assert instance.exists == Unknown("count of aws_backup_vault.v is unknown: variable 'enabled' has no value")
    assert result.notes == [
        "aws_backup_vault.v: count is one of [0, 1] (variable 'enabled' has no value); instances beyond 0 may not exist"
    ]


def test_unknown_count_and_for_each_give_one_unkeyed_instance(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'variable "n" { type = number }\n'
        'variable "names" { type = set(string) }\n'
        'resource "aws_backup_vault" "counted" {\n'
        "  count = var.n\n"
        '  name  = "v${count.index}"\n'
        "  kms_key_arn = \"k\"\n"
        "}\n"
        'resource "aws_backup_vault" "each" {\n'
        "  for_each = var.names\n"
        "  name     = each.key\n"
        "}\n"
    )})
    counted, each = result.instances
    assert (counted.address, counted.key) == ("aws_backup_vault.counted", None)
    assert counted.exists == Unknown("count of aws_backup_vault.counted is unknown: variable 'n' has no value")
    assert counted.values["name"] == Unknown(
        "count of aws_backup_vault.counted is unknown: variable 'n' has no value", text="v${count.index}")
    assert counted.values["kms_key_arn"] == "k"
    assert each.address == "aws_backup_vault.each"
    assert each.values["name"] == Unknown("for_each of aws_backup_vault.each is unknown: variable 'names' has no value")
    assert result.notes == [
        "aws_backup_vault.counted: count is unknown (variable 'n' has no value): one instance stands for all of them",
        "aws_backup_vault.each: for_each is unknown (variable 'names' has no value): one instance stands for all of them",
    ]


def test_resource_references(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'variable "vault_name" {}\n'
        'resource "aws_backup_vault" "main" {\n'
        '  name = "main-vault"\n'
        "}\n"
        'resource "aws_backup_vault" "unnamed" {\n'
        "  name = var.vault_name\n"
        "}\n"
        'resource "aws_backup_vault" "many" {\n'
        "  count = 2\n"
        '  name  = "many-${count.index}"\n'
        "}\n"
        'resource "aws_backup_vault_lock_configuration" "lock" {\n'
        "  backup_vault_name = aws_backup_vault.main.name\n"
        "  other             = aws_backup_vault.unnamed.name\n"
        "  arn               = aws_backup_vault.main.arn\n"
        "  indexed           = aws_backup_vault.many[1].name\n"
        "  indexed_arn       = aws_backup_vault.many[1].arn\n"
        "  all_arns          = aws_backup_vault.many[*].arn\n"
        "  all_names         = aws_backup_vault.many.*.name\n"
        '  built             = "${aws_backup_vault.main.arn}/x"\n'
        "  whole             = aws_backup_vault.main\n"
        "  missing           = try(aws_backup_vault.many[5].arn, null)\n"
        "  kms               = data.aws_kms_key.k.arn\n"
        "  data_set          = data.aws_kms_key.k.key_id\n"
        "}\n"
        'data "aws_kms_key" "k" {\n'
        '  key_id = "alias/backup"\n'
        "}\n"
    )})
    values = by_address(result)["aws_backup_vault_lock_configuration.lock"].values
    vault = "aws_backup_vault"
    assert values["backup_vault_name"] == "main-vault"
    assert values["other"] == Reference("aws_backup_vault.unnamed", "name", vault)
    assert values["arn"] == Reference("aws_backup_vault.main", "arn", vault)
    assert values["indexed"] == "many-1"
    assert values["indexed_arn"] == Reference("aws_backup_vault.many[1]", "arn", vault)
    assert values["all_arns"] == [Reference("aws_backup_vault.many[0]", "arn", vault), Reference("aws_backup_vault.many[1]", "arn", vault)]
    assert values["all_names"] == ["many-0", "many-1"]
    assert values["built"] == Unknown(
        "'aws_backup_vault.main.arn' is known only after apply", ("aws_backup_vault.main",),
        text="${aws_backup_vault.main.arn}/x")
    assert values["whole"] == Reference("aws_backup_vault.main", None, vault)
    assert values["missing"] is None
    assert values["kms"] == Unknown("data source data.aws_kms_key.k is read at apply time", ("data.aws_kms_key.k",))
    assert values["data_set"] == "alias/backup"
    assert [d.address for d in result.data_sources] == ["data.aws_kms_key.k"]


def test_dynamic_blocks_known(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'variable "rules" {\n'
        '  default = [{ name = "daily", copies = ["a"] }, { name = "weekly", copies = [] }]\n'
        "}\n"
        'resource "aws_backup_plan" "p" {\n'
        '  name = "p"\n'
        "  rule {\n"
        '    rule_name = "static"\n'
        "  }\n"
        '  dynamic "rule" {\n'
        "    for_each = var.rules\n"
        "    iterator = r\n"
        "    content {\n"
        "      rule_name = r.value.name\n"
        "      position  = r.key\n"
        '      dynamic "copy_action" {\n'
        "        for_each = r.value.copies\n"
        "        content {\n"
        '          destination_vault_arn = "arn:${copy_action.value}:${r.value.name}"\n'
        "        }\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n"
    )})
    rules = result.instances[0].values["rule"]
    assert isinstance(rules, LineList)
    assert rules == [
        {"rule_name": "static"},
        {"rule_name": "daily", "position": 0, "copy_action": [{"destination_vault_arn": "arn:a:daily"}]},
        {"rule_name": "weekly", "position": 1, "copy_action": []},
    ]
    assert rules.item_pos == [(6, 3), (9, 3), (9, 3)]


def test_dynamic_block_with_unknown_for_each(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'variable "rules" { type = list(any) }\n'
        'resource "aws_backup_plan" "p" {\n'
        "  rule {\n"
        '    rule_name = "static"\n'
        "  }\n"
        '  dynamic "rule" {\n'
        "    for_each = var.rules\n"
        "    content {\n"
        "      rule_name         = rule.value.name\n"
        '      target_vault_name = "vault"\n'
        "    }\n"
        "  }\n"
        "}\n"
    )})
    rules = result.instances[0].values["rule"]
    reason = "dynamic block 'rule' for_each is unknown: variable 'rules' has no value"
    assert isinstance(rules, UnknownBlocks) and isinstance(rules, Unknown)
    assert (rules.reason, rules.may_be_absent) == (reason, True)
    assert rules.known == [{"rule_name": "static"}]
    assert rules.templates == [{"rule_name": Unknown(reason), "target_vault_name": "vault"}]


# ---------------------------------------------------------------------------
# modules
# ---------------------------------------------------------------------------


def test_local_modules_inputs_outputs_and_addresses(tmp_path):
    result = load(tmp_path / "root", {
        "main.tf": (
            'variable "env" { default = "prod" }\n'
            'module "vault" {\n'
            '  source = "../modules/vault"\n'
            '  name   = "v-${var.env}"\n'
            "}\n"
            'module "plans" {\n'
            '  source   = "./plans"\n'
            '  for_each = { daily = 7, weekly = 35 }\n'
            "  vault    = module.vault.name\n"
            "  days     = each.value\n"
            "}\n"
            'module "counted" {\n'
            '  source = "../modules/vault"\n'
            "  count  = 2\n"
            '  name   = "c${count.index}"\n'
            "}\n"
            'resource "null_resource" "uses" {\n'
            "  triggers = {\n"
            '    plan  = module.plans["weekly"].plan_name\n'
            "    arn   = module.vault.arn\n"
            "    names = module.counted[*].name\n"
            "  }\n"
            "}\n"
            'module "registry" {\n'
            '  source  = "terraform-aws-modules/backup/aws"\n'
            '  version = "1.0"\n'
            "}\n"
            'module "gone" {\n'
            '  source = "./missing"\n'
            "}\n"
        ),
        "plans/main.tf": (
            'variable "vault" {}\n'
            'variable "days" { type = number }\n'
            'module "inner" {\n'
            '  source = "../../modules/vault"\n'
            '  name   = "inner-${var.vault}"\n'
            "}\n"
            'resource "aws_backup_plan" "this" {\n'
            '  name = "plan-${var.days}"\n'
            "  rule {\n"
            "    target_vault_name = var.vault\n"
            "    lifecycle { delete_after = var.days }\n"
            "  }\n"
            "}\n"
            'output "plan_name" { value = aws_backup_plan.this.name }\n'
        ),
        "../modules/vault/main.tf": (
            'variable "name" { type = string }\n'
            'resource "aws_backup_vault" "this" { name = var.name }\n'
            'output "name" { value = aws_backup_vault.this.name }\n'
            'output "arn" { value = aws_backup_vault.this.arn }\n'
        ),
    })
    found = by_address(result)
    assert list(found) == [
        "null_resource.uses",
        "module.vault.aws_backup_vault.this",
        'module.plans["daily"].aws_backup_plan.this',
        'module.plans["daily"].module.inner.aws_backup_vault.this',
        'module.plans["weekly"].aws_backup_plan.this',
        'module.plans["weekly"].module.inner.aws_backup_vault.this',
        "module.counted[0].aws_backup_vault.this",
        "module.counted[1].aws_backup_vault.this",
    ]
    weekly = found['module.plans["weekly"].aws_backup_plan.this']
    assert weekly.values == {"name": "plan-35", "rule": [{"target_vault_name": "v-prod", "lifecycle": [{"delete_after": 35}]}]}
    assert weekly.origin.file == "root/plans/main.tf"
    assert weekly.module == 'module.plans["weekly"]'
    assert found['module.plans["daily"].module.inner.aws_backup_vault.this'].values["name"] == "inner-v-prod"
    assert found["module.vault.aws_backup_vault.this"].origin.file == "modules/vault/main.tf"
    assert found["null_resource.uses"].values["triggers"] == {
        "plan": "plan-35",
        "arn": Reference("module.vault.aws_backup_vault.this", "arn", "aws_backup_vault"),
        "names": ["c0", "c1"],
    }
    assert result.notes == ["module 'module.registry' (source terraform-aws-modules/backup/aws) was not followed (run terraform init to have it read)"]
    assert [(e.message, e.origin.file, e.origin.line) for e in result.errors] == [
        ("module 'gone': source directory './missing' does not exist", "root/main.tf", 28)
    ]


def test_module_unset_input_and_self_inclusion(tmp_path):
    result = load(tmp_path / "root", {
        "main.tf": 'module "child" {\n  source = "./child"\n}\n',
        "child/main.tf": (
            'variable "name" {}\n'
            'resource "aws_backup_vault" "v" { name = var.name }\n'
            'module "again" {\n  source = "../"\n}\n'
        ),
    })
    (vault,) = result.instances
    assert vault.values["name"] == Unknown("variable 'name' of module.child has no value", may_be_absent=True)
    assert [(e.message, e.origin.file, e.origin.line) for e in result.errors] == [
        ("module 'again' (source ../) includes itself", "root/child/main.tf", 3)
    ]


# ---------------------------------------------------------------------------
# providers
# ---------------------------------------------------------------------------


def test_provider_region_alias_default_tags_and_inheritance(tmp_path):
    result = load(tmp_path / "root", {
        "providers.tf": (
            'variable "region" { default = "eu-west-1" }\n'
            'variable "dr_region" {}\n'
            'provider "aws" {\n'
            "  region = var.region\n"
            "  default_tags {\n"
            '    tags = { Owner = "ops" }\n'
            "  }\n"
            "}\n"
            'provider "aws" {\n'
            '  alias  = "replica"\n'
            '  region = "us-east-1"\n'
            "}\n"
            'provider "aws" {\n'
            '  alias  = "dr"\n'
            "  region = var.dr_region\n"
            "}\n"
        ),
        "main.tf": (
            'resource "aws_backup_vault" "main" { name = "main" }\n'
            'resource "aws_backup_vault" "copy" {\n'
            "  provider = aws.replica\n"
            '  name     = "copy"\n'
            "}\n"
            'resource "aws_backup_vault" "dr" {\n'
            "  provider = aws.dr\n"
            "}\n"
            'module "inherits" { source = "./child" }\n'
            'module "mapped" {\n'
            '  source    = "./child"\n'
            "  providers = { aws = aws.replica }\n"
            "}\n"
        ),
        "child/main.tf": 'resource "aws_backup_vault" "v" {}\n',
    })
    found = by_address(result)
    main = found["aws_backup_vault.main"]
    assert (main.provider, main.region, main.default_tags, main.origin.region) == ("aws", "eu-west-1", {"Owner": "ops"}, "eu-west-1")
    copy = found["aws_backup_vault.copy"]
    assert (copy.provider, copy.region, copy.default_tags) == ("aws.replica", "us-east-1", {})
    dr = found["aws_backup_vault.dr"]
    assert (dr.provider, dr.region, dr.origin.region) == (
        "aws.dr", Unknown("variable 'dr_region' has no value", may_be_absent=True), None
    )
    assert (found["module.inherits.aws_backup_vault.v"].provider, found["module.inherits.aws_backup_vault.v"].region) == ("aws", "eu-west-1")
    assert (found["module.mapped.aws_backup_vault.v"].provider, found["module.mapped.aws_backup_vault.v"].region) == ("aws.replica", "us-east-1")


def test_no_provider_block(tmp_path):
    result = load(tmp_path / "m", {"main.tf": 'resource "aws_backup_vault" "v" {}\n'})
    (vault,) = result.instances
    assert (vault.provider, vault.region, vault.default_tags, vault.origin.region) == ("aws", None, {}, None)


# ---------------------------------------------------------------------------
# positions and errors
# ---------------------------------------------------------------------------


def test_positions_of_values(tmp_path):
    result = load(tmp_path / "m", {
        "variables.tf": 'variable "tags" {\n  default = { Team = "ops" }\n}\n',
        "main.tf": (
            "# vault\n"
            'resource "aws_backup_vault" "v" {\n'
            '  name = "v"\n'
            "  tags = var.tags\n"
            "  list = [\n"
            '    "a",\n'
            '    "b",\n'
            "  ]\n"
            "  obj = {\n"
            "    k = 1\n"
            "  }\n"
            "}\n"
        ),
    })
    (vault,) = result.instances
    assert (vault.origin.file, vault.origin.line, vault.origin.column) == ("m/main.tf", 2, 1)
    values = vault.values
    assert isinstance(values, LineDict) and (values.line, values.column) == (2, 1)
    assert values.pos("name") == (3, 3)
    assert values.pos("tags") == (4, 3)
    # a value from variables.tf is placed at the argument that uses it
    assert values["tags"].pos("Team") == (4, 3)
    assert values["list"].item_pos == [(6, 5), (7, 5)]
    assert values["obj"].pos("k") == (10, 5)


def test_syntax_error_is_located_and_other_files_still_load(tmp_path):
    result = load(tmp_path / "m", {
        "a.tf": 'resource "aws_backup_vault" "a" {\n  name = "a"\n}\n',
        "b.tf": 'resource "aws_backup_vault" "b" {\n  name = = "b"\n}\n',
        "c.tf": 'resource "aws_backup_vault" "c" {\n  name = "c"\n}\n',
    })
    assert [i.address for i in result.instances] == ["aws_backup_vault.a", "aws_backup_vault.c"]
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error.message, error.origin.file, error.origin.line, error.origin.column) == (
        "syntax error: unexpected '='", "m/b.tf", 2, 10)


def test_evaluation_error_becomes_unknown_with_a_located_note(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'resource "aws_backup_vault" "v" {\n'
        "  name = {a = 1}.b\n"
        "}\n"
    )})
    (vault,) = result.instances
    assert vault.values["name"] == Unknown(
        "aws_backup_vault.v.name could not be evaluated: this object does not have an attribute named 'b'")
    assert result.notes == ["m/main.tf:2:17: aws_backup_vault.v.name: this object does not have an attribute named 'b'"]
    assert result.errors == []


def test_meta_arguments_are_not_values(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'resource "aws_backup_vault" "v" {\n'
        '  name       = "v"\n'
        "  depends_on = [aws_kms_key.k]\n"
        "  lifecycle {\n"
        "    prevent_destroy = true\n"
        "  }\n"
        "}\n"
        'resource "aws_kms_key" "k" {}\n'
    )})
    assert dict(by_address(result)["aws_backup_vault.v"].values) == {"name": "v"}


def test_five_thousand_lines_load_every_instance(tmp_path):
    """Load time is measured in benchmarks/, not asserted here (shared machines are noisy)."""
    chunks = ['variable "env" { default = "prod" }\nlocals { tags = { Env = var.env } }\n']
    for i in range(300):
        chunks.append(
            f'resource "aws_backup_vault" "v{i}" {{\n  name = "vault-{i}-${{var.env}}"\n  tags = merge(local.tags, {{ N = "{i}" }})\n}}\n'
            f'resource "aws_backup_plan" "p{i}" {{\n  name = "p{i}"\n  dynamic "rule" {{\n    for_each = ["a", "b"]\n'
            f'    content {{\n      rule_name         = rule.value\n      target_vault_name = aws_backup_vault.v{i}.name\n'
            f'      lifecycle {{\n        delete_after = 35\n      }}\n    }}\n  }}\n}}\n'
        )
    text = "".join(chunks)
    assert text.count("\n") >= 5000
    write(tmp_path / "m", {"main.tf": text})
    result = load_module(tmp_path / "m")
    assert len(result.instances) == 600
    assert not result.errors


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_every_corpus_folder_loads_without_raising():
    folders = sorted({path.parent for path in CORPUS.rglob("*.tf")})
    assert len(folders) > 100
    total = 0
    for folder in folders:
        result = load_module(folder, display=lambda p: str(p))
        total += len(result.instances)
        assert all(error.origin.file and error.origin.line >= 1 for error in result.errors)
    assert total > 800


def test_files_limit_the_root_module(tmp_path):
    root = write(tmp_path / "m", {
        "one.tf": 'resource "aws_backup_vault" "v" { name = "one" }\n',
        "two.tf": 'resource "aws_backup_vault" "v" { name = "two" }\n',
    })
    result = load_module(root, files=[root / "two.tf"])
    assert [(i.address, i.values["name"]) for i in result.instances] == [("aws_backup_vault.v", "two")]
    assert result.errors == []
    both = load_module(root, display=lambda p: p.name)
    assert [e.message for e in both.errors] == ["aws_backup_vault.v is declared more than once (first in one.tf line 1)"]


def test_crlf_heredoc_indentation():
    parsed = hcl.parse(b"x = <<-EOT\r\n    a\r\n\r\n      b ${v}\r\n    EOT\r\n")
    assert evaluate_value(parsed.body.items[0].expr, Scope(symbols={"v": 1})) == "a\r\n\r\n  b 1\r\n"


def test_module_with_unknown_for_each(tmp_path):
    result = load(tmp_path / "root", {
        "main.tf": (
            'variable "vaults" { type = map(string) }\n'
            'module "v" {\n'
            '  source   = "./v"\n'
            "  for_each = var.vaults\n"
            "  name     = each.key\n"
            "}\n"
        ),
        "v/main.tf": 'variable "name" {}\nresource "aws_backup_vault" "this" {\n  name = var.name\n  force_destroy = true\n}\n',
    })
    (vault,) = result.instances
    reason = "for_each of module.v is unknown: variable 'vaults' has no value"
    assert (vault.address, vault.module, vault.exists) == ("module.v.aws_backup_vault.this", "module.v", Unknown(reason))
    assert dict(vault.values) == {"name": Unknown(reason), "force_destroy": True}


def test_region_data_source_follows_the_provider(tmp_path):
    result = load(tmp_path / "m", {"main.tf": (
        'provider "aws" { region = "cn-north-1" }\n'
        'data "aws_region" "current" {}\n'
        'data "aws_partition" "current" {}\n'
        'data "aws_caller_identity" "current" {}\n'
        'resource "aws_backup_vault" "v" {\n'
        '  name = "arn:${data.aws_partition.current.partition}:backup:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:x"\n'
        "}\n"
    )})
    (vault,) = result.instances
    assert vault.values["name"] == Unknown(
        "data source data.aws_caller_identity.current is read at apply time", ("data.aws_caller_identity.current",),
        text="arn:aws-cn:backup:cn-north-1:${AWS::AccountId}:x",  # the deploying account (issue 10)
    )


def test_comments_around_an_attributes_parts_leave_its_name_value_and_positions():
    """The converter reads an attribute's name and value without listing its children when no
    comment sits among them; with comments anywhere, the result is the same."""
    body = hcl.parse(b'a /* c */ = 1 # t\nb = /* l */ "x" // a\nc = 2\n').body
    assert [(a.name, a.expr.value, a.line, a.column, a.expr.line, a.expr.column) for a in body.items] == [
        ("a", 1, 1, 1, 1, 13), ("b", "x", 2, 1, 2, 13), ("c", 2, 3, 1, 3, 5)]
