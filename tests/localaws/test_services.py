"""Every resource type of the example's templates exists afterwards, seen through its own service API."""

from __future__ import annotations

import json
import re
from datetime import UTC

import pytest

from shipyard.aws import Aws
from shipyard.deploy.execute import DeployOptions, deploy
from shipyard.errors import ShipyardError
from shipyard.localaws.cloudfront.extension import extension_backend
from shipyard.synth import EnvironmentAssembly, StackArtifact


def _found(items) -> bool:
    return bool(items)


# resource type -> check(aws, region, physical id, template properties) that asks the type's own service
CHECKS = {
    "AWS::EC2::VPC": lambda a, r, p, s: _found(a.call("ec2", "DescribeVpcs", r, VpcIds=[p])["Vpcs"]),
    "AWS::EC2::Subnet": lambda a, r, p, s: _found(a.call("ec2", "DescribeSubnets", r, SubnetIds=[p])["Subnets"]),
    "AWS::EC2::RouteTable": lambda a, r, p, s: _found(a.call("ec2", "DescribeRouteTables", r, RouteTableIds=[p])["RouteTables"]),
    "AWS::EC2::Route": lambda a, r, p, s: any(
        route.get("DestinationCidrBlock") == p.split("~")[1]
        for route in a.call("ec2", "DescribeRouteTables", r, RouteTableIds=[p.split("~")[0]])["RouteTables"][0]["Routes"]),
    "AWS::EC2::SubnetRouteTableAssociation": lambda a, r, p, s: _found(a.call(
        "ec2", "DescribeRouteTables", r, Filters=[{"Name": "association.route-table-association-id", "Values": [p]}])["RouteTables"]),
    "AWS::EC2::InternetGateway": lambda a, r, p, s: _found(
        a.call("ec2", "DescribeInternetGateways", r, InternetGatewayIds=[p])["InternetGateways"]),
    "AWS::EC2::VPCGatewayAttachment": lambda a, r, p, s: _found(a.call(
        "ec2", "DescribeInternetGateways", r, Filters=[{"Name": "attachment.vpc-id", "Values": [p]}])["InternetGateways"]),
    "AWS::EC2::FlowLog": lambda a, r, p, s: a.call("ec2", "DescribeFlowLogs", r, FlowLogIds=[p])["FlowLogs"][0][
        "LogDestination"].endswith("/vpc-flow-logs/"),
    "AWS::EC2::SecurityGroup": lambda a, r, p, s: _found(a.call("ec2", "DescribeSecurityGroups", r, GroupIds=[p])["SecurityGroups"]),
    "AWS::EC2::SecurityGroupIngress": lambda a, r, p, s: any(
        pair for g in a.call("ec2", "DescribeSecurityGroups", r)["SecurityGroups"]
        for perm in g["IpPermissions"] for pair in perm.get("UserIdGroupPairs", [])),
    "AWS::EC2::SecurityGroupEgress": lambda a, r, p, s: any(
        pair for g in a.call("ec2", "DescribeSecurityGroups", r)["SecurityGroups"]
        for perm in g["IpPermissionsEgress"] for pair in perm.get("UserIdGroupPairs", [])),
    "AWS::ECR::Repository": lambda a, r, p, s: _found(a.call("ecr", "DescribeRepositories", r, repositoryNames=[p])["repositories"]),
    "AWS::ECS::Cluster": lambda a, r, p, s: _found(a.call("ecs", "DescribeClusters", r, clusters=[p])["clusters"]),
    "AWS::ECS::Service": lambda a, r, p, s: _found(
        a.call("ecs", "DescribeServices", r, cluster=p.split("/")[1], services=[p])["services"]),
    "AWS::ECS::TaskDefinition": lambda a, r, p, s: _found(a.call("ecs", "DescribeTaskDefinition", r, taskDefinition=p)["taskDefinition"]),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": lambda a, r, p, s: _found(
        a.call("elbv2", "DescribeLoadBalancers", r, LoadBalancerArns=[p])["LoadBalancers"]),
    "AWS::ElasticLoadBalancingV2::TargetGroup": lambda a, r, p, s: _found(
        a.call("elbv2", "DescribeTargetGroups", r, TargetGroupArns=[p])["TargetGroups"]),
    "AWS::ElasticLoadBalancingV2::Listener": lambda a, r, p, s: _found(a.call("elbv2", "DescribeListeners", r, ListenerArns=[p])["Listeners"]),
    "AWS::ElasticLoadBalancingV2::ListenerRule": lambda a, r, p, s: _found(a.call("elbv2", "DescribeRules", r, RuleArns=[p])["Rules"]),
    "AWS::IAM::Role": lambda a, r, p, s: _found(a.call("iam", "GetRole", r, RoleName=p)["Role"]),
    "AWS::IAM::Policy": lambda a, r, p, s: any(
        s["PolicyName"] in a.call("iam", "ListRolePolicies", r, RoleName=role["RoleName"])["PolicyNames"]
        for role in a.call("iam", "ListRoles", r)["Roles"]),
    "AWS::IAM::OIDCProvider": lambda a, r, p, s: _found(a.call("iam", "GetOpenIDConnectProvider", r, OpenIDConnectProviderArn=p)["Url"]),
    "AWS::Logs::LogGroup": lambda a, r, p, s: _found(a.call("logs", "DescribeLogGroups", r, logGroupNamePrefix=p)["logGroups"]),
    "AWS::Logs::DeliverySource": lambda a, r, p, s: a.call("logs", "GetDeliverySource", r, name=p)["deliverySource"]["logType"]
                                                   == "ACCESS_LOGS",
    "AWS::Logs::DeliveryDestination": lambda a, r, p, s: ":log-group:" in a.call(
        "logs", "GetDeliveryDestination", r, name=p)["deliveryDestination"]["deliveryDestinationConfiguration"]["destinationResourceArn"],
    "AWS::Logs::Delivery": lambda a, r, p, s: a.call("logs", "GetDelivery", r, id=p)["delivery"]["deliverySourceName"].endswith("-cloudfront"),
    "AWS::S3::Bucket": lambda a, r, p, s: a.call("s3", "HeadBucket", r, Bucket=p) is not None,
    "AWS::S3::BucketPolicy": lambda a, r, p, s: len(json.loads(a.call("s3", "GetBucketPolicy", r, Bucket=p)["Policy"])["Statement"])
    == len(s["PolicyDocument"]["Statement"]),
    # The image slots hold "none" until a release and an image by digest after one (a test of this worker may have
    # released to the shared deployment); the database's settings hold what the stack wrote.
    "AWS::SSM::Parameter": lambda a, r, p, s: (lambda value: bool(value) if "/database/" in p else (
        value == "none" or re.fullmatch(r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9/-]+@sha256:[0-9a-f]{64}", value)))(
        a.call("ssm", "GetParameter", r, Name=p)["Parameter"]["Value"]),
    "AWS::RDS::DBInstance": lambda a, r, p, s: a.call("rds", "DescribeDBInstances", r, DBInstanceIdentifier=p)["DBInstances"][0][
        "DBInstanceStatus"] == "available",
    "AWS::RDS::DBSubnetGroup": lambda a, r, p, s: len(a.call("rds", "DescribeDBSubnetGroups", r, DBSubnetGroupName=p)[
        "DBSubnetGroups"][0]["Subnets"]) == 2,
    "AWS::RDS::DBParameterGroup": lambda a, r, p, s: any(
        param["ParameterName"] == "rds.force_ssl" and param["ParameterValue"] == "1"
        for param in a.call("rds", "DescribeDBParameters", r, DBParameterGroupName=p, Source="user")["Parameters"]),
    "AWS::ApplicationAutoScaling::ScalableTarget": lambda a, r, p, s: _found(a.call(
        "application-autoscaling", "DescribeScalableTargets", r, ServiceNamespace="ecs", ResourceIds=[p.split("|")[0]])["ScalableTargets"]),
    "AWS::ApplicationAutoScaling::ScalingPolicy": lambda a, r, p, s: any(
        policy["PolicyARN"] == p for policy in a.call("application-autoscaling", "DescribeScalingPolicies", r,
                                                      ServiceNamespace="ecs")["ScalingPolicies"]),
    "AWS::CloudWatch::Alarm": lambda a, r, p, s: _found(a.call("cloudwatch", "DescribeAlarms", r, AlarmNames=[p])["MetricAlarms"]),
    "AWS::CloudWatch::CompositeAlarm": lambda a, r, p, s: _found(a.call(
        "cloudwatch", "DescribeAlarms", r, AlarmNames=[p], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]),
    "AWS::CloudWatch::Dashboard": lambda a, r, p, s: _found(a.call("cloudwatch", "GetDashboard", r, DashboardName=p)["DashboardBody"]),
    "AWS::SNS::Topic": lambda a, r, p, s: _found(a.call("sns", "GetTopicAttributes", r, TopicArn=p)["Attributes"]),
    "AWS::SNS::Subscription": lambda a, r, p, s: any(sub["SubscriptionArn"] == p for sub in a.call("sns", "ListSubscriptions", r)["Subscriptions"]),
    "AWS::SNS::TopicPolicy": lambda a, r, p, s: len(json.loads(a.call("sns", "GetTopicAttributes", r, TopicArn=p)["Attributes"]["Policy"])[
        "Statement"]) == len(s["PolicyDocument"]["Statement"]),
    "AWS::Budgets::Budget": lambda a, r, p, s: a.call("budgets", "DescribeBudget", "us-east-1", AccountId=a.account, BudgetName=p)[
        "Budget"]["BudgetLimit"]["Amount"].startswith(str(s["Budget"]["BudgetLimit"]["Amount"])),
    "AWS::ECS::ClusterCapacityProviderAssociations": lambda a, r, p, s: "FARGATE_SPOT" in a.call(
        "ecs", "DescribeClusters", r, clusters=[p])["clusters"][0]["capacityProviders"],
    "AWS::CloudFront::Distribution": lambda a, r, p, s: _found(a.call("cloudfront", "GetDistribution", r, Id=p)["Distribution"]),
    "AWS::CloudFront::OriginAccessControl": lambda a, r, p, s: _found(
        a.call("cloudfront", "GetOriginAccessControl", r, Id=p)["OriginAccessControl"]),
    # No service API for these in the emulator: shipyard's extension backend keeps them (see localaws/extension.py).
    "AWS::CloudFront::VpcOrigin": lambda a, r, p, s: extension_backend.get(a.account, p) is not None,
    "AWS::CloudFront::CachePolicy": lambda a, r, p, s: extension_backend.get(a.account, p) is not None,
    "AWS::CloudFront::ResponseHeadersPolicy": lambda a, r, p, s: extension_backend.get(a.account, p) is not None,
    "AWS::WAFv2::WebACL": lambda a, r, p, s: _found(a.call("wafv2", "GetWebACL", "us-east-1", Name=p.split("|")[0],
                                                          Id=p.split("|")[1], Scope="CLOUDFRONT")["WebACL"]),
    "AWS::WAFv2::LoggingConfiguration": lambda a, r, p, s: _found(a.call("wafv2", "GetLoggingConfiguration", "us-east-1",
                                                                        ResourceArn=p)["LoggingConfiguration"]["LogDestinationConfigs"]),
}


