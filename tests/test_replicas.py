"""Two replicas behind nginx, sharing nothing but PostgreSQL: load them, publish, kill one, check every write.

Real servers: Debian's PostgreSQL (tests/server_support.py), Debian's nginx
serving deploy/nginx.conf (tests/nginx_support.py) over TLS, and two
`kb serve` processes with index folders of their own: replica A with two
gunicorn workers, replica B in one waitress process. The fake embedder
(tests/fake_kb.py): this is about replication, not meaning; the real model
goes through the same download path in tests/test_replication.py.

One bounded run (module fixture `run`) and the tests that read it:
several clients search, vote, mark articles and log in through nginx;
once each client has made OPS_BEFORE_PUBLISH requests `kb index` publishes
a new generation, both replicas must serve it within 10 s; then replica A
is killed with SIGKILL (every process of it) and the load goes on through
B until each client has made OPS_AFTER_KILL more. Each write carries a
marker of its own, so the database can be asked whether each one that got
a 2xx is there exactly once.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.storage import Database, migrate
from kb.storage.accounts import Accounts
from kb.storage.schema import agent_marks, feedback, searches
from tests.nginx_support import HOST, Nginx, require_nginx, wait_for_port
from tests.server_support import free_port
from tests.support import PASSWORD, ROOT, SMALL_KB, article, login, wait_until, write_tree

pytestmark = pytest.mark.slow  # real servers; a minute of load: not for the edit-test loop

CLIENTS = 6
# Counted in requests, not seconds, so every run puts the same load on each phase whatever the machine's speed:
OPS_BEFORE_PUBLISH = 15  # requests each client has finished when the new generation is published
OPS_AFTER_KILL = 25  # requests each client sends through the surviving replica once the killed one is gone
MAX_OPS = 5000  # per client: only a bound for a run that hangs
SERVE_WITHIN = 10.0
ARTICLE, LANG = "cdn-502", "en"
NEW_WORD = "zebraquartz"  # only the generation published mid-run has it


@dataclass
class Op:
    kind: str  # search, feedback, mark, login
    marker: str
    t0: float
    t1: float = 0.0
    status: int | None = None
    replica: str | None = None
    error: str | None = None
    cross: bool = False  # a mark whose CSRF token came from the other replica's page
    client: int = -1

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


@dataclass
class Run:
    ops: list[Op] = field(default_factory=list)
    kill_at: float = 0.0  # SIGKILL sent to every process of replica A
    dead_at: float = 0.0  # its port refuses connections: until then its kernel still accepted requests
    published_at: float = 0.0
    served_after: dict[str, float] = field(default_factory=dict)
    across: dict[str, tuple] = field(default_factory=dict)  # session made on one replica, used on the other
    url: str = ""
    nginx: Nginx | None = None
    db: Database | None = None


class Client:
    """One visitor or agent: a keep-alive connection (TLS to nginx, plain HTTP to a replica) and a cookie jar."""

    def __init__(self, port: int, context: ssl.SSLContext | None = None):
        self.port, self.context = port, context
        self.conn: http.client.HTTPSConnection | None = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = {"Host": f"{HOST}:{self.port}", "Referer": f"https://{HOST}:{self.port}/", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.conn is None:
            self.conn = (http.client.HTTPSConnection(HOST, self.port, context=self.context, timeout=30) if self.context
                         else http.client.HTTPConnection("127.0.0.1", self.port, timeout=30))
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        for value in resp.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return resp.status, resp.headers, data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def form(self, path: str, fields: dict, **headers):
        body = urllib.parse.urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded", **headers})

    def csrf(self, path: str) -> tuple[str, str | None]:
        status, headers, data = self.request("GET", path)
        assert status == 200, f"GET {path}: {status}"
        token = data.decode().split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        return token, headers.get("X-KB-Replica")


# --- the servers ------------------------------------------------------------------------

def kb_process(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """`kb ARGS` with the fake model, in a process group of its own (so SIGKILL reaches all its workers)."""
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "tests.fake_kb", *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def publish(articles: Path, folder: Path, env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "tests.fake_kb", "index", "--model", "fake", "--articles",
                           str(articles), "--index", str(folder)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def replica_env(url: str, name: str) -> dict:
    """deploy/replica.env (read as systemd and sh read it), with what differs on a test machine replaced."""
    shipped = {}
    for line in (ROOT / "deploy" / "replica.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            shipped[key] = " ".join(shlex.split(value))
    assert {"KB_DATABASE_URL", "KB_SECRET_KEY", "KB_PROXY_FIX", "KB_SESSION_COOKIE_SECURE"} <= set(shipped)
    for key in ("KB_RATELIMIT_STORAGE_URI", "KB_HOST", "KB_PORT", "KB_WORKERS", "KB_THREADS", "KB_INDEX"):
        shipped.pop(key)  # one address for all the load: limits off; the rest are kb serve's options here
    return {**os.environ, **shipped, "KB_DATABASE_URL": url, "KB_SECRET_KEY": "shared-test-secret-" + "0" * 32,
            "KB_TRUSTED_HOSTS": json.dumps([HOST, "127.0.0.1"]), "KB_REPLICA_NAME": name, "KB_SYNC_SECONDS": "1",
            "KB_RATELIMIT_ENABLED": "false", "KB_ARTICLES": "/nonexistent", "HF_HUB_OFFLINE": "1"}


def direct_search(port: int, query: str) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", f"/api/search?lang=en&q={urllib.parse.quote(query)}")
        resp = conn.getresponse()
        return [r["id"] for r in json.loads(resp.read())["results"]] if resp.status == 200 else []
    finally:
        conn.close()


def across(ports: dict[str, int], login_on: str, post_to: str) -> tuple[int, str | None]:
    """Sign in on one replica, then mark an article on the other with that session and its CSRF token."""
    client = Client(ports[login_on])
    try:
        token, _ = client.csrf("/auth/login")
        assert client.form("/auth/login", {"username": "agent", "password": PASSWORD, "csrf_token": token})[0] == 302
        token, _ = client.csrf("/agent/")
        client.close()
        client.port = ports[post_to]
        status, headers, _ = client.form("/agent/mark", {"article_id": ARTICLE, "lang": LANG, "mark": "solved",
                                                         "query": f"across {login_on}", "csrf_token": token},
                                         Accept="application/json")
        return status, headers.get("X-KB-Replica")
    finally:
        client.close()


def refused_after(port: int) -> float:
    """When a killed server's port refuses connections: a dying process keeps its listening socket until the
    kernel has torn down its memory, and connections accepted meanwhile die with it."""
    def refused() -> float | None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return None
        except ConnectionRefusedError:
            return time.monotonic()
        except OSError:
            return None

    return wait_until(refused, 30, f"port {port} to refuse connections after SIGKILL", interval=0.005)


def served_new(ports: dict[str, int], result: Run) -> bool:
    """Whether every replica serves the generation published mid-run; notes when each one first did."""
    for replica, port in ports.items():
        if replica not in result.served_after and "new-one" in direct_search(port, NEW_WORD):
            result.served_after[replica] = time.monotonic() - result.published_at
    return len(result.served_after) == len(ports)


def each_client_sent(ops: list[Op], lock, n: int, since: float = 0.0, threads=()) -> bool:
    """Whether every client has finished `n` requests sent after `since` (an error if one stopped early)."""
    stopped = [t.name for t in threads if not t.is_alive()]
    assert not stopped, f"client threads {stopped} stopped before the end of the run"
    with lock:
        sent = Counter(op.client for op in ops if op.t0 > since)
    return all(sent[c] >= n for c in range(CLIENTS))


# --- the load ---------------------------------------------------------------------------

def client_loop(n: int, port: int, context: ssl.SSLContext, stop: threading.Event, ops: list[Op], lock):
    client = Client(port, context)
    try:
        _load(n, client, stop, ops, lock)
    finally:
        client.close()


def _load(n: int, client: Client, stop: threading.Event, ops: list[Op], lock):
    token = token_from = None
    i = 0
    while not stop.is_set() and i < MAX_OPS:
        kind = ("login", "search", "feedback", "mark", "search", "mark", "search", "feedback")[i % 8]
        op = Op(kind, f"m{n}x{i}", time.monotonic(), client=n)
        try:
            if kind == "login":
                token, _ = client.csrf("/auth/login")
                status, headers, _ = client.form("/auth/login", {"username": "agent", "password": PASSWORD,
                                                                 "csrf_token": token})
                if status == 302:  # signed in: the CSRF token of the new session, from whichever replica
                    token, token_from = client.csrf("/agent/")
            elif kind == "search":
                status, headers, _ = client.request("GET", f"/api/search?lang=en&q=gateway+{op.marker}")
            elif kind == "feedback":
                body = json.dumps({"article_id": ARTICLE, "lang": LANG, "helpful": False, "reason": op.marker})
                status, headers, _ = client.request("POST", "/api/feedback", body.encode(),
                                                    {"Content-Type": "application/json"})
            else:
                status, headers, _ = client.form("/agent/mark", {
                    "article_id": ARTICLE, "lang": LANG, "mark": "not_relevant", "query": op.marker,
                    "csrf_token": token}, Accept="application/json")
            op.status, op.replica = status, headers.get("X-KB-Replica")
            op.cross = kind == "mark" and token_from is not None and op.replica != token_from
        except (OSError, http.client.HTTPException, AssertionError) as e:  # AssertionError: a page without a token
            op.error = f"{type(e).__name__}: {e}"
        op.t1 = time.monotonic()
        with lock:
            ops.append(op)
        i += 1


@pytest.fixture(scope="module")
def run(postgres, tmp_path_factory):
    require_nginx()
    folder = tmp_path_factory.mktemp("replicas")
    name = postgres.create()
    url = postgres.url(name)
    db = Database(url)
    ports = {"kb-a": free_port(), "kb-b": free_port()}
    nginx = Nginx(folder, [f"127.0.0.1:{p}" for p in ports.values()], free_port(), free_port())
    result = Run(url=url, nginx=nginx, db=db)
    procs = {}
    stop, lock = threading.Event(), threading.Lock()
    try:
        migrate.upgrade(db)  # `kb db upgrade`
        Accounts(db).add_user("agent", PASSWORD, "agent")
        Accounts(db).add_user("writer", PASSWORD, "writer")
        articles = write_tree(folder / "articles", SMALL_KB)
        indexer_env = {**os.environ, "KB_DATABASE_URL": url}
        publish(articles, folder / "indexer", indexer_env)
        procs["kb-a"] = kb_process(["serve", "--model", "fake", "--index", str(folder / "a"), "--port",
                                    str(ports["kb-a"]), "--workers", "2", "--threads", "4"],
                                   replica_env(url, "kb-a"), folder / "a.log")
        procs["kb-b"] = kb_process(["serve", "--model", "fake", "--index", str(folder / "b"), "--port",
                                    str(ports["kb-b"]), "--threads", "8"], replica_env(url, "kb-b"), folder / "b.log")
        for replica, proc in procs.items():
            wait_for_port(ports[replica], replica, proc=proc)
        nginx.start()
        result.across = {f"{a}->{b}": across(ports, a, b) for a, b in (("kb-a", "kb-b"), ("kb-b", "kb-a"))}
        context = ssl.create_default_context(cafile=str(nginx.cert))
        threads = [threading.Thread(target=client_loop, args=(n, nginx.https_port, context, stop, result.ops, lock))
                   for n in range(CLIENTS)]
        for t in threads:
            t.start()
        wait_until(lambda: each_client_sent(result.ops, lock, OPS_BEFORE_PUBLISH, threads=threads), 120,
                   f"{OPS_BEFORE_PUBLISH} requests from each client before the publish")
        write_tree(articles, {"new.en.md": article("new-one", "en", f"The {NEW_WORD} article", f"About {NEW_WORD}.")})
        publish(articles, folder / "indexer", indexer_env)
        result.published_at = time.monotonic()
        try:
            wait_until(lambda: served_new(ports, result), 30, "both replicas to serve the new generation", 0.1)
        except AssertionError:
            pass  # the test that reads served_after says which replica did not
        os.killpg(procs["kb-a"].pid, signal.SIGKILL)
        result.kill_at = time.monotonic()
        result.dead_at = refused_after(ports["kb-a"])
        wait_until(lambda: each_client_sent(result.ops, lock, OPS_AFTER_KILL, result.dead_at, threads), 120,
                   f"{OPS_AFTER_KILL} requests from each client through the surviving replica")
        stop.set()
        for t in threads:
            t.join(60)
        yield result
    finally:
        stop.set()  # the clients stop too when the run failed half way
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        nginx.stop()
        db.close()
        postgres.drop(name)


def rows_with(db: Database, column, marker: str) -> int:
    with db.read() as c:
        return c.execute(select(func.count()).where(column == marker)).scalar()


def test_new_generation_published_mid_run_is_served_by_both_replicas_within_10_s(run):
    assert set(run.served_after) == {"kb-a", "kb-b"}, run.served_after
    assert max(run.served_after.values()) <= SERVE_WITHIN, run.served_after


def test_errors_only_for_requests_in_flight_to_the_killed_replica_and_nginx_fails_over(run, capsys):
    failed = [op for op in run.ops if not op.ok]
    for op in failed:  # sent while replica A was dying: after it was killed, before its port refused connections
        assert op.t0 <= run.dead_at and op.t1 >= run.kill_at, op
        assert op.status in (None, 502, 504) and op.kind in ("feedback", "mark", "login"), op
    assert len(failed) <= CLIENTS, failed  # at most one request per client was in flight
    after = [op for op in run.ops if op.t0 > run.dead_at]
    assert after and all(op.ok and op.replica == "kb-b" for op in after), [op for op in after if not op.ok][:5]
    by: dict = {}
    for op in run.ops:
        key = f"{op.kind}/{op.replica or '-'}/{'ok' if op.ok else 'error'}"
        by[key] = by.get(key, 0) + 1
    with capsys.disabled():  # the numbers the deployment notes quote
        print(f"\nreplica kill: {len(failed)} of {len(run.ops)} requests failed, all in flight to the killed replica "
              f"(it took {run.dead_at - run.kill_at:.3f} s to die) "
              f"{[(op.kind, op.status, round(op.t1 - op.t0, 3)) for op in failed]}; new generation served after "
              f"{ {k: round(v, 2) for k, v in run.served_after.items()} } s; {dict(sorted(by.items()))}")


def test_every_write_that_got_a_2xx_is_in_postgresql_exactly_once(run):
    columns = {"search": searches.c.query, "feedback": feedback.c.reason, "mark": agent_marks.c.query}
    writes = [op for op in run.ops if op.kind in columns]
    for op in writes:
        text = f"gateway {op.marker}" if op.kind == "search" else op.marker
        found = rows_with(run.db, columns[op.kind], text)
        if op.ok:
            assert found == 1, (op, found)
        else:
            assert found <= 1, (op, found)  # a write in flight may or may not have been committed; never twice
    kinds = {op.kind for op in writes if op.ok}
    assert kinds == {"search", "feedback", "mark"}


def test_sessions_and_csrf_tokens_work_on_every_replica(run):
    assert run.across == {"kb-a->kb-b": (200, "kb-b"), "kb-b->kb-a": (200, "kb-a")}
    logins = [op for op in run.ops if op.kind == "login" and op.t1 < run.kill_at]
    assert logins and all(op.ok for op in logins)
    crossed = [op for op in run.ops if op.kind == "mark" and op.cross and op.t1 < run.kill_at]
    assert all(op.status == 200 for op in crossed)  # under load too: a token from one replica, used on the other


def test_the_writers_report_shows_the_activity_of_both_replicas(run):
    context = ssl.create_default_context(cafile=str(run.nginx.cert))
    writer = Client(run.nginx.https_port, context)
    token, _ = writer.csrf("/auth/login")
    assert writer.form("/auth/login", {"username": "writer", "password": PASSWORD, "csrf_token": token})[0] == 302
    status, _, data = writer.request("GET", "/writers/feedback.csv")
    writer.close()
    assert status == 200
    row = next(r for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))) if r["id"] == ARTICLE and r["lang"] == LANG)
    reasons = set(row["reasons"].split(" | "))
    voted = {op.replica: op.marker for op in run.ops if op.kind == "feedback" and op.ok}
    assert {"kb-a", "kb-b"} <= set(voted)
    assert all(marker in reasons for marker in voted.values())
    with run.db.read() as c:
        assert int(row["votes"]) == c.execute(select(func.count()).select_from(feedback)).scalar()


def test_backup_and_restore_into_a_new_database_and_a_replica_serves_the_same_reports(run, postgres, tmp_path,
                                                                                     fake_default_model):
    """deploy/pg-backup.sh, then deploy/pg-restore.sh into a new database: a replica started on it downloads the
    same generation and its writers see the same report as on the original."""
    from web import create_app

    dump = tmp_path / "polykb.dump"
    subprocess.run([str(ROOT / "deploy" / "pg-backup.sh"), str(dump)], env={**os.environ, "KB_DATABASE_URL": run.url},
                   check=True, capture_output=True)
    restored = postgres.create()
    try:
        subprocess.run([str(ROOT / "deploy" / "pg-restore.sh"), str(dump), postgres.url(restored)], check=True,
                       capture_output=True)
        seen = []
        for url, folder in ((run.url, "original"), (postgres.url(restored), "restored")):
            app = create_app({"TESTING": True, "INDEX": str(tmp_path / folder), "DATABASE_URL": url,
                              "SECRET_KEY": "s", "RATELIMIT_ENABLED": False})
            try:
                client = app.test_client()
                assert login(client, "writer").status_code == 302
                seen.append((app.extensions["polykb"]["searcher"].generation().name,
                             client.get("/writers/feedback.csv").data, client.get("/writers/gaps").status_code))
            finally:
                app.extensions["polykb"]["follower"].stop()
                app.extensions["polykb"]["db"].close()
        assert seen[0] == seen[1] and seen[0][1].count(b"\n") > 1
    finally:
        postgres.drop(restored)


def test_nginx_terminates_tls_with_hsts_redirects_http_and_answers_no_other_host(run):
    context = ssl.create_default_context(cafile=str(run.nginx.cert))
    client = Client(run.nginx.https_port, context)
    try:
        status, headers, _ = client.request("GET", "/en/")
        assert status == 200 and "max-age=63072000" in headers["Strict-Transport-Security"]
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):  # 444: closed without an answer
            client.request("GET", "/en/", headers={"Host": "evil.example"})
    finally:
        client.close()
    plain = http.client.HTTPConnection("127.0.0.1", run.nginx.http_port, timeout=10)
    try:
        plain.request("GET", "/en/search?q=x", headers={"Host": HOST})
        resp = plain.getresponse()
        assert resp.status == 301 and resp.getheader("Location") == f"https://{HOST}/en/search?q=x"
    finally:
        plain.close()
