"""ECS tasks of the embedded AWS as local processes running the image's own command.

A task starts from its task definition as ECS would start the container: the image's files (its layers,
unpacked once per digest), the image's environment under the container definition's environment and secrets
(read from the emulated SSM and Secrets Manager), the image's working directory and command (or the container
definition's). A virtualenv the image carries as a requirements file is installed once per requirements hash.
The container port is handed to the process as PORT on a free loopback port (the processes share one network,
unlike tasks, which each have their own ENI). Output goes line by line to the task definition's CloudWatch Logs
group, as the awslogs driver writes it; stopping sends the image's stop signal, then SIGKILL after the container's
stop timeout. A process that exits is a stopped task with its exit code, as DescribeTasks reports it. Containers the
essential one waits for (dependsOn COMPLETE or SUCCESS) run to completion before it, in their order, each with its
own log stream; a SUCCESS dependency that exits non-zero stops the task before the essential container starts.
A task may have several essential containers (a preview runs every workload in one task): each runs as its own process
on its own loopback port, a value such as http://127.0.0.1:8001 in a container's environment names the sibling that
listens on 8001 (a task's containers share its network namespace: ECS developer guide, "Fargate task networking"),
and the task stops when any of them exits ("if an essential container fails or stops, all other containers in the
task are stopped": ECS developer guide, task definition parameters, "essential").
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.localaws.core.base import flag
from shipyard.localaws.ecs.public_images import Unavailable, stand_in

REQUIREMENTS_MARKER = ".shipyard-requirements.txt"
CREDENTIALS_PATH = "/_shipyard/task-credentials/"  # + a task's id: its task role's credentials, as ECS's agent serves them
# The embedded AWS's own address (set when its server starts): what a task's AWS SDK calls, and where it gets its
# task role's credentials.
endpoint: str | None = None
# What else gives a starting task variables (ECS Service Connect's proxy: service_connect.variables), registered by
# the ECS handlers, so this module knows nothing of them.
VARIABLE_SOURCES: list[Callable[[Task], dict[str, str]]] = []
_lock = threading.RLock()
_tasks: dict[str, Task] = {}  # task ARN -> task


class TaskStartFailed(Exception):
    """The task could not start (its image, secrets or command); ECS reports it as a stopped task with this reason."""


@dataclass
class Companion:
    """An essential container of a task beside its first one: its own process, port and health."""

    name: str
    definition: dict[str, Any]
    container_port: int | None
    host_port: int | None
    health_check: dict[str, Any] | None = None
    health: str = "UNKNOWN"
    process: subprocess.Popen | None = None
    exit_code: int | None = None
    last_status: str = "PENDING"
    stop_signal: int = signal.SIGTERM
    environment: dict[str, str] = field(default_factory=dict)
    workdir: str = ""


def cache_root() -> Path:
    base = os.environ.get("SHIPYARD_CACHE_DIR") or str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shipyard")
    return Path(base) / "local"


@dataclass
class Task:
    arn: str
    account: str
    region: str
    cluster: str
    group: str  # service:<name>
    task_definition: str
    container: str
    container_port: int
    host_port: int
    started_by: str
    process: subprocess.Popen | None = None
    last_status: str = "PROVISIONING"
    desired_status: str = "RUNNING"
    exit_code: int | None = None
    stopped_reason: str = ""
    stop_code: str = ""
    created: float = field(default_factory=time.time)
    started: float | None = None
    stopped: float | None = None
    stop_timeout: int = 30
    stop_signal: int = signal.SIGTERM
    exec_enabled: bool = False  # ECS Exec: decided when the task starts, as on ECS
    environment: dict[str, str] = field(default_factory=dict)  # the container's, for ECS Exec sessions
    task_role_arn: str | None = None
    health_check: dict[str, Any] | None = None  # the container definition's healthCheck, where it has one
    health: str = "UNKNOWN"  # HEALTHY | UNHEALTHY once its health check has decided
    workdir: str = ""
    runtime_id: str = field(default_factory=lambda: uuid.uuid4().hex[:32])
    # The containers the essential one waits for (dependsOn COMPLETE or SUCCESS), in the order they run, with the
    # condition; once each has run: its name, image and exit code, as DescribeTasks lists it.
    waits_for: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    finished: list[dict[str, Any]] = field(default_factory=list)
    container_reason: str = ""  # why the essential container stopped, where ECS's agent says (a dependency that failed)
    companions: list[Companion] = field(default_factory=list)  # its other essential containers, each a process of its own

    @property
    def ports(self) -> dict[int, int]:
        """Container port -> loopback port, for each of its long-running containers that listens."""
        return {self.container_port: self.host_port, **{c.container_port: c.host_port for c in self.companions
                                                         if c.container_port and c.host_port}}

    def host_port_of(self, container: str | None) -> int:
        """Where the container named in a service's load balancer entry listens (the first one when unnamed)."""
        named = next((c for c in self.companions if c.name == container), None)
        return named.host_port if named is not None and named.host_port else self.host_port

    @property
    def checked(self) -> list[Any]:
        """Its long-running containers that have a health check (this task itself stands for its first)."""
        return [c for c in [self, *self.companions] if c.health_check is not None]

    @property
    def healthy(self) -> bool:
        """Every container with a health check is HEALTHY (ECS: a task is as healthy as its essential containers)."""
        return all(c.health == "HEALTHY" for c in self.checked)

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def describe(self) -> dict[str, Any]:
        container = {"name": self.container, "lastStatus": self.last_status, "taskArn": self.arn, "runtimeId": self.runtime_id,
                     "networkBindings": [{"containerPort": self.container_port, "hostPort": self.host_port,
                                          "bindIP": "127.0.0.1", "protocol": "tcp"}]}
        if self.exit_code is not None:
            container["exitCode"] = self.exit_code
        if self.container_reason:
            container["reason"] = self.container_reason
        if self.health_check is not None:
            container["healthStatus"] = self.health
        companions = []
        for companion in self.companions:
            described_companion = {"name": companion.name, "lastStatus": companion.last_status, "taskArn": self.arn,
                                   "networkBindings": [{"containerPort": companion.container_port, "hostPort": companion.host_port,
                                                        "bindIP": "127.0.0.1", "protocol": "tcp"}] if companion.host_port else []}
            if companion.exit_code is not None:
                described_companion["exitCode"] = companion.exit_code
            if companion.health_check is not None:
                described_companion["healthStatus"] = companion.health
            companions.append(described_companion)
        described = {"taskArn": self.arn, "clusterArn": f"arn:aws:ecs:{self.region}:{self.account}:cluster/{self.cluster}",
                     "taskDefinitionArn": self.task_definition, "group": self.group, "startedBy": self.started_by,
                     "lastStatus": self.last_status, "desiredStatus": self.desired_status, "launchType": "FARGATE",
                     "createdAt": self.created, "enableExecuteCommand": self.exec_enabled,
                     "containers": [container, *companions, *({**f, "taskArn": self.arn} for f in self.finished)]}
        if self.started:
            described["startedAt"] = self.started
        if self.stopped:
            described.update(stoppedAt=self.stopped, stoppedReason=self.stopped_reason, stopCode=self.stop_code or "EssentialContainerExited")
        return described

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def processes(self) -> list[subprocess.Popen]:
        """Every process of it that still runs."""
        return [p for p in [self.process, *(c.process for c in self.companions)] if p is not None and p.poll() is None]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _image(account: str, region: str, reference: str) -> tuple[dict[str, Any], list[bytes]]:
    """(image config, compressed layers) of repository@sha256:digest in the emulated ECR."""
    from moto.ecr.models import ecr_backends

    from shipyard.localaws.ecr.handlers import layer_bytes

    if "@sha256:" not in reference:
        raise TaskStartFailed(f"CannotPullContainerError: {reference} is not an image digest")
    try:
        public = stand_in(reference)
    except Unavailable as exc:
        raise TaskStartFailed(f"CannotPullContainerError: {reference}: {exc}") from None
    if public is not None:
        return public, []
    repository_uri, digest = reference.split("@", 1)
    registry, name = repository_uri.split("/", 1)
    registry_account = registry.split(".", 1)[0]
    try:
        repository = ecr_backends[registry_account][region]._get_repository(name, registry_account)
    except Exception:
        raise TaskStartFailed(f"CannotPullContainerError: repository {name} not found") from None
    image = next((i for i in repository.images if i.image_digest == digest), None)
    if image is None:
        raise TaskStartFailed(f"CannotPullContainerError: {reference} not found")
    manifest = json.loads(image.image_manifest)
    if "config" not in manifest:
        raise TaskStartFailed(f"CannotPullContainerError: {reference} is not a single-platform image manifest")
    config = layer_bytes(registry_account, manifest["config"]["digest"])
    layers = [layer_bytes(registry_account, layer["digest"]) for layer in manifest.get("layers", [])]
    if config is None or any(layer is None for layer in layers):
        raise TaskStartFailed(f"CannotPullContainerError: {reference} has blobs the registry does not hold")
    parsed = json.loads(config)
    if "config" not in parsed or "rootfs" not in parsed:
        raise TaskStartFailed(f"CannotPullContainerError: {reference} holds no runnable image (no command)")
    return parsed, layers  # type: ignore[return-value]


