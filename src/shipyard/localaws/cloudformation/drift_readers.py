"""How drift detection reads each resource type back: through the type's own describe/get APIs, in the
template's property names (CloudFormation's read handlers do the same mapping on AWS).

A reader takes (api, region, physical id, expected properties) and returns the resource's actual properties; the
comparison matches keys without regard to case and ignores what the template does not set.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from shipyard.localaws.cloudfront.extension import extension_backend


def _optional(call, *args, **kwargs):
    """The API's answer, or None where it says the setting does not exist (the comparison then reports it removed)."""
    try:
        return call(*args, **kwargs)
    except ClientError:
        return None


def _tags(items: list[dict] | None) -> list[dict]:
    return [{"Key": t.get("Key", t.get("key")), "Value": t.get("Value", t.get("value"))} for t in items or []]


def _task_definition(a, r, p):
    found = a.call("ecs", "DescribeTaskDefinition", r, taskDefinition=p, include=["TAGS"])
    return {**found["taskDefinition"], "tags": _tags(found.get("tags"))}


def _service(a, r, p):
    service = a.call("ecs", "DescribeServices", r, cluster=p.split("/")[1], services=[p], include=["TAGS"])["services"][0]
    primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})
    return {**service, "cluster": service["clusterArn"].rsplit("/", 1)[-1], "tags": _tags(service.get("tags")),
            "ServiceConnectConfiguration": primary.get("serviceConnectConfiguration")}


def _load_balancer(a, r, p):
    lb = a.call("elbv2", "DescribeLoadBalancers", r, LoadBalancerArns=[p])["LoadBalancers"][0]
    attributes = a.call("elbv2", "DescribeLoadBalancerAttributes", r, LoadBalancerArn=p)["Attributes"]
    return {**lb, "Name": lb["LoadBalancerName"], "Subnets": [z["SubnetId"] for z in lb["AvailabilityZones"]],
            "LoadBalancerAttributes": attributes, "Tags": a.call("elbv2", "DescribeTags", r, ResourceArns=[p])["TagDescriptions"][0]["Tags"]}


def _target_group(a, r, p):
    group = a.call("elbv2", "DescribeTargetGroups", r, TargetGroupArns=[p])["TargetGroups"][0]
    attributes = a.call("elbv2", "DescribeTargetGroupAttributes", r, TargetGroupArn=p)["Attributes"]
    return {**group, "TargetGroupAttributes": attributes}


def _bucket(a, r, p):
    found: dict[str, Any] = {"BucketName": p}
    for call, key, field in (("GetBucketEncryption", "BucketEncryption", "ServerSideEncryptionConfiguration"),
                             ("GetPublicAccessBlock", "PublicAccessBlockConfiguration", "PublicAccessBlockConfiguration"),
                             ("GetBucketVersioning", "VersioningConfiguration", None),
                             ("GetBucketOwnershipControls", "OwnershipControls", "OwnershipControls"),
                             ("GetBucketLifecycleConfiguration", "LifecycleConfiguration", None),
                             ("GetBucketLogging", "LoggingConfiguration", "LoggingEnabled"),
                             ("GetBucketTagging", "Tags", "TagSet")):
        answer = _optional(a.call, "s3", call, r, Bucket=p)
        if answer is not None and (answer.get(field) if field else answer) is not None:
            found[key] = answer.get(field) if field else answer
    if "BucketEncryption" in found:  # S3 names the CloudFormation key ServerSideEncryptionByDefault differently
        found["BucketEncryption"] = {"ServerSideEncryptionConfiguration": [
            {**rule, "ServerSideEncryptionByDefault": rule.get("ApplyServerSideEncryptionByDefault")}
            for rule in found["BucketEncryption"]["Rules"]]}
    if "LifecycleConfiguration" in found:  # S3 nests the expiration CloudFormation flattens
        found["LifecycleConfiguration"]["Rules"] = [{**rule, "ExpirationInDays": rule.get("Expiration", {}).get("Days")}
                                                    for rule in found["LifecycleConfiguration"]["Rules"]]
    if "LoggingConfiguration" in found:
        logging = found["LoggingConfiguration"]
        found["LoggingConfiguration"] = {"DestinationBucketName": logging["TargetBucket"], "LogFilePrefix": logging["TargetPrefix"]}
    return found


def _repository(a, r, p):
    repo = a.call("ecr", "DescribeRepositories", r, repositoryNames=[p])["repositories"][0]
    found = dict(repo)
    lifecycle = _optional(a.call, "ecr", "GetLifecyclePolicy", r, repositoryName=p)
    if lifecycle:
        found["LifecyclePolicy"] = {"LifecyclePolicyText": lifecycle["lifecyclePolicyText"]}
    found["Tags"] = a.call("ecr", "ListTagsForResource", r, resourceArn=repo["repositoryArn"])["tags"]
    policy = _optional(a.call, "ecr", "GetRepositoryPolicy", r, repositoryName=p)
    if policy:
        found["RepositoryPolicyText"] = policy["policyText"]
    return found


