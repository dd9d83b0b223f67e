from __future__ import annotations

from typing import Any

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding

ORIGIN_PROTOCOLS = frozenset({"TLSv1.2"})  # the newest CloudFront offers origins; SSLv3, TLSv1 and TLSv1.1 are not
LISTENER_PROTOCOLS = frozenset({"TLSv1.2", "TLSv1.3"})


def _origin_problems(config: dict[str, Any]) -> list[str]:
    """Clear text (http-only, or match-viewer's HTTP leg) or protocols below TLS 1.2 to an origin."""
    policy = config.get("OriginProtocolPolicy", "unset")
    protocols = config.get("OriginSSLProtocols")
    problems = [] if policy == "https-only" else [f"OriginProtocolPolicy is {policy}, so the hop to the load balancer is clear text"]
    if policy != "http-only" and (not protocols or not set(protocols) <= ORIGIN_PROTOCOLS):
        problems.append(f"OriginSSLProtocols {protocols or 'unset'} allow less than TLSv1.2")
    return problems


class CloudFrontOriginTls(Rule):
    id = "SY-E111"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "Clear text from CloudFront to the load balancer in production where a domain exists"
    long = ("Where an environment has a domain, CloudFront reaches the internal load balancer over HTTPS only, with "
            "TLSv1.2, to origin.<domain>; the listener is HTTPS with an issued certificate for that name. Statically this "
            "fails a production distribution with aliases whose VPC origin allows HTTP; live it reads the VPC origin and "
            "the load balancer's listeners of every environment with a domain.")
    rationale = ("Requests to the API carry cookies and tokens; with a domain there is a name to certify, so nothing "
                 "justifies clear text on the last hop, even inside the VPC.")

    def check(self, view: StackView):
        if not view.production:
            return
        if not any((props.get("DistributionConfig") or {}).get("Aliases") for _, props in view.resources("AWS::CloudFront::Distribution")):
            return
        for logical_id, props in view.resources("AWS::CloudFront::VpcOrigin"):
            for problem in _origin_problems(props.get("VpcOriginEndpointConfig") or {}):
                yield Violation(logical_id, problem)

    verify_title = "load balancer hop: HTTPS to origin.<domain> where there is a domain"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        cloudfront = live.aws.cloudfront()
        origins = [o for o in live.distribution.origins if o.vpc_origin]
        if not live.env.domain:
            return LiveFinding(True, f"distribution {live.distribution_id}",
                               "no domain: HTTP inside the VPC, on AWS's network (docs/decisions.md §27)")
        problems, seen = [], []
        for origin in origins:
            endpoint = cloudfront.vpc_origin(origin.vpc_origin)
            if endpoint is None:
                problems.append(f"VPC origin {origin.vpc_origin} does not exist")
                continue
            problems += _origin_problems({"OriginProtocolPolicy": endpoint.protocol_policy,
                                          "OriginSSLProtocols": sorted(endpoint.ssl_protocols)})
            problems += _listener_problems(live, endpoint.resource_arn, endpoint.https_port, origin.domain)
            seen.append(f"{origin.domain}:{endpoint.https_port}")
        if not origins:
            problems.append("the distribution has no VPC origin")
        return LiveFinding(not problems, f"distribution {live.distribution_id}",
                           "; ".join(problems) or f"HTTPS only, TLSv1.2, to {', '.join(seen)}: listener certificate issued for the name")


def _listener_problems(live: LiveEnvironment, load_balancer_arn: str, port: int, name: str) -> list[str]:
    elbv2 = live.aws.elbv2(load_balancer_arn.split(":")[3])
    listeners = elbv2.listeners(load_balancer_arn)
    problems = [f"listener on port {listener.port} is {listener.protocol}" for listener in listeners if listener.protocol != "HTTPS"]
    listener = next((found for found in listeners if found.port == port), None)
    if listener is None:
        return [*problems, f"no listener on port {port}, where the VPC origin connects"]
    if listener.protocol == "HTTPS":
        offered = elbv2.ssl_protocols(listener.ssl_policy)
        if not offered <= LISTENER_PROTOCOLS:
            problems.append(f"listener's {listener.ssl_policy} offers {', '.join(sorted(offered - LISTENER_PROTOCOLS))}")
        acm = live.aws.acm(load_balancer_arn.split(":")[3])
        certificates = [acm.certificate(arn) for arn in listener.certificates[:1]]
        wildcard = "*." + name.split(".", 1)[1]  # a wildcard covers one leftmost label
        if not any(c.status == "ISSUED" and (name in c.names or wildcard in c.names) for c in certificates):
            described = ", ".join(f"{c.arn} ({c.status}, {', '.join(sorted(c.names))})" for c in certificates) or "none"
            problems.append(f"the listener's certificate does not name {name} or is not issued: {described}")
    return problems


RULE = CloudFrontOriginTls()
