"""Published index generations kept in the shared database, for replicas that share no disk.

`kb index` publishes each generation's files here (kb.index.replication); every
replica downloads the newest one to its own disk. A generation is inserted
in one transaction, its row and all its file parts together, so a replica
never sees half of one. Files are split into parts of PART_BYTES: one
PostgreSQL value holds at most 1 GB, and a part is what one query moves.
The checksums are the manifest's (sha256 and size of every file), checked
by the replica after the download, before it serves anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, func, insert, select

from kb.errors import KBError
from kb.storage.database import Database, now
from kb.storage.schema import generation_files, generations

PART_BYTES = 4 << 20


@dataclass(frozen=True)
class Published:
    name: str  # gen-000007: the folder name every replica gives it
    number: int
    published: str
    manifest: dict


class Generations:
    """The generations table and their files' parts."""

    def __init__(self, db: Database):
        self.db = db

    def next_number(self, at_least: int = 1) -> int:
        with self.db.read() as c:
            top = c.execute(select(func.max(generations.c.number))).scalar() or 0
        return max(top + 1, at_least)

    def publish(self, number: int, manifest: dict, folder: Path) -> Published:
        """Insert generation `number` with every file its manifest lists, read from `folder`, in one transaction."""
        name = f"gen-{number:06d}"
        stamp = now()
        with self.db.write() as c:
            if c.execute(select(generations.c.number).where(generations.c.number == number)).first():
                raise KBError(f"generation {name} is already published in {self.db.name}: another `kb index` "
                              "published at the same time; run `kb index` again")
            c.execute(insert(generations).values(name=name, number=number, published=stamp,
                                                 embedder=manifest["embedder"],
                                                 manifest=json.dumps(manifest, sort_keys=True)))
            for file_name in manifest["files"]:
                with open(folder / file_name, "rb") as f:
                    for part, data in enumerate(iter(lambda: f.read(PART_BYTES), b"")):
                        c.execute(insert(generation_files).values(generation=name, file=file_name, part=part,
                                                                  data=data))
        return Published(name, number, stamp, manifest)

    def latest(self) -> Published | None:
        """The newest published generation: the one every replica serves."""
        with self.db.read() as c:
            row = c.execute(select(generations.c.name, generations.c.number, generations.c.published,
                                   generations.c.manifest)
                            .order_by(generations.c.number.desc()).limit(1)).first()
        return None if row is None else Published(row[0], row[1], row[2], json.loads(row[3]))

    def latest_number(self) -> int | None:
        """What a replica polls: one index lookup."""
        with self.db.read() as c:
            return c.execute(select(func.max(generations.c.number))).scalar()

    def names(self) -> list[str]:
        with self.db.read() as c:
            return list(c.execute(select(generations.c.name).order_by(generations.c.number)).scalars())

    def download(self, name: str, file_name: str, out: BinaryIO) -> int:
        """Write one file of a generation to `out`, part by part; returns the bytes written (0: it is gone)."""
        written = 0
        with self.db.read() as c:
            parts = list(c.execute(select(generation_files.c.part)
                                   .where(generation_files.c.generation == name, generation_files.c.file == file_name)
                                   .order_by(generation_files.c.part)).scalars())
            for part in parts:
                data = c.execute(select(generation_files.c.data).where(
                    generation_files.c.generation == name, generation_files.c.file == file_name,
                    generation_files.c.part == part)).scalar()
                if data is None:  # collected meanwhile: the caller's checksum check fails and it tries the newest
                    break
                out.write(data)
                written += len(data)
        return written

    def collect_garbage(self, keep: int) -> list[str]:
        """Delete all but the `keep` newest generations; returns the names deleted."""
        with self.db.write() as c:
            old = list(c.execute(select(generations.c.name).order_by(generations.c.number.desc())
                                 .offset(max(keep, 1))).scalars())
            if old:
                c.execute(delete(generation_files).where(generation_files.c.generation.in_(old)))
                c.execute(delete(generations).where(generations.c.name.in_(old)))
        return old
