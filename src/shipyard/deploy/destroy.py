"""`destroy`: delete an environment's stacks in reverse deploy order, saying what is retained and why."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard import ui
from shipyard.aws import Aws
from shipyard.deploy.apply import check_account, delete_stack
from shipyard.synth import EnvironmentAssembly

_WHY = {
    "AWS::ECR::Repository": "holds the images releases and rollbacks need",
    "AWS::S3::Bucket": "holds the published site",
    "AWS::Logs::LogGroup": "holds the service's logs for investigation",
}


@dataclass(frozen=True)
class Retained:
    stack: str
    logical_id: str
    resource_type: str
    why: str


def retained_resources(assembly: EnvironmentAssembly) -> list[Retained]:
    """Resources CloudFormation keeps when their stack is deleted (DeletionPolicy Retain), and final snapshots (Snapshot)."""
    kept = []
    for stack in assembly.stacks:
        for logical_id, resource in stack.template().get("Resources", {}).items():
            if resource.get("DeletionPolicy") == "Retain":
                kept.append(Retained(stack.name, logical_id, resource["Type"],
                                     _WHY.get(resource["Type"], "deletion protection is on for this environment")))
            elif resource.get("DeletionPolicy") == "Snapshot":
                kept.append(Retained(stack.name, logical_id, resource["Type"],
                                     "the instance is deleted, a final snapshot of its data is kept (restore from it)"))
    return kept


def _unprotect_databases(aws: Aws, template: dict, region: str) -> None:
    """RDS refuses to delete a protected instance or cluster; the typed confirmation of destroy is the decision to delete it."""
    for resource in template.get("Resources", {}).values():
        cluster = resource["Type"] == "AWS::RDS::DBCluster"
        if (cluster or resource["Type"] == "AWS::RDS::DBInstance") and \
                str(resource["Properties"].get("DeletionProtection")).lower() == "true":
            identifier = resource["Properties"]["DBClusterIdentifier" if cluster else "DBInstanceIdentifier"]
            ui.info(f"{identifier}: turning deletion protection off (its final snapshot is kept)")
            aws.rds(region).allow_deletion(identifier, cluster=cluster)


def _deleted_buckets(template: dict) -> list[str]:
    """Named buckets CloudFormation will delete with the stack (so they must be emptied first)."""
    return [r["Properties"]["BucketName"] for r in template.get("Resources", {}).values()
            if r["Type"] == "AWS::S3::Bucket" and r.get("DeletionPolicy") != "Retain" and "BucketName" in r.get("Properties", {})]


def _empty_bucket(aws: Aws, bucket: str, region: str) -> None:
    """A bucket CloudFormation deletes must be empty, every version included."""
    s3 = aws.s3(region)
    s3.delete(bucket, s3.versions(bucket))


def destroy(aws: Aws, assembly: EnvironmentAssembly) -> list[str]:
    env = assembly.environment
    check_account(aws, env.account, env.name)
    deleted = []
    for stack in reversed(assembly.stacks):
        cloudformation = aws.cloudformation(stack.region)
        state = cloudformation.stack(stack.name)
        if state is None:
            continue
        if state.termination_protection:
            cloudformation.protect_from_termination(stack.name, False)
        for bucket in _deleted_buckets(stack.template()):
            _empty_bucket(aws, bucket, stack.region)
        _unprotect_databases(aws, stack.template(), stack.region)
        ui.info(f"{stack.name}: deleting")
        delete_stack(aws, stack)
        deleted.append(stack.name)
    return deleted
