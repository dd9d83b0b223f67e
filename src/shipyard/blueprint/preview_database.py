"""A preview's own database inside its base environment's server: its user's secret, and the one-off task that makes
and drops the user and the database (docs/previews.md, "Its database").

The task runs the PostgreSQL project's official image (psql, nothing of the app) in the preview's cluster, as the
server's master user, whose password only its execution role reads (ECS injects it; the preview's workloads never see
it). Its SQL creates the user with the password of the preview's secret and a database it owns, and takes CONNECT on
that database and on the base's from PUBLIC, so no other preview's user reaches either. `preview destroy` runs the
same task with the dropping SQL (DROP DATABASE ... WITH (FORCE) ends the preview's sessions first; PostgreSQL 13+).
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from shipyard.blueprint.preview_workload import isolate
from shipyard.blueprint.service import fargate_task
from shipyard.blueprint.suppressions import EXECUTION_ROLE_STANDARD_GRANTS, PLAIN_SETTINGS_ONLY, PREVIEW_DATABASE_SECRET, suppress
from shipyard.naming import CONTAINER, ONE_OFF_LOG_PREFIX, Names

# The Docker Official Image of PostgreSQL, mirrored on Amazon ECR Public (no Docker Hub pull limits from Fargate), pinned
# by the digest of its multi-architecture index: its entrypoint runs any command other than `postgres` as given.
POSTGRES_CLIENT_IMAGE = ("public.ecr.aws/docker/library/postgres:16-alpine"
                         "@sha256:721873c34ceb9f8d8fc265984940dc982404c105f19ad51be9fdc5970a6080ea")
SQL_VARIABLE = "SHIPYARD_SQL"  # what the task's psql runs; `preview destroy` overrides it with DROP_SQL
# psql quotes :'x' as a literal and :"x" as an identifier, and \gexec runs each row as a statement, so no name or
# password is ever spliced into SQL text (psql documentation, "SQL Interpolation" and "\gexec"). CREATE DATABASE
# cannot run in a transaction block: psql's default autocommit runs each statement alone. On RDS the master user is
# no superuser: it may make a database owned by a role it can SET ROLE to, hence the GRANT (PostgreSQL 16, "CREATE
# DATABASE": "must be able to SET ROLE to the new owner").
CREATE_SQL = "\n".join([
    "SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user')",
    "\\gexec",
    "ALTER ROLE :\"user\" WITH LOGIN PASSWORD :'password';",
    "GRANT :\"user\" TO CURRENT_USER;",
    "SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database')",
    "\\gexec",
    "REVOKE ALL ON DATABASE :\"database\" FROM PUBLIC;",
    "REVOKE CONNECT ON DATABASE :\"base\" FROM PUBLIC;",
    "SELECT 'preview database ready: ' || :'database';",
])
DROP_SQL = "\n".join([
    "DROP DATABASE IF EXISTS :\"database\" WITH (FORCE);",
    "DROP ROLE IF EXISTS :\"user\";",
    "SELECT 'preview database dropped: ' || :'database';",
])
COMMAND = ["sh", "-c", f'printf "%s\\n" "${SQL_VARIABLE}" | psql -X -q -t -v ON_ERROR_STOP=1 -v user="$PREVIEW_USER" '
                       '-v password="$PREVIEW_PASSWORD" -v database="$PREVIEW_DATABASE" -v base="$BASE_DATABASE" -f -']
ADMIN_DATABASE = "postgres"  # the database the master user connects to: RDS creates it on every instance


class PreviewDatabase(Construct):
    def __init__(self, scope: Construct, id: str, *, names: Names, base_names: Names, preview: str, user: str, database: str,
                 base_database: str, master_secret_arn: str, architecture: str, log_retention_days: int) -> None:
        """names: the preview environment's. base_names: its base's, whose parameters hold the server's address.
        master_secret_arn: the base server's managed master secret (the base's data stack output)."""
        super().__init__(scope, id)
        self.secret = secretsmanager.Secret(
            self, "Secret", secret_name=f"{names.prefix}-database",
            description=f"{names.prefix}: its own database user (made and dropped with the preview)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": user, "dbname": database}),
                generate_string_key="password", exclude_punctuation=True, password_length=32),
            removal_policy=RemovalPolicy.DESTROY)
        suppress(self.secret, PREVIEW_DATABASE_SECRET)

        def setting(key: str) -> ecs.Secret:
            return ecs.Secret.from_ssm_parameter(ssm.StringParameter.from_string_parameter_name(
                self, f"{key.capitalize()}Parameter", base_names.database_parameter(key)))

        address = {"PGHOST": setting("host"), "PGPORT": setting("port")}
        # What the preview's workloads connect with: libpq's own variables, the password a secret.
        self.client_secrets = {**address, "PGUSER": ecs.Secret.from_secrets_manager(self.secret, "username"),
                               "PGPASSWORD": ecs.Secret.from_secrets_manager(self.secret, "password")}

        self._address = address
        self._master = secretsmanager.Secret.from_secret_complete_arn(self, "MasterSecret", master_secret_arn)
        self._settings = {"PREVIEW_USER": user, "PREVIEW_DATABASE": database, "BASE_DATABASE": base_database,
                          "PGDATABASE": ADMIN_DATABASE, "PGSSLMODE": "require", "PGCONNECT_TIMEOUT": "10"}
        # The task `preview destroy` runs with DROP_SQL (and that takes the database away when a new preview failed).
        own = names.workload(ONE_OFF_LOG_PREFIX)
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=own.log_group, removal_policy=RemovalPolicy.DESTROY)
        self.log_group.node.default_child.retention_in_days = log_retention_days
        self.task_definition = fargate_task(self, names=own, cpu=256, memory=512, architecture=architecture)
        isolate(self.task_definition.task_role, preview)  # psql needs no AWS access at all
        self.add_to(self.task_definition, name=CONTAINER, log_group=self.log_group, essential=True)
        suppress(self.task_definition.execution_role.node.find_child("DefaultPolicy"), EXECUTION_ROLE_STANDARD_GRANTS)
        suppress(self.task_definition, PLAIN_SETTINGS_ONLY)

    def add_to(self, task_definition: ecs.TaskDefinition, *, name: str, log_group: logs.ILogGroup, essential: bool) -> ecs.ContainerDefinition:
        """psql with CREATE_SQL, as the server's master user, as a container of `task_definition`: the one-off task's
        own, or (essential=False) one a preview's [service] waits for to exit 0 before it starts (dependsOn SUCCESS)."""
        return task_definition.add_container(
            name, image=ecs.ContainerImage.from_registry(POSTGRES_CLIENT_IMAGE), command=COMMAND, essential=essential,
            readonly_root_filesystem=True, logging=ecs.LogDriver.aws_logs(stream_prefix=ONE_OFF_LOG_PREFIX, log_group=log_group),
            environment={SQL_VARIABLE: CREATE_SQL, **self._settings},
            secrets={**self._address, "PGUSER": ecs.Secret.from_secrets_manager(self._master, "username"),
                     "PGPASSWORD": ecs.Secret.from_secrets_manager(self._master, "password"),
                     "PREVIEW_PASSWORD": ecs.Secret.from_secrets_manager(self.secret, "password")})
