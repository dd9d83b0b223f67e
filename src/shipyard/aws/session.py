"""Where AWS calls go and the one path every call takes: boto3 clients per account, service and region.

Session.call() turns botocore's exceptions into one AwsError carrying where it happened (service.Operation,
region), what AWS said, what to do about it and AWS's error code. Only the typed clients of this package call
it; nothing else in shipyard imports boto3.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from shipyard.errors import ShipyardError

# Error codes by which AWS says "that does not exist", per service API reference.
_NOT_FOUND_CODES = frozenset({
    "NoSuchEntity", "NoSuchBucket", "NoSuchKey", "NoSuchBucketPolicy", "NoSuchPublicAccessBlockConfiguration",
    "ServerSideEncryptionConfigurationNotFoundError",
    "ParameterNotFound", "ResourceNotFoundException", "RepositoryNotFoundException", "ImageNotFoundException",
    "ScanNotFoundException", "LoadBalancerNotFound", "TargetGroupNotFound", "ClusterNotFoundException",
    "ServiceNotFoundException", "NoSuchDistribution", "NoSuchOriginAccessControl", "WAFNonexistentItemException",
    "NotFoundException", "ResourceNotFound", "InvalidGroup.NotFound", "InvalidSubnetID.NotFound", "NotFound", "404",
    "RepositoryPolicyNotFoundException", "DBInstanceNotFound", "DBInstanceNotFoundFault", "EntityNotFound",
    "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "StateMachineDoesNotExist", "ExecutionDoesNotExist",
})

_ALREADY_EXISTS_CODES = frozenset({"ImageAlreadyExistsException", "AlreadyExistsException", "EntityAlreadyExists",
                                   "BucketAlreadyOwnedByYou", "ResourceExistsException", "ParameterAlreadyExists"})

HINTS = {
    "ExpiredToken": "your AWS session expired; sign in again (e.g. aws sso login) and rerun",
    "ExpiredTokenException": "your AWS session expired; sign in again (e.g. aws sso login) and rerun",
    "AccessDenied": "the caller lacks this permission; use a role allowed to deploy this environment",
    "AccessDeniedException": "the caller lacks this permission; use a role allowed to deploy this environment",
    "InvalidClientTokenId": "the access key is not valid in this account; check AWS_PROFILE and your credentials",
    "UnrecognizedClientException": "the access key is not valid in this account; check AWS_PROFILE and your credentials",
    "Throttling": "AWS is rate-limiting this account; wait a minute and rerun",
}


class AwsError(ShipyardError):
    """AWS refused or failed a call; `code` is AWS's error code ("" when the call never reached AWS)."""

    def __init__(self, where: str, what: str, hint: str = "", code: str = "", service: str = "") -> None:
        super().__init__(where, what, hint)
        self.code = code
        self.service = service

    @property
    def not_found(self) -> bool:
        """AWS said the named resource does not exist."""
        if self.code in _NOT_FOUND_CODES:
            return True
        # CloudFormation has no not-found code: DescribeStacks, DescribeStackEvents and GetTemplate answer
        # ValidationError "Stack with id NAME does not exist" (CloudFormation API reference, DescribeStacks).
        return self.service == "cloudformation" and self.code == "ValidationError" and self.what.endswith("does not exist")

    @property
    def already_exists(self) -> bool:
        return self.code in _ALREADY_EXISTS_CODES


