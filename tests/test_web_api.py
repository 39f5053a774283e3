"""The JSON API: shapes, one error shape for every bad input, tokens, rate limits.

Tests of what a search or a suggestion finds are `slow`: they run on the sample indexed with the real model
(tests/conftest.py).
"""

import re
import uuid

import pytest

from tests.support import error_of, login, new_user, run_sql

TICKET_RU = "Здравствуйте! Сайт через CDN отдаёт 502 Bad Gateway, хотя напрямую источник работает. Что проверить?"


@pytest.fixture
def token(accounts):
    return accounts.add_token(f"helpdesk-{uuid.uuid4().hex[:6]}")


@pytest.mark.slow
def test_search_returns_public_results_with_urls_and_detection(client):
    data = client.get("/api/search?q=ошибка 502&k=3").get_json()
    assert data["detected"]["lang"] == "ru" and data["lang"] == "ru" and data["total"] >= 3
    top = data["results"][0]
    assert top["id"] == "cdn-502-bad-gateway" and top["visibility"] == "public"
    assert top["url"].startswith("http://localhost/ru/article/cdn-502-bad-gateway")
    assert len(data["results"]) == 3 and isinstance(data["search_id"], int)


@pytest.mark.slow
def test_search_lang_is_the_readers_language_with_fallback(client):
    data = client.get("/api/search?q=refund&lang=zh-CN").get_json()
    top = data["results"][0]
    assert top["id"] == "billing-refunds" and top["lang"] == "en" and top["fallback"] is True


def test_search_product_filter(client):
    data = client.get("/api/search?q=error&product=rtc&k=50").get_json()
    assert data["results"] and all(r["product"] == "rtc" for r in data["results"])


@pytest.mark.parametrize("query,needle", [
    ("", "q is required"),
    ("?q=", "q is empty"),
    ("?q=%20%20", "q is empty"),
    ("?q=" + "a" * 501, "over the limit of 500"),
    ("?q=cdn&k=0", "k must be between 1 and 50"),
    ("?q=cdn&k=51", "k must be between 1 and 50"),
    ("?q=cdn&k=ten", "k must be a whole number"),
    ("?q=cdn&k=1.5", "k must be a whole number"),
    ("?q=cdn&offset=-1", "offset must be between"),
    ("?q=cdn&lang=klingon", "unknown language 'klingon'"),
])
def test_search_bad_input_is_400_with_a_clear_message(shared_app, query, needle):
    r = shared_app.test_client().get("/api/search" + query)
    assert r.status_code == 400 and needle in error_of(r)["message"]


def test_article_returns_metadata_html_and_languages(client):
    data = client.get("/api/articles/cdn-502-bad-gateway?lang=ru").get_json()
    assert data["lang"] == "ru" and data["fallback"] is False
    assert data["languages"] == ["en", "es", "ru", "zh"]
    assert '<h2 id="' in data["html"] and data["url"].endswith("/ru/article/cdn-502-bad-gateway")
    assert data["toc"] and {"level", "id", "title"} == set(data["toc"][0])
    fallback = client.get("/api/articles/billing-refunds?lang=zh").get_json()
    assert fallback["lang"] == "en" and fallback["fallback"] is True


def test_article_errors(client):
    r = client.get("/api/articles/nope")
    assert r.status_code == 404 and error_of(r)["message"] == "no public article 'nope'"
    r = client.get("/api/articles/cdn-502-bad-gateway?lang=xx")
    assert r.status_code == 400 and "unknown language" in error_of(r)["message"]


def test_feedback_is_stored(client, activity):
    reason = f"api {uuid.uuid4().hex[:6]}"
    r = client.post("/api/feedback", json={"article_id": "rtc-echo", "lang": "zh", "helpful": False, "reason": reason})
    assert r.status_code == 201 and r.get_json() == {"ok": True}
    assert run_sql(activity, "SELECT article_id, lang, helpful, source FROM feedback WHERE reason=?", (reason,)) == [
        ("rtc-echo", "zh", 0, "api")]


