"""Aurora PostgreSQL Serverless v2 as the environment's database ([database] engine = "aurora-postgresql").

Production's templates pass every check layer as a cluster with a writer and, with database_multi_az, a reader in
another zone; staging's may pause (a minimum of 0 ACUs). On the embedded AWS the cluster holds rows behind TLS with
the password RDS manages, every live check passes and drift detection reads the cluster back; a cluster parameter
group that stops requiring TLS is named by verify; destroy turns the cluster's deletion protection off and deletes it.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from shipyard.checks.engine import gated_synthesis
from shipyard.config import load_config
from shipyard.errors import ShipyardError
from tests.conftest import copy_example, deploy_example, in_accounts

pytestmark = pytest.mark.embedded

AURORA = '[database]\nengine = "aurora-postgresql"\n'


@pytest.fixture(scope="module")
def aurora(local_aws, own_accounts, tmp_path_factory):
    """The example with Aurora: production multi-AZ (a reader) with up to 8 ACUs, staging pausing when idle; production
    synthesized through deploy's gate and deployed."""
    path = in_accounts(copy_example(tmp_path_factory.mktemp("aurora") / "app"), own_accounts)
    text = path.read_text().replace("[database]\n", AURORA, 1)
    text = text.replace("[environments.staging]\n", "[environments.staging]\ndatabase_min_capacity = 0\n", 1)
    text = text.replace("[environments.production]\n", "[environments.production]\ndatabase_max_capacity = 8\n", 1)
    path.write_text(text)
    config = load_config(path)
    assemblies, failing = gated_synthesis(config, config.select(None), tmp_path_factory.mktemp("cdk.out"))
    assert failing == [], [f"{f.rule} {f.resource}: {f.message}" for f in failing]
    by_name = {a.environment.name: a for a in assemblies}
    deployed = deploy_example(local_aws, {"production": by_name["production"]}, config)
    return config, by_name, deployed["production"]


def _of(assembly, kind: str) -> dict[str, dict]:
    return {lid: r.get("Properties", {}) for s in assembly.stacks for lid, r in s.template()["Resources"].items() if r["Type"] == kind}


