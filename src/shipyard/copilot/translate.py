"""A Copilot workspace -> shipyard.toml's tables, and a report row for every key of every manifest (pure: no files,
no AWS).

Each key ends in one of three places: mapped (to the shipyard key named), changed (mapped, with a difference in
behaviour the note explains, usually a safer default), or not carried over (why, and what to do instead). A key no
rule here knows is reported as not carried over, by name and file: nothing is ignored silently. What has no
counterpart at all (an image shipyard cannot build, a privileged port, an account the workspace does not hold)
becomes a decision for the user, and nothing is written until it is made.

Field names and forms follow Copilot's manifest reference (aws.github.io/copilot-cli/docs/manifest/: lb-web-service,
backend-service, worker-service, scheduled-job, static-site, environment, pipeline).
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from shipyard import naming
from shipyard.config.models import NAME_RE
from shipyard.config.workloads import WORKLOAD_NAME_RE
from shipyard.copilot.workspace import Manifest, ManifestError, Workspace

MAPPED, CHANGED, NOT_CARRIED = "mapped", "changed", "not carried over"

WEB, BACKEND, WORKER, JOB, SITE = "Load Balanced Web Service", "Backend Service", "Worker Service", "Scheduled Job", "Static Site"
REQUEST_DRIVEN = "Request-Driven Web Service"
KIND_OF = {WEB: "web", BACKEND: "backend", WORKER: "worker"}
WORKLOAD_TYPES = (WEB, BACKEND, WORKER, JOB, SITE, REQUEST_DRIVEN)
PRODUCTION_NAMES = {"prod", "production"}

# Copilot's schedule shortcuts as EventBridge expressions (Scheduled Job manifest, on.schedule).
SHORTCUTS = {"@yearly": "cron(0 0 1 1 ? *)", "@annually": "cron(0 0 1 1 ? *)", "@monthly": "cron(0 0 1 * ? *)",
             "@weekly": "cron(0 0 ? * 1 *)", "@daily": "cron(0 0 * * ? *)", "@midnight": "cron(0 0 * * ? *)",
             "@hourly": "cron(0 * * * ? *)"}
_DURATION_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|ms|m|s))+$")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_URL_PATH_RE = re.compile(r"https?://[^/\s\"']+(/[^\s\"'|;&]*)")

# Keys shipyard does not take, the same for every workload type: why, and what to do instead.
NOT_TAKEN = {
    "sidecars": "sidecar containers are not in the platform yet; run the sidecar's work in the image or as its own workload",
    "storage": "EFS volumes and extra ephemeral storage are not in the platform yet; keep state in the database or S3",
    "logging": "FireLens log routing is not in the platform; logs go to CloudWatch Logs with the environment's retention",
    "observability": "X-Ray tracing is not wired by shipyard; instrument the app with OpenTelemetry's exporter instead",
    "taskdef_overrides": "raw task-definition overrides would bypass shipyard's checks; ask for the setting as a shipyard key",
    "entrypoint": "shipyard runs the image's ENTRYPOINT; set it in the Dockerfile",
    "env_file": "shipyard passes variables from shipyard.toml; copy the file's values into `environment` (secrets into `secrets`)",
    "tags": "shipyard tags every resource with the app, environment and workload; other tags are not carried",
    "image.credentials": "shipyard builds every image and pushes it to the environment's own ECR repository",
    "image.labels": "set labels in the Dockerfile (LABEL)",
    "image.depends_on": "one container per task: there is no other container to wait for",
    "image.build.args": "shipyard builds with the Dockerfile's own ARG defaults; put the values there",
    "image.build.target": "shipyard builds the Dockerfile's last stage; make it the one to run",
    "image.build.cache_from": "the pipeline caches layers itself",
    "network.vpc.security_groups": "each workload gets its own security group from what it declares (calls, publishes, database)",
    "nlb": "Network Load Balancer listeners are not in the platform; web traffic reaches services through CloudFront",
    "deployment.rollback_alarms": "each service already has ECS's deployment alarm (5xx), the circuit breaker and shipyard's health gate",
    "http.target_container": "one container per task: it is the target",
    "http.target_port": "the load balancer sends to the service's port",
    "http.stickiness": "sessions are not pinned to a task; keep session state in the database",
    "http.deregistration_delay": "shipyard sets it from the rollout budget ([checks] max_deregistration_delay)",
    "http.additional_rules": "one route list per service: add the paths to `routes`",
    "http.version": "the internal load balancer speaks HTTP/1.1 to targets",
}


@dataclass(frozen=True)
class Row:
    file: str
    key: str
    outcome: str
    target: str
    note: str


@dataclass
class Translation:
    config: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)  # what the user must decide before anything is written


def key_paths(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every key of a manifest at every depth, with its value (a list's mappings as key[i].sub)."""
    found: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for name, value in data.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            found += [(path, value), *key_paths(value, path)]
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += key_paths(item, f"{prefix}[{index}]")
    return found


def is_leaf(value: Any) -> bool:
    """A value the report accounts for as a whole: not a table of keys (nor a list of them)."""
    return not ((isinstance(value, dict) and value) or (isinstance(value, list) and any(isinstance(i, dict) and i for i in value)))


def covered(path: str, taken: list[str]) -> bool:
    """A key is accounted for by a row on it or on a key above it."""
    return any(path == t or path.startswith(t + ".") or path.startswith(t + "[") for t in taken)


_MISSING = object()


class Reading:
    """One manifest's keys as the translation takes them; finish() reports every key nothing took."""

    def __init__(self, manifest: Manifest, translation: Translation) -> None:
        self.manifest, self.translation = manifest, translation
        self.taken: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:
        """The value at a key path (a.b, a[0].b), or default."""
        value: Any = self.manifest.data
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", key):
            if part.startswith("["):
                index = int(part[1:-1])
                if not isinstance(value, list) or index >= len(value):
                    return default
                value = value[index]
            elif not isinstance(value, dict) or part not in value:
                return default
            else:
                value = value[part]
        return value

    def has(self, key: str) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def row(self, key: str, outcome: str, target: str = "", note: str = "") -> None:
        """A row for `key` where the manifest has it and something under it is not accounted for yet."""
        value = self.get(key, _MISSING)
        if value is _MISSING or covered(key, self.taken):
            return
        left = [p for p, v in [(key, value), *key_paths(value, key)] if is_leaf(v) and not covered(p, self.taken)]
        if left:
            self.translation.rows.append(Row(self.manifest.path, key, outcome, target, note))
            self.taken.append(key)

    def decide(self, key: str, what: str) -> None:
        self.translation.decisions.append(f"{self.manifest.path}: {key}: {what}")

    def fail(self, key: str, what: str) -> ManifestError:
        return ManifestError(f"{self.manifest.path}: {key}", what)

    def text(self, key: str) -> str | None:
        value = self.get(key)
        if value is not None and not isinstance(value, (str, int, float)):
            raise self.fail(key, f"is a {type(value).__name__}; a text value is expected")
        return None if value is None else str(value)

    def seconds(self, key: str) -> float | None:
        raw = self.get(key)
        if raw is None:
            return None
        seconds = duration_seconds(raw)
        if seconds is None:
            raise self.fail(key, f"{raw!r} is not a duration such as 30s, 10m or 1h30m")
        return seconds

    def finish(self, what: str) -> None:
        for path, value in key_paths(self.manifest.data):
            if is_leaf(value) and not covered(path, self.taken):
                self.translation.rows.append(Row(self.manifest.path, path, NOT_CARRIED, "", f"not a key shipyard knows for {what}"))
                self.taken.append(path)


