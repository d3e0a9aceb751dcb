"""Shared machinery of the fuzz test (tests/test_fuzz.py) and the fuzz benchmark (benchmarks/fuzz.py).

Not a test module. It knows how to

* build a *case*: a small scan tree made of seed inputs (tests/fuzz_seeds/) where one
  input is mutated (bytes flipped, truncated, hostile tokens inserted, or a node of its
  parsed tree replaced by a value of another type) beside unmutated neighbours;
* run the real command line on it in a forked child with a wall-clock timeout and a
  memory limit (``RLIMIT_AS``), so a hang or a blow-up is a finding, not a stuck CI;
* judge the run (:func:`problems`): no "internal error", no traceback, no crash, no
  timeout, no raw control character or workflow command in human-facing output, at
  most one error per file, every error located, every unmutated neighbour still reported.

Mutations draw their choices from a :class:`Chooser`, so Hypothesis (which can shrink
and replay) and a plain seeded ``random.Random`` (the benchmark) drive the same code.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import shutil
import signal
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import yaml

SEEDS = Path(__file__).resolve().parent / "fuzz_seeds"
TIMEOUT_SECONDS = 5.0  # per run; a clean run of a case takes well under a second
MEMORY_BUDGET = 1024 * 1024 * 1024  # address space a run may add to what the forked child starts with
MAX_ERRORS_PER_FILE = 1
CANARY = "PWNED"  # a file of this name appearing means the input got something executed
OUT = "_out"  # report folder inside the case, never scanned
REPORT_FILES = {"json": "r.json", "text": "r.txt", "markdown": "r.md", "sarif": "r.sarif", "junit": "r.xml", "html": "r.html"}

# Neighbours that are never mutated: their results must be in every report.
NEIGHBOURS = {"good/neighbour.yaml": "good/neighbour.yaml", "good_tf/main.tf": "good_tf/main.tf"}
NEIGHBOUR_PATHS = ["good/neighbour.yaml", "good_tf"]


class Chooser(Protocol):
    """Where a mutation gets its random choices from."""

    def choice(self, options: Sequence[Any]) -> Any: ...

    def integer(self, low: int, high: int) -> int: ...


class RandomChooser:
    """A :class:`Chooser` over ``random.Random`` (the benchmark)."""

    def __init__(self, rng) -> None:
        self.rng = rng

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


class HypothesisChooser:
    """A :class:`Chooser` over Hypothesis' ``st.data()`` (the test: replayable, shrinkable)."""

    def __init__(self, data) -> None:
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.data.draw(self.st.integers(0, len(options) - 1))]

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(self.st.integers(low, high))


# ---------------------------------------------------------------------------
# hostile material
# ---------------------------------------------------------------------------

BIG = "9" * 5000  # more digits than Python's default int<->str limit (4300)
REDOS = 'regex("^(a+)+$", "' + "a" * 40 + '!")'

# Raw text inserted anywhere (any format): control characters, escapes, numbers, syntax.
HOSTILE_TEXT = [
    "\x00", "\x07", "\x08", "\x1b[2J\x1b[31m", "\x1b]0;pwned\x07", "\x1b]8;;https://example.invalid\x1b\\", "\r",
    "\n::error file=README.md,line=1::Injected\n", "\udc00", "\ufeff", "\ufffe", "\x7f", "\x85", "\u2028", "\u202e",
    "٣٥", BIG, "-" + BIG, "1e999", "-1", "1.5", "0x10", "1e5", "null", "~", "true", "[]", "{}", "[", "]", "{", "}",
    "[" * 2000, "{" * 2000, '"', "'", "\\", ":", "- ", "\t", "&a [*a,*a,*a,*a,*a,*a,*a,*a,*a]", "*nope",
    "!Ref", "!GetAtt", "!!python/object/apply:os.system ['touch PWNED']", "!!binary", "%YAML 1.1\n---\n",
    "Fn::ForEach", "Fn::ForEach::X", "${", "%{", "${var.nope}", "${AWS::NoValue}", "<<EOF\n", "count = 100000000\n",
    REDOS, "/*", "#", "\n" * 50, "x" * 100_000,
]

