"""`shipyard local-image`, and the image `up` releases on the embedded AWS: the service directory built into an OCI
image by shipyard's own builder (release/oci.py) and pushed through the embedded AWS's ECR API.

The builder follows the Dockerfile's COPY, ENV, WORKDIR and CMD; a RUN of the final stage needs a container engine,
so each one it did not run is named (here and in `up`'s summary): on AWS the image CI builds has run it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from shipyard import ui
from shipyard.aws import Aws
from shipyard.config import Environment
from shipyard.errors import UsageError
from shipyard.release import oci
from shipyard.release.images import Image, repository_uri

_engine_noted = False


@dataclass(frozen=True)
class LocalImage:
    image: Image
    not_run: tuple[str, ...]  # RUN steps of the final stage the builder did not run


EMBEDDED_ONLY = ("pass --endpoint URL (the embedded AWS that `shipyard local` prints) or set SHIPYARD_ENDPOINT; on AWS, the "
                 "pipeline builds and pushes images")


def build_local_image(aws: Aws, env: Environment, *, directory: Path, tag: str, architecture: str,
                      command: list[str] | None, vulnerable: bool) -> LocalImage:
    """The service directory built into an image and pushed to `env`'s repository (embedded AWS only); `vulnerable`
    makes its ECR scan report HIGH and CRITICAL findings."""
    emulator = aws.target.emulator
    if emulator is None:
        raise UsageError("local-image", "works on the embedded AWS only; CI builds and pushes images for AWS", EMBEDDED_ONLY)
    _note_engine()
    built = oci.build(directory, architecture=architecture, command=command, labels={"org.opencontainers.image.version": tag})
    for step in built.not_run:
        ui.info(f"{step}: not run (shipyard's builder runs no commands; a container engine would, as CI's build does)")
    digest = oci.push(aws, env, built, tag=tag)
    ecr = aws.ecr(env.region)
    if ecr.scan(env.names.repository, digest) is None:  # ECR scans an image once a day: a rebuilt one is scanned already
        ecr.start_scan(env.names.repository, digest)
    emulator.register_scan(account=env.account, region=env.region, repository=env.names.repository, digest=digest,
                           counts={"HIGH": 2, "CRITICAL": 1} if vulnerable else {})
    return LocalImage(Image(repository_uri(env), digest, (tag,)), built.not_run)


def _note_engine() -> None:
    """Say once per process how images are built here."""
    global _engine_noted
    if _engine_noted:
        return
    _engine_noted = True
    engine = shutil.which("docker") or shutil.which("podman")
    working = engine is not None and subprocess.run([engine, "info"], capture_output=True).returncode == 0
    ui.info(("a container engine answers, but " if working else "no working Docker or Podman engine here; ")
            + "images are built by shipyard's own builder: the Dockerfile's COPY, ENV, WORKDIR and CMD over the service's files")
