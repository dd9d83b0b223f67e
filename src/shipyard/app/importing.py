"""`shipyard import copilot`: a Copilot workspace read (copilot.workspace), translated (copilot.translate), checked
exactly as shipyard will read it, and only then written: shipyard.toml, and with --pipeline the pipeline."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from shipyard.app.policy import require_valid_config
from shipyard.aws import Aws, Target
from shipyard.aws.session import AwsError
from shipyard.config import parse_config
from shipyard.copilot.translate import Row, imported_vpc, translate
from shipyard.copilot.workspace import Workspace, read_workspace
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


def copilot_environments(aws: Aws, region: str, app: str) -> dict[str, tuple[str, str]]:
    """Each environment's (account, region), as Copilot records them in its application account's SSM parameters
    (/copilot/applications/<app>/environments/<env>: JSON with accountID and region; copilot-cli
    internal/pkg/config/env.go). These are Copilot's metadata, not secrets."""
    found = {}
    for name, value in aws.ssm(region).under(f"/copilot/applications/{app}/environments/").items():
        try:
            record = json.loads(value)
        except ValueError:
            raise UsageError(name, "is not the JSON Copilot writes for an environment; nothing was written") from None
        if isinstance(record, dict) and record.get("name") and record.get("accountID"):
            found[str(record["name"])] = (str(record["accountID"]), str(record.get("region") or region))
    return found


def _subnets(workspace: Workspace, records: Target, accounts: dict[str, str], regions: dict[str, str],
             region: str | None) -> dict[str, dict[str, str]]:
    """Each subnet an environment manifest imports, as AWS describes it in that environment's account ({id: {vpc,
    zone, cidr}}): what [environments.<env>.network] needs and a manifest does not say. An environment whose account
    these credentials do not reach is left out (its VPC is then reported as not carried)."""
    found: dict[str, dict[str, str]] = {}
    for name, manifest in workspace.environments.items():
        vpc, subnets = imported_vpc(manifest)
        listed = [i for ids in subnets.values() for i in ids]
        where = regions.get(name) or region
        if not vpc or not listed or None in listed or name not in accounts or not where:
            continue
        try:
            described = Aws(records, accounts[name]).ec2(where).subnets(listed)
        except AwsError:
            continue
        found.update({s.id: {"vpc": s.vpc, "zone": s.zone, "cidr": s.cidr} for s in described})
    return found


def import_copilot(directory: Path, *, accounts: tuple[str, ...], region: str | None, repository: str | None,
                   pipeline: bool, force: bool, records: Target | None = None, app_account: str | None = None) -> Imported:
    """records: where Copilot's records are read (each environment's account and region, for those --account does
    not give): the application's account there, the caller's unless app_account names it."""
    chosen = parse_accounts(accounts)
    target = directory.resolve() / CONFIG
    if target.exists() and not force:
        raise UsageError(str(target), "already exists; nothing was written", "pass --force to overwrite it")
    workspace = read_workspace(directory)
    regions: dict[str, str] = {}
    if records is not None:
        # --endpoint calls with the embedded AWS's own keys, which name no account; --aws credentials choose theirs.
        if records.is_local and records.credentials is not None and not app_account:
            raise UsageError("--app-account", "is required with --endpoint: which account of the embedded AWS holds Copilot's records")
        aws = Aws(records, app_account or "")
        if not app_account:
            aws = Aws(records, aws.caller_account())
        if region is None:
            raise UsageError("--region", "is needed to read Copilot's records: the region where `copilot app init` ran")
        for name, (account, where) in copilot_environments(aws, region, workspace.application).items():
            chosen.setdefault(name, account)
            regions[name] = where
    subnets = _subnets(workspace, records, chosen, regions, region) if records is not None else {}
    translation = translate(workspace, accounts=chosen, region=region, repository=repository, regions=regions, subnets=subnets)
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