# Right-hand sides of HCL attributes (.tf, .tfvars): values of every type and the expensive functions.
HOSTILE_HCL = [
    "null", "true", "false", "0", "-1", "1.5", "1e5", "1E+5", "1e999", BIG, "-" + BIG, "10000000000000000000000000",
    "100000000", '""', '"*"', '"٣٥"', '"1e999"', '"\\u001b[31mred\\u001b[0m"', '"x\\n::error file=README.md,line=1::Injected"',
    '"\\udc00"', '"\\u0000"', "[]", "{}", "[null]", "[1, \"a\", null]", "{ a = 1, b = [2] }", "var.nope", "local.nope",
    "each.key", "count.index", "self", 'format("%999999999d", 1)', 'indent(1000000000, "x\\ny")', REDOS,
    'replace("' + "a" * 40 + '!", "/^(a+)+$/", "b")', "length(setproduct(range(1000), range(1000), range(1000)))",
    "[for a in range(1000) : [for b in range(1000) : a * b]]", "range(100000000)", "pow(10, 100000)",
    '"%{ for a in range(1000) }%{ for b in range(1000) }x%{ endfor }%{ endfor }"', 'tonumber("1e999")',
    'jsondecode("[[[[[[[[[[")', 'file("/etc/passwd")', 'templatefile("/etc/hostname", {})', "data.external.x.result",
    'can(regex("(", "x"))', "try(nope.x, 1)", "timestamp()", "uuid()", '"${' * 3 + "1" + '}"' * 3, "(" * 500 + "1" + ")" * 500,
    "[" * 500 + "]" * 500, "1 / 0", '"a" + 1', "!true", "-null", 'lookup({}, "x")', "element([], 0)", "sum([])",
]

# Whole lines inserted into an HCL body or at the top level.
HOSTILE_HCL_LINES = [
    "count = 100000000", "count = -1", "count = 1.5", "for_each = range(1000000)", 'for_each = "x"',
    'provisioner "local-exec" { command = "touch PWNED" }',
    'data "external" "x" { program = ["touch", "PWNED"] }',
    'module "m" {\n  source = "../../../outside"\n}', 'module "self" {\n  source = "./"\n}',
    'dynamic "rule" {\n  for_each = range(1000)\n  content {}\n}', "lifecycle { delete_after = 1e999 }",
    'locals { a = local.a }', 'variable "v" { type = list(any) default = [[[[[[[[[[]]]]]]]]]] }',
    'resource "aws_backup_plan" "x" {', "}", "rule {", 'terraform { required_version = ">= 99" }',
]


def hostile_value(chooser: Chooser, depth: int = 0) -> Any:
    """A value for a structural mutation: scalars of every type, deep nests, intrinsics, ForEach."""
    kind = chooser.integer(0, 9 if depth < 2 else 5)
    if kind == 0:
        return chooser.choice([None, True, False, 0, -1, 1, 7, 1.5, -0.0, 1e30, float("inf"), float("nan"), 2**64])
    if kind == 1:
        return chooser.choice([BIG_INT, NEG_BIG_INT, "1e999", "٣٥", "*", "", "  ", "x" * 5000, "cron(", "rate(0 days)"])
    if kind == 2:
        return chooser.choice(["\x1b[31mred\x1b[0m", "\udc00", "a\nb", "x\n::error file=README.md,line=1::Injected",
                               "\x00", "\x7f\x85\ufffe", "${AWS::NoValue}", "${nope}", "arn:aws:backup:*:*:*", "\u202e"])
    if kind == 3:
        return chooser.integer(-(2**70), 2**70)
    if kind == 4:
        return nested(chooser.choice([50, 300, 1200]), chooser.choice(["list", "dict"]))
    if kind == 5:
        return chooser.choice([[], {}, [None], {"": None}, [[]], {"Ref": "AWS::NoValue"}, {"Ref": "Nope"}])
    if kind == 6:
        return chooser.choice([
            {"Fn::GetAtt": ["Nope", "Arn"]}, {"Fn::Sub": "${Nope}"}, {"Fn::Join": [",", {"Ref": "Nope"}]},
            {"Fn::If": ["Nope", 1, 2]}, {"Fn::Select": [99, []]}, {"Fn::Split": [",", 5]}, {"Fn::FindInMap": ["A", "B", "C"]},
            {"Fn::Base64": {"Fn::Base64": {"Fn::Base64": "x"}}}, {"Fn::Length": 5}, {"Fn::ToJsonString": {"a": [1]}},
            {"@@assign": None}, {"@@append": [1]}, {"@@remove": "x"},
        ])
    if kind == 7:
        items = [str(i) for i in range(chooser.choice([2, 200]))]
        inner = {"Fn::ForEach::B": ["Y", items, {"V${X}${Y}": {"Type": "AWS::Backup::BackupVault", "Properties": {}}}]}
        return {"Fn::ForEach::A": ["X", items, inner]}
    if kind == 8:
        return [hostile_value(chooser, depth + 1) for _ in range(chooser.integer(1, 3))]
    return {chooser.choice(["Type", "Properties", "Ref", "Fn::ForEach::Z", "\x1b", "", "rule", "Resources"]):
            hostile_value(chooser, depth + 1)}


