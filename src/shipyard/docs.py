"""Documentation generated from the code's own metadata, so it cannot drift."""

from __future__ import annotations

from collections.abc import Callable

from shipyard.config import reference_markdown

_START = "<!-- generated:config-reference:start -->"
_END = "<!-- generated:config-reference:end -->"


def render_readme(current: str) -> str:
    """README.md with its config reference section replaced by the current one."""
    head, _, rest = current.partition(_START)
    _, _, tail = rest.partition(_END)
    return f"{head}{_START}\n{reference_markdown()}{_END}{tail}"


GENERATED: dict[str, Callable[[str], str]] = {"README.md": render_readme}
