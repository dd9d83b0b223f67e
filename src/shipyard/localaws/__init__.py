"""The embedded AWS, sealed: moto's server in-process, shipyard's CloudFormation handlers and
corrections of moto (one module per service in services/), and the ECS rollout simulator.

Only the composition root (shipyard.app.target) imports this package; the core
talks to the embedded AWS through its AWS APIs like to any other AWS, with the
options client_options() hands the core's Target.
"""

from shipyard.localaws.rollout import FAULTS
from shipyard.localaws.server import DEFAULT_PORT, EmbeddedAws, client_options, first_free_port
from shipyard.localaws.synthetic_image import push as push_synthetic_image

__all__ = ["DEFAULT_PORT", "FAULTS", "EmbeddedAws", "client_options", "first_free_port", "push_synthetic_image"]
