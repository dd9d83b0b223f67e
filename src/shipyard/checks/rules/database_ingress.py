from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, open_ingress, referenced_id
from shipyard.checks.live import LiveEnvironment, LiveFinding


class DatabaseIngress(Rule):
    id = "SY-E802"
    severity = Severity.ERROR
    category = Category.DATABASE
    short = "Database reachable other than from the service's tasks"
    long = ("A security group of an RDS instance may admit traffic only from another security group (the tasks' of "
            "[service] and of each workload with `database = true`), never from an address range or a prefix list.")
    rationale = "An address range is broader than the service: anything that lands in it can reach the database."

    def check(self, view: StackView):
        groups = {referenced_id(g) for _, props in view.resources("AWS::RDS::DBInstance") for g in props.get("VPCSecurityGroups") or []}
        groups.discard(None)
        for logical_id, source in open_ingress(view, groups):
            yield Violation(logical_id, f"admits {source}; only the service tasks' security group may reach the database")

    verify_title = "database reachable only from the tasks that connect to it"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        database = live.database
        if database is None:
            return LiveFinding(True, "no database", "no [database] in shipyard.toml")
        tasks = {group for groups in live.database_clients.values() for group in groups}
        groups = live.aws.ec2(live.region).security_groups(list(database.security_groups))
        problems = []
        for group in groups:
            for ingress in group.ingress:
                problems += [f"{group.id} admits {source}" for source in (*ingress.cidrs, *ingress.ipv6_cidrs, *ingress.prefix_lists)]
                problems += [f"{group.id} admits security group {source}, not the tasks' of a service given the database" for source in ingress.security_groups
                             if source not in tasks]
        return LiveFinding(bool(groups) and not problems, ", ".join(database.security_groups) or "no security group",
                           "; ".join(problems) or "admit only the service tasks' security group")


RULE = DatabaseIngress()
