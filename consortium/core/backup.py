"""`flask backup create|restore`: a copy of the whole database, and putting one back.

PostgreSQL backups are pg_dump's custom format (`pg_dump -Fc`), restored by pg_restore through
psql in one transaction (a restore that fails half-way leaves the database as it was), then
ANALYZE, since a dump carries no planner statistics. SQLite backups are a copy made with
SQLite's online backup API, a consistent snapshot taken while the service keeps running, and
restored the same way (one transaction on the target file).

A restore refuses a database that already has tables unless told `--force`, which replaces
everything in it. Both commands say what they did: tables, rows, size, schema revision, time.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError

from consortium.core.extensions import db

backup_group = AppGroup("backup", help="Back up the database to a file, or restore it from one.")

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass
class Contents:
    """What a database holds: rows in each table, and the schema revision."""

    rows: dict[str, int]
    revision: str | None

    @property
    def tables(self) -> int:
        return len(self.rows)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def describe(self) -> str:
        revision = f", schema revision {self.revision}" if self.revision else ""
        return f"{self.tables} tables, {self.total_rows:,} rows{revision}"


def contents(engine: Engine) -> Contents:
    """Count the rows of every table (alembic_version included) and read the schema revision."""
    names = sorted(inspect(engine).get_table_names())
    rows: dict[str, int] = {}
    with engine.connect() as connection:
        for name in names:
            rows[name] = connection.scalar(select(func.count()).select_from(table(name)))
        revision = None
        if "alembic_version" in rows and rows["alembic_version"]:
            revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return Contents(rows, revision)


def _backend(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups cover SQLite and PostgreSQL, not {backend}")
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise BackupError("An in-memory SQLite database cannot be backed up: point DATABASE_URL at a file")
    return backend


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A connection string for pg_dump, pg_restore and psql, and the environment that carries
    the password (never on the command line, where `ps` would show it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: it comes with the PostgreSQL client tools")
    return found


def _size(path: Path) -> str:
    size = path.stat().st_size
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"


def default_path(url: URL, folder: Path) -> Path:
    """instance/backups/<database>-<YYYYmmdd-HHMMSS>.<sqlite3|dump>"""
    backend = _backend(url)
    name = Path(url.database).stem if backend == "sqlite" else url.database
    suffix = "sqlite3" if backend == "sqlite" else "dump"
    return folder / f"{name}-{datetime.now():%Y%m%d-%H%M%S}.{suffix}"


def create(url: str | URL, path: Path) -> Contents:
    """Write a backup of the database at `url` to `path`. It is written beside the target and
    renamed when complete, so a half-written file never carries the backup's name."""
    url = make_url(url)
    backend = _backend(url)
    if backend == "sqlite" and not Path(url.database).is_file():
        raise BackupError(f"There is no database at {url.database}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        if backend == "sqlite":
            source = sqlite3.connect(f"file:{Path(url.database).resolve()}?mode=ro", uri=True)
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            dsn, env = _libpq(url)
            done = subprocess.run(
                [_tool("pg_dump"), "--format=custom", f"--file={partial}", f"--dbname={dsn}"],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return _contents_of(url)


def _contents_of(url: URL) -> Contents:
    engine = create_engine(url)
    try:
        return contents(engine)
    except OperationalError as error:
        raise BackupError(f"Cannot read {url.render_as_string(hide_password=True)}: {error.orig}") from None
    finally:
        engine.dispose()


def _check_file(path: Path, backend: str) -> None:
    """The file is a backup of the right kind, and whole."""
    if not path.is_file():
        raise BackupError(f"There is no file {path}")
    with path.open("rb") as file:
        head = file.read(16)
    if backend == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(
                f"{path} is not a SQLite backup"
                + (" (it is a PostgreSQL dump)" if head.startswith(PGDUMP_MAGIC) else "")
            )
        check = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as error:
            verdict = str(error)
        finally:
            check.close()
        if verdict != "ok":
            raise BackupError(f"{path} is damaged: {verdict}")
    else:
        if not head.startswith(PGDUMP_MAGIC):
            raise BackupError(
                f"{path} is not a PostgreSQL custom-format dump"
                + (" (it is a SQLite backup)" if head == SQLITE_MAGIC else "")
            )
        listed = subprocess.run([_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True)
        if listed.returncode != 0:
            raise BackupError(f"{path} cannot be read: {listed.stderr.strip()}")


def restore(url: str | URL, path: Path, force: bool = False) -> tuple[Contents, Contents]:
    """Put the backup at `path` into the database at `url`, replacing it wholly. Refuses a
    database that has any tables unless `force`. Returns what was there before and what is now."""
    url = make_url(url)
    backend = _backend(url)
    _check_file(path, backend)
    if backend == "sqlite" and not Path(url.database).exists():
        before = Contents({}, None)
    else:
        before = _contents_of(url)
    if before.tables and not force:
        raise BackupError(
            f"The database already has {before.describe()}. Nothing was restored: "
            "restore with --force to replace everything in it."
        )
    if backend == "sqlite":
        Path(url.database).resolve().parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        target = sqlite3.connect(Path(url.database), timeout=30)
        try:
            source.backup(target)  # one write transaction on the target: all of it or none
        finally:
            target.close()
            source.close()
    else:
        dsn, env = _libpq(url)
        script = subprocess.Popen(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        applied = subprocess.run(
            [
                _tool("psql"),
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                "--single-transaction",
                f"--dbname={dsn}",
                "--command=DROP SCHEMA IF EXISTS public CASCADE",
                "--command=CREATE SCHEMA public",
                "--file=-",
            ],
            stdin=script.stdout,
            capture_output=True,
            text=True,
            env=env,
        )
        script.stdout.close()
        script_errors = script.stderr.read().decode(errors="replace")
        script.wait()
        if script.returncode != 0 or applied.returncode != 0:
            raise BackupError(f"The restore failed and was undone: {(script_errors + applied.stderr).strip()}")
        # A dump carries no planner statistics: gather them now, not when the first slow query shows it.
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
        finally:
            engine.dispose()
    return before, _contents_of(url)


def _head_revision() -> str | None:
    try:
        from alembic.script import ScriptDirectory

        config = current_app.extensions["migrate"].migrate.get_config()
        return ScriptDirectory.from_config(config).get_current_head()
    except Exception:  # no migrations to compare with: say nothing about it
        return None


@backup_group.command("create")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def create_command(path):
    """Back up the database (DATABASE_URL) to PATH; by default a new file in instance/backups/."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    started = time.perf_counter()
    try:
        path = path or default_path(url, Path(current_app.instance_path) / "backups")
        written = create(url, path)
    except BackupError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(
        f"Backed up {url.render_as_string(hide_password=True)} to {path}: {written.describe()}, "
        f"{_size(path)}, in {time.perf_counter() - started:.2f} s"
    )


@backup_group.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace everything in a database that already has tables.")
def restore_command(path, force):
    """Restore the backup at PATH into the database (DATABASE_URL). A database that already has
    tables is left alone unless --force is given."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    started = time.perf_counter()
    db.engine.dispose()  # no pooled connection of ours keeps the old tables open
    try:
        before, after = restore(url, path, force)
    except BackupError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    replaced = f", replacing {before.describe()}" if before.tables else " (it was empty)"
    click.echo(
        f"Restored {path} ({_size(path)}) into {url.render_as_string(hide_password=True)}{replaced}: "
        f"now {after.describe()}, in {time.perf_counter() - started:.2f} s"
    )
    head = _head_revision()
    if head and after.revision != head:
        click.echo(f"The backup's schema revision is {after.revision}, the code's is {head}: run `flask db upgrade`.")
