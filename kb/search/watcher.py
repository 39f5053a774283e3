"""The generation a searcher serves: the published one, picked up by itself when a new one appears.

Checked at most every `recheck_seconds` (one small file read), so a search
never pays for more than that; a publisher in the same process calls
`notice_new_generation` so "searchable since" is true at once.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kb.errors import ModelMismatchError
from kb.index.format import current_token
from kb.search.generation import Generation, current, open_generation


class GenerationWatcher:
    def __init__(self, index_dir: Path, embedder_name: str, described: str, recheck_seconds: float = 1.0):
        """`embedder_name`: the model searches embed with, which must be the one that built the index;
        `described`: how an error names it ("the default model" when the caller named none)."""
        self.index_dir = Path(index_dir)
        self._embedder_name = embedder_name
        self._described = described
        self._recheck = recheck_seconds
        self._gen: Generation | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def notice_new_generation(self):
        """Look for a newly published generation on the next call, not up to `recheck_seconds` later."""
        self._checked = 0.0

    def current(self) -> Generation:
        now = time.monotonic()
        gen = self._gen
        if gen is not None and now - self._checked < self._recheck:
            return gen
        self._checked = now
        token = current_token(self.index_dir)
        if gen is not None and token == gen.name:
            return gen
        with self._lock:
            if self._gen is None or self._gen.name != token:
                path, manifest = current(self.index_dir)
                self._check_model(manifest["embedder"])
                self._gen = open_generation(path, manifest)
            return self._gen

    def _check_model(self, built: str):
        if self._embedder_name != built:
            raise ModelMismatchError(
                f"the index in {self.index_dir} was built with {built!r} but the search uses {self._described!r}; "
                f"search with the model that built it, or re-index with `kb index --model ...`")
