import json

from aws_cdk.assertions import Template

from shipyard.blueprint.registry import Registry

from .helpers import bare_stack, only


def _repository(retain: bool) -> tuple[dict, dict]:
    stack = bare_stack()
    Registry(stack, "R", repository_name="webapp/staging", keep_images=7, retain=retain)
    template = Template.from_stack(stack)
    resource = next(iter(template.find_resources("AWS::ECR::Repository").values()))
    return resource, only(template, "AWS::ECR::Repository")


def test_immutable_tags_and_scan_on_push():
    _, props = _repository(retain=False)
    assert props["RepositoryName"] == "webapp/staging"
    assert props["ImageTagMutability"] == "IMMUTABLE"
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}


def test_lifecycle_expires_untagged_and_keeps_last_n():
    _, props = _repository(retain=False)
    rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    untagged = next(r for r in rules if r["selection"]["tagStatus"] == "untagged")
    any_tag = next(r for r in rules if r["selection"]["tagStatus"] == "any")
    assert untagged["selection"]["countType"] == "sinceImagePushed"
    assert any_tag["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 7}
    assert any_tag["rulePriority"] > untagged["rulePriority"]


def test_retained_only_where_deletion_protection_is_on():
    kept, _ = _repository(retain=True)
    gone, gone_props = _repository(retain=False)
    assert kept["DeletionPolicy"] == "Retain"
    assert gone["DeletionPolicy"] == "Delete"
    assert gone_props["EmptyOnDelete"] is True
