from __future__ import annotations

import re
import time

from shipyard.aws.cloudformation import ResourceDrift
from shipyard.checks.base import Category, Rule, Severity, StackView
from shipyard.checks.live import LiveEnvironment, LiveFinding

# What changes after a deploy by design, on AWS as on the embedded AWS: (type, physical id pattern, property path
# pattern, who changes it). CloudFormation's drift detection reports these too; they are not drift of the blueprint.
OWNED_ELSEWHERE = (
    ("AWS::SSM::Parameter", r"/(one-off-)?image$", r"^/Value$",
     "a release writes the image it runs into the parameter (release/release.py, release/one_off.py)"),
    ("AWS::ElasticLoadBalancingV2::ListenerRule", r"", r"^/Actions/\d+/ForwardConfig/TargetGroups/\d+(/Weight)?$",
     "ECS moves the production rule's weights between the blue and green target groups "
     "(ECS developer guide, 'Amazon ECS blue/green deployments')"),
    ("AWS::ApplicationAutoScaling::ScalableTarget", r"", r"^/(Min|Max)Capacity$",
     "scheduled actions (awake hours) and the first release set the capacities"),
)
DETECTION_SECONDS = 300  # DetectStackDrift 'can take up to several minutes' (CloudFormation API reference)


def owned_elsewhere(drift: ResourceDrift, path: str) -> bool:
    return any(drift.resource_type == kind and re.search(physical, drift.physical_id) and re.search(pattern, path)
               for kind, physical, pattern, _why in OWNED_ELSEWHERE)


class StackDrift(Rule):
    id = "SY-E901"
    severity = Severity.ERROR
    category = Category.STACKS
    short = "A deployed resource differs from its stack's template (CloudFormation drift detection)"
    long = ("verify runs CloudFormation's drift detection on every stack of the environment and names each property "
            "that differs from the template, with the expected and the actual value; what releases, ECS and scheduled "
            "actions change by design is left out (stack_drift.OWNED_ELSEWHERE).")
    rationale = "A change made by hand outside the blueprint is undone by the next deploy, or silently kept by none."

    def check(self, view: StackView):
        return iter(())  # a template cannot drift from itself: this rule has only its live half

    verify_title = "stacks: no drift from their templates"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        stacks = live.assembly.stacks
        started = {stack.name: (stack, live.aws.cloudformation(stack.region).detect_drift(stack.name)) for stack in stacks}
        problems: list[str] = []
        deadline = time.monotonic() + live.aws.target.lasts(DETECTION_SECONDS, at_least=30)
        for name, (stack, detection_id) in started.items():
            cloudformation = live.aws.cloudformation(stack.region)
            while not (detection := cloudformation.drift_detection(detection_id)).done and time.monotonic() < deadline:
                time.sleep(live.aws.target.lasts(2, at_least=0.05))
            if detection.status != "DETECTION_COMPLETE":
                problems.append(f"{name}: drift detection did not complete ({detection.status}"
                                + (f": {detection.reason})" if detection.reason else ")"))
                continue
            for drift in cloudformation.drifted_resources(name):
                where = f"{name} {drift.logical_id} ({drift.resource_type})"
                if drift.status == "DELETED":
                    problems.append(f"{where}: deleted")
                problems += [f"{where} {p.path}: expected {p.expected}, actual {p.actual}"
                             for p in drift.properties if not owned_elsewhere(drift, p.path)]
        return LiveFinding(not problems, f"{len(stacks)} stacks", "; ".join(problems) or "in sync with their templates")


RULE = StackDrift()
