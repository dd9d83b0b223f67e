"""Read the current state of an environment's stacks (the input the pure planner needs)."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.aws import Aws, AwsError
from shipyard.config import Environment
from shipyard.deploy.plan import StackState
from shipyard.errors import ShipyardError
from shipyard.naming import Output
from shipyard.synth import EnvironmentAssembly


def read_stack(aws: Aws, name: str, region: str) -> StackState | None:
    try:
        stacks = aws.call("cloudformation", "DescribeStacks", region, StackName=name)["Stacks"]
    except AwsError as exc:
        if exc.not_found:
            return None
        raise
    if not stacks:
        return None
    stack = stacks[0]
    return StackState(
        name=name,
        status=stack["StackStatus"],
        reason=stack.get("StackStatusReason", ""),
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", []) or []},
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", []) or []},
        termination_protection=bool(stack.get("EnableTerminationProtection")),
    )


@dataclass(frozen=True)
class EdgeOutputs:
    distribution_id: str
    domain: str
    site_bucket: str


def edge_outputs(aws: Aws, env: Environment) -> EdgeOutputs:
    """The deployed edge stack's distribution and bucket; it must be deployed."""
    found = deployed_edge(aws, env)
    if found is None:
        raise ShipyardError(env.names.edge_stack, "is not deployed", f"run `shipyard deploy {env.name}` first")
    return found


def deployed_edge(aws: Aws, env: Environment) -> EdgeOutputs | None:
    """The edge stack's outputs, or None while it is not deployed."""
    edge = read_stack(aws, env.names.edge_stack, env.region)
    if edge is None or Output.DISTRIBUTION_ID not in edge.outputs:
        return None
    return EdgeOutputs(edge.outputs[Output.DISTRIBUTION_ID], edge.outputs[Output.DISTRIBUTION_DOMAIN],
                       edge.outputs[Output.SITE_BUCKET])


def read_states(aws: Aws, assembly: EnvironmentAssembly) -> dict[str, StackState | None]:
    return {s.name: read_stack(aws, s.name, s.region) for s in assembly.stacks}


def stack_events(aws: Aws, name: str, region: str) -> list[dict]:
    """Events newest first, as CloudFormation returns them; none for a stack that is gone."""
    try:
        return aws.paginate("cloudformation", "DescribeStackEvents", region, "StackEvents", StackName=name)
    except AwsError as exc:
        if exc.not_found:
            return []
        raise


def deployed_templates(aws: Aws, assembly: EnvironmentAssembly) -> list[dict]:
    """The templates CloudFormation holds for the environment's existing stacks."""
    import json

    templates = []
    for stack in assembly.stacks:
        try:
            body = aws.call("cloudformation", "GetTemplate", stack.region, StackName=stack.name)["TemplateBody"]
        except AwsError as exc:
            if exc.not_found:
                continue
            raise
        templates.append(body if isinstance(body, dict) else json.loads(body))
    return templates


def task_definition_of(aws: Aws, env: Environment, family: str) -> str:
    """The service stack's current revision of a task definition family (the service's, or the one-off tasks')."""
    resources = aws.call("cloudformation", "DescribeStackResources", env.region, StackName=env.names.service_stack)
    return next(r["PhysicalResourceId"] for r in resources["StackResources"]
                if r["ResourceType"] == "AWS::ECS::TaskDefinition" and f":task-definition/{family}:" in r.get("PhysicalResourceId", ""))


def edge_url(aws: Aws, env: Environment) -> str:
    """Where viewers reach the environment: its CloudFront domain, or on the embedded AWS its local edge."""
    edge = edge_outputs(aws, env)
    if aws.target.local_edge is not None:
        return aws.target.local_edge(env.account, edge.distribution_id)
    return f"https://{edge.domain}"
