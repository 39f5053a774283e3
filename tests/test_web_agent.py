"""Agent assist and accounts: login, roles, CSRF, suggestions from a pasted ticket, marks.

Tests of what the suggestions find are `slow`: they run on the sample indexed with the real model
(tests/conftest.py).
"""

import html as htmllib
import re
import uuid

import pytest

from tests.support import PASSWORD, csrf_token, login, new_user, run_sql

LOG = "\n".join(f"2026-11-20T08:{m:02d}:13Z edge-hkg1 upstream connect error 111 (Connection refused) "
                f"while connecting to upstream, client: 198.51.100.{m}, request: \"GET /app.js HTTP/1.1\""
                for m in range(40))
TICKET = ("Добрый день!\n\nС утра наш сайт static.example.com через ваш CDN отдаёт 502 Bad Gateway. "
          "Если зайти на сервер-источник напрямую, всё открывается. Вот кусок лога nginx:\n\n" + LOG +
          "\n\nПодскажите, пожалуйста, что проверить? Спасибо, Иван")


def page(response) -> str:
    return response.get_data(as_text=True)


def ask(client, text, customer_lang=""):
    token = csrf_token(client, "/agent/")
    return client.post("/agent/", data={"csrf_token": token, "text": text, "customer_lang": customer_lang})


def test_agent_page_sends_visitors_to_login_and_back(client, agent):
    r = client.get("/agent/")
    assert r.status_code == 302 and "/auth/login?next=/agent/" in r.headers["Location"]
    token = csrf_token(client)
    r = client.post("/auth/login", data={"username": agent, "password": PASSWORD, "csrf_token": token,
                                         "next": "/agent/"})
    assert r.headers["Location"] == "/agent/"
    assert client.get("/agent/").status_code == 200


def test_writers_are_not_agents(client, activity):
    login(client, new_user(activity, "writer"))
    assert client.get("/agent/").status_code == 403


def test_admins_are_agents_too(client, activity):
    login(client, new_user(activity, "admin"))
    assert client.get("/agent/").status_code == 200


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, agent):
    r = login(client, agent, "wrong-password")
    assert r.status_code == 401 and "Wrong user name or password" in page(r)
    r = login(client, "nobody-here", "wrong-password")
    assert r.status_code == 401 and "Wrong user name or password" in page(r)


def test_login_needs_csrf(client, agent):
    r = client.post("/auth/login", data={"username": agent, "password": PASSWORD})
    assert r.status_code == 400


