"""The learned ranking in the web app (KB_LEARNING): who a reader is, and the model kept fresh.

A reader's `origin` is an HMAC of the signed-in user, else the client address,
under the app's secret: no address is stored, the same reader gets the same
key on every replica (they share KB_SECRET_KEY), and one address is one reader
however many browsers or sessions it opens, which is what bounds vote stuffing
(kb/learning/caps.py). The model is built from the shared log at start and
rebuilt by the first request after each KB_LEARN_EVERY seconds, both in a
background thread, so neither the start nor a visitor waits for the logged
queries to be embedded (until the first build, searches are not reordered);
every replica rebuilds from the same database and so learns the same ranking.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time

from flask import Flask, current_app, g, request

from kb.learning.learner import Learner
from kb.learning.log import rebuild

log = logging.getLogger(__name__)


def reader_origin() -> str:
    reader = f"user:{g.user}" if g.get("user") else f"addr:{request.remote_addr}"
    return hmac.new(str(current_app.secret_key).encode(), reader.encode(), hashlib.sha256).hexdigest()[:24]


def init_app(app: Flask):
    if not app.config.get("LEARNING"):
        return
    ext = app.extensions["polykb"]
    ext["learner"] = Learner()
    ext["learning"] = {"last": time.monotonic(), "lock": threading.Lock(), "running": True, "fit": threading.Lock()}
    ext["searcher"].learner = ext["learner"]
    threading.Thread(target=relearn, args=(app,), name="kb-learn", daemon=True).start()

    @app.before_request
    def relearn_when_due():
        state = ext["learning"]
        with state["lock"]:
            if state["running"] or time.monotonic() - state["last"] < app.config["LEARN_EVERY"]:
                return
            state["last"], state["running"] = time.monotonic(), True
        threading.Thread(target=relearn, args=(app,), name="kb-learn", daemon=True).start()


def relearn(app: Flask) -> dict[str, int] | None:
    """Rebuild the learned model now, after any rebuild under way (so the last to start reads the newest log);
    a failure keeps the last model (the next period tries again)."""
    ext = app.extensions["polykb"]
    searcher = ext["searcher"]
    try:
        with ext["learning"]["fit"]:
            return rebuild(ext["learner"], ext["db"], searcher.embedder.inner.embed_queries,
                           *searcher.learning_inputs())
    except Exception:
        log.exception("learning: rebuilding the learned ranking failed")
        return None
    finally:
        ext["learning"]["running"] = False
