"""The typed results record: what one run measured, passed from the measurement to the report writer.

The record is also the run's JSON file (bench/.work/speed/results.json), so
`--render-only` can rewrite the report without measuring again. Fields of a
group that has not run yet are None or empty: a run that fails half-way still
saves what it measured.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

# Of results.json: 1 measured changes patched in at run time, 2 the committed code as a nested dict,
# 3 this record.
FORMAT = 3


@dataclass
class Cell:
    """One wrk cell: `clients` connections for a fixed time against one server.

    Latencies are in ms; `rss` is the server's peak in MB; `new` is the share
    of requests whose cache key the server had not seen before (set by the
    group, which knows what earlier cells sent); `mix` names the request mix
    where one group runs several (the process-model variants).
    """

    clients: int
    rps: float
    requests: int
    errors: int
    p50: float
    p95: float
    p99: float
    max: float
    rss: float
    lines: int
    cpu_ms: float
    group: str = ""
    new: float = 0.0
    wrapped: bool = False
    mix: str = ""


@dataclass
class Mixes:
    """The cells of the two request mixes, each measured on a freshly started server."""

    distinct: list[Cell]
    mix: list[Cell]


@dataclass
class PeerCells:
    """The plain recipe with OpenMP's defaults and with one OpenMP thread per worker."""

    defaults: list[Cell]
    omp1: list[Cell]


@dataclass
class Variant:
    """polykb's code under another process model (no code changed)."""

    label: str
    kb: str
    cells: list[Cell]


@dataclass
class EmbedSetting:
    """Queries/s of the bare embedder in one setting (`embedder.configs` explains the fields)."""

    key: str
    label: str
    design: str
    procs: int
    engines: int
    clients: int
    batch: int
    hogs: int
    qps: float
    cpu_ms: float


@dataclass
class IndexRun:
    """One `kb index` process: its summary line, wall time and peak RSS (VmHWM, MB)."""

    chunks: int
    embedded: int
    job_s: float
    articles: int
    wall: float
    peak_mb: float


@dataclass
class StageStats:
    p50: float
    p95: float
    mean: float


@dataclass
class Timings:
    """In-process `Response.timings` per stage (ms); `skipped` searches were of the other cache kind."""

    n: int
    skipped: int
    stages: dict[str, StageStats]


@dataclass
class ReindexRun:
    """One `indexer.job.run` after a one-sentence edit, with its phases timed (s)."""

    seconds: float
    total: float
    embedded: int
    chunks: int
    changed: int
    phases: dict[str, float]
    maxrss_mb: float


@dataclass
class Reindex:
    runs: list[ReindexRun]
    cli: IndexRun


@dataclass
class PassageRate:
    """The real model's passage-embedding rate on a random sample of an index's chunks."""

    n: int
    seconds: float
    rate: float
    tokens: float


@dataclass
class Synthesis:
    """What bench/synth.py wrote for one larger knowledge base."""

    articles: int
    groups: int
    chunks_estimate: int
    seconds: float


@dataclass
class LargeKB:
    """A synthesised knowledge base (10k or 100k chunks); only the 10k one is re-indexed."""

    synth: Synthesis
    index: IndexRun
    embed: PassageRate
    search: Mixes
    timings: Timings
    reindex: Reindex | None = None


@dataclass
class Units:
    """The source units the larger knowledge bases are made of; how many the model embedded in this run."""

    total: int
    embedded_now: int
    seconds: float


@dataclass
class Facts:
    """The machine and the code measured."""

    date: str
    nproc: int
    cpu: str
    mem_gb: float
    kernel: str
    python: str
    packages: str
    wrk: str
    commit: str


@dataclass
class RunLog:
    """(group, command line) run, (group, load average) before each group, and notes: for the report's end."""

    commands: list[tuple[str, str]] = field(default_factory=list)
    loads: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Results:
    """One run. `large` maps "10k" and "100k" to their knowledge bases (absent with --quick or --skip-large);
    `timings` maps a column label of the report's stage table to its timings, in column order."""

    quick: bool
    seconds: float
    format: int = FORMAT
    facts: Facts | None = None
    load_start: str = ""
    pool: int = 0
    mix_size: int = 0
    mix_head: int = 0
    response_cache: int = 0
    embedder: list[EmbedSetting] = field(default_factory=list)
    index_sample: IndexRun | None = None
    sample_tokens: float | None = None
    peer_chunks: int = 0
    sample: Mixes | None = None
    suggest: Mixes | None = None
    peer: PeerCells | None = None
    variants: list[Variant] = field(default_factory=list)
    timings: dict[str, Timings] = field(default_factory=dict)
    units: Units | None = None
    large: dict[str, LargeKB] = field(default_factory=dict)
    minutes: float = 0.0
    log: RunLog = field(default_factory=RunLog)


def save(results: Results, path: Path) -> None:
    path.write_text(json.dumps(dataclasses.asdict(results), indent=1, ensure_ascii=False), encoding="utf-8")


def load(path: Path) -> Results:
    """The record saved by `save`; SystemExit if an older bench/speed.py wrote the file in another shape."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise SystemExit(f"{path} was written by an older bench/speed (format {data.get('format')}, this one "
                         f"reads {FORMAT}); run the benchmark again instead of --render-only")
    return from_json(Results, data)


def from_json(kind, data):
    """Rebuild a value of type `kind` (a dataclass, list, dict, tuple, optional or plain type) from JSON data.

    Driven by the dataclasses' own annotations, so a field added to the
    record needs no loader code.
    """
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if data is None:
        return None
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: from_json(hints[f.name], data[f.name])
                       for f in dataclasses.fields(kind) if f.name in data})
    if origin in (typing.Union, types.UnionType):
        return from_json(next(a for a in args if a is not type(None)), data)
    if origin is list:
        return [from_json(args[0], v) for v in data]
    if origin is tuple:
        return tuple(from_json(a, v) for a, v in zip(args, data))
    if origin is dict:
        return {k: from_json(args[1], v) for k, v in data.items()}
    return kind(data) if kind is float else data
