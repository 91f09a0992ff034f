"""Password hashing (Argon2id) and the password rules."""

from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 12


def _hasher() -> PasswordHasher:
    return PasswordHasher(**current_app.config["PASSWORD_HASH"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


COMMON = frozenset(
    line.strip()
    for line in (Path(__file__).with_name("common_passwords.txt")).read_text().splitlines()
    if line.strip() and not line.startswith("#")
)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters"
    if password.strip().lower() in COMMON:
        return "That password is too common: choose one that is harder to guess, such as a few unrelated words"
    return None


# Verified against when the e-mail is unknown, so a wrong e-mail takes as long as a wrong password.
def dummy_verify(password: str) -> None:
    verify_password(_dummy_hash(), password)


def _dummy_hash() -> str:
    hashes = current_app.extensions.setdefault("dummy_password_hash", {})
    key = tuple(sorted(current_app.config["PASSWORD_HASH"].items()))
    if key not in hashes:
        hashes[key] = hash_password("not-a-real-password")
    return hashes[key]
