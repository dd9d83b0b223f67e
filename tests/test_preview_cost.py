"""What one preview adds to its base a month: `preview list`'s and docs/previews.md's figure, from its template."""

from __future__ import annotations

from shipyard.app.previewing import preview_cost
from shipyard.config import load_config

from .conftest import copy_example


def test_a_preview_with_a_database_is_priced_as_its_one_task(tmp_path):
    app = copy_example(tmp_path / "app")
    app.write_text(app.read_text() + '\n[previews]\nbase = "staging"\n')
    cost = preview_cost(load_config(app))
    [tasks] = [line for line in cost.lines if line.item.startswith("Fargate")]
    assert tasks.detail.startswith("1 tasks x 0.25 vCPU / 0.5 GB") and tasks.monthly > 0
    assert any(line.item.startswith("Secrets Manager") for line in cost.lines)  # its database user's secret


def test_a_preview_is_priced_for_its_awake_hours_and_the_example_app_costs_at_most_five_dollars(tmp_path):
    app = copy_example(tmp_path / "app")
    text = app.read_text()
    app.write_text(text + '\n[previews]\nbase = "staging"\n')
    cost = preview_cost(load_config(app))
    [tasks] = [line for line in cost.lines if line.item.startswith("Fargate")]
    assert "x 261 h (awake 36% of the week)" in tasks.detail  # Mon-Fri 07:00-19:00: 60 of 168 hours
    assert cost.total <= 5, cost.total  # issue 27's goal for one preview of the example app
    app.write_text(text + '\n[previews]\nbase = "staging"\nawake = "always"\n')
    always = preview_cost(load_config(app))
    assert "x 730 h" in next(line for line in always.lines if line.item.startswith("Fargate")).detail and always.total > cost.total


def test_a_preview_of_the_app_of_several_workloads_is_one_task_and_one_address_under_five_dollars():
    from pathlib import Path

    cost = preview_cost(load_config(Path(__file__).resolve().parents[1] / "examples" / "shop" / "shipyard.toml"))
    [tasks] = [line for line in cost.lines if line.item.startswith("Fargate")]
    [addresses] = [line for line in cost.lines if line.item.startswith("Public IPv4")]
    assert tasks.detail.startswith("1 tasks x 0.5 vCPU / 1 GB") and addresses.detail.startswith("1 addresses")
    assert any(line.item == "SQS" for line in cost.lines)  # its worker's container long-polls the queue
    assert cost.total <= 5, cost.total  # issue 27's goal for one preview, awake hours included
