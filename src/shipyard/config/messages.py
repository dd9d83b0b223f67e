"""What shipyard.toml's keys say when they are wrong: one line per invalid key, in the words of the key's own
rule and range; and the same rules for one answer at a time (`init` asks with them)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from shipyard.config.cross_checks import Problems
from shipyard.config.environment import EnvironmentInput
from shipyard.config.models import AppConfig, _Model


def validate_section(model: type[_Model], data: Any, section: str, problems: Problems, origin: dict[str, str] | None = None):
    """The validated model, or None after adding one problem per invalid key."""
    if not isinstance(data, dict):
        problems.add(f"{section}: must be a table ([{section}])")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            top = loc[0] if loc else ""
            prefix = (origin or {}).get(top, section)
            key = ".".join([prefix, *loc]) if loc else prefix
            problems.add(f"{key}: {describe(error, model)}")
        return None


_TYPE_NAMES = {"int_type": "an integer", "bool_type": "true or false", "string_type": "a string",
               "dict_type": "a table", "int_from_float": "an integer"}


def describe(error: dict[str, Any], model: type[_Model]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        valid = model.model_fields if len(error["loc"]) == 1 else {}
        return "unknown key" + (f"; valid keys: {', '.join(valid)}" if valid else "")
    if kind == "missing":
        field = model.model_fields.get(str(error["loc"][0]))
        return "required key is missing" + (f" ({field.description})" if field and field.description else "")
    if kind in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[kind]}, got {error['input']!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        field = model.model_fields[str(error["loc"][0])]
        bounds = {type(m).__name__: m for m in field.metadata}
        low = getattr(bounds.get("Ge"), "ge", None)
        high = getattr(bounds.get("Le"), "le", None)
        if low is not None and high is not None:
            return f"{error['input']} is out of range; use {low} to {high}"
        return f"{error['input']} is out of range; use at least {low}" if low is not None else f"{error['input']} is out of range; use at most {high}"
    if kind == "string_too_short":
        return f"{error['input']!r} is too short; give at least {error['ctx']['min_length']} characters"
    if kind == "list_type":
        return f"expected a list of tables ([[...]]), got {error['input']!r}"
    if kind == "literal_error":
        return f"{error['input']!r} is not valid; {error['msg'].replace('Input should be', 'use')}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return error["msg"]


_PLACEHOLDERS: dict[str, dict[str, Any]] = {"app": {"name": "app", "region": "us-east-1", "repository": "owner/repo"},
                                            "environment": {"account": "111111111111"}}


def answer_problem(section: str, key: str, value: Any) -> str | None:
    """Why one value of shipyard.toml would be refused (the rules of load_config), or None: init asks with it."""
    model: type[_Model] = AppConfig if section == "app" else EnvironmentInput
    try:
        model.model_validate({**_PLACEHOLDERS[section], key: value})
    except ValidationError as exc:
        for error in exc.errors():
            if tuple(error["loc"][:1]) in ((key,), ()):
                return describe(error, model)
    return None
