"""The embedded AWS calling its own APIs, as AWS's services call each other (EventBridge Scheduler starts a Step
Functions execution, Step Functions runs an ECS task, drift detection reads a resource as CloudFormation does): through
the server's endpoint, in the resource's account, so each call meets the same handlers and checks as a client's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_clients: Callable[[str, str, str], Any] | None = None


def use(clients: Callable[[str, str, str], Any]) -> None:
    """The server's clients, (account, service, region) -> boto3 client."""
    global _clients
    _clients = clients


def client(account: str, service: str, region: str) -> Any:
    if _clients is None:
        raise RuntimeError("the embedded AWS's server has not started: no endpoint to call its own APIs through")
    return _clients(account, service, region)
