"""Vault access policies: backup-recovery-point-manual-deletion-disabled semantics."""

from __future__ import annotations

import json

import pytest

from backupguard.estate import Reference, Unknown
from backupguard.resolve.vault_policy import (
    PROTECTED_ACTIONS,
    DeletionProtection,
    deletion_protection,
    wildcard_actions,
)
from backupguard.scanner.cloudformation import CfnOptions, parse_template

DELETE, LIFECYCLE, PUT_POLICY = PROTECTED_ACTIONS
BREAK_GLASS = "arn:aws:iam::111122223333:role/BreakGlass"
OTHER_ROLE = "arn:aws:iam::111122223333:role/Operator"
DENIED = "denied to every principal on every resource: "
NOT_DENIED = "not denied to every principal on every resource: "
UNDECIDED = "cannot tell whether denied to every principal on every resource: "
ALL_THREE = f"{DELETE}, {LIFECYCLE}, {PUT_POLICY}"


def deny(**overrides) -> dict:
    """The Deny statement of the AWS example: the three actions, every principal, every resource."""
    statement = {"Sid": "DenyDeletes", "Effect": "Deny", "Principal": "*", "Action": list(PROTECTED_ACTIONS), "Resource": "*"}
    statement.update(overrides)
    return {key: value for key, value in statement.items() if value is not ...}


def policy(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


PROTECTED = DeletionProtection(True, (), DENIED + f"{ALL_THREE} (by statement 'DenyDeletes')")


# -- the AWS example and its variations ------------------------------------------------


def test_aws_example_denies_the_three_actions_to_everyone():
    assert deletion_protection(policy(deny())) == PROTECTED


def test_statement_may_be_a_single_object():
    assert deletion_protection({"Version": "2012-10-17", "Statement": deny()}) == PROTECTED


def test_action_may_be_a_single_string_per_statement():
    statements = [deny(Sid=..., Action=action) for action in PROTECTED_ACTIONS]
    result = deletion_protection(policy(*statements))
    assert result == DeletionProtection(
        True, (), DENIED + f"{DELETE} (by statement #1); {LIFECYCLE} (by statement #2); {PUT_POLICY} (by statement #3)"
    )


def test_action_names_are_case_insensitive():
    actions = ["BACKUP:DELETERECOVERYPOINT", "backup:updaterecoverypointlifecycle", "Backup:PutBackupVaultAccessPolicy"]
    assert deletion_protection(policy(deny(Action=actions))) == PROTECTED


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}, {"AWS": [BREAK_GLASS, "*"]}])
def test_every_principal_spellings(principal):
    assert deletion_protection(policy(deny(Principal=principal))).protected is True


def test_resource_list_containing_a_star():
    assert deletion_protection(policy(deny(Resource=["arn:aws:backup:*:*:recovery-point:*", "*"]))).protected is True


def test_json_text_is_parsed():
    assert deletion_protection(json.dumps(policy(deny()))) == PROTECTED


def test_a_full_deny_among_allow_statements():
    allow = {"Sid": "AllowCopies", "Effect": "Allow", "Principal": {"AWS": OTHER_ROLE}, "Action": "backup:CopyIntoBackupVault", "Resource": "*"}
    assert deletion_protection(policy(allow, deny())) == PROTECTED


# -- not protected ---------------------------------------------------------------------


def test_no_policy():
    assert deletion_protection(None) == DeletionProtection(False, PROTECTED_ACTIONS, "no access policy")


def test_invalid_json():
    assert deletion_protection('{"Statement": [') == DeletionProtection(
        False, PROTECTED_ACTIONS, "policy is not valid JSON"
    )


@pytest.mark.parametrize("document", [[], "[1, 2]", 42])
def test_not_an_object(document):
    assert deletion_protection(document) == DeletionProtection(False, PROTECTED_ACTIONS, "policy is not a JSON object")


def test_no_statement():
    assert deletion_protection({"Version": "2012-10-17"}) == DeletionProtection(
        False, PROTECTED_ACTIONS, NOT_DENIED + f"{ALL_THREE} (the policy has no Statement)"
    )


def test_two_of_the_three_actions():
    result = deletion_protection(policy(deny(Action=[DELETE, LIFECYCLE])))
    assert result == DeletionProtection(False, (PUT_POLICY,), NOT_DENIED + f"{PUT_POLICY} (no Deny statement names it)")


