"""Registry-to-registry copy of one image between environments' ECR repositories (and accounts).

Layers missing in the destination are streamed from the source through the
ECR API (GetDownloadUrlForLayer) and uploaded with the layer-upload API; then
the very same manifest bytes are put, so the digest matches byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request

from shipyard.aws import Aws
from shipyard.config import Environment
from shipyard.errors import ShipyardError
from shipyard.release.images import Image, repository_uri, resolve

_PART = 10 * 1024 * 1024


def copy_image(source_aws: Aws, source: Environment, target_aws: Aws, target: Environment, digest: str) -> Image:
    # registryId makes the source calls cross-account when one set of credentials serves both environments.
    manifest = source_aws.ecr(source.region).manifest(source.names.repository, digest, registry=source.account)
    if manifest is None:
        raise ShipyardError(f"{repository_uri(source)}@{digest}", f"is not in {source.name}'s repository")
    if "sha256:" + hashlib.sha256(manifest.body.encode()).hexdigest() != digest:
        raise ShipyardError(digest, "the source manifest does not hash to its digest; refusing to copy")
    document = json.loads(manifest.body)
    blobs = [document["config"]["digest"], *[layer["digest"] for layer in document.get("layers", [])]]
    destination = target_aws.ecr(target.region)
    present = destination.available_layers(target.names.repository, blobs)
    for blob in blobs:
        if blob not in present:
            _copy_blob(source_aws, source, target_aws, target, blob)
    destination.put_image(target.names.repository, manifest, digest=digest)  # False: the target holds this digest already
    copied = resolve(target_aws, target, f"{repository_uri(target)}@{digest}")
    if copied.digest != digest:
        raise ShipyardError(copied.reference, f"digest {copied.digest} differs from {digest}")
    return copied


def _copy_blob(source_aws: Aws, source: Environment, target_aws: Aws, target: Environment, blob: str) -> None:
    url = source_aws.ecr(source.region).layer_url(source.names.repository, blob, registry=source.account)
    hasher = hashlib.sha256()

    def parts():
        with urllib.request.urlopen(url, timeout=60) as response:
            while chunk := response.read(_PART):
                hasher.update(chunk)
                yield chunk
        if "sha256:" + hasher.hexdigest() != blob:
            raise ShipyardError(blob, "the downloaded layer does not hash to its digest; refusing to copy")

    target_aws.ecr(target.region).upload_layer(target.names.repository, blob, parts())
