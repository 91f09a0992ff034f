"""Real scheduler processes against a database of their own, on SQLite and PostgreSQL: two at
once run a job once; one killed in the middle of a job (held there by a check the test adds,
`tests/scheduler_hold.py`) leaves nothing of its work behind, and the run that takes over when
its lease runs out ends with exactly the flags of a run that was never interrupted."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from consortium.core.extensions import db
from contracts import summaries
from tests.conftest import in_app_on

ROOT = Path(__file__).resolve().parents[2]
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
def twin_databases(app, tmp_path):
    """Two databases seeded alike, with data that opens four kinds of flag."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        first, second = _postgres(url), _postgres(url)
        databases = [next(first), next(second)]
    else:
        first = second = None
        databases = [f"sqlite:///{tmp_path / name}" for name in ("interrupted.db", "uninterrupted.db")]
        for database in databases:
            seed(database)
    for database in databases:
        more_flags(database)
    yield databases
    for generator in (first, second):
        if generator is not None:
            next(generator, None)  # drops the database


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

    def write():
        upgrade()
        db.session.execute(
            text("INSERT INTO authorities (code, name, region) VALUES ('E06000018', 'Nottingham', 'East Midlands')")
        )
        db.session.execute(
            text("INSERT INTO consortia (id, ref, name, lead_code) VALUES (1, 'EMRF', 'EM', 'E06000018')")
        )
        db.session.execute(
            text(
                "INSERT INTO memberships (consortium_id, authority_code, joined) VALUES (1, 'E06000018', '2020-04-01')"
            )
        )
        db.session.execute(text("INSERT INTO providers (id, name) VALUES (1, 'Oak Ltd')"))
        db.session.execute(
            text(
                "INSERT INTO contracts (id, ref, kind, title, consortium_id, start_date, end_date, max_end_date, "
                "notice_days, provider_id, beds, underuse_window_nights, underuse_threshold_percent, version) VALUES "
                "(1, 'EM-BLOCK', 'block', 'Block', 1, '2024-04-01', '2030-03-31', '2032-03-31', 365, 1, 10, 28, 80, 1)"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO block_prices (contract_id, weekly_pence, effective_from, version) "
                "VALUES (1, 350000, '2024-04-01', 1)"
            )
        )
        for n in range(6):
            db.session.execute(
                text(
                    "INSERT INTO placements "
                    "(authority_code, child_ref, contract_id, start_date, placement_type, version) "
                    f"VALUES ('E06000018', 'C{n}', 1, '2024-05-01', 'residential', 1)"
                )
            )
        summaries.refresh_all()  # written in SQL, past the flush that keeps them current

    in_app_on(database, write)


def more_flags(database: str) -> None:
    """Beside the 60%-used block: a home judged Inadequate after Good with the block's children
    in it (a quality drop and a home in use of concern), and a block at its maximum term ending
    within its notice period (contract expiring)."""
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO homes (id, urn, name, provider_id, provision_type, local_authority, registration_status) "
                "VALUES (1, 'SC100001', 'Oak House', 1, 'Children''s home', 'Nottingham', 'Active')"
            )
        )
        for day, judgement in (("2023-05-01", "Good"), ("2024-05-01", "Inadequate")):
            connection.execute(
                text(
                    "INSERT INTO inspections (home_id, inspection_date, event_type, judgement_id) "
                    f"SELECT 1, '{day}', 'Full inspection', id FROM judgements WHERE name = '{judgement}'"
                )
            )
        connection.execute(text("UPDATE placements SET home_id = 1"))
        connection.execute(
            text(
                "INSERT INTO contracts (id, ref, kind, title, consortium_id, start_date, end_date, max_end_date, "
                "notice_days, provider_id, beds, underuse_window_nights, underuse_threshold_percent, version) VALUES "
                "(2, 'EM-CRISIS', 'block', 'Crisis beds', 1, '2020-04-01', '2024-12-31', '2024-12-31', "
                "365, 1, 2, 28, 0, 1)"
            )
        )
    engine.dispose()
    in_app_on(database, summaries.refresh_all)


