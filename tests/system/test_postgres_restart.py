"""The service rides out a PostgreSQL restart by itself.

The test starts a PostgreSQL server of its own (initdb and pg_ctl in a temporary directory, on a
free port: never the shared server), builds the schema with the real migrations, keeps signed-in
users requesting pages from four threads, restarts the server (`pg_ctl restart -m fast`, which
ends every connection), and checks that every request started after the restart succeeds: the
pool tests each connection as it is taken (`pool_pre_ping`) and replaces the dead ones, with no
reconnect by hand. An app without the ping, warmed the same way, fails its first request after
the restart: that is what the setting buys. Runs in both suite runs; it needs only the PostgreSQL
server binaries.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade

from config import Testing
from consortium.app import create_app
from consortium.core.extensions import db
from tests.conftest import IsolatedClient
from tests.factories import ConsortiumFactory, ContractFactory, lead

PAGES = ["/", "/contracts", "/placements", "/flags", "/authorities"]


def _server_binaries() -> Path | None:
    for candidate in (os.environ.get("PG_BINDIR"), "/usr/lib/postgresql/15/bin", "/usr/local/bin"):
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


class PrivateServer:
    """A throwaway PostgreSQL cluster: trust authentication, 127.0.0.1 only, no fsync."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="mpc-pg-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        # initdb refuses to run as root: the cluster then belongs to the postgres account.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.root, "postgres", "postgres")

    def run(self, *command: str, timeout: int = 60) -> None:
        done = subprocess.run([*self.as_user, *command], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        self.run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
            "--locale=C",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def restart(self) -> float:
        started = time.perf_counter()
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "restart")
        return time.perf_counter() - started

    def remove(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def private_postgres():
    bindir = _server_binaries()
    if bindir is None:
        pytest.skip("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = PrivateServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@contextmanager
def sessions_of(app):
    """The app's own sessions instead of the test's rolled-back connection."""
    original = db.session
    db.session = db._make_scoped_session({})
    try:
        with app.app_context():
            yield
            db.session.remove()
    finally:
        db.session = original


def app_on(url: str, pre_ping: bool = True):
    class Private(Testing):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": pre_ping}
        PROPAGATE_EXCEPTIONS = False  # errors become error pages, as in production

    app = create_app(Private)
    app.test_client_class = IsolatedClient
    return app


def wait_for(condition, seconds: float = 20) -> None:
    deadline = time.perf_counter() + seconds
    while not condition() and time.perf_counter() < deadline:
        time.sleep(0.05)


def quiet(on: bool) -> None:
    logging.getLogger("consortium").disabled = on


def signed_in_client(app, token: str):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = token, True
    return client


def test_requests_succeed_again_by_themselves_after_postgresql_restarts(private_postgres):
    app, unpinged = app_on(private_postgres.url), app_on(private_postgres.url, pre_ping=False)
    with sessions_of(app):
        upgrade()  # the real migrations, as the PostgreSQL suite run builds its schema
        consortium = ConsortiumFactory(ref="EMRF")
        ContractFactory(ref="EM-BLOCK", consortium=consortium)
        tokens = [lead(consortium).session_token for _ in range(4)]
        db.session.commit()

        clients = [signed_in_client(app, token) for token in tokens]
        other = signed_in_client(unpinged, tokens[0])
        assert other.get("/contracts").status_code == 200  # its pool now holds a connection

        results: list[tuple[float, float, int]] = []  # (started, finished, status)
        stop = threading.Event()

        def browse(client):
            n = 0
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    status = client.get(PAGES[n % len(PAGES)]).status_code
                except Exception:  # noqa: BLE001  (anything but a page counts as a failure)
                    status = -1
                results.append((started, time.perf_counter(), status))
                n += 1

        threads = [threading.Thread(target=browse, args=(client,), daemon=True) for client in clients]
        quiet(True)  # the failures while the server is down are expected; keep their tracebacks out of the output
        try:
            for thread in threads:
                thread.start()
            wait_for(lambda: len(results) >= 12)  # every thread is browsing
            restart_began = time.perf_counter()
            restart_seconds = private_postgres.restart()
            back = time.perf_counter()
            first_after = clients[0].get("/contracts")  # the very next request, on a pool of dead connections
            first_after_ms = (time.perf_counter() - back) * 1000
            wait_for(lambda: sum(r[0] >= back for r in results) >= 12)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            quiet(False)

        assert first_after.status_code == 200 and "EM-BLOCK" in first_after.get_data(as_text=True)
        before = [r for r in results if r[1] < restart_began]
        during = [r for r in results if r[0] < back and r[1] >= restart_began]
        after = [r for r in results if r[0] >= back]
        assert len(before) >= 8 and all(status == 200 for *_, status in before)
        assert len(after) >= 8, "the threads should keep requesting after the restart"
        assert [status for *_, status in after if status != 200] == []  # no request after the restart fails

        # Without the ping the pool hands out its dead connection: the first request fails.
        quiet(True)
        try:
            assert other.get("/contracts").status_code == 500
        finally:
            quiet(False)
        assert other.get("/contracts").status_code == 200

        print(
            f"\nrestart {restart_seconds:.2f} s; first request after it {first_after_ms:.0f} ms; "
            f"{len(before)} requests before, {len(during)} during ({sum(s != 200 for *_, s in during)} failed), "
            f"{len(after)} after (all succeeded)"
        )
        for which in (app, unpinged):
            with which.app_context():
                db.engine.dispose()
