"""AWS::SecretsManager::Secret and ::SecretTargetAttachment, which moto's CloudFormation does not create.

A secret takes SecretString, or GenerateSecretString: a random password of PasswordLength characters (32 by
default) drawn without the excluded characters, alone or under GenerateStringKey in the JSON of SecretStringTemplate
(CloudFormation template reference, AWS::SecretsManager::Secret GenerateSecretString). Ref is the secret's ARN. An
attachment to an RDS cluster or instance adds the connection fields Secrets Manager's rotation expects (engine,
host, port, dbClusterIdentifier or dbInstanceIdentifier) to the secret's JSON ("AWS::SecretsManager::
SecretTargetAttachment"); its Ref is the secret's ARN too.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import secretsmanager_backends

from shipyard.localaws.core.base import Handler, flag, properties, tags_list

# The engine names of a database secret's JSON (Secrets Manager user guide, "JSON structure of database secrets").
ENGINES = {"aurora-postgresql": "postgres", "aurora-mysql": "mysql"}
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def _generated(spec: dict[str, Any]) -> str:
    alphabet = ""
    if not flag(spec.get("ExcludeLowercase")):
        alphabet += string.ascii_lowercase
    if not flag(spec.get("ExcludeUppercase")):
        alphabet += string.ascii_uppercase
    if not flag(spec.get("ExcludeNumbers")):
        alphabet += string.digits
    if not flag(spec.get("ExcludePunctuation")):
        alphabet += PUNCTUATION
    if flag(spec.get("IncludeSpace")):
        alphabet += " "
    alphabet = "".join(c for c in alphabet if c not in str(spec.get("ExcludeCharacters", "")))
    password = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template is None:
        return password
    if not key:
        raise ValueError("GenerateSecretString: SecretStringTemplate needs GenerateStringKey")
    return json.dumps({**json.loads(template), key: password})



class Secret(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    def __init__(self, arn: str, region: str) -> None:
        self.physical_id, self.region, self.attributes = arn, region, {"Id": arn}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        if ("SecretString" in props) == ("GenerateSecretString" in props):
            raise ValueError("a secret takes SecretString or GenerateSecretString, one of them")
        value = props["SecretString"] if "SecretString" in props else _generated(props["GenerateSecretString"])
        created = secretsmanager_backends[account_id][region_name].create_secret(
            name=props.get("Name") or resource_name, secret_string=value, secret_binary=None,
            description=props.get("Description"), tags=tags_list(props), kms_key_id=props.get("KmsKeyId"),
            client_request_token=None, replica_regions=[], force_overwrite=False)
        return cls(json.loads(created)["ARN"], region_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        """Only a new Name replaces a secret; its description, tags and a given SecretString change in place, and a
        generated value stays (CloudFormation user guide, AWS::SecretsManager::Secret: Name "Update requires:
        Replacement", the others "No interruption"). Replacing it for a tag, as moto's models would, gave every
        update a new ARN and a new password (a preview's `shipyard:expires` tag changes on every deploy)."""
        props = properties(cloudformation_json)
        backend = secretsmanager_backends[account_id][region_name]
        secret = backend.describe_secret(original_resource.physical_id)
        if (props.get("Name") or new_resource_name) != secret.name:
            return super().update_from_cloudformation_json(original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        secret.description = props.get("Description")
        secret.tags = tags_list(props) or None
        if "SecretString" in props and props["SecretString"] != backend.get_secret_value(secret.arn, None, None).get("SecretString"):
            backend.put_secret_value(secret.arn, props["SecretString"], None, None, ["AWSCURRENT"])
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        secretsmanager_backends[account_id][self.region].delete_secret(
            self.physical_id, recovery_window_in_days=None, force_delete_without_recovery=True)


class SecretTargetAttachment(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::SecretTargetAttachment"

    def __init__(self, secret: str) -> None:
        self.physical_id, self.attributes = secret, {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        from moto.rds.models import rds_backends

        props = properties(cloudformation_json)
        backend, rds = secretsmanager_backends[account_id][region_name], rds_backends[account_id][region_name]
        target, kind = str(props["TargetId"]), props["TargetType"]
        if kind == "AWS::RDS::DBCluster":
            cluster = rds.clusters[target]
            fields = {"engine": ENGINES.get(cluster.engine, cluster.engine), "host": cluster.endpoint, "port": int(cluster.port),
                      "dbClusterIdentifier": cluster.db_cluster_identifier}
        elif kind == "AWS::RDS::DBInstance":
            instance = rds.databases[target]
            fields = {"engine": instance.engine, "host": instance.address, "port": int(instance.port),
                      "dbInstanceIdentifier": instance.db_instance_identifier}
        else:
            raise ValueError(f"the embedded AWS attaches secrets to RDS clusters and instances, not {kind}")
        secret = props["SecretId"]
        current = json.loads(backend.get_secret_value(secret, None, None)["SecretString"])
        backend.put_secret_value(secret, json.dumps({**current, **fields}), None, None, ["AWSCURRENT"])
        return cls(backend.describe_secret(secret).arn)

    def delete(self, account_id: str, region_name: str) -> None:
        return None  # the fields stay in the secret, as on AWS
