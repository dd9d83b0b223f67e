"""`shipyard init`: answers (flags, or asked on a terminal and checked as they are typed), then the files.

Three ways in: scaffold a new repository (shipyard.toml from the answers, then the pipeline and its locks),
regenerate the pipeline of an existing shipyard.toml for every environment it lists (`--from`), or only check
that the committed pipeline still matches it (`--check`).
"""

from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from shipyard import ui
from shipyard.config import answer_problem, load_config, parse_config
from shipyard.config.workloads import WORKLOAD_NAME_RE
from shipyard.errors import ShipyardError, UsageError
from shipyard.scaffold import (
    CONFIG,
    MIGRATIONS,
    SERVICE,
    SITE,
    WORKLOAD_KINDS,
    Answers,
    render_config,
    stale,
    starter,
    workload_starter,
    write_locks,
    write_workflow,
)


@dataclass(frozen=True)
class Question:
    flag: str
    prompt: str
    section: str
    key: str
    form: str
    optional: bool = False


QUESTIONS = (
    Question("--app", "application name", "app", "name", "lowercase letters, digits and hyphens, e.g. webapp"),
    Question("--repository", "GitHub repository", "app", "repository", "owner/repo, e.g. acme/webapp"),
    Question("--repository-owner-id", "owner's numeric id", "app", "repository_owner_id",
             "from gh api repos/OWNER/REPO --jq .owner.id; repositories created since 2026-07-15 need it, empty for a name-only subject",
             optional=True),
    Question("--repository-id", "repository's numeric id", "app", "repository_id", "from gh api repos/OWNER/REPO --jq .id", optional=True),
    Question("--region", "AWS region", "app", "region", "e.g. eu-west-1"),
    Question("--staging-account", "staging AWS account id", "environment", "account", "12 digits"),
    Question("--production-account", "production AWS account id", "environment", "account", "12 digits"),
)


def _default_region() -> str | None:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        return region
    import botocore.session

    return botocore.session.get_session().get_config_variable("region")


def _value(question: Question, raw: str) -> object:
    if question.key.endswith("_id") and raw.strip().isdigit():
        return int(raw)
    return raw.strip()


def _ask(question: Question, default: str | None) -> object:
    while True:
        raw = ui.prompt(f"{question.prompt} ({question.form})", default=default if default is not None else ("" if question.optional else None))
        if question.optional and not str(raw).strip():
            return None
        value = _value(question, raw)
        problem = answer_problem(question.section, question.key, value)
        if problem is None:
            return value
        ui.info(f"  {question.key}: {problem}; try again")


