"""`shipyard import copilot`: a Copilot workspace read (copilot.workspace), translated (copilot.translate), checked
exactly as shipyard will read it, and only then written: shipyard.toml, and with --pipeline the pipeline."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from shipyard.app.policy import require_valid_config
from shipyard.config import parse_config
from shipyard.copilot.translate import Row, translate
from shipyard.copilot.workspace import read_workspace
from shipyard.errors import ConfigError, ConfigErrors, PolicyRefused, ShipyardError, UsageError
from shipyard.scaffold import CONFIG

HEADER = """\
# shipyard.toml for {app}, imported from its Copilot workspace by `shipyard import copilot`.
# The import's report says where every manifest key went; docs/copilot.md maps the rest.

"""


@dataclass(frozen=True)
class Imported:
    rows: list[Row]
    decisions: list[str] = field(default_factory=list)  # nothing was written while any is open
    written: list[Path] = field(default_factory=list)


class ImportUndecided(ShipyardError):
    """Something essential has no counterpart: the user decides, then imports again. Nothing was written."""

    def __init__(self, where: str, decisions: list[str]) -> None:
        super().__init__(where, f"{len(decisions)} thing(s) to decide before shipyard.toml can be written; nothing was written",
                         "decide each, then run `shipyard import copilot` again")
        self.decisions = decisions

    def lines(self) -> list[str]:
        return [*self.decisions, self.one_line()]


def parse_accounts(given: tuple[str, ...]) -> dict[str, str]:
    accounts: dict[str, str] = {}
    for entry in given:
        name, _, account = entry.partition("=")
        if not name or not account.isdigit() or len(account) != 12:
            raise UsageError(f"--account {entry}", "is not ENV=ACCOUNT with a 12-digit account id", "e.g. --account prod=222222222222")
        if name in accounts:
            raise UsageError(f"--account {entry}", f"gives {name!r} a second account")
        accounts[name] = account
    return accounts


def import_copilot(directory: Path, *, accounts: tuple[str, ...], region: str | None, repository: str | None,
                   pipeline: bool, force: bool) -> Imported:
    chosen = parse_accounts(accounts)
    target = directory.resolve() / CONFIG
    if target.exists() and not force:
        raise UsageError(str(target), "already exists; nothing was written", "pass --force to overwrite it")
    translation = translate(read_workspace(directory), accounts=chosen, region=region, repository=repository)
    if translation.decisions:
        return Imported(translation.rows, translation.decisions)
    text = HEADER.format(app=translation.config["app"]["name"]) + tomli_w.dumps(translation.config)
    # Checked as `shipyard validate` checks it, before anything is written.
    try:
        require_valid_config(parse_config(tomllib.loads(text), target))
    except ConfigErrors as problems:
        return Imported(translation.rows, [e.one_line() for e in problems.errors])
    except PolicyRefused as refused:
        return Imported(translation.rows, refused.findings)
    except ConfigError as problem:
        return Imported(translation.rows, [problem.one_line()])
    target.write_text(text)
    written = [target]
    if pipeline:
        from shipyard.app.scaffolding import regenerate

        written += regenerate(target, lock=False)
    return Imported(translation.rows, [], written)
