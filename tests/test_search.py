"""Search over SMALL_KB: what it finds (`slow`: the real model) and its logic (the fake embedder)."""

import dataclasses

import pytest

from indexer import job
from kb.search import fusion
from kb.errors import ModelMismatchError, QueryError
from kb.search.searcher import Searcher
from kb.index.store import EVERYTHING, ArticleFilter
from tests.support import SMALL_KB, minilm_spec


@pytest.fixture
def searcher(make_tier_index):
    return Searcher(make_tier_index(SMALL_KB)[1])


@pytest.mark.slow
def test_results_are_one_per_article_in_the_readers_language(searcher):
    resp = searcher.search("502 bad gateway origin", ui_lang="zh")
    ids = [r.id for r in resp.results]
    assert ids[0] == "cdn-502" and ids.count("cdn-502") == 1
    top = resp.results[0]
    assert top.lang == "zh" and not top.fallback and top.languages == ("en", "zh")


@pytest.mark.slow
def test_russian_query_finds_a_chinese_only_guide_flagged_as_fallback(searcher):
    resp = searcher.search("как настроить OBS для трансляции, ключ потока")
    assert resp.detected.lang == "ru"
    top = resp.results[0]
    assert (top.id, top.lang, top.fallback) == ("live-obs", "zh", True)


def test_internal_articles_never_reach_public_callers(searcher):
    for mode in ("hybrid", "dense", "keyword"):
        public = searcher.search("nimbus-edgectl trace hkg1", mode=mode, k=20)
        assert all(r.id != "internal-edgectl" and r.visibility == "public" for r in public.results)
        assert "edgectl" not in " ".join(r.snippet + r.title for r in public.results)
    agent = searcher.search("nimbus-edgectl trace hkg1", audience="internal")
    assert agent.results[0].id == "internal-edgectl" and agent.results[0].visibility == "internal"
    assert searcher.versions("internal-edgectl") == [] and searcher.article("internal-edgectl", "en") is None
    assert all(r.id != "internal-edgectl" for r in searcher.related("cdn-502", "en"))


@pytest.mark.slow
def test_result_points_at_the_best_section_with_highlighted_snippet(searcher):
    top = searcher.search("firewall allow edge IP ranges", ui_lang="en").results[0]
    assert top.id == "cdn-502" and top.lang == "en"
    assert top.anchor in ("fix", "causes")
    assert "<mark>" in top.snippet and "firewall" in top.snippet.lower()


def test_filters_by_language_product_and_tag(searcher):
    assert {r.lang for r in searcher.search("502", lang="zh").results} == {"zh"}
    assert {r.product for r in searcher.search("password", product="account").results} == {"account"}
    assert {r.id for r in searcher.search("stream", tags=["obs"]).results} == {"live-obs"}


@pytest.mark.parametrize("kwargs, message", [
    (dict(query="   "), "empty"),
    (dict(query="x" * 20001), "over the limit"),
    (dict(query="ok", k=0), "k must be"),
    (dict(query="ok", lang="xx"), "unknown language"),
    (dict(query="ok", mode="magic"), "mode must be"),
])
def test_bad_queries_are_refused_with_a_clear_message(searcher, kwargs, message):
    with pytest.raises(QueryError, match=message):
        searcher.search(kwargs.pop("query"), **kwargs)


@pytest.mark.slow
def test_a_long_ticket_with_logs_still_finds_the_fix(searcher):
    ticket = ("Здравствуйте! С утра на сайте ошибка, пользователи жалуются.\n" + "\n".join(
        f"2026-11-21T08:{i:02d}:13Z edge-hkg1 GET /static/app.js upstream status=502 rt=0.004" for i in range(60))
        + "\nЧто делать? Источник за файрволом. Спасибо.")
    resp = searcher.search(ticket, audience="internal")
    assert resp.detected.lang == "ru"
    assert {r.id for r in resp.results[:2]} & {"cdn-502", "internal-edgectl"}


