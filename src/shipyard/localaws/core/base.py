"""Defaults shared by shipyard's CloudFormation handlers, and the one way to correct moto (patch/wrap).

moto builds its type map from CloudFormationModel.__subclasses__(), which
lists direct subclasses only: every handler therefore derives from this mixin
*and* CloudFormationModel directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException


class Handler:
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()

    physical_id: str
    attributes: dict[str, Any]

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        return True

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        # Instances delete themselves through delete(); moto calls that first.
        return None

    def delete(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError


class Delegate(Handler):
    """A handler that lets one of moto's own models do the work, after fixing what it mishandles.

    Subclasses set MODEL and override adapt() (the template JSON in the shape
    moto's model expects) and/or after() (settings the model ignores, applied
    through the service backend).
    """

    MODEL: ClassVar[Any]

    @classmethod
    def cloudformation_name_type(cls) -> str:  # type: ignore[override]
        return cls.MODEL.cloudformation_name_type()

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return cls.MODEL.has_cfn_attr(attr)

    @classmethod
    def adapt(cls, cloudformation_json: dict[str, Any]) -> dict[str, Any]:
        return cloudformation_json

    @classmethod
    def after(cls, resource: Any, props: dict[str, Any], account_id: str, region_name: str) -> Any:
        return resource

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        resource = cls.MODEL.create_from_cloudformation_json(resource_name, cls.adapt(cloudformation_json), account_id,
                                                             region_name, **kwargs)
        return cls.after(resource, properties(cloudformation_json), account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        resource = cls.MODEL.update_from_cloudformation_json(original_resource, new_resource_name,
                                                             cls.adapt(cloudformation_json), account_id, region_name)
        return cls.after(resource, properties(cloudformation_json), account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        return cls.MODEL.delete_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name)


def lower_keys(node: Any) -> Any:
    """CloudFormation's (and Step Functions' Parameters') field names as the service APIs spell them: the first letter
    lower-cased, at every depth."""
    if isinstance(node, dict):
        return {key[:1].lower() + key[1:]: lower_keys(value) for key, value in node.items()}
    if isinstance(node, list):
        return [lower_keys(item) for item in node]
    return node


def properties(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    return cloudformation_json.get("Properties", {})


def flag(value: Any) -> bool:
    """A template's boolean, which arrives as true, "true" or "True"."""
    return str(value).lower() == "true"


def tags_list(props: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t["Value"]} for t in props.get("Tags", [])]


@dataclass(frozen=True)
class Patch:
    """One correction of moto: what was replaced and the moto behaviour it corrects."""

    target: str
    corrects: str


PATCHES: list[Patch] = []


def patch(owner: Any, attribute: str, replacement: Any, *, corrects: str) -> None:
    """Replace owner.attribute; `corrects` names, in one line, the moto behaviour that differs from AWS."""
    if not corrects.strip() or "\n" in corrects:
        raise ValueError(f"patch of {attribute} needs a one-line reason")
    setattr(owner, attribute, replacement)
    PATCHES.append(Patch(f"{getattr(owner, '__name__', owner)}.{attribute}", corrects))


def wrap(owner: Any, attribute: str, wrapper: Any, *, corrects: str) -> None:
    """patch() with wrapper(original): the replacement calls moto's own code and fixes what it returns."""
    patch(owner, attribute, wrapper(getattr(owner, attribute)), corrects=corrects)
