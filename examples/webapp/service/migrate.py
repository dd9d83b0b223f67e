"""Apply the service's SQL migrations: migrations/NNNN_name.expand.sql and NNNN_name.contract.sql, in order.

An expand migration leaves the schema usable by the code released before it (new tables, nullable columns,
columns with a default); a contract migration does not (dropped or renamed columns, NOT NULL without a
default). shipyard runs this script twice per release (docs/database.md): with SHIPYARD_MIGRATION_PHASE=expand
before the new code rolls out, which applies pending migrations up to the first contract one, and with
SHIPYARD_MIGRATION_PHASE=contract after the new code passed its health gate, which applies the rest. Without
the variable it applies everything pending.

Each migration runs in its own transaction under an advisory lock (one migrator at a time). The script prints
`migration applied: <file>` per migration and `schema version: <NNNN>` at the end: shipyard records both.
Connection settings are libpq's PG* environment variables (shipyard's task definition sets them).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import psycopg

MIGRATIONS = Path(os.environ.get("MIGRATIONS_DIR", Path(__file__).resolve().parent / "migrations"))
NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.(expand|contract)\.sql$")
LOCK = 72_611_001  # pg_advisory_lock key of this service's migrations


def migrations() -> list[tuple[str, str, Path]]:
    """(version, kind, path), ordered; a file that breaks the naming rule stops everything."""
    found = []
    for path in sorted(MIGRATIONS.glob("*.sql")):
        match = NAME.match(path.name)
        if not match:
            sys.exit(f"migrate: {path.name} is not NNNN_name.expand.sql or NNNN_name.contract.sql")
        found.append((match[1], match[2], path))
    return found


def main() -> int:
    phase = os.environ.get("SHIPYARD_MIGRATION_PHASE", "all")
    if phase not in ("expand", "contract", "all"):
        sys.exit(f"migrate: SHIPYARD_MIGRATION_PHASE={phase!r}; use expand, contract or all")
    with psycopg.connect("", autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
        connection.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT NULL, "
                           "applied_at timestamptz NOT NULL DEFAULT now())")
        applied = {row[0] for row in connection.execute("SELECT version FROM schema_migrations")}
        for version, kind, path in migrations():
            if version in applied:
                continue
            if phase == "expand" and kind == "contract":
                print(f"migration pending: {path.name} (contract: runs after the new code passed its health gate)")
                break
            with connection.transaction():
                connection.execute(path.read_text())
                connection.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, path.name))
            print(f"migration applied: {path.name}", flush=True)
        version = connection.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
        print(f"schema version: {version or 'none'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
