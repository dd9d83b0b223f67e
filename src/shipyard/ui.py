"""Progress and tables for people: rich on a TTY, plain lines otherwise, silent in tests.

Results go to stdout; progress and diagnostics go to stderr and only show
progress animation when stderr is a terminal.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from shipyard.aws.cloudformation import StackEvent

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def info(message: str) -> None:
    """Progress and diagnostics: stderr."""
    err.print(message, markup=False)


def result(text: str = "") -> None:
    """A line of the command's result: stdout, plain, so scripts can read it."""
    print(text)
    sys.stdout.flush()


def write(text: str) -> None:
    """A document (JSON, SARIF) on stdout, exactly as given."""
    sys.stdout.write(text)
    sys.stdout.flush()


def interactive() -> bool:
    return sys.stdin.isatty()


def confirm(question: str) -> bool:
    import typer

    return typer.confirm(question, default=False)


def prompt(question: str, *, default: str | None = None) -> str:
    import typer

    return typer.prompt(question, default=default)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], *, shown_whole_below: Sequence[str] = ()) -> None:
    """A table on a terminal; tab-separated lines when piped, so scripts can read it. shown_whole_below: columns the
    caller prints whole after the table, which a terminal's table leaves out rather than cut to its width."""
    rows = [[str(c) for c in row] for row in rows]
    if out.is_terminal:
        kept = [index for index, column in enumerate(columns) if column not in shown_whole_below]
        t = Table(title=title, title_justify="left")
        for index in kept:
            t.add_column(columns[index])
        for row in rows:
            t.add_row(*(row[index] for index in kept))
        out.print(t)
    else:
        print(f"# {title}")
        print("\t".join(columns))
        for row in rows:
            print("\t".join(row))
    sys.stdout.flush()


def error(message: str, hint: str = "") -> None:
    err.print(f"[bold red]error:[/] {message}" if err.is_terminal else f"error: {message}", markup=err.is_terminal)
    if hint:
        err.print(f"hint: {hint}", markup=False)


_STATUS_STYLE = {"FAILED": "red", "ROLLBACK": "yellow", "COMPLETE": "green", "IN_PROGRESS": "dim"}
verbose = False  # every CloudFormation event on a terminal too (--verbose)


def stack_event(stack: str, event: StackEvent) -> None:
    """One CloudFormation event: colored on a terminal, a plain timestamped line otherwise."""
    line = f"  {stack}  {event.logical_id}  {event.status}" + (f"  {event.reason}" if event.reason else "")
    if err.is_terminal:
        style = next((s for key, s in _STATUS_STYLE.items() if key in event.status), "")
        err.print(line, style=style, markup=False, highlight=False)
    else:
        stamp = event.timestamp
        err.print((f"[{stamp:%H:%M:%S}]" if stamp is not None else "") + line, markup=False, highlight=False)


_live_lock = threading.Lock()
_live_lines: dict[str, str] = {}
_live: Live | None = None


def _live_line(key: str, line: str | None) -> None:
    """One live display for every stack in progress (stacks deploy side by side); None removes the line."""
    global _live
    with _live_lock:
        if line is None:
            _live_lines.pop(key, None)
        else:
            _live_lines[key] = line
        if _live is None and _live_lines:
            _live = Live(console=err, transient=True, refresh_per_second=4)
            _live.start()
        if _live is not None and _live_lines:
            _live.update(Group(*(Text(text) for text in _live_lines.values())))
        elif _live is not None:
            _live.stop()
            _live = None


@contextmanager
def stack_progress(stack: str, total: int | None) -> Iterator[Callable[[StackEvent], None]]:
    """The events of one stack operation. Yields record(event).

    Off a terminal, or with --verbose, every event is a line. On a terminal, one live line (resources done of
    total, the resource in progress, elapsed), as CDK's and Copilot's displays do; the full event stream is
    printed only if the stack fails or rolls back.
    """
    import time

    if verbose or not err.is_terminal:
        yield lambda event: stack_event(stack, event)
        return
    kept: list[StackEvent] = []
    done: set[str] = set()
    started = time.monotonic()

    def record(event: StackEvent) -> None:
        kept.append(event)
        logical, state = event.logical_id, event.status
        if logical != stack and state.endswith("_COMPLETE"):
            done.add(logical)
        of = f"/{total}" if total else ""
        now = f", {logical} {state}" if logical != stack and state.endswith("_IN_PROGRESS") else ""
        _live_line(stack, f"{stack}: {len(done)}{of} resources done{now} ({time.monotonic() - started:.0f}s)")

    _live_line(stack, f"{stack}: starting")
    interrupted = True
    try:
        yield record
        interrupted = False
    finally:
        _live_line(stack, None)
        final = next((e.status for e in reversed(kept) if e.logical_id == stack), "")
        if interrupted or "FAILED" in final or "ROLLBACK" in final:
            for event in kept:
                stack_event(stack, event)
        else:
            info(f"{stack}: {final or 'done'}, {len(done)} resources ({time.monotonic() - started:.0f}s)")


@contextmanager
def progress(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner with the latest item on a terminal; silent otherwise. Yields advance(item)."""
    if not err.is_terminal:
        yield lambda item: None
        return
    count = 0

    def advance(item: str) -> None:
        nonlocal count
        count += 1
        _live_line(title, f"{title}: {count} done, last {item}")

    _live_line(title, title)
    try:
        yield advance
    finally:
        _live_line(title, None)


PLAIN_PROGRESS_EVERY = 10.0  # seconds between progress lines off a terminal


@contextmanager
def waiting(what: str) -> Iterator[Callable[[str], None]]:
    """Progress of a long wait: a live line on a terminal; off a terminal a timed line at least every 10 s. Yields show(state)."""
    import time

    started = time.monotonic()
    if err.is_terminal:
        _live_line(what, what)
        try:
            yield lambda state: _live_line(what, f"{what}: {state} ({time.monotonic() - started:.0f}s)")
        finally:
            _live_line(what, None)
        return
    last_line = -PLAIN_PROGRESS_EVERY

    def show(state: str) -> None:
        nonlocal last_line
        elapsed = time.monotonic() - started
        if elapsed - last_line >= PLAIN_PROGRESS_EVERY:
            last_line = elapsed
            info(f"[{time.strftime('%H:%M:%S')} +{elapsed:.0f}s] {what}: {state}")

    yield show
