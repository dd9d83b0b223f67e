"""What a rule's live half sees: one deployed environment, read through AWS's APIs, each resource once per run.

`shipyard verify` builds one LiveEnvironment and hands it to every rule with a live half (Rule.verify); a rule
reads the resource it guards from here, never from our own templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from shipyard.aws import Aws
from shipyard.aws.cloudfront import DistributionConfig, WebAcl
from shipyard.aws.ecs import Service
from shipyard.aws.elbv2 import LoadBalancer
from shipyard.aws.rds import LiveDatabase
from shipyard.aws.sns import Topic
from shipyard.aws.sqs import Queue
from shipyard.aws.stepfunctions import StateMachine
from shipyard.config import AppConfig, Environment
from shipyard.naming import Output, service_variable
from shipyard.previews import previews_of
from shipyard.synth import EnvironmentAssembly, StackArtifact


@dataclass(frozen=True)
class LiveFinding:
    passed: bool
    resource: str  # what was looked at
    detail: str  # what was found


class LiveEnvironment:
    """One deployed environment as AWS reports it; the reads several rules share are made once."""

    def __init__(self, aws: Aws, assembly: EnvironmentAssembly, app: AppConfig, *, distribution_id: str, distribution_domain: str,
                 edge_url: str) -> None:
        self.aws, self.assembly, self.app = aws, assembly, app
        self.env: Environment = assembly.environment
        self.region = self.env.region
        self.distribution_id, self.distribution_domain, self.edge_url = distribution_id, distribution_domain, edge_url
        self._stack_refs: dict[str, dict[str, Any]] = {}
        self._templates: dict[str, dict[str, Any]] = {}

    @property
    def bucket(self) -> str:
        return self.env.names.site_bucket

    @cached_property
    def service(self) -> Service | None:
        return self.aws.ecs(self.region).service_of(self.env.names.cluster, self.env.names.service)

    @cached_property
    def distribution(self) -> DistributionConfig:
        return self.aws.cloudfront().distribution_config(self.distribution_id)

    @cached_property
    def bucket_policy(self) -> dict[str, Any]:
        return self.aws.s3(self.region).policy(self.bucket) or {}

    @cached_property
    def web_acl(self) -> WebAcl | None:
        """The web ACL the distribution names, or None when it names none or the ACL does not exist."""
        return self.aws.waf().web_acl(self.distribution.web_acl) if self.distribution.web_acl else None

    @cached_property
    def previews(self) -> list[str]:
        """The names of the app's preview environments in this one (where it is [previews]' base), read once for
        every rule that looks at them."""
        return [p.name for p in previews_of(self.aws.cloudformation(self.region).stacks(), app=self.app.name, base=self.env.name)]

    @cached_property
    def load_balancer(self) -> LoadBalancer | None:
        return self.aws.elbv2(self.region).load_balancer(self.env.names.load_balancer)

    @cached_property
    def database(self) -> LiveDatabase | None:
        """The environment's RDS instance or Aurora cluster; None without a [database]."""
        if not any(stack.name == self.env.names.data_stack for stack in self.assembly.stacks):
            return None
        return self.aws.rds(self.region).database(self.env.names.database)

    @cached_property
    def database_clients(self) -> dict[str, set[str]]:
        """The services whose running task definition is handed the database's settings (PGHOST, as the blueprint does
        for [service] and each workload with `database = true`), each with its security groups: the only groups the
        database may admit."""
        ecs = self.aws.ecs(self.region)
        clients = {}
        for name, service in self.services.items():
            if service is None or not service.task_definition:
                continue
            secrets = {variable for container in ecs.task_definition(service.task_definition).containers for variable, _ in container.secrets}
            if "PGHOST" in secrets:
                clients[name] = set(service.network.security_groups)
        for name, machine in self.jobs.items():  # a job's runs: the task its state machine starts, in that network
            for run in machine.ecs_runs() if machine else []:
                definition = ecs.task_definition(str(run.get("TaskDefinition", "")))
                if any(variable == "PGHOST" for container in definition.containers for variable, _ in container.secrets):
                    groups = (run.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration", {}).get("SecurityGroups", [])
                    clients[name] = set(groups)
        # A base environment's previews: their tasks' one group, each preview with a database user of its own.
        foundation = self.aws.cloudformation(self.region).stack(self.env.names.foundation_stack)
        if foundation is not None and Output.PREVIEW_SECURITY_GROUP in foundation.outputs:
            clients["previews"] = {foundation.outputs[Output.PREVIEW_SECURITY_GROUP]}
        return clients

    def _resources(self, stack_name: str) -> dict[str, Any]:
        """The Resources of one of the environment's synthesized stacks (none where it has no such stack)."""
        stack = next((s for s in self.assembly.stacks if s.name == stack_name), None)
        return self.template(stack).get("Resources", {}) if stack else {}

    def template(self, stack: StackArtifact) -> dict[str, Any]:
        """The stack's synthesized template, read once per verify (every role's drift looks through every template);
        the checks only read it."""
        if stack.name not in self._templates:
            self._templates[stack.name] = stack.template()
        return self._templates[stack.name]

    def _declared_names(self, stack_name: str, kind: str, key: str) -> list[str]:
        """The names the stack gives its resources of `kind` (under `key`), where the template spells them out."""
        return [str(r["Properties"][key]) for r in self._resources(stack_name).values()
                if r.get("Type") == kind and isinstance((r.get("Properties") or {}).get(key), str)]

    @cached_property
    def jobs(self) -> dict[str, StateMachine | None]:
        """The state machines the blueprint declares for scheduled jobs, as Step Functions reports them (None where one
        does not exist)."""
        names = self._declared_names(self.env.names.service_stack, "AWS::StepFunctions::StateMachine", "StateMachineName")
        machines = self.aws.stepfunctions(self.region)
        return {name: machines.state_machine(name) for name in names}

    @cached_property
    def queues(self) -> dict[str, Queue | None]:
        """The SQS queues the foundation stack declares (each worker's and its dead-letter queue), as SQS reports them
        (None for one that does not exist)."""
        names = self._declared_names(self.env.names.foundation_stack, "AWS::SQS::Queue", "QueueName")
        sqs = self.aws.sqs(self.region)
        return {name: sqs.queue(name) for name in names}

    @cached_property
    def fan_out_topics(self) -> dict[str, Topic | None]:
        """The topics the foundation stack declares that deliver to queues ([topics.<name>]), as SNS reports them
        (None for one that does not exist)."""
        names = self._declared_names(self.env.names.foundation_stack, "AWS::SNS::Topic", "TopicName")
        sns = self.aws.sns(self.region)
        return {name: sns.topic(name) for name in names}

    @cached_property
    def declared_services(self) -> dict[str, dict[str, Any]]:
        """The ECS services the blueprint declares in the environment's service stack (the primary and each workload),
        each with its properties and, under "Variables", the names of its container's plain environment variables."""
        resources = self._resources(self.env.names.service_stack)
        found = {}
        for resource in resources.values():
            props = resource.get("Properties") or {}
            if resource.get("Type") != "AWS::ECS::Service" or not isinstance(props.get("ServiceName"), str):
                continue
            definition = resources.get((props.get("TaskDefinition") or {}).get("Ref", ""), {}).get("Properties", {})
            variables = {e["Name"] for c in definition.get("ContainerDefinitions", []) for e in c.get("Environment", [])}
            found[props["ServiceName"]] = {**props, "Variables": variables}
        return found

    @cached_property
    def services(self) -> dict[str, Service | None]:
        """Each declared ECS service as ECS reports it (None where it does not exist), read once for every rule."""
        ecs = self.aws.ecs(self.region)
        return {name: self.service if name == self.env.names.service else ecs.service_of(self.env.names.cluster, name)
                for name in self.declared_services}

    @cached_property
    def backend_callers(self) -> dict[str, list[str]]:
        """Each backend service (one that serves a Service Connect name) and the services declared to call it (their
        container has its address variable, naming.service_variable)."""
        return {name: [caller for caller, other in self.declared_services.items() if service_variable(name) in other["Variables"]]
                for name, props in self.declared_services.items() if (props.get("ServiceConnectConfiguration") or {}).get("Services")}

    def stack_refs(self, stack: StackArtifact, unresolved: str) -> dict[str, Any]:
        """What the stack's Ref and Fn::ImportValue resolved to when CloudFormation deployed it: pseudo parameters,
        parameters as resolved, each resource's physical id (`unresolved` where it has none) and the exports."""
        if stack.name not in self._stack_refs:
            cloudformation = self.aws.cloudformation(stack.region)
            deployed = cloudformation.stack(stack.name)
            refs: dict[str, Any] = {"AWS::Region": stack.region, "AWS::AccountId": self.aws.account, "AWS::Partition": "aws",
                                    "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": stack.name,
                                    **(deployed.parameters if deployed else {})}
            refs.update({r.logical_id: r.physical_id or unresolved for r in cloudformation.resources(stack.name)})
            refs.update({f"export:{name}": value for name, value in cloudformation.exports().items()})
            self._stack_refs[stack.name] = refs
        return self._stack_refs[stack.name]
