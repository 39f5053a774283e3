"""The per-call cost of the activity log's writes and reads, before and after kb.storage, side by side.

Issue 14 wants the non-embedding CPU of a request small; every search writes
one `searches` row and its `shown` rows, every page view a `views` row, and
every API call checks a token. This times those calls on:

- `sqlite3 era`: kb/activity.py as it was before kb.storage (read from git at
  BEFORE, raw sqlite3, one connection per thread);
- `Core execute sqlite`: the same rows through SQLAlchemy Core's `Connection.execute` (what
  kb.storage did first, and still does for everything but these hot calls);
- `kb.storage sqlite`: today's repositories on the default SQLite file (a pooled DBAPI cursor
  with SQL compiled once from schema.py);
- `kb.storage postgresql`: the same on PostgreSQL, when `--postgres URL` is given (`--postgres
  temp` starts a throwaway server as tests/server_support.py does).

Rounds alternate between the implementations so machine load hits them alike;
the table gives the median per-call time over rounds, in microseconds, and the
ratio to the sqlite3 era. Results go to bench/results/storage.md.

    python -m bench.storage [--postgres postgresql://...|temp] [--rounds 15] [--calls 200]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "934d255"  # the last commit with kb/activity.py (raw sqlite3)
RESULTS = ROOT / "bench" / "results" / "storage.md"
SHOWN = [(f"article-{i}", "en", 0.9 - i / 100) for i in range(10)]  # a help-center page of results


def sqlite3_era_module():
    """kb/activity.py at BEFORE, loaded as a module (its one relative import made absolute)."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE}:kb/activity.py"], check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("sqlite3_era_activity")
    exec(compile(source.replace("from .errors import", "from kb.errors import"), "kb/activity.py@" + BEFORE,
                 "exec"), module.__dict__)
    return module


class CoreExecute:
    """The three calls through SQLAlchemy Core's Connection.execute, one statement object per call."""

    def __init__(self, db):
        self.db = db

    def log_search(self, query, lang, ui_lang, audience, route, results, total, answered=True):
        from sqlalchemy import insert

        from kb.storage import now
        from kb.storage.schema import searches, shown

        with self.db.write() as c:
            sid = c.execute(insert(searches), {
                "ts": now(), "query": query, "lang": lang, "ui_lang": ui_lang, "audience": audience, "route": route,
                "results": total, "top_score": results[0][2], "top_id": results[0][0],
                "answered": int(answered)}).inserted_primary_key[0]
            c.execute(insert(shown), [{"search_id": sid, "article_id": a, "lang": la, "rank": i + 1}
                                      for i, (a, la, _) in enumerate(results)])
        return sid

    def log_view(self, article_id, lang, ui_lang, audience):
        from sqlalchemy import insert

        from kb.storage import now
        from kb.storage.schema import views

        with self.db.write() as c:
            c.execute(insert(views), {"ts": now(), "article_id": article_id, "lang": lang, "ui_lang": ui_lang,
                                      "audience": audience})

    def add_token(self, name):
        from kb.storage.accounts import Accounts

        return Accounts(self.db).add_token(name)

    def check_token(self, token):
        from sqlalchemy import select

        from kb.storage.accounts import _token_hash
        from kb.storage.schema import tokens

        with self.db.read() as c:
            return c.execute(select(tokens.c.name).where(tokens.c.token_hash == _token_hash(token),
                                                         tokens.c.revoked.is_(None))).scalar()


def implementations(tmp: Path, postgres: str | None) -> dict:
    """name -> (activity, accounts) objects with the same methods."""
    from kb.storage import open_database, sqlite_url
    from kb.storage.accounts import Accounts
    from kb.storage.activity import Activity

    old = sqlite3_era_module().Activity(tmp / "old.sqlite")
    out = {"sqlite3 era": (old, old)}
    core = CoreExecute(open_database(sqlite_url(tmp / "core.sqlite")))
    out["Core execute sqlite"] = (core, core)
    db = open_database(sqlite_url(tmp / "new.sqlite"))
    out["kb.storage sqlite"] = (Activity(db), Accounts(db))
    if postgres:
        pg = open_database(postgres)
        out["kb.storage postgresql"] = (Activity(pg), Accounts(pg))
    return out


def operations(activity, accounts) -> dict:
    token = accounts.add_token("bench")
    return {
        "log_search (10 shown)": lambda i: activity.log_search(f"query {i}", "en", "en", "public", "help_center",
                                                               SHOWN, 42),
        "log_view": lambda i: activity.log_view(f"article-{i % 50}", "en", "en", "public"),
        "check_token": lambda i: accounts.check_token(token),
    }


def per_call_us(op, calls: int) -> float:
    start = time.perf_counter()
    for i in range(calls):
        op(i)
    return (time.perf_counter() - start) / calls * 1e6


def measure(impls: dict, rounds: int, calls: int) -> dict:
    ops = {name: operations(*objs) for name, objs in impls.items()}
    times: dict = {(name, op): [] for name in impls for op in ops[name]}
    for name in impls:  # warm-up: connections opened, statements compiled
        for op in ops[name].values():
            per_call_us(op, 20)
    for _ in range(rounds):
        for name in impls:
            for op_name, op in ops[name].items():
                times[(name, op_name)].append(per_call_us(op, calls))
    return {key: statistics.median(v) for key, v in times.items()}


def table(medians: dict, impls: list[str], rounds: int, calls: int) -> str:
    ops = list(dict.fromkeys(op for _, op in medians))
    lines = ["| call | " + " | ".join(impls) + " |", "|---|" + "---:|" * len(impls)]
    for op in ops:
        base = medians[(impls[0], op)]
        cells = [f"{medians[(name, op)]:.0f} µs" + ("" if name == impls[0] else f" ({medians[(name, op)] / base:.2f}×)")
                 for name in impls]
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    load = os.getloadavg()[0]
    return (f"Median per-call time over {rounds} rounds of {calls} calls (one thread, {sys.platform}, "
            f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.1f} at the end: a busy "
            "machine inflates Python-heavy paths and PostgreSQL's context switches most); ratio to the sqlite3 "
            "era.\n\n" + "\n".join(lines) + "\n")


@contextlib.contextmanager
def temporary_postgres(spec: str | None):
    """`spec` itself, or for "temp" a throwaway server (Debian's PostgreSQL, as tests/server_support.py starts it)."""
    if spec != "temp":
        yield spec
        return
    from kb.storage import Database, migrate
    from tests.server_support import Postgres, free_port, postgres_bin

    folder = Path(tempfile.mkdtemp(prefix="polykb-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = Postgres(postgres_bin(), folder, free_port())
    server.start()
    try:
        url = server.url(server.create())
        db = Database(url)
        migrate.upgrade(db)
        db.close()
        yield url
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgres", help="a PostgreSQL URL to measure too (its polykb tables get bench rows)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, temporary_postgres(args.postgres) as postgres:
        impls = implementations(Path(tmp), postgres)
        medians = measure(impls, args.rounds, args.calls)
    text = "# Activity log: per-call cost (bench/storage.py)\n\n" + table(medians, list(impls), args.rounds, args.calls)
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
