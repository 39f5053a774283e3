"""NUL, control and bidi characters at the edge: a 400 naming the field, the same on SQLite and PostgreSQL, and
nothing stored (issue #24: NUL was a 500 on PostgreSQL and lost the contact request; U+202E in a contact name
reached the webhook). A pasted ticket is cleaned instead, which is what an agent expects."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kb.storage import Database, migrate
from tests.support import csrf_token, login, new_user, run_sql

CONTACT = {"subject": "Refund for a double charge", "message": "I was charged twice.", "email": "ana@example.com",
           "name": "Ana", "confirm": "1"}


@pytest.fixture
def index_dir(request):
    """The fake embedder's sample index on both engines (the PostgreSQL runs are slow for the server alone)."""
    request.getfixturevalue("fake_default_model")
    return request.getfixturevalue("fake_web_index")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def app(request, make_app):
    if request.param == "sqlite":
        yield make_app()
        return
    url = request.getfixturevalue("postgres_url")
    fresh = Database(url)
    migrate.upgrade(fresh)
    fresh.close()
    made = make_app(DATABASE_URL=url)
    yield made
    ext = made.extensions["polykb"]
    if ext.get("follower"):
        ext["follower"].stop()
    ext["db"].close()


def refused(r, field: str, char: str) -> bool:
    message = r.get_json()["error"]["message"] if r.is_json else r.get_data(as_text=True)
    return r.status_code == 400 and field in message and char in message


@pytest.mark.parametrize("path", ["/api/search?q=cdn%00", "/en/search?q=cdn%00", "/api/autocomplete?q=cd%00",
                                  "/en/search?q=%E2%80%AEcdn"])
def test_a_query_with_nul_or_a_bidi_override_is_a_400(app, path):
    r = app.test_client().get(path)
    assert refused(r, "q", "U+0000" if "%00" in path else "U+202E")


@pytest.mark.parametrize("field, value", [("name", "Ana\u202eevil"), ("message", "a\x00b"), ("email", "a\x00@b.co"),
                                          ("subject", "x\x1b[31m")])
def test_the_contact_form_refuses_them_and_stores_nothing(app, field, value):
    client = app.test_client()
    db = SimpleNamespace(db=app.extensions["polykb"]["db"])
    before = run_sql(db, "SELECT count(*) FROM contact_requests")  # the session's database: other tests' rows
    token = csrf_token(client, "/en/contact/")
    r = client.post("/en/contact/", data={"csrf_token": token, **CONTACT, field: value})
    assert refused(r, field, f"U+{ord(next(c for c in value if not c.isalnum() and c not in ' @.[')):04X}")
    assert run_sql(db, "SELECT count(*) FROM contact_requests") == before


def test_feedback_and_login_refuse_them(app):
    client = app.test_client()
    r = client.post("/api/feedback", json={"article_id": "cdn-502-bad-gateway", "lang": "en", "helpful": False,
                                           "reason": "bad\x00"})
    assert refused(r, "reason", "U+0000")
    token = csrf_token(client, "/auth/login")
    r = client.post("/auth/login", data={"csrf_token": token, "username": "ad\x00min", "password": "x"})
    assert refused(r, "username", "U+0000")


def test_a_pasted_ticket_is_cleaned_not_refused(app):
    client = app.test_client()
    login(client, new_user(SimpleNamespace(db=app.extensions["polykb"]["db"]), "agent"))
    r = client.post("/api/suggest", json={"text": "502 bad gateway\x00 on the \u202ecdn\x1b[0m"},
                    headers={"X-CSRFToken": csrf_token(client, "/agent/")})
    assert r.status_code == 200 and r.get_json()["results"]
    searched = run_sql(SimpleNamespace(db=app.extensions["polykb"]["db"]), "SELECT query FROM searches")
    assert searched and all("\x00" not in q and "\u202e" not in q for (q,) in searched)


def test_the_api_description_says_the_same(make_app):
    import re

    spec = make_app().test_client().get("/api/openapi.json").get_json()["paths"]
    q = next(p["schema"]["pattern"] for p in spec["/api/search"]["get"]["parameters"] if p["name"] == "q")
    assert re.search(q, "cdn 502") and not re.search(q, "cdn\x00") and not re.search(q, "\u202ecdn")
    text = spec["/api/suggest"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["text"]
    assert re.search(text["pattern"], "502\x00") and not re.search(text["pattern"], "\x00\u202e ")
