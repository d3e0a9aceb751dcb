# backupguard:skip=BG201 Shared vault of the old platform, retired with OPS-201
resource "aws_backup_vault" "legacy" {
  name = "tf-legacy"
}

resource "aws_dynamodb_table" "events" {
  #checkov:skip=CKV_AWS_28:Events are replayed from the stream archive (OPS-202)
  name         = "events"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_dynamodb_table" "orders" { # no point-in-time recovery; its waiver has expired
  name         = "orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_backup_plan" "daily" { # keeps recovery points 7 days: BG101 fails, waived in the config
  name = "daily"

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.legacy.name
    schedule          = "cron(0 5 ? * * *)"

    lifecycle {
      delete_after = 7
    }
  }
}