def test_efs_automatic_vault_default_policy_lacks_put_policy():
    """The policy AWS attaches to aws/efs/automatic-backup-vault."""
    efs = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": [
                    "backup:DeleteBackupVault",
                    "backup:DeleteBackupVaultAccessPolicy",
                    "backup:DeleteRecoveryPoint",
                    "backup:StartCopyJob",
                    "backup:StartRestoreJob",
                    "backup:UpdateRecoveryPointLifecycle",
                ],
                "Resource": "*",
            }
        ],
    }
    assert deletion_protection(efs).missing == (PUT_POLICY,)


def test_wildcard_action_does_not_deny():
    document = policy(deny(Action=["backup:Delete*", LIFECYCLE, PUT_POLICY]))
    assert deletion_protection(document) == DeletionProtection(
        False,
        (DELETE,),
        NOT_DENIED + f"{DELETE} (statement 'DenyDeletes': Action 'backup:Delete*' is a wildcard, "
        "which vault access policies do not support in Action)",
    )
    assert wildcard_actions(document) == ["backup:Delete*"]


def test_star_action_does_not_deny():
    result = deletion_protection(policy(deny(Action="*")))
    assert result.protected is False
    assert result.missing == PROTECTED_ACTIONS
    assert result.reason == NOT_DENIED + (
        f"{ALL_THREE} (statement 'DenyDeletes': Action '*' is a wildcard, which vault access policies do not support in Action)"
    )


def test_allow_statements_do_not_protect():
    result = deletion_protection(policy(deny(Effect="Allow")))
    assert result == DeletionProtection(False, PROTECTED_ACTIONS, NOT_DENIED + f"{ALL_THREE} (no Deny statement names it)")


def test_principal_must_be_everyone():
    result = deletion_protection(policy(deny(Principal={"AWS": OTHER_ROLE})))
    assert result == DeletionProtection(
        False,
        PROTECTED_ACTIONS,
        NOT_DENIED + f'{ALL_THREE} (statement \'DenyDeletes\': Principal {{"AWS": "{OTHER_ROLE}"}} is not every principal)',
    )


@pytest.mark.parametrize(
    ("principal", "note"),
    [
        ({"Service": "*"}, 'Principal {"Service": "*"} is not every principal'),
        (["*"], 'Principal ["*"] is not every principal'),
        (..., "has no Principal"),
    ],
)
def test_other_principals(principal, note):
    result = deletion_protection(policy(deny(Principal=principal)))
    assert result.protected is False
    assert result.reason == NOT_DENIED + f"{ALL_THREE} (statement 'DenyDeletes': {note})"


def test_resource_narrowed_to_one_recovery_point():
    arn = "arn:aws:backup:us-east-1:111122223333:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45"
    result = deletion_protection(policy(deny(Resource=arn)))
    assert result == DeletionProtection(
        False,
        PROTECTED_ACTIONS,
        NOT_DENIED
        + f"{DELETE}, {LIFECYCLE} (statement 'DenyDeletes': Resource '{arn}' does not cover every recovery point); "
        f"{PUT_POLICY} (statement 'DenyDeletes': Resource '{arn}' does not cover the vault)",
    )


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:backup:*:*:recovery-point:*",
        "arn:aws:backup:us-east-1:111122223333:recovery-point:*",
        "arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:recovery-point:*",
    ],
)
def test_backup_recovery_point_arns_miss_snapshots_with_service_arns(arn):
    """EBS, RDS... recovery points keep their own ARNs, and PutBackupVaultAccessPolicy acts on the vault."""
    result = deletion_protection(policy(deny(Resource=arn)))
    assert result == DeletionProtection(
        False,
        PROTECTED_ACTIONS,
        NOT_DENIED
        + f"{DELETE}, {LIFECYCLE} (statement 'DenyDeletes': Resource '{arn}' does not cover every recovery point "
        "(EBS, EC2, RDS, Aurora, FSx, Redshift and DynamoDB recovery points keep their service's ARN)); "
        f"{PUT_POLICY} (statement 'DenyDeletes': Resource '{arn}' does not cover the vault)",
    )


