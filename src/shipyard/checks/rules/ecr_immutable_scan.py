from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


class EcrImmutableScan(Rule):
    id = "SY-E401"
    severity = Severity.ERROR
    category = Category.REGISTRY
    short = "ECR repository with mutable tags or without scan on push"
    long = "Repositories must have ImageTagMutability IMMUTABLE and ImageScanningConfiguration ScanOnPush true."
    rationale = ("Releases and rollbacks name images by digest and tag by commit; a re-pushed tag would silently change "
                 "what a release means, and unscanned images reach production unexamined.")

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::ECR::Repository"):
            if props.get("ImageTagMutability") != "IMMUTABLE":
                yield Violation(logical_id, f"tags are {props.get('ImageTagMutability', 'MUTABLE')}")
            if (props.get("ImageScanningConfiguration") or {}).get("ScanOnPush") is not True:
                yield Violation(logical_id, "images are not scanned on push")

    verify_title = "repository: immutable tags, scan on push"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        repository = live.aws.ecr(live.region).repository(live.env.names.repository)
        if repository is None:
            return LiveFinding(False, live.env.names.repository, "repository not found")
        detail = ", ".join(p for p, bad in (("tags are mutable", not repository.immutable_tags),
                                            ("no scan on push", not repository.scan_on_push)) if bad)
        return LiveFinding(not detail, repository.uri, detail or "immutable tags, scan on push")


RULE = EcrImmutableScan()
