"""Accounts: users with a role, a password hash and a session generation; API tokens stored as hashes.

A session cookie carries the generation its user had when they signed in
(`authenticate`); `session_role` accepts it only while it is still current.
Signing out everywhere (`end_sessions`), a new password and removing the user
all move on from it, which ends every session of that user at once. Tokens
have a role, may expire, and remember when they were last used, to the minute:
`use_token` writes at most once a minute per token, not on every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, or_, select, update

from kb.storage import passwords
from kb.errors import KBError
from kb.storage.database import Database, now
from kb.storage.schema import login_failures, tokens, users

# The roles, written once: `kb user add --role`, `kb token add --role` and the web's checks all read these.
AGENT, WRITER, ADMIN = "agent", "writer", "admin"
ROLES = (AGENT, WRITER, ADMIN)
TOKEN_ROLES = (AGENT, WRITER)  # a script acts as an agent or a writer, never as an admin
STAFF = (AGENT, ADMIN)  # the agent pages, and internal articles through the API
EDITORS = (WRITER, ADMIN)  # the editor, the writers' reports and insights
# asked on every signed-in request and every API call: through Database.cursor
_SESSION = select(users.c.role, users.c.sessions).where(users.c.name == bindparam("name"))
_ACTIVE_TOKEN = select(tokens.c.id, tokens.c.name, tokens.c.role, tokens.c.last_used).where(
    tokens.c.token_hash == bindparam("token_hash"), tokens.c.revoked.is_(None),
    or_(tokens.c.expires.is_(None), tokens.c.expires > bindparam("now")))
LAST_USED_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    generation: int  # the session generation to put in the cookie


@dataclass(frozen=True)
class TokenUse:
    name: str
    role: str
    recorded: bool  # this call moved last_used on (at most once a minute): worth an audit line


class Accounts:
    """Users and API tokens."""

    def __init__(self, db: Database):
        self.db = db

    # --- users ---------------------------------------------------------------

    def add_user(self, name: str, password: str, role: str):
        """Create a user, or replace their password and role (which ends their sessions)."""
        if role not in ROLES:
            raise KBError(f"role must be one of {list(ROLES)}, got {role!r}")
        pw_hash = _hash(password)
        with self.db.write() as c:
            changed = c.execute(update(users).where(users.c.name == name).values(
                password_hash=pw_hash, role=role, sessions=users.c.sessions + 1)).rowcount
            if not changed:
                c.execute(insert(users).values(name=name, password_hash=pw_hash, role=role, created=now()))

    def set_password(self, name: str, password: str) -> bool:
        """A new password; every session of the user ends. False if there is no such user."""
        pw_hash = _hash(password)
        with self.db.write() as c:
            return c.execute(update(users).where(users.c.name == name).values(
                password_hash=pw_hash, sessions=users.c.sessions + 1)).rowcount > 0

    def remove_user(self, name: str) -> bool:
        with self.db.write() as c:
            c.execute(delete(login_failures).where(login_failures.c.name == name))
            return c.execute(delete(users).where(users.c.name == name)).rowcount > 0

    def end_sessions(self, name: str) -> bool:
        """End every session of this user, on every device. False if there is no such user."""
        with self.db.write() as c:
            return c.execute(update(users).where(users.c.name == name)
                             .values(sessions=users.c.sessions + 1)).rowcount > 0

    def list_users(self) -> list[dict]:
        """name, role, created, last_login and locked_until (a lock still running after failed logins)."""
        q = (select(users.c.name, users.c.role, users.c.created, users.c.last_login, login_failures.c.locked_until)
             .outerjoin(login_failures, login_failures.c.name == users.c.name).order_by(users.c.name))
        stamp = now()
        with self.db.read() as c:
            rows = [dict(r._mapping) for r in c.execute(q)]
        for r in rows:
            if r["locked_until"] and r["locked_until"] <= stamp:
                r["locked_until"] = None
        return rows

    # --- signing in and sessions ------------------------------------------------

    def authenticate(self, name: str, password: str) -> Account | None:
        """The account if the password is right, else None; an unknown name costs the same as a wrong password."""
        with self.db.read() as c:
            row = c.execute(select(users.c.password_hash, users.c.role, users.c.sessions)
                            .where(users.c.name == name)).first()
        if not passwords.verify(row.password_hash if row else None, password):
            return None
        with self.db.write() as c:
            c.execute(update(users).where(users.c.name == name).values(last_login=now()))
        return Account(name, row.role, row.sessions)

    def check_user(self, name: str, password: str) -> str | None:
        """The user's role if the password is right, else None."""
        account = self.authenticate(name, password)
        return account.role if account else None

    def session_role(self, name: str, generation) -> str | None:
        """The role of a signed-in user whose cookie carries `generation`; None once it is no longer current."""
        row = self._first(_SESSION, name=name)
        return row[0] if row is not None and generation == row[1] else None

    def _first(self, stmt, **params) -> tuple | None:
        with self.db.cursor(write=False) as cur:
            cur.execute(self.db.sql(stmt), params)
            return cur.fetchone()

    def user_role(self, name: str) -> str | None:
        with self.db.read() as c:
            return c.execute(select(users.c.role).where(users.c.name == name)).scalar()

    # --- tokens ------------------------------------------------------------------

    def add_token(self, name: str, role: str = "agent", expires: str | None = None) -> str:
        """Create an API token (`expires`: an ISO time, None for never); only its hash is stored, so it is shown once."""
        if role not in TOKEN_ROLES:
            raise KBError(f"token role must be one of {list(TOKEN_ROLES)}, got {role!r}")
        token = "kb_" + secrets.token_urlsafe(32)
        with self.db.write() as c:
            c.execute(insert(tokens).values(name=name, token_hash=_token_hash(token), created=now(), role=role,
                                            expires=expires))
        return token

    def revoke_token(self, name: str) -> int:
        with self.db.write() as c:
            return c.execute(update(tokens).where(tokens.c.name == name, tokens.c.revoked.is_(None))
                             .values(revoked=now())).rowcount

    def use_token(self, token: str) -> TokenUse | None:
        """The token's name and role if it is active and not expired, else None; records its use once a minute."""
        stamp = now()
        row = self._first(_ACTIVE_TOKEN, token_hash=_token_hash(token), now=stamp)
        if row is None:
            return None
        token_id, name, role, last_used = row
        recorded = False
        due = _ago(LAST_USED_EVERY)
        if last_used is None or last_used <= due:
            with self.db.write() as c:  # the condition again: of several requests at once, one records
                recorded = c.execute(update(tokens).where(
                    tokens.c.id == token_id, or_(tokens.c.last_used.is_(None), tokens.c.last_used <= due))
                    .values(last_used=stamp)).rowcount > 0
        return TokenUse(name, role, recorded)

    def check_token(self, token: str) -> str | None:
        """The token's name if it is active and not expired, else None."""
        use = self.use_token(token)
        return use.name if use else None

    def list_tokens(self) -> list[dict]:
        """Every token ever made, newest first: name, role, created, expires, last_used, revoked."""
        q = select(tokens.c.name, tokens.c.role, tokens.c.created, tokens.c.expires, tokens.c.last_used,
                   tokens.c.revoked).order_by(tokens.c.id.desc())
        with self.db.read() as c:
            return [dict(r._mapping) for r in c.execute(q)]


def _hash(password: str) -> str:
    try:
        return passwords.hash_password(password)
    except ValueError as e:
        raise KBError(str(e)) from None


def _ago(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.timezone.utc) - delta).isoformat(timespec="seconds")


def _token_hash(token: str) -> str:
    # Tokens are long random strings: a plain SHA-256 is enough and allows lookup by hash.
    return hashlib.sha256(token.encode()).hexdigest()
