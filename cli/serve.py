"""`kb serve`: the web app in one process (waitress) or several (gunicorn), and a replica's first download.

Registered on the `kb` command by cli/main.py; flask and the web package are
imported inside, so the other commands do not pay for them.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap

import click

from cli.options import ensure_index, articles_option, from_setting, index_option, model_option, reports_errors


def _help_settings(ctx: click.Context, _param, value):
    """Print kb/settings.py's table (eager: before any setting is read, so it works while one is wrong)."""
    if not value or ctx.resilient_parsing:
        return
    from kb import settings

    rows = [(s.env, settings.shown(s.default), s.help) for s in settings.SETTINGS]
    name_width = max(len(r[0]) for r in rows)
    default_width = min(max(len(r[1]) for r in rows), 20)
    help_width = max(30, shutil.get_terminal_size((120, 24)).columns - name_width - default_width - 6)
    indent = " " * (name_width + default_width + 6)
    click.echo("Settings (environment variables; an option given on the command line wins):\n")
    for name, default, text in rows:
        lines = textwrap.wrap(text, help_width) or [""]
        click.echo(f"  {name:<{name_width}}  {default:<{default_width}}  {lines[0]}")
        for line in lines[1:]:
            click.echo(indent + line)
    ctx.exit()


def _warn_untrusted(host: str):
    """Listening beyond this machine with the default KB_TRUSTED_HOSTS answers only `localhost`: say so at once."""
    from kb import settings

    if host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get("KB_TRUSTED_HOSTS", "").strip():
        click.echo(f"note: listening on {host}, but only requests for localhost and 127.0.0.1 are answered "
                   f"(KB_TRUSTED_HOSTS={settings.BY_NAME['TRUSTED_HOSTS'].default}); set KB_TRUSTED_HOSTS to the "
                   "site's host names, or '*' for any host", err=True)


@click.command()
@articles_option
@index_option
@model_option
@click.option("--host", **from_setting("HOST"), help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), **from_setting("PORT"), help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), **from_setting("WORKERS"),
              help="Server processes (gunicorn; each loads its own app and embedder).")
@click.option("--threads", type=click.IntRange(1, 64), **from_setting("THREADS"),
              help="Threads serving requests in each process.")
@click.option("--dev", is_flag=True, help="Flask's development server with reloader and debugger (never in production).")
@click.option("--help-settings", is_flag=True, is_eager=True, expose_value=False, callback=_help_settings,
              help="Show every KB_* setting (environment variable), its default and what it sets, and exit.")
@reports_errors
def serve(articles_dir, index_dir, model, host, port, workers, threads, dev):
    """Serve the help center, agent assist and JSON API (indexes the articles first if there is no index)."""
    _sync_replica(index_dir)
    ensure_index(articles_dir, index_dir, model)
    _warn_untrusted(host)
    if dev:
        click.echo(f"polykb serving {index_dir} on http://{host}:{port}/ (dev server)")
        _web_app(index_dir, model, articles_dir).run(host=host, port=port, debug=True, use_reloader=True)
        return
    from web.services import serving

    if workers == 1:  # one process: fail here, before printing the address, if the index is unusable
        app = _web_app(index_dir, model, articles_dir)
        factory = lambda: app  # noqa: E731
    else:  # each worker makes its own app; a missing or foreign index is still refused here, once
        from kb.search.generation import current

        current(index_dir)
        _web_app_settings(index_dir, model, articles_dir)
        factory = _web_factory
    click.echo(f"polykb serving {index_dir} on http://{host}:{port}/ ({workers} x {threads} threads)")
    serving.serve(factory, host, port, workers=workers, threads=threads, log=lambda m: click.echo(m, err=True))


def _sync_replica(index_dir):
    """A replica of a shared database downloads the newest generation before anything else looks for an index."""
    from kb.index import replication

    db = replication.shared_database(index_dir)
    if db is not None:
        try:
            replication.sync(db, index_dir)
        finally:
            db.close()  # never handed to forked workers: each opens its own


def _web_app_settings(index_dir, model, articles_dir=None):
    """Options become KB_* settings, which the app factory reads (in this process or a server's workers)."""
    os.environ["KB_INDEX"] = json.dumps(str(index_dir))
    if model:
        os.environ["KB_MODEL"] = json.dumps(model)
    if articles_dir:
        os.environ["KB_ARTICLES"] = json.dumps(str(articles_dir))


def _web_factory():
    from web import create_app

    return create_app()


def _web_app(index_dir, model, articles_dir=None):
    """The web app for an index folder."""
    _web_app_settings(index_dir, model, articles_dir)
    return _web_factory()