def _unpack(digest: str, layers: list[bytes]) -> Path:
    """The image's files, unpacked once per digest."""
    root = cache_root() / "rootfs" / digest.replace(":", "-")
    if root.exists():
        return root
    staging = root.with_name(root.name + f".{uuid.uuid4().hex}")
    staging.mkdir(parents=True)
    for layer in layers:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as archive:
            archive.extractall(staging, filter="data")
    try:
        staging.rename(root)
    except OSError:  # another task unpacked it first
        shutil.rmtree(staging, ignore_errors=True)
    return root


_venv_locks: dict[str, threading.Lock] = {}


def _virtualenv(requirements: bytes, log: Any) -> Path:
    """A virtualenv with these requirements installed, made once per their hash (in place: its scripts name it).

    Made under a lock of this process's threads and a file lock of every process sharing the cache (several embedded
    AWSs, one per test worker, may start the same image at once): one makes it, the others wait and use it."""
    key = hashlib.sha256(requirements).hexdigest()[:24]
    target = cache_root() / "venvs" / key
    ready = target / ".ready"
    with _lock:
        lock = _venv_locks.setdefault(key, threading.Lock())
    target.parent.mkdir(parents=True, exist_ok=True)
    with lock, (target.parent / f"{key}.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if ready.exists():
            return target
        log(f"shipyard: installing the image's requirements into a cached virtualenv ({key})")
        shutil.rmtree(target, ignore_errors=True)  # what an interrupted install left
        target.mkdir()
        (target / "requirements.txt").write_bytes(requirements)
        result = _install(target, target / "requirements.txt")
        if result.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            raise TaskStartFailed(f"CannotStartContainerError: the image's requirements did not install: {result.stderr.strip()[-300:]}")
        ready.write_text("")
        return target


def _install(target: Path, requirements: Path) -> subprocess.CompletedProcess[str]:
    """A virtualenv at `target` with `requirements` installed. Without a pip of its own where this Python has one (pip
    --python installs into it): a virtualenv's own pip takes longer to set up (6 s) than the example's install (5 s)."""
    has_pip = importlib.util.find_spec("pip") is not None
    subprocess.run([sys.executable, "-m", "venv", *(["--without-pip"] if has_pip else []), str(target)], check=True,
                   capture_output=True)
    pip = [sys.executable, "-m", "pip", "--python", str(target / "bin" / "python")] if has_pip else [
        str(target / "bin" / "python"), "-m", "pip"]
    return subprocess.run([*pip, "install", "--quiet", "-r", str(requirements)], capture_output=True, text=True)


def warm(registry: str, layers: list[bytes]) -> None:
    """An image was pushed: install its requirements' virtualenv now, in the background, so its first task does not
    wait for pip (a container host pulls an image before it starts the image's first task)."""
    for layer in layers:
        try:
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as archive:
                markers = [m for m in archive.getmembers() if m.isfile() and m.name.endswith(REQUIREMENTS_MARKER)]
                requirements = [archive.extractfile(m).read() for m in markers]  # type: ignore[union-attr]
        except (OSError, tarfile.TarError, EOFError):
            continue
        for content in requirements:
            threading.Thread(target=_quietly_prepare, args=(content,), daemon=True, name="warm-virtualenv").start()


def _quietly_prepare(requirements: bytes) -> None:
    with contextlib.suppress(TaskStartFailed):  # the task that needs it reports the failure when it starts
        _virtualenv(requirements, lambda line: None)


def _secret_value(account: str, region: str, value_from: str) -> str:
    """valueFrom as ECS reads it: an SSM parameter, or a secret with an optional `:json-key:version-stage:version-id`."""
    if ":secretsmanager:" in value_from or not value_from.startswith(("arn:aws:ssm", "/")):
        from moto.secretsmanager.models import secretsmanager_backends

        parts = value_from.split(":") if value_from.startswith("arn:") else [value_from]
        secret_id = ":".join(parts[:7])
        json_key, stage, version = [*parts[7:], "", "", ""][:3]
        try:
            secret = secretsmanager_backends[account][region].get_secret_value(secret_id, version or None, stage or None)
        except Exception as exc:  # moto's ResourceNotFoundException and the like: ECS stops the task with it
            raise TaskStartFailed(f"ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve "
                                  f"secret from asm: {secret_id}: {getattr(exc, 'code', type(exc).__name__)}") from None
        text = secret.get("SecretString", "")
        if not json_key:
            return text
        try:
            return str(json.loads(text)[json_key])
        except (ValueError, KeyError, TypeError):
            raise TaskStartFailed(f"ResourceInitializationError: unable to retrieve secret from asm: the secret {secret_id} "
                                  f"has no JSON key {json_key}") from None
    from moto.ssm.models import ssm_backends

    name = value_from.split(":parameter", 1)[1] if value_from.startswith("arn:") else value_from
    parameter = ssm_backends[account][region].get_parameter(name)
    if parameter is None:
        raise KeyError(name)
    return parameter.value


def _rooted(value: str, root: Path, venvs: dict[str, Path]) -> str:
    """Absolute paths of the image, in a value such as PATH, as they are on this machine."""
    parts = []
    for part in value.split(":"):
        if part.startswith("/"):
            for inside, outside in venvs.items():
                if part == inside or part.startswith(inside + "/"):
                    part = str(outside) + part[len(inside):]
                    break
            else:
                if (root / part.lstrip("/")).exists():
                    part = str(root / part.lstrip("/"))
        parts.append(part)
    return ":".join(parts)


def start(*, account: str, region: str, cluster: str, service: str | None, task_definition: Any, started_by: str,
          overrides: dict[str, dict[str, Any]] | None = None, exec_enabled: bool = False) -> Task:
    """Start one task from the moto task definition: a service's (service set) or a standalone RunTask's, whose
    container overrides (by container name) may replace a command and add environment. A failure to start is a
    stopped task."""
    unsupported = ""
    try:
        (container, *others), waits_for = _essential_and_waits(task_definition.container_definitions or [{}])
    except TaskStartFailed as exc:
        (container, others, waits_for), unsupported = (dict((task_definition.container_definitions or [{}])[0]), [], []), str(exc)
    for each in [container, *others, *(waited for waited, _ in waits_for)]:
        override = (overrides or {}).get(each.get("name"))
        if override and override.get("command"):
            each["command"] = list(override["command"])  # replaces CMD; the image's ENTRYPOINT stays, as on ECS
        if override:
            each["environment"] = [*(each.get("environment") or []), *(override.get("environment") or [])]
    mapping = (container.get("portMappings") or [{}])[0]
    group = f"service:{service}" if service else f"family:{task_definition.family}"
    task = Task(f"arn:aws:ecs:{region}:{account}:task/{cluster}/{uuid.uuid4().hex}", account, region, cluster,
                group, task_definition.arn, container.get("name", "app"), int(mapping.get("containerPort", 8000)),
                _free_port(), started_by, stop_timeout=int(container.get("stopTimeout") or 30), exec_enabled=exec_enabled,
                task_role_arn=getattr(task_definition, "task_role_arn", None) or None, health_check=container.get("healthCheck"),
                waits_for=waits_for, companions=[_companion(other) for other in others])
    with _lock:
        _tasks[task.arn] = task
    # Pulling (unpacking, installing requirements) takes a while the first time: the scheduler does not wait for it.
    threading.Thread(target=_provision, args=(task, container, unsupported), daemon=True, name=f"provision-{task.id}").start()
    return task


def _companion(definition: dict[str, Any]) -> Companion:
    mapping = (definition.get("portMappings") or [{}])[0]
    port = int(mapping["containerPort"]) if mapping.get("containerPort") else None
    return Companion(definition.get("name", ""), definition, port, _free_port() if port else None,
                     health_check=definition.get("healthCheck"))


def _essential_and_waits(definitions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]]]:
    """The task's essential containers (the first in its definition first), and the containers they wait for to run
    to completion (dependsOn COMPLETE or SUCCESS, which only a non-essential container may be the target of), each
    after those it waits for in turn.

    That is the whole of what this runtime runs: long-running essential containers, and the one-shot containers before
    them (a preview's database and migrations). A sidecar (a non-essential container nothing waits for) is refused
    when the task starts rather than run differently from ECS."""
    containers = {c.get("name", ""): dict(c) for c in definitions}
    essential = [c for c in containers.values() if flag(c.get("essential", True))]
    if not essential:
        raise TaskStartFailed("CannotStartContainerError: the task has no essential container")
    order: list[tuple[dict[str, Any], str]] = []

    def visit(container: dict[str, Any]) -> None:
        for dependency in container.get("dependsOn") or []:
            target = containers.get(dependency.get("containerName", ""))
            condition = dependency.get("condition", "")
            if target is None or condition not in ("COMPLETE", "SUCCESS"):
                raise TaskStartFailed(f"CannotStartContainerError: the embedded AWS runs a container's dependsOn on "
                                      f"{dependency.get('containerName')} only with COMPLETE or SUCCESS, not {condition}")
            if all(target is not seen for seen, _ in order):
                visit(target)
                order.append((target, condition))

    for each in essential:
        visit(each)
    if len(order) + len(essential) != len(containers):
        raise TaskStartFailed("CannotStartContainerError: the embedded AWS runs no sidecar (a non-essential container "
                              "no essential one waits for)")
    return essential, order


