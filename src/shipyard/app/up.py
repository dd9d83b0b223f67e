"""`shipyard up`: every environment deployed, its site published and verified, in one command; on the embedded
AWS also the service built from its directory, released to the first environment and promoted along the chain,
so the command ends with URLs that answer (the site from S3, the API from the running service).

On the embedded AWS by default (nothing leaves this machine); with --aws on real accounts, where CI releases
images. All environments are synthesized in one process first, every input of every environment is checked
before the first change, production is confirmed, and the environments are brought up side by side.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace

from shipyard import ui
from shipyard.app import target as targets
from shipyard.app.browser_check import BrowserCheck, check_page
from shipyard.app.context import check_accounts, check_inputs, guard_production
from shipyard.app.local import serve_until_interrupted
from shipyard.app.local_images import LocalImage, build_local_image
from shipyard.app.policy import synthesize_gated
from shipyard.app.releases import workloads_of
from shipyard.aws import Aws, Target
from shipyard.config import Config
from shipyard.deploy.apply import stop_requested
from shipyard.deploy.execute import SERIAL, DeployOptions, deploy
from shipyard.deploy.site import publish_environment
from shipyard.deploy.state import deployed_edge, edge_url
from shipyard.deploy.verify import LiveResult, verify
from shipyard.errors import ShipyardError
from shipyard.release.attempt import ReleaseOptions
from shipyard.release.images import Image
from shipyard.release.release import promote, release
from shipyard.side_by_side import run_graph
from shipyard.synth import EnvironmentAssembly


@dataclass(frozen=True)
class EnvironmentUp:
    environment: str
    account: str
    region: str
    stacks: str
    endpoint: str
    site: str
    failed_checks: list[LiveResult]
    checks: int
    url: str = ""  # the local edge, on the embedded AWS
    release: str = ""  # what runs there: the verdict and digest of the release up made
    workloads: tuple[tuple[str, str, str], ...] = ()  # each web workload beside [service]: (name, routes, digest it runs)


@dataclass
class UpReport:
    target: str
    environments: list[EnvironmentUp] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    browser: BrowserCheck | None = None
    released: bool = True
    not_run: tuple[str, ...] = ()  # RUN steps of the service's Dockerfile the embedded AWS's image did not run

    @property
    def passed(self) -> bool:
        return self.released and all(not e.failed_checks for e in self.environments) and (self.browser is None or self.browser.passed
                                                                                            or not self.browser.ran)


def up(config: Config, *, use_aws: bool, profile: str | None, port: int | None, yes: bool,
       keep: bool, on_ready: Callable[[UpReport], None] = lambda report: None) -> UpReport:
    """Deploy, publish and verify every environment (and on the embedded AWS release the service); on_ready(report)
    runs before --keep serves."""
    started = time.perf_counter()
    if use_aws:
        guard_production(config.select(None), yes=yes, action="`up --aws` changes")
    check_inputs(config, site=True, build=not use_aws)
    if not use_aws:
        targets.load_embedded_aws()  # while the environments synthesize and pass the policy gate
    assemblies = synthesize_gated(config, config.select(None))  # before an embedded AWS starts for nothing
    report = UpReport(target="")
    report.timings["synth and checks"] = time.perf_counter() - started
    mark = time.perf_counter()
    with (nullcontext(None) if use_aws else targets.embedded_aws(port)) as server:
        target = targets.real(profile) if server is None else targets.embedded(server.endpoint)
        if server is not None:
            ui.info(f"embedded AWS on {server.endpoint}")
        report.target = target.describe()
        check_accounts(assemblies, target)
        report.timings["accounts"] = time.perf_counter() - mark

        pushed: list[tuple[LocalImage, dict[str, LocalImage]]] = []  # [service]'s image and each web workload's

        def bring_up(assembly: EnvironmentAssembly) -> EnvironmentUp:
            env = assembly.environment
            aws = Aws(target, env.account)
            mark = time.perf_counter()
            results = deploy(aws, assembly, DeployOptions(confirm=lambda question: yes or server is not None))
            report.timings[f"deploy {env.name}"] = time.perf_counter() - mark
            if server is not None and assembly is assemblies[0]:
                # Pushed as soon as its repository exists: the embedded AWS prepares the image while the rest comes up.
                pushed.append(_push(config, assembly, target, report))
            mark = time.perf_counter()
            sync, _ = publish_environment(aws, env, config.site_directory, public_dotfiles=tuple(config.site.public_dotfiles))
            report.timings[f"publish {env.name}"] = time.perf_counter() - mark
            mark = time.perf_counter()
            # Drift detection right after the stacks were made finds nothing they did not just set; `verify` runs it.
            checks = verify(aws, assembly, config.app, drift=False)
            report.timings[f"verify {env.name}"] = time.perf_counter() - mark
            edge = deployed_edge(aws, env)
            outcomes = ", ".join(sorted({r.outcome for r in results}))
            return EnvironmentUp(
                env.name, env.account, env.region, f"{len(results)} ({outcomes})", f"https://{edge.domain if edge else '?'}",
                f"{len(sync.uploads)} uploaded, {sync.unchanged} unchanged", [c for c in checks if not c.passed], len(checks))

        # Environments live in separate accounts and share nothing: side by side on AWS.
        report.environments = run_graph(assemblies, key=lambda a: a.environment.name, after=lambda a: (), run=bring_up,
                                        stop=stop_requested, at_once=SERIAL if target.is_local else None)
        if server is not None:
            # The browser opens the first environment's page as soon as its release is done, while the next ones release.
            with ThreadPoolExecutor(1) as browser:
                opened: list[Future[BrowserCheck]] = []
                _ship(config, assemblies, target, report, pushed[0][0].image, {n: b.image for n, b in pushed[0][1].items()},
                      first_done=lambda url: opened.append(browser.submit(check_page, url)))
                report.browser = opened[0].result()
            report.timings["browser (beside the promotion)"] = report.browser.seconds
        report.total = time.perf_counter() - started
        on_ready(report)
        if keep and server is not None:
            serve_until_interrupted(server, config)
    return report


def _push(config: Config, first: EnvironmentAssembly, target: Target, report: UpReport) -> tuple[LocalImage, dict[str, LocalImage]]:
    """The service, and each workload beside it, built from its directory and pushed to the first environment's repository
    of it: one image per directory, shared by the workloads built from the same one."""
    env, mark, tag = first.environment, time.perf_counter(), f"up-{int(time.time())}"
    aws = Aws(target, env.account)
    built = build_local_image(aws, env, directory=config.service_directory, tag=tag, architecture=env.architecture,
                              command=config.service.command, vulnerable=False)
    workloads = {name: build_local_image(aws, env.workload_view(name), directory=(config.directory / workload.directory).resolve(),
                                         tag=tag, architecture=env.architecture, command=workload.command, vulnerable=False)
                 for name, workload in config.workloads.items()}
    report.not_run = tuple(dict.fromkeys([*built.not_run, *(step for own in workloads.values() for step in own.not_run)]))
    report.timings["image"] = time.perf_counter() - mark
    return built, workloads


def _ship(config: Config, assemblies: list[EnvironmentAssembly], target: Target, report: UpReport, image: Image,
          workloads: dict[str, Image], *, first_done: Callable[[str], None]) -> None:
    """Release the set (the image and each workload's) to the first environment and promote the same digests
    along the chain; first_done(url) once the first environment's release has its verdict."""
    options = ReleaseOptions.of(config.release)
    path = config.service.health_check_path
    webs = workloads_of(config)
    released = tuple(replace(w, ref=workloads[w.name].reference) for w in webs)
    promoted = tuple(replace(w, ref=workloads[w.name].digest) for w in webs)
    before: EnvironmentAssembly | None = None
    for index, assembly in enumerate(assemblies):
        env, aws = assembly.environment, Aws(target, assembly.environment.account)
        mark = time.perf_counter()
        try:
            outcome = (release(aws, assembly, image.reference, options, health_path=path, workloads=released) if before is None else
                       promote(Aws(target, before.environment.account), before, aws, assembly, options, health_path=path,
                               digest=image.digest, workloads=promoted))
            verdict = f"{outcome.attempt.verdict} {image.digest[:19]}"
            running = outcome.attempt.workloads
        except ShipyardError as exc:  # the table says what happened; up fails
            verdict, running = f"failed: {exc.what}", {}
            report.released = False
        report.timings[f"{'release' if before is None else 'promote'} {env.name}"] = time.perf_counter() - mark
        report.environments[index] = replace(report.environments[index], url=edge_url(aws, env), release=verdict, workloads=tuple(
            (name, _reached(config, name), running.get(name, "not released")[:19])
            for name in workloads))
        if before is None:
            first_done(report.environments[index].url)
        before = assembly


def _reached(config: Config, name: str) -> str:
    """How a workload is reached, for up's table: a web service's routes, else its kind (a job's schedule)."""
    if name in config.jobs:
        return f"(job on {config.jobs[name].schedule} {config.jobs[name].timezone})"
    return " ".join(config.services[name].routes) or f"({config.services[name].kind})"
