"""`shipyard adopt test --from-copilot` on the embedded AWS: a deployed Copilot app (tests/copilot/copilot_shapes.py)
with data in it moves into the stacks of the config `import copilot` wrote; deleting Copilot's stacks afterwards
deletes none of it, and `shipyard up --aws` (deploy, publish, verify of both environments) on the imported config
passes with the moved resources in place.

What is moved: the ECR repositories with their images, the Static Site's bucket with its files, each workload's log
group with its events, the Aurora cluster with its rows (with its writer and subnet group; the environment runs in the
VPC the Copilot environment imported). A property an import cannot take refuses the whole move before anything changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from shipyard.aws import Aws
from shipyard.config import load_config
from tests.conftest import LIVE_CHECKS, accounts_of
from tests.copilot import copilot_shapes, copilot_workspace
from tests.copilot.copilot_shapes import APP, ENV, REGION, SITE_BUCKET, WORKLOADS

ACCOUNT, PRODUCTION = accounts_of(__name__)
RECORDS = "7" + ACCOUNT[1:]  # the Copilot application's account, where its records are
pytestmark = [pytest.mark.embedded, pytest.mark.long]  # a minute of a worker in the full suite: handed out first

@pytest.fixture(scope="module")
def app(local_aws, tmp_path_factory, request):
    from shipyard.app.target import embedded

    directory = copilot_workspace(tmp_path_factory.mktemp("copilot") / "shop")
    aws = Aws(embedded(local_aws.endpoint), ACCOUNT)
    data = copilot_shapes.deploy(aws, ACCOUNT)
    # The test environment's manifest imports the VPC the team made (its ids are the embedded AWS's).
    manifest = directory / "copilot" / "environments" / "test" / "manifest.yml"
    text = manifest.read_text().replace("vpc-0a1b2c3d4e5f60718", data["network"]["vpc"])
    for index, subnet in enumerate([*data["network"]["public"], *data["network"]["private"]], start=1):
        text = text.replace(f"subnet-0a1b2c3d4e5f6000{index}", subnet)
    manifest.write_text(text)
    return directory, aws, data


def test_import_reads_each_environments_account_and_region_from_copilots_records(cli, local_aws, tmp_path):
    """Copilot keeps each environment's account and region in the application account's SSM parameters
    (/copilot/applications/<app>/environments/<env>, JSON): with --endpoint (or --aws) import needs no --account."""
    from shipyard.app.target import embedded

    records = Aws(embedded(local_aws.endpoint), RECORDS)
    for name, account, region in (("test", ACCOUNT, REGION), ("prod", PRODUCTION, "eu-central-1")):
        records.call("ssm", "PutParameter", REGION, Name=f"/copilot/applications/{APP}/environments/{name}", Type="String",
                     Value=json.dumps({"app": APP, "name": name, "region": region, "accountID": account, "prod": name == "prod"}))
    directory = copilot_workspace(tmp_path / "shop")
    missing = cli("import", "copilot", str(directory), "--region", REGION, "--endpoint", local_aws.endpoint)
    assert missing.code == 2 and "--app-account: is required with --endpoint" in missing.err
    result = cli("import", "copilot", str(directory), "--region", REGION, "--endpoint", local_aws.endpoint, "--app-account", RECORDS)
    assert result.code == 0, result.err
    config = load_config(directory / "shipyard.toml")
    assert [(e.name, e.account, e.region) for e in config.environments.values()] == [
        ("test", ACCOUNT, REGION), ("prod", PRODUCTION, "eu-central-1")]


def _run(cli, app, *args):
    directory, _, _ = app
    return cli("--config", str(directory / "shipyard.toml"), *args)


def test_import_then_adopt_moves_images_files_logs_and_the_database_and_copilot_can_go(cli, app, local_aws, tmp_path):
    directory, aws, data = app
    endpoint = ["--endpoint", local_aws.endpoint]
    # With AWS in reach, import reads the imported VPC's subnets: the environment runs in that VPC, where its cluster is.
    # Copilot's test and prod share an account here: prod imports the account's GitHub OIDC provider.
    imported = cli("import", "copilot", str(directory), "--account", f"test={ACCOUNT}", "--account", f"prod={ACCOUNT}",
                   "--region", REGION, *endpoint, "--app-account", ACCOUNT)
    assert imported.code == 0, imported.err
    assert load_config(directory / "shipyard.toml").environment("prod").oidc_provider_arn == (
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com")
    network = load_config(directory / "shipyard.toml").environment("test").network
    assert network is not None and network.vpc_id == data["network"]["vpc"]
    assert [(s.id, s.zone) for s in network.private_subnets] == [(s, f"{REGION}{z}") for s, z in zip(data["network"]["private"], "ab", strict=True)]
    before = (directory / "shipyard.toml").read_text()

    # A network shipyard.toml describes otherwise than AWS does is refused before any change: here the public and
    # private subnets swapped (the load balancer would sit in subnets routed to the internet).
    swapped = directory / "swapped.toml"
    swapped.write_text(before.replace("public_subnets", "PUBLIC").replace("private_subnets", "public_subnets").replace(
        "PUBLIC", "private_subnets"))
    refused = cli("--config", str(swapped), "plan", "test", *endpoint)
    assert refused.code == 2 and refused.err.count("\n") == 2, refused.err  # the error and its hint
    assert f"environments.test.network: public_subnets: {network.private_subnets[0].id} has no route to an internet gateway" in refused.err
    assert f"private_subnets: {network.public_subnets[0].id} routes to an internet gateway" in refused.err
    assert _holders(aws, SITE_BUCKET) == [f"{APP}-{ENV}-www"]  # nothing moved, nothing made
    swapped.unlink()

    # A property an import cannot take: the bucket is encrypted with KMS, shipyard's template says AES256.
    aws.call("s3", "PutBucketEncryption", REGION, Bucket=SITE_BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/aws/s3"}}]})
    refused = _run(cli, app, "adopt", "test", "--from-copilot", *endpoint)
    assert refused.code == 4, refused.err
    assert f"AWS::S3::Bucket {SITE_BUCKET} ({APP}-{ENV}-www/Bucket): BucketEncryption is aws:kms (alias/aws/s3) there but AES256" in refused.err
    assert "nothing was changed" in refused.err
    assert (directory / "shipyard.toml").read_text() == before
    assert _holders(aws, SITE_BUCKET) == [f"{APP}-{ENV}-www"]
    aws.call("s3", "PutBucketEncryption", REGION, Bucket=SITE_BUCKET, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})

    # The plan, and nothing done.
    planned = _run(cli, app, "adopt", "test", "--from-copilot", "--dry-run", *endpoint)
    assert planned.code == 0, planned.err
    assert f"{APP}/api" in planned.out and SITE_BUCKET in planned.out and f"/copilot/{APP}-{ENV}-orders" in planned.out
    assert "nothing was changed" in planned.out
    # The addon's own secret stays with its stack: [database]'s password will be one RDS manages.
    assert "AWS::SecretsManager::Secret" in planned.out and "a secret made by an addon stays with its addon's stack" in planned.out
    cluster = copilot_shapes.copilot_credentials(aws)["dbClusterIdentifier"]
    assert cluster in planned.out  # the Aurora cluster moves, with its writer and subnet group
    # Copilot's pipeline bucket is its own, not the app's; the secrets shipyard.toml references stay, each checked.
    assert "Copilot's own (the pipeline's artifacts)" in planned.out
    assert f"/copilot/{APP}/{ENV}/secrets/PAYMENT_KEY" in planned.out and "stays where it is, referenced by this name" in planned.out
    assert "GH_TOKEN_SECRET" in planned.out and "MISSING in this account" in planned.out  # the worker's, never made
    assert "pk_test_42" not in planned.out + planned.err
    assert (directory / "shipyard.toml").read_text() == before

    adopted = _run(cli, app, "adopt", "test", "--from-copilot", *endpoint)
    assert adopted.code == 0, adopted.err
    table = (directory / "shipyard.toml").read_text().removeprefix(before)
    assert "[environments.test.adopted]" in table and f'service = "{APP}/api"' in table and f'site_bucket = "{SITE_BUCKET}"' in table
    assert f'database = "{cluster}"' in table and "database_writer = " in table and "database_subnet_group = " in table

    # Now in shipyard's stacks, and in no Copilot stack.
    assert _holders(aws, f"{APP}/api") == [f"{APP}-test-foundation"]
    assert _holders(aws, f"{APP}/orders") == [f"{APP}-test-foundation"]
    assert _holders(aws, SITE_BUCKET) == [f"{APP}-test-edge"]
    assert _holders(aws, f"/copilot/{APP}-{ENV}-nightly") == [f"{APP}-test-service"]
    assert _holders(aws, cluster, "AWS::RDS::DBCluster") == [f"{APP}-test-data"]

    # shipyard's deploy brings each moved resource to its template (the cluster to shipyard's security group and
    # parameter group, its password to one RDS manages), then Copilot's stacks go, and verify passes (drift included:
    # an import applies no property, the deploy after it applies them all).
    copilot = copilot_shapes.copilot_credentials(aws)
    # `shipyard up --aws` as an operator runs it against that account (rehearsed through the SDK's endpoint setting):
    # the policy gate, then both environments deployed, their sites published and verified.
    up = subprocess.run([sys.executable, "-m", "shipyard", "up", "--aws", "--yes"], cwd=directory, capture_output=True, text=True,
                        timeout=600, env=_operator(aws, local_aws.endpoint, tmp_path))
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    rows = [line.split("\t") for line in up.stdout.splitlines() if line.startswith(("test\t", "prod\t"))]
    assert [(row[0], row[6]) for row in rows] == [("test", f"{LIVE_CHECKS}/{LIVE_CHECKS} pass"), ("prod", f"{LIVE_CHECKS}/{LIVE_CHECKS} pass")], up.stdout
    # Again: nothing is left to move, and nothing changes.
    again = _run(cli, app, "adopt", "test", "--from-copilot", *endpoint)
    assert again.code == 0, again.err
    assert "nothing left to move" in again.out and "imported" not in again.out
    for name, _, _ in reversed(copilot_shapes.stacks(ACCOUNT, data["network"])):  # `copilot app delete`
        aws.call("cloudformation", "DeleteStack", REGION, StackName=name)
        assert _gone(aws, name), name
    verified = _run(cli, app, "verify", "test", *endpoint)
    assert verified.code == 0, verified.out + verified.err
    assert next(line for line in verified.out.splitlines() if line.startswith("SY-E704")).split("\t")[3] == f"{APP}-test-api-orders"
    # The API's topic fans out to the orders worker's queue, in SNS's envelope as Copilot delivered it.
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{APP}-test-api-orders"
    aws.call("sns", "Publish", REGION, TopicArn=topic, Message='{"order": 7}')
    queue = aws.call("sqs", "GetQueueUrl", REGION, QueueName=f"{APP}-test-orders")["QueueUrl"]
    received = aws.call("sqs", "ReceiveMessage", REGION, QueueUrl=queue, WaitTimeSeconds=2)["Messages"]
    assert [json.loads(m["Body"])["Message"] for m in received] == ['{"order": 7}']
    repository = aws.call("ecr", "DescribeRepositories", REGION, repositoryNames=[f"{APP}/api"])["repositories"][0]
    assert repository["imageTagMutability"] == "IMMUTABLE"  # shipyard's template, applied in place

    # Every image, file and log event stayed.
    for workload in WORKLOADS:
        images = aws.call("ecr", "DescribeImages", REGION, repositoryName=f"{APP}/{workload}")["imageDetails"]
        assert [i["imageDigest"] for i in images] == [data["digests"][workload]]
        events = aws.call("logs", "FilterLogEvents", REGION, logGroupName=f"/copilot/{APP}-{ENV}-{workload}")["events"]
        assert [e["message"] for e in events] == [f"{workload} served its first request"]
    # The site's files: `up` published the same site, so none was replaced by anything else or deleted.
    for path in (p for p in copilot_shapes.SITE.rglob("*") if p.is_file()):
        key = str(path.relative_to(copilot_shapes.SITE))
        assert aws.call("s3", "GetObject", REGION, Bucket=SITE_BUCKET, Key=key)["Body"].read() == path.read_bytes(), key
    secret = aws.call("ssm", "GetParameter", REGION, Name=f"/copilot/{APP}/{ENV}/secrets/PAYMENT_KEY", WithDecryption=True)
    assert secret["Parameter"]["Value"] == "pk_test_42"
    # Every row stayed, in the same cluster: now over TLS with the password RDS manages; Copilot's password is gone.
    [described] = aws.call("rds", "DescribeDBClusters", REGION, DBClusterIdentifier=cluster)["DBClusters"]
    managed = json.loads(aws.call("secretsmanager", "GetSecretValue", REGION,
                                  SecretId=described["MasterUserSecret"]["SecretArn"])["SecretString"])
    with copilot_shapes.connect({**copilot, **managed}, sslmode="require") as connection:
        assert connection.execute("SELECT item FROM orders ORDER BY id").fetchall() == [("tea",), ("cake",)]
    with pytest.raises(psycopg.OperationalError):
        copilot_shapes.connect(copilot, sslmode="require")



def _gone(aws: Aws, stack: str) -> bool:
    """The stack's deletion completed (nothing it held was refused)."""
    found = aws.call("cloudformation", "ListStacks", REGION)["StackSummaries"]
    return any(s["StackName"] == stack and s["StackStatus"] == "DELETE_COMPLETE" for s in found)


