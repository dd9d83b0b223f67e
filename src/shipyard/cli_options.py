"""What every command shares: the Typer app and its global options, the arguments and options commands declare
alike, and the option groups a command takes whole: where its AWS calls go (TARGET), how a release is judged
(GATE), init's answers (ANSWERS). A command names the group's parameter (`target`, `gate`, `given`) and receives
the group's value instead of its options."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal, Optional

import typer

from shipyard import __version__, ui
from shipyard.app import target as targets
from shipyard.app.context import EnvironmentContext, open_environment
from shipyard.app.releases import Gate
from shipyard.config import DEFAULT_CONFIG, Config, load_config
from shipyard.errors import ExitCode

app = typer.Typer(name="shipyard", add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Secure two-environment AWS platform for one containerized web service and its static site.")
state = SimpleNamespace(config_path=Path(DEFAULT_CONFIG), debug=False)  # set by the global options
GLOBAL_OPTIONS = ("--config", "-c", "--debug", "--verbose")

EnvironmentsArg = Annotated[Optional[list[str]], typer.Argument(help="environments (default: all in shipyard.toml)")]
EnvironmentArg = Annotated[str, typer.Argument(help="environment name from shipyard.toml")]
ConfigOption = Annotated[Path, typer.Option("--config", "-c", envvar="SHIPYARD_CONFIG", help="path to shipyard.toml")]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="confirm changes to production (and stack replacement)")]
FormatOption = Annotated[Literal["table", "json"], typer.Option("--format", help="table or json")]
HealthUrlOption = Annotated[Optional[str], typer.Option(
    "--health-url", help="health URL to gate on (default: the distribution's <health path>; on the embedded AWS, whichever flag chose it, its local edge)")]
ServiceOption = Annotated[Optional[str], typer.Option(
    "--service", help="a workload beside [service], by its name in shipyard.toml ([services.NAME]); default: [service]")]
OverrideBudget = Annotated[Optional[str], typer.Option("--override-budget", help="reason to release to production while the budget alarm is in ALARM")]


def _version(value: bool) -> None:
    if value:
        ui.result(f"shipyard {__version__}")
        raise typer.Exit


@app.callback()
def main(config: ConfigOption = Path(DEFAULT_CONFIG),
         debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
         verbose: Annotated[bool, typer.Option("--verbose", help="print every CloudFormation event on a terminal too")] = False,
         version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")] = False) -> None:
    state.config_path, state.debug, ui.verbose = config, debug, verbose


def config() -> Config:
    return load_config(state.config_path)


def context(environment: str, target: targets.Choice) -> EnvironmentContext:
    return open_environment(config(), environment, target.target())


def after_dashes(words: list[str]) -> list[str]:
    """The command given after --, where shipyard's options end (they may come before or after ENVIRONMENT, as for
    every command); click hands on the -- itself when the command comes right after ENVIRONMENT."""
    return words[1:] if words[:1] == ["--"] else words


def exit_with(code: int | None) -> None:
    """Exit with `code` (a command's, a session's), FAILURE when there is none, and carry on at 0."""
    if code != 0:
        raise typer.Exit(int(ExitCode.FAILURE) if code is None else code)


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


@dataclass(frozen=True)
class OptionGroup:
    name: str  # the parameter the command declares, and receives the group's value in
    options: tuple[inspect.Parameter, ...]
    build: Callable[..., Any]  # the options' values -> the group's value


TARGET = OptionGroup("target", (
    _option("use_aws", Annotated[bool, typer.Option("--aws", help="use real AWS (default credentials, or --profile)")], False),
    _option("profile", Annotated[Optional[str], typer.Option("--profile", help="AWS profile to use (implies --aws)")], None),
    _option("endpoint", Annotated[Optional[str], typer.Option("--endpoint", envvar="SHIPYARD_ENDPOINT",
                                                              help="embedded AWS endpoint printed by `shipyard local`")], None),
), targets.Choice)

# `init`'s answers, as flags; what they omit, init asks for on a terminal.
ANSWERS = OptionGroup("given", (
    _option("app_name", Annotated[Optional[str], typer.Option("--app", help="application name")], None),
    _option("repository", Annotated[Optional[str], typer.Option("--repository", help="GitHub repository owner/repo")], None),
    _option("owner_id", Annotated[Optional[int], typer.Option("--repository-owner-id", help="the owner's numeric id (immutable OIDC subject)")], None),
    _option("repository_id", Annotated[Optional[int], typer.Option("--repository-id", help="the repository's numeric id (immutable OIDC subject)")], None),
    _option("region", Annotated[Optional[str], typer.Option("--region", help="AWS region")], None),
    _option("staging_account", Annotated[Optional[str], typer.Option("--staging-account", help="12-digit account id of staging")], None),
    _option("production_account", Annotated[Optional[str], typer.Option("--production-account", help="12-digit account id of production")], None),
), lambda app_name, repository, owner_id, repository_id, region, staging_account, production_account: {
    "--app": app_name, "--repository": repository, "--repository-owner-id": owner_id, "--repository-id": repository_id,
    "--region": region, "--staging-account": staging_account, "--production-account": production_account})

GATE = OptionGroup("gate", (
    _option("health_url", HealthUrlOption, None),
    _option("rollout_timeout", Annotated[Optional[float], typer.Option("--rollout-timeout", help="seconds to wait for the ECS rollout")], None),
    _option("health_timeout", Annotated[Optional[float], typer.Option("--health-timeout", help="seconds for the health gate")], None),
    _option("break_lock", Annotated[bool, typer.Option("--break-lock", help="break another release's lock whose lease has expired")], False),
    _option("smoke", Annotated[bool, typer.Option("--smoke", help="run each scheduled job whose image changes once; the release "
                                                                  "fails unless it succeeds")], False),
), Gate)


def command(name: str | None = None, *, groups: tuple[OptionGroup, ...] = (TARGET,), on: typer.Typer | None = None,
            **settings: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `function` as a command (of `on`, a group of commands, or of shipyard itself) taking each group's options,
    handed to it as the group's value."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(function, eval_str=True)
        taken = {group.name for group in groups}
        own = [p for p in signature.parameters.values() if p.name not in taken]

        def run(**values: Any) -> Any:
            for group in groups:
                values[group.name] = group.build(**{option.name: values.pop(option.name) for option in group.options})
            return function(**values)

        run.__signature__ = signature.replace(parameters=[*own, *(option for group in groups for option in group.options)])  # type: ignore[attr-defined]
        run.__name__, run.__doc__ = function.__name__, function.__doc__
        return (on or app).command(name, **settings)(run)

    return register
