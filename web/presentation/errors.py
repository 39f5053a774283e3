"""One error shape everywhere: `{"error": {"status": 400, "message": "..."}}` for the API, a page otherwise.

Bad input raises `QueryError` in the core or `abort(400, message)` here and
becomes a 400 with that message; nothing a caller sends should produce a 500.
A 404 never says whether an article exists but is internal.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, SecurityError, ServiceUnavailable

from kb.errors import BusyError, QueryError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.blueprint == "api" or (
        request.accept_mimetypes.best == "application/json")


def error_body(status: int, message: str) -> dict:
    return {"error": {"status": status, "message": message}}


def _default_message(e: HTTPException) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You don't have access to this page."),
        404: _("We couldn't find that page."),
        405: _("This address doesn't accept that method."),
        413: _("The request is too large."),
        429: _("Too many requests. Please wait a minute and try again."),
        500: _("Something went wrong on our side. Please try again."),
        503: _("Search is busy right now. Please try again in a few seconds."),
    }
    return messages.get(e.code, e.name)


def respond(e: HTTPException):
    """The error as JSON (API) or as a page, with its status and its Retry-After/Allow/WWW-Authenticate headers."""
    status = e.code or 500
    described = e.description if e.description and e.description != type(e).description else None
    message = described or _default_message(e)
    if wants_json():
        resp = make_response(jsonify(error_body(status, message)), status)
    else:
        resp = make_response(render_template("error.html", status=status, message=message), status)
    for key, value in e.get_headers():
        if key in ("Retry-After", "WWW-Authenticate", "Allow"):
            resp.headers[key] = value
    return resp


def init_app(app: Flask):
    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        return respond(e)

    @app.errorhandler(QueryError)
    def query_error(e: QueryError):
        return respond(BadRequest(str(e)))

    @app.errorhandler(SecurityError)
    def untrusted_host(e: SecurityError):
        """KB_TRUSTED_HOSTS refused the Host header: say so without echoing it (werkzeug's message does), and
        without the page template, which builds URLs, and there is no host to build them for."""
        message = _("This site does not answer to that host name.")
        if request.path.startswith("/api/"):
            return make_response(jsonify(error_body(400, message)), 400)
        return make_response(message, 400, {"Content-Type": "text/plain; charset=utf-8"})

    @app.errorhandler(BusyError)
    def busy(e: BusyError):  # every embedding slot taken (kb/search/budget.py): come back soon, not a queue that grows
        return respond(ServiceUnavailable(retry_after=e.retry_after))

    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError):
        return respond(BadRequest(_("The form expired or was not sent by this site. Reload the page and try again.")))

    @app.errorhandler(InternalServerError)
    def server_error(e: InternalServerError):
        original = getattr(e, "original_exception", None)
        if original is not None:
            log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
        return respond(InternalServerError())
