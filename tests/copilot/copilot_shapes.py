"""A deployed Copilot app as CloudFormation holds it, for the adoption tests: the stacks Copilot's templates make
(github.com/aws/copilot-cli, internal/pkg/template/templates), with their names, tags and the references between
resources that a move must keep working, cut down to what holds data and what refers to it.

- the app's StackSet instance: the ECR repositories `<app>/<workload>` and the pipelines' artifact bucket;
- the environment's stack: its cluster;
- each workload's stack: its log group `/copilot/<app>-<env>-<workload>` and a task definition that logs there;
- the Static Site's stack: its bucket, the bucket policy that lets CloudFront read it, and its outputs;
- the environment's addon (a nested stack on AWS): the Aurora Serverless v2 cluster of the workspace's
  copilot/environments/addons/db.yml (its subnet group, security group, secret, parameter group and writer).

The environment imports a VPC the team made (network.vpc in its manifest): it is made here first, outside any stack,
and the environment's stack exports its ids as Copilot's does (VpcId, PublicSubnets, PrivateSubnets).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

APP, ENV, REGION = "shop", "test", "eu-west-1"
WORKLOADS = ("api", "catalog", "orders", "nightly")
SITE_BUCKET = "shop-test-www-bucket-8x2k1q"
ADDONS_STACK = f"{APP}-{ENV}-AddonsStack-1XYZ2W3V"
SITE = Path(__file__).resolve().parents[2] / "examples" / "shop" / "site"  # the workspace's site (tests/copilot/__init__.py)


def _tags(**extra: str) -> list[dict[str, str]]:
    return [{"Key": "copilot-application", "Value": APP}, *({"Key": k.replace("_", "-"), "Value": v} for k, v in extra.items())]


def network(aws) -> dict[str, object]:
    """The team's VPC in two zones: public subnets routed to an internet gateway, private ones with no route out."""
    vpc = aws.call("ec2", "CreateVpc", REGION, CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    gateway = aws.call("ec2", "CreateInternetGateway", REGION)["InternetGateway"]["InternetGatewayId"]
    aws.call("ec2", "AttachInternetGateway", REGION, InternetGatewayId=gateway, VpcId=vpc)
    routed = aws.call("ec2", "CreateRouteTable", REGION, VpcId=vpc)["RouteTable"]["RouteTableId"]
    aws.call("ec2", "CreateRoute", REGION, RouteTableId=routed, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    subnets: dict[str, list[str]] = {"public": [], "private": []}
    for index, (kind, zone) in enumerate((("public", "a"), ("public", "b"), ("private", "a"), ("private", "b"))):
        subnet = aws.call("ec2", "CreateSubnet", REGION, VpcId=vpc, CidrBlock=f"10.20.{index}.0/24",
                          AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        if kind == "public":
            aws.call("ec2", "AssociateRouteTable", REGION, RouteTableId=routed, SubnetId=subnet)
        subnets[kind].append(subnet)
    return {"vpc": vpc, **subnets}


def _addon() -> dict:
    """The environment's addon: the workspace's Aurora addon (copilot/environments/addons/db.yml), as CloudFormation
    holds it."""
    from shipyard.copilot.workspace import read_workspace
    from tests.copilot import FIXTURE

    [database] = read_workspace(FIXTURE).addons["environments"]
    return json.loads(json.dumps(database.data))


def stacks(account: str, network: dict[str, object]) -> list[tuple[str, dict, list[dict[str, str]]]]:
    """(stack name, template, tags), in the order Copilot deploys them."""
    repositories = {f"ECRRepo{w}": {"Type": "AWS::ECR::Repository", "Properties": {
        "RepositoryName": f"{APP}/{w}", "ImageScanningConfiguration": {"ScanOnPush": True}}} for w in WORKLOADS}
    infrastructure = {"Resources": {**repositories, "PipelineBuiltArtifactBucket": {
        "Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"stackset-{APP}-infrastru-pipelinebuiltartifactbuc-1x2y3z"}}},
        "Outputs": {f"ECRRepo{w}": {"Value": {"Fn::GetAtt": [f"ECRRepo{w}", "Arn"]}} for w in WORKLOADS}}
    found = [(f"StackSet-{APP}-infrastructure-3c2f1a0e-instance-1a2b", infrastructure, _tags()),
             (f"{APP}-{ENV}", {"Resources": {"Cluster": {"Type": "AWS::ECS::Cluster"}}, "Outputs": {
                 name: {"Value": value, "Export": {"Name": f"{APP}-{ENV}-{name}"}} for name, value in (
                     ("VpcId", network["vpc"]), ("PublicSubnets", ",".join(network["public"])),
                     ("PrivateSubnets", ",".join(network["private"])))}}, _tags(copilot_environment=ENV))]
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
    found.append((ADDONS_STACK, _addon(), _tags(copilot_environment=ENV)))
    return found


def _parameters(name: str, template: dict) -> list[dict[str, str]]:
    given = {"AppName": APP, "EnvName": ENV, "WorkloadName": name.rsplit("-", 1)[-1], "App": APP, "Env": ENV}
    return [{"ParameterKey": key, "ParameterValue": given[key]} for key in template.get("Parameters", {})]


def deploy(aws, account: str) -> dict[str, object]:
    """The Copilot app deployed in the team's VPC, with data in it: an image in each repository, the site's files, a
    log event per workload, rows in the Aurora cluster, the secrets `copilot secret init` writes. Returns what the
    tests look for afterwards."""
    made = network(aws)
    for name, template, tags in stacks(account, made):
        parameters = _parameters(name, template)
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
    for path in sorted(SITE.rglob("*")):  # `copilot svc deploy` of the Static Site uploads its files
        if path.is_file():
            aws.call("s3", "PutObject", REGION, Bucket=SITE_BUCKET, Key=str(path.relative_to(SITE)), Body=path.read_bytes())
    aws.call("ssm", "PutParameter", REGION, Name=f"/copilot/{APP}/{ENV}/secrets/PAYMENT_KEY", Value="pk_test_42", Type="SecureString",
             Tags=[{"Key": "copilot-application", "Value": APP}, {"Key": "copilot-environment", "Value": ENV}])
    with connect(copilot_credentials(aws)) as connection:  # Copilot's parameter group asks for no TLS
        connection.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL)")
        connection.execute("INSERT INTO orders (item) VALUES ('tea'), ('cake')")
    return {"digests": digests, "network": made}


def copilot_credentials(aws) -> dict:
    """The addon secret's JSON, as Copilot's workloads read it (username, password, host, port, dbClusterIdentifier)."""
    secret = next(r["PhysicalResourceId"] for r in aws.call("cloudformation", "DescribeStackResources", REGION,
                                                           StackName=ADDONS_STACK)["StackResources"]
                  if r["ResourceType"] == "AWS::SecretsManager::Secret")
    return json.loads(aws.call("secretsmanager", "GetSecretValue", REGION, SecretId=secret)["SecretString"])


def connect(credentials: dict, *, sslmode: str = "prefer"):
    import psycopg

    return psycopg.connect(host=credentials["host"], port=credentials["port"], user=credentials["username"],
                           password=credentials["password"], dbname="shop", sslmode=sslmode, connect_timeout=5)


def _settle(aws, stack: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = aws.call("cloudformation", "DescribeStacks", REGION, StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            assert status.endswith("COMPLETE") and "ROLLBACK" not in status, (stack, status)
            return status
        time.sleep(0.1)
    raise AssertionError(f"{stack} still in progress")