@pytest.mark.parametrize(
    ("resource", "covered"),
    [
        ("arn:aws:backup:*:*:backup-vault:*", True),
        ("arn:aws:backup:eu-west-1:111122223333:backup-vault:*", True),  # literal Region/account: the vault's own
        ("arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:backup-vault:*", True),
        ("arn:aws:backup:eu-west-1:111122223333:backup-vault:Vault", False),  # one vault: no wildcard
        ("arn:aws:backup:eu-*:111122223333:backup-vault:*", False),  # some Regions only
        ("arn:aws:backup:*:*:recovery-point:*", False),
    ],
)
def test_put_policy_acts_on_the_vault(resource, covered):
    statement = deny(Action=PUT_POLICY, Resource=resource)
    result = deletion_protection(policy(statement, deny(Sid="Points", Action=[DELETE, LIFECYCLE])))
    assert result.protected is covered
    assert result.missing == (() if covered else (PUT_POLICY,))


def test_resource_list_split_by_type_covers_everything():
    resources = ["arn:aws:backup:*:*:backup-vault:*", "arn:aws:backup:*:*:recovery-point:*", "arn:aws:ec2:*::snapshot/*"]
    assert deletion_protection(policy(deny(Resource=resources))).missing == (DELETE, LIFECYCLE)
    everything = resources + ["arn:aws:ec2:*::image/*", "arn:aws:rds:*", "arn:aws:fsx:*", "arn:aws:redshift:*", "arn:aws:dynamodb:*"]
    assert deletion_protection(policy(deny(Resource=everything))).protected is True


@pytest.mark.parametrize(
    ("overrides", "note"),
    [
        ({"Resource": ...}, "has no Resource"),
        ({"Resource": ..., "NotResource": "arn:aws:backup:*:*:backup-vault:Other"}, "NotResource leaves resources out of the deny"),
        ({"Action": ...}, "has no Action"),
        ({"NotAction": "backup:StartBackupJob"}, "has both Action and NotAction"),
        ({"NotPrincipal": {"AWS": BREAK_GLASS}}, "has both Principal and NotPrincipal"),
    ],
)
def test_malformed_statements_do_not_count(overrides, note):
    result = deletion_protection(policy(deny(**overrides)))
    assert result == DeletionProtection(False, PROTECTED_ACTIONS, NOT_DENIED + f"{ALL_THREE} (statement 'DenyDeletes': {note})")


def test_statement_that_is_not_an_object():
    result = deletion_protection(policy("oops"))
    assert result == DeletionProtection(False, PROTECTED_ACTIONS, NOT_DENIED + f"{ALL_THREE} (statement #1 is not an object)")


def test_effect_must_be_spelled_deny():
    assert deletion_protection(policy(deny(Effect="deny"))).protected is False


# -- NotAction -------------------------------------------------------------------------


def test_not_action_deny_covers_every_unlisted_action():
    statement = deny(Action=..., NotAction=["backup:StartBackupJob", "backup:CopyIntoBackupVault"])
    assert deletion_protection(policy(statement)).protected is True


def test_not_action_listing_a_protected_action():
    statement = deny(Action=..., NotAction=["backup:startbackupjob", "backup:deleterecoverypoint"])
    assert deletion_protection(policy(statement)) == DeletionProtection(
        False, (DELETE,), NOT_DENIED + f"{DELETE} (statement 'DenyDeletes': NotAction lists it)"
    )


def test_not_action_wildcard_is_read_as_leaving_the_action_out():
    statement = deny(Action=..., NotAction="backup:Update*")
    document = policy(statement)
    assert deletion_protection(document) == DeletionProtection(
        False,
        (LIFECYCLE,),
        NOT_DENIED + f"{LIFECYCLE} (statement 'DenyDeletes': NotAction 'backup:Update*' is a wildcard, "
        "which vault access policies do not support in Action; counted as leaving it out)",
    )
    assert wildcard_actions(document) == ["backup:Update*"]


def test_empty_not_action_does_not_count():
    assert deletion_protection(policy(deny(Action=..., NotAction=[]))).protected is False


# -- exempt principals -----------------------------------------------------------------


def test_not_principal_of_exempt_roles():
    statement = deny(Principal=..., NotPrincipal={"AWS": [BREAK_GLASS]})
    assert deletion_protection(policy(statement), [BREAK_GLASS]) == DeletionProtection(
        True, (), DENIED + f"{ALL_THREE} (by statement 'DenyDeletes', except exempt {BREAK_GLASS})"
    )


