"""The composition root: chooses where AWS calls go (the embedded AWS or real accounts).

The only module outside localaws/ that imports it. The core receives a
Target (endpoint, credentials, how a client selects an account, which resource
types the target cannot build) and never learns what answers at the endpoint.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shipyard import localaws, ui
from shipyard.aws import Aws, Target
from shipyard.config import Config, Environment
from shipyard.errors import UsageError
from shipyard.release.images import Image, repository_uri


def embedded(endpoint: str) -> Target:
    """A Target for an embedded AWS listening at `endpoint`."""
    return Target(**localaws.client_options(endpoint.rstrip("/")))


def real(profile: str | None) -> Target:
    return Target(profile=profile)


def resolve(*, use_aws: bool, profile: str | None, endpoint: str | None) -> Target:
    """The one target choice of every AWS-facing command."""
    if (use_aws or profile) and endpoint:
        raise UsageError("--endpoint", "cannot be combined with --aws/--profile; pick the embedded AWS or real AWS")
    if use_aws or profile:
        return real(profile)
    if endpoint:
        if not endpoint.startswith(("http://127.", "http://localhost", "http://[::1]")):
            raise UsageError("--endpoint", f"{endpoint} is not an embedded AWS on this machine (http://127.0.0.1:PORT)")
        return embedded(endpoint)
    raise UsageError("target", "no AWS target named",
                     "pass --aws (real AWS, default credentials or --profile) or --endpoint URL "
                     "(the embedded AWS that `shipyard local` prints; or set SHIPYARD_ENDPOINT)")


@contextmanager
def embedded_aws(port: int | None = None, *, search: bool = False) -> Iterator[localaws.EmbeddedAws]:
    """An embedded AWS for the length of the block; search=True takes the default port or the next free one."""
    if search and port is None:
        port = localaws.first_free_port()
        if port != localaws.DEFAULT_PORT:
            ui.info(f"port {localaws.DEFAULT_PORT} is busy; using {port}")
    with localaws.EmbeddedAws(port) as server:
        yield server


def aws_profiles(server: localaws.EmbeddedAws, config: Config | None) -> Path:
    """An AWS config file with a profile per environment, so the AWS CLI and boto3 reach each environment's account.

    The base profile holds the emulator's keys; each environment's profile assumes a role in its account, which
    the embedded AWS answers with credentials of that account (as STS would)."""
    lines = ["[profile shipyard-local]", "region = us-east-1", f"endpoint_url = {server.endpoint}",
             f"aws_access_key_id = {server.environment()['AWS_ACCESS_KEY_ID']}",
             f"aws_secret_access_key = {server.environment()['AWS_SECRET_ACCESS_KEY']}", ""]
    # The AWS CLI caches assumed-role credentials by profile; a session name of this server's own keeps a cached
    # one from an earlier embedded AWS (which would not know it) from being used.
    session = f"shipyard-local-{server.port}-{uuid.uuid4().hex[:8]}"
    for env in (config.environments.values() if config else ()):
        lines += [f"[profile {env.names.prefix}]", "source_profile = shipyard-local",
                  f"role_arn = arn:aws:iam::{env.account}:role/shipyard-local", f"role_session_name = {session}",
                  f"region = {env.region}", f"endpoint_url = {server.endpoint}", ""]
    path = localaws.profiles_directory() / f"aws-config-{server.port}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def serve_until_interrupted(server: localaws.EmbeddedAws, config: Config | None = None) -> None:
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


_engine_noted = False


def _note_engine() -> None:
    """Say once per process how images are built here."""
    global _engine_noted
    if _engine_noted:
        return
    _engine_noted = True
    import shutil
    import subprocess

    docker = shutil.which("docker") or shutil.which("podman")
    working = docker is not None and subprocess.run([docker, "info"], capture_output=True).returncode == 0
    ui.info(("a container engine answers, but " if working else "no working Docker or Podman engine here; ")
            + "images are built by shipyard's own builder: the Dockerfile's COPY, ENV, WORKDIR and CMD over the service's files")


def build_local_image(aws: Aws, env: Environment, *, directory: Path, tag: str, architecture: str,
                      command: list[str] | None, vulnerable: bool) -> Image:
    """The service directory built into an image and pushed through the embedded AWS's ECR API (embedded AWS only)."""
    if not aws.target.is_local:
        raise UsageError("local-image", "works on the embedded AWS only; CI builds and pushes images for AWS", "pass --endpoint")
    from shipyard.release import oci

    _note_engine()
    image = oci.build(directory, architecture=architecture, command=command, labels={"org.opencontainers.image.version": tag})
    digest = oci.push(aws, env, image, tag=tag)
    aws.ecr(env.region).start_scan(env.names.repository, digest)
    localaws.register_scan(str(aws.target.endpoint), account=env.account, region=env.region, repository=env.names.repository,
                           digest=digest, counts={"HIGH": 2, "CRITICAL": 1} if vulnerable else {})
    return Image(repository_uri(env), digest, (tag,))