def _role(a, r, p):
    role = a.call("iam", "GetRole", r, RoleName=p)["Role"]
    role["ManagedPolicyArns"] = [x["PolicyArn"] for x in a.call("iam", "ListAttachedRolePolicies", r, RoleName=p)["AttachedPolicies"]]
    role["Policies"] = [{"PolicyName": name, "PolicyDocument": a.call("iam", "GetRolePolicy", r, RoleName=p, PolicyName=name)["PolicyDocument"]}
                        for name in a.call("iam", "ListRolePolicies", r, RoleName=p)["PolicyNames"]]
    return role


def _policy(a, r, p, props):
    roles = props.get("Roles", [])
    found = {"PolicyName": props["PolicyName"], "Roles": roles}
    documents = [a.call("iam", "GetRolePolicy", r, RoleName=role, PolicyName=props["PolicyName"])["PolicyDocument"]
                 for role in roles if isinstance(role, str)]
    found["PolicyDocument"] = documents[0] if documents else None
    return found


def _alarm(a, r, p, kind="MetricAlarms"):
    alarm = a.call("cloudwatch", "DescribeAlarms", r, AlarmNames=[p], AlarmTypes=[kind[:-1]])[kind][0]
    return {**alarm, "Tags": a.call("cloudwatch", "ListTagsForResource", r, ResourceARN=alarm["AlarmArn"])["Tags"]}


def _web_acl(a, p):
    acl = a.call("wafv2", "GetWebACL", "us-east-1", Name=p.split("|")[0], Id=p.split("|")[1], Scope="CLOUDFRONT")["WebACL"]
    tags = a.call("wafv2", "ListTagsForResource", "us-east-1", ResourceARN=acl["ARN"])["TagInfoForResource"]["TagList"]
    return {**acl, "Tags": tags}


