from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, open_ingress, referenced_id, service_security_groups
from shipyard.checks.live import LiveEnvironment, LiveFinding


class BackendIngress(Rule):
    id = "SY-E203"
    severity = Severity.ERROR
    category = Category.NETWORK
    short = "Backend service reachable by more than the workloads that call it"
    long = ("A backend service's security groups admit only the security groups of the workloads that declare they "
            "call it (`calls`), on its port: never an address range, a prefix list, the load balancer's group or "
            "another workload's. Its tasks have public IP addresses, so an address range bypasses the whole platform.")
    rationale = "A backend takes requests without the edge's WAF or the load balancer in front: who can reach it is who can call it."

    def check(self, view: StackView):
        # The backends' groups live in the foundation stack and their services in the service stack: what one template
        # can say is an address range on the group of a backend declared beside it. The live half reads every backend.
        groups = {referenced_id(g) for _, props in view.resources("AWS::ECS::Service")
                  if (props.get("ServiceConnectConfiguration") or {}).get("Services") for g in service_security_groups(props)}
        groups.discard(None)
        for logical_id, source in open_ingress(view, groups):
            yield Violation(logical_id, f"admits {source}; only the security groups of its callers may reach a backend")

    verify_title = "backends reachable only by the workloads that call them"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        if not live.backend_callers:
            return LiveFinding(True, "no backends", "the app has no backend service")
        problems = []
        for backend, callers in live.backend_callers.items():
            service = live.services.get(backend)
            if service is None:
                problems.append(f"{backend} does not exist")
                continue
            calling = [live.services.get(caller) for caller in callers]
            allowed = {g for caller in calling if caller is not None for g in caller.network.security_groups}
            lb = live.load_balancer
            for group in live.aws.ec2(live.region).security_groups(list(service.network.security_groups)):
                for ingress in group.ingress:
                    problems += [f"{backend}'s {group.id} admits {source}" for source in (*ingress.cidrs, *ingress.ipv6_cidrs,
                                                                                           *(f"prefix list {p}" for p in ingress.prefix_lists))]
                    problems += [f"{backend}'s {group.id} admits " + ("the load balancer's group" if lb and g in lb.security_groups
                                                                      else f"security group {g}, which no caller of it has")
                                 for g in ingress.security_groups if g not in allowed]
        return LiveFinding(not problems, ", ".join(live.backend_callers),
                           "; ".join(problems) or "each admits its declared callers only")


RULE = BackendIngress()
