"""Every `KB_*` environment variable polykb reads, declared once: name, default, parse, help.

Settings used to be read where they were used: one number parsed in the
replication loop, another in the embedder, the web app's through Flask's
`from_prefixed_env`, the CLI's through click. A bad value then surfaced late
(in a worker after the fork, at the first request) or turned into something
else without a word ("False" as a true string). Here each is parsed and
checked when a command or the app starts (`load`, `current`); a bad value
stops the start naming the variable, its value and what was expected, and the
code that uses a setting reads a typed value. `kb serve --help-settings` prints
the table; README's copy is generated from it (`markdown`), and
tests/test_conventions.py fails when either drifts from the code.

Values come from the environment as text. The web app's config (an instance
`config.py`, a test's config) gives Python values: the same parse functions
check those, so a setting has one meaning whichever way it arrives.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import functools
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kb.errors import ConfigError
from kb.index.format import KEEP_GENERATIONS
from kb.search.budget import Budget

if TYPE_CHECKING:
    import limits

log = logging.getLogger(__name__)

PREFIX = "KB_"
MAX_EMBED_ENGINES = 8  # each engine holds its own copy of the 4-bit model: ~21 MB of RSS more per engine


@dataclass(frozen=True)
class Setting:
    name: str  # the config key; the environment variable is KB_<name>
    default: Any  # as one would write it (the parsed form is defaults()[name])
    parse: Callable[[Any], Any]  # text from the environment, or a Python value from config → the value; ValueError
    help: str

    @property
    def env(self) -> str:
        return PREFIX + self.name


# --- parse functions: each raises ValueError("expected ...") -------------------------------------------------------

def text(value) -> str:
    """Text as given; a JSON string ("...") is unquoted, as Flask's from_prefixed_env did (`kb serve` writes those)."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if not isinstance(value, str):
        raise ValueError("expected text")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            unquoted = json.loads(value)
        except ValueError:
            return value
        return unquoted if isinstance(unquoted, str) else value
    return value


def optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """None (from config: "off") stays None; anything else goes through `parse`."""
    return lambda value: None if value is None else parse(value)


def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    words = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
    found = words.get(value.strip().lower()) if isinstance(value, str) else {1: True, 0: False}.get(value)
    if found is None:
        raise ValueError("expected true or false")
    return found


def whole(low: int, high: int | None = None, unit: str = "") -> Callable[[Any], int]:
    span = f"from {low} to {high}" if high is not None else f"of {low} or more"
    expected = f"expected a whole number{' of ' + unit if unit else ''} {span}"

    def parse(value) -> int:
        if isinstance(value, str):
            value = value.strip()
            value = int(value) if value.lstrip("-").isdigit() else None
        if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
            raise ValueError(expected)
        return value

    return parse


