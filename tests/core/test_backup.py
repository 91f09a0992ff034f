"""Backup and restore through the real commands: the demo database, backed up and restored into a
scratch database (a new SQLite file, or a PostgreSQL database made and dropped here), has the
same rows in every table, the same triggers (the audit trail still refuses changes) and the
same sequences; a restore over a database that has tables is refused unless --force."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from consortium.core.backup import SQLITE_MAGIC, BackupError, contents, restore

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


@pytest.fixture
def source_and_scratch(app, tmp_path):
    """Two databases of the suite's kind: one to back up, one to restore into."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'source.db'}", f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    names = [f"mpc_backup_{role}_{uuid.uuid4().hex[:8]}" for role in ("source", "scratch")]
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield tuple(url.set(database=name).render_as_string(hide_password=False) for name in names)
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def flask(database: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "APP_ENV": "development",
        "LOG_LEVEL": "WARNING",
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }
    env.pop("TEST_DATABASE_URL", None)
    return subprocess.run(
        [FLASK, "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def inspect_database(database: str):
    """Rows per table, triggers, and (PostgreSQL) where each sequence stands."""
    engine = create_engine(database)
    try:
        held = contents(engine)
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                triggers = set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
                sequences = {}
            else:
                triggers = set(connection.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
                sequences = dict(connection.execute(text("SELECT sequencename, last_value FROM pg_sequences")).all())
    finally:
        engine.dispose()
    return held, triggers, sequences


def audit_trail_refuses_changes(database: str) -> bool:
    engine = create_engine(database)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_events SET actor = 'someone else'"))
    except DatabaseError as error:
        return "append-only" in str(error)
    finally:
        engine.dispose()
    return False


def authority_codes(database: str) -> list[str]:
    engine = create_engine(database)
    with engine.connect() as connection:
        codes = list(connection.scalars(text("SELECT code FROM authorities ORDER BY code")))
    engine.dispose()
    return codes


def test_the_demo_database_backed_up_and_restored_into_a_scratch_database_is_the_same(source_and_scratch, tmp_path):
    source, scratch = source_and_scratch
    for step in (("db", "upgrade"), ("demo", "seed")):
        done = flask(source, tmp_path, *step)
        assert done.returncode == 0, done.stderr
    backup = tmp_path / "backups" / "demo.backup"

    made = flask(source, tmp_path, "backup", "create", str(backup))
    assert made.returncode == 0, made.stderr
    assert f"to {backup}:" in made.stdout and " tables, " in made.stdout
    assert backup.stat().st_size > 10_000 and not backup.with_name("demo.backup.partial").exists()

    restored = flask(scratch, tmp_path, "backup", "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "(it was empty): now " in restored.stdout

    (was, triggers, sequences), (now, triggers_now, sequences_now) = inspect_database(source), inspect_database(scratch)
    assert now.rows == was.rows and now.revision == was.revision  # every table, row for row
    assert was.rows["placements"] > 100 and was.rows["audit_events"] > 100 and was.rows["flags"] > 5
    assert triggers_now == triggers and {t for t in triggers if t.startswith("audit_events_")}
    assert {t for t in triggers if t.startswith("statements_issued")}
    assert sequences_now == sequences  # new rows get new ids, not ones the backup already used
    assert audit_trail_refuses_changes(scratch)

    # The scratch database now has tables, and a row the backup does not: a restore leaves it alone...
    engine = create_engine(scratch)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO authorities (code, name, region) VALUES ('E99999999', 'Added since', 'Nowhere')")
        )
    engine.dispose()
    refused = flask(scratch, tmp_path, "backup", "restore", str(backup))
    assert refused.returncode == 1
    assert (
        "The database already has" in refused.stderr
        and "Nothing was restored" in refused.stderr
        and "--force" in refused.stderr
    )
    assert "E99999999" in authority_codes(scratch)

    # ...unless told --force, which replaces everything in it.
    forced = flask(scratch, tmp_path, "backup", "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert ", replacing " in forced.stdout and "now " in forced.stdout
    assert "E99999999" not in authority_codes(scratch)
    assert inspect_database(scratch)[0].rows == was.rows


def test_a_backup_of_the_other_kind_a_damaged_one_or_a_missing_one_is_refused(source_and_scratch, tmp_path):
    _source, scratch = source_and_scratch
    wrong = tmp_path / "wrong.backup"
    wrong.write_bytes(b"PGDMP" + b"\0" * 100 if scratch.startswith("sqlite") else SQLITE_MAGIC + b"\0" * 100)
    with pytest.raises(BackupError, match="is not a"):
        restore(scratch, wrong)
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(SQLITE_MAGIC + b"\xff" * 100 if scratch.startswith("sqlite") else b"PGDMP" + b"\xff" * 100)
    with pytest.raises(BackupError, match="is damaged|cannot be read|not a database"):
        restore(scratch, damaged)
    with pytest.raises(BackupError, match="There is no file"):
        restore(scratch, tmp_path / "nothing-here.backup")
    assert inspect_database(scratch)[0].tables == 0  # nothing was touched
