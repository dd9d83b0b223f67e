"""/api/items and the migrations on a real PostgreSQL server (pgserver: PostgreSQL from a wheel, no system install)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from starlette.testclient import TestClient

SERVICE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SERVICE))

import app as service  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import pgserver  # a test dependency: without it these tests fail, never skip

    running = pgserver.get_server(str(tmp_path_factory.mktemp("pgdata")), cleanup_mode="stop")
    yield running
    running.cleanup()


@pytest.fixture
def database(server, monkeypatch):
    """A fresh database per test, named in libpq's variables as shipyard's task definition names it."""
    name = f"items_{uuid.uuid4().hex[:8]}"
    server.psql(f"CREATE DATABASE {name};")
    socket_dir = server.get_uri().split("host=", 1)[1]
    settings = {"PGHOST": socket_dir, "PGUSER": "postgres", "PGDATABASE": name, "PGPASSWORD": ""}
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    return settings


def _migrate(settings: dict[str, str], phase: str | None = None, migrations: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **settings, **({"SHIPYARD_MIGRATION_PHASE": phase} if phase else {}),
           **({"MIGRATIONS_DIR": str(migrations)} if migrations else {})}
    return subprocess.run([sys.executable, str(SERVICE / "migrate.py")], env=env, capture_output=True, text=True, timeout=60)


def test_migrations_apply_once_and_report_the_schema_version(database):
    first = _migrate(database)
    assert first.returncode == 0, first.stderr
    assert "migration applied: 0001_create_items.expand.sql" in first.stdout and "schema version: 0001" in first.stdout
    again = _migrate(database)
    assert "migration applied" not in again.stdout and "schema version: 0001" in again.stdout


def test_the_expand_phase_stops_before_a_contract_migration(database, tmp_path):
    for path in (SERVICE / "migrations").glob("*.sql"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "0002_note.expand.sql").write_text("ALTER TABLE items ADD COLUMN note text;")
    (tmp_path / "0003_drop_note.contract.sql").write_text("ALTER TABLE items DROP COLUMN note;")
    expand = _migrate(database, "expand", tmp_path)
    assert "0002_note.expand.sql" in expand.stdout and "migration pending: 0003_drop_note.contract.sql" in expand.stdout
    assert "schema version: 0002" in expand.stdout
    contract = _migrate(database, "contract", tmp_path)
    assert "migration applied: 0003_drop_note.contract.sql" in contract.stdout and "schema version: 0003" in contract.stdout


def test_items_are_written_and_read_back(database):
    assert _migrate(database).returncode == 0
    client = TestClient(service.create_app())
    created = client.post("/api/items", json={"name": "first"})
    assert created.status_code == 201 and created.json()["name"] == "first"
    assert [item["name"] for item in client.get("/api/items").json()["items"]] == ["first"]
    assert client.post("/api/items", json={"name": ""}).status_code == 400
    assert client.post("/api/items", content=b"not json").status_code == 400
    with psycopg.connect("") as connection:
        assert connection.execute("SELECT count(*) FROM items").fetchone()[0] == 1


def test_items_without_a_database_answer_503(monkeypatch):
    monkeypatch.delenv("PGHOST", raising=False)
    assert TestClient(service.create_app()).get("/api/items").status_code == 503
