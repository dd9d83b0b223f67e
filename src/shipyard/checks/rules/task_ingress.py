from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, open_ingress, referenced_id, service_security_groups
from shipyard.checks.live import LiveEnvironment, LiveFinding


class TaskIngress(Rule):
    id = "SY-E202"
    severity = Severity.ERROR
    category = Category.NETWORK
    short = "Service tasks reachable other than from their load balancer"
    long = ("A security group of the ECS service's tasks may admit traffic only from another security group (the "
            "load balancer's), never from an address range or a prefix list. Tasks have public IP addresses, so an "
            "open task security group bypasses CloudFront, WAF and the load balancer.")
    rationale = "The internal load balancer and WAF protect nothing if the tasks answer the internet directly."

    def check(self, view: StackView):
        task_groups = {referenced_id(g) for _, props in view.resources("AWS::ECS::Service") for g in service_security_groups(props)}
        task_groups.discard(None)
        for logical_id, source in open_ingress(view, task_groups):
            yield Violation(logical_id, f"admits {source}; only the load balancer's security group may reach the tasks")

    verify_title = "tasks reachable only from the load balancer"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        service, lb = live.service, live.load_balancer
        if service is None:
            return LiveFinding(False, live.env.names.service, "service not found")
        allowed = set(lb.security_groups if lb else ())
        groups = live.aws.ec2(live.region).security_groups(list(service.network.security_groups))
        problems = [f"{group.id} admits {source}" for group in groups for ingress in group.ingress
                    for source in (*ingress.cidrs, *ingress.ipv6_cidrs, *(f"prefix list {p}" for p in ingress.prefix_lists),
                                   *(f"security group {g}" for g in ingress.security_groups if g not in allowed))]
        return LiveFinding(bool(groups) and not problems, ", ".join(service.network.security_groups) or "no security group",
                           "; ".join(problems) or "admit only the load balancer's security group")


RULE = TaskIngress()
