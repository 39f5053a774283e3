"""The `kb` command: thin click commands, each calling one plain function.

Core errors (KBError) become one clear line and exit code 1 here, and only
here. `indexer` and `web` are imported inside the commands that need them.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from .errors import KBError

DEFAULT_ARTICLES = "articles"
DEFAULT_INDEX = ".kb-index"

articles_option = click.option("--articles", "articles_dir", type=click.Path(path_type=Path), envvar="KB_ARTICLES",
                               default=DEFAULT_ARTICLES, show_default=True, help="Folder of Markdown articles (env KB_ARTICLES).")
first_index_option = click.option(
    "--articles", "articles_dir", type=click.Path(path_type=Path), default=None,
    help="Articles folder to index first when the index folder has no index yet (default: none, no indexing).")
index_option = click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="KB_INDEX",
                            default=DEFAULT_INDEX, show_default=True, help="Index folder (env KB_INDEX).")
model_option = click.option("--model", default=None, envvar="KB_MODEL",
                            help="Embedding model: 'e5' (default, bundled) or 'st:<name-or-path>' (sentence-transformers).")
mode_option = click.option("--mode", type=click.Choice(["hybrid", "dense", "keyword"]), default="hybrid", show_default=True)


def reports_errors(f):
    """Turn KBError into a one-line message and exit code 1 (no traceback)."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except KBError as e:
            raise click.ClickException(str(e)) from None

    return wrapper


@click.group()
@click.version_option(package_name="polykb")
def cli():
    """polykb: a multilingual knowledge base with hybrid semantic search."""


@cli.command()
@articles_option
@index_option
@model_option
@click.option("--strict", is_flag=True, help="Refuse to index if any file has an error or warning (for writers' CI).")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--progress-json", is_flag=True, help="Print progress as JSON lines on stdout (for the web editor).")
@reports_errors
def index(articles_dir, index_dir, model, strict, quiet, progress_json):
    """Index the articles folder (incremental, atomic)."""
    from indexer.job import run

    def report(stage, done, total):
        click.echo(json.dumps({"stage": stage, "done": done, "total": total}))

    summary = run(articles_dir, index_dir, model=model, strict=strict, progress=False if progress_json else None,
                  report=report if progress_json else None)
    for p in summary.skipped:
        click.echo(str(p), err=True)
    if progress_json:
        click.echo(json.dumps({"stage": "done", "generation": summary.generation, "changed": summary.articles_changed,
                               "seconds": round(summary.seconds, 2)}))
    elif not quiet:
        for line in summary.lines():
            click.echo(line)


@cli.command()
@articles_option
@click.option("--strict", is_flag=True, help="Exit non-zero on warnings too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per problem.")
@reports_errors
def lint(articles_dir, strict, as_json):
    """Check articles without indexing: front matter, duplicates, links, owners."""
    from indexer.job import scan

    result = scan(articles_dir)
    for p in result.problems:
        if as_json:
            click.echo(json.dumps({"path": p.path, "line": p.line, "severity": p.severity, "message": p.message,
                                   "code": p.code}, ensure_ascii=False))
        else:
            click.echo(str(p))
    n_err = len(result.errors)
    n_warn = len(result.problems) - n_err
    click.echo(f"{len(result.articles)} articles, {n_err} errors, {n_warn} warnings", err=True)
    if n_err or (strict and n_warn):
        sys.exit(1)


