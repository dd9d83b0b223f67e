"""The embedded AWS, sealed: moto's server in-process, shipyard's CloudFormation handlers and
corrections of moto (one module per service in services/), ECS tasks as local processes with real health checks
(task_runtime.py, rollout.py), and a local edge per CloudFront distribution (edge.py).

Only the composition root (shipyard.app.target) imports this package; the core
talks to the embedded AWS through its AWS APIs like to any other AWS, with the
options client_options() hands the core's Target.
"""

from shipyard.localaws.scans import register_scan
from shipyard.localaws.server import DEFAULT_PORT, EmbeddedAws, client_options, first_free_port
from shipyard.localaws.task_runtime import cache_root as profiles_directory

__all__ = ["DEFAULT_PORT", "EmbeddedAws", "client_options", "first_free_port", "profiles_directory", "register_scan"]