def _provision(task: Task, container: dict[str, Any], unsupported: str = "") -> None:
    log = _log_writer(task, container)
    try:
        task.last_status = "PENDING"
        if unsupported:
            raise TaskStartFailed(unsupported)
        for waited, condition in task.waits_for:
            code = _run_to_completion(task, waited, _log_writer(task, waited))
            if code is None:  # the task was stopped meanwhile
                return
            if condition == "SUCCESS" and code != 0:
                # ECS's agent stops the essential container (exit code 143) with the dependency's failure as its
                # reason, and the task stops with it (amazon-ecs-agent#3218, "Stop container when dependencies are
                # non-resolvable"); a container that never started writes no log line.
                task.container_reason = (f"CannotStartContainerError: dependency graph: failed to resolve container ordering "
                                         f"dependency [{waited.get('name')}({waited.get('image')}) (STOPPED->RUNNING) - Exit: "
                                         f"{code}] for target [{task.container}({container.get('image')}) (NONE->RUNNING)]")
                _stopped(task, "Essential container in task exited", exit_code=143, code="EssentialContainerExited")
                return
        _launch(task, container, log)
        for companion in task.companions:
            _launch_companion(task, companion)
    except (TaskStartFailed, KeyError, subprocess.CalledProcessError, OSError) as exc:
        reason = str(exc) if isinstance(exc, TaskStartFailed) else f"ResourceInitializationError: {exc!r}" + (
            f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else "")
        log(f"shipyard: task {task.id} did not start: {reason}")
        _stopped(task, reason, exit_code=None, code="TaskFailedToStart")


