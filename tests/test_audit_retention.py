"""What is kept and for how long (issue 13, finding 7): the audit log for admins, KB_RETENTION_DAYS for logged
text, and article views counted once per reader per window."""

from __future__ import annotations

from click.testing import CliRunner

from cli.main import cli
from kb.storage.accounts import Accounts
from kb.storage.activity import Activity
from kb.storage.audit import Audit
from tests.support import PASSWORD, csrf_token, login, new_user, run_sql

OLD = "2020-01-02T03:04:05+00:00"
INTERNAL = "internal-edgectl-tool"  # an internal runbook of the sample knowledge base
PUBLIC = "cdn-502-bad-gateway"


def events(activity, event=None):
    return [(r["event"], r["actor"], r["detail"]) for r in Audit(activity.db).recent(event=event)]


# --- the audit log --------------------------------------------------------------------

def test_sign_ins_failed_ones_and_signing_out_are_audited(client, activity):
    agent = new_user(activity, "agent")
    login(client, agent, "wrong-password")
    login(client, agent)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/agent/")})
    assert events(activity)[:3] == [("logout", agent, None), ("login", agent, None), ("login_failed", agent, None)]


def test_agents_reading_internal_articles_is_audited_and_public_ones_are_not(agent_client, activity, agent):
    assert agent_client.get(f"/agent/article/{INTERNAL}").status_code == 200
    assert agent_client.get(f"/agent/article/{PUBLIC}").status_code == 200
    reads = [(e, a, d) for e, a, d in events(activity, "internal_read") if a == agent]  # the log is the session's
    assert [(e, a) for e, a, _ in reads] == [("internal_read", agent)] and reads[0][2].startswith(INTERNAL)


