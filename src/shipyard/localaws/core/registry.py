"""Every AWS service of the embedded AWS, laid out like moto: a package per service holding its CloudFormation
handlers and its corrections of moto (handlers.py) beside whatever else runs it (ECS's tasks and deployments,
CloudFront's local edge, RDS's PostgreSQL).

A handlers module defines handler classes (defining one registers it with moto's CloudFormation, which finds models
through CloudFormationModel.__subclasses__()) and may define install(), which applies that service's patches
through core.base.patch/wrap, each with the moto behaviour it corrects. Packages are discovered: adding a service
is adding a package with a handlers module.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from types import ModuleType

PACKAGE = Path(__file__).resolve().parent.parent
_loaded: list[ModuleType] = []
_loading = threading.Lock()  # a thread may load ahead (app.target.load_embedded_aws) while another starts the server


def service_packages() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir() if (p / "handlers.py").is_file())


def load() -> list[ModuleType]:
    """Import every service's handlers and install its patches, once per process."""
    with _loading:
        return _load()


def _load() -> list[ModuleType]:
    if not _loaded:
        modules = [importlib.import_module(f"shipyard.localaws.{name}.handlers") for name in service_packages()]
        for module in modules:
            install = getattr(module, "install", None)
            if install is not None:
                install()
        _loaded.extend(modules)
    return list(_loaded)


def reset() -> None:
    """Every service's runtime back to nothing: task processes, local edges and database servers stop (a service's
    handlers module defines reset() where it runs something)."""
    for module in load():
        stop = getattr(module, "reset", None)
        if stop is not None:
            stop()
