"""The app factory, settings, languages and UI translations, security headers, and `kb serve/user/token`."""

import os
import stat

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from cli.main import cli
from kb.errors import IndexMissingError
from web import create_app
from web.presentation import i18n
from tests.support import PASSWORD, accounts_at, login


def test_factory_uses_test_config(app):
    assert app.testing and app.config["RATELIMIT_ENABLED"] is False


def test_factory_reads_kb_environment_variables(monkeypatch, index_dir):
    monkeypatch.setenv("KB_INDEX", str(index_dir))
    monkeypatch.setenv("KB_PAGE_SIZE", "7")
    monkeypatch.setenv("KB_SITE_NAME", "Nimbus Help")
    app = create_app()
    assert app.config["PAGE_SIZE"] == 7 and app.config["INDEX"] == str(index_dir)
    assert "Nimbus Help" in app.test_client().get("/en/").get_data(as_text=True)


def test_missing_index_stops_the_app_at_start_with_a_clear_message(tmp_path):
    with pytest.raises(IndexMissingError, match="kb index"):
        create_app({"INDEX": str(tmp_path / "nothing")})


def test_secret_key_is_generated_once_into_the_index_folder_with_mode_600(index_dir):
    a = create_app({"INDEX": str(index_dir), "TESTING": True})
    b = create_app({"INDEX": str(index_dir), "TESTING": True})
    path = index_dir / "secret_key"
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"] == path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_session_cookie_is_httponly_samesite_lax_and_secure_when_configured(make_app, agent):
    for secure in (False, True):
        client = make_app(SESSION_COOKIE_SECURE=secure).test_client()
        response = login(client, agent)
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure


def test_security_headers_forbid_framing_sniffing_and_inline_scripts(client):
    h = client.get("/en/").headers
    assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
    assert "script-src" not in h["Content-Security-Policy"] and "default-src 'self'" in h["Content-Security-Policy"]


def test_bare_paths_redirect_to_the_language_from_accept_language(client):
    r = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/ru/")
    r = client.get("/search?q=502", headers={"Accept-Language": "zh-CN"})
    assert r.headers["Location"].endswith("/zh/search?q=502")
    r = client.get("/article/cdn-502-bad-gateway", headers={"Accept-Language": "de, en;q=0.1"})
    assert r.headers["Location"].endswith("/en/article/cdn-502-bad-gateway")


def test_language_cookie_set_by_a_language_url_wins_over_accept_language(client):
    client.get("/zh/")
    r = client.get("/", headers={"Accept-Language": "ru"})
    assert r.headers["Location"].endswith("/zh/")


def test_language_codes_in_urls_are_canonicalised_and_unknown_ones_are_404(client):
    assert client.get("/ZH/search?q=cdn").headers["Location"].endswith("/zh/search?q=cdn")
    assert client.get("/zh-CN/").headers["Location"].endswith("/zh/")
    assert client.get("/xx/").status_code == 404
    assert client.get("/de/").status_code == 404  # no public German articles


def test_a_content_language_without_ui_translation_works_with_english_ui(client):
    html = client.get("/es/").get_data(as_text=True)
    assert 'lang="es"' in html and "How can we help?" in html


def test_set_language_remembers_the_choice_and_returns_to_a_local_page(client):
    r = client.get("/language/ru?next=/auth/login")
    assert r.headers["Location"] == "/auth/login" and "kb_lang=ru" in r.headers["Set-Cookie"]
    assert "Вход для сотрудников" in client.get("/auth/login").get_data(as_text=True)
    assert client.get("/language/ru?next=//evil.example").headers["Location"].endswith("/ru/")


@pytest.mark.parametrize("lang,expected", [("zh", "有什么可以帮您？"), ("ru", "Чем мы можем помочь?"),
                                           ("en", "How can we help?")])
def test_ui_is_translated_by_url_language(client, lang, expected):
    assert expected in client.get(f"/{lang}/").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["zh", "ru"])
