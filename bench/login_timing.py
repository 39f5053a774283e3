"""Does the time a failed login takes tell whether the account exists? Before and after, in one run.

    python bench/login_timing.py                   # rewrites bench/results/login_timing.md (about a minute)
    python bench/login_timing.py --before 934d255 --logins 50

Each side is one process serving one app over a two-article index it builds
itself (rate limits and account lockout off, werkzeug's default password
hashing: scrypt), timing
POST /auth/login through Flask's test client: `--logins` logins with a wrong
password for an account that exists, then as many for names that do not exist,
interleaved so machine noise hits both alike. "Before" is the code of the
`--before` commit (extracted with `git archive` into a temporary folder and run
from there); "after" is this checkout. The gap is median(existing) − median(unknown):
before the fix an unknown name skipped the password hash, which is the whole cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "login_timing.md"


def measure(index: Path, logins: int) -> dict:
    """In this process: medians (ms) of failed logins for an existing and an unknown account."""
    import re

    from web import create_app

    app = create_app({"TESTING": True, "INDEX": str(index), "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "LOGIN_LOCKOUT_AFTER": 10 ** 9})
    ext = app.extensions["polykb"]
    (ext.get("accounts") or ext["activity"]).add_user("bench-agent", "correct-horse-battery", "agent")
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/auth/login").get_data(as_text=True))[1]

    def one(name: str) -> float:
        start = time.perf_counter()
        r = client.post("/auth/login", data={"username": name, "password": "wrong-password-1", "csrf_token": token})
        elapsed = time.perf_counter() - start
        assert r.status_code == 401, (name, r.status_code)
        return elapsed * 1000

    one("bench-agent"), one("nobody-warmup")  # first calls pay for imports and the dummy hash
    existing, unknown = [], []
    for i in range(logins):
        existing.append(one("bench-agent"))
        unknown.append(one(f"nobody-{i}"))
    return {"existing": statistics.median(existing), "unknown": statistics.median(unknown),
            "existing_p10_p90": _spread(existing), "unknown_p10_p90": _spread(unknown)}


def _spread(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=10)
    return q[0], q[-1]


ARTICLES = {
    "a.en.md": "---\nid: cdn-502\nlang: en\ntitle: 502 from the CDN\nowner: bench\n---\nThe origin refused.\n",
    "b.en.md": "---\nid: reset\nlang: en\ntitle: Reset your password\nowner: bench\n---\nUse the link.\n",
}


def run_side(code: Path, work: Path, logins: int) -> dict:
    """`measure` in a fresh process importing polykb from `code`, over an index that code builds."""
    env = {**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1"}
    articles, index = work / "articles", work / "index"
    articles.mkdir(parents=True)
    for name, text in ARTICLES.items():
        (articles / name).write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "cli", "index", "--articles", str(articles), "--index", str(index), "-q"],
                   env=env, cwd=code, check=True)
    where = subprocess.run([sys.executable, "-c", "import web; print(web.__file__)"], env=env, cwd=code,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(code)), f"{where}: not the code under test ({code})"
    out = subprocess.run([sys.executable, "-c",
                          "import json, sys; sys.path.insert(0, sys.argv[1]); import login_timing as m;"
                          " print(json.dumps(m.measure(__import__('pathlib').Path(sys.argv[2]), int(sys.argv[3]))))",
                          str(Path(__file__).parent), str(index), str(logins)],
                         env=env, cwd=code, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default="934d255", help="commit of the code before the fix")
    ap.add_argument("--logins", type=int, default=50)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before_code = tmp / "before"
        before_code.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(before_code)], input=archive.stdout, check=True)
        rows = {}
        for side, code in (("before", before_code), ("after", ROOT)):
            rows[side] = run_side(code, tmp / f"work-{side}", args.logins)
            print(side, rows[side], flush=True)
    write(args.out, rows, args)


def write(out: Path, rows: dict, args):
    lines = [
        "# Login timing: does a failed login tell whether the account exists?", "",
        f"`python bench/login_timing.py --before {args.before} --logins {args.logins}`, "
        f"{dt.date.today().isoformat()}, one run. Median milliseconds of POST /auth/login with a wrong password "
        "(Flask test client, werkzeug's default scrypt hashing, limits and lockout off); p10–p90 in brackets.", "",
        "| code | existing account | unknown name | gap (existing − unknown) |",
        "|---|---|---|---|",
    ]
    for side, r in rows.items():
        label = f"before ({args.before})" if side == "before" else "after (this checkout)"
        lines.append(f"| {label} | {r['existing']:.1f} ({r['existing_p10_p90'][0]:.1f}–{r['existing_p10_p90'][1]:.1f})"
                     f" | {r['unknown']:.1f} ({r['unknown_p10_p90'][0]:.1f}–{r['unknown_p10_p90'][1]:.1f})"
                     f" | {r['existing'] - r['unknown']:+.1f} |")
    lines += ["", "After the fix an unknown name is checked against a dummy hash made the same way as real ones "
              "(kb/storage/passwords.py), so both cost one scrypt check; the gap left is noise."]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text())


if __name__ == "__main__":
    main()
