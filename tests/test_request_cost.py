"""Bounded cost per request: what reaches the embedder and the keyword side is capped, a stage that overruns its
budget is skipped or cut short and the response says so, and a process computes only so many embeddings at once.

Logic only (fake embedder, fake slow stages): the costs themselves are measured by bench/request_cost.py.
"""

from __future__ import annotations

import random
import threading

import pytest

from kb.search import retrieve as candidates
from kb.search import query_text
from kb.search.budget import Budget
from kb.errors import BusyError, ConfigError
from kb.search.searcher import Searcher
from tests.support import error_of, examples, searcher_of, wait_until

RNG = random.Random(13)
HUGE = {  # what a client may send in one request (the API's limit is 20,000 characters)
    "brackets": "[" * 20_000,
    "cyrillic": "".join(RNG.choice("абвгдежзийклмнопрстуфхцчшщэюя ") for _ in range(20_000)),
    "cjk": "".join(chr(RNG.randint(0x4E00, 0x9FFF)) for _ in range(20_000)),
    "one token": "x" * 20_000,
    "dotted": "a." * 10_000,
    "distinct words": " ".join(f"w{i}z{RNG.randint(0, 10**6)}" for i in range(1_600)),
    "nested markdown": "> " * 2_000 + "- " * 2_000 + "*" * 4_000 + "[](" * 2_000,
    "many lines": "502 error on upload\n" * 900,
    "log dump": "\n".join(f"2026-11-20T01:12:{i % 60:02d}Z ERROR worker-{i} upstream=a{i} code=E{i}"
                          for i in range(250)),
}
# the most any query may make the stages work on
MOST_CHARS = query_text.MAX_PROSE_CHARS + query_text.MAX_MACHINE_CHARS + 2 * query_text.MAX_LINE_CHARS


@pytest.mark.parametrize("name", sorted(HUGE))
def test_the_text_the_stages_work_on_is_bounded(name):
    work = query_text.bounded(HUGE[name])
    assert 0 < len(work) <= MOST_CHARS
    assert max(len(line) for line in work.splitlines()) <= query_text.MAX_LINE_CHARS
    assert len(query_text.prose(work)) <= query_text.MAX_PROSE_CHARS + query_text.MAX_MACHINE_CHARS


def test_bounded_keeps_a_typical_ticket_as_it_is():
    ticket = ("Hello team,\nOur uploads fail with 413 since yesterday.\n\n"
              "2026-11-20T01:12:22Z ERROR upload rejected status=413 size=52MB\nThanks, Alex")
    assert query_text.bounded(ticket) == ticket


def test_pieces_to_embed_stay_within_the_token_budget():
    count = lambda t: len(t.split())  # noqa: E731 - a word a token
    long_prose = "\n".join(" ".join(f"w{i}" for i in range(150)) for _ in range(40))
    pieces = query_text.within_tokens(query_text.embedding_pieces(long_prose), count, 256)
    assert sum(count(p) for p in pieces) <= 256
    assert len(pieces) >= 2  # the whole text leaves room for a piece of it
    short = "how do I reset my password"
    assert query_text.within_tokens([short], count, 256) == [short]


def held(real, release: threading.Event, entered: threading.Event | None = None, asked: list | None = None):
    """A stand-in for a stage that does the real work only once the test sets `release`: it overruns any budget
    for as long as the test needs, on a fast machine or a loaded one (a sleep of a fixed length does not).
    `entered` is set when it starts; `asked` gets its arguments."""

    def stage(*args):
        if asked is not None:
            asked.extend(args[0])
        if entered is not None:
            entered.set()
        release.wait(60)
        return real(*args)

    return stage


@pytest.fixture
def searcher(fake_web_index, fake_default_model):
    return Searcher(fake_web_index)


