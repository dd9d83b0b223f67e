"""DNS records people create by hand when an environment's domain lives outside its Route 53 account (dns = "external").

Two kinds: the certificate's validation CNAMEs (ACM issues the certificate once they resolve, and renews it with
them, so they stay), and the names viewers use, pointed at the distribution. While the global stack waits for
the certificate, CloudFormation reports each validation record in the certificate's CREATE_IN_PROGRESS event as
"Content of DNS Record is: {Name: ...,Type: CNAME,Value: ...}"; ValidationWatch prints each one once, as soon as
it appears, so the wait can end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard import ui
from shipyard.aws import GLOBAL_REGION, Aws
from shipyard.config import Environment
from shipyard.errors import ShipyardError
from shipyard.naming import Output

DNS_WAIT = 1800.0  # how long deploy waits for hand-made validation records before it stops (the stack waits on)
_CONTENT = re.compile(r"Content of DNS Record is: \{Name: ([^,]+),Type: ([A-Z]+),Value: ([^}]+)\}")


@dataclass(frozen=True)
class DnsRecord:
    name: str
    type: str
    value: str
    why: str

    def line(self) -> str:
        return f"{self.name.rstrip('.')}  {self.type}  {self.value.rstrip('.')}  ({self.why})"


def validation_record(reason: str | None) -> DnsRecord | None:
    """The record a certificate event asks for, from CloudFormation's status reason."""
    found = _CONTENT.search(reason or "")
    if not found:
        return None
    return DnsRecord(found[1].strip(), found[2], found[3].strip(), "certificate validation; keep it for renewals")


class ValidationWatch:
    """on_wait for a stack with a certificate (global: the viewers'; foundation: the load balancer's for
    origin.<domain>): print each validation record CloudFormation reports, once."""

    def __init__(self, aws: Aws, env: Environment, stack: str, region: str, names: tuple[str, ...]) -> None:
        self.aws, self.env, self.stack, self.region, self.names = aws, env, stack, region, names
        self.printed: list[DnsRecord] = []
        self.read: set[str] = set()  # the newest event read so far: a poll reads only the ones after it

    def __call__(self, status: str) -> None:
        fresh = []
        events = self.aws.cloudformation(self.region).events(self.stack, after=self.read)
        self.read = {events[0].event_id} if events else self.read
        for event in events:
            record = validation_record(event.reason)
            if record is not None and record not in self.printed and record not in fresh:
                fresh.append(record)
        if fresh:
            self.printed += fresh
            ui.info(f"{self.env.name}: create {'this record' if len(fresh) == 1 else 'these records'} where "
                    f"{self.env.domain}'s DNS lives; the certificate is issued once they resolve:")
            for record in fresh:
                ui.info(f"  {record.line()}")

    def timed_out(self, waited: float) -> ShipyardError:
        records = "; ".join(r.line() for r in self.printed) or "none reported yet"
        return ShipyardError(
            self.stack, f"the certificate for {', '.join(self.names)} is still waiting for its DNS validation "
                        f"records after {waited / 60:.0f} min (records: {records})",
            f"create the records at your DNS provider, then run `shipyard deploy {self.env.name}` again: it waits for the "
            "stack and carries on (CloudFormation gives up after about 12 hours and rolls the stack back)")


def records_to_create(aws: Aws, env: Environment) -> list[DnsRecord]:
    """For external DNS: the validation records to keep and each name pointed at the distribution."""
    if not env.domain or env.dns != "external":
        return []
    from shipyard.deploy.state import edge_outputs

    records = []
    global_stack = aws.cloudformation(GLOBAL_REGION).stack(env.names.global_stack)
    foundation = aws.cloudformation(env.region).stack(env.names.foundation_stack)
    for region, stack, output in ((GLOBAL_REGION, global_stack, Output.CERTIFICATE_ARN),
                                  (env.region, foundation, Output.ORIGIN_CERTIFICATE_ARN)):
        arn = stack.outputs.get(output) if stack else None
        if arn:
            records += [DnsRecord(v.name, v.type, v.value, "certificate validation; keep it for renewals")
                        for v in aws.acm(region).certificate(arn).validations if v.name]
    balancer = foundation.outputs.get(Output.LOAD_BALANCER_DNS) if foundation else None
    if balancer and env.origin_domain:
        records.append(DnsRecord(env.origin_domain, "CNAME", balancer, "the name CloudFront reaches the load balancer by over TLS"))
    distribution = edge_outputs(aws, env).domain
    for name in env.certified_names:  # with previews, also *.pv.<domain>: every preview host
        records.append(DnsRecord(name, "CNAME", distribution,
                                 "viewers; at a zone apex use your provider's ALIAS/ANAME, as a CNAME cannot sit there"))
    return records