def scheduler_once(database: str, *extra: str, app: str = "wsgi", env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database, "APP_ENV": "development", "LOG_LEVEL": "WARNING", **(env or {})}
    return subprocess.Popen(
        [FLASK, "--app", app, "scheduler", "once", "checks", "--as-of", "2024-06-30", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
    assert len(query(postgres_database, "SELECT id FROM job_runs WHERE job = 'checks'")) == 1
    # The forecasts after the checks are their own job, run once too.
    assert len(query(postgres_database, "SELECT id FROM job_runs WHERE job = 'sufficiency'")) <= 1
    ((flags,),) = query(postgres_database, "SELECT count(*) FROM flags WHERE kind = 'underused_block_beds'")
    assert flags <= 1  # never twice
    if postgres_database.startswith("postgresql"):
        checks = query(postgres_database, "SELECT status, attempts FROM job_runs WHERE job = 'checks'")
        assert checks == [("succeeded", 1)]
        assert flags == 1
    else:
        # SQLite locks the whole file: the loser's claim can make the winner's write wait out or
        # fail ("database is locked"); then the run is recorded failed, to be retried, never run twice.
        assert query(postgres_database, "SELECT attempts FROM job_runs WHERE job = 'checks'") == [(1,)]


FLAGS = (
    "SELECT kind, subject_key, severity, status, opened_on, detail, judgement_before, judgement_after, event_date, "
    "contract_id, home_id, utilisation, bed_nights, void_bed_nights, pence FROM flags ORDER BY kind, subject_key"
)
EVENTS = (
    "SELECT f.kind, f.subject_key, e.action, e.note "
    "FROM flag_events e JOIN flags f ON f.id = e.flag_id ORDER BY 1, 2, 3"
)


def test_a_scheduler_killed_in_the_middle_of_a_job_leaves_nothing_and_the_rerun_matches_an_uninterrupted_one(
    twin_databases, tmp_path
):
    interrupted, uninterrupted = twin_databases
    hold = tmp_path / "holding"
    process = scheduler_once(
        interrupted, "--lease-seconds", "2", app="tests.scheduler_hold", env={"HOLD_FILE": str(hold)}
    )
    try:
        deadline = time.time() + 90
        while not hold.exists() and process.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert hold.exists(), process.communicate(timeout=10)
        written_when_killed = int(hold.read_text())
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert written_when_killed == 4  # every real check had written its flags into the run's transaction
    assert query(interrupted, "SELECT status, attempts FROM job_runs WHERE job = 'checks'") == [("running", 1)]
    assert query(interrupted, "SELECT count(*) FROM flags") == [(0,)]  # none of them survived the kill

    # The dead process's lease runs out; the next run takes the job over and does all of it.
    deadline = time.time() + 30
    while time.time() < deadline:
        ((expires,),) = query(interrupted, "SELECT lease_expires_at FROM job_runs WHERE job = 'checks'")
        expires = expires if isinstance(expires, datetime) else datetime.fromisoformat(expires)
        if (expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)) < datetime.now(timezone.utc):
            break
        time.sleep(0.2)
    rerun = scheduler_once(interrupted).communicate(timeout=120)[0]
    once = scheduler_once(uninterrupted).communicate(timeout=120)[0]
    assert "checks for 2024-06-30: succeeded, 4 opened" in rerun, rerun
    assert "checks for 2024-06-30: succeeded, 4 opened" in once, once

    assert query(interrupted, "SELECT status, attempts FROM job_runs WHERE job = 'checks'") == [("succeeded", 2)]
    assert query(uninterrupted, "SELECT status, attempts FROM job_runs WHERE job = 'checks'") == [("succeeded", 1)]
    flags = query(interrupted, FLAGS)
    assert flags == query(uninterrupted, FLAGS)
    assert {(kind, subject) for kind, subject, *_ in flags} == {
        ("contract_expiring", "EM-CRISIS"),
        ("home_in_use_concern", "SC100001"),
        ("quality_drop", "SC100001"),
        ("underused_block_beds", "EM-BLOCK"),
    }
    assert query(interrupted, EVENTS) == query(uninterrupted, EVENTS)  # one "opened" each, nothing twice
    # Another run for the day changes nothing.
    assert "already done or in hand elsewhere" in scheduler_once(interrupted).communicate(timeout=120)[0]
    assert query(interrupted, FLAGS) == flags


def test_work_under_a_savepoint_commits_only_with_its_transaction_on_sqlite_too(tmp_path):
    """What let the killed run above keep its flags on SQLite before the engine opened the
    transaction first: a savepoint made before any write was the transaction, and released, it committed."""
    from sqlalchemy.orm import Session

    database = f"sqlite:///{tmp_path / 'savepoints.db'}"
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    with Session(engine) as session:
        session.execute(text("SELECT count(*) FROM t"))  # a read first: the driver has begun nothing yet
        with session.begin_nested():
            session.execute(text("INSERT INTO t VALUES (1)"))
        session.rollback()  # the unit of work fails after its savepoint was released
    engine.dispose()
    assert query(database, "SELECT count(*) FROM t") == [(0,)]
