"""A deployed Copilot app as CloudFormation holds it, for the adoption tests: the stacks Copilot's templates make
(github.com/aws/copilot-cli, internal/pkg/template/templates), with their names, tags and the references between
resources that a move must keep working, cut down to what holds data and what refers to it.

- the app's StackSet instance: the ECR repositories `<app>/<workload>` and the pipelines' artifact bucket;
- the environment's stack: its cluster;
- each workload's stack: its log group `/copilot/<app>-<env>-<workload>` and a task definition that logs there;
- the Static Site's stack: its bucket, the bucket policy that lets CloudFront read it, and its outputs;
- the environment's addon (a nested stack on AWS): a DynamoDB table, which holds data shipyard does not take.
"""

from __future__ import annotations

import hashlib
import json
import time

APP, ENV, REGION = "shop", "test", "eu-west-1"
WORKLOADS = ("api", "catalog", "orders", "nightly")
SITE_BUCKET = "shop-test-www-bucket-8x2k1q"


def _tags(**extra: str) -> list[dict[str, str]]:
    return [{"Key": "copilot-application", "Value": APP}, *({"Key": k.replace("_", "-"), "Value": v} for k, v in extra.items())]


def stacks(account: str) -> list[tuple[str, dict, list[dict[str, str]]]]:
    """(stack name, template, tags), in the order Copilot deploys them."""
    repositories = {f"ECRRepo{w}": {"Type": "AWS::ECR::Repository", "Properties": {
        "RepositoryName": f"{APP}/{w}", "ImageScanningConfiguration": {"ScanOnPush": True}}} for w in WORKLOADS}
    infrastructure = {"Resources": {**repositories, "PipelineBuiltArtifactBucket": {
        "Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"stackset-{APP}-infrastru-pipelinebuiltartifactbuc-1x2y3z"}}},
        "Outputs": {f"ECRRepo{w}": {"Value": {"Fn::GetAtt": [f"ECRRepo{w}", "Arn"]}} for w in WORKLOADS}}
    found = [(f"StackSet-{APP}-infrastructure-3c2f1a0e-instance-1a2b", infrastructure, _tags()),
             (f"{APP}-{ENV}", {"Resources": {"Cluster": {"Type": "AWS::ECS::Cluster"}}}, _tags(copilot_environment=ENV))]
    for workload in WORKLOADS:
        image = f"{account}.dkr.ecr.{REGION}.amazonaws.com/{APP}/{workload}:latest"
        template = {"Parameters": {"AppName": {"Type": "String"}, "EnvName": {"Type": "String"}, "WorkloadName": {"Type": "String"}},
                    "Resources": {
                        "LogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {
                            "LogGroupName": {"Fn::Sub": "/copilot/${AppName}-${EnvName}-${WorkloadName}"}, "RetentionInDays": 30}},
                        "TaskDefinition": {"Type": "AWS::ECS::TaskDefinition", "DependsOn": "LogGroup", "Properties": {
                            "Family": {"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}"}, "RequiresCompatibilities": ["FARGATE"],
                            "NetworkMode": "awsvpc", "Cpu": "256", "Memory": "512", "ContainerDefinitions": [{
                                "Name": workload, "Image": image,
                                "LogConfiguration": {"LogDriver": "awslogs", "Options": {
                                    "awslogs-group": {"Ref": "LogGroup"}, "awslogs-region": REGION, "awslogs-stream-prefix": "copilot"}}}]}}},
                    "Outputs": {"LogGroupArn": {"Value": {"Fn::GetAtt": ["LogGroup", "Arn"]}}}}
        found.append((f"{APP}-{ENV}-{workload}", template, _tags(copilot_environment=ENV, copilot_service=workload)))
    site = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketName": SITE_BUCKET,
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                                               "RestrictPublicBuckets": True}}},
        "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "Bucket"},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Sid": "ForceHTTPS", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [{"Fn::GetAtt": ["Bucket", "Arn"]}, {"Fn::Sub": "${Bucket.Arn}/*"}],
                 "Condition": {"Bool": {"aws:SecureTransport": False}}}]}}}},
        "Outputs": {"BucketDomain": {"Value": {"Fn::GetAtt": ["Bucket", "RegionalDomainName"]}}, "Bucket": {"Value": {"Ref": "Bucket"}}}}
    found.append((f"{APP}-{ENV}-www", site, _tags(copilot_environment=ENV, copilot_service="www")))
    addon = {"Resources": {"carts": {"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": f"{APP}-{ENV}-carts", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}}}
    found.append((f"{APP}-{ENV}-AddonsStack-1XYZ2W3V", addon, _tags(copilot_environment=ENV)))
    return found


def deploy(aws, account: str) -> dict[str, object]:
    """The Copilot app deployed, with data in it: an image in each repository, the site's files, a log event per
    workload, the secrets `copilot secret init` writes. Returns what the tests look for afterwards."""
    for name, template, tags in stacks(account):
        parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in
                      (("AppName", APP), ("EnvName", ENV), ("WorkloadName", name.rsplit("-", 1)[-1]))] if "Parameters" in template else []
        aws.call("cloudformation", "CreateStack", REGION, StackName=name, TemplateBody=json.dumps(template), Tags=tags, Parameters=parameters)
        _settle(aws, name)
    digests = {}
    for workload in WORKLOADS:
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                                          "digest": "sha256:" + hashlib.sha256(workload.encode()).hexdigest()},
                               "layers": []})
        pushed = aws.call("ecr", "PutImage", REGION, repositoryName=f"{APP}/{workload}", imageManifest=manifest, imageTag="v1")
        digests[workload] = pushed["image"]["imageId"]["imageDigest"]
        group = f"/copilot/{APP}-{ENV}-{workload}"
        aws.call("logs", "CreateLogStream", REGION, logGroupName=group, logStreamName="copilot/1")
        aws.call("logs", "PutLogEvents", REGION, logGroupName=group, logStreamName="copilot/1",
                 logEvents=[{"timestamp": int(time.time() * 1000), "message": f"{workload} served its first request"}])
    aws.call("s3", "PutObject", REGION, Bucket=SITE_BUCKET, Key="index.html", Body=b"<h1>shop</h1>")
    aws.call("ssm", "PutParameter", REGION, Name=f"/copilot/{APP}/{ENV}/secrets/PAYMENT_KEY", Value="pk_test_42", Type="SecureString",
             Tags=[{"Key": "copilot-application", "Value": APP}, {"Key": "copilot-environment", "Value": ENV}])
    return {"digests": digests}


def _settle(aws, stack: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = aws.call("cloudformation", "DescribeStacks", REGION, StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            assert status.endswith("COMPLETE") and "ROLLBACK" not in status, (stack, status)
            return status
        time.sleep(0.1)
    raise AssertionError(f"{stack} still in progress")