class _Big(int):
    """An integer too long for ``str(int)`` under Python's digit limit: serialised verbatim."""


BIG_INT = _Big(1)  # placeholders, written as BIG / -BIG by the serialisers below
NEG_BIG_INT = _Big(-1)


def nested(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


# ---------------------------------------------------------------------------
# parsing and writing trees (structural mutations)
# ---------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """Safe YAML with CloudFormation's short-form tags turned into their long form."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_form)


def load_tree(text: str, fmt: str) -> Any:
    return json.loads(text) if fmt == "json" else yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def _placeholder(value: Any) -> Any:
    """Big-integer placeholders and lone surrogates in a form the serialisers accept."""
    if isinstance(value, _Big):
        return "\x00BIG+\x00" if value > 0 else "\x00BIG-\x00"
    if isinstance(value, list):
        return [_placeholder(v) for v in value]
    if isinstance(value, dict):
        return {(_placeholder(k) if isinstance(k, _Big) else k): _placeholder(v) for k, v in value.items()}
    return value


def dump_tree(tree: Any, fmt: str) -> str:
    """JSON (NaN/Infinity and \\udc00 escapes included, as hostile JSON has them) or YAML."""
    tree = _placeholder(tree)
    if fmt == "json":
        text = json.dumps(tree, indent=1)
        return text.replace('"\\u0000BIG+\\u0000"', BIG).replace('"\\u0000BIG-\\u0000"', "-" + BIG)
    try:
        text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=1000)
    except yaml.YAMLError:
        text = json.dumps(tree, indent=1)  # JSON is YAML
    return text.replace('"\\0BIG+\\0"', BIG).replace('"\\0BIG-\\0"', "-" + BIG).replace(
        '"\\u0000BIG+\\u0000"', BIG).replace('"\\u0000BIG-\\u0000"', "-" + BIG)


