"""Characters no field a person types should hold, refused at the edge, before anything stores them.

A NUL in `/api/search?q=cdn%00`, the contact form, feedback or a login name
was a 500 on PostgreSQL (`DataError`: its text type cannot hold one) and
stored as is on SQLite; the contact request was lost, and a name with U+202E
(right-to-left override) reached the helpdesk's webhook reversed (issue #24).
So every query-string and form value and every string of a JSON body is
checked once, for every route, the same on both databases: a NUL, another
control character (tab and line breaks excepted) or a bidi embedding,
override or isolate is a 400 naming the field and the character's position.

Two exceptions, where refusing is not what people expect: a customer's
message pasted into the agent's suggest box (logs hold stray control
characters; `pasted` removes them), and article text in the editor, where
right-to-left languages may need bidi controls (only NUL is refused, as the
edit history is stored in the database).
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from flask_babel import gettext as _

# as regular-expression text, so the API's description (web/services/openapi.py) says exactly the same
REFUSED = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\u202a-\\u202e\\u2066-\\u2069"
PLAIN = f"^[^{REFUSED}]*$"  # a value without any of them
NO_NUL = "^[^\\x00]*$"
_REFUSED = re.compile(f"[{REFUSED}]")
_NUL = re.compile("\\x00")
ARTICLE_TEXT = {"editor", "translating"}  # blueprints whose fields are article text
ARTICLE_ENDPOINTS = {"api.put_article_source"}  # and the API's route that saves one
PASTED = {("agent.suggest", "text"), ("api.suggest", "text")}  # (endpoint, field): cleaned by `pasted`
SECRET = ("password", "csrf_token")  # never echoed, never stored as typed
REDIRECT = "next"  # a redirect target: web.services.security.safe_next falls back to this site on anything odd


def pasted(text: str) -> str:
    """A pasted message without the characters refused elsewhere (a log's NULs and escapes, bidi controls)."""
    return _REFUSED.sub("", text)


def problem(value: str, pattern: re.Pattern = _REFUSED) -> str | None:
    """What is wrong with `value` ("U+0000 at character 4"), or None."""
    found = pattern.search(value)
    if found is None:
        return None
    return f"U+{ord(found.group()):04X} at character {found.start() + 1}"


def check_request() -> None:
    """400 for the first query-string or form field holding a refused character (see the module's docstring).

    JSON and raw bodies are read by the API's routes after they check who is calling (`check_fields`)."""
    check_fields((field, value) for source in (request.args, request.form)
                 for field, values in source.lists() for value in values)


def check_fields(fields) -> None:
    """400 for the first (field, value) pair whose string value holds a refused character."""
    pattern = _NUL if request.blueprint in ARTICLE_TEXT or request.endpoint in ARTICLE_ENDPOINTS else _REFUSED
    for field, value in fields:
        if (request.endpoint, field) in PASTED or field.endswith(SECRET) or field == REDIRECT:
            continue
        for item in value if isinstance(value, list) else [value]:
            found = problem(item, pattern) if isinstance(item, str) else None
            if found:
                abort(400, _("The field %(field)s holds a control character (%(what)s); remove it and send again.",
                             field=str(field)[:60], what=found))


def init_app(app: Flask) -> None:
    app.before_request(check_request)
