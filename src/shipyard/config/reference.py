"""The reference of shipyard.toml's keys (the README's configuration table), made from the models' own fields and
descriptions through the one list of sections, so a section or a key cannot be missing from it."""

from __future__ import annotations

from shipyard.config.sections import SECTIONS


def reference() -> list[tuple[str, str, str]]:
    """(key, default, description) rows for the README's config reference."""
    rows = []
    for section in SECTIONS:
        if section.prefix is None:
            continue
        # Stable sort: the required keys (an environment's account) first, then the rest in declaration order.
        for name, info in sorted(section.model.model_fields.items(), key=lambda item: not item[1].is_required()):
            default = "required" if info.is_required() else f"`{info.get_default(call_default_factory=True)!r}`"
            rows.append((f"{section.prefix}.{name}", default, info.description or ""))
    return rows


def reference_markdown() -> str:
    lines = ["| key | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{key}` | {default} | {text} |" for key, default, text in reference()]
    note = ("Every key of `environments.<name>` except `account`, `domain`, `hosted_zone`, `hosted_zone_id`, `www`, `dns` and "
            "`production` may also be set under `[defaults]`, which each environment's own value overrides.")
    return "\n".join(lines) + "\n\n" + note + "\n"
