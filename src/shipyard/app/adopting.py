"""`shipyard adopt ENV --from-copilot`: the resources of a deployed Copilot environment that hold data move into
shipyard's stacks (copilot/adoption.py plans it; this reads AWS, records the names in shipyard.toml, and runs it).

Order: read every Copilot stack of the environment and what the moving resources are like; write
[environments.<env>.adopted] (shipyard's templates then name them as they are); plan, with every refusal found
before the first change; then for each Copilot stack Retain and let go, and for each shipyard stack an import.
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from shipyard import naming, ui
from shipyard.app.context import assembly_for, guard_production, open_environment
from shipyard.aws import Aws, Target
from shipyard.aws.rds import ClusterFacts
from shipyard.config import Config, Environment, parse_config
from shipyard.config.environment import AdoptedResources
from shipyard.config.models import secret_in
from shipyard.copilot import adoption
from shipyard.copilot.adoption import CopilotStack, Kept, Move
from shipyard.copilot.translate import primary_service, static_site
from shipyard.copilot.workspace import read_workspace
from shipyard.deploy.apply import DeployFailed, apply_stack, check_account
from shipyard.errors import ConfigError, Refused
from shipyard.synth import StackArtifact


@dataclass(frozen=True)
class AdoptReport:
    environment: str
    moves: list[Move]
    kept: list[Kept]
    recorded: str = ""  # the table written to shipyard.toml, "" when it was there already
    executed: bool = False
    steps: list[str] = field(default_factory=list)


class AdoptionRefused(Refused):
    def __init__(self, where: str, refusals: list[str]) -> None:
        super().__init__(where, f"{len(refusals)} resource(s) cannot be adopted as they are; nothing was changed",
                         "change what each names, then run adopt again")
        self.refusals = refusals

    def lines(self) -> list[str]:
        return [*self.refusals, self.one_line()]


def adopt(config: Config, env_name: str, target: Target, *, yes: bool, dry_run: bool) -> AdoptReport:
    ctx = open_environment(config, env_name, target)
    env, aws = ctx.env, ctx.aws
    check_account(aws, env.account, env.name)
    workspace = read_workspace(config.directory)
    stacks = _copilot_stacks(aws, env.region, workspace.application, env.name)
    if not stacks:
        raise Refused(f"environment {env.name}", f"no stack of Copilot app {workspace.application!r} and environment {env.name!r} "
                                                 f"in account {env.account} ({env.region}); nothing was changed",
                      "check the account and region, and the environment's name in copilot/environments/")
    aurora = config.database is not None and config.database.engine == "aurora-postgresql" and env.network is not None
    plan = adoption.plan_moves(stacks, app=workspace.application, primary=primary_service(workspace) or "",
                               workloads=set(config.workloads), site=static_site(workspace), database=aurora)
    config, recorded = _with_adopted(config, env_name, plan.adopted())
    env = config.environment(env_name)  # its names now the adopted ones
    # With cdk-nag's reports, as deploy synthesizes: the deploy after the adoption finds these templates in the cache.
    with tempfile.TemporaryDirectory() as out:
        templates = {stack.name: stack.template() for stack in assembly_for(config, env, Path(out)).stacks}
    _resume(plan, aws, env, templates)
    adoption.place(plan, templates)
    holding = _holding(aws, env.region, {m.target_stack for m in plan.moves if m.target_stack})
    adoption.drop_imported(plan, holding)
    adoption.held_already(plan, holding)
    # A moving cluster is described once: what it was created with (compared) and where it answers (references to it).
    clusters = {m.physical_id: aws.rds(env.region).cluster(m.physical_id) for m in plan.moves if m.kind == "database"}
    adoption.compare(plan, templates, {m.physical_id: _live(aws, env.region, m, clusters) for m in plan.moves})
    if env.network is not None:
        adoption.same_network(plan, {m.physical_id: aws.rds(env.region).subnet_group_vpc(m.physical_id) for m in plan.moves
                                     if m.kind == "database_subnet_group"}, env.network.vpc_id)
    retains, detaches = _source_templates(plan, stacks, env, clusters)
    imports = _import_templates(plan, aws, env.region, templates)
    if plan.refusals:
        raise AdoptionRefused(f"environment {env.name}", plan.refusals)
    plan.kept += _secrets(config, env, aws)
    report = AdoptReport(env.name, plan.moves, plan.kept, recorded)
    if dry_run or not plan.moves:
        return report
    guard_production([env], yes=yes, action="move Copilot's resources into")
    if recorded:  # before the first change: a stopped run resumes from the names it recorded
        config.path.write_text(config.path.read_text() + recorded)
    steps = []
    with tempfile.TemporaryDirectory() as scratch:
        for stack in stacks:
            if stack.name not in retains:
                continue
            for step, template in (("keeps on removal (Retain)", retains[stack.name]), ("lets go of", detaches[stack.name])):
                _apply(aws, _artifact(scratch, stack.name, env, template), "UPDATE", stack.parameters)
                steps.append(f"{stack.name}: {step} {', '.join(sorted(_moving(plan, stack.name)))}")
        for name, (template, resources) in imports.items():
            current = aws.cloudformation(env.region).stack(name)
            _apply(aws, _artifact(scratch, name, env, template), "IMPORT", current.given_parameters if current else {},
                   resources_to_import=resources)
            steps.append(f"{name}: imported {', '.join(r['LogicalResourceId'] for r in resources)}")
    return AdoptReport(env.name, plan.moves, plan.kept, recorded, True, steps)


def _resume(plan: adoption.Plan, aws: Aws, env: Environment, templates: dict) -> None:
    """A run that stopped between letting go and importing left adopted resources in no stack: they are imported now."""
    if env.adopted is None:
        return
    planned = {m.physical_id for m in plan.moves}
    for (kind, workload), name in env.adopted.entries():
        if name not in planned:
            shown = "service" if workload == naming.PRIMARY_SERVICE else workload
            plan.moves.append(Move(kind, shown, adoption.type_of(kind), name, "", ""))


def _holding(aws: Aws, region: str, stacks: set[str]) -> dict[str, dict[str, str]]:
    """Stack -> logical id -> physical id, of the shipyard stacks that exist."""
    cloudformation = aws.cloudformation(region)
    return {stack: {r.logical_id: r.physical_id for r in cloudformation.resources(stack)}
            for stack in stacks if cloudformation.stack(stack) is not None}


def _secrets(config: Config, env: Environment, aws: Aws) -> list[Kept]:
    """The secrets shipyard.toml references stay where they are (Copilot made them outside any stack): each is
    listed, and one this account does not have is said so now, before a task fails to start for it."""
    references = [secret_in(ref, env.name) for ref in
                  (*config.service.secrets.values(), *(ref for w in config.workloads.values() for ref in w.secrets.values()))]
    region = env.region
    kept = []
    for service, name in adoption.secret_names(references):
        exists = aws.ssm(region).exists(name) if service == "ssm" else aws.secrets(region).exists(name)
        kind = "AWS::SSM::Parameter" if service == "ssm" else "AWS::SecretsManager::Secret"
        kept.append(Kept("", "", kind, name, "in no stack: stays where it is, referenced by this name (its value is not read)"
                         if exists else "MISSING in this account and region: create it before the cutover, or tasks that "
                                        "reference it will not start"))
    return kept


def _copilot_stacks(aws: Aws, region: str, app: str, env: str) -> list[CopilotStack]:
    cloudformation = aws.cloudformation(region)
    found = []
    for stack in cloudformation.stacks():
        if not adoption.serves(stack.tags, app, env):
            continue
        resources = {r.logical_id: (r.resource_type, r.physical_id) for r in cloudformation.resources(stack.name)}
        found.append(CopilotStack(stack.name, stack.tags, cloudformation.template(stack.name) or {}, resources, stack.given_parameters))
    return found


def _with_adopted(config: Config, env_name: str, adopted: dict) -> tuple[Config, str]:
    """The configuration with [environments.<env>.adopted] (read, not yet written), and the text to append to
    shipyard.toml ("" where the same table is there already; a different one is refused: a name CloudFormation holds
    must not change under it)."""
    env = config.environment(env_name)
    if env.adopted is not None:
        recorded = dict(env.adopted.entries())
        wanted = AdoptedResources(**adopted).entries()
        differing = sorted(f"{kind} of {workload}: {name}" for (kind, workload), name in wanted if recorded.get((kind, workload)) != name)
        if differing:
            raise Refused(f"{config.path.name}: environments.{env_name}.adopted",
                          f"does not name what this Copilot environment still holds ({'; '.join(differing)}); nothing was changed",
                          "an adopted resource keeps its name: fix the table by hand if it is wrong")
        return config, ""
    addition = (f"\n# Moved in from Copilot by `shipyard adopt {env_name}`: CloudFormation holds these by these names, so they "
                "stay (docs/copilot.md).\n" + tomli_w.dumps({"environments": {env_name: {"adopted": adopted}}}))
    try:
        return parse_config(tomllib.loads(config.path.read_text() + addition), config.path), addition
    except (tomllib.TOMLDecodeError, ConfigError) as exc:
        raise ConfigError(str(config.path), f"cannot take [environments.{env_name}.adopted]: {exc}; nothing was changed") from None


def _live(aws: Aws, region: str, move: Move, clusters: dict[str, ClusterFacts | None]) -> dict:
    if move.resource_type == "AWS::RDS::DBCluster":
        facts = clusters.get(move.physical_id)
        return adoption.cluster_form(engine=facts.engine, database_name=facts.database_name, master_username=facts.master_username,
                                     encrypted=facts.encrypted) if facts else {}
    if move.resource_type in ("AWS::RDS::DBInstance", "AWS::RDS::DBSubnetGroup"):
        return {}  # nothing of theirs must match: what they were created with is the cluster's, or their name
    if move.resource_type == "AWS::S3::Bucket":
        return adoption.live_form(move.resource_type, encryption={"Rules": (aws.s3(region).encryption(move.physical_id) or {}).get("Rules")})
    if move.resource_type == "AWS::ECR::Repository":
        repository = aws.ecr(region).repository(move.physical_id)
        return adoption.live_form(move.resource_type, encryption=repository.encryption if repository else None)
    return adoption.live_form(move.resource_type, encryption=aws.logs(region).group_kms_key(move.physical_id))


def _endpoints(facts: ClusterFacts | None) -> dict[str, str]:
    """A cluster's endpoint attributes, which only RDS knows (a reference to them in Copilot's stack becomes these)."""
    return {"Endpoint.Address": facts.endpoint, "Endpoint.Port": facts.port, "ReadEndpoint.Address": facts.reader_endpoint} if facts else {}


def _moving(plan: adoption.Plan, stack: str) -> set[str]:
    """What the Copilot stack lets go of: what moves, and what is released with it."""
    return {m.source_logical for m in plan.moves if m.source_stack == stack} | {logical for held, logical in plan.released if held == stack}


def _source_templates(plan: adoption.Plan, stacks: list[CopilotStack], env: Environment,
                      clusters: dict[str, ClusterFacts | None]) -> tuple[dict, dict]:
    """Each Copilot stack's two steps: keep on removal, then let go."""
    retains, detaches = {}, {}
    for stack in stacks:
        moving = _moving(plan, stack.name)
        if not moving:
            continue
        values = {logical: {**adoption.attribute_values(stack.resources[logical][0], stack.resources[logical][1], account=env.account,
                                                        region=env.region), **_endpoints(clusters.get(stack.resources[logical][1]))}
                  for logical in moving}
        retains[stack.name] = adoption.retained(stack.template, moving)
        detaches[stack.name], unresolved = adoption.detached(retains[stack.name], values)
        plan.refusals += [f"{stack.name}: {where} refers to a moving resource's attribute shipyard cannot resolve" for where in unresolved]
    return retains, detaches