def duration_seconds(raw: Any) -> float | None:
    """A Go duration as Copilot writes them ("30s", "1h30m", "250ms"), or a number of seconds; None if it is neither."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    if not isinstance(raw, str) or not _DURATION_RE.match(raw.strip()):
        return None
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in _DURATION_PART_RE.findall(raw))


def schedule_expression(reading: Reading, key: str) -> str | None:
    """on.schedule as an EventBridge Scheduler expression; None for "none" (run only by hand)."""
    raw = (reading.text(key) or "").strip()
    if raw == "none":
        return None
    if raw in SHORTCUTS:
        return SHORTCUTS[raw]
    if raw.startswith("@every "):
        seconds = duration_seconds(raw.removeprefix("@every ").strip()) or 0
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if seconds >= size and seconds % size == 0:
                count = int(seconds // size)
                return f"rate({count} {unit}{'s' if count > 1 else ''})"
        raise reading.fail(key, f"{raw!r}: EventBridge Scheduler's rates are whole minutes, hours or days")
    if raw.startswith(("rate(", "cron(")):
        return raw
    fields = raw.split()
    if len(fields) == 5:  # minute hour day-of-month month day-of-week: EventBridge takes one of the two days, '?' the other
        minute, hour, day, month, weekday = fields
        if weekday == "*":
            weekday = "?"
        elif day == "*":
            day = "?"
            # cron counts Sunday as 0 (or 7); EventBridge as 1 (EventBridge Scheduler user guide, "Cron expressions").
            weekday = re.sub(r"\d+", lambda m: str(int(m.group()) % 7 + 1), weekday)
        else:
            raise reading.fail(key, f"{raw!r} sets both a day of the month and a day of the week; EventBridge takes one")
        return f"cron({minute} {hour} {day} {month} {weekday} *)"
    raise reading.fail(key, f"{raw!r} is not a schedule: use @daily, @every 1h, a five-field cron or rate(...)")


def primary_service(workspace: Workspace) -> str | None:
    """The Load Balanced Web Service that becomes [service]: the one on the api path, else the first by name."""
    web = [name for name, m in workspace.workloads.items() if m.data.get("type") == WEB]
    on_api = [name for name in web if str((workspace.workloads[name].data.get("http") or {}).get("path", "")).strip("/").split("/")[0] == "api"]
    return (on_api or web or [None])[0]


def static_site(workspace: Workspace) -> str | None:
    return next((name for name, m in workspace.workloads.items() if m.data.get("type") == SITE), None)


def translate(workspace: Workspace, *, accounts: dict[str, str], region: str | None, repository: str | None,
              regions: dict[str, str] | None = None, subnets: dict[str, dict[str, str]] | None = None) -> Translation:
    """regions: an environment's own region where Copilot recorded one other than `region`; subnets: the imported
    VPCs' subnets as AWS describes them ({id: {vpc, zone, cidr}}), where they could be read."""
    translation = Translation(config={})
    _Translator(workspace, translation, accounts, region, repository, regions or {}, subnets or {}).run()
    return translation


