"""Settings for each environment, read from environment variables.

`APP_ENV` picks the class (development by default). Tests read `TEST_DATABASE_URL` only, so a
test run can never touch the database named by `DATABASE_URL`.
"""

import os
from pathlib import Path

INSTANCE_PATH = Path(os.environ.get("INSTANCE_PATH", Path(__file__).resolve().parent / "instance"))
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me"


def _database_url(variable: str, default: str) -> str:
    url = os.environ.get(variable) or default
    # Heroku-style URLs name the scheme "postgres"; SQLAlchemy wants the driver spelled out.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Config:
    APP_ENV = "development"
    DEBUG = False
    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    # Former keys, comma-separated, while SECRET_KEY is rotated: cookies they signed and the
    # two-factor keys they encrypted can still be read.
    SECRET_KEY_FALLBACKS = [key for key in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if key]
    SQLALCHEMY_DATABASE_URI = _database_url("DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'placements.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # Argon2id at the OWASP minimum (19 MiB, 2 passes, 1 lane).
    PASSWORD_HASH = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
    PAGE_SIZE = 50
    # The daily digest goes by SMTP when MAIL_SERVER is set; otherwise it is kept in the service.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "no-reply@placements.invalid")
    SERVICE_URL = os.environ.get("SERVICE_URL", "http://127.0.0.1:5000")
    # The OCDS identifier prefix Open Contracting gives a publisher (ocds- and six characters);
    # this default is for the demo and tests: register one before publishing.
    OCDS_PREFIX = os.environ.get("OCDS_PREFIX", "ocds-mpcdem")
    # How many reverse proxies in front of the app set X-Forwarded-For and X-Forwarded-Proto:
    # the client's address is then read from them (for the sign-in throttle and the audit
    # trail). 0 trusts no such header: a client could write it.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))


class Development(Config):
    DEBUG = True


class Testing(Config):
    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SECRET_KEY_FALLBACKS: list[str] = []
    SQLALCHEMY_DATABASE_URI = _database_url("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False  # tests that check CSRF turn it back on
    MAIL_SERVER = None  # a test that sends mail starts its own SMTP server and says where
    LOG_LEVEL = "WARNING"


class Production(Config):
    APP_ENV = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


ENVIRONMENTS = {"development": Development, "testing": Testing, "production": Production}


def config_for(env: str | None = None) -> type[Config]:
    env = env or os.environ.get("APP_ENV", "development")
    try:
        return ENVIRONMENTS[env]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}") from None
