"""The composition root: chooses where AWS calls go (the embedded AWS or real accounts), and constructs it.

The only module outside localaws/ that imports it. The core receives a Target (endpoint, credentials, and for the
embedded AWS its Emulator: shipyard.aws's seam for what only the emulator has) and never learns what answers at
the endpoint. It constructs; the work is the use cases'.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from shipyard import localaws, ui
from shipyard.aws import Target
from shipyard.errors import UsageError


def embedded(endpoint: str) -> Target:
    """A Target for an embedded AWS listening at `endpoint`."""
    return Target(**localaws.client_options(endpoint.rstrip("/")))


def real(profile: str | None) -> Target:
    """AWS through a profile (or the default credentials). Where the SDK's endpoint setting (AWS_ENDPOINT_URL, or the
    profile's endpoint_url) names an embedded AWS, CI's exact commands are rehearsed against it: the credentials still
    choose the account, and what only the emulator has (its local edges, its compressed time) comes with it."""
    endpoint = _sdk_endpoint(profile)
    if endpoint and localaws.answers_as_embedded(endpoint):
        return Target(endpoint=endpoint.rstrip("/"), profile=profile, emulator=localaws.Controls(endpoint.rstrip("/")))
    return Target(profile=profile)


def _sdk_endpoint(profile: str | None) -> str | None:
    """The endpoint the AWS SDK would call, as botocore resolves it: AWS_ENDPOINT_URL or the profile's endpoint_url."""
    import botocore.exceptions
    import botocore.session
    from botocore.configprovider import ConfiguredEndpointProvider

    try:
        session = botocore.session.Session(profile=profile)
        if session.get_config_variable("ignore_configured_endpoint_urls"):
            return None
        return ConfiguredEndpointProvider(full_config=session.full_config, scoped_config=session.get_scoped_config(),
                                          client_name="sts").provide()
    except botocore.exceptions.ProfileNotFound:
        return None  # the session's own error names the profile when the first call is made


@dataclass(frozen=True)
class Choice:
    """Where a command's AWS calls go, as its options say (--aws, --profile, --endpoint); target() resolves it."""

    use_aws: bool = False
    profile: str | None = None
    endpoint: str | None = None

    @property
    def real_aws(self) -> bool:
        return self.use_aws or self.profile is not None

    def target(self) -> Target:
        return resolve(use_aws=self.use_aws, profile=self.profile, endpoint=self.endpoint)


def resolve(*, use_aws: bool, profile: str | None, endpoint: str | None) -> Target:
    """The one target choice of every AWS-facing command."""
    if (use_aws or profile) and endpoint:
        raise UsageError("--endpoint", "cannot be combined with --aws/--profile; pick the embedded AWS or real AWS")
    if use_aws or profile:
        return real(profile)
    if endpoint:
        if not endpoint.startswith(("http://127.", "http://localhost", "http://[::1]")):
            raise UsageError("--endpoint", f"{endpoint} is not an embedded AWS on this machine (http://127.0.0.1:PORT)")
        return embedded(endpoint)
    raise UsageError("target", "no AWS target named",
                     "pass --aws (real AWS, default credentials or --profile) or --endpoint URL "
                     "(the embedded AWS that `shipyard local` prints; or set SHIPYARD_ENDPOINT)")


def load_embedded_aws() -> None:
    """Load the embedded AWS's services (about two seconds of imports) on a thread of their own, while the caller does
    other work: the next embedded_aws() then starts at once."""
    threading.Thread(target=localaws.load, daemon=True, name="load-embedded-aws").start()


@contextmanager
def embedded_aws(port: int | None = None, *, search: bool = False) -> Iterator[localaws.EmbeddedAws]:
    """An embedded AWS for the length of the block; search=True takes the default port or the next free one."""
    if search and port is None:
        port = localaws.first_free_port()
        if port != localaws.DEFAULT_PORT:
            ui.info(f"port {localaws.DEFAULT_PORT} is busy; using {port}")
    with localaws.EmbeddedAws(port) as server:
        yield server
