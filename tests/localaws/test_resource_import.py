"""Moving a resource between stacks on the embedded AWS, as CloudFormation documents it ("Move resources between
stacks"; "Resource import considerations"): Retain, remove, import. Each refusal AWS makes is made here too, and
the data stays where it was throughout."""

from __future__ import annotations

import json
import time

import pytest

from shipyard.aws import Aws
from shipyard.aws.session import AwsError

REGION = "eu-west-1"
BUCKET, REPOSITORY = "copilot-shop-test-www", "shop/api"


@pytest.fixture(scope="module")
def aws(local_aws) -> Aws:
    from shipyard.app.target import embedded

    return Aws(embedded(local_aws.endpoint), "444444444446")


def _settled(aws: Aws, stack: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = aws.call("cloudformation", "DescribeStacks", REGION, StackName=stack)["Stacks"][0]["StackStatus"]
        if not state.endswith("IN_PROGRESS"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"{stack} still in progress")


def _template(resources: dict) -> str:
    return json.dumps({"Resources": resources})


SOURCE = {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}},
          "Repository": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": REPOSITORY}},
          "Queue": {"Type": "AWS::SQS::Queue"}}


def _import(aws: Aws, stack: str, resources: dict, imports: list[tuple[str, str, dict]], name: str = "adopt") -> dict:
    return aws.call("cloudformation", "CreateChangeSet", REGION, StackName=stack, ChangeSetName=name, ChangeSetType="IMPORT",
                    TemplateBody=_template(resources),
                    ResourcesToImport=[{"ResourceType": t, "LogicalResourceId": logical, "ResourceIdentifier": identifier}
                                       for logical, t, identifier in imports])


def _refused(aws: Aws, *args, **kwargs) -> str:
    with pytest.raises(AwsError) as refused:
        _import(aws, *args, **kwargs)
    return str(refused.value)


