"""ECS Service Connect on the embedded AWS: the proxy that stands in for the Envoy sidecar in each task of a service
with Service Connect on (ECS developer guide, "Amazon ECS Service Connect").

On AWS a client task resolves a backend's name (its client alias, e.g. http://catalog:8001) to its own Service Connect
proxy, which picks a healthy task of that backend in the namespace and connects to it over the VPC, where the
security groups decide. Here the tasks are processes on one machine, where no such name resolves: a task of a service
with Service Connect on gets HTTP_PROXY pointing at this proxy (its task id the proxy user), and the HTTP
clients Python teams use (urllib, requests, httpx) send it requests for http://catalog:8001/... by themselves. The
proxy then does what Service Connect and the VPC do:

- the name must be a client alias of a service in the caller's namespace, or the answer is Envoy's 503;
- an upstream is a RUNNING task of that service whose container health check (if it has one) says HEALTHY;
- the backend's security groups must admit one of the caller's on the port, and the caller's must let it out:
  otherwise the connection times out on AWS, and Envoy answers 503 "upstream connect error ... connection timeout".

Clients that ignore HTTP_PROXY (raw sockets) do not reach backends here; docs/copilot.md says so.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shipyard.localaws.ecs import task_runtime

_lock = threading.Lock()
_server: ThreadingHTTPServer | None = None
_turns = itertools.count()
HOP_BY_HOP = {"proxy-authorization", "proxy-connection", "connection", "keep-alive", "transfer-encoding", "te", "upgrade"}


def _ecs(account: str, region: str) -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[account][region]


def configuration(service: Any) -> dict[str, Any]:
    """A moto ECS service's Service Connect configuration as its template set it ({} when off)."""
    found = getattr(service, "service_connect_configuration", None) or {}
    return found if str(found.get("Enabled", "false")).lower() == "true" else {}


def variables(task: task_runtime.Task) -> dict[str, str]:
    """What a task of a service with Service Connect on gets to reach its backends through the proxy; none otherwise."""
    if not task.group.startswith("service:"):
        return {}
    service = _ecs(task.account, task.region).services.get(f"{task.cluster}:{task.group.split(':', 1)[1]}")
    if service is None or not configuration(service):
        return {}
    proxy = f"http://{task.id}:task@127.0.0.1:{_port()}"  # urllib sends proxy credentials only with a password
    local = "127.0.0.1,localhost,::1"
    return {"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": local, "no_proxy": local}


def _port() -> int:
    global _server
    with _lock:
        if _server is None:
            _server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
            _server.daemon_threads = True
            threading.Thread(target=_server.serve_forever, daemon=True, name="service-connect").start()
        return _server.server_address[1]


def reset() -> None:
    global _server
    with _lock:
        if _server is not None:
            _server.shutdown()
            _server.server_close()
        _server = None


def _groups(service: Any) -> set[str]:
    network = (getattr(service, "network_configuration", None) or {}).get("awsvpcConfiguration") or {}
    return set(network.get("securityGroups") or [])


def _admitted(account: str, region: str, caller: set[str], backend: set[str], port: int) -> bool:
    """Whether the backend's groups admit one of the caller's on `port`, and the caller's let it out there."""
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[account][region]
    groups = {g.id: g for g in ec2.describe_security_groups(group_ids=list(caller | backend))}

    def covers(rule: Any) -> bool:
        return rule.ip_protocol == "-1" or (rule.ip_protocol in ("tcp", "6") and rule.from_port <= port <= rule.to_port)

    inbound = any(covers(rule) and (rule.source_group or {}).get("GroupId") in caller
                  for group in backend if group in groups for rule in groups[group].ingress_rules)
    outbound = any(covers(rule) and ((rule.source_group or {}).get("GroupId") in backend or (rule.ip_range or {}).get("CidrIp") == "0.0.0.0/0")
                   for group in caller if group in groups for rule in groups[group].egress_rules)
    return inbound and outbound


def resolve(caller: task_runtime.Task, host: str, port: int) -> tuple[task_runtime.Task | None, str]:
    """The upstream task for http://host:port from `caller`, or None and Envoy's answer."""
    ecs = _ecs(caller.account, caller.region)
    own = ecs.services.get(f"{caller.cluster}:{caller.group.split(':', 1)[1]}")
    namespace = configuration(own).get("Namespace") if own is not None else None
    if not namespace:
        return None, "no Service Connect on the calling service"
    for service in list(ecs.services.values()):
        config = configuration(service)
        if service.cluster_name != caller.cluster or config.get("Namespace") != namespace:
            continue
        for entry in config.get("Services") or []:
            if any(alias.get("DnsName") == host and int(alias.get("Port", 0)) == port for alias in entry.get("ClientAliases") or []):
                if not _admitted(caller.account, caller.region, _groups(own), _groups(service), port):
                    return None, "upstream connect error or disconnect/reset before headers. reset reason: connection timeout"
                ready = [t for t in task_runtime.tasks(caller.account, caller.region, caller.cluster)
                         if t.group == f"service:{service.name}" and t.last_status == "RUNNING" and t.desired_status == "RUNNING"
                         and t.healthy]
                if not ready:
                    return None, "no healthy upstream"
                return ready[next(_turns) % len(ready)], ""
    return None, "no healthy upstream"  # Envoy's answer for a name no service in the namespace serves


class _Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _relay(self) -> None:
        caller = self._caller()
        target = urllib.parse.urlsplit(self.path)
        if caller is None or not target.hostname:
            return self._answer(407 if caller is None else 400, "not a Service Connect request")
        upstream, problem = resolve(caller, target.hostname, target.port or 80)
        if upstream is None:
            return self._answer(503, problem)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        connection = http.client.HTTPConnection("127.0.0.1", upstream.host_port, timeout=30)
        try:
            connection.request(self.command, urllib.parse.urlunsplit(("", "", target.path or "/", target.query, "")), body, headers)
            response = connection.getresponse()
            data = response.read()
        except OSError:
            return self._answer(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure")
        finally:
            connection.close()
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _relay

    def _caller(self) -> task_runtime.Task | None:
        credentials = self.headers.get("Proxy-Authorization", "")
        if not credentials.lower().startswith("basic "):
            return None
        user = base64.b64decode(credentials.split(" ", 1)[1]).decode(errors="replace").split(":", 1)[0]
        return task_runtime.find(user)

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("server", "envoy")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
