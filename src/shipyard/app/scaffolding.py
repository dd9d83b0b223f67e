"""`shipyard init`: the answers (from flags, or asked on a terminal), validated, then the files written."""

from __future__ import annotations

import tomllib
from pathlib import Path

from shipyard import ui
from shipyard.config import parse_config
from shipyard.errors import UsageError
from shipyard.scaffold import Answers, render, write


def init(directory: Path, given: dict[str, str | None], alert_emails: tuple[str, ...], *, force: bool) -> list[Path]:
    """given maps each flag (--app, --repository, --region, --staging-account, --production-account) to its value or None."""
    answers = dict(given)
    for flag, value in answers.items():
        if value is None:
            if not ui.interactive():
                raise UsageError(flag, "is required when not running on a terminal")
            answers[flag] = ui.prompt(flag.lstrip("-").replace("-", " "))
    chosen = Answers(answers["--app"], answers["--repository"], answers["--region"], answers["--staging-account"],
                     answers["--production-account"], alert_emails)
    # Validate the answers exactly as shipyard will read them, before writing anything.
    parse_config(tomllib.loads(render(chosen)["shipyard.toml"]), directory / "shipyard.toml")
    return write(directory, chosen, force=force)
