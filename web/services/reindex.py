"""The incremental index, run in the background after a save, so the change is searchable within seconds.

A save gets a ticket: the time it was written (microseconds, UTC). It is
searchable once the served generation was *started* after that time (the
manifest's `started_at`), which any server process can tell from the index
folder alone, so the page may poll whichever worker it reaches. The run's
progress and failures go to a small file in the index folder for the same
reason. In each process, one run at a time: saves made during a run are
covered by one more run after it. The run is `kb index --progress-json` in a
child process (the web app never imports the indexer; a crash in a run never
takes the server down); the index's own lock keeps runs of several processes,
or a `kb index` started by hand, from overlapping: a run waits and retries.

A server killed in the middle (kill -9, a power cut) must not leave an
acknowledged save unsearchable, or a ticket saying "indexing" forever
(issue #24): at the first request after a start, `recover` marks the
progress of a run whose process is gone as failed, and asks for a run if an
article file is newer than the served generation's start.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from kb.index import format as index_format
from kb.errors import KBError

Report = Callable[[str, int, int], None]
Runner = Callable[[Path, Path, "str | None", Report], str]  # returns the published generation's name
BUSY_RETRIES = 60  # one a second: a `kb index` started by hand usually takes less
PROGRESS_FILE = "editor-index.json"


class IndexRunFailed(Exception):
    pass


def subprocess_runner(articles: Path, index: Path, model: str | None, report: Report) -> str:
    """`kb index` in a child process; its JSON lines become progress reports."""
    cmd = [sys.executable, "-m", "cli", "index", "--articles", str(articles), "--index", str(index),
           "--progress-json"] + (["--model", model] if model else [])
    for _attempt in range(BUSY_RETRIES):
        generation = None
        with tempfile.TemporaryFile("w+") as errors, \
                subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True) as proc:  # no pipe to fill
            for line in proc.stdout:
                try:
                    msg = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if msg.get("stage") == "done":
                    generation = msg.get("generation")
                else:
                    report(msg.get("stage", ""), int(msg.get("done", 0)), int(msg.get("total", 0)))
            proc.wait()
            errors.seek(0)
            err = errors.read()
        if proc.returncode == 0 and generation:
            return generation
        if "another `kb index` is running" not in err:
            raise IndexRunFailed(err.strip().splitlines()[-1] if err.strip() else f"kb index exited {proc.returncode}")
        report("waiting", 0, 0)
        time.sleep(1)
    raise IndexRunFailed("another `kb index` kept the index busy; run `kb index` by hand")


def now_us() -> int:
    return time.time_ns() // 1000


def _us(iso: str) -> int:
    t = dt.datetime.fromisoformat(iso)
    return int(t.timestamp() * 1_000_000)


@dataclass
class Reindexer:
    articles: Path | None
    index: Path
    model: str | None = None
    runner: Runner = subprocess_runner
    published: Callable[[], None] = lambda: None  # told when a generation is seen published (the searcher looks)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _asked: int = 0  # the newest ticket of this process
    _running: bool = False
    _recovered: bool = False

    def request(self) -> int:
        """Ask for a run covering everything saved so far; returns the ticket to poll."""
        ticket = now_us()
        with self._lock:
            self._asked = max(self._asked + 1, ticket)
            ticket = self._asked
            if not self._running:
                self._running = True
                threading.Thread(target=self._loop, name="kb-reindex", daemon=True).start()
        return ticket

    def recover(self) -> int | None:
        """Once per process: a dead run's progress marked failed, and a run asked for (its ticket returned) if an
        article was saved after the served generation started. Deleted files are not noticed: the next save
        or `kb index` removes them."""
        with self._lock:
            if self._recovered:
                return None
            self._recovered = True
        progress = self._read_progress()
        if progress.get("stage") and not progress.get("error") and not _alive(progress.get("pid")):
            self._write_progress({**progress, "stage": "", "error": "the indexing run stopped: its server process "
                                  "ended (a restart, or a crash); it is indexed again now", "at": _now_iso()})
        if self.articles is None or _newest_article_us(self.articles) <= self._served_start_us():
            return None
        return self.request()

    def _served_start_us(self) -> int:
        try:
            manifest = index_format.read_manifest(index_format.current_generation(self.index), verify=False)
        except KBError:
            return 0
        return _us(manifest["started_at"]) if manifest.get("started_at") else 0

    def status(self, ticket: int) -> dict:
        """queued | indexing (stage, done, total) | done (searchable_since) | failed (error)."""
        try:
            manifest = index_format.read_manifest(index_format.current_generation(self.index), verify=False)
        except KBError:
            manifest = {}
        if manifest.get("started_at") and _us(manifest["started_at"]) >= ticket:
            self.published()  # so this process serves it from its next search on, as the answer promises
            return {"state": "done", "searchable_since": manifest.get("built_at"),
                    "generation": index_format.current_token(self.index)}
        progress = self._read_progress()
        if progress.get("error") and progress.get("for", 0) >= ticket:
            return {"state": "failed", "error": progress["error"], "finished": progress.get("at")}
        if progress.get("stage") and progress.get("for", 0) >= ticket:
            return {"state": "indexing", "stage": progress["stage"], "done": progress.get("done", 0),
                    "total": progress.get("total", 0)}
        return {"state": "queued", "stage": "", "done": 0, "total": 0}

    def wait(self, ticket: int, timeout: float = 120.0) -> dict:
        """Block until the ticket's run ends (tests; the web page polls instead)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.status(ticket)
            if found["state"] in ("done", "failed"):
                return found
            time.sleep(0.05)
        return self.status(ticket)

    def _loop(self):
        while True:
            with self._lock:
                target = self._asked
            try:
                self.runner(self.articles, self.index, self.model, lambda *a: self._report(target, *a))
                self.published()
                self._write_progress({"for": target, "stage": "", "at": _now_iso()})
            except Exception as e:  # noqa: BLE001 - reported on the page; the next save tries again
                self._write_progress({"for": target, "error": str(e) or type(e).__name__, "at": _now_iso()})
            with self._lock:
                if self._asked == target:
                    self._running = False
                    return

    def _report(self, target: int, stage: str, done: int, total: int):
        self._write_progress({"for": target, "stage": stage, "done": done, "total": total, "at": _now_iso(),
                              "pid": os.getpid()})

    def _write_progress(self, state: dict):
        path = self.index / PROGRESS_FILE
        tmp = path.with_name(f".{PROGRESS_FILE}.{os.getpid()}.{threading.get_ident()}")
        try:
            tmp.write_text(json.dumps(state))
            os.replace(tmp, path)
        except OSError:
            pass  # progress is a courtesy; the generation's manifest says when a save is searchable

    def _read_progress(self) -> dict:
        try:
            return json.loads((self.index / PROGRESS_FILE).read_text())
        except (OSError, ValueError):
            return {}


def _alive(pid) -> bool:
    """Whether process `pid` still runs (a progress file without one is from an older release: not alive)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _newest_article_us(articles: Path) -> int:
    """The newest modification time of a Markdown file under `articles` (hidden folders skipped), in µs."""
    newest = 0
    for root, dirs, files in os.walk(articles):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith((".md", ".markdown")) and not name.startswith("."):
                try:
                    newest = max(newest, os.stat(os.path.join(root, name)).st_mtime_ns // 1000)
                except OSError:
                    continue
    return newest


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
