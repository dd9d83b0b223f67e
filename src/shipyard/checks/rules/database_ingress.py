from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


def _logical(ref) -> str | None:
    if isinstance(ref, dict):
        return ref.get("Fn::GetAtt", [None])[0] if "Fn::GetAtt" in ref else ref.get("Ref")
    return None


class DatabaseIngress(Rule):
    id = "SY-E802"
    severity = Severity.ERROR
    category = Category.DATABASE
    short = "Database reachable other than from the service's tasks"
    long = ("A security group of an RDS instance may admit traffic only from another security group (the tasks' of "
            "[service] and of each workload with `database = true`), never from an address range or a prefix list.")
    rationale = "An address range is broader than the service: anything that lands in it can reach the database."

    def check(self, view: StackView):
        groups = {_logical(g) for _, props in view.resources("AWS::RDS::DBInstance") for g in props.get("VPCSecurityGroups") or []}
        groups.discard(None)
        rules = [(logical_id, rule) for logical_id, props in view.resources("AWS::EC2::SecurityGroup") if logical_id in groups
                 for rule in props.get("SecurityGroupIngress") or []]
        rules += [(_logical(rule.get("GroupId")), rule) for _, rule in view.resources("AWS::EC2::SecurityGroupIngress")
                  if _logical(rule.get("GroupId")) in groups]
        for logical_id, rule in rules:
            source = rule.get("CidrIp") or rule.get("CidrIpv6") or rule.get("SourcePrefixListId")
            if source:
                yield Violation(str(logical_id), f"admits {source}; only the service tasks' security group may reach the database")

    verify_title = "database reachable only from the tasks that connect to it"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        instance = live.database
        if instance is None:
            return LiveFinding(True, "no database", "no [database] in shipyard.toml")
        tasks = {group for groups in live.database_clients.values() for group in groups}
        groups = live.aws.ec2(live.region).security_groups(list(instance.security_groups))
        problems = []
        for group in groups:
            for ingress in group.ingress:
                problems += [f"{group.id} admits {source}" for source in (*ingress.cidrs, *ingress.ipv6_cidrs, *ingress.prefix_lists)]
                problems += [f"{group.id} admits security group {source}, not the tasks' of a service given the database" for source in ingress.security_groups
                             if source not in tasks]
        return LiveFinding(bool(groups) and not problems, ", ".join(instance.security_groups) or "no security group",
                           "; ".join(problems) or "admit only the service tasks' security group")


RULE = DatabaseIngress()
