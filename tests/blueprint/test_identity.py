from aws_cdk.assertions import Template

from shipyard.blueprint.identity import NO_RESOURCE_SCOPE, Identity
from shipyard.naming import Names

from .helpers import as_list, bare_stack, only


def _template(existing: str | None = None) -> Template:
    stack = bare_stack()
    Identity(stack, "I", subject="repo:acme/webapp:environment:production", names=Names("webapp", "production", "123456789012"),
             repository_arn="arn:aws:ecr:eu-west-1:123456789012:repository/webapp/production", existing_provider_arn=existing)
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
    allowed_star = set(NO_RESOURCE_SCOPE)
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
    assert "stack/webapp-production-*/*" in text and "stack/webapp-production-service/*" in text
    assert "iam:PassedToService" in text
    writes = [s for p in template.find_resources("AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
              if "cloudformation:ExecuteChangeSet" in as_list(s["Action"])]
    assert len(writes) == 1 and "webapp-production-service/*" in str(writes[0]["Resource"])  # no other stack
    assert "webapp-production-*" not in str([s["Resource"] for s in writes])


def test_pass_role_names_the_exact_roles():
    template = _template()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "iam:PassRole" in as_list(statement["Action"]):
                resources = str(statement["Resource"])
                assert "*" not in resources and "github-deploy" not in resources, statement
                assert statement["Condition"]["StringEquals"]["iam:PassedToService"] in ("ecs-tasks.amazonaws.com", "ecs.amazonaws.com")
