"""Whole responses of recent searches, keyed by the generation and the whole request.

Help-center queries repeat (Zipf). bench/speed: a repeat with only its
embedding cached still cost 10-15 ms of CPU (detection, keyword side, fusion,
snippets); from this cache it is well under a millisecond. The generation is in
the key, so a new index is never answered from the old one.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from cachetools import LRUCache

from kb.search.results import Response

RESPONSES = 2048  # whole responses kept
CACHEABLE_CHARS = 500  # pasted tickets rarely repeat; keep them out of the cache


class ResponseCache:
    def __init__(self, size: int = RESPONSES, max_chars: int = CACHEABLE_CHARS):
        self._responses: LRUCache = LRUCache(size) if size else None
        self._max_chars = max_chars
        self._lock = threading.Lock()

    def key(self, query: str, *request) -> tuple | None:
        """The key of a search, or None for one not worth keeping (a pasted ticket, or the cache is off)."""
        return (query, *request) if self._responses is not None and len(query) <= self._max_chars else None

    def get(self, key) -> Response | None:
        if key is None:
            return None
        t = time.perf_counter()
        with self._lock:
            resp = self._responses.get(key)
        if resp is None:
            return None
        return dataclasses.replace(resp, timings={"cache": time.perf_counter() - t})

    def put(self, key, resp: Response):
        if key is not None and not resp.degraded:  # a degraded answer is not the answer
            with self._lock:
                self._responses[key] = resp

    def clear(self):
        if self._responses is not None:
            with self._lock:
                self._responses.clear()
