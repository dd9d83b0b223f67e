"""Checks over the migration files themselves ([database] migrations): the kind each one declares is what it does.

The convention (docs/database.md): NNNN_name.expand.sql leaves the schema usable by the code released before
it, NNNN_name.contract.sql does not. Releases and rollbacks trust the declared kind (release/migrations.py), so
a file that says expand and drops a column would let a rollback put old code on a schema it cannot use.

The statements are read with patterns over the SQL (comments removed), not a SQL parser: they find the usual
contracting statements (DROP TABLE or COLUMN, RENAME, SET NOT NULL, ADD COLUMN ... NOT NULL without a DEFAULT,
ALTER COLUMN ... TYPE, ADD CONSTRAINT) and expanding ones (CREATE TABLE or INDEX, ADD COLUMN).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shipyard.checks.base import Category, Severity

NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.(expand|contract)\.sql$")
CONTRACTING = {
    "drops a table": re.compile(r"\bDROP\s+TABLE\b", re.I),
    "drops a column": re.compile(r"\bDROP\s+COLUMN\b", re.I),
    "renames": re.compile(r"\bRENAME\b", re.I),
    "sets NOT NULL": re.compile(r"\bSET\s+NOT\s+NULL\b", re.I),
    "changes a column type": re.compile(r"\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b", re.I),
    "adds a constraint": re.compile(r"\bADD\s+CONSTRAINT\b", re.I),
}
_ADD_COLUMN = re.compile(r"\bADD\s+(COLUMN\s+)?(IF\s+NOT\s+EXISTS\s+)?(?!CONSTRAINT\b)(\w+)\s+[^,;]*", re.I)
EXPANDING = {
    "creates a table": re.compile(r"\bCREATE\s+TABLE\b", re.I),
    "creates an index": re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b", re.I),
    "adds a column": re.compile(r"\bADD\s+COLUMN\b", re.I),
}


@dataclass(frozen=True)
class FileRule:
    id: str
    severity: Severity
    category: Category
    short: str
    long: str
    rationale: str


DECLARED_KIND = FileRule(
    "SY-E803", Severity.ERROR, Category.DATABASE, "A migration that contracts the schema is declared expand",
    "Every file in [database] migrations is named NNNN_name.expand.sql or NNNN_name.contract.sql, and a file named "
    "expand may not drop or rename a table or column, set NOT NULL, add a NOT NULL column without a default, change "
    "a column's type or add a constraint.",
    "Rollbacks go back freely past expand migrations: one that really contracts would put old code on a schema it "
    "cannot use.")
ONE_STEP = FileRule(
    "SY-E804", Severity.ERROR, Category.DATABASE, "A migration contracts the schema and adds to it in the same step",
    "A contract migration may only remove or tighten what code no longer uses; adding tables, columns or indexes "
    "belongs in an expand migration of an earlier release (expand, migrate, contract: "
    "docs/runbooks/rollback-with-schema-change.md).",
    "A contract migration runs after the new code passed its health gate; what that code needs must exist before it "
    "runs, and a step that both adds and removes cannot be rolled back past in parts.")
FILE_RULES = (DECLARED_KIND, ONE_STEP)


def _statements(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)


def contracting(sql: str) -> list[str]:
    """What in `sql` keeps code from before it from working."""
    text = _statements(sql)
    found = [what for what, pattern in CONTRACTING.items() if pattern.search(text)]
    for added in _ADD_COLUMN.finditer(text):
        clause = added.group(0)
        if re.search(r"\bNOT\s+NULL\b", clause, re.I) and not re.search(r"\bDEFAULT\b", clause, re.I):
            found.append(f"adds NOT NULL column {added.group(3)} without a default")
    return found


def expanding(sql: str) -> list[str]:
    text = _statements(sql)
    return [what for what, pattern in EXPANDING.items() if pattern.search(text)]


@dataclass(frozen=True)
class FileFinding:
    rule: FileRule
    file: Path
    message: str


def check_migrations(directory: Path) -> Iterator[FileFinding]:
    for path in sorted(directory.glob("*")):
        if path.is_dir() or path.name.startswith("."):
            continue
        match = NAME.match(path.name)
        if not match:
            yield FileFinding(DECLARED_KIND, path, f"{path.name} declares no kind; name it NNNN_name.expand.sql or NNNN_name.contract.sql")
            continue
        sql = path.read_text(encoding="utf-8", errors="replace")
        if match[1] == "expand":
            found = contracting(sql)
            if found:
                yield FileFinding(DECLARED_KIND, path, f"{path.name} is declared expand but {', '.join(found)}; rename it "
                                                       f"{path.name.replace('.expand.', '.contract.')} (rollbacks will not go past it)")
        else:
            added = expanding(sql)
            if added:
                yield FileFinding(ONE_STEP, path, f"{path.name} contracts and also {', '.join(added)}; move the additions to an "
                                                  "expand migration of an earlier release")
