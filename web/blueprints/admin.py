"""Admins' pages: the audit log (sign-ins, token use, internal articles read), the twin of `kb audit`.

Admins only: agents and writers get the same refusal as other staff pages.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from kb.storage.accounts import ADMIN

from web.services.resources import get_audit
from web.services.security import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
LIMIT = 500


def event_labels() -> dict[str, str]:
    """What each audit event is called, in the reader's language."""
    return {
        "login": _("Signed in"),
        "login_failed": _("Wrong user name or password"),
        "login_locked": _("Sign-in refused: account locked"),
        "logout": _("Signed out everywhere"),
        "token_used": _("API token used"),
        "token_refused": _("Bad, expired or revoked API token"),
        "internal_read": _("Internal article opened"),
        "internal_suggested": _("Internal articles suggested"),
        "user_saved": _("Account saved"),
        "password_changed": _("Password changed"),
        "sessions_ended": _("Sessions ended"),
        "user_removed": _("Account removed"),
        "token_added": _("API token created"),
        "token_revoked": _("API token revoked"),
    }


bp.before_request(role_required((ADMIN,), lambda: _("This page is for admins.")))


@bp.get("/audit")
def audit():
    chosen = {k: request.args.get(k, "").strip() for k in ("actor", "event", "since")}
    labels = event_labels()
    if chosen["event"] and chosen["event"] not in labels:
        abort(400, _("Unknown event."))
    rows = get_audit().recent(since=chosen["since"] or None, actor=chosen["actor"] or None,
                              event=chosen["event"] or None, limit=LIMIT)
    return render_template("admin/audit.html", rows=rows, chosen=chosen, labels=labels, limit=LIMIT)
