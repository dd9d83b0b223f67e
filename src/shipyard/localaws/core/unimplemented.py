"""Operations the embedded AWS does not implement, answered as AWS answers an action it does not know.

moto raises NotImplementedError for an operation it lacks; served as is, that is an HTML 500 page (which the SDKs
retry, then fail to parse) and a 40-line traceback in the server's output for every attempt. AWS answers an action
it does not know with a 400 and an error code the SDKs read: InvalidAction for the query and XML protocols,
UnknownOperationException for the JSON ones. The embedded AWS does the same, with a message that says the gap is
its own, writes one line the first time an operation reaches it, and lists them all when it stops.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from typing import Any

_lock = threading.Lock()
_reached: dict[str, int] = {}  # service.Operation -> how many requests asked for it


def answer(environ: dict[str, Any], exc: NotImplementedError) -> tuple[str, list[tuple[str, str]], bytes]:
    """The HTTP status, headers and body AWS would send for an action it does not know."""
    name = operation(environ, exc)
    with _lock:
        first = name not in _reached
        _reached[name] = _reached.get(name, 0) + 1
    if first:
        sys.stderr.write(f"embedded AWS: {name} is not implemented here (AWS implements it); answered as an unknown action\n")
    message = f"{name} is not implemented by the embedded AWS; it works on AWS"
    request_id = str(uuid.uuid4())
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in environ.get("CONTENT_TYPE", ""):
        body = json.dumps({"__type": "UnknownOperationException", "message": message}).encode()
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "UnknownOperationException"),
                                   ("x-amzn-RequestId", request_id)], body
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
    return "400 Bad Request", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body


def operation(environ: dict[str, Any], exc: NotImplementedError) -> str:
    """service.Operation: the service from the request's signing scope, the operation from its target header or, for
    the query protocol (whose body moto has read), from moto's message."""
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else "?"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return f"{service}.{target.rpartition('.')[2]}"
    action = re.search(r"The (\w+) action has not been implemented", str(exc))
    snake = action.group(1) if action else str(exc)
    return f"{service}.{''.join(part.capitalize() for part in snake.split('_'))}"


def reached() -> dict[str, int]:
    with _lock:
        return dict(_reached)


def reset() -> None:
    """What reached the server, in one line (nothing when all was implemented); the record starts again."""
    with _lock:
        seen = dict(_reached)
        _reached.clear()
    if seen:
        listed = ", ".join(f"{name} ({count}x)" for name, count in sorted(seen.items()))
        sys.stderr.write(f"embedded AWS: asked for operations it does not implement: {listed}\n")
