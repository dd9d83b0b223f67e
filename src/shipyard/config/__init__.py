"""shipyard.toml -> frozen, validated models: the first stage of the data flow.

catalogue.py     what AWS accepts (sizes, regions, versions) and what a credential looks like
models.py        the sections other than the environments, key by key
environment.py   an environment's keys, and the resolved Environment the blueprint builds from
sections.py      Config, and SECTIONS: the one list of sections that loading, the reference and init read
load.py          reading the file: every problem of it in one run
cross_checks.py  what needs several keys or the disk, and the policy gate's refusals the file alone shows
messages.py      one line per invalid key
reference.py     the README's table of keys, made from SECTIONS
"""

from shipyard.config.catalogue import ENGINE_TITLES, ENGINE_VERSIONS, aurora_max_connections, fargate_memory_options, max_connections
from shipyard.config.cross_checks import refusals
from shipyard.config.environment import Environment
from shipyard.config.load import load_config, parse_config
from shipyard.config.messages import answer_problem
from shipyard.config.models import (
    DEFAULT_CONFIG,
    UNSUPPRESSABLE_IN_PRODUCTION,
    AppConfig,
    DatabaseConfig,
    PreviewsConfig,
    ReleaseConfig,
    ServiceConfig,
    SiteConfig,
)
from shipyard.config.reference import reference_markdown
from shipyard.config.sections import Config

__all__ = [
    "DEFAULT_CONFIG",
    "ENGINE_TITLES",
    "ENGINE_VERSIONS",
    "UNSUPPRESSABLE_IN_PRODUCTION",
    "AppConfig",
    "Config",
    "DatabaseConfig",
    "Environment",
    "PreviewsConfig",
    "ReleaseConfig",
    "ServiceConfig",
    "SiteConfig",
    "answer_problem",
    "aurora_max_connections",
    "fargate_memory_options",
    "load_config",
    "max_connections",
    "parse_config",
    "reference_markdown",
    "refusals",
]
