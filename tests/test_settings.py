"""Declared settings (kb/settings.py): one table, parsed and checked once at start, printed by --help-settings."""

import datetime as dt
import logging

import limits
import pytest
from click.testing import CliRunner

from cli.main import cli
from kb import settings
from kb.errors import ConfigError
from kb.search.budget import Budget
from web import create_app


def test_every_default_parses_and_names_are_unique():
    assert len(settings.BY_NAME) == len(settings.SETTINGS)
    for s in settings.SETTINGS:
        assert s.env == "KB_" + s.name and s.help.strip(), s
        assert settings.defaults()[s.name] == (None if s.default is None else s.parse(s.default))


def test_text_from_the_environment_becomes_typed_values():
    loaded = settings.load({"KB_PAGE_SIZE": " 7 ", "KB_SYNC_SECONDS": "0.5", "KB_RATELIMIT_ENABLED": "false",
                            "KB_SESSION_COOKIE_SECURE": "TRUE", "KB_RATELIMIT_SEARCH": "2 per minute",
                            "KB_TRUSTED_HOSTS": "kb.example.com, .help.example.org",
                            "KB_SEARCH_BUDGET": '{"embed_seconds": 2, "slots": 4}',
                            "KB_PERMANENT_SESSION_LIFETIME": "60", "KB_INDEX": '"/srv/kb index"'})
    assert loaded["PAGE_SIZE"] == 7 and loaded["SYNC_SECONDS"] == 0.5
    assert loaded["RATELIMIT_ENABLED"] is False and loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["RATELIMIT_SEARCH"] == limits.parse("2 per minute")
    assert loaded["TRUSTED_HOSTS"] == ["kb.example.com", ".help.example.org"]
    assert loaded["SEARCH_BUDGET"] == Budget(embed_seconds=2, slots=4)
    assert loaded["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(seconds=60)
    assert loaded["INDEX"] == "/srv/kb index"  # JSON-quoted, as `kb serve` hands it to its workers
    assert settings.load({"KB_TRUSTED_HOSTS": '["a.example"]'})["TRUSTED_HOSTS"] == ["a.example"]


def test_the_environment_wins_over_config_which_wins_over_the_default_and_empty_is_unset():
    given = {"PAGE_SIZE": 20, "CONTACT_ARTICLE": None, "SITE_NAME": "Given"}
    loaded = settings.load({"KB_PAGE_SIZE": "7", "KB_SITE_NAME": ""}, given)
    assert loaded["PAGE_SIZE"] == 7 and loaded["SITE_NAME"] == "Given"
    assert loaded["CONTACT_ARTICLE"] is None  # None in config: off
    assert settings.load({})["PAGE_SIZE"] == 10 and settings.load({})["CONTACT_ARTICLE"] == "contact-support"


@pytest.mark.parametrize("env, expected", [
    ({"KB_PORT": "80a"}, "KB_PORT='80a': expected a whole number from 0 to 65535"),
    ({"KB_WORKERS": "0"}, "KB_WORKERS='0': expected a whole number from 1 to 64"),
    ({"KB_RATELIMIT_ENABLED": "maybe"}, "KB_RATELIMIT_ENABLED='maybe': expected true or false"),
    ({"KB_RATELIMIT_API": "lots"}, "KB_RATELIMIT_API='lots': expected a rate such as '60 per minute'"),
    ({"KB_MIN_ANSWER_SCORE": "1.5"}, "KB_MIN_ANSWER_SCORE='1.5': expected a number from 0 to 1"),
    ({"KB_SESSION_COOKIE_SAMESITE": "loose"}, "KB_SESSION_COOKIE_SAMESITE='loose': expected one of Lax, Strict"),
    ({"KB_SEARCH_BUDGET": "fast"}, "KB_SEARCH_BUDGET='fast': expected a JSON object"),
    ({"KB_SEARCH_BUDGET": '{"embed_secs": 1}'}, "KB_SEARCH_BUDGET: unknown field 'embed_secs'"),
    ({"KB_TRUSTED_HOSTS": "[kb.example.com"}, "KB_TRUSTED_HOSTS='\\[kb.example.com': expected host names"),
])
def test_a_bad_value_says_which_variable_what_it_holds_and_what_is_expected(env, expected):
    with pytest.raises(ConfigError, match=expected):
        settings.load(env)


def test_the_message_says_what_the_setting_is_and_what_to_do():
    with pytest.raises(ConfigError) as e:
        settings.load({"KB_SYNC_SECONDS": "soon"})
    assert str(e.value) == ("KB_SYNC_SECONDS='soon': expected a number above 0. KB_SYNC_SECONDS: how often a replica "
                            "looks for a new generation in the shared database, in seconds. Correct it or unset it "
                            "(default: 2.0); `kb serve --help-settings` lists every setting")


def test_config_values_are_checked_too_and_named_as_config():
    with pytest.raises(ConfigError, match=r"VIEW_WINDOW_MINUTES=0.5 \(in the app's config\): expected a whole number"):
        settings.load({}, {"VIEW_WINDOW_MINUTES": 0.5})


def test_an_unknown_kb_variable_is_logged_with_the_setting_it_may_mean(caplog):
    with caplog.at_level(logging.WARNING, logger="kb.settings"):
        settings.load({"KB_RATELIMIT_SERACH": "1 per minute"})
    assert "KB_RATELIMIT_SERACH is not a polykb setting and is ignored (did you mean KB_RATELIMIT_SEARCH?)" \
        in caplog.text


def test_current_is_parsed_once_per_environment_and_again_when_it_changes(monkeypatch):
    monkeypatch.setenv("KB_KEEP_GENERATIONS", "4")
    first = settings.current()
    assert first["KEEP_GENERATIONS"] == 4 and settings.current() is first
    monkeypatch.setenv("KB_KEEP_GENERATIONS", "5")
    assert settings.current()["KEEP_GENERATIONS"] == 5


def test_the_app_takes_typed_settings_from_the_environment_and_a_bad_one_stops_it(monkeypatch, index_dir):
    monkeypatch.setenv("KB_INDEX", str(index_dir))
    monkeypatch.setenv("KB_RATELIMIT_SEARCH", "2 per minute")
    monkeypatch.setenv("KB_VIEW_WINDOW_MINUTES", "5")
    app = create_app()
    assert app.config["RATELIMIT_SEARCH"] == limits.parse("2 per minute") and app.config["VIEW_WINDOW_MINUTES"] == 5
    client = app.test_client()
    codes = [client.get("/api/search?q=cdn&lang=en").status_code for _ in range(3)]
    assert codes[:2] == [200, 200] and codes[2] == 429
    monkeypatch.setenv("KB_PROXY_FIX", "one")
    with pytest.raises(ConfigError, match="KB_PROXY_FIX='one': expected a whole number from 0 to 10"):
        create_app()


def test_help_settings_lists_every_variable_even_while_one_is_wrong(monkeypatch):
    monkeypatch.setenv("KB_PORT", "not-a-port")
    result = CliRunner().invoke(cli, ["serve", "--help-settings"])
    assert result.exit_code == 0, result.output
    for s in settings.SETTINGS:
        assert s.env in result.output
    assert "KB_RATELIMIT_CONTACT" in result.output and "5 per 10 minutes" in result.output


def test_a_bad_setting_stops_any_command_at_its_start(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_PORT", "not-a-port")
    for args in (["serve", "--index", str(tmp_path)], ["user", "list", "--index", str(tmp_path)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1 and "KB_PORT='not-a-port': expected a whole number" in result.output, args


def test_serve_options_default_to_their_settings_and_the_option_given_wins(monkeypatch, index_dir):
    seen = {}
    monkeypatch.setattr("waitress.serve", lambda app, **kw: seen.update(kw))
    for var in ("KB_INDEX", "KB_MODEL", "KB_ARTICLES"):  # recorded, so what serve sets is undone afterwards
        monkeypatch.setenv(var, "")
    monkeypatch.setenv("KB_PORT", "5126")
    monkeypatch.setenv("KB_THREADS", "3")
    monkeypatch.setenv("KB_INDEX", str(index_dir))
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert (seen["port"], seen["threads"]) == (5126, 3)
    assert CliRunner().invoke(cli, ["serve", "--port", "5127"]).exit_code == 0
    assert seen["port"] == 5127
