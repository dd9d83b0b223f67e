"""A scheduled job: EventBridge Scheduler starts a Step Functions state machine that runs the job's Fargate task once
and judges it, as Copilot's scheduled jobs did.

Why a state machine between the schedule and the task: ECS's RunTask has no timeout and a run's exit code is nobody's
verdict (a schedule that targets ECS directly succeeds once RunTask answers). The state machine runs the task with the
`ecs:runTask.sync` integration, which waits for the task to stop and stops it when the state's timeout passes (Step
Functions developer guide, "Run Amazon ECS or Fargate tasks with Step Functions"); the integration succeeds whatever
the container's exit code, so a Choice state fails the execution on anything but 0. A failed or timed-out run is
then a failed execution, which AWS/States counts (ExecutionsFailed) and the job's alarm watches.

The schedule (cron or rate, in the job's time zone) retries a start it could not make and sends what it could never
start to the job's dead-letter queue (EventBridge Scheduler user guide, "Configuring a dead-letter queue"). Its role may
start this state machine only and send to that queue only; the state machine's role may run this task family only and
pass only the job's two roles. Until the job's first release (its image parameter holds naming.NO_IMAGE) the schedule
is DISABLED, so a fresh environment never runs a job without an image.
"""

from __future__ import annotations

from aws_cdk import CfnCondition, CfnParameter, Duration, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from shipyard.blueprint.service import container_secret, fargate_task
from shipyard.blueprint.suppressions import (
    EXECUTION_ROLE_STANDARD_GRANTS,
    FAILED_INVOCATIONS_QUEUE,
    JOB_RUN_TASK_READS,
    PLAIN_SETTINGS_ONLY,
    suppress,
)
from shipyard.naming import CONTAINER, NO_IMAGE, SERVICE_LOG_PREFIX, WorkloadNames

# How long the scheduler keeps retrying a start it could not make before the invocation goes to the dead-letter queue.
MAXIMUM_EVENT_AGE = Duration.hours(1)
FAILED_INVOCATION_RETENTION = Duration.days(14)
EXIT_CODE = "$.ExitCode"


class ScheduledJob(Construct):
    def __init__(self, scope: Construct, id: str, *, cluster: ecs.ICluster, subnets: ec2.SubnetSelection,
                 security_group: ec2.ISecurityGroup, repository: ecr.IRepository, names: WorkloadNames, log_retention_days: int,
                 architecture: str, cpu: int, memory: int, command: list[str] | None, environment: dict[str, str],
                 secrets: dict[str, str], granted_secrets: dict[str, ecs.Secret] | None, retain: bool, schedule: str,
                 timezone: str, timeout_minutes: int, retries: int) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.image = CfnParameter(self, "Image", type="AWS::SSM::Parameter::Value<String>", default=names.image_parameter,
                                  description=f"SSM parameter holding {names.workload}'s released image (repository@sha256:digest)")
        has_image = CfnCondition(self, "HasImage", expression=Fn.condition_not(Fn.condition_equals(self.image.value_as_string, NO_IMAGE)))
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=names.log_group, removal_policy=removal)
        self.log_group.node.default_child.retention_in_days = log_retention_days
        self.task_definition = fargate_task(self, names=names, cpu=cpu, memory=memory, architecture=architecture)
        image = self.image.value_as_string
        self.task_definition.add_container(
            CONTAINER, image=ecs.ContainerImage.from_registry(image), command=command,
            logging=ecs.LogDriver.aws_logs(stream_prefix=SERVICE_LOG_PREFIX, log_group=self.log_group,
                                           mode=ecs.AwsLogDriverMode.NON_BLOCKING),
            environment={**environment, "SHIPYARD_ENVIRONMENT": names.environment, "SHIPYARD_IMAGE": image},
            secrets={**{name: container_secret(self, name, ref, names.environment) for name, ref in secrets.items()}, **(granted_secrets or {})},
            readonly_root_filesystem=True, essential=True)
        repository.grant_pull(self.task_definition.obtain_execution_role())
        suppress(self.task_definition.execution_role.node.find_child("DefaultPolicy"), EXECUTION_ROLE_STANDARD_GRANTS)
        suppress(self.task_definition, PLAIN_SETTINGS_ONLY)

        # The exact revision a release registered, not the family's newest ACTIVE one: while CloudFormation cleans up
        # after an update, or after a rollback, the newest is not always the one the stack holds.
        revision = Token.as_number(Fn.select(6, Fn.split(":", self.task_definition.task_definition_arn)))
        run = tasks.EcsRunTask(
            self, "Run", integration_pattern=sfn.IntegrationPattern.RUN_JOB, cluster=cluster, task_definition=self.task_definition,
            revision_number=revision,
            launch_target=tasks.EcsFargateLaunchTarget(platform_version=ecs.FargatePlatformVersion.VERSION1_4),
            assign_public_ip=True, subnets=subnets, security_groups=[security_group],
            task_timeout=sfn.Timeout.duration(Duration.minutes(timeout_minutes)),
            result_selector={"ExitCode.$": "$.Containers[0].ExitCode", "TaskArn.$": "$.TaskArn"})
        judged = sfn.Choice(self, "ExitedZero").when(
            sfn.Condition.number_equals(EXIT_CODE, 0), sfn.Succeed(self, "Succeeded")).otherwise(
            sfn.Fail(self, "Failed", error="NonZeroExit", cause=f"{names.workload}'s container exited with a code other than 0"))
        runs = logs.LogGroup(self, "RunLogs", log_group_name=names.run_log_group, removal_policy=removal)
        runs.node.default_child.retention_in_days = log_retention_days
        # Named, so the deploy role passes exactly this one (CloudFormation updates the state machine on a release).
        run_role = iam.Role(self, "RunRole", role_name=names.run_role, description=f"Step Functions runs {names.workload}'s task",
                            assumed_by=iam.ServicePrincipal("states.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}))
        self.state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=names.state_machine, role=run_role, definition_body=sfn.DefinitionBody.from_chainable(run.next(judged)),
            # Every state transition, without the data passed between them (the task's environment is in it).
            logs=sfn.LogOptions(destination=runs, level=sfn.LogLevel.ALL, include_execution_data=False), tracing_enabled=True)
        suppress(run_role.node.find_child("DefaultPolicy"), JOB_RUN_TASK_READS)

        self.failed_invocations = sqs.Queue(self, "FailedInvocations", queue_name=names.dead_letter_queue,
                                            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                                            retention_period=FAILED_INVOCATION_RETENTION, removal_policy=removal)
        suppress(self.failed_invocations, FAILED_INVOCATIONS_QUEUE)
        role = iam.Role(self, "SchedulerRole", role_name=names.scheduler_role, description=f"EventBridge Scheduler starts {names.workload}",
                        assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com", conditions={
                            "StringEquals": {"aws:SourceAccount": stack.account},
                            "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:scheduler:{stack.region}:{stack.account}:schedule-group/default"}}))
        self.state_machine.grant_start_execution(role)
        self.failed_invocations.grant_send_messages(role)
        self.schedule = scheduler.CfnSchedule(
            self, "Schedule", name=names.schedule, description=f"{names.prefix} {names.workload}",
            schedule_expression=schedule, schedule_expression_timezone=timezone,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state=Fn.condition_if(has_image.logical_id, "ENABLED", "DISABLED").to_string(),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.state_machine.state_machine_arn, role_arn=role.role_arn, input="{}",
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=retries, maximum_event_age_in_seconds=int(MAXIMUM_EVENT_AGE.to_seconds())),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self.failed_invocations.queue_arn)))
