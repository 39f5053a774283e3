"""Delivers contact requests to a helpdesk's webhook (KB_REQUEST_WEBHOOK), retrying until it accepts.

The request is stored with its outbox row first (`ContactStore.add_request`), so a webhook that is
down, slow or refusing loses nothing, and a restart resumes where the last process stopped. Each
failure waits twice as long as the one before (`BASE_DELAY` up to `MAX_DELAY`, with a little jitter
so many queued rows do not all retry in the same second). Only a 2xx answer marks a row delivered.

Delivery is at least once: a process killed after the helpdesk accepted a request but before the
row was marked sends it again on restart. Every POST carries the request's `id` in the body and as
an `Idempotency-Key` header, so the receiver can drop such a repeat.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import urllib.error
import urllib.request

from kb.storage.contact import ContactStore, Delivery

BASE_DELAY = 5.0  # seconds before the first retry
MAX_DELAY = 3600.0  # a webhook down for a day is retried hourly
LEASE = 60.0  # seconds a sender holds a row it is sending
TIMEOUT = 10.0
POLL = 5.0  # seconds between looks at the outbox when nothing woke the sender
log = logging.getLogger(__name__)


def retry_delay(attempts: int, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Seconds to wait after the `attempts`-th failure (1, 2, ...): base, 2 base, 4 base, ... up to cap."""
    return min(cap, base * 2 ** max(0, attempts - 1)) * random.uniform(1.0, 1.2)


def post(url: str, delivery: Delivery, timeout: float = TIMEOUT) -> str | None:
    """POST one row's JSON; None when accepted (2xx), else what went wrong."""
    import json

    key = json.loads(delivery.payload).get("id", "")
    req = urllib.request.Request(url, data=delivery.payload.encode("utf-8"), method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "polykb-webhook",
        "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}"
    except (OSError, ValueError) as e:  # refused, DNS, timeout, bad URL
        return f"{type(e).__name__}: {e}"


class Sender:
    """A background thread that sends due outbox rows; `wake()` after queueing one sends it at once."""

    def __init__(self, store: ContactStore, url: str, base: float = BASE_DELAY, cap: float = MAX_DELAY,
                 poll: float = POLL, timeout: float = TIMEOUT):
        self.store, self.url = store, url
        self.base, self.cap, self.poll, self.timeout = base, cap, poll, timeout
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send_due(self, at: dt.datetime | None = None) -> int:
        """Send every row due now; returns how many the webhook accepted."""
        at = at or dt.datetime.now(dt.timezone.utc)
        sent = 0
        for d in self.store.claim_due(at, LEASE):
            error = post(self.url, d, self.timeout)
            done = dt.datetime.now(dt.timezone.utc)
            if error is None:
                self.store.delivered(d.id, done)
                sent += 1
            else:
                wait = retry_delay(d.attempts + 1, self.base, self.cap)
                log.warning("contact request webhook %s failed (%s); retry %d in %.0f s", self.url, error,
                            d.attempts + 1, wait)
                self.store.failed(d.id, error, done + dt.timedelta(seconds=wait))
        return sent

    def start(self) -> Sender:
        self._thread = threading.Thread(target=self._run, name="polykb-outbox", daemon=True)
        self._thread.start()
        return self

    def wake(self):
        self._wake.set()

    def stop(self, timeout: float = 10.0):
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.send_due()
            except Exception:  # a locked or broken database: try again later, never die
                log.exception("contact request outbox")
            self._wake.wait(self._sleep())
            self._wake.clear()

    def _sleep(self) -> float:
        """Until the next row is due, at most `poll` seconds."""
        due = self.store.next_due()
        if due is None:
            return self.poll
        wait = (dt.datetime.fromisoformat(due) - dt.datetime.now(dt.timezone.utc)).total_seconds()
        return min(self.poll, max(0.05, wait))
