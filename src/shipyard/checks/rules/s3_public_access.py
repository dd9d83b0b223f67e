from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, as_list, statements
from shipyard.checks.live import LiveEnvironment, LiveFinding

_PUBLIC_ACLS = {"PublicRead", "PublicReadWrite", "AuthenticatedRead"}
_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
# Conditions that pin an otherwise public principal to one caller.
_SCOPING_KEYS = {"aws:sourcearn", "aws:sourceaccount", "aws:sourcevpce", "aws:principalorgid", "aws:principalaccount"}


def _public_principal(principal) -> bool:
    return principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS")))


class S3PublicAccess(Rule):
    id = "SY-E101"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "S3 bucket is public (ACL, missing public access block, or public policy)"
    long = ("A bucket must block all public access, carry no public canned ACL, and its policy may allow '*' only "
            "with a condition that pins the caller (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, ...).")
    rationale = "The reference design shipped a public-read site bucket; the site must be reachable only through CloudFront."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::S3::Bucket"):
            if props.get("AccessControl") in _PUBLIC_ACLS:
                yield Violation(logical_id, f"canned ACL {props['AccessControl']} makes objects public")
            block = props.get("PublicAccessBlockConfiguration") or {}
            off = [flag for flag in _FLAGS if block.get(flag) is not True]
            if off:
                yield Violation(logical_id, f"public access block is off for {', '.join(off)}")
        for logical_id, props in view.resources("AWS::S3::BucketPolicy"):
            for statement in statements(props.get("PolicyDocument")):
                if statement.get("Effect") != "Allow" or not _public_principal(statement.get("Principal")):
                    continue
                keys = {k.lower() for condition in (statement.get("Condition") or {}).values() for k in condition}
                if not keys & _SCOPING_KEYS:
                    yield Violation(logical_id, "policy allows any principal ('*') without a condition pinning the caller")

    verify_title = "site bucket is private"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        s3 = live.aws.s3(live.region)
        off = [flag for flag, on in s3.public_access_block(live.bucket).items() if not on]
        foreign = [grant.grantee for grant in s3.grants(live.bucket) if not grant.is_owner]
        detail = "public access block all on, no ACL grants beyond the owner"
        if off:
            detail = f"public access block off: {', '.join(off)}"
        elif foreign:
            detail = f"ACL grants to {', '.join(foreign)}"
        return LiveFinding(not off and not foreign, f"s3://{live.bucket}", detail)


RULE = S3PublicAccess()
