"""The embedded AWS: moto's server, in-process on 127.0.0.1, with shipyard's handlers registered.

Everything shipyard deploys locally goes through this server's real AWS APIs
(boto3 against an endpoint URL), never through moto's Python objects.
"""

from __future__ import annotations

import errno
import functools
import logging
import socket
import sys
import threading
import warnings
from typing import Any

from shipyard.errors import ShipyardError, UsageError
from shipyard.localaws.cloudformation import drift
from shipyard.localaws.core import own_api, pace, registry, unimplemented
from shipyard.localaws.core.base import patch
from shipyard.localaws.ecr.scans import register_scan

# Credentials the embedded AWS accepts; they are not secrets and work nowhere else.
LOCAL_ACCESS_KEY = "shipyardlocal"
LOCAL_SECRET_KEY = "shipyardlocal"


def register_handlers() -> None:
    """Load every service module (handlers and patches) and make moto's CloudFormation see the handlers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from moto.cloudformation import parsing

        registry.load()
        from moto.core import responses

        if not hasattr(responses.method_names_from_class, "cache_info"):
            patch(responses, "method_names_from_class", functools.cache(responses.method_names_from_class),
                  corrects="moto lists a response class's methods (inspect.getmembers) on every request; a class's do not change")
    # moto caches its type map on first use; drop a map built before our import.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def unsupported_types(template: dict[str, Any]) -> list[str]:
    """Resource types in a template that the embedded AWS's CloudFormation would skip."""
    register_handlers()
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    known = get_model_map()
    types = {r["Type"] for r in template.get("Resources", {}).values()}
    return sorted(t for t in types if t not in known and t not in NULL_MODELS)


