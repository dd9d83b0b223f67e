"""One release at a time per environment: a lock in SSM Parameter Store with an owner, a start time and a lease.

The lock is a conditional write (PutParameter without overwrite fails with
ParameterAlreadyExists when the parameter exists, SSM API reference), so two
releases, promotions or rollbacks of one environment cannot both proceed. A
holder that died leaves a lock whose lease runs out; only then may a caller
break it, and only when asked to.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from shipyard import ui
from shipyard.aws import Aws
from shipyard.config import Environment
from shipyard.errors import Refused


@dataclass(frozen=True)
class Lock:
    owner: str
    action: str
    started: float
    lease: float  # seconds after `started` the lock may be broken

    @property
    def expires(self) -> float:
        return self.started + self.lease

    def describe(self) -> str:
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.started))
        return f"{self.action} by {self.owner} since {started}"


def owner() -> str:
    """Who holds the lock: the CI run where there is one, else user@host:pid."""
    if os.environ.get("GITHUB_RUN_ID"):
        return f"{os.environ.get('GITHUB_REPOSITORY', 'github')} run {os.environ['GITHUB_RUN_ID']} ({os.environ.get('GITHUB_ACTOR', '?')})"
    return f"{os.environ.get('USER', 'someone')}@{socket.gethostname()}:{os.getpid()}"


def _read(aws: Aws, env: Environment) -> Lock | None:
    value = aws.ssm(env.region).get(env.names.release_lock_parameter)
    return None if value is None else Lock(**json.loads(value))


def _put(aws: Aws, env: Environment, lock: Lock) -> bool:
    return aws.ssm(env.region).create(env.names.release_lock_parameter, json.dumps(asdict(lock)),
                                      description=f"shipyard release lock of {env.name}")


@contextmanager
def holding(aws: Aws, env: Environment, *, action: str, lease: float, break_expired: bool = False) -> Iterator[Lock]:
    """Hold the environment's release lock for the block; refuses (exit 4) naming the holder when it is taken."""
    mine = Lock(owner(), action, time.time(), lease)
    if not _put(aws, env, mine):
        held = _read(aws, env)
        if held is not None and held.expires < time.time() and break_expired:
            ui.info(f"{env.name}: breaking the expired release lock ({held.describe()})")
            aws.ssm(env.region).delete(env.names.release_lock_parameter)
            held = None if _put(aws, env, mine) else _read(aws, env)
        if held is not None:
            expired = held.expires < time.time()
            raise Refused(f"environment {env.name}", f"another release holds the lock: {held.describe()}; nothing was changed",
                          "its lease has expired: pass --break-lock if that release is gone" if expired else
                          f"wait for it to finish (lease ends {time.strftime('%H:%M:%S UTC', time.gmtime(held.expires))})")
    try:
        yield mine
    finally:
        current = _read(aws, env)
        if current == mine:
            aws.ssm(env.region).delete(env.names.release_lock_parameter)