def _node_paths(tree: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            paths += _node_paths(value, prefix + (key,))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            paths += _node_paths(value, prefix + (index,))
    return paths


def _type_name(value: Any) -> str:
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def replace_node(tree: Any, chooser: Chooser) -> Any:
    """Replace one random node (never the root) with a hostile value of another type, or drop it."""
    paths = [p for p in _node_paths(tree) if p]
    if not paths:
        return hostile_value(chooser)
    path = chooser.choice(paths)
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    old = parent[path[-1]]
    if chooser.integer(0, 9) == 0:
        del parent[path[-1]]
        return tree
    for _ in range(4):
        new = hostile_value(chooser)
        if _type_name(new) != _type_name(old):
            break
    parent[path[-1]] = new
    return tree


def add_key(tree: Any, chooser: Chooser) -> Any:
    """A hostile key beside the others in a random mapping."""
    dicts = [p for p in _node_paths(tree) if isinstance(_at(tree, p), dict)]
    if dicts:
        target = _at(tree, chooser.choice(dicts))
        key = chooser.choice(["Fn::ForEach::Q", "Fn::Transform", "Condition", "Ref", "\x1b[31m", "rules", "@@assign", "Type"])
        target[key] = hostile_value(chooser)
    return tree


def _at(tree: Any, path: tuple) -> Any:
    for key in path:
        tree = tree[key]
    return tree


# ---------------------------------------------------------------------------
# text mutations
# ---------------------------------------------------------------------------


def _offset(text: str, chooser: Chooser) -> int:
    return chooser.integer(0, len(text))


def insert_token(text: str, chooser: Chooser, tokens: Sequence[str] = HOSTILE_TEXT) -> str:
    at = _offset(text, chooser)
    return text[:at] + chooser.choice(tokens) + text[at:]


def truncate(text: str, chooser: Chooser) -> str:
    return text[: _offset(text, chooser)]


_VALUE = re.compile(r"^(?P<head>[ \t]*[\"']?[\w.:@-]+[\"']?[ \t]*[:=][ \t]*)(?P<value>\S.*)$", re.M)


def replace_value(text: str, chooser: Chooser, values: Sequence[str]) -> str:
    """Replace the value of a random ``key: value`` / ``name = value`` line."""
    matches = list(_VALUE.finditer(text))
    if not matches:
        return insert_token(text, chooser)
    match = chooser.choice(matches)
    return text[: match.start("value")] + chooser.choice(values) + text[match.end("value"):]


def insert_line(text: str, chooser: Chooser, lines: Sequence[str]) -> str:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    at = chooser.choice(starts)
    return text[:at] + chooser.choice(lines) + "\n" + text[at:]


def flip_bytes(data: bytes, chooser: Chooser) -> bytes:
    if not data:
        return bytes([chooser.integer(0, 255)])
    buf = bytearray(data)
    for _ in range(chooser.integer(1, 4)):
        at = chooser.integer(0, len(buf) - 1)
        buf[at] ^= 1 << chooser.integer(0, 7) if chooser.integer(0, 1) else chooser.integer(1, 255)
    return bytes(buf)


# The mutations per text format. Each takes (text, chooser) and returns text.
_YAML_VALUES = ["null", "~", "-1", "1.5", ".inf", "1e30", "1e999", BIG, "'٣٥'", "[]", "{}", "[null]", "- 5", "!Ref Nope",
                '"\\e[31m"', '"\\u001b]0;x\\u0007"', '"x\\n::error file=README.md,line=1::Injected"', '"\\uDC00"',
                "&a [*a, *a]", "*nope", "!!python/object/apply:os.system ['touch PWNED']", "!!binary AAAA",
                "{Fn::ForEach::X: [I, [a, b], {}]}", "!Sub '${AWS::NoValue}'", "[" * 300 + "]" * 300]


def _text_ops(fmt: str) -> list[tuple[str, Callable[[str, Chooser], str]]]:
    """(name, mutation) pairs for a text format; each mutation takes (text, chooser) and returns text."""
    ops: list[tuple[str, Callable[[str, Chooser], str]]] = [("insert_token", insert_token), ("truncate", truncate)]
    if fmt in ("yaml", "json"):
        ops += [("replace_node", lambda t, c: dump_tree(replace_node(load_tree(t, fmt), c), fmt)),
                ("replace_node", lambda t, c: dump_tree(replace_node(load_tree(t, fmt), c), fmt)),
                ("add_key", lambda t, c: dump_tree(add_key(load_tree(t, fmt), c), fmt))]
    if fmt == "yaml":
        ops += [("replace_value", lambda t, c: replace_value(t, c, _YAML_VALUES))]
    if fmt in ("hcl", "tfvars"):
        ops += [("replace_value", lambda t, c: replace_value(t, c, HOSTILE_HCL))] * 3
    if fmt == "hcl":
        ops += [("insert_line", lambda t, c: insert_line(t, c, HOSTILE_HCL_LINES))] * 2
    return ops


def to_bytes(text: str) -> bytes:
    """Text back to bytes: escaped undecodable bytes (U+DC80..U+DCFF) as they were, any other
    lone surrogate as its invalid 3-byte UTF-8 form (what a hostile file holds)."""
    out = bytearray()
    for part in re.split("([\ud800-\udfff])", text):
        if len(part) == 1 and "\udc80" <= part <= "\udcff":
            out.append(ord(part) - 0xDC00)
        else:
            out += part.encode("utf-8", "surrogatepass")
    return bytes(out)


def mutate(data: bytes, fmt: str, chooser: Chooser) -> tuple[bytes, list[str]]:
    """1-3 stacked mutations of a seed's bytes; returns the bytes and a log of what was done."""
    log: list[str] = []
    ops = _text_ops(fmt)
    for _ in range(chooser.integer(1, 3)):
        if chooser.integer(0, 5) == 0:
            data = flip_bytes(data, chooser)
            log.append("flip_bytes")
            continue
        name, op = chooser.choice(ops)
        text = data.decode("utf-8", "surrogateescape")
        try:
            text = op(text, chooser)
        except (yaml.YAMLError, ValueError, RecursionError):  # no longer parses: a structural step can't apply
            name, text = "insert_token", insert_token(text, chooser)
        log.append(name)
        data = to_bytes(text)
    return data, log


# ---------------------------------------------------------------------------
# cases
# ---------------------------------------------------------------------------


@dataclass
class Case:
    """A scan tree and a command to run in it."""

    kind: str
    files: dict[str, bytes]
    args: list[str]
    mutated: list[str]  # relative paths of mutated inputs
    module: str | None = None  # the Terraform module the mutated file belongs to
    config: bool = False  # the config file is the mutated input
    log: list[str] = field(default_factory=list)

    def write(self, root: Path) -> None:
        for name, data in self.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (root / OUT).mkdir(exist_ok=True)

    def command(self) -> str:
        return "backupguard " + " ".join(_quote(a) for a in self.args)


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./=:-]+", arg) else repr(arg)


