"""Every property a template sets reads back: after deploy, CloudFormation's drift detection finds every stack in sync.

The embedded AWS must not drop what a template says: a dropped property would make `verify` (and any scanner run
against the emulator) report drift that is only an emulator gap, or miss a real one. Its drift detection
(localaws/cloudformation/drift.py) resolves each template as CloudFormation deployed it and reads every resource back
through the resource's own service API, as AWS's does; here it must check every resource of a type it reads, find each
in sync but for what releases change by design (stack_drift.OWNED_ELSEWHERE), and name why for each type it does not
read. The tamper cases (tests/deploy/test_verify_tampers.py) show it names a property that did change.
"""

from __future__ import annotations

import time

import pytest

from shipyard.checks.rules.stack_drift import owned_elsewhere
from shipyard.localaws.cloudformation.drift import NOT_CHECKED, READERS


def _detected(aws, stack) -> list[dict]:
    """Every resource drift detection checked in the stack (IN_SYNC, MODIFIED or DELETED)."""
    detection = aws.call("cloudformation", "DetectStackDrift", stack.region, StackName=stack.name)["StackDriftDetectionId"]
    for _ in range(600):
        status = aws.call("cloudformation", "DescribeStackDriftDetectionStatus", stack.region, StackDriftDetectionId=detection)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        time.sleep(0.05)
    assert status["DetectionStatus"] == "DETECTION_COMPLETE", status
    return aws.call("cloudformation", "DescribeStackResourceDrifts", stack.region, StackName=stack.name)["StackResourceDrifts"]


@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_template_property_reads_back(deployed, assemblies, env):
    from shipyard.aws.cloudformation import ResourceDrift

    aws = deployed[env]
    problems, checked, readable = [], 0, 0
    for stack in assemblies[env].stacks:
        deployed_ids = {r.logical_id for r in aws.cloudformation(stack.region).resources(stack.name)}
        readable += sum(1 for logical_id, r in stack.template()["Resources"].items()
                        if r["Type"] in READERS and logical_id in deployed_ids)
        for drift in _detected(aws, stack):
            checked += 1
            resource = ResourceDrift(drift["LogicalResourceId"], drift.get("PhysicalResourceId", ""), drift["ResourceType"],
                                     drift["StackResourceDriftStatus"], ())
            problems += [f"{stack.name} {resource.logical_id} ({resource.resource_type}) {p['PropertyPath']}: template says "
                         f"{p.get('ExpectedValue')}, API returns {p.get('ActualValue')}"
                         for p in drift.get("PropertyDifferences", []) if not owned_elsewhere(resource, p["PropertyPath"])]
            if drift["StackResourceDriftStatus"] == "DELETED":
                problems.append(f"{stack.name} {resource.logical_id} ({resource.resource_type}): deleted")
    assert not problems, "\n".join(problems)
    assert checked == readable > 50, (checked, readable)
    types = {r["Type"] for stack in assemblies[env].stacks for r in stack.template()["Resources"].values()}
    assert types - set(READERS) == set(NOT_CHECKED) & types, "a type is neither read back nor listed in NOT_CHECKED"
