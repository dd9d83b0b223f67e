from aws_cdk.assertions import Template

from shipyard.blueprint.identity import Identity

from .helpers import as_list, bare_stack, only


def _template(existing: str | None = None) -> Template:
    stack = bare_stack()
    Identity(stack, "I", github_repository="acme/webapp", environment="production", stack_prefix="webapp-production",
             repository_arn="arn:aws:ecr:eu-west-1:123456789012:repository/webapp/production",
             image_parameter="/shipyard/webapp/production/image",
             release_history_parameter="/shipyard/webapp/production/releases",
             release_lock_parameter="/shipyard/webapp/production/release-lock",
             site_bucket="webapp-production-site-123456789012", log_group="/shipyard/webapp/production/service",
             role_name="webapp-production-github-deploy", existing_provider_arn=existing)
    return Template.from_stack(stack)


def _deploy_role(template: Template) -> dict:
    roles = template.find_resources("AWS::IAM::Role")
    return next(r["Properties"] for r in roles.values() if r["Properties"].get("RoleName") == "webapp-production-github-deploy")


def test_trust_policy_exact_subject_and_audience():
    trust = _deploy_role(_template())["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1
    condition = trust[0]["Condition"]
    assert set(condition) == {"StringEquals"}  # no StringLike, no ForAllValues
    assert condition["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:acme/webapp:environment:production",
    }
    assert trust[0]["Action"] == "sts:AssumeRoleWithWebIdentity"


def test_native_oidc_provider_or_import():
    created = _template()
    provider = only(created, "AWS::IAM::OIDCProvider")
    assert provider["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["ClientIdList"] == ["sts.amazonaws.com"]
    created.resource_count_is("AWS::Lambda::Function", 0)
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    imported = _template(existing=arn)
    imported.resource_count_is("AWS::IAM::OIDCProvider", 0)
    principal = _deploy_role(imported)["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Federated": arn}


def test_no_wildcard_action_on_wildcard_resource():
    template = _template()
    allowed_star = {"ecr:GetAuthorizationToken", "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
                    "ecs:DescribeTaskDefinition", "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:DescribeTargetGroups", "cloudwatch:DescribeAlarms"}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = as_list(statement["Action"])
            assert not any(a == "*" or a.endswith(":*") for a in actions), statement
            if statement["Resource"] == "*":
                assert set(actions) <= allowed_star, statement
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_deploy_role_scoped_to_own_environment():
    template = _template()
    text = str(template.find_resources("AWS::IAM::Policy"))
    assert "webapp/production" in text
    assert "stack/webapp-production-*/*" in text
    assert "iam:PassedToService" in text
