"""Guessing passwords and finding accounts (issue 13, finding 3): the dummy hash for unknown names, and the
per-account lock with backoff, kept in the shared database, from any address. The per-address limits are in
test_web_limits; the time a login takes is measured by bench/login_timing.py, not here."""

from __future__ import annotations

import werkzeug.security

from kb.storage import passwords
from kb.storage.lockout import LoginLocks
from tests.support import PASSWORD, csrf_token, login, new_user, run_sql


def attempt(app, name, password="wrong-password", address="198.51.100.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(client)
    return client.post("/auth/login", data={"username": name, "password": password, "csrf_token": token})


def test_an_unknown_name_costs_one_password_check_like_a_wrong_password(app, activity, monkeypatch):
    agent = new_user(activity, "agent")
    checks = []
    real = werkzeug.security.check_password_hash
    monkeypatch.setattr(werkzeug.security, "check_password_hash", lambda h, p: checks.append(h) or real(h, p))
    assert attempt(app, agent).status_code == 401
    assert attempt(app, "no-such-agent").status_code == 401
    assert len(checks) == 2 and checks[1].split("$")[0] == checks[0].split("$")[0]  # same method and cost


def test_the_dummy_hash_never_matches():
    assert not passwords.verify(None, "") and not passwords.verify(None, "correct-horse-battery")


def test_backoff_doubles_after_the_free_failures_and_is_capped():
    assert [passwords.lockout_seconds(n, after=3, cap=10) for n in range(1, 9)] == [0, 0, 1, 2, 4, 8, 10, 10]


def test_an_account_is_locked_after_failures_from_many_addresses_even_for_the_right_password(make_app, activity):
    agent = new_user(activity, "agent")
    app = make_app(LOGIN_LOCKOUT_AFTER=3)
    codes = [attempt(app, agent, address=f"203.0.113.{i}").status_code for i in range(3)]
    assert codes == [401, 401, 401]
    locked = attempt(app, agent, PASSWORD, address="203.0.113.99")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins for this account" in locked.get_data(as_text=True)
    assert attempt(app, new_user(activity, "agent"), PASSWORD).status_code == 302  # others are not locked


def test_the_lock_ends_and_a_success_clears_the_count(make_app, activity):
    agent = new_user(activity, "agent")
    app = make_app(LOGIN_LOCKOUT_AFTER=2)
    for i in range(2):
        attempt(app, agent, address=f"203.0.113.{i}")
    assert attempt(app, agent, PASSWORD).status_code == 429
    run_sql(activity, "UPDATE login_failures SET locked_until = '2020-01-01T00:00:00+00:00'")  # time passes
    assert attempt(app, agent, PASSWORD).status_code == 302
    assert run_sql(activity, "SELECT count(*) FROM login_failures WHERE name = ?", (agent,)) == [(0,)]


def test_unknown_names_lock_the_same_way_so_the_lock_tells_nothing(make_app, activity):
    app = make_app(LOGIN_LOCKOUT_AFTER=2)
    real, ghost = new_user(activity, "agent"), "ghost-account"
    answers = {}
    for name in (real, ghost):
        answers[name] = [attempt(app, name).status_code for _ in range(3)]
    assert answers[real] == answers[ghost] == [401, 401, 429]


def test_the_lock_is_shared_by_every_server_process(make_app, activity):
    agent = new_user(activity, "agent")
    one, two = make_app(LOGIN_LOCKOUT_AFTER=2), make_app(LOGIN_LOCKOUT_AFTER=2)  # two apps: two processes
    attempt(one, agent)
    attempt(two, agent)
    assert attempt(one, agent, PASSWORD).status_code == 429
    assert LoginLocks(activity.db).wait(agent) >= 1


def test_a_lock_is_counted_again_after_a_quiet_day(activity):
    locks = LoginLocks(activity.db)
    for _ in range(4):
        locks.failed("quiet", after=3)
    assert locks.wait("quiet") >= 1
    run_sql(activity, "UPDATE login_failures SET last_failure = '2020-01-01T00:00:00+00:00'")
    assert locks.failed("quiet", after=3) == 0  # the old run of failures is forgotten
