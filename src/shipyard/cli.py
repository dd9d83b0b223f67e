"""The command line's entry point and its one error boundary: every command's failure becomes one line on stderr
with a hint, and an exit code from errors.ExitCode; --debug adds the traceback. The commands live in commands/,
what they share in cli_options.py."""

from __future__ import annotations

import functools
import gc
import signal
import sys
import traceback

import click
import typer

from shipyard import render, ui
from shipyard.cli_options import GLOBAL_OPTIONS, app, state
from shipyard.commands import build, deploying, operating, preview_environments, shipping  # noqa: F401  (each registers its commands)
from shipyard.errors import ExitCode, ShipyardError
from shipyard.release.attempt import ReleaseFailed

__all__ = ["app", "run", "state"]


@functools.cache
def _command() -> click.Command:
    """The click command typer builds from every command's signature (17 ms): once a process, not once a run (tests
    run the entry point many times in one process)."""
    return typer.main.get_command(app)


def run() -> None:
    """Console-script entry point: the single error boundary."""
    # SIGTERM (a cancelled CI job) ends like Ctrl-C: what was running is recorded, exit 130.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # What the imports made lives as long as the process: the collector need not walk it again and again.
    gc.freeze()
    try:
        code = _command().main(standalone_mode=False)
        if isinstance(code, int) and code:  # without standalone mode click returns typer.Exit's code instead of exiting
            sys.exit(code)
    except ShipyardError as exc:
        if state.debug:
            traceback.print_exc()
        if isinstance(exc, ReleaseFailed):  # what was tried and timed, before the verdict
            render.attempts(exc.outcome)
        *first, last = exc.lines()
        for line in first:
            ui.error(line)
        ui.error(last, exc.hint)
        sys.exit(int(exc.exit_code))
    except (KeyboardInterrupt, typer.Abort):
        ui.error("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:  # click usage errors (typer's own click, too) and anything unexpected
        if isinstance(exc, (click.ClickException, typer.TyperException)) and hasattr(exc, "show"):
            exc.show()
            if getattr(exc, "option_name", "") in GLOBAL_OPTIONS:
                ui.error(f"{exc.option_name} is a global option", f"put it before the command: shipyard {exc.option_name} ... "
                         f"{' '.join(sys.argv[1:2])} ...")
            sys.exit(int(ExitCode.BAD_INPUT))
        if state.debug:
            raise
        ui.error(f"unexpected error: {exc!r}", "run again with --debug and report the traceback")
        sys.exit(int(ExitCode.FAILURE))
    finally:
        # The process ends and its objects with it: frozen, the collector spares its passes over them at exit (over a
        # second after a run of the embedded AWS). atexit handlers still run.
        gc.freeze()
