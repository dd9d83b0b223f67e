"""Resolve an image reference to a digest in this environment's repository, and read its scan findings."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from shipyard.aws import Aws, AwsError
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
    image_id = {"imageDigest": digest} if digest else {"imageTag": tag}
    try:
        details = aws.call("ecr", "DescribeImages", env.region, repositoryName=env.names.repository,
                           imageIds=[image_id])["imageDetails"]
    except AwsError as exc:
        if exc.code in ("ImageNotFoundException", "RepositoryNotFoundException"):
            raise ShipyardError("--image", f"{ref} is not in repository {repository_uri(env)}",
                                "push it first (CI pushes by digest), or check the tag") from None
        raise
    detail = details[0]
    return Image(repository_uri(env), detail["imageDigest"], tuple(detail.get("imageTags", [])))


def scan_findings(aws: Aws, env: Environment, image: Image, *, timeout: float = 120) -> dict[str, int]:
    """Severity counts of the image's ECR scan; waits (bounded) for a scan that is still running."""
    deadline = time.monotonic() + timeout
    started_scan = False
    while True:
        try:
            result = aws.call("ecr", "DescribeImageScanFindings", env.region, repositoryName=env.names.repository,
                              imageId={"imageDigest": image.digest})
        except AwsError as exc:
            if exc.code != "ScanNotFoundException" or started_scan:
                raise
            aws.call("ecr", "StartImageScan", env.region, repositoryName=env.names.repository,
                     imageId={"imageDigest": image.digest})
            started_scan = True
            continue
        status = result.get("imageScanStatus", {}).get("status", "COMPLETE")
        if status in ("COMPLETE", "ACTIVE"):
            return dict(result.get("imageScanFindings", {}).get("findingSeverityCounts", {}))
        if status == "FAILED":
            raise ShipyardError(image.reference, f"the ECR scan failed: {result['imageScanStatus'].get('description', '')}")
        if time.monotonic() > deadline:
            raise ShipyardError(image.reference, f"the ECR scan is still {status} after {timeout:.0f}s",
                                "rerun when the scan has finished")
        time.sleep(3)
