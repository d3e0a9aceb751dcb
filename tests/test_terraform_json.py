"""Terraform's JSON syntax (``*.tf.json``): the same configuration gives the same results as ``.tf``."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import lint_paths

from backupguard.scanner import scan
from backupguard.scanner.terraform import hcl, hcl_json

FIXTURES = Path(__file__).parent / "fixtures" / "terraform-json"


def _decisions(results):
    return sorted((r.rule_id, r.resource_id, r.status, r.message) for r in results)


def test_json_and_native_syntax_give_the_same_results():
    native = lint_paths([FIXTURES / "hcl"])
    from_json = lint_paths([FIXTURES / "json"])
    assert _decisions(native) == _decisions(from_json)
    statuses = {(r.rule_id, r.resource_id): r.status for r in from_json}
    # the decisive constructs: default_tags + selection_tag, for_each, ${var} retention, dynamic blocks
    assert statuses[("BG401", 'aws_ebs_volume.data["logs"]')] == "pass"
    assert statuses[("BG401", "aws_dynamodb_table.t")] == "fail"  # its own tag overrides the default tag
    assert statuses[("BG413", 'aws_ebs_volume.data["data"]')] == "fail"  # retention 14 from the variable
    assert statuses[("BG301", "aws_dynamodb_table.t")] == "pass"


def test_results_point_at_the_resource_label_in_the_json_file():
    text = (FIXTURES / "json" / "main.tf.json").read_text().splitlines()
    results = lint_paths([FIXTURES / "json"])
    for resource_id, label in (("aws_backup_vault.main", '"main": {"name"'), ("aws_dynamodb_table.t", '"t": {'),
                               ('aws_ebs_volume.data["logs"]', '"data": {')):
        line = next(r.line for r in results if r.resource_id == resource_id)
        assert label in text[line - 1], (resource_id, line)
        assert all(r.file.endswith("main.tf.json") for r in results if r.resource_id == resource_id)


def test_interpolations_keep_quotes_and_backslashes_and_a_lone_interpolation_keeps_its_type():
    body = hcl_json.parse(json.dumps({"locals": {
        "a": '${replace("x\\\\y", "\\\\", "/")}', "n": "${1 + 2}", "escaped": "$${literal}",
    }})).body
    exprs = {item.name: item.expr for item in body.blocks_of("locals")[0].body.items}
    assert isinstance(exprs["a"], hcl.Template) and isinstance(exprs["a"].parts[0], hcl.Interp)
    assert isinstance(exprs["a"].parts[0].expr, hcl.Call) and exprs["a"].parts[0].expr.name == "replace"
    assert isinstance(exprs["n"], hcl.Template) and len(exprs["n"].parts) == 1  # "${1 + 2}" stays a number
    assert isinstance(exprs["escaped"], hcl.Literal) and exprs["escaped"].value == "${literal}"
    assert isinstance(exprs["a"].parts[0].expr.args[0], hcl.Literal) and exprs["a"].parts[0].expr.args[0].value == "x\\y"


def test_an_unclosed_interpolation_is_a_located_syntax_error():
    parsed = hcl_json.parse('{"locals": {\n  "a": "no ${"\n}}')
    assert parsed.error is not None and parsed.error.line == 2 and "invalid template" in parsed.error.message


def test_a_broken_json_file_is_one_located_error_and_the_other_files_still_load(tmp_path: Path):
    (tmp_path / "broken.tf.json").write_text('{\n  "resource": {\n    "aws_backup_vault": {"v": {"name": }}\n  }\n}\n')
    (tmp_path / "main.tf").write_text('resource "aws_dynamodb_table" "t" {\n  name = "t"\n}\n')
    estate = scan([tmp_path])
    assert [(e.origin.file.rsplit("/", 1)[-1], e.origin.line) for e in estate.errors] == [("broken.tf.json", 3)]
    assert [t.resource_id for t in estate.resources] == ["aws_dynamodb_table.t"]


def test_a_json_module_call_is_followed_and_its_module_is_not_a_root(tmp_path: Path):
    module = tmp_path / "modules" / "vault"
    module.mkdir(parents=True)
    (module / "main.tf.json").write_text(json.dumps({
        "variable": {"name": {"type": "string"}},
        "resource": {"aws_backup_vault": {"this": {"name": "${var.name}", "provider": "aws.replica"}}},
    }))
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "provider": {"aws": [{"region": "us-east-1"}, {"alias": "replica", "region": "eu-west-1"}]},
        "module": {"vault": {"source": "./modules/vault", "name": "from-caller", "providers": {"aws.replica": "aws.replica"}}},
    }))
    estate = scan([tmp_path])
    assert not estate.errors
    assert [(v.resource_id, v.name, v.origin.region) for v in estate.vaults] == [("module.vault.aws_backup_vault.this", "from-caller", "eu-west-1")]