@pytest.fixture
def embedded(searcher, monkeypatch):
    """Every text the searcher's embedder is asked to embed."""
    seen: list[str] = []
    inner = searcher.embedder.inner
    real = inner.embed_queries
    monkeypatch.setattr(inner, "embed_queries", lambda texts: (seen.extend(texts), real(texts))[1])
    return seen


@pytest.fixture
def keyword_texts(monkeypatch):
    """Every text the keyword side tokenises."""
    seen: list[str] = []
    real = candidates.keyword_tokens
    monkeypatch.setattr(candidates, "keyword_tokens", lambda gen, text, *a: (seen.append(text),
                                                                             real(gen, text, *a))[1])
    return seen


@pytest.mark.parametrize("name", sorted(HUGE))
def test_what_reaches_the_embedder_and_the_keyword_side_is_bounded(searcher, embedded, keyword_texts, name):
    resp = searcher.search(HUGE[name], audience="internal")
    assert resp.query == HUGE[name].strip()  # the response still echoes what was asked
    tokens = sum(searcher.embedder.count_tokens(t) for t in embedded)
    assert 0 < tokens <= searcher.budget.embed_tokens
    assert keyword_texts and all(len(t) <= MOST_CHARS + 40 * query_text.MAX_CODES for t in keyword_texts)


def test_a_slow_embedding_degrades_to_keyword_results(searcher, monkeypatch):
    searcher.budget = Budget(embed_seconds=0.05)
    inner, release, asked = searcher.embedder.inner, threading.Event(), []
    monkeypatch.setattr(inner, "embed_queries", held(inner.embed_queries, release, asked=asked))
    try:
        resp = searcher.search("CDN 502 Bad Gateway")
        assert resp.degraded == ("dense",)
        keyword_only = searcher.search("CDN 502 Bad Gateway", mode="keyword")
        assert [r.id for r in resp.results] == [r.id for r in keyword_only.results]
    finally:
        release.set()
    wait_until(lambda: searcher.embedder.has_queries(asked), 30, "the embedding, finished in the background, "
               "to be in the query cache")
    again = searcher.search("CDN 502 Bad Gateway")
    assert again.degraded == ()  # the degraded answer was not cached


def test_a_slow_keyword_side_degrades_to_dense_results(searcher, monkeypatch):
    searcher.budget = Budget(keyword_seconds=0.05)
    release = threading.Event()
    monkeypatch.setattr(candidates, "keyword_side", held(candidates.keyword_side, release))
    try:
        resp = searcher.search("CDN 502 Bad Gateway")
        assert resp.degraded == ("keyword",)
        dense = searcher.search("CDN 502 Bad Gateway", mode="dense")
        assert [r.id for r in resp.results] == [r.id for r in dense.results]
    finally:
        release.set()


def test_rendering_out_of_time_returns_the_results_rendered_so_far(searcher):
    searcher.budget = Budget(render_seconds=-1)
    resp = searcher.search("CDN 502 Bad Gateway")
    assert resp.degraded == ("render",) and resp.results == () and resp.total > 0


def test_embedding_slots_refuse_rather_than_queue(fake_web_index, fake_default_model, monkeypatch):
    searcher = Searcher(fake_web_index, budget=Budget(slots=1, slot_wait=0.05))
    release, entered = threading.Event(), threading.Event()
    inner = searcher.embedder.inner
    monkeypatch.setattr(inner, "embed_queries", held(inner.embed_queries, release, entered))
    first = threading.Thread(target=searcher.search, args=("first query holds the slot",))
    first.start()
    try:
        assert entered.wait(30), "the first query never started embedding"
        with pytest.raises(BusyError) as e:
            searcher.search("second query finds no slot")
        assert e.value.retry_after >= 1
        assert searcher.search("first query holds the slot", mode="keyword").degraded == ()  # no embedding needed
    finally:
        release.set()
        first.join()