def seed(name: str) -> bytes:
    return (SEEDS / name).read_bytes()


def _neighbours() -> dict[str, bytes]:
    return {"good/neighbour.yaml": seed("good/neighbour.yaml"), "good_tf/main.tf": seed("good_tf/main.tf")}


def _lint_args(paths: list[str], extra: Sequence[str] = ()) -> list[str]:
    outputs = [arg for fmt, name in REPORT_FILES.items() for arg in ("-o", f"{fmt}={OUT}/{name}")]
    return ["lint", *paths, *NEIGHBOUR_PATHS, *outputs, *extra]


KINDS = ("cfn_yaml", "cfn_json", "org_policy", "tf", "tf_json", "tfvars", "config", "report")

# kind -> (seed files of the mutated input's unit, the file mutated, its format, the scanned path)
_FILE_KINDS = {
    "cfn_yaml": ({"stack/stack.yaml": "cfn/stack.yaml"}, "stack/stack.yaml", "yaml", "stack/stack.yaml"),
    "cfn_json": ({"stack/stack.json": "cfn/stack.json"}, "stack/stack.json", "json", "stack/stack.json"),
    "org_policy": ({"org/policy.json": "org/policy.json"}, "org/policy.json", "json", "org/policy.json"),
    "tf_json": ({"mod/main.tf.json": "tf_json/main.tf.json"}, "mod/main.tf.json", "json", "mod"),
}
_TF = {"mod/main.tf": "tf/main.tf", "mod/variables.tf": "tf/variables.tf", "mod/terraform.tfvars": "tf/terraform.tfvars"}


