"""Dynamic references in templates, resolved as CloudFormation resolves them when it creates or updates a resource
(CloudFormation user guide, "Get values stored in other services using dynamic references"):
`{{resolve:secretsmanager:<secret-id>:SecretString:<json-key>}}` (the whole string where no key is given) and
`{{resolve:ssm:<name>}}`. moto passes the reference through as text, so a database would get the literal
`{{resolve:...}}` as its password. A reference to a secret or parameter that does not exist fails the resource, as
on AWS.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from moto.cloudformation import parsing

from shipyard.localaws.core.base import wrap

REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm):([^}]*)\}\}")


def _secret(account: str, region: str, spec: str) -> str:
    from moto.secretsmanager.models import secretsmanager_backends

    # secret-id (a name or an ARN, whose own colons come first):SecretString:json-key:version-stage:version-id
    head, _, rest = spec.partition(":SecretString")
    key = rest.lstrip(":").split(":")[0] if rest else ""
    value = secretsmanager_backends[account][region].get_secret_value(head, None, None)["SecretString"]
    return str(json.loads(value)[key]) if key else value


def _parameter(account: str, region: str, spec: str) -> str:
    from moto.ssm.models import ssm_backends

    name = spec.split(":")[0]
    parameter = ssm_backends[account][region].get_parameter(name)
    if parameter is None:
        raise ValueError(f"Parameter {name} not found for the dynamic reference {{{{resolve:ssm:{spec}}}}}")
    return str(parameter.value)


def resolved(value: Any, account: str, region: str) -> Any:
    if isinstance(value, str) and "{{resolve:" in value:
        return REFERENCE.sub(lambda m: (_secret if m[1] == "secretsmanager" else _parameter)(account, region, m[2]), value)
    if isinstance(value, dict):
        return {k: resolved(v, account, region) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved(v, account, region) for v in value]
    return value


def _resolving(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(logical_id: str, resource_json: dict[str, Any], resources_map: Any) -> Any:
        found = original(logical_id, resource_json, resources_map)
        if not found:
            return found
        resource_class, cleaned, name = found
        return resource_class, resolved(cleaned, resources_map._account_id, resources_map._region_name), name

    return wrapper


def install() -> None:
    wrap(parsing, "parse_resource_and_generate_name", _resolving,
         corrects="dynamic references ({{resolve:secretsmanager:...}}, {{resolve:ssm:...}}) reach resources as literal text")
