"""The environment's PostgreSQL, reachable only by the tasks that connect: an Amazon RDS for PostgreSQL instance, or an
Aurora PostgreSQL Serverless v2 cluster (engine = "aurora-postgresql": a writer instance, and a reader in another zone
with database_multi_az, scaling between database_min_capacity and database_max_capacity ACUs). What follows holds for both.

- In the VPC's database subnets, which have no route to or from the internet; not publicly accessible.
- Its security group admits the tasks' security group on 5432 and nothing else; the tasks may open 5432 to it
  (their other egress is 443 only).
- Storage encrypted (gp3); TLS required by the parameter group (rds.force_ssl = 1); IAM authentication on.
- The master password is made, kept and rotated by RDS in Secrets Manager (ManageMasterUserPassword: RDS rotates
  it every 7 days, RDS user guide, "Password management with Amazon RDS and AWS Secrets Manager"): no password
  in any template, parameter or environment variable. The connection settings reach the tasks as ECS secrets:
  host, port and name from SSM parameters written here, user and password from the managed secret.
- Automated backups for `backup_days`; with `keep_final_snapshot` (production) the instance is snapshotted when
  CloudFormation deletes or replaces it, and deletion protection is on.
- The PostgreSQL log goes to a log group made here with the environment's retention (RDS would otherwise create
  one that never expires). Performance Insights and Enhanced Monitoring only when asked: they cost.
- Aurora keeps its storage in the cluster (no size to choose; it grows as it fills) and its parameters in a cluster
  parameter group, where rds.force_ssl lives; its log group is /aws/rds/cluster/<id>/postgresql.
"""

from __future__ import annotations

from aws_cdk import CfnDeletionPolicy, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from shipyard.blueprint.network import selected
from shipyard.blueprint.suppressions import DATABASE_DEFAULT_PORT, DATABASE_DISPOSABLE, DATABASE_SIZED_FOR_COST, suppress
from shipyard.naming import Names