def _security_group(a, r, p):
    group = a.call("ec2", "DescribeSecurityGroups", r, GroupIds=[p])["SecurityGroups"][0]

    def rules(permissions):  # EC2 groups rules by protocol and ports; CloudFormation lists one rule per peer
        flat = []
        for permission in permissions:
            ports = {k: permission[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in permission}
            flat += [{**ports, "CidrIp": x["CidrIp"], "Description": x.get("Description")} for x in permission.get("IpRanges", [])]
            flat += [{**ports, "DestinationPrefixListId": x["PrefixListId"], "SourcePrefixListId": x["PrefixListId"],
                      "Description": x.get("Description")} for x in permission.get("PrefixListIds", [])]
            flat += [{**ports, "SourceSecurityGroupId": x["GroupId"], "DestinationSecurityGroupId": x["GroupId"],
                      "Description": x.get("Description")} for x in permission.get("UserIdGroupPairs", [])]
        return flat

    return {**group, "GroupDescription": group["Description"], "SecurityGroupIngress": rules(group["IpPermissions"]),
            "SecurityGroupEgress": rules(group["IpPermissionsEgress"])}


def _vpc(a, r, p):
    vpc = a.call("ec2", "DescribeVpcs", r, VpcIds=[p])["Vpcs"][0]
    for attribute, key in (("enableDnsHostnames", "EnableDnsHostnames"), ("enableDnsSupport", "EnableDnsSupport")):
        vpc[attribute] = a.call("ec2", "DescribeVpcAttribute", r, VpcId=p, Attribute=attribute)[key]["Value"]
    return vpc


def _elb_tags(a, r, arn):
    return a.call("elbv2", "DescribeTags", r, ResourceArns=[arn])["TagDescriptions"][0]["Tags"]


def _cluster(a, r, p):
    cluster = a.call("ecs", "DescribeClusters", r, clusters=[p], include=["SETTINGS", "TAGS"])["clusters"][0]
    return {**cluster, "ClusterSettings": cluster.get("settings"), "tags": _tags(cluster.get("tags"))}


def _log_group(a, r, p):
    group = a.call("logs", "DescribeLogGroups", r, logGroupNamePrefix=p)["logGroups"][0]
    tags = a.call("logs", "ListTagsForResource", r, resourceArn=group["arn"].removesuffix(":*"))["tags"]
    return {**group, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


def _parameter(a, r, p):
    parameter = a.call("ssm", "GetParameter", r, Name=p)["Parameter"]
    described = a.call("ssm", "DescribeParameters", r, ParameterFilters=[{"Key": "Name", "Values": [p]}])["Parameters"][0]
    tags = a.call("ssm", "ListTagsForResource", r, ResourceType="Parameter", ResourceId=p)["TagList"]
    return {**parameter, "Description": described.get("Description"), "Tags": {t["Key"]: t["Value"] for t in tags}}


def _db_instance(a, r, p):
    """DescribeDBInstances in the template's names (the API renames several: IAMDatabaseAuthenticationEnabled, ...)."""
    i = a.call("rds", "DescribeDBInstances", r, DBInstanceIdentifier=p)["DBInstances"][0]
    # An Aurora cluster's instance has its subnets, groups and secret from the cluster, which reads them back.
    return {**i, "ManageMasterUserPassword": "MasterUserSecret" in i,
            "DBSubnetGroupName": (i.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
            "VPCSecurityGroups": [g["VpcSecurityGroupId"] for g in i.get("VpcSecurityGroups", [])],
            "DBParameterGroupName": next((g["DBParameterGroupName"] for g in i.get("DBParameterGroups", [])), None),
            "EnableIAMDatabaseAuthentication": i["IAMDatabaseAuthenticationEnabled"],
            "EnableCloudwatchLogsExports": i.get("EnabledCloudwatchLogsExports", []),
            "EnablePerformanceInsights": i.get("PerformanceInsightsEnabled", False), "Tags": i.get("TagList", [])}


def _db_cluster(a, r, p):
    """DescribeDBClusters in the template's names."""
    c = a.call("rds", "DescribeDBClusters", r, DBClusterIdentifier=p)["DBClusters"][0]
    return {**c, "ManageMasterUserPassword": "MasterUserSecret" in c, "DBSubnetGroupName": c.get("DBSubnetGroup"),
            "DBClusterParameterGroupName": c.get("DBClusterParameterGroup"),
            "VpcSecurityGroupIds": [g["VpcSecurityGroupId"] for g in c.get("VpcSecurityGroups", [])],
            "EnableIAMDatabaseAuthentication": c.get("IAMDatabaseAuthenticationEnabled", False),
            "EnableCloudwatchLogsExports": c.get("EnabledCloudwatchLogsExports", []), "Tags": c.get("TagList", [])}


def _db_cluster_parameter_group(a, r, p):
    group = a.call("rds", "DescribeDBClusterParameterGroups", r, DBClusterParameterGroupName=p)["DBClusterParameterGroups"][0]
    parameters = a.call("rds", "DescribeDBClusterParameters", r, DBClusterParameterGroupName=p, Source="user")["Parameters"]
    return {**group, "Family": group["DBParameterGroupFamily"], "Parameters": {x["ParameterName"]: x["ParameterValue"] for x in parameters},
            "Tags": a.call("rds", "ListTagsForResource", r, ResourceName=group["DBClusterParameterGroupArn"])["TagList"]}


def _db_parameter_group(a, r, p):
    group = a.call("rds", "DescribeDBParameterGroups", r, DBParameterGroupName=p)["DBParameterGroups"][0]
    parameters = a.call("rds", "DescribeDBParameters", r, DBParameterGroupName=p, Source="user")["Parameters"]
    return {**group, "Family": group["DBParameterGroupFamily"], "Parameters": {x["ParameterName"]: x["ParameterValue"] for x in parameters},
            "Tags": a.call("rds", "ListTagsForResource", r, ResourceName=group["DBParameterGroupArn"])["TagList"]}


def _db_subnet_group(a, r, p):
    group = a.call("rds", "DescribeDBSubnetGroups", r, DBSubnetGroupName=p)["DBSubnetGroups"][0]
    return {**group, "SubnetIds": [s["SubnetIdentifier"] for s in group["Subnets"]],
            "Tags": a.call("rds", "ListTagsForResource", r, ResourceName=group["DBSubnetGroupArn"])["TagList"]}


READERS = {
    "AWS::RDS::DBInstance": lambda a, r, p, s: _db_instance(a, r, p),
    "AWS::RDS::DBParameterGroup": lambda a, r, p, s: _db_parameter_group(a, r, p),
    "AWS::RDS::DBCluster": lambda a, r, p, s: _db_cluster(a, r, p),
    "AWS::RDS::DBClusterParameterGroup": lambda a, r, p, s: _db_cluster_parameter_group(a, r, p),
    "AWS::RDS::DBSubnetGroup": lambda a, r, p, s: _db_subnet_group(a, r, p),
    "AWS::ECS::TaskDefinition": lambda a, r, p, s: _task_definition(a, r, p),
    "AWS::ECS::Service": lambda a, r, p, s: _service(a, r, p),
    "AWS::ECS::Cluster": lambda a, r, p, s: _cluster(a, r, p),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": lambda a, r, p, s: _load_balancer(a, r, p),
    "AWS::ElasticLoadBalancingV2::TargetGroup": lambda a, r, p, s: {**_target_group(a, r, p), "Tags": _elb_tags(a, r, p)},
    "AWS::ElasticLoadBalancingV2::Listener": lambda a, r, p, s: {
        **a.call("elbv2", "DescribeListeners", r, ListenerArns=[p])["Listeners"][0], "Tags": _elb_tags(a, r, p)},
    "AWS::ElasticLoadBalancingV2::ListenerRule": lambda a, r, p, s: {
        **a.call("elbv2", "DescribeRules", r, RuleArns=[p])["Rules"][0], "ListenerArn": s.get("ListenerArn"), "Tags": _elb_tags(a, r, p)},
    "AWS::S3::Bucket": lambda a, r, p, s: _bucket(a, r, p),
    "AWS::S3::BucketPolicy": lambda a, r, p, s: {"Bucket": p, "PolicyDocument": a.call("s3", "GetBucketPolicy", r, Bucket=p)["Policy"]},
    "AWS::ECR::Repository": lambda a, r, p, s: _repository(a, r, p),
    "AWS::Logs::LogGroup": lambda a, r, p, s: _log_group(a, r, p),
    "AWS::SSM::Parameter": lambda a, r, p, s: _parameter(a, r, p),
    "AWS::IAM::Role": lambda a, r, p, s: _role(a, r, p),
    "AWS::IAM::Policy": lambda a, r, p, s: _policy(a, r, p, s),
    "AWS::CloudWatch::Alarm": lambda a, r, p, s: _alarm(a, r, p),
    "AWS::WAFv2::WebACL": lambda a, r, p, s: _web_acl(a, p),
    "AWS::WAFv2::LoggingConfiguration": lambda a, r, p, s: a.call("wafv2", "GetLoggingConfiguration", r, ResourceArn=p)["LoggingConfiguration"],
    "AWS::EC2::VPC": lambda a, r, p, s: _vpc(a, r, p),
    "AWS::EC2::Subnet": lambda a, r, p, s: a.call("ec2", "DescribeSubnets", r, SubnetIds=[p])["Subnets"][0],
    "AWS::EC2::RouteTable": lambda a, r, p, s: a.call("ec2", "DescribeRouteTables", r, RouteTableIds=[p])["RouteTables"][0],
    "AWS::EC2::InternetGateway": lambda a, r, p, s: a.call("ec2", "DescribeInternetGateways", r, InternetGatewayIds=[p])["InternetGateways"][0],
    "AWS::EC2::SecurityGroup": lambda a, r, p, s: _security_group(a, r, p),
    "AWS::EC2::FlowLog": lambda a, r, p, s: a.call("ec2", "DescribeFlowLogs", r, FlowLogIds=[p])["FlowLogs"][0],
    # IAM returns the provider's URL without its scheme (GetOpenIDConnectProvider reference).
    "AWS::IAM::OIDCProvider": lambda a, r, p, s: {**(found := a.call("iam", "GetOpenIDConnectProvider", r, OpenIDConnectProviderArn=p)),
                                                  "Url": "https://" + found["Url"]},
    # GetTopicAttributes has no name: a topic's name is the last part of its ARN.
    "AWS::SNS::Topic": lambda a, r, p, s: {**a.call("sns", "GetTopicAttributes", r, TopicArn=p)["Attributes"], "TopicName": p.rsplit(":", 1)[-1],
                                           "Tags": a.call("sns", "ListTagsForResource", r, ResourceArn=p)["Tags"]},
    "AWS::SNS::Subscription": lambda a, r, p, s: a.call("sns", "GetSubscriptionAttributes", r, SubscriptionArn=p)["Attributes"],
    "AWS::CloudWatch::CompositeAlarm": lambda a, r, p, s: _alarm(a, r, p, "CompositeAlarms"),
    "AWS::CloudWatch::Dashboard": lambda a, r, p, s: {"DashboardName": p, **a.call("cloudwatch", "GetDashboard", r, DashboardName=p)},
    "AWS::CloudFront::OriginAccessControl": lambda a, r, p, s: a.call("cloudfront", "GetOriginAccessControl", r,
                                                                      Id=p)["OriginAccessControl"],
    "AWS::CloudFront::CachePolicy": lambda a, r, p, s: {"CachePolicyConfig": extension_backend.get(a.account, p).config},
    "AWS::CloudFront::ResponseHeadersPolicy": lambda a, r, p, s: {"ResponseHeadersPolicyConfig": extension_backend.get(a.account, p).config},
    # No CloudFront VPC-origin API in the emulator: shipyard's extension backend keeps the configuration it was given.
    "AWS::CloudFront::VpcOrigin": lambda a, r, p, s: {"VpcOriginEndpointConfig": extension_backend.get(a.account, p).config,
                                                      "Tags": extension_backend.get(a.account, p).tags},
}
