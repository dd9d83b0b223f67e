"""Run work side by side where nothing orders it: stacks of an environment, environments of an `up`.

On AWS most of a first deploy is waiting (a load balancer, a CloudFront
distribution, a VPC origin), so stacks that do not depend on each other, and
environments in separate accounts, are deployed at once on threads. Each item
starts when everything it comes after has finished. The first failure stops
new work from starting; work already running finishes (a half-made stack is
worse than a finished one), then the failure is raised. Ctrl-C asks running
work to stop at its next wait (the `stop` event, deploy.apply.stop_requested
for stack waits); the interruption is raised once it has.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_graph(items: Sequence[T], *, key: Callable[[T], Hashable], after: Callable[[T], Sequence[Hashable]],
              run: Callable[[T], R], stop: threading.Event, at_once: int | None = None) -> list[R]:
    """run(item) for every item, each after the items it names in after(item); results in the items' order.

    at_once: at most this many items run at the same time (default: all that are ready).
    """
    known = {key(item) for item in items}
    pending = list(items)
    done: dict[Hashable, R] = {}
    running: dict[Future[R], T] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=at_once or max(len(items), 1), thread_name_prefix="side-by-side") as pool:
        try:
            while pending or running:
                ready = [i for i in pending if all(d in done for d in after(i) if d in known)] if failure is None else []
                for item in ready:
                    pending.remove(item)
                    running[pool.submit(run, item)] = item
                if not running:
                    break  # a failure left the rest unstarted
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    item = running.pop(future)
                    if future.exception() is not None:
                        failure = failure or future.exception()
                    else:
                        done[key(item)] = future.result()
        except KeyboardInterrupt:  # only the main thread gets it; nested graphs see it through `stop`
            stop.set()
            finished, _ = wait(running)
            stop.clear()
            stopped = [f.exception() for f in finished if f.exception() is not None]
            if stopped:  # the work's own account of where it stopped
                raise stopped[0] from None
            raise
    if failure is not None:
        raise failure
    return [done[key(item)] for item in items]
