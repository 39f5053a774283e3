"""Attacks on the web app: injected markup, stored XSS through visitors' text, CSRF, open redirects,
header injection, forged sessions, rate-limit evasion, secrets at rest, leaks through snippets.

Already covered elsewhere and not repeated here: the session cookie's HttpOnly/SameSite/Secure flags
(test_web_app), CSRF on each form one by one and login limits (test_web_agent, test_web_help_center),
revoked and wrong tokens (test_web_api), writers' pages refusing agents and CSV formulas (test_web_writers).

These run on a small knowledge base indexed with the fake embedder (tests/conftest.py), with one hostile public
article: what they check is what pages and responses carry, not what a search finds.
"""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from markupsafe import escape

from indexer import job
from web import create_app
from tests.support import PASSWORD, ROOT, SMALL_KB, article, csrf_token, login, new_user, write_tree

HOSTILE_KB = {
    **SMALL_KB,
    "cdn/hostile.en.md": article("cdn-caching-rules", "en", "Caching <script>alert('t')</script> rules", """
        Edge caching rules "><img src=x onerror=alert(2)> for static files and images.

        ## Purge
        Before purging cached static files, ask [the edge tool][tool] team.

        [tool]: internal-edgectl
        """, product="cdn", tags="[cdn]"),
}
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "<mark onmouseover=alert(1)>cdn</mark>",
    "javascript:alert(1)",
    "{{ 7*7 }}{% if 1 %}x{% endif %}",
]


@pytest.fixture(scope="module")
def security_index(tmp_path_factory, fake_model) -> Path:
    base = tmp_path_factory.mktemp("security")
    index = base / "index"
    job.run(write_tree(base / "articles", HOSTILE_KB), index, model=fake_model, progress=False)
    return index


@pytest.fixture
def index_dir(security_index, fake_default_model):
    """The web fixtures of tests/conftest.py over this module's index instead of the sample's."""
    return security_index


@pytest.fixture(scope="module")
def app(security_index, fake_model):
    """One app for the module's tests that take conftest's `client` (each a client of its own, so a session of
    its own): they send requests, none configures the app. A test that needs other settings uses `make_app`."""
    return create_app({"TESTING": True, "INDEX": str(security_index), "MODEL": fake_model, "RATELIMIT_ENABLED": False,
                       "SECRET_KEY": "test-secret"})


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text += data


def page(response) -> str:
    return response.get_data(as_text=True)


def assert_inert(html: str, payload: str | None = None, where=""):
    """No markup came from outside: only our own script file, no handlers, no script URLs, no raw payload."""
    p = _Page()
    p.feed(html)
    for tag, attrs in p.tags:
        assert not [a for a in attrs if a.startswith("on")], (where, tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), (where, attrs)
        assert tag not in ("iframe", "object", "embed", "base", "meta" if "http-equiv" in attrs else ""), (where, tag)
        for name in ("href", "src", "action", "formaction", "data-copy"):
            value = re.sub(r"[\x00-\x20]", "", attrs.get(name) or "").lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (where, tag, name, value)
    assert not p.script_text.strip(), where
    if payload is not None and re.search(r"[<>\"']", payload):
        assert payload not in html, (where, payload)