@pytest.mark.parametrize("body,needle", [
    ({"lang": "en", "helpful": True}, "article_id is required"),
    ({"article_id": "rtc-echo", "helpful": True}, "lang is required"),
    ({"article_id": "rtc-echo", "lang": "en"}, "helpful is required"),
    ({"article_id": "rtc-echo", "lang": "en", "helpful": "yes"}, "helpful must be true or false, got str"),
    ({"article_id": 5, "lang": "en", "helpful": True}, "article_id must be a string, got int"),
    ({"article_id": "rtc-echo", "lang": "en", "helpful": True, "reason": 3}, "reason must be a string"),
    ({"article_id": "rtc-echo", "lang": "en", "helpful": True, "reason": "x" * 1001}, "over the limit of 1000"),
    ({"article_id": "rtc-echo", "lang": "en", "helpful": True, "stars": 5}, "unknown field 'stars'"),
    ({"article_id": "rtc-echo", "lang": "es", "helpful": True}, "has no 'es' version"),
    ({"article_id": "rtc-echo", "lang": "de", "helpful": True}, "not a language of this site"),
    ({"article_id": "rtc-echo", "lang": "xx", "helpful": True}, "unknown language"),
    ([1, 2], "must be a JSON object"),
])
def test_feedback_bad_input_is_400(shared_app, body, needle):
    r = shared_app.test_client().post("/api/feedback", json=body)
    assert r.status_code == 400 and needle in error_of(r)["message"]


