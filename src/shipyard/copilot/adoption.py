"""Adoption, planned: which resources of a deployed Copilot environment hold data and move into shipyard's stacks, and
the templates that move them (pure: what AWS holds comes in, templates and refusals go out; app/adopting.py runs it).

A move is CloudFormation's own (CloudFormation user guide, "Move resources between stacks"): the Copilot stack keeps
the resource on removal (DeletionPolicy Retain), then lets it go from its template (references to it become the
values they resolved to, so the rest of the stack keeps working), then shipyard's stack imports it (an IMPORT change
set, "Import AWS resources into a CloudFormation stack"). Nothing is copied, nothing deleted: deleting the Copilot
stacks afterwards deletes none of it.

Copilot's names and tags (its templates in github.com/aws/copilot-cli, internal/pkg/template/templates): every stack
carries copilot-application, an environment's and its workloads' copilot-environment, a workload's copilot-service;
the app's ECR repositories are `<app>/<workload>` in the StackSet instance stack; a workload's log group is
`/copilot/<app>-<env>-<workload>`; a Static Site's bucket is in its own stack.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from shipyard import naming

APP_TAG, ENV_TAG, SERVICE_TAG = "copilot-application", "copilot-environment", "copilot-service"

# What moves, and the property CloudFormation identifies it by.
MOVABLE = {"AWS::ECR::Repository": ("repository", "RepositoryName"), "AWS::Logs::LogGroup": ("log_group", "LogGroupName"),
           "AWS::S3::Bucket": ("site_bucket", "BucketName"), "AWS::RDS::DBCluster": ("database", "DBClusterIdentifier"),
           "AWS::RDS::DBInstance": ("database_writer", "DBInstanceIdentifier"),
           "AWS::RDS::DBSubnetGroup": ("database_subnet_group", "DBSubnetGroupName")}
DATABASE_KINDS = ("database", "database_writer", "database_subnet_group")
def type_of(kind: str) -> str:
    """The resource type of a movable kind (repository, log_group, site_bucket)."""
    return next(t for t, (k, _) in MOVABLE.items() if k == kind)


def identifier_of(resource_type: str) -> str:
    """The property CloudFormation identifies a movable resource by, on import."""
    return MOVABLE[resource_type][1]


# Resources that hold data but do not move yet, and why.
NOT_MOVED = {
    "AWS::RDS::DBCluster": "an Aurora cluster moves into [database] when shipyard.toml has [database] engine = "
                           "\"aurora-postgresql\" and the environment runs in the cluster's VPC ([environments.<env>.network], "
                           "which `import copilot --aws` writes); until then it stays in its Copilot stack",
    "AWS::RDS::DBInstance": "a database instance moves with its Aurora cluster only (an RDS instance addon stays: keep its "
                            "stack, or move the data with pg_dump and pg_restore)",
    "AWS::RDS::DBSubnetGroup": "it moves with its Aurora cluster only",
    "AWS::DynamoDB::Table": "DynamoDB is not in the platform; keep its Copilot stack",
    "AWS::EFS::FileSystem": "EFS is not in the platform; keep its Copilot stack",
    "AWS::SecretsManager::Secret": "a secret made by an addon stays with its addon's stack; workloads reference secrets by name",
    "AWS::SQS::Queue": "a Copilot worker's queue: shipyard's worker has its own; drain the old queue before deleting its stack",
    "AWS::SNS::Topic": "Copilot's topics: publishers send to the workers' queues in shipyard",
}
# Properties whose value an import must find as the template has it: existing data stays encrypted as it was, and a
# property CloudFormation can only set at creation would replace the resource (and its data) on the next update.
MUST_MATCH = {"AWS::S3::Bucket": ("BucketEncryption",), "AWS::ECR::Repository": ("EncryptionConfiguration",),
              "AWS::Logs::LogGroup": ("KmsKeyId",),
              "AWS::RDS::DBCluster": ("Engine", "DatabaseName", "MasterUsername", "StorageEncrypted")}


@dataclass(frozen=True)
class CopilotStack:
    name: str
    tags: dict[str, str]
    template: dict[str, Any]
    resources: dict[str, tuple[str, str]]  # logical id -> (type, physical id)
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Move:
    kind: str  # repository | log_group | site_bucket | database | database_writer | database_subnet_group
    workload: str  # shipyard's workload, "service" for [service]
    resource_type: str
    physical_id: str
    source_stack: str
    source_logical: str
    target_stack: str = ""
    target_logical: str = ""


@dataclass(frozen=True)
class Kept:
    stack: str
    logical: str
    resource_type: str
    physical_id: str
    why: str


@dataclass
class Plan:
    moves: list[Move] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    # Resources Copilot's stacks let go of with what moves, though nothing imports them: a moving bucket's policy
    # (deleting it from Copilot's stack would delete the bucket's one policy, shipyard's by then). (stack, logical id)
    released: list[tuple[str, str]] = field(default_factory=list)

    def adopted(self) -> dict[str, Any]:
        """[environments.<env>.adopted] for these moves."""
        table: dict[str, Any] = {}
        for move in self.moves:
            if move.kind in ("site_bucket", *DATABASE_KINDS):
                table[move.kind] = move.physical_id
            else:
                table.setdefault({"repository": "repositories", "log_group": "log_groups"}[move.kind], {})[move.workload] = move.physical_id
        return table


def serves(tags: dict[str, str], app: str, env: str) -> bool:
    """A stack of the application that serves this environment: the environment's, its workloads', or app-wide (the
    StackSet instance holding the repositories), by Copilot's tags."""
    return tags.get(APP_TAG) == app and tags.get(ENV_TAG, env) == env


