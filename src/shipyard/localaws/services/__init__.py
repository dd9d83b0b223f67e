"""The embedded AWS, one module per AWS service: its CloudFormation handlers and its corrections of moto.

A module defines handler classes (defining one registers it with moto's
CloudFormation, which finds models through CloudFormationModel.__subclasses__())
and may define install(), which applies that service's patches through
_base.patch/wrap, each with the moto behaviour it corrects. Modules are
discovered from this folder: adding a service is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

_loaded: list[ModuleType] = []


def load() -> list[ModuleType]:
    """Import every service module and install its patches, once per process."""
    if not _loaded:
        names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
        modules = [importlib.import_module(f"{__name__}.{name}") for name in names]
        for module in modules:
            install = getattr(module, "install", None)
            if install is not None:
                install()
        _loaded.extend(modules)
    return list(_loaded)