class _Translator:
    def __init__(self, workspace: Workspace, translation: Translation, accounts: dict[str, str], region: str | None,
                 repository: str | None, regions: dict[str, str], subnets: dict[str, dict[str, str]]) -> None:
        self.ws, self.t = workspace, translation
        self.accounts, self.region, self.repository, self.regions = accounts, region, repository, regions
        self.subnets = subnets
        self.readings = {name: Reading(m, translation) for name, m in workspace.workloads.items()}
        self.types: dict[str, str] = {}
        for name, reading in self.readings.items():
            kind = reading.text("type")
            if kind not in WORKLOAD_TYPES:
                raise reading.fail("type", f"{kind!r} is not a Copilot workload type; one of: {', '.join(WORKLOAD_TYPES)}")
            self.types[name] = kind
        self.environments = self._environment_order()
        self.config: dict[str, Any] = translation.config
        self.env_tables: dict[str, dict[str, Any]] = {e: {} for e in self.environments}
        self.primary = self._primary()

    # -- what the workspace does not hold, and the order of environments ---------------------------------------

    def _environment_order(self) -> list[str]:
        names = list(self.ws.environments)
        missing = [n for n in names if n not in self.accounts]
        for name in missing:
            self.t.decisions.append(f"environment {name!r}: its AWS account is kept by Copilot outside the workspace; "
                                    f"pass --account {name}=<12 digits>, or --aws to read it from Copilot's records")
        for name in self.accounts:
            if name not in names:
                self.t.decisions.append(f"--account {name}: the workspace has no environment {name!r}; it has: {', '.join(names) or 'none'}")
        # The pipeline's stages give the promotion order; without a pipeline, the order of --account.
        stages = []
        for pipeline in self.ws.pipelines.values():
            stages = [s.get("name") for s in pipeline.data.get("stages") or [] if isinstance(s, dict)]
        ordered = [s for s in stages if s in names] + [n for n in self.accounts if n in names and n not in stages]
        return ordered + [n for n in names if n not in ordered]

    def _primary(self) -> str | None:
        primary = primary_service(self.ws)
        if primary is None:
            self.t.decisions.append("the workspace has no Load Balanced Web Service: shipyard's [service] is one; add one, "
                                    "or import after `copilot svc init --svc-type \"Load Balanced Web Service\"`")
        return primary

    # -- the whole app -------------------------------------------------------------------------------------------

    def run(self) -> None:
        self._app()
        topics = self._subscriptions()
        backends = [n for n, t in self.types.items() if t == BACKEND]
        # Services first: the primary service's alias is the environments' domain before a site's is considered.
        order = {WEB: 0, BACKEND: 0, WORKER: 0, JOB: 1, SITE: 2, REQUEST_DRIVEN: 3}
        for name in sorted(self.readings, key=lambda n: order[self.types[n]]):
            kind = self.types[name]
            if kind in (WEB, BACKEND, WORKER):
                self._service(name, topics, backends)
            elif kind == JOB:
                self._job(name)
            elif kind == SITE:
                self._site(name)
            else:
                self._not_carried_workload(name)
        if SITE not in self.types.values():
            self.config["site"] = {"directory": "site"}
            if not (self.ws.root / "site").is_dir():
                self.t.decisions.append("the workspace has no Static Site: shipyard serves one at / beside the services; "
                                        f"create {self.ws.root / 'site'}/index.html (or add a Static Site to the workspace)")
        for name, manifest in self.ws.environments.items():
            self._environment(name, Reading(manifest, self.t))
        for pipeline in self.ws.pipelines.values():
            self._pipeline(Reading(pipeline, self.t))
        self._addons()
        for name, reading in self.readings.items():
            reading.finish(f"a {self.types[name]}")
        if not self.config.get("app", {}).get("repository"):
            self.t.decisions.append("the GitHub repository that deploys: no Copilot pipeline names one; pass --repository owner/repo")
        self.config["environments"] = {e: {"account": self.accounts.get(e, ""), **self.env_tables[e]} for e in self.environments}
        for env, where in self.regions.items():
            if env in self.config["environments"] and where != self.region:
                self.config["environments"][env]["region"] = where
        for env in self.environments:
            if env in PRODUCTION_NAMES:
                self.config["environments"][env].update(production=True, waf=True)
        self._shared_oidc_provider()
        ordered = ("app", "service", "services", "jobs", "topics", "database", "release", "site", "environments")
        self.t.config = {key: self.config[key] for key in ordered if self.config.get(key)}

    def _app(self) -> None:
        name = self.ws.application
        if not NAME_RE.match(name) or name.endswith("-"):
            self.t.decisions.append(f"copilot/.workspace: application: {name!r} is not a shipyard app name "
                                    "(lowercase letters, digits and hyphens, starting with a letter); rename it in the file")
        self.config["app"] = {"name": name, "region": self.region or "", **({"repository": self.repository} if self.repository else {})}
        if not self.region:
            self.t.decisions.append("the AWS region: Copilot keeps each environment's region outside the workspace; pass --region")

    def _shared_oidc_provider(self) -> None:
        """Environments in one account (Copilot's test and prod often are) share the account's one GitHub OIDC
        provider: the first creates it, the others import it (oidc_provider_arn), as `validate` asks."""
        first: dict[str, str] = {}
        for env in self.environments:
            account = self.accounts.get(env, "")
            if account and account in first:
                table = self.config["environments"][env]
                table["oidc_provider_arn"] = f"arn:{naming.partition(self.regions.get(env) or self.region or '')}:iam::{account}:" \
                                             "oidc-provider/token.actions.githubusercontent.com"
                manifest = self.ws.environments[env]
                self.t.rows.append(Row(manifest.path, "(account)", CHANGED, f"[environments.{env}] oidc_provider_arn",
                                       f"shares account {account} with {first[account]}, whose stack creates the GitHub OIDC "
                                       "provider; this environment's imports it"))
            first.setdefault(account, env)

    def _subscriptions(self) -> dict[tuple[str, str], list[str]]:
        """(publishing service, topic) -> the workers subscribed to it."""
        topics: dict[tuple[str, str], list[str]] = {}
        for name, kind in self.types.items():
            if kind == WORKER:
                for item in self.readings[name].get("subscribe.topics") or []:
                    if isinstance(item, dict):
                        topics.setdefault((str(item.get("service")), str(item.get("name"))), []).append(name)
        return topics

    # -- services ------------------------------------------------------------------------------------------------

    def _service(self, name: str, topics: dict[tuple[str, str], list[str]], backends: list[str]) -> None:
        r = self.readings[name]
        kind = self.types[name]
        primary = name == self.primary
        table = "[service]" if primary else f"[services.{name}]"
        if not primary and not WORKLOAD_NAME_RE.match(name):
            r.decide("name", f"{name!r} is not a shipyard workload name ([a-z][a-z0-9-]*, at most 12 characters): rename the "
                             "folder and its `name`, then import again")
        out: dict[str, Any] = {} if primary else {"kind": KIND_OF[kind]}
        r.row("name", MAPPED, table, "the table's name" if not primary else "the primary web service: /api/* and its health path")
        note = {WEB: "behind CloudFront and the one internal load balancer: no public load balancer of its own",
                BACKEND: "reached by name through ECS Service Connect; callers find it in SHIPYARD_SERVICE_" + name.upper().replace("-", "_")
                         + "_URL instead of COPILOT_SERVICE_DISCOVERY_ENDPOINT",
                WORKER: "its own SQS queue (SSE-SQS, TLS only) with a dead-letter queue; its URL in SHIPYARD_QUEUE_URL "
                        "instead of COPILOT_QUEUE_URI"}[kind]
        r.row("type", CHANGED, f"{table} kind = {KIND_OF[kind]!r}" if not primary else table, note)
        self._image(r, out, table, needs_port=kind in (WEB, BACKEND))
        self._common(r, out, table)
        if kind == WEB:
            self._http(r, out, table, primary)
        elif kind == BACKEND:
            self._backend_health(r, out, table)
        else:
            self._worker_queue(r, out, table)
        publishes = self._topics(r, name, topics)
        if publishes:
            out["publishes"] = publishes
        if kind == BACKEND:
            r.row("network.connect", CHANGED, f"{table} (its callers' calls)", "reached only by the workloads that list it in "
                  "`calls`: those with network.connect do; add it to any other that calls it")
        elif backends and r.get("network.connect"):
            out["calls"] = backends
            r.row("network.connect", CHANGED, f"{table} calls = {backends}", "a workload reaches only the backends in `calls`; "
                  "every backend is listed, so remove those it does not call")
        if primary:
            self.config["service"] = out
        else:
            self.config.setdefault("services", {})[name] = out
        self._sizes(r, name, kind, primary)

    def _topics(self, r: Reading, name: str, subscriptions: dict[tuple[str, str], list[str]]) -> list[str]:
        """Each topic the workload publishes becomes a [topics.<name>] fanning out to the workers subscribed to it;
        a topic named like a workload takes the publisher's name before it (topics and workloads share names)."""
        published = []
        for index, item in enumerate(r.get("publish.topics") or []):
            topic = str(item.get("name")) if isinstance(item, dict) else ""
            subscribers = subscriptions.get((name, topic), [])
            key = f"publish.topics[{index}]"
            if not subscribers:
                r.row(key, NOT_CARRIED, "", "no worker subscribes to it: its messages would go nowhere")
                continue
            taken = set(self.readings) | set(self.config.get("topics", {}))
            chosen = topic if topic not in taken else f"{name}-{topic}"
            if not WORKLOAD_NAME_RE.match(chosen):
                r.decide(key, f"topic {topic!r} needs a shipyard name ([a-z][a-z0-9-]*, at most 12 characters, unlike any "
                              "workload's): rename it in both manifests, then import again")
                continue
            # Copilot's subscriptions deliver SNS's JSON envelope (its worker template sets no RawMessageDelivery).
            self.config.setdefault("topics", {})[chosen] = {"subscribers": subscribers, "raw_delivery": False}
            published.append(chosen)
            r.row(key, MAPPED if chosen == topic else CHANGED, f"[topics.{chosen}], publishes = [{chosen!r}]",
                  "" if chosen == topic else f"named {chosen}: a topic may not share a workload's name; its ARN is in "
                                             f"SHIPYARD_TOPIC_{chosen.upper().replace('-', '_')}_ARN, not COPILOT_SNS_TOPIC_ARNS")
        return published

    def _image(self, r: Reading, out: dict[str, Any], table: str, *, needs_port: bool) -> None:
        build = r.get("image.build")
        if r.has("image.location"):
            r.row("image.location", NOT_CARRIED, "", "shipyard builds each image from a directory and promotes its digest")
            if build is None:
                r.decide("image.location", "shipyard builds images from a Dockerfile; point image.build at the Dockerfile "
                                           "of this image, then import again")
        if isinstance(build, str):
            dockerfile = PurePosixPath(build)
            r.row("image.build", MAPPED, f"{table} directory", "the Dockerfile's folder")
        elif isinstance(build, dict):
            dockerfile = PurePosixPath(str(build.get("dockerfile") or PurePosixPath(str(build.get("context", "."))) / "Dockerfile"))
            context = PurePosixPath(str(build.get("context") or dockerfile.parent))
            for key in ("args", "target", "cache_from"):
                r.row(f"image.build.{key}", NOT_CARRIED, "", NOT_TAKEN[f"image.build.{key}"])
            r.row("image.build.dockerfile", MAPPED, f"{table} directory", "the Dockerfile's folder")
            r.row("image.build.context", MAPPED if context == dockerfile.parent else NOT_CARRIED, f"{table} directory",
                  "" if context == dockerfile.parent else "shipyard's build context is the Dockerfile's folder")
            if context != dockerfile.parent:
                r.decide("image.build.context", f"the context {context} is not the Dockerfile's folder {dockerfile.parent}; "
                                                "shipyard builds a folder with its Dockerfile in it")
        else:
            return
        self.ws.inside(r.manifest, "image.build", str(dockerfile))
        if dockerfile.name != "Dockerfile":
            r.decide("image.build", f"shipyard builds <directory>/Dockerfile; rename {dockerfile} to {dockerfile.parent / 'Dockerfile'}")
        out["directory"] = str(dockerfile.parent) if str(dockerfile.parent) != "" else "."
        for key in ("credentials", "labels", "depends_on"):
            r.row(f"image.{key}", NOT_CARRIED, "", NOT_TAKEN[f"image.{key}"])
        port = r.get("image.port")
        if port is not None:
            if not isinstance(port, int) or isinstance(port, bool):
                raise r.fail("image.port", f"{port!r} is not a port number")
            if port < 1024:
                r.decide("image.port", f"{port} is a privileged port; shipyard runs images as non-root: make the image listen on "
                                       "1024-65535 (8000, 8080) and set image.port to it, then import again")
            r.row("image.port", MAPPED, f"{table} port")
            out["port"] = port
        elif needs_port:
            out["port"] = 8000

    def _common(self, r: Reading, out: dict[str, Any], table: str) -> None:
        command = r.get("command")
        if command is not None:
            out["command"] = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
            r.row("command", MAPPED, f"{table} command")
        variables = r.get("variables") or {}
        if not isinstance(variables, dict):
            raise r.fail("variables", "is not a mapping of names to values")
        for key, value in variables.items():
            if isinstance(value, dict):
                r.row(f"variables.{key}", NOT_CARRIED, "", "from_cfn reads another stack's output; set the value, or make it a secret")
            else:
                out.setdefault("environment", {})[key] = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
                r.row(f"variables.{key}", MAPPED, f"{table}.environment {key}")
        for key, value in (r.get("secrets") or {}).items():
            reference = _secret(value, self.ws.application)
            if reference is None:
                r.row(f"secrets.{key}", NOT_CARRIED, "", "from_cfn (another stack's output) or a variable shipyard cannot "
                      "substitute; reference the parameter or secret by its name")
                continue
            out.setdefault("secrets", {})[key] = reference
            each = "{environment}" in reference
            r.row(f"secrets.{key}", CHANGED if each else MAPPED, f"{table}.secrets {key}", "the same name in each environment: "
                  "{environment} stands for its name, as ${COPILOT_ENVIRONMENT_NAME} did; no value is read or copied" if each
                  else "the same name: no value is read or copied")
        for key in ("sidecars", "storage", "logging", "observability", "taskdef_overrides", "entrypoint", "env_file", "tags", "nlb",
                    "network.vpc.security_groups", "deployment.rollback_alarms"):
            r.row(key, NOT_CARRIED, "", NOT_TAKEN[key])
        r.row("network.vpc.placement", CHANGED, "", "tasks run in private subnets without public IPs; the internet is reached "
              "through the environment's egress")
        r.row("deployment.rolling", CHANGED, "", "web services deploy blue/green with a bake; the others roll with the "
              "circuit breaker, both judged by shipyard's release gate")
        r.row("exec", CHANGED, "[environments.<env>] ecs_exec", "per environment: on where Copilot had it, off in production "
              "unless set there (sessions are logged)")
        if r.get("exec"):
            for env in self.environments:
                if env not in PRODUCTION_NAMES:
                    self.env_tables[env]["ecs_exec"] = True

    def _http(self, r: Reading, out: dict[str, Any], table: str, primary: bool) -> None:
        http = r.get("http")
        if http is False:
            r.row("http", CHANGED, "", "a web service without a route would be a backend; import it as a Backend Service")
            r.decide("http", "false: a Load Balanced Web Service without http; make it a Backend Service")
            return
        path = str(r.get("http.path") or "/").strip("/")
        health = r.get("http.healthcheck")
        health_path = health if isinstance(health, str) else (health or {}).get("path") if isinstance(health, dict) else None
        if primary:
            r.row("http.path", MAPPED if path == "api" else CHANGED, "[service] (routes /api/*)",
                  "" if path == "api" else "the primary service answers /api/* and its health path; the site is served at /")
            if path != "api":
                r.decide("http.path", f"'/{path}': shipyard's primary service answers /api/* (its health path too) and the "
                                      "static site answers /; serve the API under /api and set http.path to api, then import again")
        else:
            if not path:
                r.decide("http.path", "'/': the site is served at /; give this service a path of its own")
            routes = [f"/{path}/*"] if path else []
            out["routes"] = routes
            r.row("http.path", MAPPED, f"{table} routes = {routes}")
        if health_path:
            key = "http.healthcheck.path" if isinstance(health, dict) else "http.healthcheck"
            if not primary and path and not str(health_path).startswith(f"/{path}/"):
                health_path = f"/{path}/{str(health_path).lstrip('/')}"
                r.row(key, CHANGED, f"{table} health_check_path = {health_path!r}", "a web service's health path lies on its "
                      "routes (the release gate requests it through the edge); the app must answer it there")
            else:
                r.row(key, MAPPED, f"{table} health_check_path")
            out["health_check_path"] = str(health_path)
        elif not primary:
            out["health_check_path"] = f"/{path}/healthz" if path else "/healthz"
        grace = r.get("http.healthcheck.grace_period")
        if grace is not None and primary:
            out["health_check_grace_seconds"] = int(r.seconds("http.healthcheck.grace_period") or 0)
            r.row("http.healthcheck.grace_period", MAPPED, "[service] health_check_grace_seconds")
        r.row("http.healthcheck", CHANGED, "", "thresholds and intervals come from shipyard's rollout budget "
              "([checks] max_time_to_healthy); success is a 200")
        self._aliases(r, carried=primary)
        r.row("http.hosted_zone", CHANGED, "[environments.<env>] domain", "shipyard makes a hosted zone for each environment's "
              "domain in that environment's account (or writes no DNS with dns = \"external\"): delegate it from this zone")
        r.row("http.redirect_to_https", CHANGED, "", "viewers are always redirected to HTTPS by CloudFront")
        r.row("http.allowed_source_ips", CHANGED, "", "the load balancer admits only CloudFront's VPC origin; restrict viewers "
              "with WAF ([environments.<env>] waf)")
        for key in ("target_container", "target_port", "stickiness", "deregistration_delay", "additional_rules", "version"):
            r.row(f"http.{key}", NOT_CARRIED, "", NOT_TAKEN[f"http.{key}"])

    def _aliases(self, r: Reading, *, carried: bool) -> None:
        """http.alias, the manifest's and each environment's: the environment's domain where `carried` (the primary
        service's, or the site's where it has none)."""
        # An environment's own alias first: the manifest's applies where none is given.
        for env, key in [*((e, f"environments.{e}.http.alias") for e in self.environments), (None, "http.alias")]:
            alias = r.get(key)
            if alias is None:
                continue
            if not carried:
                r.row(key, CHANGED, "", "one domain per environment, for the whole distribution (the primary service's alias)")
                continue
            domains = [a.get("name") if isinstance(a, dict) else a for a in (alias if isinstance(alias, list) else [alias])]
            for target in [env] if env else self.environments:
                self.env_tables[target].setdefault("domain", str(domains[0]))
            r.row(key, MAPPED if len(domains) == 1 else CHANGED, "[environments.<env>] domain",
                  "" if len(domains) == 1 else f"the first alias; the others ({', '.join(map(str, domains[1:]))}) are not "
                  "carried (one domain per environment, and www with `www = true`)")

    def _backend_health(self, r: Reading, out: dict[str, Any], table: str) -> None:
        command = r.get("image.healthcheck.command")
        found = _URL_PATH_RE.search(" ".join(map(str, command)) if isinstance(command, list) else str(command or ""))
        if found:
            out["health_check_path"] = found.group(1)
            r.row("image.healthcheck.command", CHANGED, f"{table} health_check_path = {found.group(1)!r}",
                  "a request to that path made with the image's python; the image needs python instead of curl")
        r.row("image.healthcheck", CHANGED, f"{table} health_check_path", "its interval, retries and start period are shipyard's")
        r.row("http", NOT_CARRIED, "", "a backend has no load balancer: callers reach it through Service Connect")
        if "health_check_path" not in out:
            out["health_check_path"] = "/healthz"

    def _worker_queue(self, r: Reading, out: dict[str, Any], table: str) -> None:
        timeout = r.seconds("subscribe.queue.timeout")
        if timeout is not None:
            out["visibility_timeout"] = int(timeout)
            r.row("subscribe.queue.timeout", MAPPED, f"{table} visibility_timeout")
        tries = r.get("subscribe.queue.dead_letter.tries")
        if tries is not None:
            out["max_receive_count"] = int(tries)
            r.row("subscribe.queue.dead_letter.tries", MAPPED, f"{table} max_receive_count")
        r.row("subscribe.queue.retention", NOT_CARRIED, "", "messages are kept 4 days, dead letters 14")
        r.row("subscribe.queue.delay", NOT_CARRIED, "", "messages are delivered at once; delay in the publisher (DelaySeconds)")
        r.row("subscribe.queue.fifo", NOT_CARRIED, "", "a worker's queue is a standard queue; make the work idempotent")
        for index in range(len(r.get("subscribe.topics") or [])):
            r.row(f"subscribe.topics[{index}].filter_policy", NOT_CARRIED, "", "every message reaches every subscriber; filter "
                  "in the worker")
        r.row("subscribe.topics", MAPPED, "[topics.<name>] subscribers", "delivered in SNS's JSON envelope as before "
              "(raw_delivery = false), to this worker's own queue")

    def _sizes(self, r: Reading, name: str, kind: str, primary: bool) -> None:
        """cpu, memory and count in every environment (the manifest's own, then each environment's overrides), and the
        platform."""
        group = "jobs" if kind == JOB else "services"
        for env in self.environments:
            table = self.env_tables[env] if primary else self.env_tables[env].setdefault(group, {}).setdefault(name, {})
            for prefix in ("", f"environments.{env}."):
                # The manifest's own value goes to every environment; an override to its own.
                scope = env if prefix else "*"
                shown = f"[environments.{scope}]" if primary else f"[environments.{scope}.{group}.{name}]"
                for key in ("cpu", "memory"):
                    if r.get(prefix + key) is not None:
                        table[key] = int(r.get(prefix + key))
                        r.row(prefix + key, MAPPED, f"{shown} {key}")
                if kind != JOB:
                    self._count(r, prefix + "count", table, shown, env, every=not prefix, kind=kind, primary=primary)
            if not primary and not table:  # an empty size table says nothing
                del self.env_tables[env][group][name]
        platform = str(r.get("platform") or "")
        if platform:
            arch = {"linux/arm64": "arm64", "linux/x86_64": "x86_64", "linux/amd64": "x86_64"}.get(platform)
            if arch is None:
                r.decide("platform", f"{platform!r}: shipyard runs Linux containers on x86_64 or arm64; Windows tasks are not in the platform")
            elif primary:
                self.config["service"]["architecture"] = arch
                r.row("platform", MAPPED, "[service] architecture")
            else:
                r.row("platform", CHANGED, "[service] architecture", "every workload runs on the architecture of [service] "
                      "(or the environment's `architecture`)")
        for env in r.get("environments") or {}:
            r.row(f"environments.{env}", NOT_CARRIED, "", f"the workspace has no environment {env!r}" if env not in self.environments
                  else "a workload is the same in every environment apart from its size, so staging rehearses production: "
                       "keep environment-specific values in SSM parameters of the same name in each account")

    def _count(self, r: Reading, key: str, table: dict[str, Any], where: str, env: str, *, every: bool, kind: str,
               primary: bool) -> None:
        """count into environment `env`'s `table`; `where` names that table in the rows, `every`: the manifest's own
        count, which each environment takes."""
        count = r.get(key)
        if count is None:
            return
        scope = f"[environments.{'*' if every else env}]"
        if isinstance(count, int) and not isinstance(count, bool):
            table["desired_count"] = count
            table["max_count"] = max(count, 1)
            r.row(key, CHANGED, f"{where} desired_count, max_count", "a fixed count: autoscaling stays between the two")
            return
        if not isinstance(count, dict):
            raise r.fail(key, f"{count!r} is neither a number nor a mapping")
        span = count.get("range")
        if isinstance(span, str) and re.match(r"^\d+-\d+$", span):
            low, high = (int(x) for x in span.split("-"))
        elif isinstance(span, dict):
            low, high = int(span.get("min", 1)), int(span.get("max", 1))
        elif span is not None:
            raise r.fail(f"{key}.range", f"{span!r} is not a range such as 1-10")
        if span is not None:
            table["desired_count"], table["max_count"] = max(low, 0 if kind == WORKER else 1), max(high, low, 1)
            r.row(f"{key}.range.min" if isinstance(span, dict) else f"{key}.range", MAPPED,
                  f"{where} desired_count" + ("" if isinstance(span, dict) else ", max_count"))
            r.row(f"{key}.range.max", MAPPED, f"{where} max_count")
        spot = count.get("spot") if count.get("spot") is not None else span.get("spot_from") if isinstance(span, dict) else None
        if spot is not None and env not in PRODUCTION_NAMES:
            self.env_tables[env]["spot"] = True
        for spot_key in (f"{key}.spot", f"{key}.range.spot_from"):
            r.row(spot_key, CHANGED, f"{scope} spot", "Fargate Spot for every task of a non-production environment (none in production)")
        if count.get("cpu_percentage") is not None:
            if primary:
                self.env_tables[env]["cpu_target"] = int(count["cpu_percentage"])
            r.row(f"{key}.cpu_percentage", MAPPED if primary else CHANGED, f"{scope} cpu_target",
                  "" if primary else "the environment's CPU target, which the primary service's count sets")
        latency, processing = (r.seconds(f"{key}.queue_delay.{k}") for k in ("acceptable_latency", "msg_processing_time"))
        if latency and processing:
            table["backlog_per_task"] = max(1, math.floor(latency / processing))
            r.row(f"{key}.queue_delay", MAPPED, f"{where} backlog_per_task", "acceptable latency / processing time, AWS's "
                  "backlog-per-task target")
        for metric in ("memory_percentage", "requests", "response_time"):
            r.row(f"{key}.{metric}", NOT_CARRIED, "", "shipyard scales web services on CPU (and workers on backlog)")

    # -- jobs, site, what is not carried ---------------------------------------------------------------------------

    def _job(self, name: str) -> None:
        r = self.readings[name]
        if not WORKLOAD_NAME_RE.match(name):
            r.decide("name", f"{name!r} is not a shipyard workload name ([a-z][a-z0-9-]*, at most 12 characters)")
        out: dict[str, Any] = {}
        r.row("name", MAPPED, f"[jobs.{name}]", "the table's name")
        r.row("type", CHANGED, f"[jobs.{name}]", "EventBridge Scheduler starts a Step Functions state machine that runs one task")
        self._image(r, out, f"[jobs.{name}]", needs_port=False)
        self._common(r, out, f"[jobs.{name}]")
        schedule = schedule_expression(r, "on.schedule")
        if schedule is None:
            r.decide("on.schedule", "none: shipyard's jobs run on a schedule (and by `shipyard run ENV --job NAME`); give it one")
        else:
            out["schedule"] = schedule
            r.row("on.schedule", MAPPED if schedule == r.get("on.schedule") else CHANGED, f"[jobs.{name}] schedule = {schedule!r}",
                  "" if schedule == r.get("on.schedule") else "the same times, as an EventBridge Scheduler expression in UTC")
        out["timezone"] = "UTC"
        timeout = r.seconds("timeout")
        if timeout is not None:
            out["timeout_minutes"] = max(1, math.ceil(timeout / 60))
            r.row("timeout", MAPPED, f"[jobs.{name}] timeout_minutes")
        if r.get("retries") is not None:
            out["retries"] = int(r.get("retries"))
            r.row("retries", CHANGED, f"[jobs.{name}] retries", "retries of a run the scheduler could not start; a run that "
                  "fails raises the job's alarm instead of running again (rerun with `shipyard run`)")
        self.config.setdefault("jobs", {})[name] = out
        self._sizes(r, name, JOB, False)

    def _site(self, name: str) -> None:
        r = self.readings[name]
        r.row("name", CHANGED, "[site]", "the one static site of the app, at / on the distribution")
        r.row("type", MAPPED, "[site]")
        files = [f for f in r.get("files") or [] if isinstance(f, dict)]
        sources = sorted({str(f.get("source", "")) for f in files})
        if len(sources) == 1 and sources[0]:
            self.ws.inside(r.manifest, "files", sources[0])
            self.config["site"] = {"directory": sources[0].rstrip("/") or "."}
            plain = all(str(f.get("destination", "/")).strip("/") == "" for f in files)
            r.row("files", MAPPED if plain else CHANGED, "[site] directory", "" if plain else "published at the site's root")
        else:
            r.decide("files", f"shipyard publishes one folder as the site; these files come from {len(sources)} sources: gather them in one")
        self._aliases(r, carried=not any(self.env_tables[e].get("domain") for e in self.environments))
        r.row("http.certificate", CHANGED, "", "shipyard requests the domain's certificate in us-east-1, validated by DNS")
        for env in r.get("environments") or {}:
            r.row(f"environments.{env}", NOT_CARRIED, "", "the site is the same files in every environment")

    def _not_carried_workload(self, name: str) -> None:
        r = self.readings[name]
        r.row("type", NOT_CARRIED, "", "App Runner is not in the platform: run it as a Load Balanced Web Service (copy its "
              "image and variables into one), then import again")
        for key in list(r.manifest.data):
            r.row(key, NOT_CARRIED, "", f"part of a {self.types[name]}, which is not carried over")

    # -- environments, the pipeline, addons ----------------------------------------------------------------------

    def _environment(self, name: str, r: Reading) -> None:
        target = f"[environments.{name}]"
        r.row("name", MAPPED, target)
        production = name in PRODUCTION_NAMES
        r.row("type", CHANGED if production else MAPPED, target, "production = true, with WAF and AWS managed rules in front of "
              "CloudFront (waf = true), which shipyard requires of production" if production else "")
        self._imported_vpc(name, target, r)
        r.row("network.vpc.cidr", NOT_CARRIED, "", "shipyard picks the VPC's range")
        r.row("network.vpc.flow_logs", CHANGED, "", "shipyard logs rejected traffic to the environment's log bucket")
        r.row("network.vpc.security_group", NOT_CARRIED, "", "each workload's security group comes from what it declares")
        r.row("http.public.certificates", CHANGED, f"{target} domain", "shipyard issues its own certificates for the domain "
              "(validated by DNS); the imported one stays with Copilot's load balancer")
        r.row("http.public.ingress.cdn", MAPPED, "", "CloudFront is always in front")
        r.row("http.public.ingress.source_ips", CHANGED, f"{target} waf", "restrict viewers with WAF")
        r.row("http.public", CHANGED, "", "no public load balancer: CloudFront reaches an internal one through its VPC origin")
        r.row("http.private", CHANGED, "", "the load balancer is internal already")
        r.row("cdn", MAPPED if r.get("cdn") is True else CHANGED, "", "every environment has a CloudFront distribution")
        insights = r.get("observability.container_insights")
        if insights is not None:
            self.env_tables.setdefault(name, {})["container_insights"] = bool(insights)
            r.row("observability.container_insights", MAPPED, f"{target} container_insights")
        r.finish("an environment")

    def _imported_vpc(self, name: str, target: str, r: Reading) -> None:
        """An imported VPC becomes the environment's existing network where AWS described each of its subnets (the
        zone and range a manifest does not give); otherwise shipyard builds the environment a VPC of its own."""
        vpc, listed = imported_vpc(r.manifest)
        described = {kind: [self.subnets.get(i) if isinstance(i, str) else None for i in ids] for kind, ids in listed.items()}
        if vpc and all(described.values()) and all(d is not None and d["vpc"] == vpc for ds in described.values() for d in ds):
            self.env_tables[name]["network"] = {"vpc_id": vpc, **{
                f"{kind}_subnets": [{"id": i, "zone": d["zone"], "cidr": d["cidr"]} for i, d in zip(listed[kind], ds, strict=True)]
                for kind, ds in described.items()}}
            r.row("network.vpc.id", MAPPED, f"{target}.network vpc_id", "the environment runs in this VPC: its database can move "
                  "with `shipyard adopt`")
            r.row("network.vpc.subnets", MAPPED, f"{target}.network public_subnets, private_subnets",
                  "with each subnet's zone and range as AWS describes them; tasks in the public ones, the load balancer and "
                  "the database in the private ones")
            return
        r.row("network.vpc.id", NOT_CARRIED, "", "each subnet's zone and range are needed to run in this VPC, and AWS "
              "was not asked or did not describe them: import again with --aws (or --endpoint) in reach of the "
              f"environment's account, or write [environments.{name}.network]; until then shipyard builds the "
              "environment its own VPC, and a database in this VPC cannot move" if vpc else "shipyard builds the environment's own VPC")
        r.row("network.vpc.subnets", NOT_CARRIED, "", "shipyard's VPC has its own subnets")

    def _pipeline(self, r: Reading) -> None:
        source = str(r.get("source.properties.repository") or "")
        found = re.match(r"^(?:https://github\.com/|git@github\.com:)?([A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?/?$", source)
        provider = str(r.get("source.provider") or "")
        if found and provider in ("GitHub", "GitHubV1", ""):
            self.config["app"].setdefault("repository", found.group(1))
            r.row("source.properties.repository", MAPPED, "[app] repository")
        else:
            r.row("source", NOT_CARRIED, "", f"the source is {provider or 'not GitHub'}: shipyard's pipeline is GitHub Actions")
        branch = r.get("source.properties.branch")
        if branch:
            self.config["app"]["branch"] = str(branch)
            r.row("source.properties.branch", MAPPED, "[app] branch")
        r.row("source.provider", CHANGED, "", "GitHub Actions with OIDC roles instead of CodePipeline")
        r.row("source.properties.connection_name", NOT_CARRIED, "", "GitHub's OIDC token replaces the CodeStar connection")
        r.row("name", MAPPED, ".github/workflows/pipeline.yml")
        r.row("version", NOT_CARRIED, "", "the pipeline's format is shipyard's")
        r.row("stages", CHANGED, "[environments] (their order)", "the environments in the stages' order; the same image digest "
              "is promoted from one to the next behind each one's health gate; approvals become GitHub environment protection "
              "rules, test_commands the pipeline's test job")
        r.finish("a pipeline")

    def _addons(self) -> None:
        for owner, templates in self.ws.addons.items():
            for template in templates:
                resources = template.data.get("Resources") or {}
                for logical, resource in resources.items():
                    kind = resource.get("Type") if isinstance(resource, dict) else None
                    properties = resource.get("Properties") or {} if isinstance(resource, dict) else {}
                    row = self._addon_resource(owner, logical, str(kind), properties, template.data)
                    self.t.rows.append(Row(template.path, f"Resources.{logical}", *row))
                for key in template.data:
                    if key == "Mappings":
                        self.t.rows.append(Row(template.path, key, MAPPED, "[environments.<env>] database_min_capacity, "
                                               "database_max_capacity", "read where the cluster's scaling names them"))
                    elif key != "Resources":
                        self.t.rows.append(Row(template.path, key, CHANGED if key in ("Parameters", "Outputs") else NOT_CARRIED, "",
                                               "an addon's wiring (App, Env, Name in; outputs as variables out); shipyard hands "
                                               "the database's settings to the workloads that declare `database = true`"
                                               if key in ("Parameters", "Outputs") else "not read"))

    def _addon_resource(self, owner: str, logical: str, kind: str, properties: dict[str, Any],
                        template: dict[str, Any]) -> tuple[str, str, str]:
        engine = str(properties.get("Engine", ""))
        if kind == "AWS::RDS::DBInstance" and properties.get("DBClusterIdentifier"):
            return MAPPED, "[database]", ("the cluster's writer (db.serverless): [database] has one, and a reader in another "
                                          "zone with database_multi_az")
        if kind in ("AWS::RDS::DBCluster", "AWS::RDS::DBInstance") and "postgres" in engine:
            aurora = kind == "AWS::RDS::DBCluster"
            version = properties.get("EngineVersion")
            database: dict[str, Any] = {"version": str(version).split(".")[0]} if isinstance(version, (str, int, float)) else {}
            if aurora:
                database["engine"] = "aurora-postgresql"
                self._aurora_capacity(properties.get("ServerlessV2ScalingConfiguration") or {}, template.get("Mappings") or {})
            username = _master_username(properties.get("MasterUsername"), template.get("Resources") or {})
            if username:  # set at creation: an adopted database keeps it
                database["username"] = username
            if isinstance(properties.get("DatabaseName"), str):
                database["name"] = properties["DatabaseName"]
            self.config.setdefault("database", {}).update(database)
            # An environment addon's outputs reach whichever workload imports them: each backend, worker and job gets it.
            users = [owner] if owner in self.readings else [n for n, t in self.types.items() if t in (BACKEND, WORKER, JOB)]
            for user in users:
                table = self.config.get("services", {}).get(user) or self.config.get("jobs", {}).get(user)
                if table is not None:
                    table["database"] = True
            return (MAPPED, "[database]" + (' engine = "aurora-postgresql"' if aurora else ""),
                    ("Aurora PostgreSQL Serverless v2 in shipyard's data stack, its capacity per environment; " if aurora else "")
                    + ("the workload of this addon gets" if owner in self.readings else "every backend, worker and job gets")
                    + " database = true and the PG* settings as secrets (remove it where a workload does not connect)")
        if kind in ("AWS::RDS::DBSubnetGroup", "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress",
                    "AWS::SecretsManager::Secret", "AWS::SecretsManager::SecretTargetAttachment", "AWS::RDS::DBClusterParameterGroup",
                    "AWS::RDS::DBParameterGroup", "AWS::IAM::ManagedPolicy"):
            return CHANGED, "[database]", "made by shipyard with the database (its subnets, security group, rotated secret, access)"
        return NOT_CARRIED, "", f"{kind} is not in the platform; keep it in a stack of its own"


    def _aurora_capacity(self, scaling: dict[str, Any], mappings: dict[str, Any]) -> None:
        """The cluster's MinCapacity and MaxCapacity in each environment: a number, or a Fn::FindInMap on the addon's
        Mappings by a fixed key (Copilot's "All") or by Ref Env (a value per environment)."""
        for prop, key in (("MinCapacity", "database_min_capacity"), ("MaxCapacity", "database_max_capacity")):
            for env in self.environments:
                value = _mapped(scaling.get(prop), mappings, env)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.env_tables[env][key] = value