def test_a_retained_resource_moves_to_another_stack_with_its_data_and_the_refusals_on_the_way(aws):
    aws.call("cloudformation", "CreateStack", REGION, StackName="copilot-src", TemplateBody=_template(SOURCE))
    assert _settled(aws, "copilot-src") == "CREATE_COMPLETE"
    aws.call("s3", "PutObject", REGION, Bucket=BUCKET, Key="index.html", Body=b"<h1>shop</h1>")
    site = {"SiteBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {"BucketName": BUCKET}}}
    identifier = [("SiteBucket", "AWS::S3::Bucket", {"BucketName": BUCKET})]

    # Still in its stack: another stack cannot take it.
    assert "already exists in stack" in _refused(aws, "shipyard-new", site, identifier)

    # Step 1: Retain. Step 2: remove it from the template; CloudFormation skips its deletion.
    retained = {**SOURCE, "Bucket": {**SOURCE["Bucket"], "DeletionPolicy": "Retain"},
                "Repository": {**SOURCE["Repository"], "DeletionPolicy": "Retain"}}
    aws.call("cloudformation", "UpdateStack", REGION, StackName="copilot-src", TemplateBody=_template(retained))
    assert _settled(aws, "copilot-src") == "UPDATE_COMPLETE"
    aws.call("cloudformation", "UpdateStack", REGION, StackName="copilot-src", TemplateBody=_template({"Queue": SOURCE["Queue"]}))
    assert _settled(aws, "copilot-src") == "UPDATE_COMPLETE"
    events = aws.call("cloudformation", "DescribeStackEvents", REGION, StackName="copilot-src")["StackEvents"]
    assert {(e["LogicalResourceId"], e["ResourceStatus"]) for e in events} >= {("Bucket", "DELETE_SKIPPED"), ("Repository", "DELETE_SKIPPED")}
    assert aws.call("s3", "ListObjectsV2", REGION, Bucket=BUCKET)["KeyCount"] == 1

    # Step 3, refused as CloudFormation refuses it: no DeletionPolicy, an identifier the template contradicts, a
    # resource that does not exist, a type the emulator cannot import, other changes in the same template.
    without_policy = {"SiteBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}}}
    assert "must have a DeletionPolicy" in _refused(aws, "shipyard-new", without_policy, identifier)
    other_name = {"SiteBucket": {**site["SiteBucket"], "Properties": {"BucketName": "another-name"}}}
    assert "does not match its identifier" in _refused(aws, "shipyard-new", other_name, identifier)
    missing = [("SiteBucket", "AWS::S3::Bucket", {"BucketName": "no-such-bucket"})]
    assert "no AWS::S3::Bucket with BucketName 'no-such-bucket' exists" in _refused(
        aws, "shipyard-new", {"SiteBucket": {**site["SiteBucket"], "Properties": {}}}, missing)
    with_more = {**site, "Extra": {"Type": "AWS::SQS::Queue"}}
    assert "can only import: the template also adds, changes or removes Extra" in _refused(aws, "shipyard-new", with_more, identifier)

    # A new stack that holds only what it imports.
    change_set = _import(aws, "shipyard-new", site, identifier)
    described = aws.call("cloudformation", "DescribeChangeSet", REGION, ChangeSetName=change_set["Id"])
    assert [c["ResourceChange"]["Action"] for c in described["Changes"]] == ["Import"]
    aws.call("cloudformation", "ExecuteChangeSet", REGION, ChangeSetName=change_set["Id"])
    assert _settled(aws, "shipyard-new") == "IMPORT_COMPLETE"
    resources = aws.call("cloudformation", "DescribeStackResources", REGION, StackName="shipyard-new")["StackResources"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources] == [("SiteBucket", BUCKET)]

    # An existing stack takes the repository beside what it has.
    repository = {"Images": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain", "Properties": {"RepositoryName": REPOSITORY}}}
    change_set = _import(aws, "shipyard-new", {**site, **repository}, [("Images", "AWS::ECR::Repository", {"RepositoryName": REPOSITORY})],
                         name="adopt-repository")
    aws.call("cloudformation", "ExecuteChangeSet", REGION, ChangeSetName=change_set["Id"])
    assert _settled(aws, "shipyard-new") == "IMPORT_COMPLETE"

    # The source stack goes; what moved stays, with its data.
    aws.call("cloudformation", "DeleteStack", REGION, StackName="copilot-src")
    assert aws.call("s3", "GetObject", REGION, Bucket=BUCKET, Key="index.html")["Body"].read() == b"<h1>shop</h1>"
    assert aws.call("ecr", "DescribeRepositories", REGION, repositoryNames=[REPOSITORY])["repositories"]
    logical = {r["LogicalResourceId"] for r in aws.call("cloudformation", "DescribeStackResources", REGION,
                                                         StackName="shipyard-new")["StackResources"]}
    assert logical == {"SiteBucket", "Images"}


def test_a_topic_delivers_raw_to_each_subscribed_queue_where_its_subscription_says_so(aws):
    """AWS::SNS::Subscription's RawMessageDelivery as SNS applies it ("Amazon SNS raw message delivery"): the body is
    the message as published; without it, SNS's JSON envelope."""
    resources = {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "fan-out"}},
                 **{f"Queue{i}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"fan-out-{i}"}} for i in (1, 2)},
                 **{f"Subscription{i}": {"Type": "AWS::SNS::Subscription", "Properties": {
                     "TopicArn": {"Ref": "Topic"}, "Protocol": "sqs", "Endpoint": {"Fn::GetAtt": [f"Queue{i}", "Arn"]},
                     "RawMessageDelivery": raw}} for i, raw in ((1, True), (2, False))}}
    aws.call("cloudformation", "CreateStack", REGION, StackName="fan-out", TemplateBody=_template(resources))
    assert _settled(aws, "fan-out") == "CREATE_COMPLETE"
    topic = aws.call("sns", "CreateTopic", REGION, Name="fan-out")["TopicArn"]  # the stack's topic, by its name
    aws.call("sns", "Publish", REGION, TopicArn=topic, Message="order 7")
    bodies = []
    for i in (1, 2):
        url = aws.call("sqs", "GetQueueUrl", REGION, QueueName=f"fan-out-{i}")["QueueUrl"]
        bodies.append(aws.call("sqs", "ReceiveMessage", REGION, QueueUrl=url, WaitTimeSeconds=2)["Messages"][0]["Body"])
    assert bodies[0] == "order 7" and json.loads(bodies[1])["Message"] == "order 7"
