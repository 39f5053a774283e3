"""`kb search` and `kb eval`: search the index from a terminal, and score it against relevance judgements."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.options import (MODES, first_index_option, index_option, mode_option, model_option, reports_errors,
                         searcher_for)
from kb import settings
from kb.errors import KBError


@click.command()
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
@click.option("--explain", is_flag=True, help="Learn from the activity log first and show how much of each "
              "result's rank came from feedback (whether or not KB_LEARNING is on).")
@click.option("--queries", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Batch: a queries.jsonl file; prints one JSON line per query.")
@mode_option
@reports_errors
def search(query, articles_dir, index_dir, model, lang, ui_lang, k, product, tags, internal, as_json, explain, queries,
           mode):
    """Search the index: `kb search "ошибка 502"` (indexes --articles first if there is no index yet)."""
    if bool(query) == bool(queries):
        raise click.UsageError("give either a QUERY or --queries FILE")
    if explain or settings.current()["LEARNING"]:
        from cli.learn import learned_searcher

        searcher, _ = learned_searcher(index_dir, model, articles_dir)
    else:
        searcher = searcher_for(index_dir, model, articles_dir)
    opts = dict(lang=lang, ui_lang=ui_lang, k=k, product=product, tags=list(tags),
                audience="internal" if internal else "public", mode=mode)
    if queries:
        from kb.search.evaluation import read_queries

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
        if explain:
            click.echo("    " + _feedback(r, i))
        click.echo("    " + _terminal_snippet(r.snippet))


def _feedback(r, rank: int) -> str:
    """How much of the result's place came from feedback (kb/learning): its boost and where it stood before."""
    if r.rank_before is None:
        return "feedback: none (learning had nothing for this query)"
    was = r.rank_before + 1
    moved = "unchanged" if was == rank else f"was #{was}"
    return f"feedback: {r.feedback:+.3f} on a fused score of {r.score:.3f}, rank {rank} ({moved})"


def _terminal_snippet(snippet_html: str) -> str:
    import html

    bold = sys.stdout.isatty()
    s = snippet_html.replace("<mark>", "\033[1m" if bold else "[").replace("</mark>", "\033[0m" if bold else "]")
    return html.unescape(s)


@click.command(name="eval")
@click.option("--queries", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="query_id<TAB>article_id<TAB>relevance; default: the queries' own \"relevant\" lists.")
@first_index_option
@index_option
@model_option
@click.option("--internal", is_flag=True, help="Search internal articles too.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--mode", "modes", type=MODES, multiple=True,
              help="Modes to evaluate (repeatable); default all three.")
@reports_errors
def eval_cmd(queries, qrels, articles_dir, index_dir, model, internal, as_json, modes):
    """Score retrieval: nDCG@10, Recall@10, MRR@10, overall and per language; answered and refused rates, with
    the knowledge base's own calibration and without it (row `uncalibrated`)."""
    from kb.search.evaluation import evaluate_modes, inline_qrels, read_qrels, read_queries

    qs = read_queries(queries)
    rels = read_qrels(qrels) if qrels else inline_qrels(qs)
    if not rels:
        raise KBError(f"{queries}: no relevance judgements; pass --qrels or add \"relevant\": [ids] to the lines")
    searcher = searcher_for(index_dir, model, articles_dir)
    table, rates = evaluate_modes(searcher, qs, rels, modes or MODES.choices,
                                  "internal" if internal else "public")
    cal = searcher.generation().calibration
    if as_json:
        click.echo(json.dumps({"retrieval": table, "answered": rates,
                               "calibration": cal.to_json() if cal else None}, indent=2, sort_keys=True))
        return
    click.echo(f"{'mode':12} {'lang':5} {'queries':>7} {'nDCG@10':>8} {'R@10':>6} {'MRR@10':>7}")
    for mode, by_lang in table.items():
        for lang, s in by_lang.items():
            click.echo(f"{mode:12} {lang:5} {s['queries']:7d} {s['ndcg@10']:8.3f} {s['recall@10']:6.3f} {s['mrr@10']:7.3f}")
    click.echo("\nanswered or not (queries with judgements should be answered; queries without, and "
               "\"kind\": \"offdomain\", refused; threshold: KB_MIN_ANSWER_SCORE, else the knowledge base's own)")
    click.echo(f"{'mode':12} {'kind':13} {'queries':>7} {'rate':>6}")
    for mode, by_kind in rates.items():
        for kind, r in by_kind.items():
            rate = "-" if r["rate"] is None else f"{r['rate']:.3f}"
            click.echo(f"{mode:12} {kind:13} {r['queries']:7d} {rate:>6} {r['measures']}")
    if cal is not None:
        click.echo("")
        for line in cal.lines():
            click.echo(line)
