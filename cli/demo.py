"""`kb simulate-traffic`: months of simulated searches for a demo's charts, never on a real site's log."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import database, first_index_option, index_option, model_option, reports_errors, searcher_for


@click.command(name="simulate-traffic")
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

    from demo import traffic as simulate
    from kb.storage.activity import Activity
    from kb.storage.contact import ContactStore
    from kb.storage.insights import Insights

    Path(index_dir).mkdir(parents=True, exist_ok=True)
    db = database(index_dir)
    if if_empty and Insights(db).has_searches():
        click.echo("the activity log already has searches: left as it is", err=True)
        return
    searcher = searcher_for(index_dir, model, articles_dir)
    sim = simulate.Simulation(searcher, Activity(db), ContactStore(db), simulate.load_questions(*question_files),
                              simulate.load_questions(*ticket_files), seed)
    counts = sim.run(days, dt.datetime.now(dt.timezone.utc).date())
    click.echo("simulated " + ", ".join(f"{v} {k}" for k, v in counts.items()) + f" over {days} days", err=True)
