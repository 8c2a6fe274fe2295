"""Users, their API tokens and browser sessions, kept in the gateway's SQLite.

- Passwords are hashed with Argon2id (argon2-cffi's `PasswordHasher`, its default
  parameters); an old hash is upgraded on the next successful login.
- An API token is `sst_<8 hex>_<43 random chars>` (256 random bits). Only its SHA-256
  is stored, with the `sst_<8 hex>` prefix so `users list` can show and revoke it; a
  fast hash is enough for a secret that long, unlike a password.
- A session id is 256 random bits, also stored only as SHA-256 (a copied database file
  holds no usable cookie). It ends after `idle` without use or `max_age` after login,
  whichever comes first; each use slides the idle end. Expired rows are purged at login.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.auth.roles import Role, parse_role
from gateway.storage.connection import Database
from gateway.storage.sql import db_time, parse_time

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "sst_"
TOUCH_EVERY = timedelta(minutes=1)
"""Write a session's last-seen time (or a token's last use) at most this often, so
reading pages does not turn into a database write per request."""

_NAME = re.compile(NAME_PATTERN)
_TOKEN = re.compile(r"^sst_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")


class UserError(ValueError):
    """A bad user name, role or password, or an unknown/duplicate user; says which."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    created_at: datetime

    @property
    def parsed_role(self) -> Role:
        return parse_role(self.role)