def test_budget_settings_are_checked():
    assert Budget.from_settings({"embed_seconds": 2}).embed_seconds == 2
    with pytest.raises(ConfigError, match="unknown field 'embed_secs'"):
        Budget.from_settings({"embed_secs": 2})
    with pytest.raises(ConfigError, match="slots must be a number"):
        Budget.from_settings({"slots": "many"})


# --- through the web app ------------------------------------------------------------------------------

@pytest.fixture
def hold_embedder(monkeypatch):
    """hold_embedder(app): the app's embedder waits until the test ends (or sets the event this returns), so every
    search through it overruns its budget."""
    events = []

    def hold(app, entered: threading.Event | None = None) -> threading.Event:
        inner, release = searcher_of(app).embedder.inner, threading.Event()
        monkeypatch.setattr(inner, "embed_queries", held(inner.embed_queries, release, entered))
        events.append(release)
        return release

    yield hold
    for release in events:
        release.set()


def test_api_says_when_a_search_was_degraded(make_app, hold_embedder):
    app = make_app(SEARCH_BUDGET={"embed_seconds": 0.05, "slots": 2})  # the two held searches hold a slot each
    client = app.test_client()
    fine = client.get("/api/search", query_string={"q": "502 bad gateway"}).get_json()
    assert fine["degraded"] is False and fine["degraded_stages"] == []
    hold_embedder(app)
    body = client.get("/api/search", query_string={"q": "origin firewall blocks the edge"}).get_json()
    assert body["degraded"] is True and body["degraded_stages"] == ["dense"]
    assert body["results"]  # keyword results, not an error
    page = client.get("/en/search", query_string={"q": "edge nodes refused by origin"})
    assert page.status_code == 200 and b"degraded-note" in page.data


def test_suggest_says_when_it_was_degraded(make_app, hold_embedder, activity, agent):
    from tests.support import login
    app = make_app(SEARCH_BUDGET={"embed_seconds": 0.05})
    client = app.test_client()
    login(client, agent)
    hold_embedder(app)
    body = client.post("/api/suggest", json={"text": "Hello, uploads fail with 413\nThanks"}).get_json()
    assert body["degraded"] is True and body["degraded_stages"] == ["dense"]


def test_busy_embedding_slots_answer_503_with_retry_after(make_app, hold_embedder):
    app = make_app(SEARCH_BUDGET={"slots": 1, "slot_wait": 0.05})
    entered = threading.Event()
    release = hold_embedder(app, entered)
    first = threading.Thread(target=lambda: app.test_client().get("/api/search", query_string={"q": "first one"}))
    first.start()
    try:
        assert entered.wait(30), "the first search never started embedding"
        r = app.test_client().get("/api/search", query_string={"q": "second one"})
        assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1
        assert "busy" in error_of(r)["message"]
    finally:
        release.set()
        first.join()


def test_a_short_query_is_not_counted_and_whatever_is_judged_to_fit_does_fit():
    """Skipping the tokenizer is safe: `surely_within` never says yes to a text the model counts as longer."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kb.embeddings.e5 import E5Embedder

    count = E5Embedder(engines=1).count_tokens
    calls = []
    spy = lambda t: calls.append(t) or count(t)  # noqa: E731
    assert query_text.within_tokens(["wifi 密码 ошибка 502"], spy, 256) == ["wifi 密码 ошибка 502"]
    assert calls == [""]  # the fixed tokens (role prefix, specials) once; the query itself not at all
    tricky = st.sampled_from(["ﷺ", "ﬁ", "㎏", "①", "…", "İ", "🙂", "\u0301", "\u200b", "a", " ", ".", "密", "ю",
                              "\ufeff", "½", "Ⅻ", "ǆ", "\u3000", "x1"])

    @settings(max_examples=examples(300), deadline=None)
    @given(st.lists(tricky, max_size=120).map("".join), st.sampled_from([16, 64, 256]))
    def fits_when_judged_to(text, budget):
        if query_text.surely_within(text, count, budget):
            assert count(text) <= budget

    fits_when_judged_to()
