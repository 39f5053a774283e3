"""Logging in and out. Accounts are created with `kb user add NAME --role agent|writer|admin`."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from . import i18n
from .resources import get_accounts
from .security import check_rate, login_user, logout_user, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login", methods=("GET", "POST"))
def login():
    next_url = safe_next(request.values.get("next"))
    error = None
    if request.method == "POST":
        check_rate("LOGIN")
        name = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        role = get_accounts().check_user(name, password) if name and password else None
        if role is not None:
            login_user(name)
            if next_url:
                return redirect(next_url)
            landing = {"agent": "agent.index", "admin": "agent.index", "writer": "writers.index"}
            return redirect(url_for(landing.get(role, "root.index")))
        error = _("Wrong user name or password.")
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, next=next_url or "", user=g.user), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("help_center.home", lang=i18n.preferred()))