def test_not_principal_of_a_role_that_is_not_exempt():
    statement = deny(Principal=..., NotPrincipal={"AWS": [BREAK_GLASS, OTHER_ROLE]})
    assert deletion_protection(policy(statement), [BREAK_GLASS]) == DeletionProtection(
        False,
        PROTECTED_ACTIONS,
        NOT_DENIED + f"{ALL_THREE} (statement 'DenyDeletes': NotPrincipal leaves out '{OTHER_ROLE}', "
        "which is not an exempt principal)",
    )


def test_not_principal_without_an_exempt_list():
    statement = deny(Principal=..., NotPrincipal={"AWS": BREAK_GLASS})
    assert deletion_protection(policy(statement)).protected is False


def test_not_principal_star_exempts_everyone():
    statement = deny(Principal=..., NotPrincipal="*")
    result = deletion_protection(policy(statement), ["*"])
    assert result.protected is False
    assert result.reason.endswith("(statement 'DenyDeletes': NotPrincipal '*' leaves out every principal)")


def test_exempt_list_in_config_csv_form():
    statement = deny(Principal=..., NotPrincipal={"AWS": [BREAK_GLASS, OTHER_ROLE]})
    assert deletion_protection(policy(statement), f"{BREAK_GLASS}, {OTHER_ROLE}").protected is True


@pytest.mark.parametrize("operator", ["ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike", "ArnNotEqualsIfExists"])
def test_principal_arn_exclusion_of_exempt_roles(operator):
    statement = deny(Condition={operator: {"aws:PrincipalArn": [BREAK_GLASS]}})
    assert deletion_protection(policy(statement), [BREAK_GLASS]) == DeletionProtection(
        True, (), DENIED + f"{ALL_THREE} (by statement 'DenyDeletes', except exempt {BREAK_GLASS})"
    )


def test_principal_arn_condition_key_is_case_insensitive():
    statement = deny(Condition={"ArnNotEquals": {"AWS:PrincipalARN": BREAK_GLASS}})
    assert deletion_protection(policy(statement), [BREAK_GLASS]).protected is True


def test_principal_arn_exclusion_of_a_role_that_is_not_exempt():
    statement = deny(Condition={"ArnNotEquals": {"aws:PrincipalArn": [BREAK_GLASS, OTHER_ROLE]}})
    assert deletion_protection(policy(statement), [BREAK_GLASS]) == DeletionProtection(
        False,
        PROTECTED_ACTIONS,
        NOT_DENIED + f"{ALL_THREE} (statement 'DenyDeletes': Condition ArnNotEquals aws:PrincipalArn leaves out "
        f"'{OTHER_ROLE}', which is not an exempt principal)",
    )


def test_principal_arn_pattern_counts_only_when_the_same_pattern_is_exempt():
    pattern = "arn:aws:iam::111122223333:role/BreakGlass*"
    statement = deny(Condition={"ArnNotLike": {"aws:PrincipalArn": pattern}})
    assert deletion_protection(policy(statement), [pattern]).protected is True
    assert deletion_protection(policy(statement), [BREAK_GLASS]).protected is False


def test_principal_arn_star_pattern_exempts_everyone():
    statement = deny(Condition={"StringNotLike": {"aws:PrincipalArn": "*"}})
    assert deletion_protection(policy(statement), ["*"]).protected is False


def test_user_id_exclusion_is_not_enough():
    """The AWS knowledge-center example: StringNotEquals aws:userId."""
    statement = deny(Condition={"StringNotEquals": {"aws:userId": ["AAAAAAAAAAAAAAAAAAAAA:*", "112233445566"]}})
    assert deletion_protection(policy(statement), ["AAAAAAAAAAAAAAAAAAAAA:*", "112233445566"]) == DeletionProtection(
        False,
        PROTECTED_ACTIONS,
        NOT_DENIED + f"{ALL_THREE} (statement 'DenyDeletes': Condition StringNotEquals aws:userId limits when the deny "
        "applies, so it does not count)",
    )


