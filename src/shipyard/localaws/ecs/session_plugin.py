"""The embedded AWS's Session Manager plugin: `python -m shipyard.localaws.ecs.session_plugin SESSION REGION StartSession
PROFILE PARAMETERS ENDPOINT`, the arguments the AWS CLI gives `session-manager-plugin`. It connects to the session's
stream (exec_sessions.py), sends its token, and joins the terminal to the command until the command ends."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from urllib.parse import urlparse


def _send_input(connection: socket.socket) -> None:
    try:
        while chunk := sys.stdin.buffer.read1(4096) if hasattr(sys.stdin.buffer, "read1") else sys.stdin.buffer.read(4096):
            connection.sendall(chunk)
    except (OSError, ValueError):
        pass
    finally:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_WR)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[2] != "StartSession":
        print("usage: session_plugin SESSION_JSON REGION StartSession [PROFILE PARAMETERS ENDPOINT]", file=sys.stderr)
        return 2
    session = json.loads(argv[0])
    stream = urlparse(session["streamUrl"])
    print(f"\nStarting session with SessionId: {session['sessionId']}\n", flush=True)
    with socket.create_connection((stream.hostname, stream.port), timeout=30) as connection:
        connection.settimeout(None)
        connection.sendall(session["tokenValue"].encode() + b"\n")
        threading.Thread(target=_send_input, args=(connection,), daemon=True).start()
        while data := connection.recv(4096):
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
    print(f"\n\nExiting session with sessionId: {session['sessionId']}.\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
