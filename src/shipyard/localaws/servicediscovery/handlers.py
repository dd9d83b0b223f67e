"""AWS::ServiceDiscovery::HttpNamespace into moto's Cloud Map backend (moto's CloudFormation skips it): the namespace
where ECS Service Connect names an environment's backends (Ref: its id; Arn and Id attributes)."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.servicediscovery.models import servicediscovery_backends

from shipyard.localaws.core.base import Handler, properties, tags_list


class HttpNamespace(Handler, CloudFormationModel):
    ATTRIBUTES = ("Arn", "Id")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ServiceDiscovery::HttpNamespace"

    def __init__(self, namespace: Any) -> None:
        self.physical_id = namespace.id
        self.attributes = {"Arn": namespace.arn, "Id": namespace.id}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        backend = servicediscovery_backends[account_id][region_name]
        backend.create_http_namespace(name=p["Name"], creator_request_id=resource_name, description=p.get("Description", ""),
                                      tags=tags_list(p))
        return cls(next(n for n in backend.namespaces.values() if n.name == p["Name"]))

    def delete(self, account_id: str, region_name: str) -> None:
        backend = servicediscovery_backends[account_id][region_name]
        if self.physical_id in backend.namespaces:
            backend.delete_namespace(self.physical_id)


def namespace_arn_of(account: str, region: str, reference: str) -> str | None:
    """The ARN of a namespace given by ARN or id (what a service's Service Connect configuration names)."""
    backend = servicediscovery_backends[account][region]
    for namespace in backend.namespaces.values():
        if reference in (namespace.arn, namespace.id, namespace.name):
            return namespace.arn
    return None
