"""`python -m bench.speed`: measure and write the results file, or rewrite it from the last run's record."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import bench.speed
from bench.speed import record, runlog
from bench.speed.settings import BIN, OUT, WORK, rel

RESULTS_JSON = WORK / "results.json"


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m bench.speed", description=bench.speed.__doc__.split("\n\n")[0],
                                 epilog="Child subcommands (run by the benchmark itself): "
                                        "python -m bench.speed _embed|_passages|_reindex|_timings|_units --help")
    ap.add_argument("--quick", action="store_true", help="sample only, 5-second cells, reuse the sample index")
    ap.add_argument("--skip-large", action="store_true", help="full cells on the sample, no 10k/100k")
    ap.add_argument("--seconds", type=float, default=20, help="length of one load cell")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--render-only", action="store_true", help="rewrite the results file from the last run's data")
    return ap


def check_tools() -> None:
    """The load generator and the peer's server are not Python dependencies of polykb: say how to get them."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk (or `make bench-tools`)")
    if not (BIN / "gunicorn").exists():
        raise SystemExit(f"gunicorn not found in {BIN}: {BIN}/pip install gunicorn")


def run(args) -> record.Results:
    """Measure everything, saving the record even when a group fails (the servers are stopped either way)."""
    from bench.speed.measure import measure
    from bench.speed.processes import stop_all

    os.environ.pop("OMP_NUM_THREADS", None)  # "defaults" below means OpenMP's default: one thread per core
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    t0 = time.monotonic()
    res = record.Results(quick=args.quick, seconds=5 if args.quick else args.seconds, log=runlog.LOG)
    try:
        measure(res, quick=args.quick, skip_large=args.skip_large)
    finally:
        stop_all()
        res.minutes = (time.monotonic() - t0) / 60
        WORK.mkdir(parents=True, exist_ok=True)
        record.save(res, RESULTS_JSON)
    return res


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("_"):
        from bench.speed import children

        return children.main(argv)
    from bench.speed.report import render

    args = parser().parse_args(argv)
    if args.render_only:
        if not RESULTS_JSON.exists():
            raise SystemExit(f"{rel(RESULTS_JSON)} not found: --render-only rewrites the report of an earlier run")
        args.out.write_text(render(record.load(RESULTS_JSON)), encoding="utf-8")
        return
    check_tools()
    res = run(args)
    args.out.write_text(render(res), encoding="utf-8")
    print(f"wrote {rel(args.out)} in {res.minutes:.1f} min")
