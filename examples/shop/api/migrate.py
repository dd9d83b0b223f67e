"""Apply the shop's SQL migrations (migrations/NNNN_name.expand.sql, then .contract.sql ones), each once, in order.

shipyard runs this in a one-off task of the new image (docs/database.md): SHIPYARD_MIGRATION_PHASE=expand before the
rollout stops at the first contract migration; =contract after the health gate applies the rest. It prints
`migration applied: <file>` per file and `schema version: <NNNN>` at the end, which shipyard records.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent / "migrations"
LOCK = 72_611_002  # this app's pg_advisory_lock key: one migrator at a time


def main() -> int:
    phase = os.environ.get("SHIPYARD_MIGRATION_PHASE", "all")
    with psycopg.connect("", autocommit=True) as db:
        db.execute("SELECT pg_advisory_lock(%s)", (LOCK,))
        db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz DEFAULT now())")
        done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
        for path in sorted(HERE.glob("*.sql")):
            version, kind = path.name[:4], path.name.rsplit(".", 2)[1]
            if version in done:
                continue
            if phase == "expand" and kind == "contract":
                break
            with db.transaction():
                db.execute(path.read_text())
                db.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            print(f"migration applied: {path.name}", flush=True)
        print(f"schema version: {db.execute('SELECT max(version) FROM schema_migrations').fetchone()[0] or 'none'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
