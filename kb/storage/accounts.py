"""Accounts: users with a role and a password hash, and API tokens stored as hashes."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import insert, select, update

from ..errors import KBError
from .database import Database, now, upsert
from .schema import tokens, users

ROLES = ("agent", "writer", "admin")


class Accounts:
    """Users and API tokens."""

    def __init__(self, db: Database):
        self.db = db

    def add_user(self, name: str, password: str, role: str):
        """Create a user, or replace their password and role."""
        from werkzeug.security import generate_password_hash

        if role not in ROLES:
            raise KBError(f"role must be one of {list(ROLES)}, got {role!r}")
        if len(password) < 8:
            raise KBError("password must be at least 8 characters")
        with self.db.write() as c:
            upsert(c, users, {"name": name, "password_hash": generate_password_hash(password), "role": role,
                              "created": now()}, key=("name",))

    def check_user(self, name: str, password: str) -> str | None:
        """The user's role if the password is right, else None."""
        from werkzeug.security import check_password_hash

        with self.db.read() as c:
            row = c.execute(select(users.c.password_hash, users.c.role).where(users.c.name == name)).first()
        if row and check_password_hash(row[0], password):
            return row[1]
        return None

    def user_role(self, name: str) -> str | None:
        with self.db.read() as c:
            return c.execute(select(users.c.role).where(users.c.name == name)).scalar()

    def add_token(self, name: str) -> str:
        """Create an API token; only its hash is stored, so it is shown once."""
        token = "kb_" + secrets.token_urlsafe(32)
        with self.db.write() as c:
            c.execute(insert(tokens).values(name=name, token_hash=_token_hash(token), created=now()))
        return token

    def revoke_token(self, name: str) -> int:
        with self.db.write() as c:
            return c.execute(update(tokens).where(tokens.c.name == name, tokens.c.revoked.is_(None))
                             .values(revoked=now())).rowcount

    def check_token(self, token: str) -> str | None:
        """The token's name if it is active, else None."""
        with self.db.read() as c:
            return c.execute(select(tokens.c.name).where(tokens.c.token_hash == _token_hash(token),
                                                         tokens.c.revoked.is_(None))).scalar()


def _token_hash(token: str) -> str:
    # Tokens are long random strings: a plain SHA-256 is enough and allows lookup by hash.
    return hashlib.sha256(token.encode()).hexdigest()