def test_a_cluster_with_a_writer_and_a_reader_where_multi_az_and_a_staging_that_pauses(aurora):
    config, assemblies, _ = aurora
    assert config.database.engine == "aurora-postgresql"
    production, staging = assemblies["production"], assemblies["staging"]
    [cluster] = _of(production, "AWS::RDS::DBCluster").values()
    assert cluster["Engine"] == "aurora-postgresql" and cluster["EngineVersion"] == "16.15"
    assert cluster["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 8}
    assert cluster["StorageEncrypted"] and cluster["ManageMasterUserPassword"] and cluster["DeletionProtection"]
    instances = sorted(_of(production, "AWS::RDS::DBInstance").values(), key=lambda i: i["PromotionTier"])
    assert [(i["DBInstanceClass"], i["PromotionTier"], i["PubliclyAccessible"]) for i in instances] == [
        ("db.serverless", 0, False), ("db.serverless", 1, False)]
    assert not any("ManageMasterUserPassword" in i or "StorageEncrypted" in i for i in instances)  # the cluster's
    [group] = _of(production, "AWS::RDS::DBClusterParameterGroup").values()
    assert group["Family"] == "aurora-postgresql16" and group["Parameters"] == {"rds.force_ssl": "1"}
    assert "/aws/rds/cluster/" in json.dumps(_of(production, "AWS::Logs::LogGroup"))
    [paused] = _of(staging, "AWS::RDS::DBCluster").values()
    assert paused["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0, "MaxCapacity": 2, "SecondsUntilAutoPause": 300}
    assert len(_of(staging, "AWS::RDS::DBInstance")) == 1
    alarms = {p.get("MetricName"): p for p in _of(production, "AWS::CloudWatch::Alarm").values()}
    assert alarms["ACUUtilization"]["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": production.environment.names.database}]
    assert "FreeStorageSpace" not in alarms  # Aurora's storage grows by itself


def test_the_cluster_holds_rows_over_tls_and_every_live_check_and_drift_pass(aurora):
    from shipyard.deploy.verify import verify
    from shipyard.localaws.cloudformation.drift import READERS

    config, assemblies, aws = aurora
    env = assemblies["production"].environment
    [cluster] = aws.call("rds", "DescribeDBClusters", env.region, DBClusterIdentifier=env.names.database)["DBClusters"]
    assert cluster["StorageEncrypted"] and cluster["DeletionProtection"] and cluster["Engine"] == "aurora-postgresql"
    assert sorted(m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"]) == [
        f"{env.names.database}-reader", f"{env.names.database}-writer"]
    secret = json.loads(aws.call("secretsmanager", "GetSecretValue", env.region,
                                 SecretId=cluster["MasterUserSecret"]["SecretArn"])["SecretString"])
    settings = {"host": cluster["Endpoint"], "port": cluster["Port"], "user": secret["username"], "password": secret["password"],
                "dbname": "app", "connect_timeout": 5}
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(**settings, sslmode="disable")  # rds.force_ssl in the cluster parameter group
    with psycopg.connect(**settings, sslmode="require") as connection:
        connection.execute("CREATE TABLE kept (note text)")
        connection.execute("INSERT INTO kept VALUES ('in the cluster')")
    with psycopg.connect(**settings, sslmode="require") as connection:
        assert connection.execute("SELECT note FROM kept").fetchall() == [("in the cluster",)]
    results = verify(aws, assemblies["production"], config.app)
    assert [f"{r.id}: {r.detail}" for r in results if not r.passed] == []
    assert "rotated" in next(r.detail for r in results if r.id == "SY-E801")
    assert {"AWS::RDS::DBCluster", "AWS::RDS::DBClusterParameterGroup"} <= set(READERS)  # drift reads the cluster back


def test_verify_names_a_cluster_parameter_group_that_stops_requiring_tls(aurora):
    from shipyard.deploy.verify import verify

    config, assemblies, aws = aurora
    env = assemblies["production"].environment
    [cluster] = aws.call("rds", "DescribeDBClusters", env.region, DBClusterIdentifier=env.names.database)["DBClusters"]
    group = cluster["DBClusterParameterGroup"]

    def force_ssl(value: str) -> None:
        aws.call("rds", "ModifyDBClusterParameterGroup", env.region, DBClusterParameterGroupName=group, Parameters=[
            {"ParameterName": "rds.force_ssl", "ParameterValue": value, "ApplyMethod": "pending-reboot"}])

    force_ssl("0")
    try:
        failed = {r.id: r.detail for r in verify(aws, assemblies["production"], config.app) if not r.passed}
        assert "SY-E801" in failed and f"parameter group {group} does not require TLS" in failed["SY-E801"], failed
        assert "rds.force_ssl" in failed.get("SY-E901", ""), failed  # drift detection names the property too
    finally:
        force_ssl("1")


def test_what_the_cluster_uses_cannot_be_deleted_from_under_it(aurora):
    """As AWS refuses (EC2 DependencyViolation; RDS InvalidDBParameterGroupState): the runbook's order for a moved
    database (shipyard's deploy first, then Copilot's stacks) rests on these refusals."""
    _, assemblies, aws = aurora
    env = assemblies["production"].environment
    [cluster] = aws.call("rds", "DescribeDBClusters", env.region, DBClusterIdentifier=env.names.database)["DBClusters"]
    with pytest.raises(ShipyardError, match="DependencyViolation"):
        aws.call("ec2", "DeleteSecurityGroup", env.region, GroupId=cluster["VpcSecurityGroups"][0]["VpcSecurityGroupId"])
    with pytest.raises(ShipyardError, match="InvalidDBParameterGroupState"):
        aws.call("rds", "DeleteDBClusterParameterGroup", env.region, DBClusterParameterGroupName=cluster["DBClusterParameterGroup"])


def test_destroy_turns_off_the_clusters_deletion_protection_and_deletes_it(aurora):
    from shipyard.deploy.destroy import destroy
    from shipyard.localaws.rds import postgres

    _, assemblies, aws = aurora
    env = assemblies["production"].environment
    assert env.names.data_stack in destroy(aws, assemblies["production"])
    with pytest.raises(ShipyardError, match=r"not found|DBClusterNotFound"):
        aws.call("rds", "DescribeDBClusters", env.region, DBClusterIdentifier=env.names.database)
    assert postgres.find(f"{env.account}/{env.region}/{env.names.database}") is None