def _run_to_completion(task: Task, container: dict[str, Any], log: Any) -> int | None:
    """One container the essential one waits for, run until it exits: its exit code, or None if the task was stopped."""
    process = _process(task, container, log, port=None)
    if process is None:
        return None
    assert process.stdout is not None
    for raw in process.stdout:
        log(raw.decode(errors="replace").rstrip("\n"))
    code = process.wait()
    with _lock:
        task.process = None
        task.finished.append({"name": container.get("name", ""), "image": container.get("image", ""), "lastStatus": "STOPPED",
                              "exitCode": code})
        if task.desired_status == "STOPPED":
            _stopped(task, task.stopped_reason, exit_code=None, code="ServiceSchedulerInitiated")
            return None
    return code


def _launch(task: Task, container: dict[str, Any], log: Any) -> None:
    process = _process(task, container, log, port=task.host_port)
    if process is None:
        return
    with _lock:
        task.last_status, task.started = "RUNNING", time.time()
    threading.Thread(target=_pump, args=(task, log), daemon=True, name=f"task-{task.id}").start()


def _launch_companion(task: Task, companion: Companion) -> None:
    log = _log_writer(task, companion.definition)
    process = _process(task, companion.definition, log, port=companion.host_port, companion=companion)
    if process is None:
        return
    companion.last_status = "RUNNING"
    threading.Thread(target=_pump_companion, args=(task, companion, log), daemon=True, name=f"task-{task.id}-{companion.name}").start()