PORT = 5432
AUTO_PAUSE_SECONDS = 300  # with a minimum capacity of 0: idle this long, the database pauses (Aurora's default)


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        task_security_group: ec2.ISecurityGroup,
        names: Names,
        other_clients: tuple[tuple[str, ec2.ISecurityGroup], ...] = (),
        engine: str = "postgres",
        version: str,
        database_name: str,
        username: str,
        instance_class: str,
        storage_gb: int,
        backup_days: int,
        multi_az: bool,
        keep_final_snapshot: bool,
        log_retention_days: int,
        performance_insights: bool,
        monitoring_interval: int,
        production: bool,
        min_capacity: float = 0.5,
        max_capacity: float = 2,
    ) -> None:
        super().__init__(scope, id)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{names.database}: PostgreSQL from the service tasks only")
        self.security_group.add_ingress_rule(task_security_group, ec2.Port.tcp(PORT), "PostgreSQL from the service's tasks")
        # The tasks' egress is 443 only (load_balancer.py); this opens 5432 to the database and nowhere else.
        ec2.CfnSecurityGroupEgress(
            self, "TaskEgress", group_id=task_security_group.security_group_id, ip_protocol="tcp", from_port=PORT, to_port=PORT,
            destination_security_group_id=self.security_group.security_group_id, description="PostgreSQL to the database")
        for client, group in other_clients:  # workloads that declare `database = true`, each by its own group
            self.security_group.add_ingress_rule(group, ec2.Port.tcp(PORT), f"PostgreSQL from {client}'s tasks")
            ec2.CfnSecurityGroupEgress(
                self, f"{client.title().replace('-', '')}Egress", group_id=group.security_group_id, ip_protocol="tcp", from_port=PORT,
                to_port=PORT, destination_security_group_id=self.security_group.security_group_id, description="PostgreSQL to the database")
        subnet_group = rds.CfnDBSubnetGroup(
            self, "Subnets", db_subnet_group_description=f"{names.database}: isolated database subnets",
            subnet_ids=selected(vpc, subnets).subnet_ids, db_subnet_group_name=names.database_subnet_group)
        # An adopted cluster is bound to its subnet group by name, a property set at creation: the template names it
        # as a value, which an import can take (a reference it could not resolve yet).
        subnet_group_name = names.database_subnet_group or subnet_group.ref
        aurora = engine == "aurora-postgresql"
        family = f"{'aurora-postgresql' if aurora else 'postgres'}{version.split('.')[0]}"
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=f"/aws/rds/{'cluster' if aurora else 'instance'}/{names.database}/postgresql",
            removal_policy=RemovalPolicy.RETAIN if keep_final_snapshot else RemovalPolicy.DESTROY)
        self.log_group.node.default_child.retention_in_days = log_retention_days
        monitoring_role = None
        if monitoring_interval:
            monitoring_role = iam.Role(self, "MonitoringRole", assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com"),
                                       managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                                           "service-role/AmazonRDSEnhancedMonitoringRole")])
        monitoring = {"monitoring_interval": monitoring_interval,
                      "monitoring_role_arn": monitoring_role.role_arn if monitoring_role else None,
                      "enable_performance_insights": performance_insights,
                      "performance_insights_retention_period": 7 if performance_insights else None}
        common = {"engine": engine, "engine_version": version, "master_username": username, "manage_master_user_password": True,
                  "db_subnet_group_name": subnet_group_name, "port": PORT if aurora else str(PORT),
                  "copy_tags_to_snapshot": True, "deletion_protection": keep_final_snapshot, "backup_retention_period": backup_days,
                  "enable_iam_database_authentication": True, "enable_cloudwatch_logs_exports": ["postgresql"]}
        if aurora:
            parameters = rds.CfnDBClusterParameterGroup(
                self, "Parameters", family=family, description=f"{names.database}: TLS required", parameters={"rds.force_ssl": "1"})
            self.primary: rds.CfnDBCluster | rds.CfnDBInstance = rds.CfnDBCluster(
                self, "Cluster", db_cluster_identifier=names.database, database_name=database_name, storage_encrypted=True,
                db_cluster_parameter_group_name=parameters.ref, vpc_security_group_ids=[self.security_group.security_group_id],
                serverless_v2_scaling_configuration=rds.CfnDBCluster.ServerlessV2ScalingConfigurationProperty(
                    min_capacity=min_capacity, max_capacity=max_capacity,
                    seconds_until_auto_pause=AUTO_PAUSE_SECONDS if min_capacity == 0 else None),
                **common)
            # Serverless v2 capacity is an instance class of the cluster's; a reader in another zone takes over on failure.
            for index, role in enumerate(("Writer", "Reader") if multi_az else ("Writer",)):
                member = rds.CfnDBInstance(
                    self, role, db_instance_identifier=names.database_member(role.lower()), db_cluster_identifier=names.database,
                    engine=engine, db_instance_class="db.serverless", publicly_accessible=False, auto_minor_version_upgrade=True,
                    promotion_tier=index, **monitoring)
                member.node.add_dependency(self.primary)  # named by value, as an import needs (above)
                member.cfn_options.deletion_policy = CfnDeletionPolicy.DELETE  # the cluster holds the data, not its instances
        else:
            parameters = rds.CfnDBParameterGroup(
                self, "Parameters", family=family, description=f"{names.database}: TLS required", parameters={"rds.force_ssl": "1"})
            self.primary = rds.CfnDBInstance(
                self, "Instance", db_instance_identifier=names.database, auto_minor_version_upgrade=True,
                db_instance_class=instance_class, storage_type="gp3", allocated_storage=str(storage_gb), storage_encrypted=True,
                db_name=database_name, vpc_security_groups=[self.security_group.security_group_id],
                db_parameter_group_name=parameters.ref, publicly_accessible=False, multi_az=multi_az, **common, **monitoring)
        self.primary.node.add_dependency(self.log_group)
        suppress(self.primary, DATABASE_DEFAULT_PORT)
        if not production:
            suppress(self.primary, DATABASE_SIZED_FOR_COST, DATABASE_DISPOSABLE)
        policy = CfnDeletionPolicy.SNAPSHOT if keep_final_snapshot else CfnDeletionPolicy.DELETE
        if names.adopted_name("database"):  # adopted, with its rows: it stays whatever becomes of the stack
            policy = CfnDeletionPolicy.RETAIN
            subnet_group.cfn_options.deletion_policy = subnet_group.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN
        self.primary.cfn_options.deletion_policy = policy
        self.primary.cfn_options.update_replace_policy = policy
        endpoint = (self.primary.attr_endpoint_address, self.primary.attr_endpoint_port)
        self.secret_arn = self.primary.attr_master_user_secret_secret_arn
        self.parameters = {
            key: ssm.StringParameter(self, f"{key.title()}Parameter", parameter_name=names.database_parameter(key), string_value=value,
                                     description=f"{names.database}: {key} for the service's tasks")
            for key, value in (("host", endpoint[0]), ("port", endpoint[1]), ("name", database_name))
        }
