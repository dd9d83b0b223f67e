"""Read the current state of an environment's stacks (the input the pure planner needs) and what their outputs say."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.aws import Aws
from shipyard.aws.cloudformation import Stack
from shipyard.config import Environment
from shipyard.errors import ShipyardError
from shipyard.naming import Output
from shipyard.synth import EnvironmentAssembly


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
    edge = aws.cloudformation(env.region).stack(env.names.edge_stack)
    if edge is None or Output.DISTRIBUTION_ID not in edge.outputs:
        return None
    return EdgeOutputs(edge.outputs[Output.DISTRIBUTION_ID], edge.outputs[Output.DISTRIBUTION_DOMAIN],
                       edge.outputs[Output.SITE_BUCKET])


def read_states(aws: Aws, assembly: EnvironmentAssembly) -> dict[str, Stack | None]:
    return {s.name: aws.cloudformation(s.region).stack(s.name) for s in assembly.stacks}


def deployed_templates(aws: Aws, assembly: EnvironmentAssembly) -> list[dict]:
    """The templates CloudFormation holds for the environment's existing stacks."""
    templates = (aws.cloudformation(stack.region).template(stack.name) for stack in assembly.stacks)
    return [t for t in templates if t is not None]


def task_definition_of(aws: Aws, env: Environment, family: str) -> str:
    """The service stack's current revision of a task definition family (the service's, or the one-off tasks')."""
    return next(r.physical_id for r in aws.cloudformation(env.region).resources(env.names.service_stack)
                if r.resource_type == "AWS::ECS::TaskDefinition" and f":task-definition/{family}:" in r.physical_id)


def edge_url(aws: Aws, env: Environment) -> str:
    """Where viewers reach the environment: its CloudFront domain, or on the embedded AWS its local edge."""
    edge = edge_outputs(aws, env)
    if aws.target.emulator is not None:
        return aws.target.emulator.local_edge(env.account, edge.distribution_id)
    return f"https://{edge.domain}"


def health_url(aws: Aws, env: Environment, given: str | None, path: str) -> str:
    """The health gate's URL: the one given, or the health path through the edge, as a viewer reaches it."""
    return given or edge_url(aws, env) + path