def test_every_ui_string_has_a_translation(locale):
    with open(i18n.SOURCE / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    with open(i18n.SOURCE / "messages.pot", "rb") as f:
        template = read_po(f)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string and all(m.string)}
    assert ids <= translated, ids - translated


def test_templates_use_no_untranslated_string_missing_from_the_template_catalog():
    import tempfile

    from babel.messages.frontend import CommandLineInterface

    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "m.pot")
        web = i18n.SOURCE.parent
        CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(web / "babel.cfg"), "-k", "_", "-k", "gettext",
                                    "-k", "ngettext:1,2", "-o", pot, str(web)])
        with open(pot, "rb") as f:
            fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with open(i18n.SOURCE / "messages.pot", "rb") as f:
        committed = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert fresh <= committed, f"run pybabel extract/update (see web/i18n.py): {fresh - committed}"


def test_a_planted_mo_file_in_the_old_shared_temp_folder_is_never_served(tmp_path, monkeypatch, make_app):
    """Another local user could write /tmp/polykb-translations-<hash>/zh/.../messages.mo before the server starts
    (the name was predictable): catalogs are compiled in memory, so nothing there is read."""
    import hashlib
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    pos = sorted(i18n.SOURCE.glob("*/LC_MESSAGES/messages.po"))
    old = tmp_path / f"polykb-translations-{hashlib.sha256(b''.join(p.read_bytes() for p in pos)).hexdigest()[:16]}"
    planted = Catalog(locale="zh")
    planted.add("Help Center", "PLANTED-BY-ANOTHER-USER")
    mo = old / "zh" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True)
    buf = io.BytesIO()
    write_mo(buf, planted)
    mo.write_bytes(buf.getvalue())
    html = make_app().test_client().get("/zh/").get_data(as_text=True)
    assert "PLANTED-BY-ANOTHER-USER" not in html and "帮助中心" in html
    assert not list(i18n.SOURCE.rglob("*.mo")) and mo.read_bytes() == buf.getvalue()


def test_kb_user_add_reads_the_password_from_stdin_and_login_works(index_dir, client):
    result = CliRunner().invoke(cli, ["user", "add", "cli-agent", "--role", "agent", "--password-stdin",
                                      "--index", str(index_dir)], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert accounts_at(index_dir / "activity.sqlite").check_user("cli-agent", PASSWORD) == "agent"
    assert login(client, "cli-agent").headers["Location"].endswith("/agent/")


def test_kb_user_add_refuses_a_short_password_with_a_message(tmp_path):
    result = CliRunner().invoke(cli, ["user", "add", "x", "--password-stdin", "--index", str(tmp_path)], input="short\n")
    assert result.exit_code == 1 and "at least 8 characters" in result.output


def test_kb_token_add_prints_a_token_once_and_revoke_disables_it(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["token", "add", "helpdesk", "--index", str(tmp_path)])
    token = result.stdout.strip()
    accounts = accounts_at(tmp_path / "activity.sqlite")
    assert token.startswith("kb_") and accounts.check_token(token) == "helpdesk"
    assert runner.invoke(cli, ["token", "revoke", "helpdesk", "--index", str(tmp_path)]).exit_code == 0
    assert accounts.check_token(token) is None
    again = runner.invoke(cli, ["token", "revoke", "helpdesk", "--index", str(tmp_path)])
    assert again.exit_code == 1 and "no active token" in again.output


def test_kb_serve_runs_waitress_with_the_index_and_thread_count(monkeypatch, index_dir):
    seen = {}

    def fake_serve(app, **kw):
        seen.update(kw, app=app)

    monkeypatch.setattr("waitress.serve", fake_serve)
    for var in ("KB_INDEX", "KB_MODEL", "KB_ARTICLES"):  # recorded, so what serve sets is undone afterwards
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    result = CliRunner().invoke(cli, ["serve", "--index", str(index_dir), "--port", "5123", "--threads", "3"])
    assert result.exit_code == 0, result.output
    assert (seen["host"], seen["port"], seen["threads"]) == ("127.0.0.1", 5123, 3)
    assert seen["app"].config["INDEX"] == str(index_dir)
    assert seen["app"].test_client().get("/en/").status_code == 200


def test_kb_serve_with_workers_runs_gunicorn_processes_with_one_engine_and_one_thread_each(monkeypatch, index_dir):
    from web.services import serving

    seen = {}

    class FakeGunicorn:
        def __init__(self, factory, options):
            seen.update(options, factory=factory)

        def run(self):
            seen["app"] = seen["factory"]()  # what a worker does after the fork

    monkeypatch.setattr(serving, "gunicorn_app", FakeGunicorn)
    for var in ("KB_INDEX", "KB_MODEL", "KB_ARTICLES", "KB_EMBED_ENGINES", "OMP_NUM_THREADS"):
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    result = CliRunner().invoke(cli, ["serve", "--index", str(index_dir), "--port", "5124", "--workers", "3",
                                      "--threads", "2"])
    assert result.exit_code == 0, result.output
    assert (seen["bind"], seen["workers"], seen["threads"], seen["worker_class"]) == ("127.0.0.1:5124", 3, 2, "gthread")
    assert os.environ["KB_EMBED_ENGINES"] == "1" and os.environ["OMP_NUM_THREADS"] == "1"
    assert seen["app"].test_client().get("/en/").status_code == 200


def test_kb_serve_with_workers_refuses_a_missing_index_before_forking(tmp_path, monkeypatch):
    from web.services import serving

    monkeypatch.setattr(serving, "gunicorn_app", lambda *a: pytest.fail("started without an index"))
    for var in ("KB_INDEX", "KB_ARTICLES"):
        monkeypatch.setenv(var, "")
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path / "idx"), "--articles", str(tmp_path / "none"),
                                      "--workers", "2"])
    assert result.exit_code == 1 and "kb index" in result.output


