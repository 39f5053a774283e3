"""`kb index`, `kb lint`, `kb hash`: the articles folder into an index, checked first."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.options import articles_option, index_option, model_option, reports_errors


@click.command()
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
    if not quiet:  # each warning where it is (file:line), not only their count in the summary
        for p in summary.warnings:
            click.echo(str(p), err=True)
    if progress_json:
        click.echo(json.dumps({"stage": "done", "generation": summary.generation, "changed": summary.articles_changed,
                               "seconds": round(summary.seconds, 2)}))
    elif not quiet:
        for line in summary.lines():
            click.echo(line)


@click.command()
@articles_option
@click.option("--strict", is_flag=True, help="Exit non-zero on warnings too.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per problem.")
@reports_errors
def lint(articles_dir, strict, as_json):
    """Check articles without indexing: front matter, duplicates, links, owners."""
    from kb import settings
    from kb.articles.limits import Limits
    from kb.articles.lint import lint_folder

    result = lint_folder(articles_dir, Limits.of(settings.current()))
    for p in result.problems:
        if as_json:
            click.echo(json.dumps({"path": p.path, "line": p.line, "severity": p.severity, "message": p.message,
                                   "code": p.code, "facts": p.facts}, ensure_ascii=False))
        else:
            click.echo(str(p))
    n_err = len(result.errors)
    n_warn = len(result.problems) - n_err
    click.echo(f"{len(result.articles)} articles, {n_err} errors, {n_warn} warnings", err=True)
    if n_err or (strict and n_warn):
        sys.exit(1)


@click.command(name="hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@reports_errors
def hash_cmd(files):
    """Print the content hash of source articles, for a translation's `source_hash`."""
    from kb.articles.model import decode, parse

    for f in files:
        article, _ = parse(decode(f.read_bytes(), f), f)
        click.echo(f"{article.content_hash}  {f}")