def test_malformed_json_and_wrong_content_type_are_400(client):
    deep = b'{"reason": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = client.post("/api/feedback", data=deep, content_type="application/json")
    assert r.status_code == 400 and "JSON object" in error_of(r)["message"]
    r = client.post("/api/feedback", data=b"\xff\xfe", content_type="application/json")
    assert r.status_code == 400
    r = client.post("/api/feedback", data=b"x" * 2_000_000, content_type="application/json")
    assert r.status_code == 413 and error_of(r)
    r = client.post("/api/feedback", data="{not json", content_type="application/json")
    assert r.status_code == 400 and "JSON object" in error_of(r)["message"]
    r = client.post("/api/feedback", data="article_id=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and "Content-Type: application/json" in error_of(r)["message"]


def test_unknown_api_routes_and_methods_use_the_error_shape(client):
    r = client.get("/api/nope")
    assert r.status_code == 404 and error_of(r)
    r = client.get("/api/feedback")
    assert r.status_code == 405 and error_of(r) and "POST" in r.headers["Allow"]


def test_suggest_needs_a_token_or_an_agent_session(client):
    r = client.post("/api/suggest", json={"text": TICKET_RU})
    assert r.status_code == 401 and "Bearer" in r.headers["WWW-Authenticate"] and error_of(r)
    r = client.post("/api/suggest", json={"text": TICKET_RU}, headers={"Authorization": "Bearer kb_wrong"})
    assert r.status_code == 401 and "not valid" in error_of(r)["message"]
    r = client.post("/api/suggest", json={"text": TICKET_RU}, headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


@pytest.mark.slow
def test_suggest_with_a_token_returns_sections_in_the_customers_language(client, token):
    r = client.post("/api/suggest", json={"text": TICKET_RU, "k": 4}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    assert data["detected"]["lang"] == "ru" and data["lang"] == "ru" and len(data["results"]) == 4
    top = data["results"][0]
    assert top["id"] == "cdn-502-bad-gateway" and top["lang"] == "ru" and top["text"]
    assert top["public_url"].startswith("http://localhost/ru/article/cdn-502-bad-gateway")
    assert "<" not in top["text"]


@pytest.mark.slow
def test_suggest_includes_internal_runbooks_flagged_without_public_link(client, token):
    r = client.post("/api/suggest", json={"text": "How do I trace a 502 with nimbus-edgectl over the VPN?", "k": 10},
                    headers={"Authorization": f"Bearer {token}"})
    internal = [a for a in r.get_json()["results"] if a["visibility"] == "internal"]
    assert internal and all(a["public_url"] is None for a in internal)
    assert any(a["id"] == "internal-edgectl-tool" for a in internal)


def test_revoked_token_is_refused(client, accounts):
    name = f"old-{uuid.uuid4().hex[:6]}"
    token = accounts.add_token(name)
    accounts.revoke_token(name)
    r = client.post("/api/suggest", json={"text": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_suggest_accepts_an_agent_session_but_not_a_writer(client, activity):
    writer = new_user(activity, "writer")
    login(client, writer)
    assert client.post("/api/suggest", json={"text": TICKET_RU}).status_code == 403  # signed in, wrong role
    agent = new_user(activity, "agent")
    login(client, agent)
    assert client.post("/api/suggest", json={"text": TICKET_RU}).status_code == 200


@pytest.mark.parametrize("body,needle", [
    ({}, "text is required"),
    ({"text": "   "}, "text is empty"),
    ({"text": "x" * 20001}, "over the limit of 20000"),
    ({"text": "hi", "k": 0}, "k must be between 1 and 50"),
    ({"text": "hi", "k": "5"}, "k must be an integer, got str"),
    ({"text": "hi", "k": True}, "k must be an integer, got bool"),
    ({"text": "hi", "lang": "xx"}, "unknown language"),
    ({"text": ["hi"]}, "text must be a string"),
])
def test_suggest_bad_input_is_400(shared_app, token, body, needle):
    r = shared_app.test_client().post("/api/suggest", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and needle in error_of(r)["message"]


def test_autocomplete_returns_titles_of_public_articles_only(client):
    data = client.get("/api/autocomplete?q=推流&lang=zh").get_json()
    assert data["suggestions"]
    for s in data["suggestions"]:
        assert set(s) == {"id", "lang", "title", "url"} and s["url"].startswith("/zh/article/")
    assert client.get("/api/autocomplete").status_code == 400


def test_api_search_is_rate_limited_with_429_json(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SEARCH="3 per minute").test_client()
    codes = [client.get("/api/search?q=cdn").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get("/api/search?q=cdn")
    assert error_of(r)["status"] == 429 and int(r.headers["Retry-After"]) >= 1


def test_rate_limits_are_per_client_address(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SEARCH="1 per minute").test_client()
    assert client.get("/api/search?q=cdn", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    assert client.get("/api/search?q=cdn", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200
    assert client.get("/api/search?q=cdn", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429


def test_openapi_description_lists_every_api_route(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{%s}" % ("id" if m.group(1) == "article_id" else m.group(1)), r.rule)
              for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert routes - {"/api/openapi.json"} == set(spec["paths"])


NASTY = ["", " ", "\x00", "%", "'; DROP TABLE articles; --", "<script>alert(1)</script>", "\ud800".encode(
    "utf-8", "surrogatepass").decode("latin-1"), "a" * 3000, "../../etc/passwd", "🙂" * 10, "zh-CN", "-1", "1e9"]


def test_odd_input_anywhere_is_never_a_500(client, token):
    auth = {"Authorization": f"Bearer {token}"}
    for v in NASTY:
        for method, url, kw in [
            ("get", "/api/search", {"query_string": {"q": v, "lang": v[:20], "k": v[:5], "product": v, "tag": v}}),
            ("get", "/api/search", {"query_string": {"q": "cdn", "offset": v[:10]}}),
            ("get", "/api/autocomplete", {"query_string": {"q": v, "lang": v[:10]}}),
            ("get", "/api/articles/x", {"query_string": {"lang": v[:10]}}),
            ("get", "/en/search", {"query_string": {"q": v, "page": v[:10], "product": v, "tag": v}}),
            ("get", "/en/article/cdn-502-bad-gateway", {"query_string": {"s": v[:20], "r": v[:20]}}),
            ("post", "/api/feedback", {"json": {"article_id": v, "lang": v[:10], "helpful": True, "reason": v}}),
            ("post", "/api/suggest", {"json": {"text": v or "x", "lang": v[:10] or None}, "headers": auth}),
        ]:
            r = getattr(client, method)(url, **kw)
            assert r.status_code < 500, (url, v[:30], r.status_code, r.get_data(as_text=True)[:200])
