"""Insights for support leads: searches, answers, clicks, votes, agents' marks and deflection over time.

Writers and admins only. `/insights/?start=&end=&bucket=day|week&lang=` draws each metric of
`kb.reports.insights` as a server-side SVG chart (web/presentation/charts.py), with a table of the same
numbers as its text alternative and `/insights/<metric>.csv` as its export; below them, the
top content gaps (failed searches grouped across languages) with the nearest article and
what to do, in the UI language.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _

from kb import reports
from kb.errors import KBError
from kb.text.languages import NAMES
from kb.reports import gaps as gaps_report
from kb.reports import insights
from kb.storage.accounts import EDITORS

from web.presentation import charts
from web.presentation.report_text import action_text
from web.services.resources import get_activity, get_contacts, get_insights, get_searcher
from web.services.security import role_required

bp = Blueprint("insights", __name__, url_prefix="/insights")
DEFAULT_DAYS = 90
PRESETS = ((7, "day"), (30, "day"), (90, "week"), (365, "week"))
TOP_LANGS = 5  # lines besides the total
TOP_GAPS = 10
TOP_LEARNED = 10  # per audience
QUERY_CHARS = 160  # of a logged search shown: agents' are whole pasted tickets


bp.before_request(role_required(EDITORS, lambda: _("This page is for writers.")))


@bp.get("/")
def index():
    period = _period()
    lang = request.args.get("lang") or None
    series = _compute(period)
    cards = [_card(name, series[name], period, lang) for name in insights.METRICS]
    langs = series["searches"].langs()
    gaps = [r for r in _gaps(period) if not lang or lang in r["langs"]][:TOP_GAPS]
    return render_template("insights/index.html", period=period, cards=cards, langs=langs, lang=lang,
                           presets=_presets(period), gaps=gaps, action_text=action_text,
                           args=_args(period, lang), learned=_learned())


@bp.get("/<metric>.csv")
def export(metric):
    if metric not in insights.METRICS:
        abort(404, _("There is no chart called “%(name)s”.", name=metric[:80]))
    period = _period()
    rows = _compute(period)[metric].rows()
    lang = request.args.get("lang")
    if lang:
        rows = [r for r in rows if r["lang"] == lang]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["bucket", "lang", "value", "numerator", "denominator"])
    w.writeheader()
    w.writerows(rows)
    response = Response("\ufeff" + buf.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{metric}-{period.bucket}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- helpers ----------------------------------------------------------------

def _period() -> insights.Period:
    """The period the query string asks for (default: the last 90 days by week); 400 naming a bad value."""
    today = dt.datetime.now(dt.timezone.utc).date()
    end = _date("end", today)
    start = _date("start", end - dt.timedelta(days=DEFAULT_DAYS - 1))
    bucket = request.args.get("bucket") or "week"
    try:
        return insights.Period(start, end, bucket).checked()
    except KBError as e:
        abort(400, str(e))


def _date(name: str, default: dt.date) -> dt.date:
    value = request.args.get(name) or ""
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        abort(400, _("%(name)s must be a date like 2026-11-30, got “%(value)s”.", name=name, value=value[:40]))


def _compute(period: insights.Period) -> dict:
    return insights.compute(get_insights(), get_contacts(), period)


def _args(period: insights.Period, lang: str | None) -> dict:
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), "bucket": period.bucket,
            **({"lang": lang} if lang else {})}


def _presets(period: insights.Period) -> list[dict]:
    today = dt.datetime.now(dt.timezone.utc).date()
    out = []
    for days, bucket in PRESETS:
        start = today - dt.timedelta(days=days - 1)
        out.append({"label": _("Last %(n)d days", n=days), "url": url_for(".index", start=start.isoformat(),
                                                                          end=today.isoformat(), bucket=bucket),
                    "current": (period.start, period.end, period.bucket) == (start, today, bucket)})
    return out


def _card(name: str, s: insights.Series, period: insights.Period, lang: str | None) -> dict:
    title, about = _about()[name]
    langs = [lang] if lang else s.langs()[:TOP_LANGS]
    keys = ([] if lang else [insights.ALL]) + langs
    labels = [_lang_label(k) for k in keys]
    fmt = _percent if s.rate else _count
    x_labels = [format_date(b, "d MMM") for b in s.buckets]  # short: the table and the title say day or week
    partial = frozenset(i for i, b in enumerate(s.buckets) if period.partial(b))
    svg = charts.line_chart(x_labels, [charts.Line(lb, s.values(k)) for lb, k in zip(labels, keys)], fmt,
                            _("%(chart)s, by %(bucket)s", chart=title, bucket=_bucket_word(period.bucket)),
                            y_max=1.0 if s.rate else None, partial=partial)
    table = [{"bucket": _bucket_label(b, period.bucket), "cells": [_cell_text(s, b, k) for k in keys],
              "partial": _("partial: %(n)d of %(total)d days", n=period.days_in(b), total=period.bucket_days)
              if period.partial(b) else ""} for b in s.buckets]
    total = s.total(lang or insights.ALL)
    return {"name": name, "title": title, "about": about, "svg": svg, "keys": keys, "labels": labels,
            "styles": [charts.style(i) for i in range(len(keys))], "table": table,
            "total": _total_text(s, total), "basis": _basis_text(s, total), "partial": bool(partial)}


def _cell_text(s: insights.Series, bucket: dt.date, key: str) -> str:
    c = s.cells.get((bucket, key))
    if c is None or (s.rate and not c.den):
        return "—"
    return f"{_percent(c.num / c.den)} ({_count(c.den)})" if s.rate else _count(c.num)


def _total_text(s: insights.Series, c: insights.Cell) -> str:
    if s.rate:
        return _percent(c.num / c.den) if c.den else "—"
    return _count(c.num)


def _basis_text(s: insights.Series, c: insights.Cell) -> str:
    if not s.rate:
        return ""
    return _("of %(n)s", n=_count(c.den))


def _percent(v: float) -> str:
    return format_percent(v, "#,##0%")


def _count(v: float) -> str:
    return format_decimal(v, "#,##0")


def _bucket_label(day: dt.date, bucket: str) -> str:
    return format_date(day, "MMM d") if bucket == "day" else _("week of %(date)s", date=format_date(day, "MMM d"))


def _bucket_word(bucket: str) -> str:
    return _("day") if bucket == "day" else _("week")


def _lang_label(key: str) -> str:
    return _("All languages") if key == insights.ALL else NAMES.get(key, key)


def _learned() -> list[dict] | None:
    """What the learned ranking (KB_LEARNING) weighs most in its last rebuild, for customers and for agents:
    a logged search, the article it lifts or sinks and how many readers stand behind it (None: learning is
    off). The signals fade with a 30-day half-life, so this is what the loop is changing now."""
    learner = current_app.extensions["polykb"].get("learner")
    if learner is None:
        return None
    gen = get_searcher().generation()
    out = []
    for audience in ("public", "internal"):
        for query, aid, value, readers in learner.strongest(audience, TOP_LEARNED):
            versions = gen.groups.get(aid) or []
            shown = query if len(query) <= QUERY_CHARS else query[:QUERY_CHARS].rstrip() + "…"
            out.append({"query": shown, "id": aid, "title": versions[0].title if versions else aid,
                        "lang": versions[0].lang if versions else None, "lifted": value > 0,
                        "readers": readers, "audience": audience})
    return out


def _gaps(period: insights.Period) -> list[dict]:
    searcher = get_searcher()
    ctx = reports.Context(store=searcher.store, activity=get_activity(), embedder=searcher.embedder,
                          searcher=searcher, today=period.end + dt.timedelta(days=1),
                          window_days=(period.end - period.start).days + 1)
    return gaps_report.gaps(ctx, advised=3 * TOP_GAPS)


def _about() -> dict[str, tuple[str, str]]:
    return {
        "searches": (_("Searches"), _("Searches in the help center and through the API, by the language of the "
                                      "query.")),
        "answered": (_("Answered rate"), _("Share of searches the search could answer; the others got the "
                                           "no-answer page with the closest articles.")),
        "ctr": (_("Click-through"), _("Share of answered help-center searches after which the reader opened a "
                                      "result.")),
        "helpful": (_("Helpful votes"), _("Share of “Yes” answers to “Was this article helpful?”.")),
        "solved": (_("Solved by agents"), _("Share of agents' marks saying a suggested article solved the "
                                            "ticket (the others: not relevant).")),
        "deflection": (_("Deflection"), _("Share of contact-form visits that ended with the customer reading a "
                                          "suggested article instead of sending a request.")),
    }
