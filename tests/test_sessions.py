"""Revocable sessions and the account and token commands (issue 13, finding 1).

A session cookie carries its user's session generation: signing out, a new password, `kb user logout` and
removing the user end every session of that user at once, copied cookies included. Tokens have roles, expire,
and remember when they were last used.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from click.testing import CliRunner

from cli.main import cli
from cli.accounts import parse_expires
from kb.storage.accounts import Accounts
from tests.support import PASSWORD, csrf_token, login, new_user, run_sql

TICKET = {"text": "CDN 502 Bad Gateway from the origin"}


def signed_in(app, name):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def with_cookie_of(app, client):
    """Another client (another machine) holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def opens_agent_pages(client) -> bool:
    return client.get("/agent/").status_code == 200 and client.post("/api/suggest", json=TICKET).status_code == 200


def kb(index_dir, *args, input=None):
    result = CliRunner().invoke(cli, [*args, "--index", str(index_dir)], input=input)
    return result


def test_a_cookie_copied_before_logout_no_longer_opens_agent_pages(app, activity):
    agent = new_user(activity, "agent")
    client = signed_in(app, agent)
    copy = with_cookie_of(app, client)
    assert opens_agent_pages(copy)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/agent/")})
    assert copy.get("/agent/").status_code == 302  # to the login page
    assert copy.post("/api/suggest", json=TICKET).status_code == 401


def test_signing_out_ends_every_session_of_that_user_and_no_one_elses(app, activity):
    agent, other = new_user(activity, "agent"), new_user(activity, "agent")
    laptop, phone, colleague = signed_in(app, agent), signed_in(app, agent), signed_in(app, other)
    laptop.post("/auth/logout", data={"csrf_token": csrf_token(laptop, "/agent/")})
    assert not opens_agent_pages(phone) and opens_agent_pages(colleague)
    assert opens_agent_pages(signed_in(app, agent))  # signing in again works


@pytest.mark.parametrize("command", [["user", "passwd", "--password-stdin"], ["user", "remove"], ["user", "logout"]])
def test_password_change_removal_and_kb_user_logout_end_every_session(app, activity, index_dir, command):
    agent = new_user(activity, "agent")
    client = signed_in(app, agent)
    copy = with_cookie_of(app, client)
    result = kb(index_dir, *command[:2], agent, *command[2:], input="a-new-password-42\n")
    assert result.exit_code == 0, result.output
    assert not opens_agent_pages(client) and not opens_agent_pages(copy)


def test_kb_user_passwd_sets_the_new_password_and_refuses_unknown_users(app, activity, index_dir):
    agent = new_user(activity, "agent")
    assert kb(index_dir, "user", "passwd", agent, "--password-stdin", input="a-new-password-42\n").exit_code == 0
    assert login(app.test_client(), agent).status_code == 401
    assert login(app.test_client(), agent, "a-new-password-42").status_code == 302
    result = kb(index_dir, "user", "passwd", "nobody-here", "--password-stdin", input="a-new-password-42\n")
    assert result.exit_code == 1 and "no user 'nobody-here'" in result.output


def test_kb_user_add_on_an_existing_user_resets_the_password_and_ends_sessions(app, activity, index_dir):
    agent = new_user(activity, "agent")
    client = signed_in(app, agent)
    assert kb(index_dir, "user", "add", agent, "--role", "writer", "--password-stdin",
              input=PASSWORD + "\n").exit_code == 0
    assert client.get("/agent/").status_code == 302
    assert signed_in(app, agent).get("/writers/").status_code == 200


def test_kb_user_list_shows_role_created_and_last_sign_in(app, activity, index_dir):
    agent, writer = new_user(activity, "agent"), new_user(activity, "writer")
    signed_in(app, agent)
    lines = {line.split()[0]: line.split() for line in kb(index_dir, "user", "list").output.splitlines()}
    assert lines["name"] == ["name", "role", "created", "last_login", "locked_until"]
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert lines[agent][1] == "agent" and lines[agent][3].startswith(today)
    assert lines[writer][1] == "writer" and lines[writer][3] == "-"
    assert kb(index_dir, "user", "remove", writer).exit_code == 0
    assert writer not in kb(index_dir, "user", "list").output