class Emulator(Protocol):
    """What only the embedded AWS has, beside AWS's APIs at its endpoint: the seam through which the core reaches it.
    The composition root hands one to the Target; on real AWS there is none."""

    session_plugin: tuple[str, ...]  # the program that joins a terminal to an ECS Exec session

    def bind_account(self, client: Any, account: str) -> None:
        """Make every request of a boto3 client land in `account` (one endpoint serves every account)."""

    def unsupported_types(self, template: dict[str, Any]) -> list[str]:
        """Resource types of a template the emulator cannot build (a deploy must refuse, never skip them)."""

    def local_edge(self, account: str, distribution_id: str) -> str:
        """The local URL where a CloudFront distribution serves viewers."""

    def register_scan(self, *, account: str, region: str, repository: str, digest: str, counts: dict[str, int]) -> None:
        """What ECR's scan of an image found, as the emulator should report it."""

    def lasts(self, aws_seconds: float) -> float:
        """How long `aws_seconds` of AWS's time last here: the emulator runs AWS's timers (bake times, drains,
        health checks) faster by a factor, and a client's waits on them keep the same proportion."""

    def bake_lasts(self, aws_seconds: float) -> float:
        """How long an ECS deployment's bake time of `aws_seconds` lasts here: compressed like lasts(), but never
        shorter than a health gate needs in real seconds to be answered."""


@dataclass(frozen=True)
class Target:
    """Where calls go: the embedded AWS at an endpoint (with its Emulator), or real AWS through a profile."""

    endpoint: str | None = None
    profile: str | None = None
    credentials: tuple[str, str] | None = None
    emulator: Emulator | None = field(default=None, compare=False)

    @property
    def is_local(self) -> bool:
        return self.emulator is not None

    def lasts(self, aws_seconds: float, *, at_least: float = 0.0) -> float:
        """How long a wait of `aws_seconds` on AWS lasts at this target: as long on AWS, shorter on the embedded AWS,
        whose timers run faster (never below `at_least`, so a poll stays a poll)."""
        return aws_seconds if self.emulator is None else max(at_least, self.emulator.lasts(aws_seconds))

    def bake_lasts(self, aws_seconds: float) -> float:
        """How long an ECS deployment's bake time of `aws_seconds` lasts at this target."""
        return aws_seconds if self.emulator is None else self.emulator.bake_lasts(aws_seconds)

    def describe(self) -> str:
        if self.endpoint:
            return f"embedded AWS at {self.endpoint}" + (f" (profile {self.profile})" if self.profile else "")
        return f"AWS (profile {self.profile})" if self.profile else "AWS (default credentials)"


_BOTO_SESSIONS: dict[tuple[Any, ...], Any] = {}
_CLIENTS_LOCK = threading.Lock()
_CLIENTS: dict[tuple[Any, ...], Any] = {}


