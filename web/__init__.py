"""The polykb web application: help center, agent assist, writers' reports, JSON API and accounts.

`create_app()` is the factory (flaskr's shape): the settings declared in
kb/settings.py, from their defaults, the instance folder's `config.py` and
`KB_*` environment variables (`KB_INDEX=/srv/kb`, `KB_SECRET_KEY=...`), or a
test config instead of both; each checked at start. Each audience has its
blueprint: `help_center` (public pages), `agent` (suggested answers),
`writers` (content-health reports), `manager` (every article and its translations' status), `insights` (charts for support leads), `editor` and `translating` (writers
edit articles in the browser), `workitems` (report rows assigned, resolved, snoozed), `contact` (the contact
form), `api` (JSON), `auth` (log in and out) and `admin` (the audit log). Blueprints never import each other; what
they share lives in `resources`, `security`, `i18n`, `answers` and `errors`.
"""

from __future__ import annotations

import os

from flask import Config, Flask

from kb import settings


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app; fails at once if the index is missing or corrupt."""
    app = Flask(__name__, instance_relative_config=True)
    given = Config(app.config.root_path)
    if test_config is None:
        given.from_pyfile("config.py", silent=True)
    else:
        given.from_mapping(test_config)
    app.config.from_mapping(given)  # what the table does not declare (TESTING, ...) as given
    # kb/settings.py: the environment over config.py, over the defaults, each checked (a test config: no environment)
    app.config.from_mapping(settings.load(os.environ if test_config is None else {}, given))
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from web.presentation import errors, i18n
    from web.services import input_text, resources, security

    resources.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    input_text.init_app(app)

    from web.blueprints import admin, agent, api, auth, contact, editor, help_center, insights, manager, translating, workitems, writers

    app.register_blueprint(help_center.bp)
    app.register_blueprint(help_center.root)
    app.register_blueprint(agent.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(writers.bp)
    app.register_blueprint(manager.bp)
    app.register_blueprint(contact.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(translating.bp)
    app.register_blueprint(workitems.bp)
    app.register_blueprint(insights.bp)
    security.csrf.exempt(api.bp)  # the JSON API takes tokens or JSON bodies, never forms
    return app