def make_case(kind: str, chooser: Chooser, result_doc: bytes | None = None) -> Case:
    """A scan tree with one input of ``kind`` mutated beside unmutated neighbours."""
    if kind in _FILE_KINDS:
        seeds, target, fmt, scanned = _FILE_KINDS[kind]
        files = {name: seed(src) for name, src in seeds.items()}
        files[target], log = mutate(files[target], fmt, chooser)
        module = "mod" if scanned == "mod" else None
        return Case(kind, files | _neighbours(), _lint_args([scanned]), [target], module, log=log)
    if kind in ("tf", "tfvars"):
        files = {name: seed(src) for name, src in _TF.items()}
        target = "mod/terraform.tfvars" if kind == "tfvars" else chooser.choice(["mod/main.tf", "mod/main.tf", "mod/variables.tf"])
        files[target], log = mutate(files[target], "tfvars" if kind == "tfvars" else "hcl", chooser)
        extra: list[str] = []
        if kind == "tfvars" and chooser.integer(0, 2) == 0:
            name = chooser.choice(["retention", "env", "extra_days", "trusted_accounts", "enabled"])
            value = to_bytes(chooser.choice(HOSTILE_HCL + HOSTILE_TEXT).replace("\x00", "")).decode("utf-8", "surrogateescape")
            extra = ["--var", f"{name}={value}"]  # as a real argv decodes it (no NUL, bad bytes escaped)
            log.append(f"--var {name}")
        return Case(kind, files | _neighbours(), _lint_args(["mod"], extra), [target], "mod", log=log)
    if kind == "config":
        files = {".backupguard.yaml": seed("config.yaml"), "stack/stack.yaml": seed("cfn/stack.yaml")}
        files[".backupguard.yaml"], log = mutate(files[".backupguard.yaml"], "yaml", chooser)
        return Case(kind, files | _neighbours(), _lint_args(["stack/stack.yaml"]), [".backupguard.yaml"], config=True, log=log)
    if kind == "report":
        assert result_doc is not None, "the report kind mutates a result document"
        data, log = mutate(result_doc, "json", chooser)
        files = {"doc.json": data, "good.json": result_doc}
        docs = ["doc.json"] if chooser.integer(0, 1) else ["doc.json", "good.json"]
        outputs = [arg for fmt, name in REPORT_FILES.items() for arg in ("-o", f"{fmt}={OUT}/{name}")]
        return Case(kind, files, ["report", *docs, *outputs], ["doc.json"], log=log)
    raise ValueError(kind)


def unmutated_case(kind: str) -> Case:
    """The case of ``kind`` with no mutation (a chooser that always declines is not needed: seeds as they are)."""
    if kind in _FILE_KINDS:
        seeds, target, _fmt, scanned = _FILE_KINDS[kind]
        return Case(kind, {n: seed(s) for n, s in seeds.items()} | _neighbours(), _lint_args([scanned]), [])
    if kind in ("tf", "tfvars"):
        return Case(kind, {n: seed(s) for n, s in _TF.items()} | _neighbours(), _lint_args(["mod"]), [])
    if kind == "config":
        files = {".backupguard.yaml": seed("config.yaml"), "stack/stack.yaml": seed("cfn/stack.yaml")}
        return Case(kind, files | _neighbours(), _lint_args(["stack/stack.yaml"]), [])
    raise ValueError(kind)


# ---------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------


@dataclass
class Outcome:
    exit_code: int | None  # None: killed (timeout or signal)
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    signal: int | None = None
    max_rss_mib: float = 0.0
    reports: dict[str, str] = field(default_factory=dict)
    executed: bool = False  # a canary file appeared: the input got a command run

    def __repr__(self) -> str:  # short: pytest and Hypothesis print it with every failure
        return f"Outcome(exit={self.exit_code}, {self.seconds:.2f} s, timed_out={self.timed_out}, signal={self.signal})"


def warm_up() -> None:
    """One clean lint in this process, so that every lazy import, cached catalogue and
    compiled template is in place before children are forked (a run then takes ~0.1 s)."""
    import tempfile

    from typer.testing import CliRunner

    from backupguard.cli import app

    with tempfile.TemporaryDirectory() as tmp:
        case = unmutated_case("tf")
        case.files.update(unmutated_case("cfn_json").files)
        case.write(Path(tmp))
        paths = [str(Path(tmp) / p) for p in ("mod", "stack/stack.json", *NEIGHBOUR_PATHS)]
        outputs = [arg for fmt, name in REPORT_FILES.items() for arg in ("-o", f"{fmt}={tmp}/{OUT}/{name}")]
        CliRunner().invoke(app, ["lint", *paths, *outputs])
        CliRunner().invoke(app, ["report", f"{tmp}/{OUT}/r.json", *outputs])


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(args: list[str], cwd: Path, out: int, err: int, memory: int) -> None:
    """In the forked child: the real console entry point, stdout/stderr on files, address space capped."""
    code = 70
    try:
        os.chdir(cwd)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="strict", line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True)
        sys.stdin = io.TextIOWrapper(io.BytesIO())
        signal.signal(signal.SIGINT, signal.default_int_handler)
        limit = _vm_size() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        sys.argv = ["backupguard", *args]
        from backupguard.cli import main

        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - what escapes main() is exactly what we look for
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            code = 71
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                pass
        os._exit(code)


