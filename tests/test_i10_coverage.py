"""Issue 10 item 14: framework scopes name AWS (CloudFormation) types; Terraform estates match too."""

from __future__ import annotations

from backupguard.frameworks import load_frameworks, scope_types

from conftest import lint_paths

TERRAFORM = '''
resource "aws_dynamodb_table" "orders" {
  name         = "orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_ebs_volume" "data" {
  availability_zone = "us-east-1a"
  size              = 10
  encrypted         = true
}
'''


def test_scope_types_admit_every_source_name_of_a_type():
    assert set(scope_types(["AWS::DynamoDB::Table"])) == {
        "AWS::DynamoDB::Table", "aws_dynamodb_table", "AWS::Serverless::SimpleTable"}
    assert set(scope_types(["aws_ebs_volume"])) == {"aws_ebs_volume", "AWS::EC2::Volume"}
    assert "aws_fsx_ontap_file_system" in scope_types(["AWS::FSx::FileSystem"])
    assert scope_types(["Custom::Thing"]) == ("Custom::Thing",)


def test_security_hub_controls_scoped_by_type_evaluate_terraform_resources(tmp_path):
    (tmp_path / "main.tf").write_text(TERRAFORM, encoding="utf-8")
    results = lint_paths([tmp_path], frameworks=["aws-security-hub"])
    controls = {(r.resource_id, control) for r in results if r.rule_id == "BG401" for control in r.frameworks}
    assert ("aws_dynamodb_table.orders", "aws-security-hub:DynamoDB.4") in controls
    assert ("aws_ebs_volume.data", "aws-security-hub:EC2.28") in controls
    # ...and a control scoped to another type still leaves them out.
    assert ("aws_ebs_volume.data", "aws-security-hub:DynamoDB.4") not in controls
    assert ("aws_dynamodb_table.orders", "aws-security-hub:EC2.28") not in controls


def test_shipped_scopes_keep_their_aws_types():
    for framework in load_frameworks().values():
        for control in framework.controls:
            for name in control.resource_types:
                if name.startswith("aws_"):
                    assert any(t.startswith("AWS::") for t in control.resource_types), (framework.id, control.id)
