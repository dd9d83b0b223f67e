"""The migration files' declared kinds against what their SQL does (SY-E803, SY-E804)."""

from shipyard.checks.migration_files import check_migrations, contracting


def _findings(tmp_path, files: dict[str, str]) -> list[tuple[str, str]]:
    for name, sql in files.items():
        (tmp_path / name).write_text(sql)
    return [(f.rule.id, f.message) for f in check_migrations(tmp_path)]


def test_declared_kinds_that_match_the_sql_pass(tmp_path):
    assert _findings(tmp_path, {
        "0001_items.expand.sql": "CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL);",
        "0002_note.expand.sql": "-- nullable, so old inserts work\nALTER TABLE items ADD COLUMN note text;\n"
                                "ALTER TABLE items ADD COLUMN kind text NOT NULL DEFAULT 'plain';",
        "0003_drop_note.contract.sql": "ALTER TABLE items DROP COLUMN note;",
    }) == []


def test_an_expand_file_that_contracts_is_named(tmp_path):
    found = _findings(tmp_path, {"0002_channel.expand.sql": "ALTER TABLE orders ADD COLUMN channel text NOT NULL;"})
    assert found[0][0] == "SY-E803" and "adds NOT NULL column channel without a default" in found[0][1]
    assert "0002_channel.contract.sql" in found[0][1]
    for sql, words in (("ALTER TABLE t DROP COLUMN c;", "drops a column"), ("ALTER TABLE t RENAME COLUMN a TO b;", "renames"),
                       ("ALTER TABLE t ALTER COLUMN c SET NOT NULL;", "sets NOT NULL"), ("DROP TABLE t;", "drops a table")):
        assert words in contracting(sql), sql


def test_a_contract_file_that_also_adds_and_a_file_without_a_kind_fail(tmp_path):
    found = _findings(tmp_path, {"0004_swap.contract.sql": "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t ADD COLUMN b text;",
                                 "0005_misc.sql": "SELECT 1;"})
    assert [rule for rule, _ in found] == ["SY-E804", "SY-E803"]
    assert "adds a column" in found[0][1] and "declares no kind" in found[1][1]


def test_comments_do_not_count(tmp_path):
    assert _findings(tmp_path, {"0006_index.expand.sql": "-- we will DROP COLUMN legacy later\nCREATE INDEX i ON t (c);"}) == []