def test_every_template_type_has_a_check(templates):
    types = {r["Type"] for t in templates.values() for r in t["Resources"].values()}
    assert types <= set(CHECKS), f"add a check for {types - set(CHECKS)}"


@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_resource_exists_through_its_service_api(deployed, assemblies, env):
    aws = deployed[env]
    checked = set()
    for stack in assemblies[env].stacks:
        resources = aws.call("cloudformation", "DescribeStackResources", stack.region, StackName=stack.name)["StackResources"]
        expected = {k for k, v in stack.template()["Resources"].items() if "Condition" not in v}
        assert {r["LogicalResourceId"] for r in resources} == expected, stack.name
        for resource in resources:
            check = CHECKS[resource["ResourceType"]]
            props = stack.template()["Resources"][resource["LogicalResourceId"]].get("Properties", {})
            assert check(aws, stack.region, resource.get("PhysicalResourceId") or "", props), \
                f"{stack.name} {resource['LogicalResourceId']} ({resource['ResourceType']}) not found through its API"
            checked.add(resource["ResourceType"])
    assert len(checked) >= 25


def test_staging_and_production_land_in_their_own_accounts(deployed):
    for env, account in (("staging", "111111111111"), ("production", "222222222222")):
        stacks = deployed[env].call("cloudformation", "DescribeStacks", "eu-west-1")["Stacks"]
        assert {s["StackName"].split("-")[1] for s in stacks} == {env}
        assert all(f":{account}:" in s["StackId"] for s in stacks)


