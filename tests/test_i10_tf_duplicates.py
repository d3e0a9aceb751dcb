"""Issue 10 item 17: a duplicate Terraform address in one module is a located error, as Terraform
makes it; only a folder whose every file stands alone (scanner fixtures) is linted file by file."""

from __future__ import annotations

from conftest import lint_paths

VARIABLES = 'variable "retention" {\n  type    = number\n  default = 0\n}\n'
DB = ('resource "aws_db_instance" "db" {\n  identifier              = "db"\n  engine                  = "postgres"\n'
      '  instance_class          = "db.t3.micro"\n  backup_retention_period = {retention}\n}\n')


def test_duplicate_address_in_a_module_is_a_located_error(tmp_path):
    (tmp_path / "variables.tf").write_text(VARIABLES)
    (tmp_path / "main.tf").write_text(DB.replace("{retention}", "var.retention"))
    (tmp_path / "copy.tf").write_text(DB.replace("{retention}", str(7)))
    results = lint_paths([tmp_path])
    errors = [r for r in results if r.status == "error"]
    assert [(e.file.rsplit("/", 1)[-1], e.line) for e in errors] == [("main.tf", 1)]
    assert "aws_db_instance.db is declared more than once (first in" in errors[0].message
    # one result per rule on the address: the first declaration (copy.tf, read first) is kept
    per_rule: dict = {}
    for r in results:
        if r.resource_id == "aws_db_instance.db":
            per_rule.setdefault(r.rule_id, []).append(r.status)
    assert per_rule and all(len(statuses) == 1 for statuses in per_rule.values())


def test_folder_of_standalone_scenarios_is_linted_file_by_file(tmp_path):
    (tmp_path / "positive.tf").write_text(DB.replace("{retention}", str(0)))
    (tmp_path / "negative.tf").write_text(DB.replace("{retention}", str(7)))
    results = lint_paths([tmp_path])
    assert not [r for r in results if r.status == "error"]
    files = {r.file.rsplit("/", 1)[-1] for r in results if r.resource_id == "aws_db_instance.db"}
    assert files == {"positive.tf", "negative.tf"}