# --- queries and visitors' text echoed in pages --------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_queries_are_escaped_on_search_and_no_results_pages_in_every_language(client, payload):
    for lang in ("en", "zh", "ru"):
        for extra in ({}, {"product": "no-such-product"}, {"product": payload, "tag": payload}):
            r = client.get(f"/{lang}/search", query_string={"q": payload, **extra})
            html = page(r)
            assert r.status_code == 200 and str(escape(payload)) in html, (lang, extra)
            assert_inert(html, payload, (lang, extra))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_agent_page_escapes_the_ticket_it_echoes_with_results_and_with_errors(agent_client, payload):
    token = csrf_token(agent_client, "/agent/")
    for lang, status in (("", 200), ("xx", 400)):
        r = agent_client.post("/agent/", data={"csrf_token": token, "text": f"CDN 502 {payload}", "customer_lang": lang})
        html = page(r)
        assert r.status_code == status and str(escape(f"CDN 502 {payload}")) in html
        assert_inert(html, payload, lang)
    r = agent_client.post("/agent/mark", data={"csrf_token": token, "article_id": payload, "mark": "solved",
                                               "query": payload})
    assert r.status_code == 404
    assert_inert(page(r), payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_error_pages_never_echo_markup(client, payload):
    quoted = quote(payload, safe="")
    for path in (f"/en/article/{quoted}", f"/{quoted}/", f"/en/{quoted}", f"/en/search?q=cdn&page={quoted}",
                 "/en/search?q=" + quote(payload * 60), f"/auth/login?next=/{quoted}", f"/agent/article/{quoted}",
                 f"/language/{quoted}"):
        r = client.get(path)
        assert r.status_code in (200, 302, 400, 404), (path, r.status_code)
        assert_inert(page(r), payload, path)
    r = client.post("/en/article/cdn-502/feedback", data={"helpful": "yes", "reason": payload})  # no CSRF token
    assert r.status_code == 400
    assert_inert(page(r), payload)


def test_json_errors_carrying_input_are_json_that_browsers_will_not_sniff(client):
    for path in (f"/api/articles/{quote(PAYLOADS[0], safe='')}", "/api/search?lang=" + quote(PAYLOADS[1])):
        r = client.get(path)
        assert r.status_code in (400, 404) and r.mimetype == "application/json"
        assert r.headers["X-Content-Type-Options"] == "nosniff" and "default-src 'self'" in r.headers[
            "Content-Security-Policy"]


def test_article_titles_and_text_from_writers_are_escaped_in_results_pages_and_suggestions(client):
    html = page(client.get("/en/search", query_string={"q": "edge caching rules for static files"}))
    assert "Caching &lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; rules" in html
    assert_inert(html, "<script>alert('t')</script>")
    art = page(client.get("/en/article/cdn-caching-rules"))
    assert_inert(art, '"><img src=x onerror=alert(2)>')
    assert "&lt;img src=x onerror=alert(2)&gt;" in art


def test_a_reference_link_to_an_internal_article_leaks_its_id_nowhere_public(client):
    for q in ("purging cached static files edge tool", "internal-edgectl", "tool"):
        data = client.get("/api/search", query_string={"q": q, "k": 50}).get_json()
        assert data["results"] and "internal-edgectl" not in str(data["results"]), q
        assert "internal-edgectl" not in page(client.get("/en/search", query_string={"q": q})).replace(
            quote(q), "").replace(q, ""), q
    assert "internal-edgectl" not in page(client.get("/en/article/cdn-caching-rules"))


def test_scripts_only_ever_insert_text_never_html():
    js = (ROOT / "web" / "static" / "app.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", js)


# --- stored XSS: what visitors type, shown to staff ------------------------------

def test_visitors_failed_searches_and_feedback_reach_the_writers_reports_escaped(client, make_app, activity):
    payload = f"<script>alert('{uuid.uuid4().hex[:6]}')</script>\"><img src=x onerror=alert(1)>"
    client.get("/en/search", query_string={"q": payload, "product": "no-such-product"})  # no results: a gap
    for _ in range(4):
        assert client.post("/api/feedback", json={"article_id": "cdn-502", "lang": "en", "helpful": False,
                                                  "reason": payload}).status_code == 201
    writer = make_app().test_client()
    login(writer, new_user(activity, "writer"))
    for path in ("/writers/", "/writers/gaps", "/writers/feedback", "/writers/priority"):
        r = writer.get(path)
        assert r.status_code == 200, path
        assert_inert(page(r), payload, path)
    assert str(escape(payload)) in page(writer.get("/writers/feedback"))
    assert "&lt;script&gt;alert(" in page(writer.get("/writers/gaps"))  # a cluster of visitors' payloads, escaped


# --- CSRF ---------------------------------------------------------------------------

class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(), "action": a.get("action"), "fields": {}})
        elif tag in ("input", "textarea", "select", "button") and self.forms and a.get("name"):
            self.forms[-1]["fields"].setdefault(a["name"], a.get("value") or "x")


