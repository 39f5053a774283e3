"""Forgetting old text: KB_RETENTION_DAYS (query and ticket text, readers' keys) and KB_AUDIT_RETENTION_DAYS
(audit events).

Done at start and then at most hourly, by the first request after the hour,
so a server left running keeps forgetting without a cron job (`kb purge` does
the same from the command line). Unset KB_RETENTION_DAYS: text is kept.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from kb.storage.learning import LearningLog

log = logging.getLogger(__name__)
EVERY_SECONDS = 3600


def init_app(app: Flask):
    state = {"last": time.monotonic(), "lock": threading.Lock()}
    purge(app)

    @app.before_request
    def purge_hourly():
        with state["lock"]:
            if time.monotonic() - state["last"] < EVERY_SECONDS:
                return
            state["last"] = time.monotonic()
        purge(app)


def purge(app: Flask) -> dict[str, int]:
    """Forget what is past its retention now; the counts of rows changed."""
    ext, cfg = app.extensions["polykb"], app.config
    counts = {}
    if cfg.get("RETENTION_DAYS"):
        counts = ext["activity"].forget_text(cfg["RETENTION_DAYS"])
        counts.update(ext["contacts"].forget_text(cfg["RETENTION_DAYS"]))
        counts.update(LearningLog(ext["db"]).forget_readers(cfg["RETENTION_DAYS"]))
    if cfg.get("AUDIT_RETENTION_DAYS"):
        counts["audit events"] = ext["audit"].purge(cfg["AUDIT_RETENTION_DAYS"])
    if any(counts.values()):
        log.info("retention: forgot %s", ", ".join(f"{n} {what}" for what, n in counts.items() if n))
    return counts
