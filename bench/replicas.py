"""Fresh queries through replicas on PostgreSQL against one server on SQLite, and the tuned plain recipe.

    python -m bench.replicas [--seconds 20] [--clients 8] [--repeat 3] [--before REF]
    # writes bench/results/replicas.md and its section of bench/results/speed.md

The issue's question: what does the shared database cost per request, and
how close does polykb come to the plain recipe (e5 + FAISS flat under
gunicorn -w 2, one OpenMP thread per worker) when it uses every core? All
rows run in one process of this script, each on a freshly started server
with empty caches, warmed up by a few seconds of load that is not counted
(first requests load jieba, langdetect's profiles, the sections cache), then
measured on its own slice of the all-distinct query pool
(bench/synth.distinct_queries), at the same number of wrk connections:

    sqlite-1     `kb serve` (one process, 4 threads), activity in <index>/activity.sqlite
    pg-1         one replica on PostgreSQL (its own index folder, downloaded from the database)
    pg-2         two replicas on PostgreSQL behind nginx (deploy/nginx.conf, TLS), one process each
    pg-workers-2 one replica, `kb serve --workers 2` (gunicorn, one engine per process)
    recipe       bench/peer_app.py under gunicorn -w 2, OMP_NUM_THREADS=1
    pg-1-before  with --before REF: pg-1 running that commit's code, for a before/after in one run

With --repeat N every row runs N times, in a rotated order each round (so
no row always runs first or last on a machine whose load drifts), and the
table gives each row's median round. CPU per request is the server's
(every process of it: both replicas for pg-2, plus nginx) and, apart,
PostgreSQL's (its backends); both are read from /proc before and after a cell.

PostgreSQL and nginx are Debian's, started as the tests start them
(tests/server_support.py, tests/nginx_support.py; PostgreSQL with
fsync=off, as in the tests: a durable server adds commit latency, which the
request threads wait out, more than CPU). The sample's index is built with
the real model once; its embedding cache is seeded from
KB_TEST_SAMPLE_INDEX's when given, so a rerun embeds nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import synth
from bench.speed import runlog
from bench.speed.groups import index_kb, peer_data
from bench.speed.load import search_lines, wrk_cell
from bench.speed.processes import stop_all
from bench.speed.sampling import tree_cpu_s
from bench.speed.servers import Server, free_port, kb_server, peer_server
from bench.speed.settings import KB, REPO, rel

WORK = REPO / "bench" / ".work" / "replicas"
OUT = REPO / "bench" / "results" / "replicas.md"
SPEED_MD = REPO / "bench" / "results" / "speed.md"
SECRET = "bench-replicas-" + "0" * 32
BEFORE = WORK / "before"  # --before: that commit's tree


class Proxy:
    """nginx in front of replicas, shaped as wrk_cell wants a server (its CPU is nginx's alone)."""

    def __init__(self, nginx):
        self.nginx, self.name = nginx, "pg-2-nginx"
        self.base = f"https://localhost:{nginx.https_port}"

    @property
    def pid(self) -> int:
        return self.nginx.proc.pid


def sample_index() -> Path:
    index = WORK / "index"
    if not (index / "CURRENT").exists():
        seed = os.environ.get("KB_TEST_SAMPLE_INDEX")
        if seed and (Path(seed) / "embeddings.sqlite").exists():
            index.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(seed) / "embeddings.sqlite", index / "embeddings.sqlite")
        index_kb("replicas: the sample's index, real model", REPO / "articles", index)
    return index


def database(postgres, index: Path) -> str:
    """A new database with the schema and the sample's generation published, as `kb index` would."""
    from kb.index import format as index_format, replication
    from kb.storage import Database, migrate

    url = postgres.url(postgres.create())
    db = Database(url)
    try:
        migrate.upgrade(db)
        replication.publish(db, index_format.current_generation(index))
    finally:
        db.close()
    return url


