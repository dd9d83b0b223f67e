"""Error types that carry where / what / hint, and the exit codes of every command.

Every layer raises a ShipyardError subclass; only the CLI's single error boundary
turns them into one line on stderr and an exit code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # the work ran and did not succeed (deploy failed, check found errors)
    BAD_INPUT = 2  # the input was rejected before anything ran
    CHANGES_PENDING = 3  # `plan`: the environment differs from the blueprint
    REFUSED = 4  # a guard refused (vulnerable image, budget alarm, nothing to roll back to); nothing changed
    INTERRUPTED = 130


class ShipyardError(Exception):
    """A failure shipyard understands: where it happened, what went wrong, what to do."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, where: str, what: str, hint: str = "") -> None:
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.where}: {self.what}"

    def lines(self) -> list[str]:
        """What the error boundary prints, one line each."""
        return [self.one_line()]


class ConfigError(ShipyardError):
    """shipyard.toml (or a command-line argument) is invalid; nothing has run."""

    exit_code = ExitCode.BAD_INPUT


class ConfigErrors(ConfigError):
    """Several problems in one shipyard.toml, reported together so one run shows them all."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__(errors[0].where, f"{len(errors)} problems; the first: {errors[0].what}")
        self.errors = errors

    def lines(self) -> list[str]:
        return [e.one_line() for e in self.errors]


class UsageError(ShipyardError):
    """A command-line argument is invalid; nothing has run."""

    exit_code = ExitCode.BAD_INPUT


class SynthError(ShipyardError):
    """CDK could not turn the configuration into templates."""


class Refused(ShipyardError):
    """A safety guard refused the operation before anything changed."""

    exit_code = ExitCode.REFUSED


class PolicyRefused(Refused):
    """The policy checks found errors in what would be deployed; nothing changed."""

    def __init__(self, where: str, findings: list[str], hint: str) -> None:
        super().__init__(where, f"{len(findings)} policy error(s); nothing was changed", hint)
        self.findings = findings

    def lines(self) -> list[str]:
        return [self.one_line(), *self.findings]