def plan_moves(stacks: list[CopilotStack], *, app: str, primary: str, workloads: set[str], site: str | None,
               database: bool = False) -> Plan:
    """What moves where, by Copilot's names; `primary` is the Copilot service that became [service], `site` the
    Static Site's name (if any), `workloads` shipyard's other workload names; `database`: shipyard's [database] is an
    Aurora cluster in the environment's existing network, so an addon's cluster moves into it (with its subnet group
    and writer instance)."""
    plan = Plan()
    clusters = _addon_cluster(stacks) if database else None

    def shipyard_name(copilot: str) -> str | None:
        return "service" if copilot == primary else copilot if copilot in workloads else None

    for stack in stacks:
        owner = stack.tags.get(SERVICE_TAG)
        for logical, (resource_type, physical) in stack.resources.items():
            mapped = MOVABLE.get(resource_type)
            kind = mapped[0] if mapped else None
            workload = None
            if kind == "repository" and physical.startswith(f"{app}/"):
                workload = shipyard_name(physical.removeprefix(f"{app}/"))
            elif kind == "log_group" and owner is not None:
                workload = shipyard_name(owner)
            elif kind == "site_bucket" and owner is not None and owner == site:
                workload = "service"
            elif kind in DATABASE_KINDS and clusters is not None and (stack.name, logical) in clusters:
                kind, workload = clusters[(stack.name, logical)], "service"
            else:
                kind = None
            if kind is not None and workload is not None:
                plan.moves.append(Move(kind, workload, resource_type, physical, stack.name, logical))
                if kind == "site_bucket":
                    plan.released += [(stack.name, policy) for policy in _policies_of(stack, logical)]
            elif resource_type in NOT_MOVED or mapped:
                plan.kept.append(Kept(stack.name, logical, resource_type, physical, _why_kept(stack, resource_type, physical, kind)))
    return plan


def _policies_of(stack: CopilotStack, bucket: str) -> list[str]:
    """The stack's bucket policies of this bucket (by logical id)."""
    return [logical for logical, body in (stack.template.get("Resources") or {}).items()
            if body.get("Type") == "AWS::S3::BucketPolicy" and (body.get("Properties") or {}).get("Bucket") == {"Ref": bucket}]


def _addon_cluster(stacks: list[CopilotStack]) -> dict[tuple[str, str], str]:
    """(stack, logical id) -> kind of the one Aurora cluster of the environment's addons that becomes [database], its
    subnet group and its writer: found by the references of its template (Copilot's storage addon names none)."""
    found = [(stack, logical) for stack in stacks if SERVICE_TAG not in stack.tags and ENV_TAG in stack.tags
             for logical, (kind, _) in stack.resources.items() if kind == "AWS::RDS::DBCluster"]
    if len(found) != 1:
        return {}
    stack, cluster = found[0]
    resources = stack.template.get("Resources") or {}
    moving = {(stack.name, cluster): "database"}
    group = ((resources.get(cluster) or {}).get("Properties") or {}).get("DBSubnetGroupName")
    if isinstance(group, dict) and group.get("Ref") in stack.resources:
        moving[(stack.name, group["Ref"])] = "database_subnet_group"
    members = [logical for logical, body in resources.items() if body.get("Type") == "AWS::RDS::DBInstance"
               and (body.get("Properties") or {}).get("DBClusterIdentifier") == {"Ref": cluster}]
    if len(members) == 1:  # shipyard's [database] has a writer, and a reader with database_multi_az
        moving[(stack.name, members[0])] = "database_writer"
    return moving


