"""`kb user`, `kb token`, `kb audit` and `kb purge`: accounts, API tokens and what the shared database keeps.

Registered on the `kb` command by cli/main.py. Every change to an account or a
token is written to the audit log with the actor `cli`.
"""

from __future__ import annotations

import datetime as dt
import re
import sys

import click

from cli.options import Registered, from_setting, index_option, reports_errors
from kb.errors import KBError


def _db(index_dir):
    from cli.options import database as _database

    return _database(index_dir)


def _repos(index_dir):
    """The accounts and the audit log, on one connection pool."""
    from kb.storage.accounts import Accounts
    from kb.storage.audit import Audit

    db = _db(index_dir)
    return Accounts(db), Audit(db)


def _audited(index_dir, change, missing: str, event: str, detail: str):
    """`change(accounts)`, written to the audit log as `event` by `cli`; its result, unless it is empty (no such
    user or token): then the error `missing`, and nothing is logged."""
    accounts, audit_log = _repos(index_dir)
    done = change(accounts)
    if not done:
        raise KBError(missing)
    audit_log.log(event, "cli", detail)
    return done


def _no_user(name: str) -> str:
    return f"no user {name!r}; `kb user list` shows them"


def _printable(text: str) -> str:
    """`text` with control, bidi and other unprintable characters as `\x1b`-style escapes."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _table(rows: list[dict], columns: list[str]):
    """A plain aligned table; `-` for empty cells; control characters shown escaped (a user name typed at the
    sign-in form as `\x1b]0;...` must not drive the admin's terminal)."""
    cells = [[_printable(str(r.get(c) if r.get(c) not in (None, "") else "-")) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


password_stdin_option = click.option("--password-stdin", is_flag=True,
                                     help="Read the password from standard input instead of prompting.")


@click.group()
def user():
    """Accounts for agents, writers and admins (kept in the shared database: $KB_DATABASE_URL or <index>/activity.sqlite)."""


@user.command(name="add")
@click.argument("name")
@click.option("--role", type=Registered("kb.storage.accounts:ROLES"), default="agent", show_default=True)
@password_stdin_option
@index_option
@reports_errors
def user_add(name, role, password_stdin, index_dir):
    """Create a user, or reset their password and role (ending their sessions): `kb user add alice --role agent`."""
    accounts, audit_log = _repos(index_dir)
    accounts.add_user(name, _password(password_stdin), role)
    audit_log.log("user_saved", "cli", f"{name} ({role})")
    click.echo(f"user {name!r} saved with role {role}")


@user.command(name="passwd")
@click.argument("name")
@password_stdin_option
@index_option
@reports_errors
def user_passwd(name, password_stdin, index_dir):
    """Change a user's password; every session they have ends at once."""
    _audited(index_dir, lambda accounts: accounts.set_password(name, _password(password_stdin)),
             _no_user(name) + ", `kb user add` creates one", "password_changed", name)
    click.echo(f"password of {name!r} changed; their sessions have ended")


@user.command(name="remove")
@click.argument("name")
@index_option
@reports_errors
def user_remove(name, index_dir):
    """Remove a user; every session they have ends at once (their marks and the audit log keep the name)."""
    _audited(index_dir, lambda accounts: accounts.remove_user(name), _no_user(name), "user_removed", name)
    click.echo(f"user {name!r} removed")


@user.command(name="logout")
@click.argument("name")
@index_option
@reports_errors
def user_logout(name, index_dir):
    """End every session of a user now (a lost laptop), without changing their password."""
    _audited(index_dir, lambda accounts: accounts.end_sessions(name), _no_user(name), "sessions_ended", name)
    click.echo(f"every session of {name!r} has ended")


@user.command(name="list")
@index_option
@reports_errors
def user_list(index_dir):
    """Users with their role, when they were created, and their last sign-in."""
    _table(_repos(index_dir)[0].list_users(), ["name", "role", "created", "last_login", "locked_until"])


@click.group()
def token():
    """API tokens for `POST /api/suggest` (helpdesk integrations) and, with --role writer, the writers' API."""


EXPIRES_HELP = "When it stops working: a number of days (`90d`) or a date (`2027-01-31`, valid through that day, UTC)."


def parse_expires(value: str | None, today: dt.date | None = None) -> str | None:
    """`90d` or `YYYY-MM-DD` → the ISO time (UTC) the token stops working; None: never."""
    if not value:
        return None
    today = today or dt.datetime.now(dt.timezone.utc).date()
    m = re.fullmatch(r"(\d{1,5})d", value.strip())
    if m:
        end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=int(m[1]))
    else:
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise click.BadParameter(f"{value!r}: give days (`90d`) or a date (`2027-01-31`)") from None
        if day < today:
            raise click.BadParameter(f"{value}: that day is already past")
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    return end.isoformat(timespec="seconds")


@token.command(name="add")
@click.argument("name")
@click.option("--role", type=Registered("kb.storage.accounts:TOKEN_ROLES"), default="agent", show_default=True,
              help="agent: suggested answers (internal articles included); writer: the writers' API.")
@click.option("--expires", default=None, help=EXPIRES_HELP)
@index_option
@reports_errors
def token_add(name, role, expires, index_dir):
    """Create a token and print it once: only its hash is stored."""
    until = parse_expires(expires)
    accounts, audit_log = _repos(index_dir)
    click.echo(accounts.add_token(name, role=role, expires=until))
    audit_log.log("token_added", "cli", f"{name} ({role}{', until ' + until if until else ''})")
    click.echo(f"token {name!r} ({role}) created{', valid until ' + until if until else ''}; store it now, "
               "it cannot be shown again", err=True)


@token.command(name="revoke")
@click.argument("name")
@index_option
@reports_errors
def token_revoke(name, index_dir):
    """Revoke every active token with this name."""
    n = _audited(index_dir, lambda accounts: accounts.revoke_token(name), f"no active token named {name!r}",
                 "token_revoked", name)
    click.echo(f"revoked {n} token(s) named {name!r}")


@token.command(name="list")
@index_option
@reports_errors
def token_list(index_dir):
    """Every token: name, role, created, expires, last used (to the minute), revoked."""
    _table(_repos(index_dir)[0].list_tokens(), ["name", "role", "created", "expires", "last_used", "revoked"])


@click.command(name="audit")
@click.option("--since", default=None, help="Only events from this date or time on (ISO, UTC), e.g. 2026-11-01.")
@click.option("--who", "actor", default=None, help="Only this actor: a user name, `token:NAME` or `cli`.")
@click.option("--event", default=None, help="Only this kind of event (login, login_failed, token_used, ...).")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000))
@index_option
@reports_errors
def audit(since, actor, event, limit, index_dir):
    """The audit log, newest first: sign-ins, failed ones, token use, internal articles read by staff."""
    from kb.storage.audit import EVENTS

    if event and event not in EVENTS:
        raise click.BadParameter(f"{event!r}; one of {', '.join(sorted(EVENTS))}", param_hint="--event")
    _table(_repos(index_dir)[1].recent(since=since, actor=actor, event=event, limit=limit),
           ["ts", "event", "actor", "detail"])


@click.command(name="purge")
@click.option("--days", type=click.IntRange(1), **from_setting("RETENTION_DAYS"), required=True,
              help="Remove logged query and ticket text older than this.")
@click.option("--audit-days", type=click.IntRange(1), **from_setting("AUDIT_RETENTION_DAYS"),
              help="Delete audit events older than this.")
@index_option
@reports_errors
def purge(days, audit_days, index_dir):
    """Forget old text now (`kb serve` also does it hourly): searches keep their counts, not their words."""
    from kb.storage.activity import Activity
    from kb.storage.audit import Audit
    from kb.storage.contact import ContactStore
    from kb.storage.learning import LearningLog

    db = _db(index_dir)
    counts = Activity(db).forget_text(days)
    counts.update(ContactStore(db).forget_text(days))
    counts.update(LearningLog(db).forget_readers(days))
    gone = Audit(db).purge(audit_days)
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()) + f"; {gone} audit events deleted")