def test_source_vpc_condition_does_not_count():
    statement = deny(Condition={"StringEquals": {"aws:SourceVpc": "vpc-0123456789abcdef0"}})
    assert deletion_protection(policy(statement)) == DeletionProtection(
        False,
        PROTECTED_ACTIONS,
        NOT_DENIED + f"{ALL_THREE} (statement 'DenyDeletes': Condition StringEquals aws:SourceVpc limits when the deny "
        "applies, so it does not count)",
    )


def test_exemption_combined_with_another_condition_does_not_count():
    condition = {"ArnNotEquals": {"aws:PrincipalArn": BREAK_GLASS}, "Bool": {"aws:MultiFactorAuthPresent": "false"}}
    result = deletion_protection(policy(deny(Condition=condition)), [BREAK_GLASS])
    assert result.protected is False
    assert "Condition Bool aws:MultiFactorAuthPresent limits when the deny applies" in result.reason


def test_conditional_deny_next_to_an_unconditional_one():
    conditional = deny(Sid="OnlyFromVpc", Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}})
    assert deletion_protection(policy(conditional, deny())) == PROTECTED


def test_empty_condition_is_no_condition():
    assert deletion_protection(policy(deny(Condition={}))) == PROTECTED


# -- values the template does not determine --------------------------------------------


def test_unknown_policy():
    unknown = Unknown("parameter 'VaultPolicy' has no default and no value was given", refs=("Vault",))
    result = deletion_protection(unknown)
    assert result.protected == Unknown("parameter 'VaultPolicy' has no default and no value was given", ("Vault",))
    assert result.missing == ()
    assert result.reason == "access policy is unknown (parameter 'VaultPolicy' has no default and no value was given)"


def test_policy_known_only_after_deployment():
    result = deletion_protection(Reference("PolicyMaker", "Document", "Custom::Policy"))
    assert result.protected == Unknown("access policy is 'PolicyMaker.Document', known only after deployment", ("PolicyMaker",))
    assert result.missing == ()


def test_unknown_policy_whose_candidates_all_protect():
    unknown = Unknown("condition 'Prod' is undetermined", candidates=(policy(deny()), json.dumps(policy(deny()))))
    assert deletion_protection(unknown) == DeletionProtection(True, (), "in every case the template allows, " + PROTECTED.reason)


def test_unknown_policy_that_may_be_absent():
    unknown = Unknown("condition 'Prod' is undetermined", candidates=(policy(deny()),), may_be_absent=True)
    result = deletion_protection(unknown)
    assert result.protected == Unknown("condition 'Prod' is undetermined")
    assert result.reason == "access policy is unknown (condition 'Prod' is undetermined)"


def test_unknown_policy_whose_candidates_all_fail():
    unknown = Unknown("condition 'Prod' is undetermined", candidates=(policy(deny(Action=DELETE)), None))
    assert deletion_protection(unknown) == DeletionProtection(
        False,
        PROTECTED_ACTIONS,  # LIFECYCLE and PUT_POLICY with the first policy, all three without a policy
        "in every case the template allows, " + NOT_DENIED + f"{LIFECYCLE}, {PUT_POLICY} (no Deny statement names it)",
    )


def test_unknown_principal_in_the_only_deny():
    principal = Unknown("parameter 'Who' has no default and no value was given")
    result = deletion_protection(policy(deny(Principal=principal)))
    note = "statement 'DenyDeletes': Principal is unknown (parameter 'Who' has no default and no value was given)"
    assert result == DeletionProtection(Unknown(note), (), UNDECIDED + f"{ALL_THREE} ({note})")


def test_unknown_principal_next_to_a_full_deny():
    principal = Unknown("parameter 'Who' has no default and no value was given")
    result = deletion_protection(policy(deny(Sid="Maybe", Principal=principal), deny()))
    assert result == PROTECTED


def test_unknown_principal_but_an_action_certainly_missing():
    principal = Unknown("parameter 'Who' has no default and no value was given")
    result = deletion_protection(policy(deny(Principal=principal, Action=[DELETE, LIFECYCLE])))
    assert result == DeletionProtection(False, (PUT_POLICY,), NOT_DENIED + f"{PUT_POLICY} (no Deny statement names it)")


