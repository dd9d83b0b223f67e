"""The names shipyard derives for AWS resources, in one place.

config.py validates them against AWS's rules before anything runs; the blueprint,
the deploy engine and the release commands all read them from here so a name
is never spelled twice.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass

# The same placeholder is written by the blueprint and read by the release
# code: the image parameter holds it until the first release.
NO_IMAGE = "none"
# The service's container, in both task definition families, and the awslogs stream prefixes of each family:
# a task's log stream is <prefix>/<container>/<task id>.
CONTAINER = "web"
SERVICE_LOG_PREFIX = "web"
ONE_OFF_LOG_PREFIX = "one-off"
# How an alarm without actions of its own says who acts on it (ECS, or a composite alarm that notifies): the
# blueprint writes it first in the description, SY-E602 reads it.
INTERNAL_ALARM = "Internal, read by"
PRIMARY_SERVICE = "web"  # [service]'s ECS service, and its name among the workloads



class Output:
    """Stack output keys: the blueprint writes them, deploy/state.py's readers read them."""

    REPOSITORY_URI = "RepositoryUri"  # foundation
    DEPLOY_ROLE_ARN = "DeployRoleArn"  # foundation
    PUSH_ROLE_ARN = "ImagePushRoleArn"  # foundation of the first environment in promotion order
    LOAD_BALANCER_DNS = "LoadBalancerDns"  # foundation
    ORIGIN_CERTIFICATE_ARN = "OriginCertificateArn"  # foundation, where the environment has a domain
    WEB_ACL_ARN = "WebAclArn"  # global, where WAF is on
    CERTIFICATE_ARN = "CertificateArn"  # global, where the environment has a domain
    HOSTED_ZONE_ID = "HostedZoneId"  # global, where the environment has a domain
    DATABASE_SECRET_ARN = "DatabaseSecretArn"  # data, where there is a [database]
    DATABASE_IDENTIFIER = "DatabaseIdentifier"  # data
    CLUSTER_NAME = "ClusterName"  # service
    SERVICE_NAME = "ServiceName"  # service
    DISTRIBUTION_ID = "DistributionId"  # edge
    DISTRIBUTION_DOMAIN = "DistributionDomain"  # edge
    SITE_BUCKET = "SiteBucket"  # edge
    # foundation of a previews' base environment ([previews]): what each preview's stack is built into
    VPC_ID = "VpcId"
    TASK_SUBNETS = "TaskSubnets"  # comma-separated
    LISTENER_ARN = "ListenerArn"
    PREVIEW_SECURITY_GROUP = "PreviewSecurityGroup"
    PREVIEW_ROLE_ARN = "PreviewRoleArn"


# Stacks in another region receive values as CloudFormation parameters that the
# deploy engine fills from other stacks' outputs: CloudFormation cannot
# reference across regions without Lambda-backed custom resources.
WEB_ACL_PARAMETER = "WebAclArn"  # edge <- global's Output.WEB_ACL_ARN
DISTRIBUTION_PARAMETER = "DistributionId"  # edge-alarms <- edge's Output.DISTRIBUTION_ID
CERTIFICATE_PARAMETER = "CertificateArn"  # edge <- global's Output.CERTIFICATE_ARN
HOSTED_ZONE_PARAMETER = "HostedZoneId"  # edge and foundation <- global's Output.HOSTED_ZONE_ID

