"""Report rows as work items: keys and facts, resolve until the fact changes, snooze, assign, my queue."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest

from kb.reports import workitems
from kb.storage.workitems import State
from tests.support import csrf_token
from tests.editing_support import client_as, form_of, wait_index

TODAY = dt.date(2026, 11, 30)
ROW = {"id": "cdn-purge-cache", "lang": "zh", "severity": "substantive",
       "changes": [{"section": "API", "source_only": ["v2"], "translation_only": []}]}


def test_a_resolved_row_stays_away_until_its_fact_changes():
    item, fact = workitems.item_key("translations", ROW), workitems.fact_key("translations", ROW)
    states = {item: State(item, "translations", "cdn-purge-cache", "zh", "resolved", resolved_fact=fact)}
    assert workitems.apply("translations", [ROW], states, TODAY) == ([], 1)
    drifted = dict(ROW, changes=[{"section": "API", "source_only": ["v3"], "translation_only": []}])
    shown, hidden = workitems.apply("translations", [drifted], states, TODAY)
    assert hidden == 0 and shown[0]["work"]["item"] == item and shown[0]["work"]["status"] == "resolved"


@pytest.mark.parametrize("report, row, same, changed", [
    ("feedback", {"id": "a", "lang": "en", "votes": 4, "helpful_share": 0.25, "not_relevant": 0},
     {"votes": 5, "helpful_share": 0.4}, {"votes": 5, "helpful_share": 0.2}),  # a helpful vote vs a negative one
    ("gaps", {"examples": ["pay by crypto", "crypto"], "volume": 3, "unanswered": 3}, {}, {"volume": 4}),
    ("links", {"id": "a", "lang": "en", "problem": "broken-link", "target": "x", "anchor": None, "line": 4}, {},
     {"line": 9}),
])
def test_facts_change_with_new_evidence_only(report, row, same, changed):
    key = workitems.item_key(report, row)
    assert workitems.item_key(report, {**row, **changed}) == key
    assert workitems.fact_key(report, {**row, **same}) == workitems.fact_key(report, row)
    assert workitems.fact_key(report, {**row, **changed}) != workitems.fact_key(report, row)


def test_snoozed_rows_return_on_the_day():
    item = workitems.item_key("stale", ROW)
    states = {item: State(item, "stale", "cdn-purge-cache", "zh", "snoozed", snoozed_until=TODAY + dt.timedelta(1))}
    assert workitems.apply("stale", [ROW], states, TODAY)[1] == 1
    assert workitems.apply("stale", [ROW], states, TODAY + dt.timedelta(1))[1] == 0


def test_my_queue_has_only_my_rows():
    a, b = dict(ROW, id="a"), dict(ROW, id="b")
    ka = workitems.item_key("stale", a)
    states = {ka: State(ka, "stale", "a", "zh", assignee="me")}
    assert [r["id"] for r in workitems.apply("stale", [a, b], states, TODAY, assignee="me")[0]] == ["a"]


def test_priority_rows_share_the_keys_of_the_report_they_come_from(edit_app):
    from kb import reports
    from web.blueprints.writers import _context

    with edit_app.test_request_context():
        ctx = _context()
        prio = {r["item"]: r for r in reports.run("priority", ctx) if r["report"] == "translations"}
        for row in reports.run("translations", ctx):
            if row["severity"] != "cosmetic":
                assert prio[workitems.item_key("translations", row)]["fact"] == workitems.fact_key("translations", row)


# --- on the web -------------------------------------------------------------------------------

def item_form(page: str, article_id: str, lang: str) -> dict:
    for m in re.finditer(r'<form method="post" action="(/writers/items/\w+)" class="w-item-form">(.*?)</form>', page,
                         re.S):
        fields = {k: htmllib.unescape(v) for k, v in re.findall(r'name="(\w+)" value="([^"]*)"', m.group(2))}
        if fields.get("article_id") == article_id and fields.get("lang") == lang:
            return {"url": m.group(1), **fields}
    raise AssertionError(f"no work item form for {article_id} {lang}")


def post_item(client, page, article_id, lang, **data):
    form = item_form(page, article_id, lang)
    url = form.pop("url")
    return client.post(url, data={**form, **data})


def test_resolve_hides_the_row_and_new_drift_brings_it_back(edit_app, writer, kb_copy):
    page = writer.get("/writers/translations").get_data(as_text=True)
    assert 'data-id="cdn-purge-cache" data-lang="zh"' in page
    assert post_item(writer, page, "cdn-purge-cache", "zh", action="resolve").status_code == 302
    page = writer.get("/writers/translations").get_data(as_text=True)
    assert 'data-id="cdn-purge-cache" data-lang="zh"' not in page
    assert 'data-id="cdn-purge-cache" data-lang="zh"' not in writer.get("/writers/").get_data(as_text=True)
    en = form_of(writer, "/writers/edit/cdn-purge-cache/en")  # a new fact in the source: a new drift
    en["body"] = en["body"].replace("within 5 minutes", "within 5 minutes (30 seconds with `--fast`)")
    wait_index(edit_app, writer.post("/writers/edit/cdn-purge-cache/en", data=en))
    page = writer.get("/writers/translations").get_data(as_text=True)
    assert 'data-id="cdn-purge-cache" data-lang="zh"' in page


def test_snooze_assign_and_my_queue(edit_app, writer):
    page = writer.get("/writers/stale").get_data(as_text=True)
    first_id, first_lang = re.search(r'<tr[^>]*data-id="([^"]+)" data-lang="([^"]+)"', page).groups()
    until = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    assert post_item(writer, page, first_id, first_lang, action="snooze", until="2000-01-01").status_code == 400
    post_item(writer, page, first_id, first_lang, action="snooze", until=until)
    assert f'data-id="{first_id}" data-lang="{first_lang}"' not in writer.get("/writers/stale").get_data(as_text=True)
    second = re.findall(r'<tr[^>]*data-id="([^"]+)" data-lang="([^"]+)"', page)[1]
    post_item(writer, page, *second, action="assign_me")
    me = writer.get("/writers/").get_data(as_text=True)
    assert 'id="my-queue"' in me and "/writers/stale?assignee=" in me
    url = re.search(r'href="(/writers/stale\?assignee=[^"]+)"', me).group(1)
    mine = writer.get(htmllib.unescape(url)).get_data(as_text=True)
    assert re.findall(r'<tr[^>]*data-id="([^"]+)" data-lang="([^"]+)"', mine) == [second]
    other = client_as(edit_app, "agent")
    token = csrf_token(other, "/agent/")
    assert post_item(other, page, *second, action="resolve", csrf_token=token).status_code == 403
    assert post_item(writer, page, *second, action="assign", assignee="nobody-here").status_code == 400
