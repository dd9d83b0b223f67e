"""The shop's catalog: a backend service. Nothing routes to it from the edge; the API reaches it by its Service Connect
name, http://catalog:8001, and its security group admits only the services that declare they call it.

  GET /healthz   the process answers (its container health check)
  GET /items     what the shop sells, with prices in cents
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ITEMS = [{"sku": "tea", "cents": 250}, {"sku": "scone", "cents": 325}, {"sku": "jam", "cents": 480}]


PATH_PREFIX = os.environ.get("SHIPYARD_PATH_PREFIX", "")  # where a preview environment is reached

class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.path = self.path.removeprefix(PATH_PREFIX)  # a preview's (docs/previews.md)
        if self.path == "/healthz":
            status, body = 200, {"status": "ok"}
        elif self.path == "/items":
            status, body = 200, {"service": "catalog", "items": ITEMS}
        else:
            status, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8001"))), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
