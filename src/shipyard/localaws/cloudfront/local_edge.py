"""A local edge per CloudFront distribution of the embedded AWS: an HTTP endpoint on 127.0.0.1 that applies the
distribution's own configuration, read through the emulated CloudFront, S3, ELB and WAF APIs.

- Behaviours: the most specific path pattern wins, as CloudFront matches them; the default goes to the S3
  origin, where the object is read only if the bucket policy allows cloudfront.amazonaws.com with this
  distribution's AWS:SourceArn (Origin Access Control), as S3 would decide; the default root object serves `/`.
- A VPC origin forwards to its load balancer: to the listener on the port its protocol policy names (HTTPPort for
  http-only, HTTPSPort for https-only), then the listener's rules in priority order, a weighted forward to a target
  group, then round robin over the targets whose health checks pass (503 when there are none). Over HTTPS the
  listener must be HTTPS, its SSL policy must offer one of the origin's SSL protocols, and its certificate must be
  issued and name the origin's domain name, which CloudFront checks and sends in SNI; otherwise CloudFront cannot
  connect and answers 502 (CloudFront developer guide, "HTTP 502 status code (Bad Gateway)"). Plain HTTP to an
  HTTPS listener gets the load balancer's 400.
- A web ACL's rate-based rule counts requests per client address over its evaluation window and blocks (403)
  above the limit. AWS's managed rule groups are AWS's own rules and are not evaluated here.
- CloudFront speaks HTTPS to viewers; the local edge speaks HTTP and says so instead of pretending:
  `X-Shipyard-Viewer-Protocol` carries the behaviour's viewer protocol policy.
- It answers for the distribution's own domain and its aliases (the Host header; a wildcard alias for one label
  more), and like CloudFront refuses other names (403); the behaviour's response-headers policy (HSTS, CSP, ...) is applied to every answer.
- A behaviour's viewer-request CloudFront Function runs on the function's own code (edge_functions.py): it may
  rewrite the URI (single-page-app routes) or answer itself (the www redirect); the behaviour stays the one the
  viewer's path chose, as on CloudFront.
"""

from __future__ import annotations

import http.client
import http.server
import itertools
import json
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from shipyard.localaws.cloudfront import edge_functions

_FORWARDED_OUT = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


