"""`shipyard exec`: a command (or a shell) in a running task of the service, through ECS Exec.

ECS ExecuteCommand opens a session; the Session Manager plugin joins the terminal to it (the AWS CLI does the same).
The cluster logs each session's output to the environment's exec log group. A command given on the command line
runs under a filter inside the task that replaces the values of the task's secrets with ****, so neither the
terminal nor the session log holds them; an interactive shell is logged as it is, and says so.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from dataclasses import dataclass

from shipyard.aws import Aws
from shipyard.aws.ecs import Task, TaskDefinition
from shipyard.config import Environment
from shipyard.errors import UsageError
from shipyard.naming import CONTAINER

PLUGIN = "session-manager-plugin"
PLUGIN_INSTALL = "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html"
SHELL = "/bin/sh"
MASK = "****"
# Inside the task: run the command, then print its output with each secret's value replaced (POSIX sh and awk).
_FILTER = ('"$@" 2>&1 | awk -v names="$SHIPYARD_MASKED" \'BEGIN { n = split(names, key, " ") } '
           '{ for (i = 1; i <= n; i++) { v = ENVIRON[key[i]]; if (length(v) > 0) { '
           'while ((p = index($0, v)) > 0) { $0 = substr($0, 1, p - 1) "' + MASK + '" substr($0, p + length(v)) } } } '
           'print; fflush() }\'')


@dataclass(frozen=True)
class ExecSession:
    task_id: str
    masked: tuple[str, ...]
    exit_code: int  # the Session Manager plugin's: 0 when the session ended normally (not the command's own code)


def plugin_command(plugin: tuple[str, ...] | None) -> tuple[str, ...]:
    """The Session Manager plugin to run, or a one-line error naming it and where to get it (nothing has changed)."""
    if plugin is not None:
        return plugin
    found = shutil.which(PLUGIN)
    if found is None:
        raise UsageError("shipyard exec", f"needs AWS's Session Manager plugin ({PLUGIN}), which is not on PATH; "
                         "nothing was started", f"install it ({PLUGIN_INSTALL}), then run this again")
    return (found,)


def secret_names(definition: TaskDefinition, env: Environment) -> tuple[str, ...]:
    """The container's secrets to mask: every one except shipyard's own plain database settings (host, port, name)."""
    own = f"arn:aws:ssm:{env.region}:{env.account}:parameter/shipyard/{env.names.app}/{env.names.environment}/"
    container = definition.container(CONTAINER)
    return tuple(name for name, source in (container.secrets if container else ()) if not source.startswith(own))


def masked_command(command: list[str], names: tuple[str, ...]) -> str:
    return shlex.join([SHELL, "-c", f"SHIPYARD_MASKED={shlex.quote(' '.join(names))}; export SHIPYARD_MASKED; " + _FILTER,
                       "shipyard-exec", *command])


def choose_task(aws: Aws, env: Environment, wanted: str | None) -> Task:
    """A running task of the service: the one asked for (its id or the start of it), or the newest."""
    ecs = aws.ecs(env.region)
    arns = ecs.task_arns(env.names.cluster, env.names.service, "RUNNING")
    if not arns:
        raise UsageError(f"environment {env.name}", "has no running task to exec into",
                         f"release an image first, or wake it: shipyard status {env.name} says whether it sleeps")
    tasks = [t for t in ecs.tasks(env.names.cluster, arns) if t.last_status == "RUNNING"]
    if wanted:
        tasks = [t for t in tasks if t.id.startswith(wanted)]
        if len(tasks) != 1:
            ids = ", ".join(a.rsplit("/", 1)[-1][:12] for a in arns)
            raise UsageError("--task", f"{wanted!r} matches {len(tasks)} running tasks of {env.name}", f"use one of: {ids}")
    if not tasks:
        raise UsageError(f"environment {env.name}", "has no task in RUNNING yet", "wait a moment and run this again")
    return max(tasks, key=lambda t: t.started_at)


def execute(aws: Aws, env: Environment, plugin: tuple[str, ...] | None, command: list[str], task: str | None,
            profile: str | None) -> ExecSession:
    runner = plugin_command(plugin)  # before anything is asked of AWS
    if not env.ecs_exec:
        raise UsageError(f"environment {env.name}", "has ECS Exec off (production's default)",
                         f"set ecs_exec = true under [environments.{env.name}] and deploy, if the team accepts shells there")
    chosen = choose_task(aws, env, task)
    if not chosen.exec_enabled:  # ECS would refuse with InvalidParameterException: say why first
        raise UsageError(f"task {chosen.id}", "started before ECS Exec was on",
                         f"tasks get it when they start: release the current digest again (shipyard status {env.name} "
                         f"shows it; shipyard release {env.name} --image <digest>) to replace them")
    ecs = aws.ecs(env.region)
    names = secret_names(ecs.task_definition(chosen.task_definition), env) if command else ()
    remote = masked_command(command, names) if command else SHELL
    session = ecs.execute_command(env.names.cluster, chosen.arn, CONTAINER, remote)
    container = chosen.container(CONTAINER)
    target = f"ecs:{env.names.cluster}_{chosen.id}_{container.runtime_id if container else ''}"
    code = subprocess.call([*runner, *session.plugin_arguments(region=env.region, profile=profile, target=target)])
    return ExecSession(chosen.id, names, code)
