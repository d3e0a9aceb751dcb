"""Terraform source: HCL configurations (and, later, plan JSON) in, Estate entities out."""
