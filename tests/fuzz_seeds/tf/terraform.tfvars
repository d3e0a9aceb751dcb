env              = "staging"
retention        = 40
enabled          = true
extra_days       = [5, 10]
trusted_accounts = ["111122223333", "444455556666"]
