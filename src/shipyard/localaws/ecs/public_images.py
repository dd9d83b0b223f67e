"""Public images the embedded AWS cannot pull (this machine reaches no public registry): each one shipyard's templates
name runs here as a stand-in, the same program from this machine's own installation.

- public.ecr.aws/docker/library/postgres (a preview's database task): psql, from the PostgreSQL installation the
  embedded RDS servers run on (rds/postgres.py). The official image's entrypoint runs any command but `postgres` as
  given, as this stand-in does. A machine whose psql was built without OpenSSL (the pgserver wheel's) fails the task
  when it asks for TLS, as psql itself reports it.

A reference to any other public image fails to pull, as one that does not exist fails on ECS.
"""

from __future__ import annotations

from typing import Any

POSTGRES = "public.ecr.aws/docker/library/postgres"


def repository_of(reference: str) -> str:
    """The repository of name[:tag]@digest: without its tag."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


class Unavailable(Exception):
    """A public image shipyard names whose stand-in this machine cannot run (why, in the message)."""


def stand_in(reference: str) -> dict[str, Any] | None:
    """The image config that runs `reference` here, or None when it is no public image shipyard names."""
    if repository_of(reference) != POSTGRES:
        return None
    from shipyard.localaws.rds.postgres import PostgresMissing, binaries

    try:
        programs = binaries()
    except PostgresMissing as exc:
        raise Unavailable(str(exc)) from None
    return {"config": {"Env": [f"PATH={programs}:/usr/local/bin:/usr/bin:/bin"], "Entrypoint": [], "Cmd": ["postgres"]},
            "rootfs": {"type": "layers", "diff_ids": []}}
