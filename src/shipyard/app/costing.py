"""`shipyard cost`, and the cost change `plan` prints."""

from __future__ import annotations

import dataclasses

from shipyard.aws import Aws
from shipyard.config import Config
from shipyard.cost.estimate import EnvironmentCost, Traffic, estimate_environment, footprint, price, total
from shipyard.cost.prices import for_region
from shipyard.deploy.state import deployed_templates
from shipyard.errors import UsageError
from shipyard.synth import EnvironmentAssembly, synthesize


def estimate(config: Config, names: list[str] | None, *, compare: str | None, overrides: dict[str, float | None]) -> list[EnvironmentCost]:
    if compare not in (None, "reference"):
        raise UsageError("--compare", f"{compare!r} is not a comparison; use reference")
    selected = config.select(names)
    prices = {env.name: for_region(env.region) for env in selected}  # an unknown region fails before the synth
    given = {key: value for key, value in overrides.items() if value is not None}
    results = []
    for assembly in synthesize(config, selected, config.directory / "cdk.out"):
        env = assembly.environment
        traffic = dataclasses.replace(Traffic.default(env.is_production), **given)
        results.append(estimate_environment(env.name, env.region, env.is_production, [s.template() for s in assembly.stacks],
                                            prices[env.name], traffic, compare == "reference"))
    return results


def monthly_cost_change(aws: Aws, assembly: EnvironmentAssembly) -> tuple[float, float]:
    """(deployed, planned) monthly estimate of an environment."""
    env = assembly.environment
    prices, traffic = for_region(env.region), Traffic.default(env.is_production)
    before = total(price(footprint(deployed_templates(aws, assembly)), prices, traffic))
    after = total(price(footprint([s.template() for s in assembly.stacks]), prices, traffic))
    return before, after