def _why_kept(stack: CopilotStack, resource_type: str, physical: str, kind: str | None) -> str:
    if resource_type in NOT_MOVED:
        return NOT_MOVED[resource_type]
    if kind is not None:  # a repository or log group of a workload shipyard.toml does not have
        return f"{physical} belongs to no workload in shipyard.toml"
    if ENV_TAG not in stack.tags:
        return "Copilot's own (the pipeline's artifacts): not the app's data; it goes with `copilot app delete`"
    if SERVICE_TAG not in stack.tags:
        return "an addon's: shipyard has no table for it yet; keep its Copilot stack, or copy its data and delete it"
    return "not a workload's repository, log group or site bucket; keep its Copilot stack until it is handled"


def secret_names(references: list[str]) -> list[tuple[str, str]]:
    """(service, name) of each secret reference of shipyard.toml ('ssm:NAME', 'secretsmanager:NAME'), once each."""
    found = []
    for reference in references:
        service, _, name = reference.partition(":")
        if (service, name) not in found:
            found.append((service, name))
    return found


def place(plan: Plan, templates: dict[str, dict[str, Any]]) -> None:
    """Each move's stack and logical id in shipyard's templates (by stack name): the resource of its type whose
    identifier is the adopted name."""
    placed = []
    for move in plan.moves:
        key = identifier_of(move.resource_type)
        found = [(stack, logical) for stack, template in templates.items() for logical, body in (template.get("Resources") or {}).items()
                 if body.get("Type") == move.resource_type and (body.get("Properties") or {}).get(key) == move.physical_id]
        if len(found) != 1:
            plan.refusals.append(f"{move.source_stack}/{move.source_logical}: {move.resource_type} {move.physical_id} is not in "
                                 f"shipyard's templates once ({len(found)} times); is [environments.<env>.adopted] written?")
            placed.append(move)
            continue
        stack, logical = found[0]
        placed.append(Move(**{**move.__dict__, "target_stack": stack, "target_logical": logical}))
    plan.moves[:] = placed


def drop_imported(plan: Plan, holding: dict[str, dict[str, str]]) -> None:
    """What a shipyard stack holds already (`holding`: stack -> logical id -> physical id) is done."""
    plan.moves[:] = [m for m in plan.moves if holding.get(m.target_stack, {}).get(m.target_logical) != m.physical_id]


def held_already(plan: Plan, holding: dict[str, dict[str, str]]) -> None:
    """A refusal for each move whose place in shipyard's stack holds another resource already (`holding`: stack ->
    logical id -> physical id): the environment was deployed before it adopted, and its own repository, bucket or log
    group stands where the adopted one would go."""
    for move in plan.moves:
        present = holding.get(move.target_stack, {}).get(move.target_logical)
        if present is not None and present != move.physical_id:
            plan.refusals.append(f"{move.target_stack}/{move.target_logical} holds shipyard's own {move.resource_type} {present} "
                                 f"where {move.physical_id} would go: adopt before an environment's first deploy, or `shipyard "
                                 "destroy` it first (what it holds goes with it)")


def compare(plan: Plan, templates: dict[str, dict[str, Any]], live: dict[str, dict[str, Any]]) -> None:
    """A refusal for each property an import cannot take: `live` holds each moved resource's MUST_MATCH properties as
    AWS reports them, in the template's form (by physical id)."""
    for move in plan.moves:
        if not move.target_stack:
            continue
        declared = templates[move.target_stack]["Resources"][move.target_logical].get("Properties") or {}
        actual = live.get(move.physical_id, {})
        for name in MUST_MATCH.get(move.resource_type, ()):
            wanted, found = normalized(move.resource_type, name, declared.get(name)), normalized(move.resource_type, name, actual.get(name))
            if wanted != found:
                plan.refusals.append(f"{move.resource_type} {move.physical_id} ({move.source_stack}/{move.source_logical}): "
                                     f"{name} is {found or 'not set'} there but {wanted or 'not set'} in shipyard's template "
                                     f"({move.target_stack}/{move.target_logical}); an import takes the resource as it is, "
                                     "so change one of them before adopting")