def parse_workloads(given: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """--workload NAME:KIND, each checked before anything is asked or written."""
    parsed = []
    for entry in given:
        name, _, kind = entry.partition(":")
        if kind not in WORKLOAD_KINDS or not WORKLOAD_NAME_RE.match(name) or name.endswith("-"):
            raise UsageError(f"--workload {entry}", f"is not NAME:KIND with a name of [a-z][a-z0-9-]* (at most 12 characters) "
                             f"and a kind of {', '.join(WORKLOAD_KINDS)}", "e.g. --workload admin:web --workload nightly:job")
        if name in (n for n, _ in parsed) or name in (SERVICE, SITE):
            raise UsageError(f"--workload {entry}", f"names {name!r} twice or after a folder init makes itself", "give each workload its own name")
        parsed.append((name, kind))
    return tuple(parsed)


def _missing(given: dict[str, object | None]) -> Question | None:
    """The first required answer no flag gave: init asks from there on a terminal (or stops, off one)."""
    return next((q for q in QUESTIONS if not q.optional and given.get(q.flag) is None), None)


def _ask_workloads() -> tuple[tuple[str, str], ...]:
    """One workload a line beside the web service init always makes, each checked with everything asked before it."""
    chosen: tuple[tuple[str, str], ...] = ()
    while True:
        raw = str(ui.prompt(f"another workload (NAME:KIND, a kind of {', '.join(WORKLOAD_KINDS)}; empty when done)", default="")).strip()
        if not raw:
            return chosen
        try:
            chosen = parse_workloads((*(f"{name}:{kind}" for name, kind in chosen), raw))
        except UsageError as error:
            ui.info(f"  {raw}: {error.what}; try again")


def answers(given: dict[str, object | None], alert_emails: tuple[str, ...], database: bool = False) -> Answers:
    """Flags first; on a terminal the rest is asked, one answer at a time, each checked before the next."""
    missing = _missing(given)
    asking = missing is not None
    if missing is not None and not ui.interactive():
        raise UsageError(missing.flag, f"is required when not running on a terminal ({missing.form})")
    chosen: dict[str, object | None] = {}
    for question in QUESTIONS:
        value = given.get(question.flag)
        if value is not None:
            value = _value(question, str(value))
            problem = answer_problem(question.section, question.key, value)
            if problem is not None:
                raise UsageError(question.flag, f"{value!r}: {problem}")
        elif asking and not (question.flag == "--repository-id" and chosen.get("--repository-owner-id") is None):
            value = _ask(question, _default_region() if question.key == "region" else None)
        chosen[question.flag] = value
    return Answers(str(chosen["--app"]), str(chosen["--repository"]), str(chosen["--region"]), str(chosen["--staging-account"]),
                   str(chosen["--production-account"]), alert_emails, chosen["--repository-owner-id"], chosen["--repository-id"],
                   database)


def init(directory: Path, given: dict[str, object | None], alert_emails: tuple[str, ...], *, force: bool, lock: bool,
         database: bool = False, workloads: tuple[str, ...] = ()) -> list[Path]:
    """workloads: NAME:KIND beside [service] (--workload), each with a table and, where its folder does not exist yet,
    a starter its kind's verdict passes."""
    kinds = parse_workloads(workloads)
    chosen = answers(given, alert_emails, database)
    if _missing(given) is not None and not kinds:  # asked on a terminal: the workloads are asked too
        kinds = _ask_workloads()
    chosen = replace(chosen, workloads=kinds)
    target = directory / CONFIG
    if target.exists() and not force:
        raise UsageError(str(target), "already exists; nothing was written", "pass --force to overwrite, or `shipyard init --from` to regenerate the pipeline")
    text = render_config(chosen)
    # The folders the config names, which validation looks for. A service and a site that do not exist yet get a
    # starter each (so `init` then `up` works in an empty directory); one that exists is never touched.
    folders = [directory / SERVICE, directory / SITE] + ([directory / MIGRATIONS] if database else [])
    folders += [directory / name for name, _ in kinds]
    made = [folder for folder in folders if not folder.exists()]
    starters: list[Path] = []
    kind_of = dict(kinds)
    for folder in made:
        folder.mkdir(parents=True)
        files = (starter(folder.name, chosen.app) if folder.name in (SERVICE, SITE) else
                 workload_starter(folder.name, kind_of[folder.name]) if folder.name in kind_of else {})
        for relative, content in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
            starters.append(path)
    # Checked exactly as shipyard will read it, before anything else is written.
    try:
        parse_config(tomllib.loads(text), target)
    except Exception:
        for folder in made:
            shutil.rmtree(folder)
        raise
    target.write_text(text)
    return [target, *starters, *regenerate(target, lock=lock)]


def regenerate(config_path: Path, *, lock: bool) -> list[Path]:
    """The pipeline for every environment of this shipyard.toml, in promotion order (and its locks, with lock=True)."""
    config = load_config(config_path)
    written = []
    if lock:
        with ui.progress("locking the pipeline's tools") as advance:
            written += write_locks(config, advance)
    return written + write_workflow(config)


def check(config_path: Path) -> list[str]:
    problems = stale(load_config(config_path))
    if problems:
        raise StalePipeline(str(config_path), problems)
    return problems


class StalePipeline(ShipyardError):
    def __init__(self, where: str, problems: list[str]) -> None:
        super().__init__(where, f"the committed pipeline is stale: {len(problems)} problem(s)",
                         "run `shipyard init --from shipyard.toml` (and `--lock` for the locks) and commit the result")
        self.problems = problems

    def lines(self) -> list[str]:
        return [self.one_line(), *(f"  {p}" for p in self.problems)]
