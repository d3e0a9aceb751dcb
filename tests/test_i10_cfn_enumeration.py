"""Issue 10 items 2, 3 and 6: CloudFormation values narrowed down by parameters' constraints and
Region/account-keyed mappings, and partly known copy destinations."""

from __future__ import annotations

from backupguard.estate import Unknown, never_pseudo
from backupguard.resolve.links import _field
from backupguard.resolve.plans import crosses
from backupguard.scanner.cloudformation.intrinsics import TemplateContext
from backupguard.scanner.cloudformation.loader import load_text

TEMPLATE = """
Parameters:
  Days: {Type: Number, AllowedValues: [35, 90]}
  Short: {Type: Number, MinValue: 1, MaxValue: 7}
  Wide: {Type: Number, MinValue: 1, MaxValue: 36500}
  Tier: {Type: String, AllowedValues: [gold, silver, x1], AllowedPattern: "[a-z]+"}
  Evil: {Type: String, AllowedValues: [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab], AllowedPattern: "(a+)+$"}
  Instance: {Type: "AWS::EC2::Instance::Id"}
Mappings:
  Dr:
    us-east-1: {Region: us-west-2}
    eu-west-1: {Region: eu-central-1}
  Same:
    us-east-1: {Region: us-east-1}
    eu-west-1: {Region: eu-west-1}
Resources: {}
"""


def _context(**kwargs) -> TemplateContext:
    return TemplateContext(load_text(TEMPLATE), **kwargs)


def _eval(ctx: TemplateContext, text: str):
    return ctx.resolve(load_text("V: " + text)["V"])


def test_allowed_values_and_ranges_become_candidates():
    ctx = _context()
    assert ctx.parameters["Days"].candidates == (35, 90)
    assert ctx.parameters["Short"].candidates == tuple(range(1, 8))
    assert ctx.parameters["Wide"].candidates == ()  # too many to list
    assert ctx.parameters["Tier"].candidates == ("gold", "silver")  # AllowedPattern refuses x1
    assert ctx.parameters["Evil"].candidates == ()  # RE2: no backtracking, and the pattern refuses it
    assert ctx.parameters["Instance"].candidates == ()


def test_given_value_wins_over_constraints():
    assert _context(parameter_values={"Days": "35"}).parameters["Days"] == 35


def test_findinmap_by_region():
    ctx = _context()
    other = _eval(ctx, "!FindInMap [Dr, !Ref AWS::Region, Region]")
    assert other.candidates == ("us-west-2", "eu-central-1") and never_pseudo(other) == "AWS::Region"
    assert _eval(ctx, "!FindInMap [Same, !Ref AWS::Region, Region]") == "${AWS::Region}"
    assert _eval(_context(region="eu-west-1"), "!FindInMap [Dr, !Ref AWS::Region, Region]") == "eu-central-1"


def test_sub_of_bounded_holes_has_candidates_and_marks_elsewhere():
    ctx = _context()
    value = _eval(ctx, '!Sub ["arn:aws:backup:${R}:${AWS::AccountId}:backup-vault:dr", {R: !FindInMap [Dr, !Ref AWS::Region, Region]}]')
    assert value.candidates == (
        "arn:aws:backup:us-west-2:${AWS::AccountId}:backup-vault:dr",
        "arn:aws:backup:eu-central-1:${AWS::AccountId}:backup-vault:dr",
    )
    assert value.text == "arn:aws:backup:${not AWS::Region}:${AWS::AccountId}:backup-vault:dr"


def test_partly_known_destination_fields_do_not_leak():
    arn = Unknown("account unknown", text="arn:aws:backup:${AWS::Region}:${Dr}:backup-vault:dr")
    assert _field("${AWS::Region}", arn, None, 0) is None
    assert isinstance(_field("${Dr}", arn, None, 1), Unknown)
    elsewhere = _field("${not AWS::Region}", arn, None, 0)
    assert crosses(elsewhere, None, "Region") is True
    assert isinstance(crosses(elsewhere, None, "account"), Unknown)


IF_TEMPLATE = """
Conditions:
  IsPrimary: !Equals [!Ref "AWS::Region", us-east-1]
  IsOther: !Not [!Condition IsPrimary]
  Named: !Equals [!Sub "${AWS::Region}-x", us-east-1-x]
Resources: {}
"""


def test_if_on_region_condition_marks_each_branch():
    ctx = TemplateContext(load_text(IF_TEMPLATE))
    swap = _eval(ctx, '!If [IsPrimary, "arn:aws:backup:us-west-2:1:backup-vault:dr", "arn:aws:backup:us-east-1:1:backup-vault:dr"]')
    assert swap == "arn:aws:backup:${not AWS::Region}:1:backup-vault:dr"
    own = _eval(ctx, '!If [IsOther, !Sub "arn:aws:backup:${AWS::Region}:1:backup-vault:dr", "arn:aws:backup:us-east-1:1:backup-vault:dr"]')
    assert own == "arn:aws:backup:${AWS::Region}:1:backup-vault:dr"
    # the true branch sees the Region; the condition cache is not polluted by it
    assert _eval(ctx, '!If [IsPrimary, !Ref "AWS::Region", other]').candidates == ("us-east-1", "other")
    assert isinstance(ctx.condition("IsPrimary"), Unknown)
    # a condition that is not a plain comparison of the Region keeps both branches as they are
    assert _eval(ctx, '!If [Named, "arn:aws:backup:us-west-2:1:backup-vault:dr", x]').candidates[0].startswith("arn:aws:backup:us-west-2")
    # with --region the condition is decided as before
    decided = TemplateContext(load_text(IF_TEMPLATE), region="eu-west-1")
    assert _eval(decided, '!If [IsPrimary, a, b]') == "b"


def test_aws_typed_parameter_has_no_wildcard_but_a_string_may():
    ctx = _context()
    assert ctx.parameters["Instance"].text == "${Instance}"
    typed = _eval(ctx, '!Sub "arn:aws:ec2:${AWS::Region}:1:instance/${Instance}"')
    assert typed.text == "arn:aws:ec2:${AWS::Region}:1:instance/${Instance}"
    assert _eval(ctx, '!Sub "arn:aws:s3:::${Tier}-logs"').text == "arn:aws:s3:::${Tier}-logs"  # gold or silver
    loose = TemplateContext(load_text("Parameters: {Name: {Type: String}}\nResources: {}\n"))
    assert _eval(loose, '!Sub "arn:aws:s3:::${Name}"').text is None  # Name may be "*"
    assert _eval(loose, '!Sub "arn:aws:backup:${AWS::Region}:${Name}:backup-vault:v"').text is not None
