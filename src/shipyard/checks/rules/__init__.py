"""shipyard's own rules, one per module; RULES lists them in id order."""

from shipyard.checks.rules import (
    bucket_policy_source_arn,
    cloudfront_s3_origin_oac,
    cloudfront_viewer_https,
    ecr_immutable_scan,
    ecs_circuit_breaker,
    ecs_plain_secrets,
    iam_admin,
    load_balancer_exposure,
    log_retention,
    oidc_trust_subject,
    production_web_acl,
    s3_public_access,
    target_group_rollout,
)

RULES = sorted(
    (module.RULE for module in (
        s3_public_access, cloudfront_s3_origin_oac, bucket_policy_source_arn, cloudfront_viewer_https,
        production_web_acl, load_balancer_exposure, oidc_trust_subject, iam_admin, ecr_immutable_scan,
        ecs_plain_secrets, ecs_circuit_breaker, target_group_rollout, log_retention,
    )),
    key=lambda rule: rule.id,
)