class Session:
    """AWS clients for one account; `account` selects the account in the embedded AWS."""

    def __init__(self, target: Target, account: str) -> None:
        self.target = target
        self.account = account

    def _boto_session(self) -> Any:
        """The boto3 session of these credentials, shared by every Session of the process: it keeps the service models
        it has read, so a client of a service read before takes 5 ms instead of 50."""
        import boto3

        key = (self.target.credentials, self.target.profile)
        if key not in _BOTO_SESSIONS:
            if self.target.credentials:
                access_key, secret = self.target.credentials
                _BOTO_SESSIONS[key] = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret)
            else:
                try:
                    _BOTO_SESSIONS[key] = boto3.session.Session(profile_name=self.target.profile)
                except Exception as exc:  # botocore.exceptions.ProfileNotFound
                    raise AwsError("--profile", str(exc), "list profiles with `aws configure list-profiles`") from None
            _BOTO_SESSIONS[key]._session.get_component("response_parser_factory").set_parser_defaults(
                timestamp_parser=_timestamp)
        return _BOTO_SESSIONS[key]

    def client(self, service: str, region: str) -> Any:
        """One client per target, account, service and region in the process, whichever Session asks: making one
        reads the service's model and takes 5 to 50 ms, and a command makes many Sessions of the same account."""
        key = (self.target.endpoint, self.target.credentials, self.target.profile, self.account, service, region)
        with _CLIENTS_LOCK:  # a boto3 session makes one client at a time (it is not thread-safe)
            if key not in _CLIENTS:
                from botocore.config import Config

                # One endpoint answers every operation on the embedded AWS: no host prefixes (StartLiveTail's stream-).
                config = Config(retries={"max_attempts": 8, "mode": "adaptive"}, connect_timeout=10, read_timeout=60,
                                inject_host_prefix=self.target.endpoint is None)
                client = self._boto_session().client(service, region_name=region, endpoint_url=self.target.endpoint,
                                                     config=config)
                # The emulator's own keys reach every account: the request names it. A profile's credentials choose
                # the account themselves, as on AWS.
                if self.target.emulator is not None and self.target.credentials is not None:
                    self.target.emulator.bind_account(client, self.account)
                _CLIENTS[key] = client
            return _CLIENTS[key]

    def call(self, service: str, operation: str, region: str, /, **kwargs: Any) -> dict[str, Any]:
        """client(service, region).<operation>(**kwargs), with AWS failures as AwsError."""
        from botocore import exceptions as bx

        client = self.client(service, region)
        method = getattr(client, _snake(operation))
        where = f"{service}.{operation} ({region})"
        try:
            return method(**kwargs)
        except bx.ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            raise AwsError(where, f"{code}: {error.get('Message', str(exc))}", HINTS.get(code, ""), code, service) from exc
        except (bx.NoCredentialsError, bx.PartialCredentialsError):
            raise AwsError("AWS credentials", "none found for --aws",
                           "set AWS_PROFILE or pass --profile (or sign in with aws sso login); "
                           "without --aws shipyard uses the embedded AWS") from None
        except bx.EndpointConnectionError as exc:
            hint = "start it with `shipyard local`" if self.target.is_local else "check your network and the region"
            raise AwsError(where, f"cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}", hint) from None
        except bx.BotoCoreError as exc:
            raise AwsError(where, str(exc)) from None

    def paginate(self, service: str, operation: str, region: str, key: str | tuple[str, ...], /, **kwargs: Any) -> list[Any]:
        """Every item under `key` (or under each of several keys, in their order) across pages."""
        items: list[Any] = []
        while True:
            page = self.call(service, operation, region, **kwargs)
            for each in (key,) if isinstance(key, str) else key:
                items.extend(page.get(each, []))
            # The answer's token and the request's parameter: most services use NextToken, CloudWatch Logs and ECS
            # nextToken, S3's ListObjectsV2 NextContinuationToken and ContinuationToken, IAM Marker, ELB NextMarker.
            token = next(((ask, page[answer]) for answer, ask in _PAGE_TOKENS if page.get(answer)), None)
            if token is None:
                return items
            kwargs[token[0]] = token[1]


_PAGE_TOKENS = (("NextToken", "NextToken"), ("nextToken", "nextToken"), ("NextContinuationToken", "ContinuationToken"),
                ("Marker", "Marker"), ("NextMarker", "Marker"))


def _timestamp(value: Any) -> Any:
    """An ISO 8601 timestamp with its zone (what the AWS APIs answer) read by datetime itself; anything else by
    botocore's own parser. botocore reads every timestamp through dateutil, which took a third of a stack-event poll
    (100 events) on the client."""
    from datetime import datetime

    from botocore.utils import parse_timestamp

    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return parse_timestamp(value)


def _snake(operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation)


class ServiceApi:
    """One AWS service in one region, with a method per need: the only place an operation of it is spelled.

    Methods return typed results (frozen dataclasses) and read "does not exist" as None or an empty list.
    """

    service: ClassVar[str]

    def __init__(self, session: Session, region: str) -> None:
        self.session = session
        self.region = region

    @property
    def account(self) -> str:
        return self.session.account

    def _call(self, operation: str, /, **kwargs: Any) -> dict[str, Any]:
        return self.session.call(self.service, operation, self.region, **kwargs)

    def _pages(self, operation: str, key: str | tuple[str, ...], /, **kwargs: Any) -> list[Any]:
        return self.session.paginate(self.service, operation, self.region, key, **kwargs)

    def _found(self, operation: str, /, **kwargs: Any) -> dict[str, Any] | None:
        """The answer, or None where AWS says the resource does not exist."""
        try:
            return self._call(operation, **kwargs)
        except AwsError as exc:
            if exc.not_found:
                return None
            raise
