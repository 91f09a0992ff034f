import importlib

import pytest

import config
from consortium.app import create_app


def reload_config(monkeypatch, **env):
    for key in ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY", "APP_ENV"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return importlib.reload(config)


@pytest.fixture(autouse=True)
def restore_config():
    yield
    importlib.reload(config)


def test_development_is_the_default_with_a_sqlite_file_in_the_instance_folder(monkeypatch):
    settings = reload_config(monkeypatch)
    chosen = settings.config_for()
    assert chosen is settings.Development
    assert chosen.SQLALCHEMY_DATABASE_URI == f"sqlite:///{settings.INSTANCE_PATH / 'placements.db'}"
    assert chosen.SESSION_COOKIE_SECURE is False


def test_database_url_is_used_outside_tests_with_the_psycopg_driver(monkeypatch):
    settings = reload_config(monkeypatch, DATABASE_URL="postgresql://app@db/placements")
    assert settings.Production.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://app@db/placements"


def test_tests_never_read_database_url(monkeypatch):
    settings = reload_config(monkeypatch, DATABASE_URL="postgresql://live@db/placements")
    assert settings.Testing.SQLALCHEMY_DATABASE_URI == "sqlite://"
    settings = reload_config(
        monkeypatch, DATABASE_URL="postgresql://live@db/placements", TEST_DATABASE_URL="postgresql://t@localhost/t"
    )
    assert settings.Testing.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://t@localhost/t"


def test_unknown_app_env_is_refused(monkeypatch):
    settings = reload_config(monkeypatch, APP_ENV="staging")
    with pytest.raises(RuntimeError, match="APP_ENV"):
        settings.config_for()


def test_production_refuses_the_default_or_a_missing_secret_key(monkeypatch):
    settings = reload_config(monkeypatch, APP_ENV="production", DATABASE_URL="sqlite://")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(settings.Production)

    class Empty(settings.Production):
        SECRET_KEY = ""

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Empty)


def test_production_refuses_debug(monkeypatch):
    settings = reload_config(
        monkeypatch, APP_ENV="production", SECRET_KEY="a-real-secret-from-the-vault", DATABASE_URL="sqlite://"
    )

    class Debugging(settings.Production):
        DEBUG = True

    with pytest.raises(RuntimeError, match="debug"):
        create_app(Debugging)


def test_production_cookies_are_secure_and_development_cookies_are_not(monkeypatch):
    settings = reload_config(
        monkeypatch, APP_ENV="production", SECRET_KEY="a-real-secret-from-the-vault", DATABASE_URL="sqlite://"
    )
    production = create_app(settings.Production)
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production.debug is False
    development = create_app(settings.Development)
    assert development.config["SESSION_COOKIE_SECURE"] is False


def test_app_env_chooses_the_settings(monkeypatch):
    reload_config(monkeypatch, APP_ENV="testing")
    assert create_app().config["TESTING"] is True
