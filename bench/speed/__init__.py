"""Speed of polykb: indexing, search latency under load, memory; beside the plain recipe.

    python -m bench.speed            # the full run (< 45 min on 2 cores); rewrites bench/results/speed.md
    python -m bench.speed --quick    # sample knowledge base only, short cells, for development

Everything runs on 127.0.0.1 and is bounded in time: servers are `kb serve`
(waitress) and, for the peer, gunicorn; the load comes from `wrk` (Debian's
package) in a separate process, one wrk per cell, with a Lua script that walks
a list of requests. Servers are stopped at the end, also on errors and Ctrl-C
(each runs in its own process group). Work folders go to bench/.work/speed
(gitignored); bench/synth.py explains how the larger knowledge bases are made.

One module per job; the arrow says what else in the package each may import
(settings, and runlog for modules that start processes, go without saying):

    settings    paths and the fixed knobs of a run                      → nothing
    record      the typed results record and its JSON file              → nothing
    runlog      commands run, load averages, notes (for the report)     → record
    sampling    memory and CPU of a process tree, from /proc            → nothing
    processes   run a command measured; stop every process at the end   → sampling
    servers     start `kb serve`, the peer, polykb under gunicorn       → processes, sampling
    load        wrk cells and their request lines                       → servers, processes, sampling, record
    children    the child subcommands (`_embed`, `_timings`, …), each   → processes, sampling
                in its own process, and `run_child` to start one
    embedder    the embedder's own limit (`_embed` children together)   → processes, record
    groups      the measurement groups on one knowledge base            → load, servers, children, processes, record
    large       the synthesised 10k and 100k knowledge bases            → groups, children, record
    measure     every group of a run, in order, filling the record      → groups, large, embedder, children, record
    tables      the report's tables                                     → record
    findings    the targets and what dominates the cost                 → tables, record
    report      the record → bench/results/speed.md (no I/O, no models) → tables, findings, record
    cli         options; measure, or --render-only from results.json    → measure, report, children, record

The report writer only reads the record, so it is tested without servers or
models (tests/test_bench_speed.py).
"""