def run_case(case: Case, root: Path, timeout: float = TIMEOUT_SECONDS, memory: int = MEMORY_BUDGET) -> Outcome:
    """Write the case under ``root`` (emptied first) and run it in a forked child."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    case.write(root)
    out_path, err_path = root.parent / (root.name + ".stdout"), root.parent / (root.name + ".stderr")
    with open(out_path, "w+b") as out, open(err_path, "w+b") as err:
        sys.stdout.flush()
        sys.stderr.flush()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            _child(case.args, root, out.fileno(), err.fileno(), memory)
        timed_out, status, usage = False, 0, None
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() - start > timeout:
                os.kill(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                timed_out = True
                break
            time.sleep(0.005)
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    os.unlink(out_path)
    os.unlink(err_path)
    killed = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    reports = {}
    for fmt, name in REPORT_FILES.items():
        path = root / OUT / name
        if path.is_file():
            reports[fmt] = path.read_bytes().decode("utf-8", "replace")
    executed = any(root.rglob(CANARY)) or (Path.cwd() / CANARY).exists()
    rss = usage.ru_maxrss / 1024 if usage else 0.0
    return Outcome(code, stdout, stderr, seconds, timed_out, killed, rss, reports, executed)


# ---------------------------------------------------------------------------
# judging
# ---------------------------------------------------------------------------

_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def baseline_keys(doc: dict, files: Sequence[str]) -> set[tuple]:
    """(file, rule, resource) of the non-error results in ``files``: what must survive a neighbour's mutation."""
    return {(r.get("file"), r.get("rule_id"), r.get("resource_id")) for r in doc.get("results", [])
            if r.get("file") in files and r.get("status") != "error"}


def baseline(kind: str, root: Path) -> tuple[Outcome, set[tuple]]:
    """The unmutated case of a lint ``kind``, run once: its outcome and the neighbours' result keys."""
    outcome = run_case(unmutated_case(kind), root)
    doc = json.loads(outcome.reports.get("json", "{}"))
    return outcome, baseline_keys(doc, list(NEIGHBOURS))


def _module_file(path: str | None, case: Case) -> bool:
    if path is None:
        return False
    if path in case.mutated:
        return True
    return case.module is not None and (path == case.module or path.startswith(case.module + "/"))


def problems(case: Case, outcome: Outcome, expected: set[tuple] = frozenset()) -> list[str]:
    """Everything wrong with one run. ``expected``: the neighbours' (file, rule, resource) keys."""
    found: list[str] = []
    if outcome.timed_out:
        return [f"timeout: no answer within {outcome.seconds:.1f} s"]
    if outcome.signal is not None:
        return [f"crash: killed by signal {signal.Signals(outcome.signal).name}"]
    everything = outcome.stdout + outcome.stderr
    if re.search("internal error", everything, re.I):
        found.append("internal error: " + _line_with(everything, "internal error"))
    if "Traceback (most recent call last)" in everything:
        found.append("traceback: " + everything.strip().splitlines()[-1][:300])
    if outcome.exit_code not in (0, 1, 2):
        found.append(f"exit code {outcome.exit_code}")
    if outcome.executed:
        found.append("the input got a command executed (canary file PWNED exists)")
    found += _human_output_problems(outcome)
    for fmt, check in (("sarif", json.loads), ("junit", ET.fromstring)):
        if fmt in outcome.reports:
            try:
                check(outcome.reports[fmt])
            except Exception as exc:  # noqa: BLE001
                found.append(f"{fmt} report does not parse: {exc}")
    if case.kind == "report":
        return found + _report_command_problems(case, outcome)
    if "json" not in outcome.reports:
        if case.config and outcome.exit_code == 2 and ".backupguard.yaml" in outcome.stderr:
            return found  # a broken config is a usage error naming the config file: the run can't go on
        return found + ["no report: the run stopped (" + (outcome.stderr.strip()[-300:] or "no message") + ")"]
    try:
        doc = json.loads(outcome.reports["json"])
    except json.JSONDecodeError as exc:
        return found + [f"JSON report does not parse: {exc}"]
    return found + _result_problems(case, doc, expected)