ECR_REPOSITORY_RE = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_ELB_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Names:
    app: str
    environment: str
    account: str
    # Resources `shipyard adopt` moved into this environment's stacks keep the names they had (an import does not
    # rename): (kind, workload) -> name, kind one of repository, log_group, site_bucket, database, database_writer, database_subnet_group
    # ([environments.<env>.adopted]).
    adopted: tuple[tuple[tuple[str, str], str], ...] = ()

    def adopted_name(self, kind: str, workload: str = PRIMARY_SERVICE) -> str | None:
        return dict(self.adopted).get((kind, workload))

    @property
    def prefix(self) -> str:
        return f"{self.app}-{self.environment}"

    @property
    def foundation_stack(self) -> str:
        return f"{self.prefix}-foundation"

    @property
    def service_stack(self) -> str:
        return f"{self.prefix}-service"

    def topic(self, name: str) -> str:
        """A [topics.<name>] topic (SNS names: up to 256 letters, digits, hyphens and underscores)."""
        return f"{self.prefix}-{name}"

    @property
    def edge_stack(self) -> str:
        return f"{self.prefix}-edge"

    @property
    def global_stack(self) -> str:
        return f"{self.prefix}-global"

    @property
    def edge_alarms_stack(self) -> str:
        return f"{self.prefix}-edge-alarms"

    @property
    def repository(self) -> str:
        return self.adopted_name("repository") or f"{self.app}/{self.environment}"

    @property
    def site_bucket(self) -> str:
        return self.adopted_name("site_bucket") or f"{self.prefix}-site-{self.account}"

    @property
    def logs_bucket(self) -> str:
        return f"{self.prefix}-logs-{self.account}"

    @property
    def load_balancer(self) -> str:
        return self.prefix

    @property
    def cluster(self) -> str:
        return self.prefix

    @property
    def service(self) -> str:
        return PRIMARY_SERVICE

    @property
    def image_parameter(self) -> str:
        return f"/shipyard/{self.app}/{self.environment}/image"

    @property
    def release_history_parameter(self) -> str:
        return f"/shipyard/{self.app}/{self.environment}/releases"

    @property
    def release_lock_parameter(self) -> str:
        return f"/shipyard/{self.app}/{self.environment}/release-lock"

    @property
    def log_group(self) -> str:
        return self.adopted_name("log_group") or f"/shipyard/{self.app}/{self.environment}/service"

    @property
    def edge_log_group(self) -> str:
        """CloudFront's access logs (standard logging v2), in us-east-1 where CloudFront's deliveries are made."""
        return f"/shipyard/{self.app}/{self.environment}/cloudfront"

    @property
    def exec_log_group(self) -> str:
        """Where ECS Exec writes each session's commands and output (the audit log of `shipyard exec`)."""
        return f"/shipyard/{self.app}/{self.environment}/exec"

    @property
    def budget_alarm(self) -> str:
        return f"{self.prefix}-budget"

    @property
    def deploy_role(self) -> str:
        return f"{self.prefix}-github-deploy"

    @property
    def preview_role(self) -> str:
        """The role the pipeline's preview jobs assume ([previews]' base only)."""
        return f"{self.prefix}-preview"

    @property
    def preview_boundary(self) -> str:
        """The managed policy every role of a preview carries as its permissions boundary."""
        return f"{self.prefix}-preview-boundary"

    @property
    def preview_prune_role(self) -> str:
        """The role the pipeline's scheduled `preview prune` assumes."""
        return f"{self.prefix}-preview-prune"

    @property
    def push_role(self) -> str:
        return f"{self.prefix}-github-push"

    @property
    def task_role(self) -> str:
        return f"{self.prefix}-task"

    @property
    def execution_role(self) -> str:
        return f"{self.prefix}-task-execution"

    @property
    def traffic_role(self) -> str:
        return f"{self.prefix}-traffic-shift"

    @property
    def task_family(self) -> str:
        return f"{self.prefix}-web"

    @property
    def one_off_family(self) -> str:
        return f"{self.prefix}-one-off"

    @property
    def one_off_image_parameter(self) -> str:
        return f"/shipyard/{self.app}/{self.environment}/one-off-image"

    @property
    def web_acl(self) -> str:
        return self.prefix

    @property
    def data_stack(self) -> str:
        return f"{self.prefix}-data"

    @property
    def database(self) -> str:
        """The RDS instance or Aurora cluster identifier (letters, digits, hyphens; config.py checks the length)."""
        return self.adopted_name("database") or f"{self.prefix}-db"

    def database_member(self, role: str) -> str:
        """An Aurora cluster's instance: writer or reader."""
        return self.adopted_name(f"database_{role}") or f"{self.prefix}-db-{role}"

    @property
    def database_subnet_group(self) -> str | None:
        """The DB subnet group's name where adopted; None where CloudFormation names shipyard's own."""
        return self.adopted_name("database_subnet_group")

    def database_parameter(self, key: str) -> str:
        """SSM parameters with the database's connection settings (host, port, name), read by the tasks as secrets."""
        return f"/shipyard/{self.app}/{self.environment}/database/{key}"

    @property
    def namespace(self) -> str:
        """The Cloud Map namespace where ECS Service Connect names the environment's backend services."""
        return f"{self.prefix}.internal"

    def workload(self, name: str) -> WorkloadNames:
        """The names of a workload beside the primary service ([services.<name>], [jobs.<name>])."""
        return WorkloadNames(app=self.app, environment=self.environment, account=self.account, workload=name, shared=self)