def _import_templates(plan: adoption.Plan, aws: Aws, region: str, templates: dict) -> dict[str, tuple[dict, list[dict]]]:
    imports = {}
    for stack in sorted({m.target_stack for m in plan.moves if m.target_stack}):
        moving = [m for m in plan.moves if m.target_stack == stack]
        current = aws.cloudformation(region).template(stack)
        template, missing = adoption.import_template(current, templates[stack], {m.target_logical for m in moving})
        plan.refusals += [f"{stack}: {where} is set at creation only and refers to another resource: the first deploy after the "
                          "import would replace it" for where in missing]
        imports[stack] = (template, [{"ResourceType": m.resource_type, "LogicalResourceId": m.target_logical,
                                      "ResourceIdentifier": {adoption.identifier_of(m.resource_type): m.physical_id}}
                                     for m in moving])
    return imports


def _artifact(scratch: str, name: str, env: Environment, template: dict) -> StackArtifact:
    path = Path(scratch) / f"{name}.json"
    path.write_text(json.dumps(template))
    return StackArtifact(name=name, account=env.account, region=env.region, template_path=path, depends_on=(), environment=env.name)


def _apply(aws: Aws, artifact: StackArtifact, change_set_type: str, parameters: dict[str, str], **options) -> None:
    applied = apply_stack(aws, artifact, change_set_type=change_set_type, parameters=parameters, **options)
    if not applied.succeeded:
        raise DeployFailed(artifact.name, applied.failure(), "the steps above are done; run adopt again once the cause is fixed: "
                                                             "it carries on from what is left")
    ui.info(f"{artifact.name}: {applied.outcome}")