# --- tokens -----------------------------------------------------------------------------

def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_kb_token_add_with_role_and_expiry_and_kb_token_list(app, index_dir):
    helpdesk, bot = f"helpdesk-{uuid.uuid4().hex[:6]}", f"editor-bot-{uuid.uuid4().hex[:6]}"
    result = kb(index_dir, "token", "add", helpdesk, "--expires", "90d")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert kb(index_dir, "token", "add", bot, "--role", "writer").exit_code == 0
    client = app.test_client()
    assert client.post("/api/suggest", json=TICKET, headers=bearer(token)).status_code == 200
    listed = kb(index_dir, "token", "list").output.splitlines()
    assert listed[0].split() == ["name", "role", "created", "expires", "last_used", "revoked"]
    rows = {line.split()[0]: line.split() for line in listed[1:]}
    in_90 = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=90)).date().isoformat()
    assert rows[helpdesk][1] == "agent" and rows[helpdesk][3].startswith(in_90) and rows[helpdesk][4] != "-"
    assert rows[bot][1:] == ["writer", rows[bot][2], "-", "-", "-"]
    assert kb(index_dir, "token", "revoke", helpdesk).exit_code == 0
    rows = {line.split()[0]: line.split() for line in kb(index_dir, "token", "list").output.splitlines()[1:]}
    assert rows[helpdesk][5] != "-" and rows[bot][5] == "-"  # revoked, with its time


def test_an_expired_token_is_refused(app, activity):
    accounts = Accounts(activity.db)
    token = accounts.add_token("old-integration", expires="2020-01-01T00:00:00+00:00")
    r = app.test_client().post("/api/suggest", json=TICKET, headers=bearer(token))
    assert r.status_code == 401 and "expired" in r.get_json()["error"]["message"]


def test_a_writer_token_is_refused_by_suggest_and_the_caller_role_is_exposed(app, activity):
    from web.services.security import api_caller

    accounts = Accounts(activity.db)
    writer, agent = accounts.add_token("editor-bot", role="writer"), accounts.add_token("helpdesk")
    assert app.test_client().post("/api/suggest", json=TICKET, headers=bearer(writer)).status_code == 403
    with app.test_request_context("/api/x", headers=bearer(writer)):
        app.preprocess_request()
        caller = api_caller(roles=("writer", "admin"))
        assert (caller.kind, caller.name, caller.role, str(caller)) == ("token", "editor-bot", "writer",
                                                                         "token:editor-bot")
    with app.test_request_context("/api/x", headers=bearer(agent)):
        app.preprocess_request()
        assert api_caller().role == "agent"


def test_last_used_is_written_at_most_once_a_minute(app, activity):
    accounts = Accounts(activity.db)
    token = accounts.add_token("busy")
    client = app.test_client()
    for _ in range(3):
        assert client.post("/api/suggest", json=TICKET, headers=bearer(token)).status_code == 200
    first = run_sql(activity, "SELECT last_used FROM tokens WHERE name = 'busy'")[0][0]
    assert first is not None
    assert run_sql(activity, "SELECT count(*) FROM audit_log WHERE event = 'token_used' AND actor = 'token:busy'") \
        == [(1,)]
    run_sql(activity, "UPDATE tokens SET last_used = '2020-01-01T00:00:00+00:00' WHERE name = 'busy'")
    assert accounts.use_token(token).recorded and not accounts.use_token(token).recorded


def test_expires_takes_days_or_a_date_and_refuses_anything_else():
    today = dt.date(2026, 11, 30)
    assert parse_expires("2027-01-31", today) == "2027-02-01T00:00:00+00:00"  # valid through that day
    assert parse_expires(None) is None
    assert parse_expires("90d", today)[:10] == (dt.datetime.now(dt.timezone.utc)
                                                 + dt.timedelta(days=90)).date().isoformat()
    for bad in ("soon", "2026-11-29", "90 days", "-1d"):
        with pytest.raises(Exception, match="90d|past"):
            parse_expires(bad, today)