def test_login_is_rate_limited(make_app, agent):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute").test_client()
    codes = [login(client, agent, "wrong-password").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert "Too many requests" in page(login(client, agent))


def test_login_ignores_offsite_next(client, agent):
    for nxt in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        token = csrf_token(client)  # a new session after each login: a new token
        r = client.post("/auth/login", data={"username": agent, "password": PASSWORD, "csrf_token": token,
                                             "next": nxt})
        assert r.headers["Location"] == "/agent/"


def test_logout_needs_a_post_with_csrf(agent_client):
    assert agent_client.get("/auth/logout").status_code == 405
    assert agent_client.post("/auth/logout").status_code == 400
    token = csrf_token(agent_client, "/agent/")
    assert agent_client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert agent_client.get("/agent/").status_code == 302


def test_removed_user_loses_the_session(agent_client, activity, agent):
    run_sql(activity, "DELETE FROM users WHERE name = ?", (agent,))
    assert agent_client.get("/agent/").status_code == 302


@pytest.mark.slow
def test_suggestions_for_a_long_russian_ticket_with_a_log(agent_client):
    r = ask(agent_client, TICKET)
    html = page(r)
    assert r.status_code == 200
    assert re.search(r"Detected language:.*Русский", html, re.S)
    first = re.search(r'class="answer-title"[^>]*href="([^"]+)"', html).group(1)
    assert "cdn-502-bad-gateway" in first and "lang=ru" in first
    text = htmllib.unescape(re.search(r'<textarea readonly[^>]*id="copy-1"[^>]*>(.*?)</textarea>', html, re.S).group(1))
    assert text and "<" not in text and re.search("[а-я]", text)
    assert 'data-copy="http://localhost/ru/article/cdn-502-bad-gateway' in html


@pytest.mark.slow
def test_internal_runbooks_are_marked_and_get_no_public_link(agent_client):
    html = page(ask(agent_client, "Клиент VIP, нужно срочно эскалировать на L2 по матрице эскалации"))
    answers = re.findall(r'<article class="answer card( answer-internal)?" data-article="([^"]+)">(.*?)</article>',
                         html, re.S)
    internal = [(aid, body) for flag, aid, body in answers if flag]
    assert internal, "an internal runbook should be suggested"
    for aid, body in internal:
        assert aid.startswith("internal-") and "badge-internal" in body and "data-copy=" not in body


@pytest.mark.slow
def test_chosen_customer_language_gives_sections_in_that_language(agent_client):
    html = page(ask(agent_client, TICKET, customer_lang="zh"))
    assert re.search(r"Answers in:.*中文", html, re.S)
    first = re.search(r'class="answer-title" lang="([a-z]+)"', html).group(1)
    assert first == "zh"
    text = htmllib.unescape(re.search(r'id="copy-1"[^>]*>(.*?)</textarea>', html, re.S).group(1))
    assert re.search(r"[\u4e00-\u9fff]", text)


PURGE_TICKET = "你好，刷新缓存的时候接口返回 429 QuotaExceeded，我们今天刷新了很多 URL，每天最多能刷新多少条？"


@pytest.mark.slow
def test_an_outdated_translation_is_flagged_with_its_source_on_the_page_and_in_the_api(agent_client):
    """The Chinese purge article still says 2,000 URLs a day where the English source says 10,000: an agent
    about to paste the Chinese section is told, and linked to the English one."""
    html = page(ask(agent_client, PURGE_TICKET, customer_lang="zh"))
    card = re.search(r'<article class="answer card[^"]*" data-article="cdn-purge-cache">(.*?)</article>', html, re.S)
    assert card, "the purge article should be suggested"
    notice = re.search(r'<p class="notice notice-outdated"[^>]*>(.*?)</p>', card.group(1), re.S)
    assert notice and "English" in notice.group(1) and "2026" in notice.group(1)
    assert 'href="/agent/article/cdn-purge-cache?lang=en"' in notice.group(1)
    current = re.search(r'<article class="answer card[^"]*" data-article="(?!cdn-purge-cache)[^"]+">(.*?)</article>',
                        html, re.S)
    assert current is None or "notice-outdated" not in current.group(1)  # the other answers are current
    data = agent_client.post("/api/suggest", json={"text": PURGE_TICKET, "lang": "zh"},
                             headers={"X-CSRFToken": csrf_token(agent_client, "/agent/")}).get_json()
    purge = next(a for a in data["results"] if a["id"] == "cdn-purge-cache")
    assert purge["lang"] == "zh" and purge["outdated"] is True
    assert purge["outdated_source"] == {"lang": "en", "updated": "2026-11-12",
                                        "agent_url": "/agent/article/cdn-purge-cache?lang=en"}
    assert all(a["outdated"] is False for a in data["results"] if a["id"] != "cdn-purge-cache")


def test_ticket_limits_and_csrf(agent_client):
    r = ask(agent_client, "x" * 20001)
    assert r.status_code == 400 and "20000" in page(r)
    r = ask(agent_client, "   ")
    assert r.status_code == 400
    r = ask(agent_client, "hello", customer_lang="xx")
    assert r.status_code == 400
    r = agent_client.post("/agent/", data={"text": TICKET})
    assert r.status_code == 400


def test_marks_are_stored_with_the_agent_name(agent_client, agent, activity):
    token = csrf_token(agent_client, "/agent/")
    q = f"ticket {uuid.uuid4().hex[:6]}"
    r = agent_client.post("/agent/mark", data={"csrf_token": token, "article_id": "cdn-502-bad-gateway", "lang": "ru",
                                               "mark": "solved", "query": q}, headers={"Accept": "application/json"})
    assert r.get_json() == {"ok": True, "article_id": "cdn-502-bad-gateway", "mark": "solved"}
    r = agent_client.post("/agent/mark", data={"csrf_token": token, "article_id": "internal-edgectl-tool",
                                               "mark": "not_relevant", "query": q})
    assert r.status_code == 200 and "Thanks, noted." in page(r)
    rows = run_sql(activity, "SELECT article_id, mark, user FROM agent_marks WHERE query = ? ORDER BY id", (q,))
    assert rows == [("cdn-502-bad-gateway", "solved", agent), ("internal-edgectl-tool", "not_relevant", agent)]


def test_mark_validation(agent_client):
    token = csrf_token(agent_client, "/agent/")
    assert agent_client.post("/agent/mark", data={"csrf_token": token, "article_id": "rtc-echo",
                                                  "mark": "great"}).status_code == 400
    assert agent_client.post("/agent/mark", data={"csrf_token": token, "article_id": "nope",
                                                  "mark": "solved"}).status_code == 404
    assert agent_client.post("/agent/mark", data={"article_id": "rtc-echo", "mark": "solved"}).status_code == 400


def test_agents_can_read_internal_articles(agent_client, client):
    html = page(agent_client.get("/agent/article/internal-edgectl-tool"))
    assert "badge-internal" in html and "nimbus-edgectl" in html


def test_agent_searches_are_logged_as_internal(agent_client, activity):
    marker = uuid.uuid4().hex[:8]
    ask(agent_client, f"CDN 502 после смены источника {marker}")
    rows = run_sql(activity, "SELECT audience, route FROM searches WHERE query LIKE ?", (f"%{marker}%",))
    assert rows == [("internal", "agent")]


@pytest.mark.slow
def test_copy_text_of_an_outdated_section_warns_with_the_changed_facts_and_the_sources_wording(agent_client):
    """The zh purge section still says 2,000 URLs where the English source says 10,000: its Copy text first shows
    both facts, and offers the English section's text to copy instead."""
    html = page(ask(agent_client, PURGE_TICKET, customer_lang="zh"))
    card = re.search(r'<article class="answer card[^"]*" data-article="cdn-purge-cache">(.*?)</article>', html, re.S)
    warning = re.search(r'<div class="notice notice-outdated copy-warning drift-warning" id="(drift-warning-\d+)"'
                        r'[^>]*hidden>(.*?)</div>', card.group(1), re.S)
    assert warning, "Copy text of the drifted section should warn first"
    assert f'data-confirm="{warning.group(1)}"' in card.group(1)
    said = dict(re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", warning.group(2), re.S))
    # facts as the drift report compares them: numbers without their thousands separator
    assert "<code lang=\"en\">10000</code>" in said["The English source says"]
    assert "<code lang=\"zh\">2000</code>" in said["This translation still says"]
    source = htmllib.unescape(re.search(r'<textarea readonly hidden id="source-\d+" lang="en">(.*?)</textarea>',
                                        warning.group(2), re.S).group(1))
    assert "10,000" in source and "2,000" not in source and "Copy the English wording" in warning.group(2)


def test_an_unanswered_ticket_lists_no_internal_runbooks(agent_client, monkeypatch):
    from tests.refusals import refuse_searches

    ticket = "Клиент VIP, нужно срочно эскалировать на L2 по матрице эскалации"
    answered = page(ask(agent_client, ticket))
    assert "answer-internal" in answered and "runbooks-hidden" not in answered  # answered: runbooks are shown
    refuse_searches(monkeypatch).add(ticket)
    weak = page(ask(agent_client, ticket))
    assert "No confident answer." in weak and 'class="badge badge-weak"' in weak
    assert "answer-internal" not in weak and 'class="muted small runbooks-hidden"' in weak
    data = agent_client.post("/api/suggest", json={"text": ticket},
                             headers={"X-CSRFToken": csrf_token(agent_client, "/agent/")}).get_json()
    assert data["answered"] is False and all(a["visibility"] == "public" for a in data["results"])


UNCOVERED_TICKETS = {t["id"]: t for t in map(__import__("json").loads, (
    __import__("pathlib").Path(__file__).parent / "data" / "uncovered_tickets.jsonl").read_text(encoding="utf-8")
    .splitlines())}
# Twenty tickets nothing in the sample covers: 9 are still answered (covered tickets: 31 of 32), e.g. tenge
# billing with billing-invoices then unrelated runbooks, a DPA or a Terraform provider with the HKG incident
# runbook. Their answer probability (0.11-0.42) and best cosine (0.84-0.89) sit among the answered covered
# tickets' (q-agent-ru-01 0.13/0.84, q-agent-zh-01 0.14/0.86, q-agent-ru-07 0.21/0.86), the keyword side often
# agreeing: no cut-off on today's signals makes them weak without refusing answered ones. Strict: one that
# turns weak must leave this list.
STILL_ANSWERED = {"q-uncovered-ru-tenge", "q-uncovered-en-tenge", "q-uncovered-zh-stamp", "q-uncovered-en-sso",
                  "q-uncovered-en-dpa", "q-uncovered-en-terraform", "q-uncovered-en-owner", "q-uncovered-ru-sso",
                  "q-uncovered-zh-domain"}


@pytest.mark.slow
@pytest.mark.parametrize("ticket_id", [
    pytest.param(t, marks=pytest.mark.xfail(strict=True, reason="uncovered ticket still answered: see STILL_ANSWERED"))
    if t in STILL_ANSWERED else t for t in UNCOVERED_TICKETS])
def test_a_ticket_the_sample_does_not_cover_gets_weak_matches_and_no_runbooks(agent_client, ticket_id):
    """Tenge billing, stamped paper contracts, SSO, a DPA...: nothing in the sample covers them
    (tests/data/uncovered_tickets.jsonl)."""
    html = page(ask(agent_client, UNCOVERED_TICKETS[ticket_id]["text"]))
    assert "No confident answer." in html and 'class="badge badge-weak"' in html
    assert "answer-internal" not in html