def number(low: float, high: float | None = None, low_included: bool = False, what: str = "") -> Callable[[Any], float]:
    span = f"from {low:g} to {high:g}" if high is not None else f"above {low:g}"
    expected = f"expected a number {span}" + (f" ({what})" if what else "")

    def parse(value) -> float:
        try:
            found = float(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
        except ValueError:
            found = None
        if found is None or not (found >= low if low_included else found > low) or (high is not None and found > high):
            raise ValueError(expected)
        return found

    return parse


def seconds_lifetime(value) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(seconds=whole(1, unit="seconds")(value))


def choice(*options: str) -> Callable[[Any], str]:
    def parse(value) -> str:
        for option in options:
            if isinstance(value, str) and value.strip().lower() == option.lower():
                return option
        raise ValueError(f"expected one of {', '.join(options)}")

    return parse


def rate_limit(value) -> limits.RateLimitItem:
    """A `limits` rate such as "60 per minute", parsed here rather than at every request.

    `limits` is imported here, not at the top: it pulls in asyncio, 50-300 ms
    on our 2 cores, which `kb --help` and `--help-settings` need not pay."""
    import limits

    if isinstance(value, limits.RateLimitItem):
        return value
    try:
        return limits.parse(value)
    except (ValueError, TypeError):
        raise ValueError("expected a rate such as '60 per minute' or '5 per 10 minutes'") from None


def host_list(value) -> list[str] | None:
    """"a.com, .b.org" or a JSON list (["a.com"]); "*" (None): any host."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError('expected host names separated by commas, or a JSON list such as ["kb.example.com"]')
        else:
            value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(h, str) for h in value):
        raise ValueError('expected host names separated by commas, or a JSON list such as ["kb.example.com"]')
    hosts = [h.strip() for h in value if h.strip()]
    if "*" in hosts:
        return None
    if not hosts:
        raise ValueError('expected host names, or "*" for any host')
    return hosts


def budget(value) -> Budget:
    """A JSON object of the fields of kb/search/budget.py to change; Budget names a field it does not have."""
    if isinstance(value, Budget):
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise ValueError('expected a JSON object such as {"embed_seconds": 2, "slots": 4}')
    return Budget.from_settings(value)


def model(value):
    """A model spec ('e5', 'st:<name-or-path>'); code and tests may give an Embedder itself."""
    return text(value) if isinstance(value, (str, os.PathLike)) else value


def secret(value) -> str | bytes:
    return value if isinstance(value, bytes) else text(value)


# --- the table ------------------------------------------------------------------------------------------------------

_text = optional(text)

SETTINGS: tuple[Setting, ...] = (
    # files and the model
    Setting("INDEX", ".kb-index", text, "index folder built by `kb index` (`--index`); activity.sqlite and "
            "secret_key live there too"),
    Setting("ARTICLES", None, _text, "folder of Markdown articles (`--articles`): `kb index` and `kb lint` read it "
            "(unset: `articles`), the web editor saves to it (unset: no editing)"),
    Setting("MODEL", None, optional(model), "embedding model: `e5` (bundled) or `st:<name-or-path>` (`--model`); "
            "unset: the one that built the index"),
    Setting("EMBED_ENGINES", None, optional(whole(1, MAX_EMBED_ENGINES, unit="engines")), "single-threaded "
            f"embedder engines per process; unset: one per core, up to {MAX_EMBED_ENGINES} (`kb serve --workers N` "
            "sets 1)"),
    # what one article may hold (kb/articles/limits.py): checked at every save and by the indexer
    Setting("ARTICLE_MAX_BYTES", 200_000, whole(1, unit="bytes"), "largest article file (a save over it: 413)"),
    Setting("ARTICLE_MAX_HEADINGS", 500, whole(1), "most headings in one article"),
    Setting("ARTICLE_MAX_TABLE_COLUMNS", 64, whole(1), "most columns in one table row"),
    Setting("ARTICLE_MAX_TABLE_CELLS", 10_000, whole(1), "most table cells in one article, all tables"),
    Setting("ARTICLE_MAX_REFERENCES", 2_000, whole(0), "most character references (`&#x41;`, `&amp;`) in one article"),
    Setting("MAX_CHUNKS_PER_ARTICLE", 100, whole(1), "chunks embedded of one article (the rest is not searchable; "
            "the lint warns)"),
    # the shared database and replicas
    Setting("DATABASE_URL", None, _text, "shared state (activity, accounts, published generations, embedding "
            "cache), e.g. `postgresql://user:password@host/db`; unset: `sqlite:///<index>/activity.sqlite`"),
    Setting("REPLICA_NAME", None, _text, "sent back as the `X-KB-Replica` header, to tell which replica answered"),
    Setting("SYNC_SECONDS", 2.0, number(0), "how often a replica looks for a new generation in the shared "
            "database, in seconds"),
    Setting("KEEP_GENERATIONS", KEEP_GENERATIONS, whole(1), "generations kept in the shared database and on each "
            "replica's disk"),
    # search
    Setting("MIN_ANSWER_SCORE", None, optional(number(0, 1, low_included=True, what="the probability at which a "
                                                      "search counts as answered")),
            "how sure a search must be to count as answered, 0 to 1; unset: the fitted default"),
    Setting("SEARCH_BUDGET", None, optional(budget), 'what one search may cost, as changes to kb/search/budget.py\'s '
            'defaults, e.g. `{"embed_seconds": 2, "slots": 4}`'),
    Setting("MAX_QUERY_CHARS", 500, whole(1), "longest public search query (agents may paste up to 20,000 "
            "characters)"),
    Setting("PAGE_SIZE", 10, whole(1), "results per page in the help center"),
    # `kb serve`
    Setting("HOST", "127.0.0.1", text, "address `kb serve` listens on (`--host`)"),
    Setting("PORT", 5000, whole(0, 65535), "port `kb serve` listens on (`--port`)"),
    Setting("WORKERS", 1, whole(1, 64), "server processes of `kb serve` (`--workers`; gunicorn when above 1)"),
    Setting("THREADS", 4, whole(1, 64), "threads serving requests in each process (`--threads`)"),
    Setting("PROXY_FIX", 0, whole(0, 10), "trusted reverse proxies setting X-Forwarded-For/-Proto/-Host (1 behind "
            "nginx)"),
    Setting("TRUSTED_HOSTS", "localhost,127.0.0.1", host_list, "host names the site answers to, e.g. "
            "`kb.example.com,.example.org` (a leading dot: any subdomain) or a JSON list; another host gets 400. "
            "`*`: any host (development only)"),
    # the help center and contact
    Setting("SITE_NAME", None, _text, "shown in the header; unset: \"Help Center\" in the visitor's language"),
    Setting("CONTACT_URL", None, _text, "where \"contact support\" leads (no-answer page, \"No\" votes); unset: "
            "the contact form, else CONTACT_ARTICLE"),
    Setting("CONTACT_FORM", True, boolean, "the help center's own contact form (`/<lang>/contact/`), used when "
            "CONTACT_URL is not set"),
    Setting("CONTACT_ARTICLE", "contact-support", _text, "article id \"contact support\" leads to when neither "
            "CONTACT_URL nor the form is used"),
    Setting("REQUEST_WEBHOOK", None, _text, "URL that receives each contact request as JSON (a helpdesk's "
            "intake), retried until it accepts"),
    Setting("VIEW_WINDOW_MINUTES", 30, whole(1), "an article view counts once per reader and article in this "
            "window"),
    Setting("LEARNING", False, boolean, "ranking learns from clicks, votes and agents' marks (kb/learning); off "
            "until it meets its targets (bench/results/learning.md)"),
    Setting("LEARN_EVERY", 600, whole(10), "seconds between rebuilds of the learned ranking from the shared log "
            "(`kb learn` rebuilds once)"),
    # rate limits
    Setting("RATELIMIT_ENABLED", True, boolean, "rate limits on (false: off, for benchmarks)"),
    Setting("RATELIMIT_STORAGE_URI", "memory://", text, "where limits are counted: per process, or shared by all, "
            "e.g. `redis://host:6379`"),
    Setting("RATELIMIT_SEARCH", "60 per minute", rate_limit, "per client (user, token or address): "
            "help center search, suggestions, /api/search"),
    Setting("RATELIMIT_FEEDBACK", "10 per minute", rate_limit, "\"Was this helpful?\" votes, form and "
            "API"),
    Setting("RATELIMIT_CONTACT", "5 per 10 minutes", rate_limit, "contact requests sent"),
    Setting("RATELIMIT_LOGIN", "10 per minute", rate_limit, "login attempts per client address and "
            "account name"),
    Setting("RATELIMIT_FAILED_AUTH", "30 per minute", rate_limit, "failed logins and bad API tokens per "
            "address; then 429 there"),
    Setting("RATELIMIT_FORMS", "30 per minute", rate_limit, "every other form post (agent assist, marks, "
            "log out), per user or address"),
    Setting("RATELIMIT_API", "120 per minute", rate_limit, "/api/articles and /api/suggest (per token "
            "or user on /api/suggest)"),
    # accounts and sessions
    Setting("SECRET_KEY", None, optional(secret), "signs sessions and CSRF tokens; unset: generated once into "
            "`<index>/secret_key` (mode 600). Replicas must share one"),
    Setting("LOGIN_LOCKOUT_AFTER", 5, whole(1), "failed logins in a row on one account (from any address) before "
            "it is locked"),
    Setting("LOGIN_LOCKOUT_MAX_SECONDS", 900, whole(1), "the lock doubles with each further failure, 1 s, 2 s, ... "
            "up to this"),
    Setting("SESSION_COOKIE_SECURE", False, boolean, "session cookies over HTTPS only: true behind HTTPS"),
    Setting("SESSION_COOKIE_HTTPONLY", True, boolean, "session cookies hidden from scripts"),
    Setting("SESSION_COOKIE_SAMESITE", "Lax", optional(choice("Lax", "Strict", "None")), "the session cookie's "
            "SameSite"),
    Setting("PERMANENT_SESSION_LIFETIME", 43200, seconds_lifetime, "how long a login lasts, in seconds (12 hours)"),
    Setting("WTF_CSRF_TIME_LIMIT", None, optional(whole(1)), "seconds a form's CSRF token lives; unset: as long as "
            "the session (agents keep pages open)"),
    Setting("MAX_CONTENT_LENGTH", 1_000_000, optional(whole(1)), "largest request body, in bytes"),
    # retention
    Setting("RETENTION_DAYS", None, optional(whole(1)), "logged query, ticket and feedback text older than this "
            "is forgotten (rows and counts stay; `kb purge --days`); unset: text is kept"),
    Setting("AUDIT_RETENTION_DAYS", 365, optional(whole(1)), "audit events (sign-ins, token use, internal reads) "
            "older than this are deleted"),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


@functools.cache
def defaults() -> dict[str, Any]:
    """Each setting's default, parsed (a rate limit's text becomes its item)."""
    return {s.name: None if s.default is None else s.parse(s.default) for s in SETTINGS}


class Settings(Mapping[str, Any]):
    """The parsed values by name (`settings["SYNC_SECONDS"]`), read-only; a name not in the table is a KeyError."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getitem__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a setting: kb/settings.py declares {sorted(self._values)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def load(environ: Mapping[str, str] | None = None, given: Mapping[str, Any] | None = None) -> Settings:
    """The settings from `environ` (default: this process's), over `given` (config values), over the defaults.

    An empty variable counts as unset. The first bad value raises ConfigError
    saying which and what was expected; KB_* variables the table does not know
    are logged (a misspelt name would otherwise be ignored in silence)."""
    environ = os.environ if environ is None else environ
    given = given or {}
    values = {}
    for s in SETTINGS:
        raw = environ.get(s.env, "").strip()
        if raw:
            values[s.name] = _parsed(s, raw, f"{s.env}={raw!r}")
        elif s.name in given:
            values[s.name] = _parsed(s, given[s.name], f"{s.name}={given[s.name]!r} (in the app's config)")
        else:
            values[s.name] = defaults()[s.name]
    for name in unknown(environ):
        near = difflib.get_close_matches(name, [s.env for s in SETTINGS], n=1)
        log.warning("%s is not a polykb setting and is ignored%s; `kb serve --help-settings` lists them", name,
                    f" (did you mean {near[0]}?)" if near else "")
    return Settings(values)


