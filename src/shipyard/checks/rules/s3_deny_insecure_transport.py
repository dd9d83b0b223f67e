from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, as_list, statements
from shipyard.checks.live import LiveEnvironment, LiveFinding


def denies_insecure_transport(document) -> bool:
    """A Deny of every S3 action when aws:SecureTransport is false."""
    for statement in statements(document):
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        secure = {k.lower(): v for k, v in condition.items()}.get("aws:securetransport")
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false" and "s3:*" in as_list(statement.get("Action")):
            return True
    return False


class S3DenyInsecureTransport(Rule):
    id = "SY-E107"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "Bucket policy without a deny of requests not made over TLS"
    long = "Every bucket policy must deny s3:* when aws:SecureTransport is false, so no request reaches the bucket in plain HTTP."
    rationale = "Without it, credentials and objects can travel unencrypted between a client and S3."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::S3::BucketPolicy"):
            if not denies_insecure_transport(props.get("PolicyDocument")):
                yield Violation(logical_id, "no Deny of s3:* with aws:SecureTransport false")

    verify_title = "bucket denies requests without TLS"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        ok = denies_insecure_transport(live.bucket_policy)
        return LiveFinding(ok, f"s3://{live.bucket} policy",
                           "denies s3:* when aws:SecureTransport is false" if ok else "no Deny of requests without TLS")


RULE = S3DenyInsecureTransport()