def imported_vpc(manifest: Manifest) -> tuple[str | None, dict[str, list[str | None]]]:
    """An environment manifest's imported VPC: its id, and its public and private subnets' ids (None for an entry
    that names none)."""
    network = manifest.data.get("network") if isinstance(manifest.data, dict) else None
    vpc = (network or {}).get("vpc") if isinstance(network, dict) else None
    vpc = vpc if isinstance(vpc, dict) else {}
    subnets = vpc.get("subnets") if isinstance(vpc.get("subnets"), dict) else {}
    listed = {kind: [s.get("id") if isinstance(s, dict) and isinstance(s.get("id"), str) else None
                     for s in (subnets.get(kind) if isinstance(subnets.get(kind), list) else [])]
              for kind in ("public", "private")}
    return (vpc.get("id") if isinstance(vpc.get("id"), str) else None), listed


def _master_username(value: Any, resources: dict[str, Any]) -> str | None:
    """The master user's name: a value, or Copilot's dynamic reference to its addon secret's username, which the
    secret's GenerateSecretString template holds ('{"username": "postgres"}'); None where it cannot be known."""
    if isinstance(value, str):
        return None if "{{resolve:" in value else value
    parts = (value or {}).get("Fn::Join", [None, []])[1] if isinstance(value, dict) else []
    secret = next((p["Ref"] for p in parts if isinstance(p, dict) and isinstance(p.get("Ref"), str)), None)
    if not secret or not any(isinstance(p, str) and ":SecretString:username" in p for p in parts):
        return None
    body = resources.get(secret) or {}
    template = ((body.get("Properties") or {}).get("GenerateSecretString") or {}).get("SecretStringTemplate")
    try:
        name = json.loads(template).get("username") if isinstance(template, str) else None
    except ValueError:
        return None
    return name if isinstance(name, str) else None