def _process(task: Task, container: dict[str, Any], log: Any, *, port: int | None,
             companion: Companion | None = None) -> subprocess.Popen | None:
    """The container's process, started as the task's current one (what stop() signals), or as `companion`'s; None
    if the task was stopped while it was being provisioned. port: the loopback port the container listens on, as PORT."""
    config, layers = _image(task.account, task.region, container.get("image", ""))
    digest = "sha256:" + hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    root = _unpack(digest, layers)
    venvs = {}
    for marker in root.rglob(REQUIREMENTS_MARKER):
        venvs["/" + str(marker.parent.relative_to(root))] = _virtualenv(marker.read_bytes(), log)
    image = config["config"]
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root)}
    for pair in image.get("Env", []):
        key, _, value = pair.partition("=")
        environment[key] = value.replace("$PATH", os.environ.get("PATH", ""))
    for item in container.get("environment") or []:
        environment[item["name"]] = item["value"]
    for item in container.get("secrets") or []:
        environment[item["name"]] = _secret_value(task.account, task.region, item["valueFrom"])
    environment = {k: _rooted(v, root, venvs) if k == "PATH" else _siblings(v, task.ports) for k, v in environment.items()}
    if port is not None:
        environment["PORT"] = str(port)
    environment.update(_aws_variables(task))
    entrypoint = container.get("entryPoint") or image.get("Entrypoint") or []
    command = container.get("command") or image.get("Cmd") or []
    argv = [*entrypoint, *command]
    if not argv:
        raise TaskStartFailed("CannotStartContainerError: the image has no command")
    executable = shutil.which(argv[0], path=environment["PATH"]) or argv[0]
    workdir = root / str(image.get("WorkingDir") or "/").lstrip("/")
    signal_name = image.get("StopSignal") or "SIGTERM"
    with _lock:
        if task.desired_status == "STOPPED":  # stopped while it was being provisioned
            _stopped(task, task.stopped_reason, exit_code=None, code="ServiceSchedulerInitiated")
            return None
        holder = companion or task
        holder.stop_signal = getattr(signal, signal_name, signal.SIGTERM) if not signal_name.isdigit() else int(signal_name)
        holder.environment, holder.workdir = environment, str(workdir)
        holder.process = subprocess.Popen([executable, *argv[1:]], cwd=str(workdir), env=environment, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        return holder.process


_LOOPBACK_ADDRESS = re.compile(r"\b(?:127\.0\.0\.1|localhost):(\d+)\b")


def _siblings(value: str, ports: dict[int, int]) -> str:
    """127.0.0.1:<port> or localhost:<port> of a container of the same task, as the loopback port it listens on here
    (in a task they share one network namespace and each listens on its own port; here every task shares one)."""
    return _LOOPBACK_ADDRESS.sub(lambda m: f"127.0.0.1:{ports[int(m.group(1))]}" if int(m.group(1)) in ports else m.group(0), value)


def _aws_variables(task: Task) -> dict[str, str]:
    """What Fargate gives every container to reach AWS: its region, and its task role's credentials from an endpoint
    the SDKs read on their own (ECS developer guide, "Amazon ECS task IAM role"; no task role, no credentials). The
    endpoint is the embedded AWS's: a full URI on loopback, which the SDKs accept where ECS's link-local one would not
    be reachable, and AWS_ENDPOINT_URL, the one variable ECS does not set, sends the SDK's calls to the embedded AWS."""
    variables = {"AWS_REGION": task.region, "AWS_DEFAULT_REGION": task.region}
    for source in VARIABLE_SOURCES:
        variables.update(source(task))
    if endpoint:
        variables["AWS_ENDPOINT_URL"] = endpoint
        if task.task_role_arn:
            variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"{endpoint}{CREDENTIALS_PATH}{task.id}"
    return variables


def check_health(task: Task, timeout: float, container: Task | Companion | None = None) -> bool:
    """A container's health check once (the task's first container's, or `container`'s), as ECS runs it in the
    container: its command (CMD, or CMD-SHELL through /bin/sh -c) with the container's environment and working
    directory; healthy on exit code 0."""
    checked = container or task
    command = list((checked.health_check or {}).get("command") or [])
    kind, argv = (command[0], command[1:]) if command else ("NONE", [])
    # In a task, 127.0.0.1:<container port> is a container of the task (each task has its own network namespace);
    # here the processes share one, and each listens on its host port: the command says the same thing this way.
    argv = [_siblings(arg, task.ports) for arg in argv]
    if kind == "CMD-SHELL":
        argv = ["/bin/sh", "-c", " ".join(argv)]
    elif kind != "CMD" or not argv:
        return True
    executable = shutil.which(argv[0], path=checked.environment.get("PATH", "")) or argv[0]
    try:
        return subprocess.run([executable, *argv[1:]], cwd=checked.workdir or None, env=checked.environment, capture_output=True,
                              timeout=timeout).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def credentials(task_id: str) -> dict[str, str] | None:
    """The task role's temporary credentials for a running task (STS AssumeRole, as ECS's agent does on its behalf),
    in the container credentials format; None for no such task, a stopped one, or one without a task role."""
    from moto.sts.models import sts_backends

    task = find(task_id)
    if task is None or task.last_status == "STOPPED" or not task.task_role_arn:
        return None
    role_account = task.task_role_arn.split(":")[4]
    assumed = sts_backends[role_account]["aws"].assume_role(region_name=task.region, role_session_name=task.id,
                                                            role_arn=task.task_role_arn, policy="", duration=3600, external_id="")
    return {"AccessKeyId": assumed.access_key_id, "SecretAccessKey": assumed.secret_access_key,
            "Token": assumed.session_token, "Expiration": assumed.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"), "RoleArn": task.task_role_arn}


def _log_writer(task: Task, container: dict[str, Any]):
    """A function that writes one line to the container's awslogs stream, as the awslogs driver would."""
    options = (container.get("logConfiguration") or {}).get("options") or {}
    return log_writer(task.account, options.get("awslogs-region", task.region), options.get("awslogs-group"),
                      f"{options.get('awslogs-stream-prefix', 'ecs')}/{container.get('name', task.container)}/{task.id}")


def log_writer(account: str, region: str, group: str | None, stream: str):
    """A function that writes one line to `stream` of `group`, creating the stream with its first line (nothing
    without a group). A group deleted meanwhile (its stack was) loses the line, and its writer goes on."""
    from moto.logs.models import logs_backends

    backend = logs_backends[account][region]
    created = False

    def write(line: str) -> None:
        nonlocal created
        if not group:
            return
        try:
            if not created:
                backend.create_log_stream(group, stream)
                created = True
            backend.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000), "message": line}])
        except Exception:
            pass

    return write


