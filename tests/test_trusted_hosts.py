"""KB_TRUSTED_HOSTS: a request for a host the site does not answer to is refused, so no absolute URL the API
returns carries a Host header a client made up (issue 13, finding 7)."""

from __future__ import annotations

import pytest

from web import create_app


@pytest.fixture
def hosted_app(monkeypatch, index_dir):
    monkeypatch.setenv("KB_TRUSTED_HOSTS", "kb.example.com, .help.example.org")
    monkeypatch.setenv("KB_INDEX", str(index_dir))
    monkeypatch.setenv("KB_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("KB_SECRET_KEY", "hosts")
    return create_app()


def test_the_setting_reads_a_comma_separated_list(hosted_app):
    assert hosted_app.config["TRUSTED_HOSTS"] == ["kb.example.com", ".help.example.org"]


@pytest.mark.parametrize("host", ["kb.example.com", "eu.help.example.org"])
def test_absolute_urls_use_a_trusted_host(hosted_app, host):
    body = hosted_app.test_client().get("/api/search?q=502", headers={"Host": host}).get_json()
    assert body["results"] and all(r["url"].startswith(f"http://{host}/") for r in body["results"])


@pytest.mark.parametrize("route", ["/api/search?q=502", "/api/articles/cdn-502-bad-gateway", "/en/"])
def test_another_host_is_refused_and_never_reflected(hosted_app, route):
    r = hosted_app.test_client().get(route, headers={"Host": "evil.example.net"})
    assert r.status_code == 400 and b"evil.example.net" not in r.data


def test_without_the_setting_any_host_is_served(make_app):
    client = make_app().test_client()
    assert client.get("/api/search?q=502", headers={"Host": "localhost:5000"}).status_code == 200
