"""`shipyard local` (and `up --keep`): keep an embedded AWS answering, and say how to reach it: the variables for
shipyard, the AWS CLI and boto3, and an AWS CLI profile per environment (each in its own account)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Protocol

from shipyard import content_cache, ui
from shipyard.config import Config


class Server(Protocol):
    """An embedded AWS as this use case sees it."""

    port: int

    @property
    def endpoint(self) -> str: ...

    def environment(self) -> dict[str, str]: ...


def aws_profiles(server: Server, config: Config | None) -> Path:
    """An AWS config file with a profile per environment, so the AWS CLI and boto3 reach each environment's account.

    The base profile holds the emulator's keys; each environment's profile assumes a role in its account, which
    the embedded AWS answers with credentials of that account (as STS would)."""
    keys = server.environment()
    lines = ["[profile shipyard-local]", "region = us-east-1", f"endpoint_url = {server.endpoint}",
             f"aws_access_key_id = {keys['AWS_ACCESS_KEY_ID']}", f"aws_secret_access_key = {keys['AWS_SECRET_ACCESS_KEY']}", ""]
    # The AWS CLI caches assumed-role credentials by profile; a session name of this server's own keeps a cached
    # one from an earlier embedded AWS (which would not know it) from being used.
    session = f"shipyard-local-{server.port}-{uuid.uuid4().hex[:8]}"
    for env in (config.environments.values() if config else ()):
        lines += [f"[profile {env.names.prefix}]", "source_profile = shipyard-local",
                  f"role_arn = arn:aws:iam::{env.account}:role/shipyard-local", f"role_session_name = {session}",
                  f"region = {env.region}", f"endpoint_url = {server.endpoint}", ""]
    path = content_cache.directory() / "local" / f"aws-config-{server.port}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def serve_until_interrupted(server: Server, config: Config | None = None) -> None:
    """Keep the embedded AWS answering, printing how to reach it, until Ctrl-C (every task process stops with it)."""
    ui.result(f"embedded AWS listening on {server.endpoint}")
    ui.result("point shipyard, the AWS CLI or boto3 at it with:")
    for key, value in {"SHIPYARD_ENDPOINT": server.endpoint, **server.environment()}.items():
        ui.result(f"  export {key}={value}")
    profiles = aws_profiles(server, config)
    ui.result(f"or per environment: export AWS_CONFIG_FILE={profiles}, then `aws --profile <profile> ...` with profiles "
              + ", ".join(["shipyard-local", *(e.names.prefix for e in (config.environments.values() if config else ()))]))
    ui.result("accounts are chosen per request; shipyard picks each environment's own. Ctrl-C stops it.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        ui.info("stopping the embedded AWS and its task processes")
