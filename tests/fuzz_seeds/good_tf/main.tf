# The unmutated neighbour module.
resource "aws_backup_vault" "neighbour" {
  name = "neighbour-tf-vault"
}

resource "aws_backup_plan" "neighbour" {
  name = "neighbour-tf-plan"
  rule {
    rule_name         = "weekly"
    target_vault_name = aws_backup_vault.neighbour.name
    schedule          = "cron(0 5 ? * SUN *)"
    lifecycle { delete_after = 7 }
  }
}
