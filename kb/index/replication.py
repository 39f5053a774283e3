"""Index generations travel through the shared database: replicas share no disk.

`kb index` builds a generation on its own disk as always, then publishes its
files into the database (kb/storage/generations.py) and deletes all but the
newest KB_KEEP_GENERATIONS there. Each replica polls every KB_SYNC_SECONDS
(one indexed max() query), downloads a newer generation into a folder of
its own index, checks every file against the manifest's sha256 and size,
and only then renames it into place and switches CURRENT, exactly as a
local `kb index` publishes: a search sees the old generation or the new one,
never a part of either. A download that fails (checksum, a generation
collected meanwhile, the database gone) leaves the served one as it was and
is retried at the next poll. Polling rather than LISTEN: it needs no
dedicated connection per process, survives database restarts and failovers
by itself, and costs one query per few seconds per process.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
from pathlib import Path

from kb import settings
from kb.index import format as index_format
from kb.errors import IndexCorruptError, IndexMissingError, KBError
from kb.storage import DEFAULT_FILE, Database, sqlite_url
from kb.storage.generations import Generations, Published

log = logging.getLogger(__name__)

def shares_generations(db: Database, index_dir: Path) -> bool:
    """Generations (and the embedding cache) go through the database unless it is the index folder's own
    SQLite file: one machine's, where the folder itself is what is served."""
    return not db.is_sqlite or db.path is None or db.path.resolve().parent != Path(index_dir).resolve()


def shared_database(index_dir: Path, url: str | None = None) -> Database | None:
    """The database generations are published to, opened; None when it is the folder's own file."""
    from kb.storage import database_url, open_database

    url = database_url(index_dir, url)
    if url == sqlite_url(Path(index_dir) / DEFAULT_FILE):
        return None
    db = open_database(url)
    if shares_generations(db, index_dir):
        return db
    db.close()
    return None


def next_number(db: Database, index_dir: Path) -> int:
    """The number the next generation gets on every machine: above the database's and this folder's."""
    return Generations(db).next_number(max(index_format.local_numbers(index_dir), default=0) + 1)


def publish(db: Database, gen: Path, keep: int | None = None) -> Published:
    """Upload a locally published generation under its own name; then collect the database's old ones."""
    manifest = index_format.read_manifest(gen, verify=True)
    store = Generations(db)
    published = store.publish(index_format.generation_number(gen.name), manifest, gen)
    store.collect_garbage(keep or settings.current()["KEEP_GENERATIONS"])
    return published


def sync(db: Database, index_dir: Path, keep: int | None = None) -> str | None:
    """Serve the database's newest generation: download it if this folder lacks it, then switch.

    Returns the name switched to, or None when there was nothing to do (or
    another process of this replica is syncing right now).
    """
    index_dir = Path(index_dir)
    newest = Generations(db).latest()
    if newest is None or index_format.current_token(index_dir) == newest.name:
        return None
    with _sync_lock(index_dir) as locked:
        if not locked or index_format.current_token(index_dir) == newest.name:
            return None
        gen = index_dir / newest.name
        if not _intact(gen, newest.manifest):
            _download(db, newest, index_dir)
        index_format.switch(index_dir, gen, keep or settings.current()["KEEP_GENERATIONS"])
        log.info("now serving %s from %s", newest.name, db.name)
        return newest.name


def start_replica(db: Database, index_dir: Path) -> Follower:
    """At a replica's start: the newest generation on disk (downloaded if need be), then a Follower for the next."""
    sync(db, index_dir)
    if index_format.current_token(index_dir) is None:
        raise IndexMissingError(f"no index generation is published in {db.name} yet: run `kb index` with "
                                "KB_DATABASE_URL set to this database (on the indexer or in the writers' CI)")
    return Follower(db, index_dir).start()


def _intact(gen: Path, manifest: dict) -> bool:
    try:
        return gen.is_dir() and index_format.read_manifest(gen, verify=True)["files"] == manifest["files"]
    except KBError:
        return False


def _download(db: Database, published: Published, index_dir: Path):
    """Fetch every file into a private folder, verify it, and rename it into place (never half a generation)."""
    if set(published.manifest.get("files", ())) != set(index_format.FILES):  # names become paths on this disk
        raise IndexCorruptError(f"generation {published.name} in {db.name} lists files "
                                f"{sorted(published.manifest.get('files', ()))}, not {list(index_format.FILES)}; "
                                "it was not downloaded: publish a new one with `kb index`")
    tmp = index_dir / f"download-{os.getpid()}-{published.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        store = Generations(db)
        for file_name in published.manifest["files"]:
            with open(tmp / file_name, "wb") as out:
                store.download(published.name, file_name, out)
        (tmp / "manifest.json").write_text(json.dumps(published.manifest, indent=2, sort_keys=True,
                                                      ensure_ascii=False))
        try:
            index_format.read_manifest(tmp, verify=True)
        except IndexCorruptError as e:
            raise IndexCorruptError(f"generation {published.name} downloaded from {db.name} does not match its "
                                    f"checksums ({e}); it was not served, the next poll tries again") from None
        index_format.fsync_tree(tmp)
        gen = index_dir / published.name
        shutil.rmtree(gen, ignore_errors=True)  # a damaged copy of it
        os.rename(tmp, gen)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _sync_lock(index_dir: Path):
    """One download per index folder: a replica's worker processes share its folder; the others skip a round."""
    with index_format.try_lock(index_dir, ".sync.lock", 0o600) as held:
        if held:
            for stale in index_dir.glob("download-*"):  # left by a killed process (we hold the lock)
                shutil.rmtree(stale, ignore_errors=True)
        yield held


class Follower:
    """A daemon thread that keeps a replica's index folder on the database's newest generation."""

    def __init__(self, db: Database, index_dir: Path, seconds: float | None = None):
        self.db, self.index_dir = db, Path(index_dir)
        self.seconds = seconds or settings.current()["SYNC_SECONDS"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-generations", daemon=True)
        self.last_error: str | None = None

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        while not self._stop.wait(self.seconds):
            try:
                number = Generations(self.db).latest_number()
                if number is not None and number != index_format.generation_number(
                        index_format.current_token(self.index_dir)):
                    sync(self.db, self.index_dir)
                self.last_error = None
            except Exception as e:  # the database restarting, a bad download: keep serving, say it, retry
                if str(e) != self.last_error:
                    log.warning("could not sync the index from %s: %s", self.db.name, e)
                self.last_error = str(e)
