variable "env" {
  type    = string
  default = "prod"
}

variable "retention" {
  type    = number
  default = 35
  validation {
    condition     = var.retention >= 1
    error_message = "retention must be positive"
  }
}

variable "enabled" {
  type    = bool
  default = true
}

variable "extra_days" {
  type    = list(number)
  default = [1, 2, 3]
}

variable "trusted_accounts" {
  type = list(string)
}