def test_unknown_principal_with_candidates_that_agree():
    principal = Unknown("condition 'Prod' is undetermined", candidates=("*", {"AWS": "*"}))
    assert deletion_protection(policy(deny(Principal=principal))) == PROTECTED
    principal = Unknown("condition 'Prod' is undetermined", candidates=("*", {"AWS": OTHER_ROLE}))
    assert deletion_protection(policy(deny(Principal=principal))).protected == Unknown(
        "statement 'DenyDeletes': Principal is unknown (condition 'Prod' is undetermined)"
    )


def test_principal_that_is_a_role_of_the_template_is_not_everyone():
    role = Reference("Operator", "Arn", "AWS::IAM::Role")
    assert deletion_protection(policy(deny(Principal={"AWS": role}))).protected is False
    assert deletion_protection(policy(deny(Principal=role))).protected is False


def test_principal_from_another_resource_is_unknown():
    value = Reference("Lookup", "Principal", "Custom::Lookup")
    result = deletion_protection(policy(deny(Principal={"AWS": value})))
    note = "statement 'DenyDeletes': Principal AWS is 'Lookup.Principal', known only after deployment"
    assert result.protected == Unknown(note, ("Lookup",))
    assert result.reason == UNDECIDED + f"{ALL_THREE} ({note})"


def test_unknown_effect():
    effect = Unknown("condition 'Strict' is undetermined", candidates=("Deny", "Allow"))
    result = deletion_protection(policy(deny(Effect=effect)))
    assert result.protected == Unknown("statement 'DenyDeletes': Effect is unknown (condition 'Strict' is undetermined)")


def test_unknown_action_entry():
    action = Unknown("parameter 'Extra' has no value")
    result = deletion_protection(policy(deny(Action=[DELETE, LIFECYCLE, action])))
    assert result.missing == ()
    assert result.reason == UNDECIDED + f"{PUT_POLICY} (statement 'DenyDeletes': Action is unknown (parameter 'Extra' has no value))"
    action = Unknown("condition 'X' is undetermined", candidates=(PUT_POLICY, PUT_POLICY.lower()))
    assert deletion_protection(policy(deny(Action=[DELETE, LIFECYCLE, action]))).protected is True


def test_unknown_resource_entry_next_to_a_covering_one():
    resource = Unknown("Fn::Sub 'arn:aws:backup:${AWS::Region}:${AWS::AccountId}:backup-vault:${Vault}'", refs=("Vault",))
    result = deletion_protection(policy(deny(Resource=["*", resource])))
    assert result == PROTECTED
    result = deletion_protection(policy(deny(Resource=["arn:aws:backup:*:*:recovery-point:*", resource])))
    assert isinstance(result.protected, Unknown)
    assert result.protected.refs == ("Vault",)
    assert result.missing == ()


def test_unknown_condition_value_of_an_exemption():
    statement = deny(Condition={"ArnNotEquals": {"aws:PrincipalArn": Unknown("parameter 'Admin' has no value")}})
    result = deletion_protection(policy(statement), [BREAK_GLASS])
    note = "statement 'DenyDeletes': Condition ArnNotEquals aws:PrincipalArn is unknown (parameter 'Admin' has no value)"
    assert result == DeletionProtection(Unknown(note), (), UNDECIDED + f"{ALL_THREE} ({note})")


def test_unknown_value_in_a_condition_that_never_counts():
    statement = deny(Condition={"StringEquals": {"aws:SourceVpc": Unknown("parameter 'Vpc' has no value")}})
    assert deletion_protection(policy(statement)).protected is False


def test_unknown_statement():
    result = deletion_protection(policy(Unknown("Fn::If on an undetermined condition")))
    assert result.protected == Unknown("statement #1 is unknown (Fn::If on an undetermined condition)")
    result = deletion_protection(policy(Unknown("Fn::If on an undetermined condition"), deny()))
    assert result == PROTECTED


def test_unknown_statement_list():
    result = deletion_protection({"Version": "2012-10-17", "Statement": Unknown("Fn::Split of an import")})
    assert result.protected == Unknown("Statement is unknown (Fn::Split of an import)")


# -- wildcard_actions ------------------------------------------------------------------