def test_token_use_bad_tokens_and_internal_suggestions_are_audited(client, activity):
    token = Accounts(activity.db).add_token("helpdesk")
    r = client.post("/api/suggest", json={"text": "how do I use the nimbus-edgectl tool to trace a 502 on the edge"},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    client.post("/api/suggest", json={"text": "x"}, headers={"Authorization": "Bearer kb_wrong"})
    found = events(activity)
    assert ("token_used", "token:helpdesk", "/api/suggest") in found
    assert ("token_refused", None, "/api/suggest") in found
    shown = [r["id"] for r in r.get_json()["results"] if r["visibility"] == "internal"]
    suggested = [d for e, a, d in found if e == "internal_suggested" and a == "token:helpdesk"]
    assert shown and suggested and all(i in suggested[0] for i in shown)


def test_the_audit_page_is_for_admins_only(client, activity):
    admin, agent, writer = (new_user(activity, r) for r in ("admin", "agent", "writer"))
    for name in (agent, writer):
        login(client, name)
        assert client.get("/admin/audit").status_code == 403
    login(client, "someone-else", "wrong-password")
    login(client, admin)
    html = client.get("/admin/audit?event=login_failed").get_data(as_text=True)
    assert "someone-else" in html and admin not in html.split("<tbody>")[1]
    assert client.get("/admin/audit?event=nonsense").status_code == 400
    client.set_cookie("kb_lang", "zh")
    zh = client.get("/admin/audit").get_data(as_text=True)
    assert "审计日志" in zh and "密码错误" in zh


def test_kb_audit_prints_the_log_filtered(activity, index_dir):
    audit = Audit(activity.db)
    audit.log("login", "alice")
    audit.log("login_failed", "mallory")
    out = CliRunner().invoke(cli, ["audit", "--event", "login_failed", "--index", str(index_dir)]).output
    assert "mallory" in out and "alice" not in out
    bad = CliRunner().invoke(cli, ["audit", "--event", "nonsense", "--index", str(index_dir)])
    assert bad.exit_code == 2 and "login_failed" in bad.output


def test_kb_audit_escapes_control_characters_of_what_it_prints(activity, index_dir):
    """A name typed at the sign-in form reaches the admin's terminal: its escape sequences must not act there
    (issue #24)."""
    Audit(activity.db).log("login_failed", "evil\x1b]0;pwned\x07\u202eeman", "from \x1b[31mred")
    out = CliRunner().invoke(cli, ["audit", "--event", "login_failed", "--index", str(index_dir)]).output
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "evil\\x1b]0;pwned\\x07\\u202eeman" in out and "from \\x1b[31mred" in out


# --- retention ------------------------------------------------------------------------

def old_and_new_rows(activity: Activity):
    for ts in (OLD, None):
        sid = activity.log_search("my secret ticket text", "en", "en", "internal", "agent", [(PUBLIC, "en", 0.9)], 1)
        activity.add_mark(PUBLIC, "en", "solved", "ticket pasted by the agent", "olga")
        activity.add_feedback(PUBLIC, "en", False, "my phone number is 555", "help_center")
        if ts:  # the rows just written, only: the database is shared with other tests
            for table in ("searches", "agent_marks", "feedback"):
                run_sql(activity, f"UPDATE {table} SET ts = ? WHERE id = (SELECT max(id) FROM {table})", (ts,))
    return sid


def test_retention_removes_old_text_and_keeps_the_rows_and_new_text(activity):
    activity.forget_text(30)  # what other tests left
    old_and_new_rows(activity)
    counts = activity.forget_text(30)
    assert counts == {"searches": 1, "marks": 1, "feedback reasons": 1}
    assert run_sql(activity, "SELECT ts = ?, query FROM searches ORDER BY id DESC LIMIT 2", (OLD,)) == [
        (0, "my secret ticket text"), (1, "")]
    assert run_sql(activity, "SELECT query FROM agent_marks ORDER BY id DESC LIMIT 2") == [
        ("ticket pasted by the agent",), (None,)]
    assert run_sql(activity, "SELECT helpful, reason FROM feedback ORDER BY id DESC LIMIT 2") == [
        (0, "my phone number is 555"), (0, None)]


def test_the_server_forgets_old_text_at_start_when_kb_retention_days_is_set(make_app, activity, index_dir):
    activity.forget_text(30)  # what other tests left
    old_and_new_rows(activity)
    make_app()  # unset: kept
    assert run_sql(activity, "SELECT count(*) FROM searches WHERE ts = ? AND query != ''", (OLD,)) == [(1,)]
    make_app(RETENTION_DAYS=30)
    assert run_sql(activity, "SELECT count(*) FROM searches WHERE ts = ? AND query != ''", (OLD,)) == [(0,)]
    assert run_sql(activity, "SELECT count(*) FROM searches WHERE ts = ? AND query = ''", (OLD,)) >= [(1,)]


def test_kb_purge_and_the_failed_searches_report_skip_forgotten_text(activity, index_dir):
    old_and_new_rows(activity)
    Audit(activity.db).log("login", "olga")
    run_sql(activity, "UPDATE audit_log SET ts = ?", (OLD,))
    result = CliRunner().invoke(cli, ["purge", "--days", "30", "--audit-days", "365", "--index", str(index_dir)])
    assert result.exit_code == 0 and "audit events deleted" in result.output, result.output
    assert run_sql(activity, "SELECT count(*) FROM audit_log WHERE ts = ?", (OLD,)) == [(0,)]
    assert all(q for q, *_ in activity.failed_searches("2000-01-01", audience="internal"))


# --- views ------------------------------------------------------------------------------

def views_of(activity, article_id):
    return run_sql(activity, "SELECT count(*) FROM views WHERE article_id = ?", (article_id,))[0][0]


def test_reloading_an_article_counts_one_view_per_reader_and_window(make_app, activity):
    app = make_app()
    reader, other = app.test_client(), app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.77"
    run_sql(activity, "DELETE FROM view_seen")  # a new window: another test may have viewed it from this address
    before = views_of(activity, PUBLIC)
    for _ in range(5):
        assert reader.get(f"/en/article/{PUBLIC}").status_code == 200
        assert reader.get(f"/api/articles/{PUBLIC}").status_code == 200
    assert views_of(activity, PUBLIC) == before + 1
    other.get(f"/en/article/{PUBLIC}")
    assert views_of(activity, PUBLIC) == before + 2
    assert run_sql(activity, "SELECT count(*) FROM view_seen WHERE key LIKE '%198.51.100%'") == [(0,)]
    run_sql(activity, "DELETE FROM view_seen")  # a new window
    reader.get(f"/en/article/{PUBLIC}")
    assert views_of(activity, PUBLIC) == before + 3


def test_signed_in_staff_are_counted_once_per_article_whatever_their_address(make_app, activity):
    app = make_app()
    agent = new_user(activity, "agent")
    before = views_of(activity, INTERNAL)
    for address in ("198.51.100.1", "198.51.100.2"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        login(client, agent, PASSWORD)
        client.get(f"/agent/article/{INTERNAL}")
    assert views_of(activity, INTERNAL) == before + 1