def post_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return [f for f in parser.forms if f["method"] == "post"]


def test_every_post_form_on_every_page_carries_a_csrf_token_and_is_refused_without_one(make_app, activity):
    visitor = make_app().test_client()
    agent = make_app().test_client()
    login(agent, new_user(activity, "agent"))
    writer = make_app().test_client()
    login(writer, new_user(activity, "writer"))
    token = csrf_token(agent, "/agent/")
    answers = agent.post("/agent/", data={"csrf_token": token, "text": "CDN 502 from the edge"})
    pages = [(visitor, ["/en/", "/zh/search?q=cdn", "/en/article/cdn-502", "/auth/login"], None),
             (agent, ["/agent/", "/agent/article/internal-edgectl", "/en/article/cdn-502"], page(answers)),
             (writer, ["/writers/", "/writers/gaps", "/writers/article/cdn-502"], None)]
    elsewhere = csrf_token(make_app().test_client())  # valid, but another session's
    seen = set()
    for client, paths, extra in pages:
        htmls = [page(client.get(p)) for p in paths] + ([extra] if extra else [])
        for html in htmls:
            for form in post_forms(html):
                assert "csrf_token" in form["fields"], form
                seen.add(form["action"].split("?")[0])
                fields = {k: v for k, v in form["fields"].items() if k != "csrf_token"}
                fields.setdefault("text", "x")
                for forged in (None, "forged-token", elsewhere):
                    data = fields if forged is None else {**fields, "csrf_token": forged}
                    r = client.post(form["action"], data=data)
                    assert r.status_code == 400 and "form expired" in page(r), (form["action"], forged)
    assert {"/auth/login", "/auth/logout", "/agent/", "/agent/mark", "/en/article/cdn-502/feedback"} <= seen, seen
    assert agent.get("/agent/").status_code == 200  # the refused logout did not log out


def test_the_json_api_takes_no_cross_site_form_or_text_body_and_grants_no_cors(agent_client):
    for ctype in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"):
        r = agent_client.post("/api/suggest", data='{"text": "CDN 502"}', headers={"Content-Type": ctype,
                                                                                  "Origin": "https://evil.example"})
        assert r.status_code == 400, ctype
    r = agent_client.options("/api/suggest", headers={"Origin": "https://evil.example",
                                                      "Access-Control-Request-Method": "POST"})
    assert not [h for h in r.headers.keys() if h.lower().startswith("access-control-allow")]


# --- who may see what ---------------------------------------------------------------