def test_wildcard_actions_in_order_without_repeats():
    document = policy(
        deny(Action=["backup:Delete*", LIFECYCLE]),
        {"Effect": "Allow", "Principal": "*", "Action": ["backup:Describe?ackupVault", "backup:Delete*"], "Resource": "*"},
        deny(Sid="Rest", Action=..., NotAction="backup:Start*"),
    )
    assert wildcard_actions(document) == ["backup:Delete*", "backup:Describe?ackupVault", "backup:Start*"]
    assert wildcard_actions(json.dumps(document)) == ["backup:Delete*", "backup:Describe?ackupVault", "backup:Start*"]


@pytest.mark.parametrize(
    "document",
    [
        None,
        "not json",
        policy(deny()),
        {"Statement": "nonsense"},
    ],
)
def test_no_wildcard_actions(document):
    assert wildcard_actions(document) == []


@pytest.mark.parametrize(
    "document",
    [
        Unknown("parameter 'Policy' has no value"),
        Reference("Doc", "Value", "Custom::Doc"),
        policy(deny(Action=[Unknown("parameter 'A' has no value"), DELETE])),
    ],
)
def test_wildcard_actions_of_an_undetermined_policy_are_unknown(document):
    assert isinstance(wildcard_actions(document), Unknown)


def test_a_known_wildcard_beside_an_unknown_action_is_reported():
    document = policy(deny(Action=[Unknown("parameter 'A' has no value"), "backup:Delete*"]))
    assert wildcard_actions(document) == ["backup:Delete*"]


def test_wildcard_actions_of_a_single_statement_object():
    assert wildcard_actions({"Statement": deny(Action="*")}) == ["*"]


def test_wildcard_actions_of_an_unknown_policy_are_those_every_candidate_has():
    first = policy(deny(Action=["backup:Delete*", "backup:Update*"]))
    second = policy(deny(Action=["backup:Update*"]))
    assert wildcard_actions(Unknown("condition 'X' is undetermined", candidates=(first, second))) == ["backup:Update*"]
    absent = Unknown("condition 'X' is undetermined", candidates=(first,), may_be_absent=True)
    assert isinstance(wildcard_actions(absent), Unknown)
    clean = Unknown("condition 'X' is undetermined", candidates=(policy(deny()), policy(deny(Action=DELETE))))
    assert wildcard_actions(clean) == []


# -- from a CloudFormation template ----------------------------------------------------

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Locked:
    Type: String
    AllowedValues: ["yes", "no"]
  BreakGlassArn:
    Type: String
Conditions:
  IsLocked: !Equals [!Ref Locked, "yes"]
Resources:
  Operator:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
  Vault:
    Type: AWS::Backup::BackupVault
    Properties:
      BackupVaultName: vault
      AccessPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyDeletes
            Effect: Deny
            Principal: !If [IsLocked, "*", {AWS: !GetAtt Operator.Arn}]
            Action: [backup:DeleteRecoveryPoint, backup:UpdateRecoveryPointLifecycle, backup:PutBackupVaultAccessPolicy]
            Resource: "*"
            Condition:
              ArnNotEquals:
                aws:PrincipalArn: !Ref BreakGlassArn
"""


def vault_policy(tmp_path, **parameters):
    path = tmp_path / "vault.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    estate = parse_template(str(path), TEMPLATE, CfnOptions(parameters=parameters))
    return estate.vaults[0].access_policy


def test_template_with_undetermined_condition_and_parameter(tmp_path):
    result = deletion_protection(vault_policy(tmp_path), [BREAK_GLASS])
    assert isinstance(result.protected, Unknown)
    assert result.protected.reason.startswith("statement 'DenyDeletes': Principal is unknown (condition 'IsLocked'")


def test_template_locked_with_exempt_break_glass_role(tmp_path):
    document = vault_policy(tmp_path, Locked="yes", BreakGlassArn=BREAK_GLASS)
    assert deletion_protection(document, [BREAK_GLASS]).protected is True
    assert deletion_protection(document).protected is False


def test_template_unlocked_denies_only_a_role(tmp_path):
    document = vault_policy(tmp_path, Locked="no", BreakGlassArn=BREAK_GLASS)
    result = deletion_protection(document, [BREAK_GLASS])
    assert result.protected is False
    assert result.missing == PROTECTED_ACTIONS
    assert result.reason == NOT_DENIED + f'{ALL_THREE} (statement \'DenyDeletes\': Principal {{"AWS": "Operator.Arn"}} is not every principal)'