@dataclass(frozen=True)
class WorkloadNames:
    """A workload's own AWS names, under its environment's; spelled like Names' so one construct, and one release
    step, serves either. What the workload shares with its environment (its stacks, release history and lock, its
    buckets) is the environment's: every other name is looked up there."""

    app: str
    environment: str
    account: str
    workload: str
    shared: Names

    def __getattr__(self, name: str) -> object:
        if name == "shared":  # not set yet (a copy being made): no recursion into itself
            raise AttributeError(name)
        return getattr(self.shared, name)

    @property
    def prefix(self) -> str:
        return f"{self.app}-{self.environment}"

    @property
    def cluster(self) -> str:  # the environment's one cluster
        return self.prefix

    @property
    def service(self) -> str:
        return self.workload

    @property
    def repository(self) -> str:
        return self.shared.adopted_name("repository", self.workload) or f"{self.app}/{self.environment}/{self.workload}"

    @property
    def image_parameter(self) -> str:
        return f"/shipyard/{self.app}/{self.environment}/workloads/{self.workload}/image"

    @property
    def log_group(self) -> str:
        return self.shared.adopted_name("log_group", self.workload) or f"/shipyard/{self.app}/{self.environment}/workloads/{self.workload}"

    @property
    def task_family(self) -> str:
        return f"{self.prefix}-{self.workload}"

    @property
    def task_role(self) -> str:
        return f"{self.prefix}-{self.workload}-task"

    @property
    def execution_role(self) -> str:
        return f"{self.prefix}-{self.workload}-task-execution"

    @property
    def traffic_role(self) -> str:
        return f"{self.prefix}-{self.workload}-traffic-shift"

    @property
    def queue(self) -> str:
        """A worker's queue (SQS names: up to 80 letters, digits, hyphens and underscores)."""
        return f"{self.prefix}-{self.workload}"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.prefix}-{self.workload}-dlq"

    @property
    def unhealthy_alarm(self) -> str:
        return f"{self.prefix}-{self.workload}-unhealthy-targets"

    @property
    def dead_letter_alarm(self) -> str:
        return f"{self.prefix}-{self.workload}-dead-letters"

    @property
    def state_machine(self) -> str:
        """A job's state machine: one run of its task, judged by the container's exit code, within its timeout."""
        return f"{self.prefix}-{self.workload}"

    @property
    def run_log_group(self) -> str:
        """The state machine's log of a job's runs (Step Functions asks for the /aws/vendedlogs/ prefix)."""
        return f"/aws/vendedlogs/states/{self.prefix}-{self.workload}"

    @property
    def schedule(self) -> str:
        """A job's EventBridge Scheduler schedule (in the account's default schedule group)."""
        return f"{self.prefix}-{self.workload}"

    @property
    def run_role(self) -> str:
        """The role a job's state machine runs its task with."""
        return f"{self.prefix}-{self.workload}-runs"

    @property
    def scheduler_role(self) -> str:
        return f"{self.prefix}-{self.workload}-scheduler"

    @property
    def failed_runs_alarm(self) -> str:
        return f"{self.prefix}-{self.workload}-failed-runs"


# The address of a worker's queue, as the containers that use it read it: the worker's own, and each publisher's.
OWN_QUEUE_VARIABLE = "SHIPYARD_QUEUE_URL"


def partition(region: str) -> str:
    """The ARN partition of a region."""
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def dns_suffix(region: str) -> str:
    """The suffix of a region's service endpoints (s3.<region>.<suffix>)."""
    return "amazonaws.com.cn" if partition(region) == "aws-cn" else "amazonaws.com"


def topic_variable(topic: str) -> str:
    """The variable a publisher reads topic `topic`'s ARN from ("order-placed" -> SHIPYARD_TOPIC_ORDER_PLACED_ARN)."""
    return f"SHIPYARD_TOPIC_{topic.upper().replace('-', '_')}_ARN"


def queue_variable(worker: str) -> str:
    """The variable a publisher reads worker `worker`'s queue URL from ("resize-img" -> SHIPYARD_QUEUE_RESIZE_IMG_URL)."""
    return f"SHIPYARD_QUEUE_{worker.upper().replace('-', '_')}_URL"


def service_variable(backend: str) -> str:
    """The variable a caller reads backend `backend`'s address from ("catalog" -> SHIPYARD_SERVICE_CATALOG_URL)."""
    return f"SHIPYARD_SERVICE_{backend.upper().replace('-', '_')}_URL"



PRIMARY_RULE_PRIORITY = 1  # the primary service's catch-all rule, alone on the listener
PRIMARY_RULE_PRIORITY_LAST = 50_000  # ... and beside web workloads' rules, which must be evaluated first (ELB's highest)


def rule_priority(workload: str) -> int:
    """A web workload's listener rule priority: from its name, so adding or removing another never renumbers it
    (a renumbering updates rules one by one, and two rules may not hold one priority). Validation refuses a clash."""
    return 1000 + zlib.crc32(workload.encode()) % 40_000


def role_name_problem(name: str) -> str | None:
    return f"is {len(name)} characters; IAM allows 64" if len(name) > 64 else None