def _pump(task: Task, log: Any) -> None:
    assert task.process is not None and task.process.stdout is not None
    for raw in task.process.stdout:
        log(raw.decode(errors="replace").rstrip("\n"))
    code = task.process.wait()
    _essential_exited(task)
    _wait_companions(task)
    if task.desired_status == "STOPPED":
        _stopped(task, task.stopped_reason or "Task stopped by ECS", exit_code=code, code="ServiceSchedulerInitiated")
    else:  # the exit code is DescribeTasks' to report; the awslogs driver writes nothing of its own
        _stopped(task, "Essential container in task exited", exit_code=code, code="EssentialContainerExited")


def _pump_companion(task: Task, companion: Companion, log: Any) -> None:
    assert companion.process is not None and companion.process.stdout is not None
    for raw in companion.process.stdout:
        log(raw.decode(errors="replace").rstrip("\n"))
    companion.exit_code, companion.last_status = companion.process.wait(), "STOPPED"
    _essential_exited(task)


def _essential_exited(task: Task) -> None:
    """One essential container exited: ECS stops the others (the first container's pump then records the task)."""
    with _lock:
        if task.desired_status == "STOPPED" or not task.companions:
            return
        task.stop_code, task.stopped_reason = "EssentialContainerExited", "Essential container in task exited"
    stop(task, "Essential container in task exited")


