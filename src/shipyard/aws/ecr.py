"""ECR: repositories, images and their scans, and the registry API a push or a copy speaks (layers, manifests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shipyard.aws.session import AwsError, ServiceApi


@dataclass(frozen=True)
class Repository:
    name: str
    uri: str
    immutable_tags: bool
    scan_on_push: bool
    encryption: dict[str, str] | None = None  # as DescribeRepositories spells it (encryptionType, kmsKey)


@dataclass(frozen=True)
class ImageDetail:
    digest: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ScanResult:
    status: str  # IN_PROGRESS | COMPLETE | FAILED | ACTIVE | ...
    description: str
    severity_counts: dict[str, int]


@dataclass(frozen=True)
class Manifest:
    body: str  # the exact bytes (as text) the digest is computed over
    media_type: str


class Ecr(ServiceApi):
    service = "ecr"

    def repository(self, name: str) -> Repository | None:
        answer = self._found("DescribeRepositories", repositoryNames=[name])
        repositories = (answer or {}).get("repositories") or []
        if not repositories:
            return None
        repo = repositories[0]
        return Repository(repo["repositoryName"], repo["repositoryUri"], repo.get("imageTagMutability") == "IMMUTABLE",
                          bool((repo.get("imageScanningConfiguration") or {}).get("scanOnPush")), repo.get("encryptionConfiguration"))

    def repository_policy(self, name: str) -> dict[str, Any] | None:
        """The repository's policy document, or None when it has none."""
        answer = self._found("GetRepositoryPolicy", repositoryName=name)
        return json.loads(answer["policyText"]) if answer else None

    def image(self, repository: str, *, digest: str | None = None, tag: str | None = None) -> ImageDetail | None:
        """The image with this digest (or tag), or None when it or the repository does not exist."""
        image_id = {"imageDigest": digest} if digest else {"imageTag": tag}
        answer = self._found("DescribeImages", repositoryName=repository, imageIds=[image_id])
        details = (answer or {}).get("imageDetails") or []
        return ImageDetail(details[0]["imageDigest"], tuple(details[0].get("imageTags", []))) if details else None

    def scan(self, repository: str, digest: str) -> ScanResult | None:
        """The image's scan findings, or None when it was never scanned."""
        try:
            answer = self._call("DescribeImageScanFindings", repositoryName=repository, imageId={"imageDigest": digest})
        except AwsError as exc:
            if exc.code == "ScanNotFoundException":
                return None
            raise
        status = answer.get("imageScanStatus") or {}
        counts = (answer.get("imageScanFindings") or {}).get("findingSeverityCounts") or {}
        return ScanResult(status.get("status", "COMPLETE"), status.get("description", ""), {k: int(v) for k, v in counts.items()})

    def start_scan(self, repository: str, digest: str) -> None:
        """Start a basic scan; one that ECR refuses for its quota (one scan per image a day) has been made already,
        perhaps by this very call before a retry (ECR API reference, StartImageScan: LimitExceededException)."""
        try:
            self._call("StartImageScan", repositoryName=repository, imageId={"imageDigest": digest})
        except AwsError as exc:
            if exc.code != "LimitExceededException":
                raise

    def manifest(self, repository: str, digest: str, *, registry: str) -> Manifest | None:
        """The image manifest's exact bytes in `registry` (an account id, so the call may cross accounts)."""
        images = self._call("BatchGetImage", registryId=registry, repositoryName=repository, imageIds=[{"imageDigest": digest}],
                            acceptedMediaTypes=["application/vnd.docker.distribution.manifest.v2+json",
                                                "application/vnd.oci.image.manifest.v1+json"])["images"]
        if not images:
            return None
        body = images[0]["imageManifest"]
        return Manifest(body, images[0].get("imageManifestMediaType") or json.loads(body).get("mediaType", ""))

    def layer_url(self, repository: str, digest: str, *, registry: str) -> str:
        return self._call("GetDownloadUrlForLayer", registryId=registry, repositoryName=repository, layerDigest=digest)["downloadUrl"]

    def available_layers(self, repository: str, digests: list[str]) -> set[str]:
        answer = self._call("BatchCheckLayerAvailability", repositoryName=repository, layerDigests=digests)
        return {layer["layerDigest"] for layer in answer.get("layers", []) if layer.get("layerAvailability") == "AVAILABLE"}

    def upload_layer(self, repository: str, digest: str, parts: Any) -> str:
        """Upload a blob from `parts` (an iterable of byte chunks) under `digest`; ECR checks the digest at the end."""
        upload = self._call("InitiateLayerUpload", repositoryName=repository)["uploadId"]
        sent = 0
        for chunk in parts:
            self._call("UploadLayerPart", repositoryName=repository, uploadId=upload, partFirstByte=sent,
                       partLastByte=sent + len(chunk) - 1, layerPartBlob=chunk)
            sent += len(chunk)
        return self._call("CompleteLayerUpload", repositoryName=repository, uploadId=upload, layerDigests=[digest])["layerDigest"]

    def delete_images(self, repository: str, digests: list[str]) -> None:
        """Delete images by digest (BatchDeleteImage); one already gone is no failure."""
        if digests:
            self._call("BatchDeleteImage", repositoryName=repository, imageIds=[{"imageDigest": d} for d in digests])

    def put_image(self, repository: str, manifest: Manifest, *, digest: str | None = None, tag: str | None = None) -> bool:
        """Put a manifest (by digest, or under a tag); False when the repository holds the image, or the tag, already
        (tags are immutable: ImageTagAlreadyExistsException)."""
        arguments: dict[str, Any] = {"imageDigest": digest} if digest else {"imageTag": tag}
        try:
            self._call("PutImage", repositoryName=repository, imageManifest=manifest.body, imageManifestMediaType=manifest.media_type,
                       **arguments)
        except AwsError as exc:
            if exc.already_exists or exc.code == "ImageTagAlreadyExistsException":
                return False
            raise
        return True
