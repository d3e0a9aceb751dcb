provider "aws" {
  region = "eu-west-1"
  default_tags { tags = { backup = "daily" } }
}

resource "aws_kms_key" "backup" {}

resource "aws_backup_vault" "main" {
  name        = "fuzz-${var.env}"
  kms_key_arn = aws_kms_key.backup.arn
}

resource "aws_backup_vault_lock_configuration" "main" {
  backup_vault_name   = aws_backup_vault.main.name
  min_retention_days  = 7
  max_retention_days  = 365
  changeable_for_days = 3
}

locals {
  schedules = { daily = "cron(0 5 ? * * *)", weekly = "cron(0 5 ? * SUN *)" }
  keep      = [for d in var.extra_days : d * 2 if d > 0]
}

resource "aws_backup_plan" "this" {
  name = "fuzz-plan"
  dynamic "rule" {
    for_each = local.schedules
    content {
      rule_name         = rule.key
      target_vault_name = aws_backup_vault.main.name
      schedule          = rule.value
      lifecycle {
        delete_after = rule.key == "weekly" ? 7 : var.retention
      }
      copy_action {
        destination_vault_arn = "arn:aws:backup:us-east-1:111122223333:backup-vault:dr"
        lifecycle { delete_after = max(var.retention, 90) }
      }
    }
  }
}

resource "aws_backup_selection" "tagged" {
  count        = var.enabled ? 1 : 0
  name         = "tagged"
  plan_id      = aws_backup_plan.this.id
  iam_role_arn = "arn:aws:iam::111122223333:role/backup"
  selection_tag {
    type  = "STRINGEQUALS"
    key   = "backup"
    value = "daily"
  }
}

data "aws_iam_policy_document" "vault" {
  statement {
    effect    = "Deny"
    actions   = ["backup:DeleteRecoveryPoint"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = var.trusted_accounts
    }
  }
}

resource "aws_backup_vault_policy" "main" {
  backup_vault_name = aws_backup_vault.main.name
  policy            = data.aws_iam_policy_document.vault.json
}

resource "aws_dynamodb_table" "orders" {
  for_each = toset(["orders", "carts"])
  name     = "fuzz-${each.key}"
  hash_key = "id"
  point_in_time_recovery { enabled = each.key == "orders" }
}
