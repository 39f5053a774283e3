"""Password hashes, and the two rules of checking one that keep accounts from being guessed or found.

- A login for an account that does not exist costs the same as a wrong password:
  `verify(None, password)` checks the password against a dummy hash made the same
  way as real ones, so the time a login takes does not tell whether a name exists.
- An account that keeps failing is locked for a time that doubles with each
  further failure (`lockout_seconds`), whichever addresses the attempts come from.
  The lock only delays: it never disables the account, and a successful login
  clears it. Locks are kept for names that do not exist too, for the same reason.
"""

from __future__ import annotations

import threading

import werkzeug.security

MIN_LENGTH = 8
LOCKOUT_AFTER = 5  # failures in a row that cost nothing but the per-address limits
LOCKOUT_MAX_SECONDS = 900

_dummy: tuple[object, str] | None = None  # (the hashing function it was made with, the hash)
_dummy_lock = threading.Lock()


def hash_password(password: str) -> str:
    """werkzeug's default (scrypt, salted); raises ValueError for a password too short to keep."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must be at least {MIN_LENGTH} characters")
    return werkzeug.security.generate_password_hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Is `password` the one `stored_hash` was made from? None (no such account) costs the same and is False."""
    if stored_hash is None:
        werkzeug.security.check_password_hash(_dummy_hash(), password)
        return False
    return werkzeug.security.check_password_hash(stored_hash, password)


def _dummy_hash() -> str:
    """A hash of a random password, made once per process the way real ones are (same method, same cost);
    made again if the hashing function is replaced (tests swap in a cheap one)."""
    global _dummy
    make = werkzeug.security.generate_password_hash
    with _dummy_lock:
        if _dummy is None or _dummy[0] is not make:
            import secrets

            _dummy = (make, make(secrets.token_urlsafe(16)))
        return _dummy[1]


def lockout_seconds(failures: int, after: int = LOCKOUT_AFTER, cap: int = LOCKOUT_MAX_SECONDS) -> int:
    """How long an account stays locked after `failures` failed logins in a row: 0 below `after`, then
    1 s, 2 s, 4 s, ... up to `cap`. With the default 15 minutes an attacker gets 15 guesses in the first
    17 minutes and 4 an hour after that, from any number of addresses; the login limit alone would let each
    address try 600 an hour."""
    if failures < after:
        return 0
    return min(cap, 2 ** min(failures - after, 30))