def _line_with(text: str, needle: str) -> str:
    return next((line for line in text.splitlines() if needle.lower() in line.lower()), "")[:400]


def _human_output_problems(outcome: Outcome) -> list[str]:
    found = []
    for name, text in (("stdout", outcome.stdout), ("stderr", outcome.stderr),
                       ("text report", outcome.reports.get("text", "")), ("markdown report", outcome.reports.get("markdown", ""))):
        if match := _RAW_CONTROL.search(text):
            found.append(f"raw control character {match.group()!r} in {name}: {_context(text, match.start())}")
        if any(line.lstrip().startswith("::") for line in text.splitlines()):
            found.append(f"a line of the {name} starts a workflow command: {_line_with(text, '::')}")
    return found


def _context(text: str, at: int) -> str:
    return repr(text[max(0, at - 60): at + 20])


def _result_problems(case: Case, doc: dict, expected: set[tuple]) -> list[str]:
    found = []
    results = doc.get("results", [])
    errors = [r for r in results if r.get("status") == "error"]
    per_file: dict[str, list[dict]] = {}
    for error in errors:
        per_file.setdefault(str(error.get("file")), []).append(error)
        if not error.get("file") or not isinstance(error.get("line"), int) or error["line"] < 1:
            found.append(f"error without a location (file {error.get('file')!r}, line {error.get('line')!r}): {error.get('message', '')[:200]}")
    # Each mutation may break one thing (errors are confined to the smallest scope: two broken
    # resources are two errors), but one broken thing never cascades into several errors.
    allowed = max(MAX_ERRORS_PER_FILE, len(case.log))
    for file, errs in sorted(per_file.items()):
        if len(errs) > allowed:
            listed = "; ".join(f"{e.get('line')}: {e.get('message', '')[:120]}" for e in errs[:4])
            found.append(f"{len(errs)} errors in {file} (at most {allowed}, one per mutation): {listed}")
        if file in NEIGHBOURS or file.startswith("good_tf"):
            found.append(f"error in the unmutated neighbour {file}: {errs[0].get('message', '')[:200]}")
        elif not _module_file(file, case):
            found.append(f"error in a file that was not mutated ({file}): {errs[0].get('message', '')[:200]}")
    got = baseline_keys(doc, sorted({k[0] for k in expected}))
    missing = sorted(expected - got, key=str)
    if missing and not case.config:  # a config may legitimately exclude files, pick frameworks, waive
        found.append(f"{len(missing)} results of unmutated neighbours missing, e.g. {missing[:3]}")
    return found


def _report_command_problems(case: Case, outcome: Outcome) -> list[str]:
    if outcome.exit_code == 2 and not outcome.reports:
        message = outcome.stderr.strip()
        if "doc.json" not in message:
            return [f"the report command's error does not name the document: {message[:300]!r}"]
    return []


def reproducer(case: Case, outcome: Outcome | None, found: list[str]) -> str:
    """A text that tells a person how to replay a failure."""
    lines = [f"kind: {case.kind}", f"mutations: {', '.join(case.log)}", f"command (in the case folder): {case.command()}",
             "problems:"] + [f"  - {p}" for p in found]
    if outcome is not None:
        lines += [f"exit code: {outcome.exit_code}, {outcome.seconds:.2f} s, peak RSS {outcome.max_rss_mib:.0f} MiB",
                  "stderr (tail):", outcome.stderr[-1500:]]
    for name in case.mutated:
        data = case.files[name]
        shown = data if len(data) <= 4000 else data[:2000] + b"\n...[%d bytes]...\n" % len(data) + data[-1000:]
        lines += [f"--- {name} ({len(data)} bytes) ---", shown.decode("utf-8", "backslashreplace")]
    return "\n".join(lines)


def save_case(case: Case, folder: Path, note: str) -> None:
    """The case's files (mutated input and neighbours) and a README with the command and the problems."""
    if folder.exists():
        shutil.rmtree(folder)
    case.write(folder)
    (folder / "REPRODUCE.txt").write_text(note, encoding="utf-8", errors="backslashreplace")