def _parsed(s: Setting, value, where: str):
    try:
        return s.parse(value)
    except ValueError as e:
        default = "" if s.default is None else f" (default: {shown(s.default)})"
        raise ConfigError(f"{where}: {e}. {s.env}: {s.help}. Correct it or unset it{default}; "
                          "`kb serve --help-settings` lists every setting") from None


def unknown(environ: Mapping[str, str]) -> list[str]:
    """KB_* variables set in `environ` that are not in the table."""
    return sorted(k for k in environ if k.startswith(PREFIX) and k[len(PREFIX):] not in BY_NAME)


_current: tuple[tuple, Settings] | None = None


def current() -> Settings:
    """This process's settings, parsed once per distinct set of KB_* variables.

    The core reads its few settings (KB_DATABASE_URL, KB_SYNC_SECONDS,
    KB_KEEP_GENERATIONS, KB_EMBED_ENGINES) through this, so a test's
    monkeypatch.setenv and `kb serve` writing KB_INDEX are seen, while an
    unchanged environment is parsed only once."""
    global _current
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX)))
    found = _current
    if found is None or found[0] != key:
        found = _current = (key, load(os.environ))
    return found[1]


def shown(value) -> str:
    """A value as `--help-settings` and README show it."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def markdown() -> str:
    """README's settings table, generated from the declarations."""
    rows = [f"| `{s.env}` | {shown(s.default)} | {s.help.replace('|', chr(92) + '|')} |" for s in SETTINGS]
    return "\n".join(["| variable | default | what it sets |", "|---|---|---|", *rows])