class _Edge:
    def __init__(self, account: str, distribution_id: str, clients: Callable[[str, str, str], Any]) -> None:
        self.account, self.distribution_id, self._client = account, distribution_id, clients
        self._config: tuple[float, dict[str, Any]] | None = None
        self._function_code: dict[str, str] = {}
        self._round_robin = itertools.count()
        self._requests: dict[str, deque[float]] = defaultdict(deque)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True, name=f"edge-{distribution_id}").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def client(self, service: str, region: str) -> Any:
        return self._client(self.account, service, region)

    def config(self) -> dict[str, Any]:
        """The distribution's configuration, read at most once a second."""
        now = time.monotonic()
        if self._config is None or now - self._config[0] > 1.0:
            found = self.client("cloudfront", "us-east-1").get_distribution_config(Id=self.distribution_id)
            self._config = (now, found["DistributionConfig"])
            self._function_code.clear()  # an updated function keeps its ARN
        return self._config[1]

    def _behavior(self, path: str) -> dict[str, Any]:
        config = self.config()
        behaviors = (config.get("CacheBehaviors") or {}).get("Items") or []
        # CloudFront evaluates cache behaviours in order; the default one catches the rest.
        for behavior in behaviors:
            if _matches(behavior["PathPattern"], path):
                return behavior
        return config["DefaultCacheBehavior"]

    def _viewer_request_code(self, behavior: dict[str, Any]) -> str | None:
        for association in (behavior.get("FunctionAssociations") or {}).get("Items") or []:
            if association.get("EventType") == "viewer-request":
                arn = association["FunctionARN"]
                if arn not in self._function_code:
                    found = self.client("cloudfront", "us-east-1").get_function(Name=arn.rsplit("/", 1)[-1], Stage="LIVE")
                    self._function_code[arn] = found["FunctionCode"].read().decode()
                return self._function_code[arn]
        return None

    def _domain(self) -> str:
        return self.client("cloudfront", "us-east-1").get_distribution(Id=self.distribution_id)["Distribution"]["DomainName"]

    def _origin(self, origin_id: str) -> dict[str, Any]:
        return next(o for o in self.config()["Origins"]["Items"] if o["Id"] == origin_id)

    def _rate_limited(self, client_ip: str) -> bool:
        acl = self.config().get("WebACLId") or ""
        if not acl:
            return False
        name, acl_id = acl.split("/")[-2:]
        rules = self.client("wafv2", "us-east-1").get_web_acl(Name=name, Scope="CLOUDFRONT", Id=acl_id)["WebACL"]["Rules"]
        for rule in rules:
            statement = (rule.get("Statement") or {}).get("RateBasedStatement")
            if statement and "Block" in (rule.get("Action") or {}):
                window = float(statement.get("EvaluationWindowSec", 300))
                seen = self._requests[client_ip]
                now = time.monotonic()
                while seen and now - seen[0] > window:
                    seen.popleft()
                seen.append(now)
                if len(seen) > int(statement["Limit"]):
                    return True
        return False

    def _s3(self, origin: dict[str, Any], path: str) -> tuple[int, dict[str, str], bytes]:
        bucket = origin["DomainName"].split(".s3.", 1)[0]
        region = origin["DomainName"].split(".s3.", 1)[1].split(".amazonaws.com")[0] if ".s3." in origin["DomainName"] else "us-east-1"
        s3 = self.client("s3", region)
        if not self._oac_allowed(s3, bucket, origin):
            return 403, {"Content-Type": "application/xml"}, b"<Error><Code>AccessDenied</Code></Error>"
        key = path.split("?", 1)[0].lstrip("/") or self.config().get("DefaultRootObject") or ""
        try:
            found = s3.get_object(Bucket=bucket, Key=key)
        except Exception:
            return self._error_page(s3, bucket, 403)
        headers = {"Content-Type": found.get("ContentType", "application/octet-stream")}
        if found.get("CacheControl"):
            headers["Cache-Control"] = found["CacheControl"]
        headers["ETag"] = found.get("ETag", "")
        return 200, headers, found["Body"].read()

    def _error_page(self, s3: Any, bucket: str, status: int) -> tuple[int, dict[str, str], bytes]:
        """CloudFront's custom error responses (the SPA fallback), else the origin's status."""
        for response in (self.config().get("CustomErrorResponses") or {}).get("Items") or []:
            if int(response["ErrorCode"]) == status and response.get("ResponsePagePath"):
                page = s3.get_object(Bucket=bucket, Key=response["ResponsePagePath"].lstrip("/"))
                return int(response.get("ResponseCode") or 200), {"Content-Type": page.get("ContentType", "text/html")}, page["Body"].read()
        return status, {"Content-Type": "application/xml"}, b"<Error><Code>AccessDenied</Code></Error>"

    def _oac_allowed(self, s3: Any, bucket: str, origin: dict[str, Any]) -> bool:
        """S3's decision for a request CloudFront signs with this origin's access control."""
        if not origin.get("OriginAccessControlId"):
            return False
        try:
            policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except Exception:
            return False
        source = f"arn:aws:cloudfront::{self.account}:distribution/{self.distribution_id}"
        for statement in policy.get("Statement", []):
            actions = statement.get("Action") if isinstance(statement.get("Action"), list) else [statement.get("Action")]
            if (statement.get("Effect") == "Allow" and statement.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
                    and any(a in ("s3:GetObject", "s3:*") for a in actions)
                    and statement.get("Condition", {}).get("StringEquals", {}).get("AWS:SourceArn") == source):
                return True
        return False

    def _load_balancer(self, origin: dict[str, Any], handler: http.server.BaseHTTPRequestHandler, path: str,
                       body: bytes, forwarded: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        from shipyard.localaws.cloudfront.extension import extension_backend

        vpc_origin = extension_backend.get(self.account, origin["VpcOriginConfig"]["VpcOriginId"])
        arn = vpc_origin.config["Arn"]
        region = arn.split(":")[3]
        elbv2 = self.client("elbv2", region)
        listener, refused = _origin_listener(elbv2, self.client("acm", region), vpc_origin.config, origin["DomainName"],
                                             elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"])
        if refused is not None:
            return refused
        rules = sorted(elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"],
                       key=lambda r: (r["IsDefault"], int(r["Priority"]) if r["Priority"].isdigit() else 0))
        for rule in rules:
            if rule["IsDefault"] or _rule_matches(rule.get("Conditions", []), path.split("?", 1)[0], forwarded):
                return self._act(elbv2, rule["Actions"][0], handler, path, body, forwarded)
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _act(self, elbv2: Any, action: dict[str, Any], handler: http.server.BaseHTTPRequestHandler, path: str,
             body: bytes, forwarded: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if action["Type"] == "fixed-response":
            fixed = action["FixedResponseConfig"]
            return int(fixed["StatusCode"]), {"Content-Type": fixed.get("ContentType", "text/plain")}, fixed.get("MessageBody", "").encode()
        groups = action.get("ForwardConfig", {}).get("TargetGroups") or [{"TargetGroupArn": action["TargetGroupArn"], "Weight": 1}]
        weighted = [g for g in groups if int(g.get("Weight", 1)) > 0]
        if not weighted:
            return 503, {"Content-Type": "text/plain"}, b"no target group takes traffic"
        group = random.choices(weighted, weights=[int(g.get("Weight", 1)) for g in weighted])[0]["TargetGroupArn"]
        health = elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
        ports = [int(h["Target"]["Port"]) for h in health if h["TargetHealth"]["State"] == "healthy"]
        if not ports:
            return 503, {"Content-Type": "text/plain"}, b"503 Service Temporarily Unavailable: no healthy targets"
        port = ports[next(self._round_robin) % len(ports)]
        headers = {k: v for k, v in forwarded.items() if k.lower() not in _FORWARDED_OUT and k.lower() != "host"}
        headers["X-Forwarded-For"] = handler.client_address[0]
        headers["X-Forwarded-Proto"] = "https"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(handler.command, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, {k: v for k, v in response.getheaders() if k.lower() not in _FORWARDED_OUT}, response.read()
        except OSError:
            return 502, {"Content-Type": "text/plain"}, b"502 Bad Gateway: the target closed the connection"
        finally:
            connection.close()

    def _answers_for(self, host: str) -> bool:
        """CloudFront answers for its own domain and the distribution's aliases; here also for the loopback address."""
        name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host
        if name in ("127.0.0.1", "localhost", ""):
            return True
        aliases = (self.config().get("Aliases") or {}).get("Items") or []
        # A wildcard alias (*.pv.example.com) answers for one label more here: the certificate's wildcard covers no
        # more than that, so deeper names would fail TLS on CloudFront.
        return name == self._domain().lower() or any(_certifies(alias, name) for alias in aliases)

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        edge = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                policy = None
                try:
                    if not edge._answers_for(self.headers.get("Host", "")):
                        status, headers, payload = 403, {"Content-Type": "text/plain"}, b"403: the distribution has no alias for this host"
                        served = "edge"
                    elif edge._rate_limited(self.client_address[0]):
                        status, headers, payload = 403, {"Content-Type": "text/plain"}, b"403 Forbidden: blocked by the web ACL's rate limit"
                        served = "waf"
                    else:
                        behavior = edge._behavior(self.path.split("?", 1)[0])
                        policy = behavior.get("ResponseHeadersPolicyId")
                        path, generated, forwarded = self.path, None, dict(self.headers.items())
                        code = edge._viewer_request_code(behavior)
                        if code is not None:
                            try:
                                path, generated, forwarded = edge_functions.viewer_request(
                                    code, method=self.command, path=self.path, headers=dict(self.headers.items()),
                                    client_ip=self.client_address[0], distribution_id=edge.distribution_id, domain=edge._domain())
                            except edge_functions.FunctionFailed as failed:
                                generated = {"statusCode": 503, "headers": {"content-type": {"value": "text/plain"}},
                                             "body": f"503: the CloudFront Function failed (FunctionExecutionError): {failed}"}
                        origin = edge._origin(behavior["TargetOriginId"])
                        if generated is not None:
                            status, headers, payload = edge_functions.response_parts(generated)
                            served = "function"
                        elif origin.get("VpcOriginConfig"):
                            status, headers, payload = edge._load_balancer(origin, self, path, body, forwarded)
                            served = "load balancer"
                        else:
                            status, headers, payload = edge._s3(origin, path)
                            served = "s3"
                        headers["X-Shipyard-Viewer-Protocol"] = (f"{behavior.get('ViewerProtocolPolicy')} (the local edge "
                                                                 "serves HTTP; CloudFront serves viewers HTTPS)")
                except Exception as exc:  # the edge says what broke instead of hanging up
                    status, headers, payload, served = 502, {"Content-Type": "text/plain"}, f"502: {exc!r}".encode(), "edge"
                headers.update(_policy_headers(edge.account, policy))
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Via", "1.1 shipyard-local-edge (CloudFront)")
                self.send_header("X-Shipyard-Served-By", served)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _origin_listener(elbv2: Any, acm: Any, endpoint: dict[str, Any], origin_domain: str,
                     listeners: list[dict[str, Any]]) -> tuple[dict[str, Any], None] | tuple[None, tuple[int, dict[str, str], bytes]]:
    """The listener CloudFront's connection reaches, or the answer the viewer gets when it cannot."""
    policy = endpoint.get("OriginProtocolPolicy", "http-only")
    tls = policy != "http-only"  # https-only; match-viewer follows the viewer, who reaches CloudFront over HTTPS
    port = int(endpoint.get("HTTPSPort", 443) if tls else endpoint.get("HTTPPort", 80))
    listener = next((found for found in listeners if int(found["Port"]) == port), None)

    def bad_gateway(why: str) -> tuple[None, tuple[int, dict[str, str], bytes]]:
        return None, (502, {"Content-Type": "text/plain"}, f"502 Bad Gateway: CloudFront could not connect to the origin: {why}".encode())

    if listener is None:
        return bad_gateway(f"the load balancer has no listener on port {port} ({policy})")
    if not tls:
        if listener["Protocol"] == "HTTPS":
            return None, (400, {"Content-Type": "text/html"}, b"400 Bad Request: The plain HTTP request was sent to HTTPS port")
        return listener, None
    if listener["Protocol"] != "HTTPS":
        return bad_gateway(f"the listener on port {port} speaks {listener['Protocol']}, not TLS")
    offered = set(elbv2.describe_ssl_policies(Names=[listener["SslPolicy"]])["SslPolicies"][0]["SslProtocols"]) if listener.get("SslPolicy") else set()
    wanted = set(endpoint.get("OriginSSLProtocols") or ["TLSv1", "TLSv1.1", "TLSv1.2"])
    if not offered & wanted:
        return bad_gateway(f"no common TLS protocol (origin: {sorted(wanted)}, listener's {listener.get('SslPolicy')}: {sorted(offered)})")
    arns = [c["CertificateArn"] for c in listener.get("Certificates") or []]
    for arn in arns:
        certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        names = {certificate["DomainName"], *certificate.get("SubjectAlternativeNames", [])}
        if certificate["Status"] == "ISSUED" and any(_certifies(name, origin_domain) for name in names):
            return listener, None
    return bad_gateway(f"no issued certificate on the listener names {origin_domain} (certificates: {', '.join(arns) or 'none'})")


def _certifies(name: str, host: str) -> bool:
    """A certificate name covers the host: equal, or a wildcard for exactly one leftmost label."""
    name, host = name.lower().rstrip("."), host.lower().rstrip(".")
    if name.startswith("*."):
        return "." in host and host.split(".", 1)[1] == name[2:]
    return name == host


def _policy_headers(account: str, policy_id: str | None) -> dict[str, str]:
    """The response-headers policy's security headers, as CloudFront adds them to every response."""
    from shipyard.localaws.cloudfront.extension import extension_backend

    policy = extension_backend.get(account, policy_id) if policy_id else None
    if policy is None:
        return {}
    security = policy.config.get("SecurityHeadersConfig") or {}
    headers = {}
    if "StrictTransportSecurity" in security:
        hsts = security["StrictTransportSecurity"]
        value = f"max-age={hsts['AccessControlMaxAgeSec']}"
        value += "; includeSubDomains" if hsts.get("IncludeSubdomains") else ""
        value += "; preload" if hsts.get("Preload") else ""
        headers["Strict-Transport-Security"] = value
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in security:
        headers["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
    if "ReferrerPolicy" in security:
        headers["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
    if "ContentSecurityPolicy" in security:
        headers["Content-Security-Policy"] = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    return headers


def _rule_matches(conditions: list[dict[str, Any]], path: str, headers: dict[str, str]) -> bool:
    """A listener rule's conditions all hold (ELB user guide, "Listener rules": a rule applies when every condition is
    met; within one condition any value). Path patterns are case-sensitive; a header's name is not, and its values
    match case-insensitively with * and ? ("HTTP header conditions")."""
    lowered = {name.lower(): value for name, value in headers.items()}
    for condition in conditions:
        field = condition.get("Field")
        if field == "path-pattern":
            patterns = (condition.get("PathPatternConfig") or {}).get("Values") or condition.get("Values") or []
            if not any(_matches(p, path) for p in patterns):
                return False
        elif field == "http-header":
            config = condition.get("HttpHeaderConfig") or {}
            value = lowered.get(str(config.get("HttpHeaderName", "")).lower())
            if value is None or not any(_matches(v.lower(), value.lower()) for v in config.get("Values") or []):
                return False
        else:  # a condition the local edge does not evaluate must not be taken as met
            return False
    return True


def _matches(pattern: str, path: str) -> bool:
    """CloudFront's and ELB's path patterns: * matches any characters (slashes too), ? one; case-sensitive."""
    import re

    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, path) is not None


_edges: dict[tuple[str, str], _Edge] = {}
_lock = threading.Lock()


def url(account: str, distribution_id: str, clients: Callable[[str, str, str], Any]) -> str:
    """The local URL of this distribution, started on first use."""
    with _lock:
        key = (account, distribution_id)
        if key not in _edges:
            _edges[key] = _Edge(account, distribution_id, clients)
        return _edges[key].url


def reset() -> None:
    with _lock:
        for edge in _edges.values():
            edge.close()
        _edges.clear()
    edge_functions.reset()
