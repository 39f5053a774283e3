"""Questions that rest on words the knowledge base never uses (kb/search/novelty.py, issue 22).

A near-topic question ("does the CDN support websocket connections") reached the CDN articles at a cosine as
high as real questions and was answered; what gives it away is its one word no chunk has."""

import numpy as np
import pytest

from kb.search import novelty
from kb.search.searcher import Searcher
from tests.support import csrf_token

INDEXED = {"cdn", "support", "connect", "corona", "verdacht", "haus", "geburt", "the", "does"}


def known(word):
    return word.lower() in INDEXED


def test_unknown_words_are_the_words_whose_tokens_no_chunk_has():
    text = "does the CDN support websocket connections"
    assert novelty.unknown_words(text, "en", {"websocket"}, known) == ["websocket"]
    assert novelty.unknown_words(text, "en", set(), known) == []


def test_numbers_and_codes_are_never_unknown_words():
    # "4M", "429": a bit rate and an error code are the reader's facts, not a topic the knowledge base lacks
    assert novelty.unknown_words("码率4M 上行不够吗", "zh", {"4m"}, known) == []
    assert novelty.unknown_words("лимит 429 QuotaExceeded", "ru", {"429", "quotaexceed"}, known) == ["QuotaExceeded"]


def test_a_compound_of_two_known_words_is_not_unknown():
    # German runs words together: the knowledge base says corona and Verdacht, the reader Coronaverdacht
    assert novelty.compound("Coronaverdacht", "de", known)
    assert novelty.compound("Hausgeburt", "de", known)
    assert novelty.unknown_words("Hausgeburt in Quarantäne", "de", {"hausgeburt"}, known) == []
    assert not novelty.compound("websocket", "en", known)  # neither web (too short to count) nor socket known


def test_chinese_words_are_cut_as_jieba_reads_them_not_in_its_overlapping_search_mode():
    assert novelty.words("支持比特币付款吗") == ["支持", "比特", "币", "付款", "吗"]


def test_the_bare_question_leaves_out_only_the_unknown_words():
    assert novelty.without("does the CDN support websocket connections?", ["websocket"]) == \
        "does the CDN support connections?"
    assert novelty.without("CDN 支持 WebSocket 吗", ["WebSocket"]) == "CDN 支持 吗"
    assert novelty.without("支持比特币付款吗", ["比特", "币"]) == "支持付款吗"
    assert novelty.without("socket websocket", ["socket"]) == "websocket"  # whole words only


def _unit(*xs):
    v = np.array(xs, dtype=float)
    return v / np.linalg.norm(v)


def test_the_words_carry_the_question_only_when_it_moves_and_moves_toward_the_article():
    article = np.vstack([_unit(1, 0, 0)])
    q = _unit(1, 1, 0)
    away = _unit(1, 0.2, 0)  # the question without the word: closer to the article, and far from itself
    assert novelty.carries(q, away, article)
    assert not novelty.carries(q, _unit(1, 0.98, 0), article)  # hardly moved: a filler
    toward_other = _unit(0.5, 1, 0.5)  # moved, but further from the article: the word was what matched it
    assert not novelty.carries(q, toward_other, article)


@pytest.mark.slow
@pytest.mark.parametrize("text", ["does the CDN support websocket connections", "can I pay my invoice with bitcoin",
                                  "можно оплатить криптовалютой", "支持比特币付款吗"])
def test_a_near_topic_question_about_a_word_the_sample_never_uses_is_refused(sample_index, text):
    resp = Searcher(sample_index[1]).search(text)
    assert resp.results and not resp.answered, text  # the closest articles stay, labelled as no answer


@pytest.mark.slow
@pytest.mark.parametrize("text, article", [("ссылки с auth_key протухают раньше времени", "cdn-token-authentication"),
                                           ("通话有回音，对方开的外放", "rtc-echo"),
                                           ("hls.js не играет поток, в консоли ошибка CORS", "live-playback-failed")])
def test_slang_the_sample_never_uses_still_finds_its_answer(sample_index, text, article):
    """"протухают" (go stale), "外放" (loudspeaker): words no article has, which lead toward the answer."""
    resp = Searcher(sample_index[1]).search(text)
    assert resp.answered and resp.results[0].id == article, text


def test_the_words_are_shown_as_a_reader_names_them():
    assert novelty.shown("支持比特币付款吗", "zh", ["比特", "币", "吗"]) == ("比特币",)  # joined again, no filler
    assert novelty.shown("CDN 支持 WebSocket 吗", "zh", ["WebSocket", "吗"]) == ("WebSocket",)
    assert novelty.shown("flutter or Flutter", "en", ["flutter", "Flutter"]) == ("flutter", "Flutter")


@pytest.mark.slow
def test_the_reader_and_the_agent_are_told_which_word_no_article_uses(client, agent_client):
    """What the help center, the API and the agent page say of a question refused for its word (real model)."""
    q = "does the CDN support websocket connections"
    api = client.get("/api/search", query_string={"q": q}).get_json()
    assert api["answered"] is False and api["missing"] == ["websocket"]
    assert client.get("/api/search", query_string={"q": "purge cache"}).get_json()["missing"] == []
    page = client.get("/en/search", query_string={"q": q}).get_data(as_text=True)
    assert "None of our articles mentions “websocket”." in page
    page = client.get("/zh/search", query_string={"q": "支持比特币付款吗"}).get_data(as_text=True)
    assert "我们的文章都没有提到“比特币”。" in page
    agent_client.set_cookie("kb_lang", "en")  # the agent pages' UI language (the zh search above set zh)
    token = csrf_token(agent_client, "/agent/")
    agent = agent_client.post("/agent/", data={"csrf_token": token, "text": "can I pay my invoice with bitcoin"})
    assert "No article mentions “bitcoin”." in agent.get_data(as_text=True)
