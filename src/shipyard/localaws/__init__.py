"""The embedded AWS, sealed, laid out like moto: a package per AWS service holding its CloudFormation handlers,
its corrections of moto and its runtime (ecs/: task processes, deployments, ECS Exec; cloudfront/: the local edge
and its functions; rds/: PostgreSQL and its TLS front; ecr/: scans; cloudformation/: its waits), core/ for what
they share (the handler base, AWS's pace), and server.py, moto's server in-process.

Only the composition root (shipyard.app.target) imports this package, and only these names; the core talks to the
embedded AWS through its AWS APIs like to any other AWS, with the options client_options() hands the core's Target.
The one seam the other way: the embedded AWS raises shipyard.errors' types, which the command line knows how to say.
"""

from shipyard.localaws.server import DEFAULT_PORT, Controls, EmbeddedAws, answers_as_embedded, client_options, first_free_port
from shipyard.localaws.server import register_handlers as load

__all__ = ["DEFAULT_PORT", "Controls", "EmbeddedAws", "answers_as_embedded", "client_options", "first_free_port", "load"]
