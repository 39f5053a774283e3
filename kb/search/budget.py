"""What one search may cost: the model tokens it embeds, a time budget per stage, embedding slots.

A request that would work on and on degrades instead, and says so
(`Response.degraded`): past the embedding budget it is answered from keywords
only, past the keyword budget from the dense side only, past the rendering
budget with the results rendered so far. Budgets are for live serving: batch
entry points search with `Budget.unlimited()`. The embedding itself cannot be
stopped half way (one C call), so it keeps its slot until it finishes and its
vectors land in the query cache: asking again is then cheap.

Embedding slots cap the embeddings computed at once in one process (one per
engine by default): a caller that cannot get one within `slot_wait` seconds
gets BusyError (HTTP 503 with Retry-After) rather than joining a queue that
grows faster than the cores empty it.
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from kb.errors import BusyError, ConfigError

# Stage names as Response.degraded lists them: what was skipped or cut short.
DENSE, KEYWORD, RENDER = "dense", "keyword", "render"


@dataclass(frozen=True)
class Budget:
    # model tokens embedded per query, its pieces included: a typical ticket's prose is 40-160 tokens, and the
    # embedder's time grows with the tokens (e5-small, 4-bit: ~2 ms of CPU each)
    embed_tokens: int = 256
    embed_seconds: float = 4.0  # waiting for the query's vectors; then keyword-only
    keyword_seconds: float = 3.0  # waiting for the keyword side; then dense-only
    render_seconds: float = 2.0  # snippets and sections of the results; then the results rendered so far
    slots: int | None = None  # embeddings at once per process; None: one per engine of the embedder
    slot_wait: float = 3.0  # seconds to wait for a free slot; then BusyError

    @classmethod
    def unlimited(cls) -> Budget:
        """For batch work (`kb search --queries`, `kb eval`, the benchmarks): no stage is ever skipped or cut
        short, so a result depends on the query and the index, not on how busy the machine is (a held-out run
        scored 0.805 and 0.818 under two loads). The token cap stays: it is the same in every run, and what a
        served search embeds is what a batch should measure."""
        forever = threading.TIMEOUT_MAX  # the longest wait a lock or a future accepts
        return cls(embed_seconds=forever, keyword_seconds=forever, render_seconds=forever, slot_wait=forever)

    @classmethod
    def from_settings(cls, settings: dict | None, where: str = "KB_SEARCH_BUDGET") -> Budget:
        """A budget with some fields changed, e.g. {"embed_seconds": 2, "slots": 4}; ConfigError naming the bad one."""
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        settings = settings or {}
        if not isinstance(settings, dict):
            raise ConfigError(f"{where} must be a JSON object such as {{\"embed_seconds\": 2}}, got {settings!r}")
        for key, value in settings.items():
            if key not in fields:
                raise ConfigError(f"{where}: unknown field {key!r}; expected one of {sorted(fields)}")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{where}: {key} must be a number of 0 or more, got {value!r}")
        return cls(**settings)


class EmbeddingSlots:
    """At most `n` embeddings at once; each runs on its own thread so the caller can stop waiting for it."""

    def __init__(self, n: int, wait: float):
        n = max(1, int(n))
        self._free = threading.BoundedSemaphore(n)
        self._pool = ThreadPoolExecutor(n, thread_name_prefix="kb-embed")
        self._wait = wait

    def run(self, fn, *args, timeout: float):
        """fn(*args) on a free slot; None when it takes longer than `timeout` (it finishes in the background)."""
        if not self._free.acquire(timeout=self._wait):
            raise BusyError("every embedding slot is busy; try again in a few seconds",
                            retry_after=max(1, round(self._wait)))
        try:
            fut: Future = self._pool.submit(fn, *args)
        except BaseException:
            self._free.release()
            raise
        fut.add_done_callback(lambda _: self._free.release())
        try:
            return fut.result(timeout=timeout)
        except FutureTimeout:
            return None
