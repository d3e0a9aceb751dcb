"""Issue 10 item 7: an unresolvable element (an undeclared module output) makes only that element
unknown, outside try()/can() where it is still an error they catch."""

from __future__ import annotations

from backupguard.estate import Unknown

from test_terraform_hcl import load

CHILD = {"child/main.tf": 'output "present" {\n  value = "p"\n}\n'}


def test_undeclared_output_is_one_unknown_element(tmp_path):
    result = load(tmp_path / "m", {**CHILD, "main.tf": (
        'module "c" {\n  source = "./child"\n}\n'
        'resource "aws_backup_vault" "v" {\n'
        '  name = "v"\n'
        '  tags = {\n    a = module.c.missing\n    b = module.c.present\n'
        '    c = can(module.c.missing)\n    d = try(module.c.missing, "fallback")\n  }\n'
        '}\n'
    )})
    (vault,) = result.instances
    tags = vault.values["tags"]
    assert isinstance(tags["a"], Unknown) and "has no output 'missing'" in tags["a"].reason
    assert (tags["b"], tags["c"], tags["d"]) == ("p", False, "fallback")
    assert any("has no output 'missing' (this element is unknown)" in note for note in result.notes)
