"""The shop's admin service: its own paths (/admin/*) on the same address as the API, from its own target group.

  GET /admin/healthz   the process answers (its health check, through the edge)
  GET /admin/          which service and image answered
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


PATH_PREFIX = os.environ.get("SHIPYARD_PATH_PREFIX", "")  # where a preview environment is reached

class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.path = self.path.removeprefix(PATH_PREFIX)  # a preview's (docs/previews.md)
        if self.path == "/admin/healthz":
            status, body = 200, {"status": "ok"}
        elif self.path.startswith("/admin/"):
            status, body = 200, {"service": "admin", "environment": os.environ.get("SHIPYARD_ENVIRONMENT", "local"),
                                 "image": os.environ.get("SHIPYARD_IMAGE", "")}
        else:
            status, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> int:
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