def _operator(aws: Aws, endpoint: str, home) -> dict[str, str]:
    """An operator's shell: a profile with a role in the app's account, the SDK pointed at the embedded AWS."""
    from shipyard.localaws.server import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

    aws.call("iam", "CreateRole", "us-east-1", RoleName="operator", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}))
    (home / "config").write_text(f"[profile runner]\naws_access_key_id = {LOCAL_ACCESS_KEY}\naws_secret_access_key = {LOCAL_SECRET_KEY}\n\n"
                                 f"[profile operator]\nsource_profile = runner\nrole_arn = arn:aws:iam::{ACCOUNT}:role/operator\n"
                                 f"role_session_name = operator\nregion = {REGION}\n")
    return {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_ENDPOINT_URL": endpoint, "AWS_PROFILE": "operator"}


HELD_TYPES = ("AWS::ECR::Repository", "AWS::S3::Bucket", "AWS::Logs::LogGroup")


def _holders(aws: Aws, physical_id: str, *types: str) -> list[str]:
    """The stacks that hold a resource of this name and of these types (a repository, bucket or log group where none
    are given: a bucket policy has its bucket's)."""
    held = []
    for stack in aws.call("cloudformation", "DescribeStacks", REGION)["Stacks"]:
        resources = aws.call("cloudformation", "DescribeStackResources", REGION, StackName=stack["StackName"])["StackResources"]
        if any(r.get("PhysicalResourceId") == physical_id and r["ResourceType"] in (types or HELD_TYPES) for r in resources):
            held.append(stack["StackName"])
    return held
