"""shipyard's own rules, one per module, discovered from this folder; RULES lists them in id order.

A rule module defines RULE, an instance of a checks.base.Rule subclass.
"""

import importlib
import pkgutil

RULES = sorted(
    (importlib.import_module(f"{__name__}.{module.name}").RULE for module in pkgutil.iter_modules(__path__)),
    key=lambda rule: rule.id,
)