@cli.command(name="hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@reports_errors
def hash_cmd(files):
    """Print the content hash of source articles, for a translation's `source_hash`."""
    from .articles import decode, parse

    for f in files:
        article, _ = parse(decode(f.read_bytes(), f), f)
        click.echo(f"{article.content_hash}  {f}")


def ensure_index(articles_dir, index_dir, model):
    """Index the articles first when the index folder has none yet (a first run)."""
    from . import index_format

    if index_format.current_token(index_dir) is None and articles_dir and Path(articles_dir).is_dir():
        from indexer.job import run

        click.echo(f"no index in {index_dir} yet: indexing {articles_dir} first", err=True)
        run(articles_dir, index_dir, model=model)


def _searcher(index_dir, model, articles_dir=None):
    from .search import Searcher

    ensure_index(articles_dir, index_dir, model)
    return Searcher(index_dir, model=model, min_answer_score=min_answer_score_setting())


def min_answer_score_setting() -> float | None:
    from .answerability import parse_threshold

    return parse_threshold(os.environ.get("KB_MIN_ANSWER_SCORE"), "KB_MIN_ANSWER_SCORE")


@cli.command()
@click.argument("query", required=False)
@first_index_option
@index_option
@model_option
@click.option("--lang", default=None, help="Only results in this language.")
@click.option("--ui-lang", default=None, help="The reader's language: preferred for results and detection.")
@click.option("--k", default=10, show_default=True, type=int, help="Number of results.")
@click.option("--product", default=None, help="Only articles of this product.")
@click.option("--tag", "tags", multiple=True, help="Only articles with this tag (repeatable).")
@click.option("--internal", is_flag=True, help="Include internal articles (agents only).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--queries", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Batch: a queries.jsonl file; prints one JSON line per query.")
@mode_option
@reports_errors
def search(query, articles_dir, index_dir, model, lang, ui_lang, k, product, tags, internal, as_json, queries, mode):
    """Search the index: `kb search "ошибка 502"` (indexes --articles first if there is no index yet)."""
    if bool(query) == bool(queries):
        raise click.UsageError("give either a QUERY or --queries FILE")
    searcher = _searcher(index_dir, model, articles_dir)
    opts = dict(lang=lang, ui_lang=ui_lang, k=k, product=product, tags=list(tags),
                audience="internal" if internal else "public", mode=mode)
    if queries:
        from .evaluation import read_queries

        qs = read_queries(queries)
        for start in range(0, len(qs), 64):
            batch = qs[start:start + 64]
            for q, resp in zip(batch, searcher.search_many([q.text for q in batch], **opts)):
                click.echo(json.dumps({"id": q.id, "answered": resp.answered,
                                       "results": [r.to_json() for r in resp.results]}, ensure_ascii=False))
        return
    resp = searcher.search(query, **opts)
    if as_json:
        click.echo(json.dumps({"query": resp.query, "detected_lang": resp.detected.lang, "lang": resp.lang,
                               "total": resp.total, "answered": resp.answered,
                               "results": [r.to_json() for r in resp.results]}, ensure_ascii=False, indent=2))
        return
    click.echo(f"language: {resp.detected.lang} ({resp.detected.reason}); showing {resp.lang or 'any'}; {resp.total} articles")
    if not resp.answered:
        click.echo("no answer: nothing found is likely to answer this; the closest articles follow")
    for i, r in enumerate(resp.results, 1):
        flags = " ".join(f for f in ("[internal]" if r.visibility == "internal" else "",
                                     f"[{r.lang} only: not in {resp.lang}]" if r.fallback else "") if f)
        where = f" › {r.section}" if r.section else ""
        click.echo(f"{i:2}. {r.title}{where}  ({r.id}#{r.anchor} {r.lang}, {r.score:.3f}) {flags}".rstrip())
        click.echo("    " + _terminal_snippet(r.snippet))


def _terminal_snippet(snippet_html: str) -> str:
    import html

    bold = sys.stdout.isatty()
    s = snippet_html.replace("<mark>", "\033[1m" if bold else "[").replace("</mark>", "\033[0m" if bold else "]")
    return html.unescape(s)


@cli.command(name="eval")
@click.option("--queries", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="query_id<TAB>article_id<TAB>relevance; default: the queries' own \"relevant\" lists.")
@first_index_option
@index_option
@model_option
@click.option("--internal", is_flag=True, help="Search internal articles too.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--mode", "modes", type=click.Choice(["hybrid", "dense", "keyword"]), multiple=True,
              help="Modes to evaluate (repeatable); default all three.")
@reports_errors
def eval_cmd(queries, qrels, articles_dir, index_dir, model, internal, as_json, modes):
    """Score retrieval: nDCG@10, Recall@10, MRR@10, overall and per language."""
    from .evaluation import answer_rates, evaluate, inline_qrels, read_qrels, read_queries

    qs = read_queries(queries)
    rels = read_qrels(qrels) if qrels else inline_qrels(qs)
    if not rels:
        raise KBError(f"{queries}: no relevance judgements; pass --qrels or add \"relevant\": [ids] to the lines")
    searcher = _searcher(index_dir, model, articles_dir)
    table, answered = {}, {}
    for mode in modes or ("keyword", "dense", "hybrid"):
        run, answered[mode] = {}, {}
        for start in range(0, len(qs), 64):
            batch = qs[start:start + 64]
            resps = searcher.search_many([q.text for q in batch], k=10, mode=mode,
                                         audience="internal" if internal else "public")
            for q, resp in zip(batch, resps):
                run[q.id] = [r.id for r in resp.results]
                answered[mode][q.id] = resp.answered
        table[mode] = evaluate(run, qs, rels)
    rates = {mode: answer_rates(a, qs, rels) for mode, a in answered.items()}
    if as_json:
        click.echo(json.dumps({"retrieval": table, "answered": rates}, indent=2, sort_keys=True))
        return
    click.echo(f"{'mode':8} {'lang':5} {'queries':>7} {'nDCG@10':>8} {'R@10':>6} {'MRR@10':>7}")
    for mode, by_lang in table.items():
        for lang, s in by_lang.items():
            click.echo(f"{mode:8} {lang:5} {s['queries']:7d} {s['ndcg@10']:8.3f} {s['recall@10']:6.3f} {s['mrr@10']:7.3f}")
    click.echo("\nanswered or not (queries with judgements should be answered; queries without, and "
               "\"kind\": \"offdomain\", refused; threshold: KB_MIN_ANSWER_SCORE)")
    click.echo(f"{'mode':8} {'kind':13} {'queries':>7} {'rate':>6}")
    for mode, by_kind in rates.items():
        for kind, r in by_kind.items():
            rate = "-" if r["rate"] is None else f"{r['rate']:.3f}"
            click.echo(f"{mode:8} {kind:13} {r['queries']:7d} {rate:>6} {r['measures']}")


@cli.command()
@click.argument("name", type=click.Choice(["stale", "translations", "missing", "feedback", "unused", "duplicates",
                                           "gaps", "links", "priority"]))
@first_index_option
@index_option
@model_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--owner", default=None, help="Only rows of this owner.")
@click.option("--lang", default=None, help="Only rows in this language.")
@click.option("--product", default=None, help="Only rows of this product.")
@click.option("--days", default=90, show_default=True, help="Usage window in days (feedback, unused, gaps, priority).")
@reports_errors
def report(name, articles_dir, index_dir, model, fmt, owner, lang, product, days):
    """Content-health reports for writers (reads the index and the activity log; no server needed)."""
    from . import reports
    from .storage.activity import Activity

    searcher = _searcher(index_dir, model, articles_dir)
    ctx = reports.Context(store=searcher.store, activity=Activity(_database(index_dir)),
                          window_days=days, embedder=searcher.embedder, searcher=searcher)
    click.echo(reports.render(reports.run(name, ctx, owner=owner, lang=lang, product=product), fmt))


@cli.command(name="simulate-traffic")
@first_index_option
@index_option
@model_option
@click.option("--questions", "question_files", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON lines {text, lang, relevant?} customers ask (repeatable).")
@click.option("--tickets", "ticket_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON lines {text, lang, relevant?} agents paste (repeatable).")
@click.option("--days", default=120, show_default=True, type=click.IntRange(1, 730), help="How far back traffic goes.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the activity log already has searches.")
@click.option("--seed", default=20261130, show_default=True, help="Random seed: the same seed, the same history.")
@reports_errors
def simulate_traffic(articles_dir, index_dir, model, question_files, ticket_files, days, if_empty, seed):
    """Fill the activity log with months of simulated traffic (a demo's charts; never on a real site's log)."""
    import datetime as dt

    from . import simulate
    from .storage.activity import Activity
    from .storage.contact import ContactStore
    from .storage.insights import Insights

    Path(index_dir).mkdir(parents=True, exist_ok=True)
    db = _database(index_dir)
    if if_empty and Insights(db).has_searches():
        click.echo("the activity log already has searches: left as it is", err=True)
        return
    searcher = _searcher(index_dir, model, articles_dir)
    sim = simulate.Simulation(searcher, Activity(db), ContactStore(db), simulate.load_questions(*question_files),
                              simulate.load_questions(*ticket_files), seed)
    counts = sim.run(days, dt.datetime.now(dt.timezone.utc).date())
    click.echo("simulated " + ", ".join(f"{v} {k}" for k, v in counts.items()) + f" over {days} days", err=True)


def _database(index_dir):
    """The shared database: $KB_DATABASE_URL, else the SQLite file in the index folder."""
    from .storage import database_url, open_database

    return open_database(database_url(index_dir))


def main():  # pragma: no cover - python -m kb.cli
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cli()


if __name__ == "__main__":  # pragma: no cover - `python -m kb.cli` runs a second copy of this module, which
    import kb.cli  # the command modules below would import again half-made: run the package's own instead

    kb.cli.main()
else:  # the command groups kept in their own modules; they import the options above
    from .cli_accounts import audit, purge, token, user
    from .cli_db import db
    from .cli_serve import serve

    for _command in (db, serve, user, token, audit, purge):
        cli.add_command(_command)
