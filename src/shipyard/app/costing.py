"""`shipyard cost`, and the cost change `plan` prints."""

from __future__ import annotations

import dataclasses

from shipyard.aws import Aws, Target
from shipyard.config import Config
from shipyard.cost.estimate import EnvironmentCost, Traffic, estimate_environment, footprint, price, total
from shipyard.cost.price_list import cached, live_prices
from shipyard.cost.prices import Prices, for_region
from shipyard.deploy.state import deployed_templates
from shipyard.errors import UsageError
from shipyard.synth import EnvironmentAssembly, synthesize


def estimate(config: Config, names: list[str] | None, *, compare: str | None, overrides: dict[str, float | None],
             live: Target | None = None) -> list[EnvironmentCost]:
    """Each environment priced from its templates: on the offline table, or on the Price List's current prices (live)."""
    if compare not in (None, "reference"):
        raise UsageError("--compare", f"{compare!r} is not a comparison; use reference")
    selected = config.select(names)
    # An unknown region fails before the synth.
    pricing = Aws(live, "") if live else None  # the Price List answers every account alike
    prices = {env.name: current_prices(pricing, env.region) if pricing else for_region(env.region) for env in selected}
    given = {key: value for key, value in overrides.items() if value is not None}
    results = []
    for assembly in synthesize(config, selected, config.directory / "cdk.out"):
        env = assembly.environment
        traffic = dataclasses.replace(Traffic.default(env.is_production), **given)
        results.append(estimate_environment(env.name, env.region, env.is_production, [s.template() for s in assembly.stacks],
                                            prices[env.name], traffic, compare == "reference", wake_hours=env.wake_hours))
    return results


def current_prices(aws: Aws, region: str) -> Prices:
    """The region's prices from the AWS Price List Query API, cached for a week beside the check results."""
    from shipyard.content_cache import directory

    return cached(region, directory(), lambda: live_prices(region, aws.pricing().products))


def monthly_cost_change(aws: Aws, assembly: EnvironmentAssembly) -> tuple[float, float]:
    """(deployed, planned) monthly estimate of an environment."""
    env = assembly.environment
    prices, traffic = for_region(env.region), Traffic.default(env.is_production)
    before = total(price(footprint(deployed_templates(aws, assembly)), prices, traffic))
    after = total(price(footprint([s.template() for s in assembly.stacks]), prices, traffic))
    return before, after