def _mapped(value: Any, mappings: dict[str, Any], env: str) -> Any:
    """A number, or what a Fn::FindInMap of literal names (or Ref Env as the second) finds for `env`; else None."""
    if isinstance(value, dict) and isinstance(value.get("Fn::FindInMap"), list) and len(value["Fn::FindInMap"]) == 3:
        table, key, attribute = value["Fn::FindInMap"]
        key = env if key == {"Ref": "Env"} else key
        if all(isinstance(part, str) for part in (table, key, attribute)):
            return ((mappings.get(table) or {}).get(key) or {}).get(attribute)
        return None
    return value


COPILOT_NAMES = {"${COPILOT_ENVIRONMENT_NAME}": "{environment}"}  # the application's name is the same everywhere


def _secret(value: Any, app: str) -> str | None:
    """A Copilot secret as a shipyard reference to the same name: an SSM parameter's name (or ARN), or
    {secretsmanager: name-or-ARN}; Copilot's ${COPILOT_APPLICATION_NAME} and ${COPILOT_ENVIRONMENT_NAME} in a name
    as it substitutes them. None for from_cfn, or a name with another variable."""
    if isinstance(value, dict) and isinstance(value.get("secretsmanager"), str):
        value, service = value["secretsmanager"], "secretsmanager"
    elif isinstance(value, str):
        service = "ssm" if not value.startswith("arn:") or value.split(":")[2:3] == ["ssm"] else "secretsmanager"
        if value.startswith("arn:") and service == "ssm":
            value = value.split(":parameter", 1)[1]
    else:
        return None
    value = value.replace("${COPILOT_APPLICATION_NAME}", app)
    for variable, placeholder in COPILOT_NAMES.items():
        value = value.replace(variable, placeholder)
    return None if "${" in value else f"{service}:{value}"
