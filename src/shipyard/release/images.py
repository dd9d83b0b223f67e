"""Resolve an image reference to a digest in this environment's repository, and read its scan findings."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from shipyard.aws import Aws
from shipyard.config import Environment
from shipyard.errors import ShipyardError, UsageError

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
BLOCKING_SEVERITIES = ("CRITICAL", "HIGH")


@dataclass(frozen=True)
class Image:
    repository_uri: str
    digest: str
    tags: tuple[str, ...]

    @property
    def reference(self) -> str:
        return f"{self.repository_uri}@{self.digest}"


def repository_uri(env: Environment) -> str:
    return f"{env.account}.dkr.ecr.{env.region}.amazonaws.com/{env.names.repository}"


def resolve(aws: Aws, env: Environment, ref: str) -> Image:
    """REF is repo@sha256:..., sha256:..., or a tag in this environment's repository."""
    digest = tag = None
    if "@" in ref:
        repo, _, digest = ref.partition("@")
        if repo and not repo.endswith(env.names.repository):
            raise UsageError("--image", f"{repo} is not {env.name}'s repository {repository_uri(env)}",
                             "push the image there, or use `shipyard promote` to bring it from another environment")
    elif ref.startswith("sha256:"):
        digest = ref
    else:
        tag = ref.rsplit(":", 1)[-1] if "/" in ref else ref
    if digest is not None and not _DIGEST.match(digest):
        raise UsageError("--image", f"{digest!r} is not a sha256 digest (sha256: and 64 hex characters)")
    found = aws.ecr(env.region).image(env.names.repository, digest=digest, tag=tag)
    if found is None:
        raise ShipyardError("--image", f"{ref} is not in repository {repository_uri(env)}",
                            "push it first (CI pushes by digest), or check the tag")
    return Image(repository_uri(env), found.digest, found.tags)


def scan_findings(aws: Aws, env: Environment, image: Image, *, timeout: float = 120) -> dict[str, int]:
    """Severity counts of the image's ECR scan; waits (bounded) for a scan that is still running."""
    ecr = aws.ecr(env.region)
    deadline = time.monotonic() + timeout
    started_scan = False
    while True:
        result = ecr.scan(env.names.repository, image.digest)
        if result is None:
            if started_scan:
                raise ShipyardError(image.reference, "ECR has no scan of it, even after StartImageScan")
            ecr.start_scan(env.names.repository, image.digest)
            started_scan = True
            continue
        if result.status in ("COMPLETE", "ACTIVE"):
            return dict(result.severity_counts)
        if result.status == "FAILED":
            raise ShipyardError(image.reference, f"the ECR scan failed: {result.description}")
        if time.monotonic() > deadline:
            raise ShipyardError(image.reference, f"the ECR scan is still {result.status} after {timeout:.0f}s",
                                "rerun when the scan has finished")
        time.sleep(3)