def staff_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every agent and writer route, with sample values for their arguments."""
    out = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".")[0] not in ("agent", "writers"):
                continue
            path = url_for(rule.endpoint, **{arg: "cdn-502" if "id" in arg else "gaps" for arg in rule.arguments})
            out += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def test_every_agent_and_writer_route_refuses_anonymous_callers_even_with_an_api_token(app, client, accounts):
    routes = staff_routes(app)
    assert {p for _, p in routes} >= {"/agent/", "/agent/mark", "/writers/", "/writers/gaps"}
    bearer = {"Authorization": f"Bearer {accounts.add_token(f'sec-{uuid.uuid4().hex[:6]}')}"}
    token = csrf_token(client)
    for method, path in routes:
        for headers in ({}, bearer):
            r = client.open(path, method=method, headers=headers, data={"csrf_token": token, "text": "x"})
            assert r.status_code == 302 and "/auth/login" in r.headers["Location"], (method, path, r.status_code)
    r = client.post("/api/suggest", json={"text": "CDN 502"})
    assert r.status_code == 401


def test_writers_are_refused_every_agent_route(client, activity):
    login(client, new_user(activity, "writer"))
    token = csrf_token(client)
    for method, path in staff_routes(client.application):
        if path.startswith("/agent/"):
            r = client.open(path, method=method, data={"csrf_token": token, "text": "x", "mark": "solved",
                                                       "article_id": "cdn-502"})
            assert r.status_code == 403, (method, path)
    assert client.post("/api/suggest", json={"text": "CDN 502"}).status_code == 403  # signed in, wrong role


ROLE_CHECKS = [  # (method, path, who is refused with a 403, its message, whether sign-in returns to the page)
    ("GET", "/agent/?x=1", "writer", "This page is for support agents.", True),
    ("GET", "/admin/audit", "agent", "This page is for admins.", True),
    ("GET", "/insights/", "agent", "This page is for writers.", True),
    ("GET", "/writers/gaps", "agent", "This page is for writers.", True),
    ("GET", "/writers/edit/cdn-502/en", "agent", "Only writers and admins can edit articles.", True),
    ("GET", "/writers/translate/cdn-502/en", "agent", "Only writers and admins can edit articles.", True),
    ("POST", "/writers/items/" + "0" * 20, "agent", "This page is for writers.", False),  # form posts only
]


@pytest.mark.parametrize("method, path, refused, message, comes_back", ROLE_CHECKS)
def test_each_staff_area_sends_visitors_to_sign_in_and_refuses_other_roles(client, activity, method, path, refused,
                                                                          message, comes_back):
    token = csrf_token(client)
    r = client.open(path, method=method, data={"csrf_token": token})
    assert r.status_code == 302
    assert r.headers["Location"] == ("/auth/login?next=" + quote(path, safe="/?") if comes_back else "/auth/login")
    login(client, new_user(activity, refused))
    r = client.open(path, method=method, data={"csrf_token": csrf_token(client)})
    assert r.status_code == 403 and message in r.get_data(as_text=True)


def test_a_session_cookie_signed_with_another_key_is_anonymous(make_app, agent):
    from flask.sessions import SecureCookieSessionInterface

    other = make_app(SECRET_KEY="not-this-sites-key")
    forged = SecureCookieSessionInterface().get_signing_serializer(other).dumps({"user": agent})
    client = make_app().test_client()
    client.set_cookie("session", forged)
    r = client.get("/agent/")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_signed_in_pages_are_not_cached(agent_client):
    assert agent_client.get("/agent/").headers["Cache-Control"] == "private, no-store"


# --- cookies, redirects, headers -----------------------------------------------------

def cookie(response, name: str) -> str:
    found = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert found, (name, response.headers.getlist("Set-Cookie"))
    return found[0]


def test_language_and_visitor_session_cookies_are_httponly_lax_and_secure_from_kb_session_cookie_secure(
        monkeypatch, index_dir):
    monkeypatch.setenv("KB_INDEX", str(index_dir))
    monkeypatch.setenv("KB_SECRET_KEY", "from-the-environment")
    for secure in ("false", "true"):
        monkeypatch.setenv("KB_SESSION_COOKIE_SECURE", secure)
        client = create_app().test_client()
        article_page = client.get("/zh/article/cdn-502")  # a form: the CSRF token starts a session
        switched = client.get("/language/ru?next=/agent/")
        for c in (cookie(article_page, "session"), cookie(article_page, "kb_lang"), cookie(switched, "kb_lang")):
            assert "HttpOnly" in c and "SameSite=Lax" in c and ("Secure" in c) == (secure == "true"), c


OFFSITE = ["//evil.example/x", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example",
           "/\r\n/evil.example", " //evil.example", "https://evil.example/", "javascript:alert(1)", "/%2F/evil.example",
           "/\x00/evil.example", "\x0c//evil.example", "http:/evil.example"]


def assert_same_site(location: str, where):
    cleaned = re.sub(r"[\x00-\x20]", "", location)
    parts = urlsplit(cleaned)
    assert not cleaned.startswith(("//", "\\")) and "\\" not in cleaned, (where, location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), (where, location)
    assert "\r" not in location and "\n" not in location, (where, location)


def test_redirects_after_login_and_language_choice_stay_on_this_site(client, agent):
    for nxt in OFFSITE:
        r = client.get("/language/ru", query_string={"next": nxt})
        assert r.status_code == 302
        assert_same_site(r.headers["Location"], ("language", nxt))
        r = client.post("/auth/login", data={"username": agent, "password": PASSWORD, "csrf_token": csrf_token(client),
                                             "next": nxt})
        assert r.status_code == 302
        assert_same_site(r.headers["Location"], ("login", nxt))
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/agent/")})


def test_no_header_injection_or_500_through_redirect_targets(client):
    for path in ("/language/ru?next=/x%0d%0aSet-Cookie:%20evil=1%0d%0aX-Evil:%201",  # were 500s: a newline in Location
                 "/ZH/article/x%0d%0aSet-Cookie:%20evil=1%0d%0aX-Evil:%201", "/ZH/search?q=a%0d%0aX-Evil:%201",
                 "/search?q=x%0d%0aX-Evil:%201", "/article/x%0d%0aX-Evil:%201", "/EN/article/X%0AY"):
        r = client.get(path)
        assert r.status_code in (301, 302), (path, r.status_code)
        assert "X-Evil" not in r.headers and not [c for c in r.headers.getlist("Set-Cookie") if c.startswith("evil")]
        assert_same_site(r.headers["Location"], path)


def test_raw_bytes_in_the_query_string_are_never_a_500(client):
    """Browsers percent-encode; other clients may send raw bytes, which Werkzeug could not decode (500)."""
    for raw in ("q=\xff\xfe", "q=caf\xe9&lang=\x00", "q=a\r\nb", "q=<script>\x7f", "next=/\t/evil.example"):
        for path in ("/en/search", "/ZH/search", "/api/search", "/api/autocomplete", "/auth/login", "/language/ru",
                     "/en/article/cdn-502"):
            r = client.get(path, environ_overrides={"QUERY_STRING": raw})
            assert r.status_code < 500, (path, raw, r.status_code)
            if path.startswith("/api/") and r.status_code >= 400:
                assert set(r.get_json()["error"]) == {"status", "message"}
            if "Location" in r.headers:
                assert_same_site(r.headers["Location"], (path, raw))


def test_security_headers_are_on_error_pages_and_json_too(client):
    for path in ("/en/no-such-page", "/en/article/no-such-article", "/api/search", "/api/nope", "/auth/logout"):
        h = client.get(path).headers
        assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], path


# --- secrets at rest and brute force ------------------------------------------------

def test_api_tokens_and_passwords_are_stored_only_as_hashes(accounts, index_dir, client):
    token = accounts.add_token(f"hashed-{uuid.uuid4().hex[:6]}")
    password = f"pw-{uuid.uuid4().hex}"
    name = f"agent-{uuid.uuid4().hex[:6]}"
    accounts.add_user(name, password, "agent")
    assert client.post("/api/suggest", json={"text": "CDN 502"},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 200
    raw = b"".join(p.read_bytes() for p in index_dir.glob("activity.sqlite*"))
    assert token.encode() not in raw and token[3:].encode() not in raw
    assert password.encode() not in raw and name.encode() in raw


def failed_logins(client, agent, n, **headers):
    codes = []
    for _ in range(n):
        token = csrf_token(client)
        codes.append(client.post("/auth/login", data={"username": agent, "password": "wrong-password",
                                                      "csrf_token": token}, headers=headers).status_code)
    return codes


def test_login_limit_cannot_be_dodged_with_a_forged_x_forwarded_for(make_app, agent):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute").test_client()
    codes = []
    for i in range(4):
        codes += failed_logins(client, agent, 1, **{"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"10.0.0.{i}"})
    assert codes == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_the_login_limit_is_per_forwarded_client(make_app, agent):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute", PROXY_FIX=1).test_client()
    assert failed_logins(client, agent, 3, **{"X-Forwarded-For": "198.51.100.7"}) == [401, 401, 429]
    assert failed_logins(client, agent, 1, **{"X-Forwarded-For": "198.51.100.8"}) == [401]
