"""AWS::ECR::Repository: moto's model reads ImageScanningConfiguration and
EncryptionConfiguration in the API's camelCase while templates use PascalCase,
so scan on push was silently lost; this handler passes them in moto's shape."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ecr.models import Repository

from shipyard.localaws.core.base import Delegate, patch, wrap


class EcrRepository(Delegate, CloudFormationModel):
    MODEL = Repository

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ECR::Repository"

    @classmethod
    def adapt(cls, cloudformation_json: dict[str, Any]) -> dict[str, Any]:
        fixed = copy.deepcopy(cloudformation_json)
        props = fixed.setdefault("Properties", {})
        for key in ("ImageScanningConfiguration", "EncryptionConfiguration"):
            if key in props:
                props[key] = {k[0].lower() + k[1:]: v for k, v in props[key].items()}
        return fixed

    @classmethod
    def after(cls, repository: Any, props: dict[str, Any], account_id: str, region_name: str) -> Any:
        """The lifecycle and repository policies moto's model ignores."""
        from moto.ecr.models import ecr_backends

        backend = ecr_backends[account_id][region_name]
        lifecycle = props.get("LifecyclePolicy", {}).get("LifecyclePolicyText")
        if lifecycle:
            backend.put_lifecycle_policy(account_id, repository.name, lifecycle)
        policy = props.get("RepositoryPolicyText")
        if policy:
            backend.set_repository_policy(account_id, repository.name, policy if isinstance(policy, str) else json.dumps(policy))
        return repository


# Corrections of moto's own ECR behaviour.

_layer_blobs: dict[tuple[str, str], bytes] = {}


def layer_bytes(registry: str, digest: str) -> bytes | None:
    """A blob pushed to this registry (account), as the task runtime pulls it."""
    return _layer_blobs.get((registry, digest))


def _complete_layer_upload(original: Any) -> Any:
    """Keep uploaded layer bytes, which moto discards, so GetDownloadUrlForLayer can serve them."""

    @functools.wraps(original)
    def wrapper(self: Any, repository_name: str, upload_id: str, layer_digests: list[str], registry_id: str | None = None) -> Any:
        repository = self._get_repository(repository_name, registry_id)
        data = bytes(repository.uploads[upload_id].layer_parts) if upload_id in repository.uploads else b""
        result = original(self, repository_name, upload_id, layer_digests, registry_id)
        _layer_blobs[(repository.registry_id, result["layerDigest"])] = data
        return result

    return wrapper

# Called with (registry, the image's layer blobs) whenever an image is put: the ECS runtime prepares what the image's
# tasks will need, as a container host pulls an image before its first task (ecs/handlers.py registers it).
PUSHED: list[Callable[[str, list[bytes]], None]] = []


def _put_image(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, repository_name: str, image_manifest: str, *args: Any, **kwargs: Any) -> Any:
        image = original(self, repository_name, image_manifest, *args, **kwargs)
        registry = self._get_repository(repository_name).registry_id
        try:
            digests = [layer["digest"] for layer in json.loads(image_manifest).get("layers", [])]
        except (ValueError, AttributeError, TypeError):
            return image
        blobs = [blob for blob in (_layer_blobs.get((registry, d)) for d in digests) if blob is not None]
        for hook in PUSHED:
            hook(registry, blobs)
        return image

    return wrapper


def _get_download_url_for_layer(self: Any) -> Any:
    """moto leaves this unimplemented; the emulator hands the layer out as a data: URL."""
    import base64

    from moto.core.responses import ActionResult
    from moto.ecr.exceptions import InvalidParameterException

    repository = self.ecr_backend._get_repository(self._get_param("repositoryName"), self._get_param("registryId"))
    digest = self._get_param("layerDigest")
    data = _layer_blobs.get((repository.registry_id, digest))
    if data is None:
        raise InvalidParameterException(f"layer {digest} is not in repository {repository.name}")
    url = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    return ActionResult({"downloadUrl": url, "layerDigest": digest})

def _image_digest_of_manifest(self: Any) -> None:
    """ECR names an image by the sha256 of its manifest bytes; moto hashed the layer list instead."""
    import hashlib

    self._image_digest = "sha256:" + hashlib.sha256(self.image_manifest.encode()).hexdigest()

def _scan_findings_follow_content(original: Any) -> Any:
    """A scan of the same bytes finds the same things: a copied image inherits the findings registered for its digest."""

    @functools.wraps(original)
    def wrapper(self: Any, registry_id: str, repository_name: str, image_id: dict[str, Any]) -> Any:
        import copy

        from moto.ecr.models import ecr_backends

        digest = image_id.get("imageDigest")
        pending = [r for r in self.scan_finding_results if r.get("repositoryName") == repository_name]
        image = self._get_repository(repository_name, registry_id)._get_image(None, digest) if digest else None
        if image is not None and not pending and not image.scan_finding_results and not image.scan_finding_results_queue:
            for account in list(ecr_backends):
                for region in list(ecr_backends[account]):
                    for repo in ecr_backends[account][region].repositories.values():
                        for other in repo.images:
                            if other is not image and other.image_digest == digest and other.scan_finding_results:
                                inherited = copy.deepcopy(next(iter(other.scan_finding_results.values())))
                                inherited.update(repositoryName=repository_name, registryId=self.account_id)
                                self.scan_finding_results.append(inherited)
                                return original(self, registry_id, repository_name, image_id)
        return original(self, registry_id, repository_name, image_id)

    return wrapper


def install() -> None:
    from moto.ecr.models import ECRBackend
    from moto.ecr.models import Image as EcrImage
    from moto.ecr.responses import ECRResponse

    patch(EcrImage, "_create_digest", _image_digest_of_manifest,
          corrects="an image digest is a hash of its layer list; ECR names an image by the sha256 of its manifest bytes")
    wrap(ECRBackend, "describe_image_scan_findings", _scan_findings_follow_content,
         corrects="a copied image (same bytes) has no scan findings; on ECR a scan of the same bytes finds the same")
    wrap(ECRBackend, "complete_layer_upload", _complete_layer_upload,
         corrects="uploaded layer bytes are discarded, so an image cannot be copied registry to registry")
    patch(ECRResponse, "get_download_url_for_layer", _get_download_url_for_layer,
          corrects="GetDownloadUrlForLayer is unimplemented")
    wrap(ECRBackend, "put_image", _put_image,
         corrects="(not a correction) a pushed image's layers go to the task runtime, which prepares them as a host pulls an image")
