"""The adoption planner on its own (no AWS): what moves, what stays and why, and the templates of a move."""

from __future__ import annotations

from shipyard.copilot import adoption
from shipyard.copilot.adoption import CopilotStack, Move

APP = "shop"


def _stack(name: str, resources: dict, **tags: str) -> CopilotStack:
    return CopilotStack(name, {"copilot-application": APP, **{k.replace("_", "-"): v for k, v in tags.items()}},
                        {"Resources": {logical: {"Type": t} for logical, (t, _) in resources.items()}}, resources)


def test_what_moves_and_what_stays_with_its_reason():
    stacks = [
        _stack("StackSet-shop-infrastructure-x", {"Api": ("AWS::ECR::Repository", "shop/api"), "Old": ("AWS::ECR::Repository", "shop/legacy"),
                                                 "Artifacts": ("AWS::S3::Bucket", "stackset-shop-artifacts")}),
        _stack("shop-test-api", {"LogGroup": ("AWS::Logs::LogGroup", "/copilot/shop-test-api")}, copilot_environment="test",
               copilot_service="api"),
        _stack("shop-test-www", {"Bucket": ("AWS::S3::Bucket", "shop-test-www-bucket")}, copilot_environment="test", copilot_service="www"),
        _stack("shop-test-AddonsStack-1", {"Uploads": ("AWS::S3::Bucket", "shop-uploads"), "Db": ("AWS::RDS::DBCluster", "shopdb")},
               copilot_environment="test"),
    ]
    plan = adoption.plan_moves(stacks, app=APP, primary="api", workloads=set(), site="www")
    assert {(m.kind, m.workload, m.physical_id) for m in plan.moves} == {
        ("repository", "service", "shop/api"), ("log_group", "service", "/copilot/shop-test-api"), ("site_bucket", "service", "shop-test-www-bucket")}
    why = {k.physical_id: k.why for k in plan.kept}
    assert why["shop/legacy"] == "shop/legacy belongs to no workload in shipyard.toml"
    assert why["stackset-shop-artifacts"].startswith("Copilot's own")
    assert why["shop-uploads"].startswith("an addon's")
    assert why["shopdb"].startswith("an Aurora cluster")
    assert plan.adopted() == {"repositories": {"service": "shop/api"}, "log_groups": {"service": "/copilot/shop-test-api"},
                              "site_bucket": "shop-test-www-bucket"}


def test_a_place_shipyards_own_resource_holds_is_refused():
    plan = adoption.Plan(moves=[Move("repository", "service", "AWS::ECR::Repository", "shop/api", "src", "Api", "shop-test-foundation",
                                     "RegistryRepository")])
    adoption.held_already(plan, {"shop-test-foundation": {"RegistryRepository": "shop/test"}})
    assert plan.refusals == ["shop-test-foundation/RegistryRepository holds shipyard's own AWS::ECR::Repository shop/test where "
                             "shop/api would go: adopt before an environment's first deploy, or `shipyard destroy` it first (what it "
                             "holds goes with it)"]
    done = adoption.Plan(moves=list(plan.moves))
    adoption.held_already(done, {"shop-test-foundation": {"RegistryRepository": "shop/api"}})  # imported already: not a conflict
    assert done.refusals == []


def test_letting_go_resolves_every_reference_and_an_unknown_attribute_refuses():
    template = {"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Policy": {"Type": "AWS::S3::BucketPolicy", "DependsOn": ["Bucket"], "Properties": {
            "Bucket": {"Ref": "Bucket"}, "Resources": [{"Fn::GetAtt": "Bucket.Arn"}, {"Fn::Sub": "${Bucket.Arn}/*"}]}}},
        "Outputs": {"Domain": {"Value": {"Fn::GetAtt": ["Bucket", "RegionalDomainName"]}},
                    "Odd": {"Value": {"Fn::GetAtt": ["Bucket", "MetadataTableConfiguration"]}}}}
    values = {"Bucket": adoption.attribute_values("AWS::S3::Bucket", "b1", account="1", region="eu-west-1")}
    retained = adoption.retained(template, {"Bucket"})
    assert retained["Resources"]["Bucket"]["DeletionPolicy"] == "Retain" and "DeletionPolicy" not in template["Resources"]["Bucket"]
    detached, unresolved = adoption.detached(retained, values)
    assert "Bucket" not in detached["Resources"] and "DependsOn" not in detached["Resources"]["Policy"]
    assert detached["Resources"]["Policy"]["Properties"] == {"Bucket": "b1", "Resources": ["arn:aws:s3:::b1", {"Fn::Sub": "arn:aws:s3:::b1/*"}]}
    assert detached["Outputs"]["Domain"]["Value"] == "b1.s3.eu-west-1.amazonaws.com"
    assert unresolved == ["Outputs.Odd.Value: Fn::GetAtt Bucket.MetadataTableConfiguration"]