def test_search_with_another_model_is_refused(small_index):
    with pytest.raises(ModelMismatchError, match="built with 'e5:multilingual-e5-small-q4'"):
        Searcher(small_index[1], model=minilm_spec())


def test_keyword_ranking_inside_fts5_gives_the_results_of_joining_every_match(searcher):
    """The prefilter (best 4 x limit, then join and filter) against the plain query as the oracle."""
    store = searcher.store
    full = ("SELECT f.rowid, -bm25(chunks_fts) FROM chunks_fts f JOIN chunks c ON c.rowid=f.rowid"
            " JOIN articles a ON a.rowid=c.article WHERE chunks_fts MATCH ? {} ORDER BY bm25(chunks_fts) LIMIT ?")
    tokens = ["502", "cdn", "ошибк", "源站", "password", "obs", "счет"]
    filters = [ArticleFilter(), ArticleFilter(public_only=True), ArticleFilter(lang="ru"), ArticleFilter(lang="zh"),
               ArticleFilter(product="billing"), ArticleFilter(public_only=True, lang="en")]
    for allowed in filters:
        where, params = allowed.sql()
        for limit in (1, 2, 3, 100):
            match = " OR ".join(f'"{t}"' for t in tokens)
            want = store.conn.execute(full.format(f"AND {where}" if where else ""), [match, *params, limit]).fetchall()
            got = store.keyword_search(tokens, allowed, limit)
            assert [r for r, _ in got] == [r for r, _ in want], (allowed, limit)
            assert [s for _, s in got] == pytest.approx([s for _, s in want])
            assert got or not want


def test_repeated_searches_come_from_the_response_cache_until_the_index_changes(make_tier_index):
    articles, index, _ = make_tier_index(SMALL_KB)
    searcher = Searcher(index, recheck_seconds=0)
    first = searcher.search("ошибка 502", ui_lang="ru")
    again = searcher.search("ошибка 502", ui_lang="ru")
    assert "cache" in again.timings and "embed" not in again.timings
    assert [r.id for r in again.results] == [r.id for r in first.results] and again.results[0].id == "cdn-502"
    with pytest.raises(dataclasses.FrozenInstanceError):  # a caller cannot change the cached response
        again.results = ()
    assert isinstance(again.results, tuple)
    assert searcher.search("ошибка 502", ui_lang="ru").results
    assert "cache" not in searcher.search("ошибка 502", ui_lang="en").timings  # every argument is in the key
    searcher.fusion = fusion.RRF()
    assert "cache" not in searcher.search("ошибка 502", ui_lang="ru").timings

    for version in (articles / "cdn").glob("502.*.md"):
        version.unlink()
    job.run(articles, index, progress=False)  # a new generation is published
    after = searcher.search("ошибка 502", ui_lang="ru")
    assert "cache" not in after.timings
    assert "cdn-502" not in {r.id for r in after.results}


def test_common_words_score_keyword_matches_but_do_not_make_one(searcher):
    store = searcher.store
    common = ["cdn", "password"]
    only_rare = dict(store.keyword_search(["502"], EVERYTHING, 100))
    with_common = dict(store.keyword_search(["502", *common], EVERYTHING, 100, common=common))
    assert with_common and set(with_common) == set(only_rare)  # a common word alone makes no match...
    everything = dict(store.keyword_search(["502", *common], EVERYTHING, 100))
    assert set(everything) > set(with_common)  # ...though other chunks have them
    has_cdn = set(dict(store.keyword_search(["cdn"], EVERYTHING, 100)))
    assert any(with_common[c] > only_rare[c] for c in set(with_common) & has_cdn)  # and it adds to the score
    alone = dict(store.keyword_search(common, EVERYTHING, 100))
    assert dict(store.keyword_search(common, EVERYTHING, 100, common=common)) == alone  # all common: all match
