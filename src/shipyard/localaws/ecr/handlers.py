"""AWS::ECR::Repository: moto's model reads ImageScanningConfiguration and
EncryptionConfiguration in the API's camelCase while templates use PascalCase,
so scan on push was silently lost; this handler passes them in moto's shape."""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import warnings
from collections.abc import Callable
from typing import Any

from botocore import xform_name
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import ServiceException
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


# Reads another account's repository answers (ECR user guide, "Private repository policies"): allowed only where the
# repository's policy allows the caller (its role, or its account), denied where a statement denies it.
CROSS_ACCOUNT_READS = ("BatchGetImage", "GetDownloadUrlForLayer", "DescribeImages", "BatchCheckLayerAvailability")


class AccessDenied(ServiceException):
    code = "AccessDeniedException"


def _caller(response: Any) -> tuple[str, str]:
    """(the caller's ARN as IAM names it in an error, the role ARN a policy's principal names, or its account root)."""
    from moto.sts.models import sts_backends

    key = response.get_access_key()
    for account in list(sts_backends):
        for backend in list(sts_backends[account].values()):
            role = backend.get_assumed_role_from_access_key(key)
            if role is not None:
                return role.arn, role.role_arn
    root = f"arn:aws:iam::{response.current_account}:root"
    return root, root


def _names(principal: Any, arn: str, account_root: str) -> bool:
    if principal == "*":
        return True
    listed = principal.get("AWS", []) if isinstance(principal, dict) else []
    listed = listed if isinstance(listed, list) else [listed]
    return any(p in ("*", arn, account_root, account_root.split(":")[4]) for p in listed)


# The condition operators the emulator evaluates, on the keys it knows of the caller (IAM user guide, "IAM JSON policy
# elements: Condition operators"); a statement with any other allows nothing (never kinder than AWS).
_OPERATORS = {"StringEquals": str.__eq__, "ArnEquals": str.__eq__, "StringLike": fnmatch.fnmatchcase,
              "ArnLike": fnmatch.fnmatchcase}


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str], *, unknown: bool) -> bool:
    """Whether every condition holds; `unknown` for one the emulator cannot evaluate (an allow then allows nothing, a
    deny still denies)."""
    for operator, tests in conditions.items():
        compare = _OPERATORS.get(operator)
        if compare is None:
            return unknown
        for key, wanted in tests.items():
            wanted = wanted if isinstance(wanted, list) else [wanted]
            value = context.get(key.lower())
            if value is None:
                return unknown
            if not any(compare(value, w) for w in wanted):
                return False
    return True


def _policy_allows(policy_text: str | None, principal_arn: str, action: str) -> bool:
    """Evaluated as IAM would for a resource policy: an explicit deny wins, then an allow that names the caller and
    whose conditions hold."""
    account = principal_arn.split(":")[4]
    account_root = f"arn:aws:iam::{account}:root"
    context = {"aws:principalarn": principal_arn, "aws:principalaccount": account}
    statements = json.loads(policy_text).get("Statement", []) if policy_text else []
    statements = statements if isinstance(statements, list) else [statements]

    def applies(statement: dict[str, Any]) -> bool:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        return (_names(statement.get("Principal", {}), principal_arn, account_root)
                and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions)
                and _conditions_hold(statement.get("Condition") or {}, context, unknown=statement.get("Effect") == "Deny"))

    if any(s.get("Effect") == "Deny" and applies(s) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and applies(s) for s in statements)


def _across_accounts(action: str) -> Callable[[Any], Any]:
    def wrapper(original: Any) -> Any:
        @functools.wraps(original)
        def read(self: Any) -> Any:
            from moto.ecr.exceptions import RepositoryNotFoundException
            from moto.ecr.models import ecr_backends

            registry, own = self._get_param("registryId"), self.current_account
            if not registry or registry == own:
                return original(self)
            name = self._get_param("repositoryName")
            repository = ecr_backends[registry][self.region].repositories.get(name)
            if repository is None:
                raise RepositoryNotFoundException(name, registry)
            caller, principal = _caller(self)
            if not _policy_allows(repository.policy, principal, f"ecr:{action}"):
                raise AccessDenied(f"User: {caller} is not authorized to perform: ecr:{action} on resource: "
                                   f"{repository.arn} because no resource-based policy allows the ecr:{action} action")
            self.current_account = registry  # the repository's registry answers, as ECR serves it to the caller
            try:
                return original(self)
            finally:
                self.current_account = own
        return read
    return wrapper


def _encryption(configuration: dict[str, str] | None) -> tuple[str, str]:
    """(type, key) of an ECR encryption configuration, spelled as CloudFormation or as the API spells it."""
    lowered = {key.lower(): value for key, value in (configuration or {}).items()}
    return lowered.get("encryptiontype", "AES256"), lowered.get("kmskey", "")


def _update_in_place(original: Any) -> Any:
    """A repository whose name and encryption stay is updated in place, whichever way its encryption is spelled."""

    def update(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any, account_id: str,
               region_name: str) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        if new_resource_name == original_resource.name and \
                _encryption(properties.get("EncryptionConfiguration")) == _encryption(original_resource.encryption_configuration):
            cloudformation_json = {**cloudformation_json, "Properties": {
                **properties, "EncryptionConfiguration": original_resource.encryption_configuration}}
        return original(original_resource, new_resource_name, cloudformation_json, account_id, region_name)

    return classmethod(update)


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
    # AccessDeniedException is one of the errors every AWS JSON service answers, not in ECR's model: moto warns.
    warnings.filterwarnings("ignore", message=r".*AccessDeniedException does not match an error shape.*")
    for action in CROSS_ACCOUNT_READS:
        wrap(ECRResponse, xform_name(action), _across_accounts(action),
             corrects=f"{action} of another account's repository answers RepositoryNotFound for every caller; ECR "
                      "answers as the repository policy allows")
    wrap(Repository, "update_from_cloudformation_json", _update_in_place,
         corrects="a stack update of a repository compares CloudFormation's EncryptionConfiguration with the API's spelling, "
                  "finds them different and replaces the repository (its images lost); ECR updates it in place")
    wrap(ECRBackend, "put_image", _put_image,
         corrects="(not a correction) a pushed image's layers go to the task runtime, which prepares them as a host pulls an image")
