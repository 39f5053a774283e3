"""Votes through /api/feedback are readers' votes: keyed like the help center's, and counted by learning.

The sample indexed with the fake embedder (tests/conftest.py's index_dir); the
activity database is shared by the session, so the query is this module's own.
"""

from __future__ import annotations

import uuid

from kb.storage.learning import LearningLog
from web.services.learning import reader_origin


def api_reader(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def searched_and_opened(client, query: str) -> tuple[int, str]:
    """(search id, article id): the reader searches through the API and opens the third result from it."""
    found = client.get("/api/search", query_string={"q": query}).get_json()
    sid, target = found["search_id"], found["results"][2]["id"]
    assert client.get(f"/en/article/{target}", query_string={"s": sid, "r": 3}).status_code == 200
    return sid, target


def votes_on(app, query: str) -> list[tuple]:
    with app.app_context():
        db = app.extensions["polykb"]["activity"].db
        return [v for v in LearningLog(db).votes("") if v[0] == query]


def test_a_vote_through_the_api_counts_for_the_search_the_reader_opened_the_article_from(make_app):
    app = make_app()
    query = f"purge the cdn cache {uuid.uuid4().hex[:6]}"
    reader = api_reader(app, "10.3.0.1")
    sid, target = searched_and_opened(reader, query)
    r = reader.post("/api/feedback", json={"article_id": target, "lang": "en", "helpful": True, "search_id": sid})
    assert r.status_code == 201, r.get_data(as_text=True)
    (vote,) = votes_on(app, query)
    assert vote[1:3] == (target, 1) and vote[5]  # the query, the article, helpful, and a reader key


def test_an_api_vote_has_the_reader_key_a_help_center_vote_from_the_same_reader_has(make_app):
    """One reader is one reader whichever door they vote through: votes through both count once
    (kb/learning/events.once_per_reader), not twice."""
    app = make_app()
    query = f"purge the cdn cache {uuid.uuid4().hex[:6]}"
    reader = api_reader(app, "10.3.0.2")
    sid, target = searched_and_opened(reader, query)
    r = reader.post("/api/feedback", json={"article_id": target, "lang": "en", "helpful": True, "search_id": sid})
    assert r.status_code == 201
    with app.app_context():
        activity = app.extensions["polykb"]["activity"]
        with app.test_request_context(environ_base={"REMOTE_ADDR": "10.3.0.2"}):
            web_key = reader_origin()  # what the help center's vote form stores for this reader
        activity.add_feedback(target, "en", True, "", source="help_center", origin=web_key, search_id=sid)
    votes = votes_on(app, query)
    assert len(votes) == 2 and {v[5] for v in votes} == {web_key}


def test_a_search_id_that_is_not_a_search_id_is_refused_with_what_is_wrong(make_app):
    reader = api_reader(make_app(), "10.3.0.3")
    for bad, says in ((0, "search_id must be"), ("12", "search_id must be an integer"), (-5, "search_id must be")):
        r = reader.post("/api/feedback", json={"article_id": "cdn-502-bad-gateway", "lang": "en", "helpful": True,
                                               "search_id": bad})
        assert r.status_code == 400 and says in r.get_data(as_text=True), (bad, r.get_data(as_text=True))
