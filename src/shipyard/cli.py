"""Thin commands and the one error boundary that maps failures to exit codes."""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from shipyard import __version__, ui
from shipyard.config import DEFAULT_CONFIG, Config, load_config
from shipyard.errors import ExitCode, ShipyardError

app = typer.Typer(
    name="shipyard",
    help="Secure two-environment AWS platform for one containerized web service and its static site.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class _State:
    config_path: Path = Path(DEFAULT_CONFIG)
    debug: bool = False

    def config(self) -> Config:
        return load_config(self.config_path)


state = _State()

EnvironmentsArg = Annotated[Optional[list[str]], typer.Argument(help="environments (default: all in shipyard.toml)")]


def _version(value: bool) -> None:
    if value:
        print(f"shipyard {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="SHIPYARD_CONFIG", help="path to shipyard.toml")] = Path(DEFAULT_CONFIG),
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")] = False,
) -> None:
    state.config_path = config
    state.debug = debug


@app.command()
def validate() -> None:
    """Check shipyard.toml only; nothing else runs."""
    config = state.config()
    envs = ", ".join(f"{e.name} ({e.account}, {e.region})" for e in config.environments.values())
    print(f"{config.path}: valid; environments: {envs}")


@app.command()
def synth(
    environments: EnvironmentsArg = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output directory (default: cdk.out beside shipyard.toml)")] = None,
) -> None:
    """Write one CloudFormation cloud assembly per environment."""
    from shipyard.synth import synthesize

    config = state.config()
    selected = config.select(environments)
    started = time.perf_counter()
    assemblies = synthesize(config, selected, out or config.directory / "cdk.out")
    rows = [(a.environment.name, s.name, s.region, s.resource_count, os.path.relpath(s.template_path))
            for a in assemblies for s in a.stacks]
    ui.table("stacks (deploy order)", ["environment", "stack", "region", "resources", "template"], rows)
    ui.info(f"synthesized {len(rows)} stacks for {len(assemblies)} environments in {time.perf_counter() - started:.1f}s")


def run() -> None:
    """Console-script entry point: the single error boundary."""
    try:
        app(standalone_mode=False)
    except ShipyardError as exc:
        if state.debug:
            traceback.print_exc()
        ui.error(exc.one_line(), exc.hint)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        ui.error("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        ui.error("aborted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:  # click usage errors and anything unexpected
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(int(ExitCode.BAD_INPUT))
        if state.debug:
            raise
        ui.error(f"unexpected error: {exc!r}", "run again with --debug and report the traceback")
        sys.exit(int(ExitCode.FAILURE))