def test_an_import_carries_the_identifier_and_what_creation_fixes_only():
    desired = {"Resources": {"Repo": {"Type": "AWS::ECR::Repository", "Properties": {
        "RepositoryName": "shop/api", "ImageTagMutability": "IMMUTABLE", "EncryptionConfiguration": {"EncryptionType": "AES256"},
        "RepositoryPolicyText": {"Statement": [{"Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::1:root"}}}]}}}}}
    template, missing = adoption.import_template({"Resources": {"Other": {"Type": "AWS::SQS::Queue"}}}, desired, {"Repo"})
    assert template["Resources"]["Other"] == {"Type": "AWS::SQS::Queue"}
    assert template["Resources"]["Repo"] == {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                                             "Properties": {"RepositoryName": "shop/api", "EncryptionConfiguration": {"EncryptionType": "AES256"}}}
    assert missing == []
    named_by_reference = {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Ref": "Name"}}}}}
    assert adoption.import_template(None, named_by_reference, {"Logs"})[1] == ["Logs.LogGroupName"]


def _addon_with_cluster() -> CopilotStack:
    resources = {"Subnets": ("AWS::RDS::DBSubnetGroup", "addon-subnets-x"), "Cluster": ("AWS::RDS::DBCluster", "addon-cluster-x"),
                 "Writer": ("AWS::RDS::DBInstance", "addon-writer-x"), "Secret": ("AWS::SecretsManager::Secret", "arn:secret")}
    template = {"Resources": {
        "Subnets": {"Type": "AWS::RDS::DBSubnetGroup"}, "Secret": {"Type": "AWS::SecretsManager::Secret"},
        "Cluster": {"Type": "AWS::RDS::DBCluster", "Properties": {"DBSubnetGroupName": {"Ref": "Subnets"}}},
        "Writer": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBClusterIdentifier": {"Ref": "Cluster"}}}}}
    return CopilotStack("shop-test-AddonsStack-1", {"copilot-application": APP, "copilot-environment": "test"}, template, resources)


def test_an_aurora_cluster_moves_with_its_writer_and_subnet_group_where_database_runs_in_its_vpc():
    stack = _addon_with_cluster()
    assert not adoption.plan_moves([stack], app=APP, primary="api", workloads=set(), site=None).moves  # no Aurora [database] there
    plan = adoption.plan_moves([stack], app=APP, primary="api", workloads=set(), site=None, database=True)
    assert plan.adopted() == {"database": "addon-cluster-x", "database_writer": "addon-writer-x", "database_subnet_group": "addon-subnets-x"}
    assert [k.physical_id for k in plan.kept] == ["arn:secret"]  # the addon's secret: shipyard's [database] has RDS manage one
    adoption.same_network(plan, {"addon-subnets-x": "vpc-0aaa"}, "vpc-0bbb")
    assert plan.refusals == ["AWS::RDS::DBSubnetGroup addon-subnets-x (shop-test-AddonsStack-1/Subnets): its subnets are in vpc-0aaa, "
                             "but the environment's network is vpc-0bbb; the cluster cannot leave its VPC without a copy, so "
                             "[environments.<env>.network] must name that VPC"]


def test_a_cluster_created_otherwise_than_shipyards_template_says_is_refused_naming_the_property():
    plan = adoption.plan_moves([_addon_with_cluster()], app=APP, primary="api", workloads=set(), site=None, database=True)
    placed = [Move(**{**m.__dict__, "target_stack": "shop-test-data", "target_logical": "DatabaseCluster"}) for m in plan.moves
              if m.kind == "database"]
    plan = adoption.Plan(moves=placed)
    templates = {"shop-test-data": {"Resources": {"DatabaseCluster": {"Type": "AWS::RDS::DBCluster", "Properties": {
        "Engine": "aurora-postgresql", "DatabaseName": "shop", "MasterUsername": "app_owner", "StorageEncrypted": True}}}}}
    live = adoption.cluster_form(engine="aurora-postgresql", database_name="shop", master_username="postgres", encrypted=True)
    adoption.compare(plan, templates, {"addon-cluster-x": live})
    [refusal] = plan.refusals
    assert refusal.startswith("AWS::RDS::DBCluster addon-cluster-x (shop-test-AddonsStack-1/Cluster): MasterUsername is postgres "
                              "there but app_owner in shipyard's template")


def test_a_moving_buckets_policy_is_let_go_with_it_so_deleting_copilots_stack_keeps_the_bucket_policed():
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"},
                              "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Bucket"}}}}}
    stack = CopilotStack("shop-test-www", {"copilot-application": APP, "copilot-environment": "test", "copilot-service": "www"},
                         template, {"Bucket": ("AWS::S3::Bucket", "shop-test-www-bucket"), "Policy": ("AWS::S3::BucketPolicy", "p")})
    plan = adoption.plan_moves([stack], app=APP, primary="api", workloads=set(), site="www")
    assert [m.physical_id for m in plan.moves] == ["shop-test-www-bucket"] and plan.released == [("shop-test-www", "Policy")]
