"""KB_LEARNING in the help center: readers' clicks and votes, keyed by reader, move a result after a rebuild.

The sample indexed with the fake embedder (tests/conftest.py's index_dir); the
activity database is shared by the session, so the query is this module's own.
"""

from __future__ import annotations

import re
import uuid

import pytest

from kb.learning import caps
from tests.support import login, new_user
from web.services.learning import relearn

RESULT_LINK = re.compile(r'class="result-title"[^>]*href="(/en/article/([a-z0-9-]+)\?s=(\d+)&amp;r=(\d+)[^"]*)"')


def results(client, query):
    html = client.get("/en/search", query_string={"q": query}).get_data(as_text=True)
    return [(href.replace("&amp;", "&"), aid, sid) for href, aid, sid, _ in RESULT_LINK.findall(html)]


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def read_and_vote(app, address: str, query: str, target: str) -> None:
    """One reader: searches, opens `target` from the results, votes it helpful."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    href, _, sid = next(r for r in results(client, query) if r[1] == target)
    page = client.get(href).get_data(as_text=True)
    assert f'name="s" value="{sid}"' in page  # the vote carries the search it came from
    r = client.post(f"/en/article/{target}/feedback", data={"csrf_token": csrf(page), "helpful": "yes",
                                                           "version": "en", "s": sid})
    assert r.status_code == 303


@pytest.fixture
def query():
    return f"purge the cdn cache {uuid.uuid4().hex[:6]}"


def test_votes_from_enough_readers_lift_a_result_after_the_next_learning_run(make_app, query):
    app = make_app(LEARNING=True)
    client = app.test_client()
    before = [aid for _, aid, _ in results(client, query)]
    assert len(before) > 4, before
    target = before[4]
    for i in range(caps.MIN_ORIGINS + 2):
        read_and_vote(app, f"10.1.0.{i}", query, target)
    assert [aid for _, aid, _ in results(client, query)] == before  # nothing moves until the model is rebuilt
    relearn(app)
    after = [aid for _, aid, _ in results(client, query)]
    assert after.index(target) < before.index(target)


def test_one_address_voting_again_and_again_does_not_reach_the_first_three(make_app, query):
    app = make_app(LEARNING=True)
    client = app.test_client()
    before = [aid for _, aid, _ in results(client, query)]
    target = before[4]
    for _ in range(30):
        read_and_vote(app, "10.2.0.1", query, target)
    relearn(app)
    assert [aid for _, aid, _ in results(client, query)].index(target) >= 3


def test_learning_off_by_default(make_app):
    app = make_app()
    assert "learner" not in app.extensions["polykb"] and app.extensions["polykb"]["searcher"].learner is None


def test_the_insights_page_shows_what_readers_taught_search(make_app, query, activity):
    """Writers see the learned signals of the last run: the search, the article lifted, how many readers."""
    app = make_app(LEARNING=True)
    before = [aid for _, aid, _ in results(app.test_client(), query)]
    target = before[4]
    for i in range(caps.MIN_ORIGINS + 2):
        read_and_vote(app, f"10.3.0.{i}", query, target)
    relearn(app)
    writer = app.test_client()
    login(writer, new_user(activity, "writer"))
    page = writer.get("/insights/").get_data(as_text=True)
    section = page[page.index('class="card i-learned"'):]
    row = next(r for r in section.split("<tr>") if query in r)
    assert f"/writers/article/{target}" in row and "Lifted" in row
    assert re.search(rf'data-label="Readers">{caps.MIN_ORIGINS + 2}<', row)


def test_the_insights_page_says_when_learning_is_off(make_app, activity):
    writer = make_app().test_client()
    login(writer, new_user(activity, "writer"))
    assert "Learning from clicks and votes is off (KB_LEARNING)." in writer.get("/insights/").get_data(as_text=True)
