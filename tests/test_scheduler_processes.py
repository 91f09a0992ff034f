"""Real scheduler processes against a database of their own: two at once run a job once (on
SQLite and PostgreSQL); one killed mid-run is taken over when its lease runs out, with no
duplicate flags (on PostgreSQL, where a table lock can hold a process inside its run; SQLite
locks the whole file)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import Testing
from consortium.app import create_app
from consortium.extensions import db

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).with_name("flask"))


@pytest.fixture
def scheduler_database(app, tmp_path):
    """A database of its own: a new PostgreSQL database, or a SQLite file."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        yield from _postgres(url)
    else:
        database = f"sqlite:///{tmp_path / 'scheduler.db'}"
        seed(database)
        yield database


@pytest.fixture
def postgres_database(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("holding a process inside its run needs a table lock: PostgreSQL only (CI runs it there)")
    yield from _postgres(url)


def _postgres(url):
    name = f"mpc_scheduler_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    database = url.set(database=name).render_as_string(hide_password=False)
    seed(database)
    yield database
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def seed(database: str) -> None:
    """A consortium whose 10-bed block is 60% used: the checks open one flag."""
    class Separate(Testing):
        SQLALCHEMY_DATABASE_URI = database

    other = create_app(Separate)
    original = db.session
    db.session = db._make_scoped_session({})
    try:
        with other.app_context():
            upgrade()
            db.session.execute(text("INSERT INTO authorities (code, name, region) VALUES ('E06000018', 'Nottingham', 'East Midlands')"))
            db.session.execute(text("INSERT INTO consortia (id, ref, name, lead_code) VALUES (1, 'EMRF', 'EM', 'E06000018')"))
            db.session.execute(text("INSERT INTO memberships (consortium_id, authority_code, joined) VALUES (1, 'E06000018', '2020-04-01')"))
            db.session.execute(text("INSERT INTO providers (id, name) VALUES (1, 'Oak Ltd')"))
            db.session.execute(text(
                "INSERT INTO contracts (id, ref, kind, title, consortium_id, start_date, end_date, max_end_date, notice_days, provider_id, "
                "beds, underuse_window_nights, underuse_threshold_percent, version) VALUES "
                "(1, 'EM-BLOCK', 'block', 'Block', 1, '2024-04-01', '2030-03-31', '2032-03-31', 365, 1, 10, 28, 80, 1)"))
            db.session.execute(text("INSERT INTO block_prices (contract_id, weekly_pence, effective_from, version) VALUES (1, 350000, '2024-04-01', 1)"))
            for n in range(6):
                db.session.execute(text(
                    "INSERT INTO placements (authority_code, child_ref, contract_id, start_date, placement_type, version) "
                    f"VALUES ('E06000018', 'C{n}', 1, '2024-05-01', 'residential', 1)"))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    finally:
        db.session = original


def scheduler_once(database: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database, "APP_ENV": "development", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen([FLASK, "--app", "wsgi", "scheduler", "once", "checks", "--as-of", "2024-06-30", *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def query(database: str, sql: str):
    engine = create_engine(database)
    with engine.connect() as connection:
        rows = connection.execute(text(sql)).all()
    engine.dispose()
    return rows


def test_two_scheduler_processes_started_at_once_run_the_job_once(scheduler_database):
    postgres_database = scheduler_database
    processes = [scheduler_once(postgres_database) for _ in range(2)]
    outputs = [" ".join(p.communicate(timeout=120)).strip() for p in processes]
    # One process runs the job; the other finds it in hand.
    assert sum("already done or in hand elsewhere" in out for out in outputs) == 1, outputs
    assert len(query(postgres_database, "SELECT id FROM job_runs")) == 1
    (flags,), = query(postgres_database, "SELECT count(*) FROM flags WHERE kind = 'underused_block_beds'")
    assert flags <= 1  # never twice
    if postgres_database.startswith("postgresql"):
        assert query(postgres_database, "SELECT status, attempts FROM job_runs") == [("succeeded", 1)]
        assert flags == 1
    else:
        # SQLite locks the whole file: the loser's claim can make the winner's write wait out or
        # fail ("database is locked"); then the run is recorded failed, to be retried, never run twice.
        assert query(postgres_database, "SELECT attempts FROM job_runs") == [(1,)]


def test_a_killed_scheduler_is_taken_over_when_its_lease_runs_out(postgres_database):
    engine = create_engine(postgres_database)
    blocker = engine.connect()
    transaction = blocker.begin()
    blocker.execute(text("LOCK TABLE flags IN ACCESS EXCLUSIVE MODE"))  # the run will wait inside its work
    process = scheduler_once(postgres_database, "--lease-seconds", "2")
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not query(postgres_database, "SELECT id FROM job_runs WHERE status = 'running'"):
            time.sleep(0.1)
        assert query(postgres_database, "SELECT status, attempts FROM job_runs") == [("running", 1)]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        transaction.rollback()
        blocker.close()
        engine.dispose()
    time.sleep(2.5)  # the dead process's lease runs out
    survivor = scheduler_once(postgres_database)
    output = survivor.communicate(timeout=120)[0]
    assert "checks for 2024-06-30: succeeded, 1 opened" in output, output
    assert query(postgres_database, "SELECT status, attempts FROM job_runs") == [("succeeded", 2)]
    assert query(postgres_database, "SELECT count(*) FROM flags") == [(1,)]