@dataclass(frozen=True)
class TokenInfo:
    """What `users list` shows of a token: never the token itself."""

    prefix: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=8)
    max_age: timedelta = timedelta(days=7)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_password() -> str:
    """A random password a person can type: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UserError(
            f"user name {name!r}: 1-64 letters, digits, '_', '.', '@' or '-', starting "
            "with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise UserError(
            f"password: {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters "
            f"(got {len(password)})"
        )
    return password


def _user(row: sqlite3.Row) -> User:
    created = parse_time(row["created_at"])
    assert created is not None
    return User(id=row["id"], name=row["name"], role=row["role"], created_at=created)


class Users:
    """The users store over one gateway database (which must be open to write)."""

    def __init__(
        self,
        db: Database,
        policy: SessionPolicy | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.db = db
        self.policy = policy or SessionPolicy()
        self.hasher = hasher or PasswordHasher()

    @cached_property
    def _dummy_hash(self) -> str:
        """What an unknown name's password is checked against (made on first use)."""
        return self.hasher.hash(secrets.token_urlsafe(16))

    # ---- users -----------------------------------------------------------------------

    def add(self, name: str, role: str, password: str) -> User:
        """Create a user; UserError for a bad name/password, a taken name or a bad role."""
        check_name(name)
        check_password(password)
        try:
            role_text = parse_role(role).text
        except ValueError as error:
            raise UserError(str(error)) from None
        password_hash = self.hasher.hash(password)
        now = datetime.now(UTC)
        try:
            with self.db.transaction() as tx:
                cursor = tx.execute(
                    "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    (name, role_text, password_hash, db_time(now)),
                )
        except sqlite3.IntegrityError:
            raise UserError(f"user {name!r} already exists") from None
        assert cursor.lastrowid is not None
        return User(id=cursor.lastrowid, name=name, role=role_text, created_at=now)

    def get(self, name: str) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id, name, role, created_at FROM users WHERE name = ?", (name,)
            ).fetchone()
        return _user(row) if row else None

    def require(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise UserError(f"no user {name!r} (see `shelf-gateway users list`)")
        return user

    def all(self) -> list[User]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, name, role, created_at FROM users ORDER BY name"
            ).fetchall()
        return [_user(r) for r in rows]

    def remove(self, name: str) -> None:
        """Delete a user with its tokens and sessions (they stop working at once)."""
        with self.db.transaction() as tx:
            deleted = tx.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount
        if not deleted:
            raise UserError(f"no user {name!r} (see `shelf-gateway users list`)")

    def set_password(self, name: str, password: str) -> None:
        """Change a password and end the user's sessions (a stolen cookie dies with it)."""
        user = self.require(name)
        check_password(password)
        password_hash = self.hasher.hash(password)
        with self.db.transaction() as tx:
            tx.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user.id))
            tx.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password is right, else None. An unknown name costs the same
        hashing time as a wrong password, so timing does not reveal which names exist."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id, name, role, created_at, password_hash FROM users WHERE name = ?",
                (name,),
            ).fetchone()
        stored = row["password_hash"] if row else self._dummy_hash
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self.db.transaction() as tx:
                tx.execute(
                    "UPDATE users SET password_hash = ? WHERE id = ?",
                    (self.hasher.hash(password), row["id"]),
                )
        return _user(row)

    # ---- API tokens ------------------------------------------------------------------

    def new_token(self, name: str) -> str:
        """A new API token for the user; the only time the token itself is seen."""
        user = self.require(name)
        prefix = TOKEN_PREFIX + secrets.token_hex(4)
        token = f"{prefix}_{secrets.token_urlsafe(32)}"
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO api_tokens (user_id, prefix, token_hash, created_at)"
                " VALUES (?, ?, ?, ?)",
                (user.id, prefix, _sha256(token), db_time(datetime.now(UTC))),
            )
        return token

    def tokens(self, name: str) -> list[TokenInfo]:
        user = self.require(name)
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT prefix, created_at, last_used_at FROM api_tokens WHERE user_id = ?"
                " ORDER BY created_at",
                (user.id,),
            ).fetchall()
        return [
            TokenInfo(r["prefix"], parse_time(r["created_at"]), parse_time(r["last_used_at"]))  # type: ignore[arg-type]
            for r in rows
        ]

    def revoke_token(self, prefix: str) -> None:
        with self.db.transaction() as tx:
            deleted = tx.execute("DELETE FROM api_tokens WHERE prefix = ?", (prefix,)).rowcount
        if not deleted:
            raise UserError(f"no token {prefix!r} (`shelf-gateway users list` shows prefixes)")

    def user_for_token(self, token: str, now: datetime | None = None) -> User | None:
        """The token's user, or None for an unknown or malformed token."""
        if not _TOKEN.fullmatch(token):
            return None
        now = now or datetime.now(UTC)
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT u.id, u.name, u.role, u.created_at, t.id AS token_id, t.last_used_at"
                " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
                (_sha256(token),),
            ).fetchone()
        if row is None:
            return None
        last_used = parse_time(row["last_used_at"])
        if last_used is None or now - last_used >= TOUCH_EVERY:
            with self.db.transaction() as tx:
                tx.execute(
                    "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
                    (db_time(now), row["token_id"]),
                )
        return _user(row)

    # ---- sessions --------------------------------------------------------------------

    def new_session(self, user: User, now: datetime | None = None) -> str:
        """Start a browser session; returns the session id for the cookie. Purges
        expired sessions on the way."""
        now = now or datetime.now(UTC)
        session_id = secrets.token_urlsafe(32)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM sessions WHERE expires_at <= ?", (db_time(now),))
            tx.execute(
                "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    _sha256(session_id),
                    user.id,
                    db_time(now),
                    db_time(now),
                    db_time(self._expiry(now, now)),
                ),
            )
        return session_id

    def _expiry(self, created: datetime, seen: datetime) -> datetime:
        return min(seen + self.policy.idle, created + self.policy.max_age)

    def user_for_session(self, session_id: str, now: datetime | None = None) -> User | None:
        """The session's user while the session lasts, sliding its idle expiry."""
        if not session_id or len(session_id) > 128:
            return None
        now = now or datetime.now(UTC)
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT u.id, u.name, u.role, u.created_at, s.created_at AS session_created,"
                " s.last_seen_at, s.expires_at"
                " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?",
                (_sha256(session_id),),
            ).fetchone()
        if row is None:
            return None
        expires = parse_time(row["expires_at"])
        if expires is None or now >= expires:
            self.end_session(session_id)
            return None
        last_seen = parse_time(row["last_seen_at"])
        if last_seen is None or now - last_seen >= TOUCH_EVERY:
            created = parse_time(row["session_created"]) or now
            with self.db.transaction() as tx:
                tx.execute(
                    "UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?",
                    (db_time(now), db_time(self._expiry(created, now)), _sha256(session_id)),
                )
        return _user(row)

    def end_session(self, session_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM sessions WHERE id_hash = ?", (_sha256(session_id),))

    def purge_expired_sessions(self, now: datetime | None = None) -> int:
        with self.db.transaction() as tx:
            return tx.execute(
                "DELETE FROM sessions WHERE expires_at <= ?",
                (db_time(now or datetime.now(UTC)),),
            ).rowcount