def _wait_companions(task: Task) -> None:
    for companion in task.companions:
        if companion.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                companion.process.wait(timeout=task.stop_timeout + 5)


def _stopped(task: Task, reason: str, *, exit_code: int | None, code: str) -> None:
    with _lock:
        task.last_status, task.desired_status = "STOPPED", "STOPPED"
        task.stopped_reason = task.stopped_reason or reason
        task.stop_code = task.stop_code or code
        task.exit_code = exit_code
        task.stopped = task.stopped or time.time()


def stop(task: Task, reason: str) -> None:
    """ECS stopping a task: the stop signal, then SIGKILL after the container's stop timeout (in the background)."""
    with _lock:
        # A task already on its way down is left to it; one ECS only marked STOPPED (draining) stops now.
        if task.last_status in ("STOPPED", "DEACTIVATING"):
            return
        task.desired_status, task.stop_code = "STOPPED", task.stop_code or "ServiceSchedulerInitiated"
        task.stopped_reason = task.stopped_reason or reason
        task.last_status = "DEACTIVATING"
    process = task.process
    running = [(p, c.stop_signal) for c in task.companions if (p := c.process) is not None and p.poll() is None]
    if process is not None and process.poll() is None:
        running.insert(0, (process, task.stop_signal))
    elif process is None or not running:  # otherwise the first container's pump records the task once they stop
        _stopped(task, reason, exit_code=None if process is None else process.returncode, code="ServiceSchedulerInitiated")
    if not running:
        return

    def terminate(process: subprocess.Popen, stop_signal: int) -> None:
        try:
            os.killpg(process.pid, stop_signal)
            process.wait(timeout=task.stop_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    for each, stop_signal in running:
        threading.Thread(target=terminate, args=(each, stop_signal), daemon=True, name=f"stop-{task.id}").start()


def tasks(account: str, region: str, cluster: str | None = None) -> list[Task]:
    with _lock:
        return [t for t in _tasks.values() if (t.account, t.region) == (account, region) and cluster in (None, t.cluster)]


def find(arn_or_id: str) -> Task | None:
    with _lock:
        return _tasks.get(arn_or_id) or next((t for t in _tasks.values() if t.id == arn_or_id), None)


def stop_all(timeout: float = 10.0) -> None:
    """Every task process stopped, and waited for: no process outlives the embedded AWS."""
    with _lock:
        running = [t for t in _tasks.values() if t.processes]
    processes = [p for task in running for p in task.processes]
    for task in running:
        stop(task, "The embedded AWS is shutting down")
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def reset() -> None:
    stop_all()
    with _lock:
        _tasks.clear()
