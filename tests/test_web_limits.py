"""Rate limits on every form post and every failed authentication (issue 13, finding 2's last point).

The per-route limits of search, feedback and the API are tested in test_web_api and test_web_help_center;
here: that no POST route is left without a limit (whatever blueprint adds one later), that staff forms count
per signed-in user (an office behind one address does not share one budget), and that bad API tokens and
bad logins are limited per address while valid tokens keep working.
"""

from __future__ import annotations

from flask import url_for

from kb.storage.accounts import Accounts
from tests.support import PASSWORD, csrf_token, login, new_user

SAMPLE_ARGS = {"lang": "en", "article_id": "cdn-502-bad-gateway", "name": "priority", "code": "en", "item": "0" * 20}
KNOWN_POSTS = {"auth.login", "auth.logout", "agent.suggest", "agent.mark", "help_center.feedback", "api.feedback",
               "api.suggest"}


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def post_routes(app) -> dict[str, str]:
    with app.test_request_context():
        return {rule.endpoint: url_for(rule.endpoint, **{a: SAMPLE_ARGS[a] for a in rule.arguments})
                for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def test_every_post_route_is_rate_limited_even_when_the_request_is_refused(make_app):
    from kb.settings import BY_NAME

    one_each = {k: "1 per minute" for k in BY_NAME if k.startswith("RATELIMIT_") and k not in
                ("RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI")}
    app = make_app(RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=False, **one_each)
    routes = post_routes(app)
    assert KNOWN_POSTS <= set(routes), routes
    for i, (endpoint, url) in enumerate(sorted(routes.items())):
        client = client_at(app, f"198.51.100.{i + 1}")
        body = {"json": {}} if endpoint.startswith("api.") else {"data": {"username": "x", "password": "y"}}
        codes = [client.post(url, **body).status_code for _ in range(2)]
        assert codes[0] != 429 and codes[1] == 429, (endpoint, codes)


def test_the_agent_form_is_limited_per_agent_not_per_office_address(make_app, activity):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FORMS="2 per minute")
    codes = {}
    for name in (new_user(activity, "agent"), new_user(activity, "agent")):
        client = app.test_client()  # both from 127.0.0.1, as agents behind one NAT
        assert login(client, name).status_code == 302
        token = csrf_token(client, "/agent/")
        codes[name] = [client.post("/agent/", data={"csrf_token": token, "text": "CDN 502 from origin"}).status_code
                       for _ in range(3)]
    assert list(codes.values()) == [[200, 200, 429], [200, 200, 429]]


def test_bad_bearer_tokens_are_limited_per_address_and_a_valid_token_still_works(make_app, activity):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FAILED_AUTH="3 per minute")
    client = app.test_client()
    good = Accounts(activity.db).add_token("helpdesk")
    body = {"text": "CDN 502 from origin"}
    bad = [client.post("/api/suggest", json=body, headers={"Authorization": f"Bearer kb_guess{i}"})
           for i in range(4)]
    assert [r.status_code for r in bad] == [401, 401, 401, 429]
    assert bad[-1].get_json()["error"]["status"] == 429 and int(bad[-1].headers["Retry-After"]) >= 1
    assert client.post("/api/suggest", json=body, headers={"Authorization": f"Bearer {good}"}).status_code == 200
    other = client_at(app, "198.51.100.9")
    assert other.post("/api/suggest", json=body, headers={"Authorization": "Bearer kb_guess"}).status_code == 401


def test_requests_without_credentials_on_the_api_count_as_failed_authentication(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FAILED_AUTH="2 per minute").test_client()
    codes = [client.post("/api/suggest", json={"text": "x"}).status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def failed_login(client, name, **headers):
    token = csrf_token(client)
    return client.post("/auth/login", data={"username": name, "password": "wrong-password", "csrf_token": token},
                       headers=headers)


def test_an_attacker_behind_the_office_nat_cannot_lock_colleagues_out_by_address(make_app, activity):
    """The login limit counts per address and account name: guessing one account from the shared address
    blocks that account there, not every colleague signing in from the same address."""
    alice, bob = new_user(activity, "agent"), new_user(activity, "agent")
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    attacker, colleague = app.test_client(), app.test_client()
    assert [failed_login(attacker, alice).status_code for _ in range(4)] == [401, 401, 401, 429]
    assert login(colleague, bob).status_code == 302


def test_guessing_many_accounts_from_one_address_is_stopped_by_the_failed_auth_limit(make_app, activity):
    names = [new_user(activity, "agent") for _ in range(3)]
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FAILED_AUTH="3 per minute")
    client = app.test_client()
    assert [failed_login(client, n).status_code for n in names] == [401, 401, 401]
    assert login(client, new_user(activity, "agent")).status_code == 429  # even the right password, from there
    assert login(client_at(app, "198.51.100.20"), names[0]).status_code == 302


def test_agents_marks_are_limited_per_agent(make_app, activity):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_FORMS="1 per minute")
    client = app.test_client()
    login(client, new_user(activity, "agent"), PASSWORD)
    data = {"csrf_token": csrf_token(client, "/agent/"), "article_id": "cdn-502-bad-gateway", "mark": "solved"}
    assert [client.post("/agent/mark", data=data).status_code for _ in range(2)] == [200, 429]
