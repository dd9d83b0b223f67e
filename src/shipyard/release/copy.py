"""Registry-to-registry copy of one image between environments' ECR repositories (and accounts).

Layers missing in the destination are streamed from the source through the
ECR API (GetDownloadUrlForLayer) and uploaded with the layer-upload API; then
the very same manifest bytes are put, so the digest matches byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request

from shipyard.aws import Aws, AwsError
from shipyard.config import Environment
from shipyard.errors import ShipyardError
from shipyard.release.images import Image, repository_uri, resolve

_PART = 10 * 1024 * 1024


def copy_image(source_aws: Aws, source: Environment, target_aws: Aws, target: Environment, digest: str) -> Image:
    # registryId makes the source calls cross-account when one set of credentials serves both environments.
    images = source_aws.call("ecr", "BatchGetImage", source.region, registryId=source.account, repositoryName=source.names.repository,
                             imageIds=[{"imageDigest": digest}],
                             acceptedMediaTypes=["application/vnd.docker.distribution.manifest.v2+json",
                                                 "application/vnd.oci.image.manifest.v1+json"])["images"]
    if not images:
        raise ShipyardError(f"{repository_uri(source)}@{digest}", f"is not in {source.name}'s repository")
    manifest = images[0]["imageManifest"]
    media_type = images[0].get("imageManifestMediaType") or json.loads(manifest).get("mediaType")
    if "sha256:" + hashlib.sha256(manifest.encode()).hexdigest() != digest:
        raise ShipyardError(digest, "the source manifest does not hash to its digest; refusing to copy")
    document = json.loads(manifest)
    blobs = [document["config"]["digest"], *[layer["digest"] for layer in document.get("layers", [])]]
    available = target_aws.call("ecr", "BatchCheckLayerAvailability", target.region, repositoryName=target.names.repository,
                                layerDigests=blobs)["layers"]
    present = {layer["layerDigest"] for layer in available if layer.get("layerAvailability") == "AVAILABLE"}
    for blob in blobs:
        if blob not in present:
            _copy_blob(source_aws, source, target_aws, target, blob)
    try:
        target_aws.call("ecr", "PutImage", target.region, repositoryName=target.names.repository, imageManifest=manifest,
                        imageManifestMediaType=media_type, imageDigest=digest)
    except AwsError as exc:
        if not exc.already_exists:  # ImageAlreadyExistsException: the target holds this digest already
            raise
    copied = resolve(target_aws, target, f"{repository_uri(target)}@{digest}")
    if copied.digest != digest:
        raise ShipyardError(copied.reference, f"digest {copied.digest} differs from {digest}")
    return copied


def _copy_blob(source_aws: Aws, source: Environment, target_aws: Aws, target: Environment, blob: str) -> None:
    url = source_aws.call("ecr", "GetDownloadUrlForLayer", source.region, registryId=source.account, repositoryName=source.names.repository,
                          layerDigest=blob)["downloadUrl"]
    upload = target_aws.call("ecr", "InitiateLayerUpload", target.region, repositoryName=target.names.repository)["uploadId"]
    sent = 0
    hasher = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response:
        while chunk := response.read(_PART):
            hasher.update(chunk)
            target_aws.call("ecr", "UploadLayerPart", target.region, repositoryName=target.names.repository,
                            uploadId=upload, partFirstByte=sent, partLastByte=sent + len(chunk) - 1, layerPartBlob=chunk)
            sent += len(chunk)
    if "sha256:" + hasher.hexdigest() != blob:
        raise ShipyardError(blob, "the downloaded layer does not hash to its digest; refusing to copy")
    target_aws.call("ecr", "CompleteLayerUpload", target.region, repositoryName=target.names.repository, uploadId=upload,
                    layerDigests=[blob])
