"""Load generation: one `wrk` process per cell, walking a list of requests in order.

wrk runs in its own process so that the load generator's CPU is not the
server's; its Lua script reads the request lines from a file and prints one
JSON line of counts and latency percentiles (µs) when the cell ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse

from bench.speed import runlog
from bench.speed.processes import track
from bench.speed.record import Cell
from bench.speed.sampling import RssSampler, tree_cpu_s
from bench.speed.servers import Server
from bench.speed.settings import CLIENTS, WORK, rel

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
    from kb.search.query_text import prose

    return ([json.dumps({"text": t["text"], "lang": t["lang"]}, ensure_ascii=False) for t in tickets],
            [prose(t["text"]) for t in tickets])


def slices(pool: list, n: int) -> list[list]:
    """n disjoint equal slices of a pool, so that no cell repeats another's queries."""
    per = len(pool) // n
    return [pool[i * per:(i + 1) * per] for i in range(n)]


def _wrk(group, server: Server, lines: list[str], clients: int, seconds: float, post_path, token) -> dict:
    """Run wrk for one cell; its JSON line (counts, latencies in µs)."""
    reqs = WORK / "wrk" / f"{server.name}-{clients}-{len(runlog.LOG.commands)}.txt"
    reqs.parent.mkdir(parents=True, exist_ok=True)
    reqs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lua = WORK / "wrk" / "requests.lua"
    lua.write_text(LUA)
    env = dict(os.environ, WRK_REQS=str(reqs), WRK_METHOD="POST" if post_path else "GET",
               WRK_PATH=post_path or "", WRK_TOKEN=token or "")
    argv = ["wrk", "-t1", f"-c{clients}", f"-d{int(seconds)}s", "--timeout", "30s", "-s", str(lua), server.base]
    runlog.command(group, argv, [("WRK_REQS", rel(reqs)), ("WRK_METHOD", env["WRK_METHOD"])]
                   + ([("WRK_PATH", post_path), ("WRK_TOKEN", "<token>")] if post_path else []))
    proc = track(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True))
    out, err = proc.communicate(timeout=seconds + 90)
    line = next((ln for ln in out.splitlines() if ln.startswith("JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{out}\n{err}")
    return json.loads(line[5:])


def wrk_cell(group, server: Server, lines: list[str], clients: int, seconds: float, post_path=None,
             token=None) -> Cell:
    """One load cell: `clients` connections for `seconds` seconds over the request lines, in order.

    The server's memory is sampled while wrk runs and its CPU time read
    before and after, so CPU per request includes everything the server did.
    """
    sampler = RssSampler(server.pid)
    sampler.start()
    cpu0 = tree_cpu_s(server.pid)
    try:
        r = _wrk(group, server, lines, clients, seconds, post_path, token)
    finally:
        rss = sampler.finish()
    cpu = tree_cpu_s(server.pid) - cpu0
    secs = r["duration_us"] / 1e6
    errors = r["status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    cell = Cell(clients=clients, rps=r["requests"] / secs, requests=r["requests"], errors=errors,
                p50=r["p50"] / 1000, p95=r["p95"] / 1000, p99=r["p99"] / 1000, max=r["max"] / 1000, rss=rss,
                lines=len(lines), cpu_ms=1000 * cpu / max(r["requests"], 1))
    print(f"   {server.name} c={clients}: {cell.rps:.1f} req/s p50 {cell.p50:.0f} ms p99 {cell.p99:.0f} ms "
          f"errors {errors} rss {rss:.0f} MB, {cell.cpu_ms:.1f} CPU ms/req", flush=True)
    return cell


def run_group(group, server, cells: list[tuple[list[str], list[str]]], seconds, clients=CLIENTS, post_path=None,
              token=None) -> list[Cell]:
    """Cells at each concurrency, each (request lines, cache keys); counts requests whose key is new to the server.

    The cells run one after the other on the same server, so a later cell's
    "new" share discounts what the earlier cells already asked.
    """
    runlog.load(group)
    seen: set[str] = set()
    out = []
    for c, (lines, keys) in zip(clients, cells):
        cell = wrk_cell(group, server, lines, c, seconds, post_path, token)
        done = [keys[i % len(keys)] for i in range(cell.requests)]
        cell.new = len(set(done) - seen) / max(len(done), 1)
        cell.wrapped = cell.requests > len(lines)
        seen.update(done)
        cell.group = group
        out.append(cell)
    return out