def test_waitress_serves_more_threads_where_gunicorn_cannot_run(monkeypatch):
    from flask import Flask

    from web.services import serving

    seen = {}
    monkeypatch.setattr(serving, "gunicorn_available", lambda: False)
    monkeypatch.setattr("waitress.serve", lambda app, **kw: seen.update(kw))
    said = []
    assert serving.serve(lambda: Flask("x"), "127.0.0.1", 5125, workers=2, threads=3, log=said.append) == "waitress"
    assert seen["threads"] == 6 and "gunicorn cannot run here" in said[0]


def test_kb_embed_engines_sets_the_engine_count_and_a_bad_value_says_what_is_expected(monkeypatch):
    from kb import settings
    from kb.embeddings import e5
    from kb.errors import ConfigError

    monkeypatch.setenv("KB_EMBED_ENGINES", "1")
    assert e5.E5Embedder().engines == 1  # the real engine, sized by the setting
    monkeypatch.setenv("KB_EMBED_ENGINES", "many")
    with pytest.raises(ConfigError, match="KB_EMBED_ENGINES='many': expected a whole number"):
        settings.current()


def test_kb_serve_without_an_index_or_articles_says_how_to_build_one(tmp_path, monkeypatch):
    monkeypatch.setattr("waitress.serve", lambda app, **kw: None)
    for var in ("KB_INDEX", "KB_ARTICLES"):
        monkeypatch.setenv(var, "")
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path / "idx"), "--articles", str(tmp_path / "none")])
    assert result.exit_code == 1 and "kb index" in result.output


def test_rate_limit_storage_is_configurable_and_a_bad_uri_stops_the_start(make_app):
    from kb.errors import ConfigError

    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SEARCH="1 per minute",
                      RATELIMIT_STORAGE_URI="memory://").test_client()
    assert client.get("/api/search?q=cdn").status_code == 200
    assert client.get("/api/search?q=cdn").status_code == 429
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI 'bogus://x'"):
        make_app(RATELIMIT_STORAGE_URI="bogus://x")
