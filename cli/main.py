"""The `kb` command: a click group on top of kb, indexer and web; each command group lives in its own module."""

from __future__ import annotations

import os

import click

from cli.accounts import audit, purge, token, user
from cli.articles import hash_cmd, index, lint
from cli.db import db
from cli.demo import simulate_traffic
from cli.importing import import_cmd
from cli.learn import learn
from cli.reports import report
from cli.search import eval_cmd, search
from cli.serve import serve


@click.group()
@click.version_option(package_name="polykb")
def cli():
    """polykb: a multilingual knowledge base with hybrid semantic search."""


for _command in (index, lint, hash_cmd, import_cmd, search, eval_cmd, report, simulate_traffic, serve, db, user, token, audit,
                 purge, learn):
    cli.add_command(_command)


def main():  # pragma: no cover - python -m cli
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cli()
