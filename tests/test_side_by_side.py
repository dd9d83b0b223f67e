"""run_graph: independent work at once, dependent work in order, the first failure stops new work."""

from __future__ import annotations

import threading
import time

import pytest

from shipyard.side_by_side import run_graph

GRAPH = {"foundation": (), "global": (), "service": ("foundation",), "edge": ("foundation", "global"),
         "edge-alarms": ("edge", "global")}


def test_independent_items_overlap_and_dependencies_are_kept():
    spans: dict[str, tuple[float, float]] = {}

    def run(name: str) -> str:
        started = time.monotonic()
        time.sleep(0.2)
        spans[name] = (started, time.monotonic())
        return name.upper()

    results = run_graph(list(GRAPH), key=lambda n: n, after=lambda n: GRAPH[n], run=run, stop=threading.Event())
    assert results == [n.upper() for n in GRAPH]
    for name, before in GRAPH.items():
        assert all(spans[b][1] <= spans[name][0] for b in before), name
    assert spans["service"][0] < spans["edge"][1] and spans["edge"][0] < spans["service"][1]  # side by side
    assert spans["foundation"][0] < spans["global"][1]


def test_the_first_failure_stops_new_work_and_lets_running_work_finish():
    finished: list[str] = []

    def run(name: str) -> str:
        if name == "foundation":
            raise RuntimeError("foundation failed")
        time.sleep(0.2)
        finished.append(name)
        return name

    with pytest.raises(RuntimeError, match="foundation failed"):
        run_graph(list(GRAPH), key=lambda n: n, after=lambda n: GRAPH[n], run=run, stop=threading.Event())
    assert finished == ["global"]  # already running; nothing that needed the foundation started
