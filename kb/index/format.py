"""The index folder on disk, and how a new index is published atomically.

    <index>/CURRENT              name of the generation being served, e.g. "gen-000007"
    <index>/gen-000007/          one immutable generation:
        kb.sqlite                articles, chunks, vectors, keyword index, lint problems
        public.faiss, all.faiss  vectors of public chunks / of all chunks
        manifest.json            format, versions, embedder, build time, file sizes and hashes
    <index>/embeddings.sqlite    embedding cache shared by every generation
    <index>/activity.sqlite      searches, views, feedback, users (kb.storage; survives re-indexing)
    <index>/build-*/             a build in progress; removed by the next run if it died

A build writes a whole new generation beside the served one, fsyncs it, and
then replaces CURRENT with os.replace: readers see the old index or the new
one, never a mix, and a crash or Ctrl-C at any point leaves CURRENT as it was.
Public callers search `public.faiss`, which holds no internal chunk at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

from kb import __version__
from kb.errors import IndexCorruptError, IndexMissingError, KBError

# 2: kb.sqlite holds the keyword vocabulary (`vocab`, `vocab_keys`) for typo correction
# 3: and a keyword index with its vocabulary over public chunks only (`public_` tables), for public scores
FORMAT_VERSION = 3
KEEP_GENERATIONS = 3  # the served one and two before it, for readers that have not switched yet
FILES = ("kb.sqlite", "public.faiss", "all.faiss")


def current_generation(index_dir: Path) -> Path:
    """The folder of the generation being served; IndexMissingError if there is none."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        raise IndexMissingError(f"no index in {index_dir}: build one with `kb index --index {index_dir}`") from None
    gen = index_dir / name
    if not name.startswith("gen-") or not gen.is_dir():
        raise IndexCorruptError(f"{index_dir}/CURRENT names {name!r}, which does not exist; re-index with `kb index`")
    return gen


def current_token(index_dir: Path) -> str | None:
    """A cheap value that changes whenever a new generation is published."""
    try:
        return (Path(index_dir) / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(gen: Path, embedder: str, dim: int, stats: dict, started: dt.datetime | None = None,
                   calibration: dict | None = None):
    """`started`: when the build read the articles folder; a file saved after it may not be in this generation.
    `calibration`: what the knowledge base measured on its own questions (kb.search.calibration), kept in the
    manifest so that it is checked, replicated and swapped with the generation it was measured on."""
    manifest = {
        "format": FORMAT_VERSION,
        "polykb": __version__,
        "embedder": embedder,
        "dim": dim,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "started_at": (started or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="microseconds"),
        "stats": stats,
        "files": {name: {"size": (gen / name).stat().st_size, "sha256": _sha256(gen / name)} for name in FILES},
    }
    if calibration is not None:
        manifest["calibration"] = calibration
    (gen / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False))
    return manifest


def read_manifest(gen: Path, verify: bool = True) -> dict:
    """The manifest of a generation; with `verify`, every file is checked against it."""
    hint = "re-index with `kb index` (the articles are untouched)"
    try:
        manifest = json.loads((gen / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError) as e:
        raise IndexCorruptError(f"index manifest {gen / 'manifest.json'} is missing or unreadable ({e}); {hint}") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorruptError(f"index in {gen} has format {manifest.get('format')}, this polykb reads {FORMAT_VERSION}; {hint}")
    if verify:
        for name, want in manifest["files"].items():
            path = gen / name
            if not path.exists():
                raise IndexCorruptError(f"index file {path} is missing; {hint}")
            if path.stat().st_size != want["size"]:
                raise IndexCorruptError(f"index file {path} is {path.stat().st_size} bytes, manifest says {want['size']} (truncated?); {hint}")
            if _sha256(path) != want["sha256"]:
                raise IndexCorruptError(f"index file {path} does not match its checksum (corrupted); {hint}")
    return manifest


def _fsync_dir(path: Path):
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path):
    for p in path.iterdir():
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(path)


@contextlib.contextmanager
def build_lock(index_dir: Path):
    """Only one indexer at a time per index folder; a second one is refused, not queued."""
    with try_lock(index_dir, ".lock", 0o644) as held:
        if not held:
            raise KBError(f"another `kb index` is running on {index_dir}; wait for it to finish")
        yield


@contextlib.contextmanager
def try_lock(index_dir: Path, name: str, mode: int):
    """An exclusive lock on `index_dir/name` if no other process holds it (True), else False at once; released
    when the block ends or the process dies."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(index_dir / name), os.O_RDWR | os.O_CREAT, mode)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def new_build_dir(index_dir: Path) -> Path:
    """A fresh folder for a build; leftovers of killed builds are removed first (we hold the lock)."""
    for old in index_dir.glob("build-*"):
        shutil.rmtree(old, ignore_errors=True)
    path = index_dir / f"build-{os.getpid()}"
    path.mkdir()
    return path


def generation_number(name: str | None) -> int:
    """7 for "gen-000007"; 0 for anything else (no generation yet)."""
    return int(name[4:]) if name and name.startswith("gen-") and name[4:].isdigit() else 0


def local_numbers(index_dir: Path) -> list[int]:
    return [generation_number(p.name) for p in Path(index_dir).glob("gen-*") if p.name[4:].isdigit()]


def publish(index_dir: Path, build: Path, number: int | None = None) -> Path:
    """Turn a finished build into the served generation, atomically.

    `number` is the shared database's next generation number when `kb index`
    publishes to replicas (kb/index/replication.py), so every machine names it alike.
    """
    fsync_tree(build)
    gen = index_dir / f"gen-{number or max(local_numbers(index_dir), default=0) + 1:06d}"
    if gen.exists():  # a generation of that number from an older database: the new one wins
        shutil.rmtree(gen)
    os.rename(build, gen)
    switch(index_dir, gen)
    return gen


def switch(index_dir: Path, gen: Path, keep: int = KEEP_GENERATIONS):
    """Serve `gen` from now on (one atomic rename of CURRENT), then drop all but the newest `keep` generations."""
    tmp = index_dir / f"CURRENT.tmp-{os.getpid()}"
    tmp.write_text(gen.name + "\n")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    _collect_garbage(index_dir, gen, keep)


def _collect_garbage(index_dir: Path, served: Path, keep: int = KEEP_GENERATIONS):
    gens = sorted((p for p in index_dir.glob("gen-*") if p.name[4:].isdigit()), key=lambda p: int(p.name[4:]))
    for old in gens[:-max(keep, 1)]:
        if old != served:
            shutil.rmtree(old, ignore_errors=True)
