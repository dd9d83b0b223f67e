"""The sample web service: health, readiness, /api/info and /api/items, JSON request logs, graceful shutdown.

Configuration comes from environment variables only:
  PORT                 listen port (default 8000)
  APP_VERSION          version string shown by /api/info
  APP_ENVIRONMENT      environment name (default: SHIPYARD_ENVIRONMENT, which shipyard's task definition sets)
  IMAGE_DIGEST         digest of the running image (default: the digest of SHIPYARD_IMAGE, the released image)
  SHUTDOWN_GRACE       seconds in-flight requests get after SIGTERM (default 20, below the task's stop timeout)
  PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE
                       the database, as libpq reads them (shipyard's task definition sets them from the
                       database's secret and settings); /api/items answers 503 without them
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

log = logging.getLogger("webapp")


class _State:
    draining = False


state = _State()


async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process answers. No dependencies, so a slow database never restarts healthy tasks."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: false while draining after SIGTERM, so the load balancer stops sending new requests."""
    if state.draining:
        return JSONResponse({"status": "draining"}, status_code=503)
    return JSONResponse({"status": "ready"})


async def info(request: Request) -> JSONResponse:
    released = os.environ.get("SHIPYARD_IMAGE", "")
    return JSONResponse({
        "version": os.environ.get("APP_VERSION", "dev"),
        "environment": os.environ.get("APP_ENVIRONMENT") or os.environ.get("SHIPYARD_ENVIRONMENT", "local"),
        "image_digest": os.environ.get("IMAGE_DIGEST") or (released.split("@", 1)[1] if "@" in released else "unknown"),
    })


def _database():
    import psycopg

    return psycopg.connect("", connect_timeout=5)


async def items(request: Request) -> JSONResponse:
    """GET: the newest items; POST {"name": ...}: store one and return it (the schema: migrations/)."""
    if not os.environ.get("PGHOST"):
        return JSONResponse({"error": "no database configured"}, status_code=503)
    if request.method == "POST":
        try:
            name = (await request.json())["name"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'send {"name": "..."}'}, status_code=400)
        if not isinstance(name, str) or not 1 <= len(name) <= 200:
            return JSONResponse({"error": "name must be a string of 1 to 200 characters"}, status_code=400)
        row = await run_in_threadpool(_insert, name)
        return JSONResponse({"id": row[0], "name": row[1], "created_at": row[2].isoformat()}, status_code=201)
    rows = await run_in_threadpool(_newest)
    return JSONResponse({"items": [{"id": r[0], "name": r[1], "created_at": r[2].isoformat()} for r in rows]})


def _insert(name: str) -> tuple:
    with _database() as connection:
        return connection.execute("INSERT INTO items (name) VALUES (%s) RETURNING id, name, created_at", (name,)).fetchone()


def _newest() -> list[tuple]:
    with _database() as connection:
        return connection.execute("SELECT id, name, created_at FROM items ORDER BY id DESC LIMIT 50").fetchall()


class RequestLog:
    """ASGI middleware: one JSON line per request with id, method, path, status and latency."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode() or uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(json.dumps({"request_id": request_id, "method": scope["method"], "path": scope["path"],
                                 "status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}))


def create_app(extra_routes: list[Route] | None = None) -> Starlette:
    routes = [Route("/healthz", healthz), Route("/readyz", readyz), Route("/api/info", info),
              Route("/api/items", items, methods=["GET", "POST"]), *(extra_routes or [])]
    # A preview environment reaches the service under its path prefix (/pv/<name>, docs/previews.md).
    prefix = os.environ.get("SHIPYARD_PATH_PREFIX", "")
    application = Starlette(routes=[Mount(prefix, routes=routes)] if prefix else routes)
    application.add_middleware(RequestLog)
    return application


app = create_app()


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(os.environ.get("LOG_LEVEL", "info").upper())
    log.propagate = False


def run(application: Starlette | str = "app:app") -> None:
    """Serve; on SIGTERM stop accepting, mark not ready, and let in-flight requests finish."""
    import uvicorn

    configure_logging()

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            state.draining = True
            super().handle_exit(sig, frame)

    config = uvicorn.Config(application, host="0.0.0.0", port=int(os.environ.get("PORT", "8000")), access_log=False,
                            timeout_graceful_shutdown=int(os.environ.get("SHUTDOWN_GRACE", "20")), log_level="warning",
                            proxy_headers=True, forwarded_allow_ips="*")
    Server(config).run()


if __name__ == "__main__":
    run()
