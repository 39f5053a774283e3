"""Resources shared by every request: the searcher and the activity log (flaskr's db.py idiom).

Both are opened once per app in `init_app`, so a missing or corrupt index
stops `kb serve` at start with a clear message instead of failing the first
visitor. The Searcher picks up a newly published index by itself.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, current_app

from kb.activity import Activity
from kb.search import Searcher

SECRET_FILE = "secret_key"


def init_app(app: Flask):
    index_dir = Path(str(app.config["INDEX"]))
    searcher = Searcher(index_dir, model=app.config["MODEL"])
    activity = Activity(index_dir / "activity.sqlite")
    app.extensions["polykb"] = {"searcher": searcher, "activity": activity}
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = stored_secret(index_dir)


def get_searcher() -> Searcher:
    return current_app.extensions["polykb"]["searcher"]


def get_activity() -> Activity:
    return current_app.extensions["polykb"]["activity"]


def stored_secret(index_dir: Path) -> str:
    """The secret key kept in the index folder, created on first use (mode 600) so sessions survive restarts."""
    path = Path(index_dir) / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    try:
        os.link(tmp, path)  # fails if another worker won the race: then use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