def replica(name: str, url: str, workers: int = 1, tree: Path | None = None) -> Server:
    """`kb serve` on PostgreSQL; `tree` runs another checkout's code (the --before row) with this venv."""
    port = free_port()
    env = dict(os.environ, KB_RATELIMIT_ENABLED="false", KB_DATABASE_URL=url, KB_SECRET_KEY=SECRET,
               KB_REPLICA_NAME=name, KB_PROXY_FIX="1")
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    argv = [KB, "serve", "--index", rel(WORK / name), "--articles", "/nonexistent", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--threads", "4"]
    return Server(name, argv, env, port, "/api/openapi.json", [("KB_DATABASE_URL", "postgresql://<bench>")])


ROWS = ("sqlite-1", "pg-1", "pg-2", "pg-workers-2", "recipe", "pg-1-before")
LABELS = {"sqlite-1": "sqlite-1: kb serve, SQLite", "pg-1": "pg-1: one replica, PostgreSQL",
          "pg-2": "pg-2: two replicas behind nginx (TLS), PostgreSQL",
          "pg-workers-2": "pg-workers-2: one replica, --workers 2, PostgreSQL",
          "recipe": "recipe: e5 + FAISS flat, gunicorn -w 2, OMP_NUM_THREADS=1",
          "pg-1-before": "pg-1 before: one replica, PostgreSQL, the --before commit's code"}
WARM_SECONDS = 5
WARM_QUERIES = 500  # warm-up queries, the same for every cell; never measured
MIN_CELL_QUERIES = 2500  # a cell must not run out of new queries: 20 s at 100 req/s is 2,000


@dataclass
class Row:
    """One measured cell of one row, with the CPU it took per request."""

    name: str
    cell: object
    server_cpu_ms: float
    db_cpu_ms: float | None
    load: str


def postmaster_pid(folder: Path) -> int:
    return int((folder / "data" / "postmaster.pid").read_text().split()[0])


def measure(args) -> list[list[Row]]:
    """Rounds of rows (each round in a rotated order); servers are started afresh for every cell."""
    from bench.speed.settings import WORK as SPEED_WORK
    from tests.server_support import Postgres, postgres_bin

    (SPEED_WORK / "logs").mkdir(parents=True, exist_ok=True)  # bench.speed's processes log there
    index = sample_index()
    peer_data(index)
    names = [r for r in ROWS if r in args.rows and (r != "pg-1-before" or args.before)]
    pool = synth.distinct_queries()
    warm = pool[:WARM_QUERIES]
    per_round = (len(pool) - WARM_QUERIES) // args.repeat
    if per_round < MIN_CELL_QUERIES:
        raise SystemExit(f"--repeat {args.repeat}: {per_round} queries per round, fewer than a cell may need "
                         f"({MIN_CELL_QUERIES}); use fewer rounds")
    folder = Path(tempfile.mkdtemp(prefix="polykb-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    postgres = Postgres(postgres_bin(), folder, free_port())
    postgres.start()
    rounds = []
    try:
        url = database(postgres, index)
        pg_pid = postmaster_pid(folder)
        for n in range(args.repeat):
            order = names[n % len(names):] + names[:n % len(names)]
            measured = pool[WARM_QUERIES + n * per_round:WARM_QUERIES + (n + 1) * per_round]
            rounds.append([one_row(name, index, url, warm, measured, pg_pid, args) for name in order])
    finally:
        stop_all()
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return rounds


def one_row(name: str, index: Path, url: str, warm: list, measured: list, pg_pid: int, args) -> Row:
    """One row's cell. Every row of a round asks the same queries, each of them once: the servers are new,
    so nothing is cached, and no row gets easier or longer questions than another."""
    with servers(name, index, url) as (front, processes):
        path = "/search" if name == "recipe" else "/api/search"
        wrk_cell(f"{name} warm-up", front, search_lines(warm, path)[0], args.clients, WARM_SECONDS)
        la = runlog.load(LABELS[name])
        lines, _ = search_lines(measured, path)
        pids = [p.pid for p in processes]
        cpu0, db0 = sum(tree_cpu_s(p) for p in pids), tree_cpu_s(pg_pid)
        cell = wrk_cell(LABELS[name], front, lines, args.clients, args.seconds)
        cpu, db = sum(tree_cpu_s(p) for p in pids) - cpu0, tree_cpu_s(pg_pid) - db0
    if cell.requests > len(lines):
        raise SystemExit(f"{name}: {cell.requests} requests but {len(lines)} distinct queries: repeats were "
                         "answered from the cache; use fewer --repeat rounds or shorter --seconds")
    per = 1000 / max(cell.requests, 1)
    return Row(name, cell, cpu * per, None if name in ("sqlite-1", "recipe") else db * per, la)


@contextlib.contextmanager
def servers(name: str, index: Path, url: str):
    """(what wrk talks to, every process whose CPU is the row's) for one row, stopped afterwards."""
    if name == "sqlite-1":
        with kb_server("sqlite-1", REPO / "articles", index) as srv:
            yield srv, [srv]
    elif name == "pg-1":
        with replica("pg-1", url) as srv:
            yield srv, [srv]
    elif name == "pg-1-before":
        with replica("pg-1-before", url, tree=BEFORE) as srv:
            yield srv, [srv]
    elif name == "pg-workers-2":
        with replica("pg-w2", url, workers=2) as srv:
            yield srv, [srv]
    elif name == "recipe":
        with peer_server("recipe", omp_threads=1) as srv:
            yield srv, [srv]
    else:
        from tests.nginx_support import Nginx

        with replica("pg-a", url) as a, replica("pg-b", url) as b:
            nginx_dir = WORK / "nginx"
            shutil.rmtree(nginx_dir, ignore_errors=True)
            nginx_dir.mkdir(parents=True)
            nginx = Nginx(nginx_dir, [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], free_port(), free_port())
            nginx.start()
            try:
                proxy = Proxy(nginx)
                yield proxy, [a, b, proxy]
            finally:
                nginx.stop()


def median_row(rows: list[Row]) -> Row:
    """The round whose throughput is the median (an odd count picks one; an even one the lower middle)."""
    return sorted(rows, key=lambda r: r.cell.rps)[(len(rows) - 1) // 2]


def table(rounds: list[list[Row]], args) -> str:
    by = {}
    for rnd in rounds:
        for r in rnd:
            by.setdefault(r.name, []).append(r)
    rows = {name: median_row(rs) for name, rs in by.items()}
    base = rows.get("sqlite-1")
    recipe = rows.get("recipe")
    before = f" --before {args.before}" if args.before else ""
    out = [f"`python -m bench.replicas --seconds {args.seconds:g} --clients {args.clients} --repeat {args.repeat}{before}`: "
           f"wrk, {args.clients} connections, {args.seconds:g} s per cell after {WARM_SECONDS} s of warm-up "
           f"({WARM_QUERIES} other queries), each cell on freshly started servers; within a cell every query is new "
           f"to the server, and every row of a round asks the same ones (the all-distinct pool: zh, ru, en, es); "
           f"all in one run; {args.repeat} round(s) in rotated order, each row's median round shown (req/s of every round "
           f"in the last column). Machine: nproc {os.cpu_count()}, {platform.machine()}, Python "
           f"{platform.python_version()}. Server CPU: every process of the row (pg-2: both replicas and nginx); "
           "PostgreSQL CPU: its backends, on the same machine.", "",
           "| row | req/s | p50 ms | p99 ms | errors | server CPU ms/req | PostgreSQL CPU ms/req | × sqlite-1 "
           "| × recipe | load avg before | req/s each round |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for name in ROWS:
        if name not in rows:
            continue
        r, c = rows[name], rows[name].cell
        db = "—" if r.db_cpu_ms is None else f"{r.db_cpu_ms:.1f}"
        vs_base = f"{c.rps / base.cell.rps:.2f}" if base else "—"
        vs_recipe = f"{c.rps / recipe.cell.rps:.2f}" if recipe else "—"
        each = ", ".join(f"{x.cell.rps:.1f}" for x in by[name])
        label = LABELS[name] + (f" ({args.before})" if name == "pg-1-before" else "")
        out.append(f"| {label} | {c.rps:.1f} | {c.p50:.0f} | {c.p99:.0f} | {c.errors} | {r.server_cpu_ms:.1f} "
                   f"| {db} | {vs_base} | {vs_recipe} | {r.load} | {each} |")
    return "\n".join(out + [""] + targets(rows)) + "\n"


def targets(rows: dict[str, Row]) -> list[str]:
    """The issue's two targets, read off the table (median rounds)."""
    out = []
    base, pg, recipe = rows.get("sqlite-1"), rows.get("pg-1"), rows.get("recipe")
    if base and pg:
        ratio = pg.cell.rps / base.cell.rps
        out.append(f"- The shared database: one replica on PostgreSQL serves {ratio:.2f}× what one server on SQLite does "
                   f"({ratio - 1:+.0%}; target: no more than 10% less): **{'met' if ratio >= 0.9 else 'not met'}**. "
                   f"PostgreSQL's own CPU: {pg.db_cpu_ms:.1f} ms per request.")
    if pg and recipe:
        ratio = pg.cell.rps / recipe.cell.rps
        extra = pg.server_cpu_ms + (pg.db_cpu_ms or 0) - recipe.server_cpu_ms
        out.append(f"- polykb (pg-1) against the tuned recipe: {ratio:.2f}× (target ≥ 0.9×): "
                   f"**{'met' if ratio >= 0.9 else 'not met'}**. Per request polykb spends {extra:.1f} ms of CPU more "
                   f"than the recipe ({pg.server_cpu_ms:.1f} + {pg.db_cpu_ms:.1f} in PostgreSQL against "
                   f"{recipe.server_cpu_ms:.1f}), which embeds the same query with the same model.")
    if pg and "pg-1-before" in rows:
        old = rows["pg-1-before"]
        out.append(f"- Before/after: the --before code served {old.cell.rps:.1f} req/s at {old.server_cpu_ms:.1f} ms of "
                   f"server CPU per request; now {pg.cell.rps:.1f} at {pg.server_cpu_ms:.1f} "
                   f"({pg.cell.rps / old.cell.rps:.2f}×).")
    return out


def write(rounds: list[list[Row]], args) -> str:
    """replicas.md, and the same table as the last section of speed.md (bench/speed/report.with_replicas)."""
    from bench.speed.report import with_replicas

    text = table(rounds, args)
    args.out.write_text("# Replicas on PostgreSQL: fresh queries\n\n" + text, encoding="utf-8")
    if SPEED_MD.exists() and args.out == OUT:
        SPEED_MD.write_text(with_replicas(SPEED_MD.read_text(encoding="utf-8")), encoding="utf-8")
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each row's median round is reported")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated subset of {', '.join(ROWS)}")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--before", help="git ref whose code runs the pg-1-before row (checked out beside)")
    args = parser.parse_args()
    args.rows = set(args.rows.split(",")) | ({"pg-1-before"} if args.before else set())
    if args.rows - set(ROWS):
        parser.error(f"unknown rows {sorted(args.rows - set(ROWS))}; expected some of {', '.join(ROWS)}")
    if args.before:
        shutil.rmtree(BEFORE, ignore_errors=True)
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(BEFORE), args.before], check=True)
    try:
        print(write(measure(args), args))
    finally:
        if args.before:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(BEFORE)])


if __name__ == "__main__":
    main()
