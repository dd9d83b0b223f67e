"""Push a synthetic image into the embedded AWS's ECR through the real ECR API (the emulator runs no containers).

The image is a real OCI-style manifest over one config blob and one layer,
uploaded with InitiateLayerUpload / UploadLayerPart / CompleteLayerUpload and
PutImage, exactly as a registry client does. Its scan result is registered
with the emulator (clean, or with the findings asked for), and a fault tag
(fault-crash, fault-unhealthy, fault-stuck) makes the rollout simulator
misbehave on purpose
(tags are immutable, so each faulty image gets its own fault-<kind>-<tag>).
"""

from __future__ import annotations

import hashlib
import json
import urllib.request

from shipyard.aws import Aws
from shipyard.config import Environment
from shipyard.localaws.rollout import FAULT_TAG_PREFIX, FAULTS

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _upload_blob(aws: Aws, env: Environment, data: bytes) -> str:
    upload = aws.call("ecr", "InitiateLayerUpload", env.region, repositoryName=env.names.repository)["uploadId"]
    aws.call("ecr", "UploadLayerPart", env.region, repositoryName=env.names.repository, uploadId=upload,
             partFirstByte=0, partLastByte=len(data) - 1, layerPartBlob=data)
    return aws.call("ecr", "CompleteLayerUpload", env.region, repositoryName=env.names.repository, uploadId=upload,
                    layerDigests=["sha256:" + hashlib.sha256(data).hexdigest()])["layerDigest"]


def push(aws: Aws, env: Environment, *, tag: str, architecture: str, fault: str | None = None,
         findings: dict[str, int] | None = None) -> str:
    """Push the image and register its scan result; returns its digest."""
    if fault is not None and fault not in FAULTS:
        raise ValueError(f"fault must be one of {', '.join(FAULTS)}")
    config = json.dumps({"architecture": "arm64" if architecture == "arm64" else "amd64", "os": "linux",
                         "config": {"Labels": {"org.opencontainers.image.version": tag}}}).encode()
    layer = f"synthetic layer of {env.names.repository}:{tag}\n".encode()
    config_digest, layer_digest = _upload_blob(aws, env, config), _upload_blob(aws, env, layer)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer), "digest": layer_digest}],
    }, separators=(",", ":"))
    image = aws.call("ecr", "PutImage", env.region, repositoryName=env.names.repository, imageManifest=manifest,
                     imageManifestMediaType=MANIFEST_TYPE, imageTag=tag)["image"]
    digest = image["imageId"]["imageDigest"]
    if fault:
        aws.call("ecr", "PutImage", env.region, repositoryName=env.names.repository, imageManifest=manifest,
                 imageManifestMediaType=MANIFEST_TYPE, imageTag=f"{FAULT_TAG_PREFIX}{fault}-{tag}")
    register_scan(aws, env, digest, findings or {})
    return digest


def register_scan(aws: Aws, env: Environment, digest: str, counts: dict[str, int]) -> None:
    """Scan the image and tell the emulator what the scan found (moto's documented moto-api switch)."""
    aws.call("ecr", "StartImageScan", env.region, repositoryName=env.names.repository, imageId={"imageDigest": digest})
    result = {
        "registryId": env.account, "repositoryName": env.names.repository, "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
        "imageScanFindings": {"findingSeverityCounts": counts, "findings": [
            {"name": f"CVE-2026-{1000 + i}", "severity": severity, "uri": "https://nvd.nist.gov/"}
            for i, (severity, n) in enumerate(counts.items()) for _ in range(n)]},
    }
    body = json.dumps({"results": [result], "region": env.region, "account_id": env.account}).encode()
    request = urllib.request.Request(f"{aws.target.endpoint}/moto-api/static/ecr/scan-finding-results", data=body,
                                     headers={"Content-Type": "application/json", "x-moto-account-id": env.account})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
