"""Deploy progress: one live line per stack on a terminal, the full event stream only on failure or --verbose."""

from __future__ import annotations

import datetime
import io

import pytest
from rich.console import Console

from shipyard import ui
from shipyard.aws.cloudformation import StackEvent


def _events(stack: str, final: str) -> list[StackEvent]:
    at = datetime.datetime(2026, 11, 29, 6, 0, 0)
    return [StackEvent("1", stack, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", timestamp=at),
            StackEvent("2", "WebService", "AWS::ECS::Service", "UPDATE_IN_PROGRESS", timestamp=at),
            StackEvent("3", "WebService", "AWS::ECS::Service", "UPDATE_COMPLETE", timestamp=at),
            StackEvent("4", stack, "AWS::CloudFormation::Stack", final, timestamp=at)]


@pytest.fixture
def stderr(monkeypatch):
    def console(terminal: bool) -> io.StringIO:
        buffer = io.StringIO()
        monkeypatch.setattr(ui, "err", Console(file=buffer, force_terminal=terminal, width=200, highlight=False))
        return buffer

    return console


def test_a_terminal_gets_one_line_per_stack_when_it_succeeds(stderr):
    buffer = stderr(True)
    with ui.stack_progress("app-service", 1) as record:
        for event in _events("app-service", "UPDATE_COMPLETE"):
            record(event)
    text = buffer.getvalue()
    assert "app-service: UPDATE_COMPLETE, 1 resources" in text
    assert "WebService  UPDATE_IN_PROGRESS" not in text


def test_a_terminal_gets_every_event_of_a_stack_that_rolls_back(stderr):
    buffer = stderr(True)
    with ui.stack_progress("app-service", 1) as record:
        for event in _events("app-service", "UPDATE_ROLLBACK_COMPLETE"):
            record(event)
    assert "WebService  UPDATE_IN_PROGRESS" in buffer.getvalue()


def test_verbose_and_plain_output_stream_every_event_with_plain_timestamps(stderr, monkeypatch):
    buffer = stderr(False)
    with ui.stack_progress("app-service", 1) as record:
        for event in _events("app-service", "UPDATE_COMPLETE"):
            record(event)
    assert "[06:00:00]  app-service  WebService  UPDATE_COMPLETE" in buffer.getvalue()
    buffer = stderr(True)
    monkeypatch.setattr(ui, "verbose", True)
    with ui.stack_progress("app-service", 1) as record:
        record(_events("app-service", "UPDATE_COMPLETE")[1])
    assert "WebService  UPDATE_IN_PROGRESS" in buffer.getvalue()
