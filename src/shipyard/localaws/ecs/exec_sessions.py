"""ECS Exec sessions on the embedded AWS: the command runs in the task process's environment and working directory.

ExecuteCommand (services/ecs.py) opens a session here: a loopback socket that accepts one connection carrying the
session's token, then joins the connection to the command's stdin and stdout. `session_plugin.py` is the client,
taking the Session Manager plugin's arguments. What the command prints also goes to the cluster's exec log group
(ExecuteCommandConfiguration logging OVERRIDE), one event per line, in a stream named by the session, as ECS
Exec's session logging does.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shlex
import shutil
import socket
import subprocess
import threading
import uuid
from typing import Any

from shipyard.localaws.ecs import task_runtime

ACCEPT_TIMEOUT = 60.0  # seconds a session waits for its client
CHANNEL_ACTIONS = ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                   "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel")


def target_not_connected() -> Exception:
    """ECS's answer when the task's SSM agent cannot open its channels (the task role lacks ssmmessages)."""
    from moto.ecs.exceptions import ECSException

    return ECSException("TargetNotConnectedException", "The execute command failed due to an internal error. Try again later.")


def role_reaches_channels(account: str, role_arn: str | None) -> bool:
    """Whether the task role's policies allow every SSM messages channel action the agent needs."""
    from moto.iam.models import iam_backends

    if not role_arn:
        return False
    backend = iam_backends[account]["global"]
    try:
        role = backend.get_role(role_arn.rsplit("/", 1)[-1])
    except Exception:
        return False
    documents = [policy for policy in role.policies.values()]
    documents += [p.document for p in role.managed_policies.values()]
    allowed: set[str] = set()
    for document in documents:
        body = json.loads(document) if isinstance(document, str) else document
        statements = body.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") == "Allow":
                actions = statement.get("Action", [])
                allowed.update([actions] if isinstance(actions, str) else actions)
    return all(action in allowed or "ssmmessages:*" in allowed or "*" in allowed for action in CHANNEL_ACTIONS)


def open_session(task: Any, command: str, audit_group: str | None) -> dict[str, str]:
    """A session for one client; returns ExecuteCommand's Session (sessionId, streamUrl, tokenValue)."""
    session_id = f"ecs-execute-command-{uuid.uuid4().hex[:17]}"
    token = secrets.token_urlsafe(24)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(ACCEPT_TIMEOUT)
    port = listener.getsockname()[1]
    audit = task_runtime.log_writer(task.account, task.region, audit_group, session_id)
    threading.Thread(target=_serve, args=(listener, token, task, command, audit),
                     daemon=True, name=f"exec-{session_id}").start()
    return {"sessionId": session_id, "streamUrl": f"tcp://127.0.0.1:{port}/{session_id}", "tokenValue": token}


def _serve(listener: socket.socket, token: str, task: Any, command: str, audit) -> None:
    try:
        connection, _ = listener.accept()
    except OSError:  # nobody came: the session expires
        listener.close()
        return
    listener.close()
    with connection:
        handshake = b""
        while not handshake.endswith(b"\n") and len(handshake) < 256:  # byte by byte: what follows is the command's input
            byte = connection.recv(1)
            if not byte:
                return
            handshake += byte
        if handshake.decode(errors="replace").strip() != token:
            connection.sendall(b"session token refused\n")
            return
        argv = shlex.split(command)
        executable = shutil.which(argv[0], path=task.environment.get("PATH")) or argv[0]
        try:
            process = subprocess.Popen([executable, *argv[1:]], cwd=task.workdir or None, env=task.environment,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as exc:
            message = f"OCI runtime exec failed: {exc.strerror}: {argv[0]}\n"
            connection.sendall(message.encode())
            audit(message.rstrip())
            return
        threading.Thread(target=_forward_input, args=(connection, process), daemon=True).start()
        assert process.stdout is not None
        for line in iter(process.stdout.readline, b""):
            connection.sendall(line)
            audit(line.decode(errors="replace").rstrip("\n"))
        process.wait()


def _forward_input(connection: socket.socket, process: subprocess.Popen) -> None:
    assert process.stdin is not None
    try:
        while chunk := connection.recv(4096):
            process.stdin.write(chunk)
            process.stdin.flush()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            process.stdin.close()