def bind_account(client: Any, account: str) -> None:
    """Every request of this boto3 client lands in `account` (moto's per-request account header)."""

    def select(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign.*.*", select)


def _clients(endpoint: str) -> Any:
    """boto3 clients of the embedded AWS at `endpoint`, one per (account, service, region)."""
    import boto3

    session = boto3.session.Session(aws_access_key_id=LOCAL_ACCESS_KEY, aws_secret_access_key=LOCAL_SECRET_KEY)
    made: dict[tuple[str, str, str], Any] = {}
    lock = threading.Lock()

    def client(account: str, service: str, region: str) -> Any:
        with lock:
            if (account, service, region) not in made:
                made[(account, service, region)] = session.client(service, region_name=region, endpoint_url=endpoint)
                bind_account(made[(account, service, region)], account)
            return made[(account, service, region)]

    return client


EDGE_PATH = "/_shipyard/edge"
PROBE_PATH = "/_shipyard/"  # answers only on shipyard's embedded AWS


def answers_as_embedded(endpoint: str) -> bool:
    """Whether `endpoint` (a loopback URL; nothing else is asked) is shipyard's embedded AWS."""
    import urllib.error
    import urllib.parse
    import urllib.request

    if urllib.parse.urlparse(endpoint).hostname not in ("127.0.0.1", "localhost", "::1"):
        return False
    try:
        with urllib.request.urlopen(endpoint.rstrip("/") + PROBE_PATH, timeout=3) as response:
            return response.status == 200 and b"shipyard" in response.read()
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _local_edge(endpoint: str) -> Any:
    """Asks the server at `endpoint` for a distribution's local edge, which lives (and stays) in the server's process."""

    def url(account: str, distribution_id: str) -> str:
        import json
        import urllib.parse
        import urllib.request

        query = urllib.parse.urlencode({"account": account, "distribution": distribution_id})
        with urllib.request.urlopen(f"{endpoint}{EDGE_PATH}?{query}", timeout=30) as response:
            return json.load(response)["url"]

    return url


class Controls:
    """What the core reaches the embedded AWS at `endpoint` through, beside its AWS APIs (shipyard.aws.Emulator)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.session_plugin = (sys.executable, "-m", "shipyard.localaws.ecs.session_plugin")
        self.local_edge = _local_edge(endpoint)

    bind_account = staticmethod(bind_account)
    unsupported_types = staticmethod(unsupported_types)

    def register_scan(self, *, account: str, region: str, repository: str, digest: str, counts: dict[str, int]) -> None:
        register_scan(self.endpoint, account=account, region=region, repository=repository, digest=digest, counts=counts)

    @staticmethod
    def lasts(aws_seconds: float) -> float:
        return pace.local(aws_seconds)

    @staticmethod
    def bake_lasts(aws_seconds: float) -> float:
        return pace.local_bake(aws_seconds)


def client_options(endpoint: str) -> dict[str, Any]:
    """What the core's Target needs to talk to an embedded AWS at `endpoint`."""
    return {"endpoint": endpoint, "credentials": (LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY), "emulator": Controls(endpoint)}


DEFAULT_PORT = 4566


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def first_free_port(start: int = DEFAULT_PORT) -> int:
    """`start` or the next port after it that nothing listens on."""
    port = start
    while not port_free(port):
        port += 1
    return port


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _list_moto_modules_once() -> None:
    """moto's dispatcher lists moto's package directory on every request to find the backend a host names (a tenth of
    the server's time under the tests' load); the directory does not change while the server runs."""
    from moto import backends

    if not isinstance(backends.list_of_moto_modules, functools.partial):
        backends.list_of_moto_modules = functools.partial(tuple, tuple(backends.list_of_moto_modules()))


def _server_class() -> type:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class Server(ThreadedMotoServer):
        """moto's threaded server, plus one route of shipyard's: the local edge of a distribution."""

        def _server_entry(self) -> None:
            import json
            import urllib.parse

            from shipyard.localaws.cloudfront import local_edge
            from shipyard.localaws.ecs import task_runtime

            task_runtime.endpoint = f"http://127.0.0.1:{self._port}"
            _list_moto_modules_once()
            moto_app = DomainDispatcherApplication(create_backend_app)
            clients = _clients(f"http://127.0.0.1:{self._port}")
            own_api.use(clients)

            def app(environ: dict[str, Any], start_response: Any) -> Any:
                if environ.get("PATH_INFO") == PROBE_PATH:
                    start_response("200 OK", [("Content-Type", "application/json")])
                    return [b'{"embedded": "shipyard"}']
                if environ.get("PATH_INFO", "").startswith(task_runtime.CREDENTIALS_PATH):
                    found = task_runtime.credentials(environ["PATH_INFO"][len(task_runtime.CREDENTIALS_PATH):])
                    start_response("200 OK" if found else "404 Not Found", [("Content-Type", "application/json")])
                    return [json.dumps(found or {"message": "no running task with a task role by that id"}).encode()]
                if environ.get("PATH_INFO") != EDGE_PATH:
                    try:
                        return moto_app(environ, start_response)
                    except NotImplementedError as exc:
                        status, headers, body = unimplemented.answer(environ, exc)
                        start_response(status, headers)
                        return [body]
                query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
                url = local_edge.url(query["account"][0], query["distribution"][0], clients)
                start_response("200 OK", [("Content-Type", "application/json")])
                return [json.dumps({"url": url}).encode()]

            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server


_running: EmbeddedAws | None = None  # the process's one embedded AWS while it runs


class EmbeddedAws:
    """moto's threaded server on 127.0.0.1, starting empty; `with EmbeddedAws() as aws: aws.endpoint`."""

    def __init__(self, port: int | None = None) -> None:
        if port is not None and not 1 <= port <= 65535:
            raise UsageError("--port", f"{port} is not a TCP port; use 1 to 65535")
        if port is not None and not port_free(port):
            raise UsageError("--port", f"127.0.0.1:{port} is already in use",
                             "pick another port with --port, or stop what is listening there")
        self.port = port if port is not None else _free_port()
        self._server: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedAws:
        global _running
        # moto keeps its state in process-wide backends: a new embedded AWS starts empty, so one process runs one
        # embedded AWS at a time. A second one would wipe the first one's accounts under it: refused instead.
        if _running is not None:
            raise ShipyardError("embedded AWS", f"another embedded AWS already runs in this process ({_running.endpoint}); "
                                "its state is process-wide", "use that one, or start the second in a process of its own")
        register_handlers()
        from moto.moto_api import _internal

        _internal.models.moto_api_backend.reset()
        registry.reset()
        # One access-log line per AWS call would drown shipyard's own output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

        self._server = _server_class()(ip_address="127.0.0.1", port=self.port, verbose=False)
        try:
            self._server.start()
        except OSError as exc:
            raise ShipyardError("embedded AWS", f"cannot listen on 127.0.0.1:{self.port}: {exc}") from exc
        _running = self
        return self

    def stop(self) -> None:
        """Every task process, local edge and database server stops with the server: nothing outlives it."""
        global _running
        registry.reset()
        if self._server is not None:
            self._server.stop()
            self._server = None
        unimplemented.reset()
        drift.reset()
        if _running is self:
            _running = None

    def __enter__(self) -> EmbeddedAws:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_stack_status(self, account: str, region: str, name: str, status: str) -> None:
        """Drill control: make a stack report `status` (e.g. UPDATE_IN_PROGRESS), as if CloudFormation were working on it."""
        from moto.cloudformation.models import cloudformation_backends

        stack = next(s for s in cloudformation_backends[account][region].stacks.values() if s.name == name)
        stack.status = status

    def set_certificate_expiry(self, arn: str, days: float) -> None:
        """Drill control: make an ACM certificate expire `days` from now, as an old certificate near its renewal would."""
        import datetime

        from shipyard.localaws.acm.handlers import set_expiry

        set_expiry("", arn, datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days))

    def run_scheduled_action(self, account: str, region: str, name_suffix: str) -> None:
        """Drill control: the time of a scheduled scaling action came (the embedded AWS does not wait for the clock):
        Application Auto Scaling applies its bounds to the scalable target, as AWS does at the cron time."""
        from moto.applicationautoscaling.models import applicationautoscaling_backends

        backend = applicationautoscaling_backends[account][region]
        action = next(a for a in backend.scheduled_actions if a.scheduled_action_name.endswith(name_suffix))
        bounds = action.scalable_target_action
        backend.register_scalable_target(namespace=action.service_namespace, r_id=action.resource_id,
                                         dimension=action.scalable_dimension, min_capacity=bounds.get("minCapacity"),
                                         max_capacity=bounds.get("maxCapacity"), role_arn=None, suspended_state=None)

    def environment(self) -> dict[str, str]:
        """Variables that point the AWS CLI and boto3 at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