def normalized(resource_type: str, name: str, value: Any) -> str:
    """A MUST_MATCH property as one comparable text (AWS's defaults filled in: an S3 bucket and an ECR repository are
    encrypted with AES256 where nothing else is said)."""
    if resource_type == "AWS::S3::Bucket" and name == "BucketEncryption":
        rules = ((value or {}).get("ServerSideEncryptionConfiguration") or [{}]) if isinstance(value, dict) else [{}]
        default = (rules[0] or {}).get("ServerSideEncryptionByDefault") or {}
        algorithm = default.get("SSEAlgorithm", "AES256")
        return f"{algorithm} ({default['KMSMasterKeyID']})" if default.get("KMSMasterKeyID") else algorithm
    if resource_type == "AWS::ECR::Repository" and name == "EncryptionConfiguration":
        value = value if isinstance(value, dict) else {}
        kind = value.get("EncryptionType", "AES256")
        return f"{kind} ({value['KmsKey']})" if value.get("KmsKey") else kind
    return "" if value in (None, "") else str(value)


# -- the templates of a move -------------------------------------------------------------------------------------

def retained(template: dict[str, Any], logicals: set[str]) -> dict[str, Any]:
    """The Copilot stack's template with the moving resources kept on removal (step 1)."""
    changed = copy.deepcopy(template)
    for logical in logicals:
        changed["Resources"][logical]["DeletionPolicy"] = "Retain"
        changed["Resources"][logical]["UpdateReplacePolicy"] = "Retain"
    return changed


