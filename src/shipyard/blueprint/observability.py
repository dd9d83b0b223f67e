"""Alerts topic, SLO burn-rate and service alarms, and the environment's dashboard (service stack).

Availability is measured at the load balancer: errors are target and ELB 5xx
responses, over all requests. Burn-rate alarms follow the multi-window
pattern: the fast pair (1 h and 5 min at 14.4x the error budget) pages when a
month's budget would burn in two days; the slow pair (6 h and 30 min at 6x)
when it would burn in five. One composite alarm pages when either pair fires
(the SRE workbook's single burn-rate alert), so a burst of errors that matters
to the objective pages once; a static 5xx-rate threshold would page on blips
the budget absorbs and is not kept. The one-minute 5xx-rate alarm is the ECS
deployment alarm that rolls a bad deployment back.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from shipyard.naming import INTERNAL_ALARM

FIVE_XX_RATE_PERCENT = 2
FAST_BURN, SLOW_BURN = 14.4, 6.0
DATABASE_CPU_PERCENT = 80
DATABASE_FREE_STORAGE_SHARE = 0.10
DATABASE_CAPACITY_PERCENT = 90
DATABASE_CONNECTIONS_SHARE = 0.80


@dataclass(frozen=True)
class DatabaseWatch:
    """The environment's database, as its alarms need it: an RDS instance, or an Aurora cluster (whose storage grows by
    itself, so its capacity is watched instead)."""

    identifier: str
    storage_gb: int | None  # None for an Aurora cluster
    max_connections: int

    @property
    def cluster(self) -> bool:
        return self.storage_gb is None


def _lb(metric: str, load_balancer: str, period: Duration, statistic: str = "Sum") -> cw.Metric:
    return cw.Metric(namespace="AWS/ApplicationELB", metric_name=metric, dimensions_map={"LoadBalancer": load_balancer},
                     statistic=statistic, period=period)


def _both_groups(load_balancer: str, target_groups: tuple[str, ...], metric: str, statistic: str, combine: str,
                 label: str) -> cw.MathExpression:
    """A blue/green service alternates between two target groups: judge the pair (combine: SUM or MAX)."""
    ids = [f"{metric[:2].lower()}{index}" for index in range(len(target_groups))]
    filled = ", ".join(f"FILL({i}, 0)" for i in ids)
    return cw.MathExpression(expression=f"{combine}([{filled}])", label=label, period=Duration.minutes(1), using_metrics={
        ids[index]: cw.Metric(namespace="AWS/ApplicationELB", metric_name=metric, statistic=statistic,
                               dimensions_map={"LoadBalancer": load_balancer, "TargetGroup": group}, period=Duration.minutes(1))
        for index, group in enumerate(target_groups)})


def error_ratio(load_balancer: str, period: Duration, label: str) -> cw.MathExpression:
    """5xx responses over requests in one window (0 when there is no traffic)."""
    return cw.MathExpression(
        expression="IF(requests > 0, (target5xx + elb5xx) / requests, 0)",
        using_metrics={
            "target5xx": _lb("HTTPCode_Target_5XX_Count", load_balancer, period),
            "elb5xx": _lb("HTTPCode_ELB_5XX_Count", load_balancer, period),
            "requests": _lb("RequestCount", load_balancer, period),
        },
        period=period, label=label,
    )


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        load_balancer: str,
        target_groups: tuple[str, str],
        cluster_name: str,
        service_name: str,
        running_target: object,
        slo_target: float,
        latency_p95_ms: int,
        emails: tuple[str, ...],
        web_acl_name: str | None,
        database: DatabaseWatch | None = None,
        sleeps: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Alerts", display_name=f"{prefix} alerts", enforce_ssl=True)
        for address in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))
        action = self._action = actions.SnsAction(self.topic)
        self._load_balancer = load_balancer
        budget = 1 - slo_target / 100
        self.alarms: list[cw.IAlarm] = []

        def alarm(name: str, metric: cw.IMetric, threshold: float, description: str, *, periods: int = 1,
                  comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                  read_by: str | None = None) -> cw.Alarm:
            """An alarm that notifies the topic, or (read_by) one that another alarm or ECS reads and acts on."""
            if read_by:
                description = f"{INTERNAL_ALARM} {read_by}: {description}"
            created = cw.Alarm(self, name.title().replace("-", ""), alarm_name=f"{prefix}-{name}", metric=metric,
                               threshold=threshold, evaluation_periods=periods, datapoints_to_alarm=periods,
                               comparison_operator=comparison, treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                               alarm_description=description)
            if not read_by:
                created.add_alarm_action(action)
                created.add_ok_action(action)
            self.alarms.append(created)
            return created

        def five_xx_rate(window: Duration) -> cw.MathExpression:
            return cw.MathExpression(
                expression="100 * IF(requests > 0, (target5xx + elb5xx) / requests, 0)", using_metrics={
                    "target5xx": _lb("HTTPCode_Target_5XX_Count", load_balancer, window),
                    "elb5xx": _lb("HTTPCode_ELB_5XX_Count", load_balancer, window),
                    "requests": _lb("RequestCount", load_balancer, window)}, period=window, label="5xx %")

        # ECS bakes a deployment for as long as its alarms need to judge it (docs/decisions.md §18): a one-minute
        # window keeps that to about a minute instead of five, and still catches an image that answers 5xx.
        self.deployment_five_xx = alarm("deployment-5xx-rate", five_xx_rate(Duration.minutes(1)), FIVE_XX_RATE_PERCENT,
                                        f"More than {FIVE_XX_RATE_PERCENT}% of requests failed with 5xx in one minute; "
                                        "ECS rolls the deployment back", read_by="ECS during a deployment's bake")
        pairs = []
        for speed, factor, long_window, short_window in (("fast", FAST_BURN, Duration.hours(1), Duration.minutes(5)),
                                                         ("slow", SLOW_BURN, Duration.hours(6), Duration.minutes(30))):
            windows = [alarm(f"slo-{speed}-burn-{w.to_minutes()}m", error_ratio(load_balancer, w, f"error ratio {w.to_minutes()}m"),
                             factor * budget, f"{speed} burn: error ratio over {w.to_minutes()} min above {factor}x the "
                             f"error budget of a {slo_target}% objective", read_by=f"the composite {prefix}-slo-burn, which notifies")
                       for w in (long_window, short_window)]
            pairs.append(cw.AlarmRule.all_of(*[cw.AlarmRule.from_alarm(w, cw.AlarmState.ALARM) for w in windows]))
        composite = cw.CompositeAlarm(
            self, "SloBurn", composite_alarm_name=f"{prefix}-slo-burn", alarm_rule=cw.AlarmRule.any_of(*pairs),
            alarm_description=f"Availability objective {slo_target}%: the error budget burns {FAST_BURN}x too fast (1 h and "
                              f"5 min windows) or {SLOW_BURN}x too fast (6 h and 30 min windows)")
        composite.add_alarm_action(action)
        self.alarms.append(composite)
        alarm("latency-p95", _lb("TargetResponseTime", load_balancer, Duration.minutes(5), "p95"), latency_p95_ms / 1000,
              f"p95 latency above {latency_p95_ms} ms for 10 minutes", periods=2)

        def both_groups(metric: str, statistic: str, combine: str, label: str) -> cw.MathExpression:
            return _both_groups(load_balancer, target_groups, metric, statistic, combine, label)

        alarm("unhealthy-targets", both_groups("UnHealthyHostCount", "Maximum", "MAX",
                                               "unhealthy targets"),
              0, "A target failed its health checks for 2 minutes", periods=2)
        # A service with awake hours has no healthy tasks at night by design; the alarm would stand in ALARM every
        # night, so such an environment relies on the unhealthy-targets alarm and the release's own verdict.
        if not sleeps:
            below = alarm("running-below-desired", both_groups("HealthyHostCount", "Minimum", "SUM", "healthy targets"),
                          0, "Fewer healthy tasks than desired for 3 minutes", periods=3,
                          comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD)
            # The desired count is 0 until the first release (see service.py), so is the threshold.
            below.node.default_child.add_property_override("Threshold", running_target)

        if database:
            def rds(metric: str, statistic: str = "Average") -> cw.Metric:
                return cw.Metric(namespace="AWS/RDS", metric_name=metric, statistic=statistic, period=Duration.minutes(5),
                                 dimensions_map={"DBClusterIdentifier" if database.cluster else "DBInstanceIdentifier": database.identifier})

            alarm("database-cpu", rds("CPUUtilization"), DATABASE_CPU_PERCENT,
                  f"Database CPU above {DATABASE_CPU_PERCENT}% for 15 minutes", periods=3)
            if database.cluster:  # Aurora Serverless v2: ACUUtilization is the capacity used of its maximum
                alarm("database-capacity", rds("ACUUtilization", "Maximum"), DATABASE_CAPACITY_PERCENT,
                      f"Database at {DATABASE_CAPACITY_PERCENT}% of its maximum capacity for 15 minutes (raise "
                      "database_max_capacity)", periods=3)
            else:
                free_bytes = database.storage_gb * 1024 ** 3 * DATABASE_FREE_STORAGE_SHARE
                alarm("database-free-storage", rds("FreeStorageSpace", "Minimum"), free_bytes,
                      f"Database free storage below {DATABASE_FREE_STORAGE_SHARE:.0%} of {database.storage_gb} GiB",
                      comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD)
            busy = int(database.max_connections * DATABASE_CONNECTIONS_SHARE)
            alarm("database-connections", rds("DatabaseConnections", "Maximum"), busy,
                  f"More than {busy} database connections ({DATABASE_CONNECTIONS_SHARE:.0%} of max_connections "
                  f"{database.max_connections}) for 10 minutes", periods=2)

        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=prefix, default_interval=Duration.hours(3))
        ecs_dims = {"ClusterName": cluster_name, "ServiceName": service_name}
        widgets: list[cw.IWidget] = [
            cw.GraphWidget(title="Requests and 5xx", left=[_lb("RequestCount", load_balancer, Duration.minutes(1))],
                           right=[_lb("HTTPCode_Target_5XX_Count", load_balancer, Duration.minutes(1)),
                                  _lb("HTTPCode_ELB_5XX_Count", load_balancer, Duration.minutes(1))]),
            cw.GraphWidget(title="Latency p50 / p95 / p99 (s)", left=[
                _lb("TargetResponseTime", load_balancer, Duration.minutes(1), p) for p in ("p50", "p95", "p99")]),
            cw.GraphWidget(title="Targets (blue and green groups)", left=[
                both_groups("HealthyHostCount", "Minimum", "SUM", "healthy"),
                both_groups("UnHealthyHostCount", "Maximum", "MAX", "unhealthy")]),
            cw.GraphWidget(title="CPU and memory (%)", left=[cw.Metric(namespace="AWS/ECS", metric_name=m, dimensions_map=ecs_dims,
                                                                       statistic="Average", period=Duration.minutes(1))
                                                             for m in ("CPUUtilization", "MemoryUtilization")]),
            cw.GraphWidget(title="CloudFront 5xx error rate (us-east-1)", region="us-east-1", left=[cw.MathExpression(
                expression="SEARCH('{AWS/CloudFront,DistributionId,Region} MetricName=\"5xxErrorRate\"', 'Average', 300)",
                search_region="us-east-1", label="5xx %", period=Duration.minutes(5))]),
            cw.GraphWidget(title="Estimated charges (USD, us-east-1)", region="us-east-1", left=[cw.Metric(
                namespace="AWS/Billing", metric_name="EstimatedCharges", dimensions_map={"Currency": "USD"},
                statistic="Maximum", period=Duration.hours(6), region="us-east-1")]),
        ]
        if database:
            widgets.append(cw.GraphWidget(title="Database CPU (%) and connections", left=[rds("CPUUtilization")],
                                          right=[rds("DatabaseConnections", "Maximum")]))
        if web_acl_name:
            widgets.append(cw.GraphWidget(title="WAF allowed / blocked (us-east-1)", region="us-east-1", left=[cw.Metric(
                namespace="AWS/WAFV2", metric_name=m, dimensions_map={"WebACL": web_acl_name, "Rule": "ALL"},
                statistic="Sum", period=Duration.minutes(5), region="us-east-1") for m in ("AllowedRequests", "BlockedRequests")]))
        self.dashboard.add_widgets(*widgets)

    def watch_workload(self, id: str, *, name: str, alarm_name: str, cluster_name: str,
                       target_groups: tuple[str, str] | None) -> None:
        """A workload's row of the dashboard (its CPU and memory; a web service's targets too) and, for a web service,
        an alarm on its unhealthy targets. A backend's failing health checks stop its tasks and the circuit breaker,
        and a worker's failures show in its dead letters (watch_dead_letters)."""
        usage = cw.GraphWidget(title=f"{name}: CPU and memory (%)", left=[
            cw.Metric(namespace="AWS/ECS", metric_name=m, statistic="Average", period=Duration.minutes(1),
                      dimensions_map={"ClusterName": cluster_name, "ServiceName": name}) for m in ("CPUUtilization", "MemoryUtilization")])
        if target_groups is None:
            self.dashboard.add_widgets(usage)
            return
        unhealthy = _both_groups(self._load_balancer, target_groups, "UnHealthyHostCount", "Maximum", "MAX", "unhealthy")
        created = cw.Alarm(self, f"{id}UnhealthyTargets", alarm_name=alarm_name, metric=unhealthy, threshold=0, evaluation_periods=2,
                           datapoints_to_alarm=2, comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                           treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                           alarm_description=f"{name}: a target failed its health checks for 2 minutes")
        created.add_alarm_action(self._action)
        created.add_ok_action(self._action)
        self.alarms.append(created)
        self.dashboard.add_widgets(usage, cw.GraphWidget(title=f"{name}: targets (blue and green groups)", left=[
            _both_groups(self._load_balancer, target_groups, "HealthyHostCount", "Minimum", "SUM", "healthy"), unhealthy]))

    def watch_dead_letters(self, id: str, *, queue: sqs.IQueue, work_queue: sqs.IQueue, alarm_name: str, worker: str,
                           cluster_name: str) -> cw.Alarm:
        """A worker's dead-letter queue is not empty: a message failed every delivery SQS allowed it (SQS publishes
        its queue metrics once a minute). The worker gets a row of the dashboard: its backlog, its dead letters, its
        running tasks."""
        dead = queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum")
        created = cw.Alarm(self, f"{id}DeadLetters", alarm_name=alarm_name, metric=dead, threshold=0, evaluation_periods=1,
                           comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                           treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                           alarm_description=f"{worker}: a message failed every delivery and waits in the dead-letter queue "
                                             f"{queue.queue_name}; read it, fix the worker, then redrive it")
        created.add_alarm_action(self._action)
        created.add_ok_action(self._action)
        self.alarms.append(created)
        self.dashboard.add_widgets(
            cw.GraphWidget(title=f"{worker}: backlog and dead letters", left=[
                work_queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"), dead]),
            cw.GraphWidget(title=f"{worker}: running tasks", left=[cw.Metric(
                namespace="ECS/ContainerInsights", metric_name="RunningTaskCount", statistic="Average", period=Duration.minutes(1),
                dimensions_map={"ClusterName": cluster_name, "ServiceName": worker})]))
        return created

    def watch_job(self, id: str, *, state_machine: sfn.StateMachine, failed_invocations: sqs.IQueue, alarm_name: str,
                  job: str) -> cw.Alarm:
        """A run of the job failed (its container exited non-zero or ran past its timeout: a failed execution, which
        AWS/States counts), or the scheduler could not start one (it waits in the failed-invocations queue). Runs are
        rare, so a missing datapoint is no failure. The dashboard gets the job's runs: started, succeeded, failed."""
        five = Duration.minutes(5)
        failed = state_machine.metric_failed(period=five, statistic="Sum")
        timed_out = state_machine.metric_timed_out(period=five, statistic="Sum")
        unstarted = failed_invocations.metric_approximate_number_of_messages_visible(period=five, statistic="Maximum")
        problems = cw.MathExpression(expression="FILL(failed, 0) + FILL(timedout, 0) + FILL(unstarted, 0)",
                                     using_metrics={"failed": failed, "timedout": timed_out, "unstarted": unstarted},
                                     label=f"{job}: failed runs and runs never started", period=five)
        created = cw.Alarm(self, f"{id}FailedRuns", alarm_name=alarm_name, metric=problems, threshold=0, evaluation_periods=1,
                           comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                           treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                           alarm_description=f"{job}: a run exited with a code other than 0 or ran past its timeout, or the "
                                             f"scheduler could not start one (queue {failed_invocations.queue_name}); "
                                             f"`shipyard explain ENV --service {job}` names the run")
        created.add_alarm_action(self._action)
        created.add_ok_action(self._action)
        self.alarms.append(created)
        self.dashboard.add_widgets(cw.GraphWidget(title=f"{job}: runs", left=[
            state_machine.metric_started(period=five, statistic="Sum"), state_machine.metric_succeeded(period=five, statistic="Sum"),
            failed, timed_out]))
        return created
