from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation


def _logical(ref) -> str | None:
    if isinstance(ref, dict):
        return ref.get("Fn::GetAtt", [None])[0] if "Fn::GetAtt" in ref else ref.get("Ref")
    return None


class DatabaseIngress(Rule):
    id = "SY-E802"
    severity = Severity.ERROR
    category = Category.DATABASE
    short = "Database reachable other than from the service's tasks"
    long = ("A security group of an RDS instance may admit traffic only from another security group (the service "
            "tasks'), never from an address range or a prefix list.")
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


RULE = DatabaseIngress()
