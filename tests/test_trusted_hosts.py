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


@pytest.mark.parametrize("host, status", [("localhost:5000", 200), ("127.0.0.1:8000", 200), ("localhost", 200),
                                          ("evil.example.net", 400), ("kb.example.com", 400)])
def test_without_the_setting_only_this_machine_is_served(make_app, host, status):
    client = make_app().test_client()
    assert client.get("/api/search?q=502", headers={"Host": host}).status_code == status


def test_a_star_serves_any_host(make_app, monkeypatch, index_dir):
    assert make_app(TRUSTED_HOSTS="*").test_client().get("/en/", headers={"Host": "x.example"}).status_code == 200
    monkeypatch.setenv("KB_TRUSTED_HOSTS", "*")
    monkeypatch.setenv("KB_INDEX", str(index_dir))
    monkeypatch.setenv("KB_SECRET_KEY", "hosts")
    assert create_app().config["TRUSTED_HOSTS"] is None


def test_an_article_is_rendered_once_whatever_the_host_with_each_hosts_links(make_app, monkeypatch):
    """A new Host header per request made every view render again (issue #24: 111 s of CPU for 6 requests)."""
    from kb.articles import render

    calls = []
    real = render.render
    monkeypatch.setattr(render, "render", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    client = make_app(TRUSTED_HOSTS="*").test_client()
    for host in ("a.example", "b.example:8080", "c.example"):
        html = client.get("/api/articles/cdn-prefetch?lang=en", headers={"Host": host}).get_json()["html"]
        assert f'href="http://{host}/en/article/' in html and ".invalid" not in html
    page = client.get("/en/article/cdn-prefetch", headers={"Host": "d.example"})
    assert page.status_code == 200
    assert len(calls) == 2  # the API's rendering, and the page's (it resolves links differently)


def test_kb_serve_says_so_when_it_listens_beyond_this_machine_with_the_default(monkeypatch, capsys):
    from cli.serve import _warn_untrusted

    monkeypatch.delenv("KB_TRUSTED_HOSTS", raising=False)
    _warn_untrusted("127.0.0.1")
    assert capsys.readouterr().err == ""
    _warn_untrusted("0.0.0.0")
    assert "KB_TRUSTED_HOSTS" in capsys.readouterr().err
    monkeypatch.setenv("KB_TRUSTED_HOSTS", "kb.example.com")
    _warn_untrusted("0.0.0.0")
    assert capsys.readouterr().err == ""
