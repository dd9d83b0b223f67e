"""The shop's API: takes an order, queues it for the orders worker, and answers what became of it.

  GET  /healthz            the process answers (the load balancer's and the release's health check)
  POST /api/orders         {"items": [{"sku": ..., "cents": ..., "quantity": ...}]} -> 202 {"id": ...}: stored as
                           queued, and its id sent to the orders worker's queue
  GET  /api/orders/<id>    the order: queued, or done with its total and the task that worked it
  GET  /api/catalog        what the catalog backend answers, called by its Service Connect name
  GET  /api/info           the environment and image this task runs

Configuration is the environment shipyard's task definition sets: PORT, SHIPYARD_QUEUE_ORDERS_URL (the queue this
service may send to), SHIPYARD_SERVICE_CATALOG_URL (the backend it calls), the database as libpq's PG* variables, SHIPYARD_ENVIRONMENT and SHIPYARD_IMAGE. AWS
credentials are the task role's, which the SDK finds on its own.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import psycopg
from psycopg.types.json import Jsonb

ORDER_PATH = re.compile(r"^/api/orders/([0-9a-f-]{36})$")
_sqs = None


def queue():
    global _sqs
    if _sqs is None:
        _sqs = boto3.client("sqs")
    return _sqs


def order_total(items: object) -> str | None:
    """Why the items are not an order, or None."""
    if not isinstance(items, list) or not items:
        return "items: a non-empty list of {sku, cents, quantity}"
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("cents"), int) or not isinstance(item.get("quantity"), int):
            return "each item needs integer cents and quantity"
    return None


PATH_PREFIX = os.environ.get("SHIPYARD_PATH_PREFIX", "")  # where a preview environment is reached

class Handler(BaseHTTPRequestHandler):
    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.path = self.path.removeprefix(PATH_PREFIX)  # a preview's (docs/previews.md)
        if self.path == "/healthz":
            return self._answer(200, {"status": "ok"})
        if self.path == "/api/catalog":
            with urllib.request.urlopen(os.environ["SHIPYARD_SERVICE_CATALOG_URL"] + "/items", timeout=5) as response:
                return self._answer(200, json.load(response))
        if self.path == "/api/info":
            return self._answer(200, {"service": "api", "environment": os.environ.get("SHIPYARD_ENVIRONMENT", "local"),
                                      "image": os.environ.get("SHIPYARD_IMAGE", "")})
        match = ORDER_PATH.match(self.path)
        if not match:
            return self._answer(404, {"error": "not found"})
        with psycopg.connect("") as db:
            row = db.execute("SELECT status, total_cents, worked_by FROM orders WHERE id = %s", (match[1],)).fetchone()
        if row is None:
            return self._answer(404, {"error": "no such order"})
        return self._answer(200, {"id": match[1], "status": row[0], "total_cents": row[1], "worked_by": row[2]})

    def do_POST(self) -> None:  # noqa: N802
        self.path = self.path.removeprefix(PATH_PREFIX)
        if self.path != "/api/orders":
            return self._answer(404, {"error": "not found"})
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        except ValueError:
            return self._answer(400, {"error": "the body is not JSON"})
        problem = order_total(body.get("items") if isinstance(body, dict) else None)
        if problem:
            return self._answer(400, {"error": problem})
        order = str(uuid.uuid4())
        with psycopg.connect("") as db:
            db.execute("INSERT INTO orders (id, items) VALUES (%s, %s)", (order, Jsonb(body["items"])))
        queue().send_message(QueueUrl=os.environ["SHIPYARD_QUEUE_ORDERS_URL"], MessageBody=json.dumps({"order": order}))
        return self._answer(202, {"id": order, "status": "queued"})

    def log_message(self, format: str, *args: object) -> None:
        print(json.dumps({"request": self.requestline, "status": args[1] if len(args) > 1 else None}), flush=True)


def main() -> int:
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(json.dumps({"event": "listening", "port": server.server_port}), flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
