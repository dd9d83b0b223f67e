"""`shipyard init`: shipyard.toml, the pipeline generated from it, and the hash-locked files the pipeline installs.

The example app under examples/webapp is exactly what `shipyard init` writes for it (a test regenerates and
compares); `init --check` tells when a repository's committed pipeline no longer matches its shipyard.toml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from shipyard.config import Config
from shipyard.scaffold import hash_lock, pipeline

CONFIG = "shipyard.toml"
# Workflows earlier shipyard versions wrote; left in place they would still run (deploy.yml on workflow_run).
RETIRED = (".github/workflows/ci.yml", ".github/workflows/deploy.yml")
# What the example service's tests need beside its own requirements.
SERVICE_TEST_TOOLS = ("pytest==9.2.0", "httpx==0.28.1")


@dataclass(frozen=True)
class Answers:
    app: str
    repository: str
    region: str
    staging_account: str
    production_account: str
    alert_emails: tuple[str, ...] = ()
    repository_owner_id: int | None = None
    repository_id: int | None = None
    database: bool = False  # [database], migrations in releases, and each environment's size
    workloads: tuple[tuple[str, str], ...] = ()  # (name, kind) beside [service], each with its own directory


MIGRATIONS = "service/migrations"
SITE = "site"
SERVICE = "service"


def starter(folder: str, app: str) -> dict[str, str]:
    """The starter files of `folder` (SERVICE or SITE), relative path -> text: a service with /healthz, an API and its
    tests, and a page that shows what the API answers; for a repository that has none yet."""
    root = resources.files("shipyard.scaffold").joinpath("templates", "starter", folder)
    files: dict[str, str] = {}

    def walk(node, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".tmpl"):
                files[prefix + child.name.removesuffix(".tmpl")] = child.read_text().replace("<<app>>", app)

    walk(root, "")
    return files

_DATABASE = f'''# PostgreSQL on RDS per environment: isolated subnets, TLS required, the password managed by RDS in
# Secrets Manager and handed to the tasks as secrets (docs/database.md).
[database]
version = "16"
name = "app"
migrations = "{MIGRATIONS}"

[release]
# Runs as a one-off task of the new image: expand migrations before the rollout, contract ones after the gate.
migrate = "python migrate.py"

'''
_STAGING_DATABASE = 'database_instance_class = "db.t4g.micro"\ndatabase_backup_days = 1\n'
_PRODUCTION_DATABASE = 'database_instance_class = "db.t4g.small"\ndatabase_backup_days = 14\ndatabase_multi_az = true\n'


WORKLOAD_KINDS = ("web", "backend", "worker", "job")


def workload_table(name: str, kind: str) -> str:
    """A workload's table in shipyard.toml, with what its starter answers."""
    if kind == "job":
        return (f'\n# A scheduled job: every night at 03:00 UTC its schedule runs one task; a run that exits non-zero fails.\n'
                f'[jobs.{name}]\ndirectory = "{name}"\nschedule = "cron(0 3 * * ? *)"\ntimezone = "UTC"\n')
    lines = [f"\n[services.{name}]", f'kind = "{kind}"', f'directory = "{name}"']
    if kind == "web":
        lines += [f'routes = ["/{name}/*"]', f'health_check_path = "/{name}/healthz"']
    elif kind == "backend":
        lines += ["port = 8000", 'health_check_path = "/healthz"']
    return "\n".join(lines) + "\n"


def workload_starter(name: str, kind: str) -> dict[str, str]:
    """The starter files of a workload's directory, relative path -> text: an app its kind's verdict passes."""
    root = resources.files("shipyard.scaffold").joinpath("templates", "starter", "workloads")

    def read(template: str) -> str:
        health = f"/{name}/healthz" if kind == "web" else "/healthz"
        return root.joinpath(template).read_text().replace("<<name>>", name).replace("<<kind>>", kind).replace("<<health>>", health)

    if kind == "worker":
        return {"Dockerfile": read("Dockerfile.worker.tmpl"), "main.py": read("worker.py.tmpl"),
                "requirements.txt": read("requirements.txt.tmpl")}
    return {"Dockerfile": read("Dockerfile.tmpl"), "main.py": read("job.py.tmpl" if kind == "job" else "http.py.tmpl")}


