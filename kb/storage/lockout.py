"""Per-account login locks: failed logins in a row, and until when the account refuses attempts.

Kept in the shared database so every server process and replica sees the same
lock, whichever address the attempts come from. How long a lock lasts is
kb.storage.passwords.lockout_seconds; a success clears the count, and a count whose
last failure is a day old starts again (rows that old are deleted then).
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import delete, select

from kb.storage import passwords
from kb.storage.database import Database, now, upsert
from kb.storage.schema import login_failures

FORGET_AFTER = dt.timedelta(days=1)


class LoginLocks:
    def __init__(self, db: Database):
        self.db = db

    def wait(self, name: str) -> int:
        """Seconds until `name` may try again (0: now)."""
        with self.db.read() as c:
            until = c.execute(select(login_failures.c.locked_until).where(login_failures.c.name == name)).scalar()
        if not until:
            return 0
        left = (dt.datetime.fromisoformat(until) - dt.datetime.now(dt.timezone.utc)).total_seconds()
        return max(0, math.ceil(left))

    def failed(self, name: str, after: int = passwords.LOCKOUT_AFTER,
               cap: int = passwords.LOCKOUT_MAX_SECONDS) -> int:
        """Count one failed login for `name`; the seconds it is now locked for (0: not locked)."""
        current = dt.datetime.now(dt.timezone.utc)
        forget = (current - FORGET_AFTER).isoformat(timespec="seconds")
        with self.db.exclusive() as c:  # read and write under the write lock: concurrent failures all count
            c.execute(delete(login_failures).where(login_failures.c.last_failure < forget))
            before = c.execute(select(login_failures.c.failures).where(login_failures.c.name == name)).scalar()
            failures = (before or 0) + 1
            seconds = passwords.lockout_seconds(failures, after, cap)
            until = _whole_seconds(current + dt.timedelta(seconds=seconds)) if seconds else None
            upsert(c, login_failures, {"name": name, "failures": failures, "last_failure": now(),
                                       "locked_until": until}, key=("name",))
        return seconds

    def succeeded(self, name: str):
        with self.db.write() as c:
            c.execute(delete(login_failures).where(login_failures.c.name == name))


def _whole_seconds(t: dt.datetime) -> str:
    """`t` rounded up to the second (times are kept to the second): a lock never ends early."""
    return (t.replace(microsecond=0) + dt.timedelta(seconds=1 if t.microsecond else 0)).isoformat()