def bucket_name_problem(name: str) -> str | None:
    """Why S3 would refuse this bucket name, or None when it is valid."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters; S3 allows 3 to 63"
    if not _BUCKET_RE.match(name):
        return "may hold only lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "may not contain '..', '.-' or '-.'"
    if _IPV4_RE.match(name):
        return "may not look like an IP address"
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            return f"may not start with '{prefix}'"
    for suffix in ("-s3alias", "--ol-s3", "--x-s3", ".mrap", "--table-s3"):
        if name.endswith(suffix):
            return f"may not end with '{suffix}'"
    return None


def elb_name_problem(name: str) -> str | None:
    """Why Elastic Load Balancing would refuse this load balancer name, or None."""
    if len(name) > 32:
        return f"is {len(name)} characters; AWS allows 32"
    if not _ELB_NAME_RE.match(name):
        return "may hold only letters, digits and hyphens, not starting or ending with a hyphen"
    if name.startswith("internal-"):
        return "may not start with 'internal-'"
    return None


def repository_name_problem(name: str) -> str | None:
    """Why ECR would refuse this repository name, or None."""
    if not 2 <= len(name) <= 256:
        return f"is {len(name)} characters; ECR allows 2 to 256"
    if not ECR_REPOSITORY_RE.match(name):
        return "breaks ECR's rule: lowercase letters and digits, separated by single '.', '_', '-' or '/'"
    return None


# Preview environments (docs/previews.md): <app>-<base>-pv-<name> in the base environment's account.
PREVIEW_INFIX = "pv"  # no workload may be named so (validate): no branch name can make a base environment's names
PREVIEW_PATH = "/pv"  # a preview's URLs: <the base's edge>/pv/<name>/...
PREVIEW_HEADER = "x-shipyard-preview"  # the edge's function sets it to the preview's name; its listener rules match it
PREVIEW_TAG = "shipyard:preview"  # on every resource of a preview, and in its task roles' conditions
PREVIEW_EXPIRES_TAG = "shipyard:expires"  # on a preview's stack: when `preview prune` may destroy it (ISO 8601, UTC)
PREVIEW_SLOT_TAG = "shipyard:preview-slot"  # on a preview's stack: its place among the base listener's rules
# The base's own rules come first (1000-40999, and [service]'s at 41000 where previews exist); each preview's after
# them, so no preview rule ever decides a request before a base rule has (a check says so).
PRIMARY_RULE_PRIORITY_BEFORE_PREVIEWS = 41_000
PREVIEW_RULE_FIRST = 41_001
PREVIEW_RULES_PER_SLOT = 50


def preview_environment(base: str, name: str) -> str:
    """A preview's environment name, the root of every name it has: <base>-pv-<name>."""
    return f"{base}-{PREVIEW_INFIX}-{name}"


def preview_path(name: str) -> str:
    return f"{PREVIEW_PATH}/{name}"


def preview_domain(domain: str) -> str:
    """Where a base environment with a domain serves its previews: <name>.pv.<domain>, under one wildcard name."""
    return f"{PREVIEW_INFIX}.{domain}"


def preview_rule_priority(slot: int, index: int) -> int:
    """The listener rule priority of a preview's `index`th web workload, in the preview's slot."""
    return PREVIEW_RULE_FIRST + slot * PREVIEW_RULES_PER_SLOT + index


PREVIEW_NAME_LENGTH = 12  # as a workload's name: it goes into every AWS name a preview's resources have


def preview_name(given: str) -> str:
    """A preview environment's name from what names it (`pr-7`, a branch name): lowercase letters, digits and single
    hyphens, a letter first, at most PREVIEW_NAME_LENGTH characters, so it fits every AWS name it goes into and none
    of its characters reaches a shell, a path or a template as anything but a name. A longer name is cut and given 4
    hex digits of its own hash, so two long branch names stay apart. ValueError (naming what is wrong) where nothing
    usable is left: only punctuation or characters outside ASCII."""
    if len(given) > 1024:
        raise ValueError(f"is {len(given)} characters; name a preview in at most 1024 (a branch name, or pr-<number>)")
    words = re.findall(r"[a-z0-9]+", given.lower())
    if not words:
        raise ValueError(f"{given[:40]!r} has no ASCII letter or digit to name a preview by; use pr-<number>")
    name = "-".join(words)
    if not name[0].isalpha():
        name = f"p-{name}"
    if len(name) > PREVIEW_NAME_LENGTH:
        digest = hashlib.sha256(given.encode()).hexdigest()[:4]
        name = f"{name[:PREVIEW_NAME_LENGTH - 5].rstrip('-')}-{digest}"
    return name


def rds_identifier_problem(name: str) -> str | None:
    """Why RDS would refuse this DB instance identifier, or None."""
    if len(name) > 63:
        return f"is {len(name)} characters; RDS allows 63"
    if not re.match(r"^[a-z][a-z0-9-]*[a-z0-9]$", name) or "--" in name:
        return "may hold only lowercase letters, digits and single hyphens, starting with a letter"
    return None