def detached(template: dict[str, Any], values: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The Copilot stack's template without the moving resources (step 2), every reference to them replaced by the
    value it resolved to: values[logical] holds "Ref" and each attribute by name. Returns the template and the
    references that could not be resolved (each refuses the move)."""
    changed = copy.deepcopy(template)
    for logical in values:
        del changed["Resources"][logical]
    unresolved: list[str] = []

    def replace(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in values:
                return values[node["Ref"]]["Ref"]
            if set(node) == {"Fn::GetAtt"}:
                target, attribute = (node["Fn::GetAtt"].split(".", 1) if isinstance(node["Fn::GetAtt"], str) else node["Fn::GetAtt"])
                if target in values:
                    if attribute not in values[target]:
                        unresolved.append(f"{where}: Fn::GetAtt {target}.{attribute}")
                        return node
                    return values[target][attribute]
            if set(node) == {"Fn::Sub"}:
                return {"Fn::Sub": _substituted(node["Fn::Sub"], values, where, unresolved)}
            if "DependsOn" in node:
                node = {**node, "DependsOn": _without(node["DependsOn"], values)}
                if not node["DependsOn"]:
                    del node["DependsOn"]
            return {key: replace(value, f"{where}.{key}") for key, value in node.items()}
        if isinstance(node, list):
            return [replace(item, f"{where}[{i}]") for i, item in enumerate(node)]
        return node

    for section in ("Resources", "Outputs", "Conditions"):
        if section in changed:
            changed[section] = {name: replace(body, f"{section}.{name}") for name, body in changed[section].items()}
    return changed, unresolved


def _without(depends_on: Any, values: dict[str, Any]) -> Any:
    if isinstance(depends_on, str):
        return [] if depends_on in values else depends_on
    return [d for d in depends_on if d not in values]


def _substituted(body: Any, values: dict[str, dict[str, Any]], where: str, unresolved: list[str]) -> Any:
    text, variables = (body, None) if isinstance(body, str) else (body[0], body[1])
    for logical, resolved in values.items():
        text = text.replace("${" + logical + "}", str(resolved["Ref"]))
        for attribute, value in resolved.items():
            text = text.replace("${" + f"{logical}.{attribute}" + "}", str(value))
        if "${" + logical + "." in text:
            unresolved.append(f"{where}: Fn::Sub ${{{logical}.…}}")
    return text if variables is None else [text, variables]


def import_template(current: dict[str, Any] | None, desired: dict[str, Any], logicals: set[str]) -> tuple[dict[str, Any], list[str]]:
    """What shipyard's stack holds while it imports (step 3): what it holds now (nothing, for a stack not yet
    created) and each imported resource with only its identifier and the properties set at creation (which must be
    the resource's own: `compare` checks what it can), kept on removal. An import takes a resource as it is and
    applies none of its template's other properties; the next deploy changes them as an update, so the resource ends
    as shipyard's template says instead of drifting from it. Returns the template and the create-only properties
    that refer to other resources (each refuses the import: the stack could not resolve them yet)."""
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    template = copy.deepcopy(current) if current else {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}
    missing: list[str] = []
    for logical in sorted(logicals):
        body = desired["Resources"][logical]
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", body["Type"]).schema
        create_only = {p.removeprefix("/properties/").split("/")[0] for p in schema.get("createOnlyProperties", [])}
        kept = {k: v for k, v in (body.get("Properties") or {}).items() if k in create_only}
        missing += [f"{logical}.{k}" for k, v in sorted(kept.items()) if _intrinsic(v)]
        template["Resources"][logical] = {"Type": body["Type"], "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                                          "Properties": {k: v for k, v in kept.items() if not _intrinsic(v)}}
    return template, missing


def _intrinsic(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k == "Ref" or k.startswith("Fn::") for k in value) or any(_intrinsic(v) for v in value.values())
    if isinstance(value, list):
        return any(_intrinsic(v) for v in value)
    return False


def attribute_values(resource_type: str, physical_id: str, *, account: str, region: str) -> dict[str, str]:
    """What a reference to a moved resource resolved to: Ref and each Fn::GetAtt attribute, in the forms each
    resource type's "Return values" documents (CloudFormation template reference)."""
    partition, suffix = naming.partition(region), naming.dns_suffix(region)
    if resource_type == "AWS::ECR::Repository":
        return {"Ref": physical_id, "Arn": f"arn:{partition}:ecr:{region}:{account}:repository/{physical_id}",
                "RepositoryUri": f"{account}.dkr.ecr.{region}.{suffix}/{physical_id}"}
    if resource_type == "AWS::Logs::LogGroup":
        return {"Ref": physical_id, "Arn": f"arn:{partition}:logs:{region}:{account}:log-group:{physical_id}:*"}
    if resource_type == "AWS::S3::Bucket":
        return {"Ref": physical_id, "Arn": f"arn:{partition}:s3:::{physical_id}", "DomainName": f"{physical_id}.s3.{suffix}",
                "RegionalDomainName": f"{physical_id}.s3.{region}.{suffix}",
                "DualStackDomainName": f"{physical_id}.s3.dualstack.{region}.{suffix}",
                "WebsiteURL": f"http://{physical_id}.s3-website.{region}.{suffix}"}
    if resource_type == "AWS::RDS::DBCluster":
        return {"Ref": physical_id, "DBClusterArn": f"arn:{partition}:rds:{region}:{account}:cluster:{physical_id}"}
    if resource_type == "AWS::RDS::DBInstance":
        return {"Ref": physical_id, "DBInstanceArn": f"arn:{partition}:rds:{region}:{account}:db:{physical_id}"}
    return {"Ref": physical_id}


def cluster_form(*, engine: str, database_name: str, master_username: str, encrypted: bool) -> dict[str, Any]:
    """What RDS reports of a cluster's MUST_MATCH properties, in its template's form."""
    return {"Engine": engine, "DatabaseName": database_name, "MasterUsername": master_username, "StorageEncrypted": encrypted}


def same_network(plan: Plan, subnet_group_vpcs: dict[str, str | None], vpc: str) -> None:
    """A refusal for a moving subnet group in another VPC than the environment's: a cluster cannot leave the VPC
    of its subnet group without a copy (a snapshot restored elsewhere)."""
    for move in plan.moves:
        found = subnet_group_vpcs.get(move.physical_id, vpc) if move.kind == "database_subnet_group" else vpc
        if found != vpc:
            plan.refusals.append(f"AWS::RDS::DBSubnetGroup {move.physical_id} ({move.source_stack}/{move.source_logical}): "
                                 f"its subnets are in {found}, but the environment's network is {vpc}; the cluster cannot leave "
                                 "its VPC without a copy, so [environments.<env>.network] must name that VPC")


def live_form(resource_type: str, *, encryption: Any) -> dict[str, Any]:
    """What a service API reports of a resource's MUST_MATCH properties, in its template's form."""
    if resource_type == "AWS::S3::Bucket":
        rules = (encryption or {}).get("Rules") or []
        default = (rules[0] if rules else {}).get("ApplyServerSideEncryptionByDefault") or {}
        return {"BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": default}]}} if default else {}
    if resource_type == "AWS::ECR::Repository":
        lowered = {k.lower(): v for k, v in (encryption or {}).items()}
        return {"EncryptionConfiguration": {"EncryptionType": lowered.get("encryptiontype", "AES256"),
                                            **({"KmsKey": lowered["kmskey"]} if lowered.get("kmskey") else {})}}
    return {"KmsKeyId": encryption} if encryption else {}
