"""Fresh queries through replicas on PostgreSQL against one server on SQLite, and the tuned plain recipe.

    python -m bench.replicas [--seconds 20] [--clients 8]    # writes bench/results/replicas.md

The issue's question: what does the shared database cost per request, and
how close does polykb come to the plain recipe (e5 + FAISS flat under
gunicorn -w 2, one OpenMP thread per worker) when it uses every core? All
rows run in one process of this script, one after the other, each on a
freshly started server with empty caches and its own slice of the
all-distinct query pool (bench/synth.distinct_queries), at the same number
of wrk connections:

    sqlite-1     `kb serve` (one process, 4 threads), activity in <index>/activity.sqlite
    pg-1         one replica on PostgreSQL (its own index folder, downloaded from the database)
    pg-2         two replicas on PostgreSQL behind nginx (deploy/nginx.conf, TLS), one process each
    pg-workers-2 one replica, `kb serve --workers 2` (gunicorn, one engine per process)
    recipe       bench/peer_app.py under gunicorn -w 2, OMP_NUM_THREADS=1

PostgreSQL and nginx are Debian's, started as the tests start them
(tests/server_support.py, tests/nginx_support.py). The sample's index is
built with the real model once; its embedding cache is seeded from
KB_TEST_SAMPLE_INDEX's when given, so a rerun embeds nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
from pathlib import Path

from bench import synth
from bench.speed import runlog
from bench.speed.groups import index_kb, peer_data
from bench.speed.load import search_lines, slices, wrk_cell
from bench.speed.processes import stop_all
from bench.speed.servers import Server, free_port, kb_server, peer_server
from bench.speed.settings import KB, REPO, rel

WORK = REPO / "bench" / ".work" / "replicas"
OUT = REPO / "bench" / "results" / "replicas.md"
SECRET = "bench-replicas-" + "0" * 32


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
    from kb import index_format, replication
    from kb.storage import Database, migrate

    url = postgres.url(postgres.create())
    db = Database(url)
    try:
        migrate.upgrade(db)
        replication.publish(db, index_format.current_generation(index))
    finally:
        db.close()
    return url


def replica(name: str, url: str, workers: int = 1) -> Server:
    port = free_port()
    env = dict(os.environ, KB_RATELIMIT_ENABLED="false", KB_DATABASE_URL=url, KB_SECRET_KEY=SECRET,
               KB_REPLICA_NAME=name, KB_PROXY_FIX="1")
    argv = [KB, "serve", "--index", rel(WORK / name), "--articles", "/nonexistent", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--threads", "4"]
    return Server(name, argv, env, port, "/api/openapi.json", [("KB_DATABASE_URL", "postgresql://<bench>")])


def measure(args) -> list[tuple[str, object, str]]:
    from bench.speed.settings import WORK as SPEED_WORK
    from tests.nginx_support import Nginx
    from tests.server_support import Postgres, postgres_bin

    (SPEED_WORK / "logs").mkdir(parents=True, exist_ok=True)  # bench.speed's processes log there

    index = sample_index()
    peer_data(index)
    pool = synth.distinct_queries()
    parts = iter(slices(pool, 5))
    folder = Path(tempfile.mkdtemp(prefix="polykb-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    postgres = Postgres(postgres_bin(), folder, free_port())
    postgres.start()
    rows = []
    try:
        url = database(postgres, index)

        def cell(label, server, path="/api/search"):
            la = runlog.load(label)
            lines, _ = search_lines(next(parts), path)
            rows.append((label, wrk_cell(label, server, lines, args.clients, args.seconds), la))

        with kb_server("sqlite-1", REPO / "articles", index) as srv:
            cell("sqlite-1: kb serve, SQLite", srv)
        with replica("pg-1", url) as srv:
            cell("pg-1: one replica, PostgreSQL", srv)
        with replica("pg-a", url) as a, replica("pg-b", url) as b:
            nginx_dir = WORK / "nginx"
            shutil.rmtree(nginx_dir, ignore_errors=True)
            nginx_dir.mkdir(parents=True)
            nginx = Nginx(nginx_dir, [f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], free_port(), free_port())
            nginx.start()
            try:
                cell("pg-2: two replicas behind nginx (TLS), PostgreSQL", Proxy(nginx))
            finally:
                nginx.stop()
        with replica("pg-w2", url, workers=2) as srv:
            cell("pg-workers-2: one replica, --workers 2, PostgreSQL", srv)
        with peer_server("recipe", omp_threads=1) as srv:
            cell("recipe: e5 + FAISS flat, gunicorn -w 2, OMP_NUM_THREADS=1", srv, "/search")
    finally:
        stop_all()
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def write(rows, args) -> str:
    base = next(c.rps for label, c, _ in rows if label.startswith("sqlite-1"))
    recipe = next(c.rps for label, c, _ in rows if label.startswith("recipe"))
    out = ["# Replicas on PostgreSQL: fresh queries", "",
           f"`python -m bench.replicas --seconds {args.seconds:g} --clients {args.clients}`: wrk, {args.clients} "
           f"connections, {args.seconds:g} s per row, every query distinct (a disjoint slice of the pool per row), "
           f"each row on freshly started servers, all rows in one run. Machine: nproc {os.cpu_count()}, "
           f"{platform.machine()}, Python {platform.python_version()}. The load average before each row is "
           "given: on a busy machine the ratios, not the absolute rates, are what compares.", "",
           "| row | req/s | p50 ms | p99 ms | errors | × sqlite-1 | × recipe | load avg before |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for label, c, la in rows:
        out.append(f"| {label} | {c.rps:.1f} | {c.p50:.0f} | {c.p99:.0f} | {c.errors} | {c.rps / base:.2f} | "
                   f"{c.rps / recipe:.2f} | {la} |")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    text = write(measure(args), args)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