def render_config(answers: Answers) -> str:
    ids = ""
    if answers.repository_owner_id and answers.repository_id:
        ids = (f"\n# The repository's immutable ids: its OIDC tokens name them (repo:owner@id/repo@id:...).\n"
               f"repository_owner_id = {answers.repository_owner_id}\nrepository_id = {answers.repository_id}\n"
               'oidc_subject = "immutable"')
    values = {"app": answers.app, "repository": answers.repository, "region": answers.region,
              "staging_account": answers.staging_account, "production_account": answers.production_account,
              "alert_emails": ", ".join(f'"{e}"' for e in answers.alert_emails), "repository_ids": ids,
              "database": _DATABASE if answers.database else "",
              "staging_database": _STAGING_DATABASE if answers.database else "",
              "production_database": _PRODUCTION_DATABASE if answers.database else ""}
    text = resources.files("shipyard.scaffold").joinpath("templates", "shipyard.toml.tmpl").read_text()
    for key, value in values.items():
        text = text.replace(f"<<{key}>>", value)
    if answers.workloads:
        at = text.index("\n[defaults]")
        text = text[:at] + "".join(workload_table(name, kind) for name, kind in answers.workloads) + text[at:]
    return text


def _python(repository: Path) -> str:
    """The Python the locks were resolved for; the running one before there is a lock."""
    import sys

    path = repository / pipeline.SHIPYARD_LOCK
    return hash_lock.python_version(path.read_text()) if path.exists() else f"{sys.version_info.major}.{sys.version_info.minor}"


def workflow(config: Config) -> str:
    return pipeline.render(config, python=_python(config.directory))


def write_locks(config: Config, progress: Callable[[str], None], wheel: Path | None = None) -> list[Path]:
    repository = config.directory
    kept = hash_lock.vendor_wheel(repository, progress, wheel)
    requirements = _service_requirements(repository)
    files = {
        pipeline.SHIPYARD_LOCK: hash_lock.lock_shipyard(repository, kept, progress, extra=[], purpose="shipyard for the release jobs"),
        pipeline.TEST_LOCK: hash_lock.lock_shipyard(repository, kept, progress, extra=[*requirements, *SERVICE_TEST_TOOLS],
                                               purpose="shipyard, the service's requirements and its test tools, for the test job"),
    }
    written = [kept]
    for name, text in files.items():
        path = repository / name
        path.write_text(text)
        written.append(path)
    return written


def preview_workflow(config: Config) -> str | None:
    return pipeline.render_previews(config, python=_python(config.directory)) if config.previews else None


def write_workflow(config: Config) -> list[Path]:
    path = config.directory / pipeline.WORKFLOW
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow(config))
    written = [path]
    previews = preview_workflow(config)
    if previews is not None:
        written.append(config.directory / pipeline.PREVIEW_WORKFLOW)
        written[-1].write_text(previews)
    retired = [config.directory / name for name in RETIRED if (config.directory / name).exists()]
    for old in retired:
        old.unlink()
    return written


def stale(config: Config) -> list[str]:
    """Why the committed pipeline does not match shipyard.toml (empty when it does)."""
    repository = config.directory
    problems = []
    path = repository / pipeline.WORKFLOW
    if not path.exists():
        problems.append(f"{pipeline.WORKFLOW} is missing")
    elif path.read_text() != workflow(config):
        problems.append(f"{pipeline.WORKFLOW} differs from what shipyard.toml generates")
    previews, preview_path = preview_workflow(config), repository / pipeline.PREVIEW_WORKFLOW
    if previews is not None and (not preview_path.exists() or preview_path.read_text() != previews):
        problems.append(f"{pipeline.PREVIEW_WORKFLOW} is missing or differs from what shipyard.toml generates")
    problems += [f"{name} still exists and would still run" for name in RETIRED if (repository / name).exists()]
    for name in (pipeline.SHIPYARD_LOCK, pipeline.TEST_LOCK):
        problems += [f"{name}: {p}" for p in lock_problems(repository, name)]
    return problems


def lock_problems(repository: Path, name: str) -> list[str]:
    """What is wrong with one lock: missing, malformed, or naming a wheel whose bytes changed."""
    import hashlib

    path = repository / name
    if not path.exists():
        return ["missing; run `shipyard init --lock`"]
    try:
        pins = hash_lock.parse(path.read_text())
        hash_lock.python_version(path.read_text())
    except hash_lock.LockError as exc:
        return [exc.what]
    problems = []
    for pin in pins:
        if pin.spec.startswith("./"):
            wheel = repository / pin.spec
            if not wheel.exists():
                problems.append(f"{pin.spec} is missing")
            elif hashlib.sha256(wheel.read_bytes()).hexdigest() not in pin.hashes:
                problems.append(f"{pin.spec} does not match its hash")
        elif "==" not in pin.spec:
            problems.append(f"{pin.spec} is not pinned with ==")
    if name == pipeline.TEST_LOCK:  # the test job installs the service's own requirements from this lock
        pinned = {pin.spec.lower() for pin in pins}
        problems += [f"does not pin {requirement} (service/requirements.txt); run `shipyard init --from shipyard.toml --lock`"
                     for requirement in _service_requirements(repository) if requirement.lower() not in pinned]
    return problems


def _service_requirements(repository: Path) -> list[str]:
    path = repository / "service" / "requirements.txt"
    return [line.strip() for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")] if path.exists() else []