def test_a_type_without_handler_fails_the_deploy_and_is_named(local_aws, tmp_path, example_config):
    from shipyard.app.target import embedded

    template = {"Resources": {"Runner": {"Type": "AWS::AppRunner::Service", "Properties": {}},
                              "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}}
    path = tmp_path / "odd.template.json"
    path.write_text(json.dumps(template))
    env = example_config.environment("staging")
    assembly = EnvironmentAssembly(env, tmp_path, (StackArtifact("webapp-staging-odd", env.account, env.region, path, ()),))
    aws = Aws(embedded(local_aws.endpoint), env.account)
    with pytest.raises(ShipyardError, match=r"cannot build AWS::AppRunner::Service; nothing was deployed"):
        deploy(aws, assembly, DeployOptions())
    with pytest.raises(Exception, match="does not exist"):
        aws.call("cloudformation", "DescribeStacks", env.region, StackName="webapp-staging-odd")


def test_a_stack_update_keeps_a_sleeping_scalable_target_asleep_unless_its_bounds_change(local_aws):
    import time

    from shipyard.app.target import embedded

    aws = Aws(embedded(local_aws.endpoint), "333333333333")
    region, resource = "eu-west-1", "service/sleepy/web"

    def template(sleep_hour: int, maximum: int) -> str:
        actions = [{"ScheduledActionName": "wake", "Schedule": "cron(0 7 ? * MON,TUE,WED,THU,FRI *)", "Timezone": "Europe/Berlin",
                    "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": maximum}},
                   {"ScheduledActionName": "sleep", "Schedule": f"cron(0 {sleep_hour} ? * MON,TUE,WED,THU,FRI *)",
                    "Timezone": "Europe/Berlin", "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 0}}]
        policy = {"Type": "AWS::ApplicationAutoScaling::ScalingPolicy", "Properties": {
            "PolicyName": "cpu", "PolicyType": "TargetTrackingScaling", "ScalingTargetId": {"Ref": "Target"},
            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70, "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}}
        return json.dumps({"Resources": {"Target": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
            "ServiceNamespace": "ecs", "ResourceId": resource, "ScalableDimension": "ecs:service:DesiredCount",
            "MinCapacity": 0, "MaxCapacity": maximum, "ScheduledActions": actions}}, "Cpu": policy}})

    def settle() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = aws.call("cloudformation", "DescribeStacks", region, StackName="sleepy")["Stacks"][0]["StackStatus"]
            if not state.endswith("IN_PROGRESS"):
                assert state.endswith("COMPLETE") and "ROLLBACK" not in state, state
                return
            time.sleep(0.1)

    def bounds() -> tuple[int, int]:
        target = aws.call("application-autoscaling", "DescribeScalableTargets", region, ServiceNamespace="ecs",
                          ResourceIds=[resource])["ScalableTargets"][0]
        return target["MinCapacity"], target["MaxCapacity"]

    # Application Auto Scaling registers only an ECS service that exists.
    aws.call("ecs", "CreateCluster", region, clusterName="sleepy")
    family = aws.call("ecs", "RegisterTaskDefinition", region, family="sleepy", containerDefinitions=[
        {"name": "web", "image": "none", "memory": 512}])["taskDefinition"]["taskDefinitionArn"]
    aws.call("ecs", "CreateService", region, cluster="sleepy", serviceName="web", taskDefinition=family, desiredCount=0)
    aws.call("cloudformation", "CreateStack", region, StackName="sleepy", TemplateBody=template(20, 4))
    settle()
    local_aws.run_scheduled_action("333333333333", region, "sleep")
    assert bounds() == (0, 0)
    aws.call("cloudformation", "UpdateStack", region, StackName="sleepy", TemplateBody=template(21, 4))  # schedule only
    settle()
    assert bounds() == (0, 0)
    schedules = {a["ScheduledActionName"]: a["Schedule"] for a in aws.call(
        "application-autoscaling", "DescribeScheduledActions", region, ServiceNamespace="ecs")["ScheduledActions"]}
    assert schedules["sleep"] == "cron(0 21 ? * MON,TUE,WED,THU,FRI *)"
    aws.call("cloudformation", "UpdateStack", region, StackName="sleepy", TemplateBody=template(21, 6))  # new bounds
    settle()
    assert bounds() == (0, 6)
    # New bounds update the target in place (MinCapacity/MaxCapacity: "Update requires: No interruption"); a
    # replacement would deregister it, and its scaling policy, which the template did not change, with it.
    assert [p["PolicyName"] for p in aws.call("application-autoscaling", "DescribeScalingPolicies", region,
                                              ServiceNamespace="ecs")["ScalingPolicies"]] == ["cpu"]
    with pytest.raises(ShipyardError, match="Invalid timezone"):
        aws.call("application-autoscaling", "PutScheduledAction", region, ServiceNamespace="ecs", ResourceId=resource,
                 ScalableDimension="ecs:service:DesiredCount", ScheduledActionName="bad", Schedule="cron(0 7 ? * MON *)",
                 Timezone="Mars/Olympus")


def test_a_scalable_targets_tags_come_from_its_template_and_the_tagging_api(local_aws):
    """A scalable target is taggable: CloudFormation tags it on create and on update (its resource schema: tagOnCreate,
    tagUpdatable), RegisterScalableTarget tags a target it creates, TagResource and UntagResource change them, and
    ListTagsForResource reads them (Application Auto Scaling API reference). A preview role's permissions on its
    scalable targets hold by these tags; moto kept none."""
    import time

    from shipyard.app.target import embedded

    aws, region, resource = Aws(embedded(local_aws.endpoint), "333333333334"), "eu-west-1", "service/tagged/web"
    aws.call("ecs", "CreateCluster", region, clusterName="tagged")
    family = aws.call("ecs", "RegisterTaskDefinition", region, family="tagged", containerDefinitions=[
        {"name": "web", "image": "none", "memory": 512}])["taskDefinition"]["taskDefinitionArn"]
    aws.call("ecs", "CreateService", region, cluster="tagged", serviceName="web", taskDefinition=family, desiredCount=0)

    def template(preview: str) -> str:
        return json.dumps({"Resources": {"Target": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
            "ServiceNamespace": "ecs", "ResourceId": resource, "ScalableDimension": "ecs:service:DesiredCount",
            "MinCapacity": 1, "MaxCapacity": 1, "Tags": [{"Key": "shipyard:preview", "Value": preview}]}}}})

    def settled() -> str:
        for _ in range(300):
            state = aws.call("cloudformation", "DescribeStacks", region, StackName="tagged")["Stacks"][0]["StackStatus"]
            if not state.endswith("IN_PROGRESS"):
                return state
            time.sleep(0.1)
        return state

    def tags() -> dict[str, str]:
        [target] = aws.call("application-autoscaling", "DescribeScalableTargets", region, ServiceNamespace="ecs",
                            ResourceIds=[resource])["ScalableTargets"]
        return aws.call("application-autoscaling", "ListTagsForResource", region, ResourceARN=target["ScalableTargetARN"])["Tags"]

    aws.call("cloudformation", "CreateStack", region, StackName="tagged", TemplateBody=template("pr-7"))
    assert settled() == "CREATE_COMPLETE"
    assert tags() == {"shipyard:preview": "pr-7"}
    aws.call("cloudformation", "UpdateStack", region, StackName="tagged", TemplateBody=template("pr-8"))
    assert settled() == "UPDATE_COMPLETE"
    assert tags() == {"shipyard:preview": "pr-8"}
    [target] = aws.call("application-autoscaling", "DescribeScalableTargets", region, ServiceNamespace="ecs",
                        ResourceIds=[resource])["ScalableTargets"]
    aws.call("application-autoscaling", "TagResource", region, ResourceARN=target["ScalableTargetARN"], Tags={"team": "shop"})
    aws.call("application-autoscaling", "UntagResource", region, ResourceARN=target["ScalableTargetARN"], TagKeys=["shipyard:preview"])
    assert tags() == {"team": "shop"}
    # RegisterScalableTarget's Tags tag the target it creates (an existing one keeps its own: TagResource changes those).
    aws.call("application-autoscaling", "RegisterScalableTarget", region, ServiceNamespace="ecs", ResourceId=resource,
             ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=2, Tags={"other": "x"})
    assert tags() == {"team": "shop"}
    gone = target["ScalableTargetARN"].rsplit("/", 1)[0] + "/" + "0" * 36
    with pytest.raises(ShipyardError, match="ResourceNotFoundException"):
        aws.call("application-autoscaling", "ListTagsForResource", region, ResourceARN=gone)


def test_a_change_set_of_a_new_parameter_value_updates_what_refers_to_it(local_aws):
    """CloudFormation updates a resource whose property refers to a parameter given another value, the template
    unchanged (CloudFormation user guide, "Update stacks using change sets"); moto listed no change at all."""
    import time

    from shipyard.app.target import embedded

    aws = Aws(embedded(local_aws.endpoint), "333333333334")
    region = "eu-west-1"
    template = json.dumps({"Parameters": {"Retention": {"Type": "Number", "Default": "3"}},
                           "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
                               "LogGroupName": "/parameters", "RetentionInDays": {"Ref": "Retention"}}}}})

    def change(kind: str, value: str) -> list[dict]:
        aws.call("cloudformation", "CreateChangeSet", region, StackName="parameters", ChangeSetName=f"c{value}", ChangeSetType=kind,
                 TemplateBody=template, Parameters=[{"ParameterKey": "Retention", "ParameterValue": value}])
        changes = aws.call("cloudformation", "DescribeChangeSet", region, StackName="parameters", ChangeSetName=f"c{value}")["Changes"]
        aws.call("cloudformation", "ExecuteChangeSet", region, StackName="parameters", ChangeSetName=f"c{value}")
        deadline = time.monotonic() + 30
        while aws.call("cloudformation", "DescribeStacks", region, StackName="parameters")["Stacks"][0]["StackStatus"].endswith("IN_PROGRESS"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        return changes

    def retention() -> int:
        return aws.call("logs", "DescribeLogGroups", region, logGroupNamePrefix="/parameters")["logGroups"][0]["retentionInDays"]

    change("CREATE", "3")
    assert retention() == 3
    [modified] = change("UPDATE", "7")
    assert modified["ResourceChange"]["Action"] == "Modify" and modified["ResourceChange"]["LogicalResourceId"] == "Logs"
    assert [d["Target"]["Name"] for d in modified["ResourceChange"]["Details"]] == ["RetentionInDays"]
    assert retention() == 7


def test_paginate_follows_each_services_page_token(local_aws):
    import time

    from shipyard.app.target import embedded

    aws, region, now = Aws(embedded(local_aws.endpoint), "444444444444"), "eu-west-1", int(time.time() * 1000)
    aws.call("logs", "CreateLogGroup", region, logGroupName="pages")
    aws.call("logs", "CreateLogStream", region, logGroupName="pages", logStreamName="web/web/1")
    aws.call("logs", "PutLogEvents", region, logGroupName="pages", logStreamName="web/web/1",
             logEvents=[{"timestamp": now + n, "message": f"line {n}"} for n in range(5)])
    events = aws.paginate("logs", "FilterLogEvents", region, "events", logGroupName="pages", limit=2)  # nextToken
    assert [e["message"] for e in events] == [f"line {n}" for n in range(5)]
    aws.call("s3", "CreateBucket", region, Bucket="pages-444444444444", CreateBucketConfiguration={"LocationConstraint": region})
    for n in range(5):
        aws.call("s3", "PutObject", region, Bucket="pages-444444444444", Key=f"k{n}", Body=b"x")
    objects = aws.paginate("s3", "ListObjectsV2", region, "Contents", Bucket="pages-444444444444", MaxKeys=2)  # continuation
    assert [o["Key"] for o in objects] == [f"k{n}" for n in range(5)]


def test_stack_events_come_a_page_at_a_time_and_a_poll_reads_only_the_new_ones(local_aws):
    """CloudFormation pages DescribeStackEvents (newest first); a wait reads back only to the last event it saw."""
    from shipyard.app.target import embedded
    from shipyard.localaws.cloudformation.handlers import EVENTS_PER_PAGE

    aws, region = Aws(embedded(local_aws.endpoint), "444444444445"), "eu-west-1"
    parameters = {f"P{n}": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": f"/eventful/{n}", "Type": "String", "Value": str(n)}}
                  for n in range(60)}
    aws.call("cloudformation", "CreateStack", region, StackName="eventful",
             TemplateBody=json.dumps({"Resources": parameters}))
    first = aws.call("cloudformation", "DescribeStackEvents", region, StackName="eventful")
    assert len(first["StackEvents"]) == EVENTS_PER_PAGE and first.get("NextToken")
    cloudformation = aws.cloudformation(region)
    every = cloudformation.events("eventful")
    assert len(every) > EVENTS_PER_PAGE and len({e.event_id for e in every}) == len(every)
    assert every[0].status == "CREATE_COMPLETE" and every[0].logical_id == "eventful"  # newest first
    assert cloudformation.newest_event("eventful") == {every[0].event_id}
    assert cloudformation.events("eventful", after={every[3].event_id}) == every[:3]
    assert cloudformation.events("eventful", after=cloudformation.newest_event("eventful")) == []
    # Each answered event holds what the stack's event holds, written as AWS writes it (the embedded AWS writes the
    # page itself, not through moto's serializer): escaped text read back intact, a timestamp with its zone.
    from moto.cloudformation.models import cloudformation_backends

    held = cloudformation_backends["444444444445"][region].describe_stack_events("eventful")[::-1]
    held[0].resource_status_reason = 'a <reason> & "quotes"'
    answered = aws.call("cloudformation", "DescribeStackEvents", region, StackName="eventful")["StackEvents"]
    for event, kept in zip(answered, held, strict=False):
        assert event == {key: value for key, value in {
            "StackId": kept.stack_id, "EventId": str(kept.event_id), "StackName": kept.stack_name,
            "LogicalResourceId": kept.logical_resource_id, "PhysicalResourceId": kept.physical_resource_id,
            "ResourceType": kept.resource_type, "Timestamp": kept.timestamp.replace(tzinfo=UTC),
            "ResourceStatus": kept.resource_status, "ResourceStatusReason": kept.resource_status_reason,
            "ResourceProperties": kept.resource_properties}.items() if value is not None}
    assert answered[0]["ResourceStatusReason"] == 'a <reason> & "quotes"'
