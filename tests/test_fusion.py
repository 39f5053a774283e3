"""Fusion logic and ticket clean-up (pure functions, no model)."""

import pytest

from kb.search import fusion
from kb.search import query_text

TICKET = """Здравствуйте!
Скрипт очистки кэша перестал проходить авторизацию.
2026-11-21T08:00:13Z INFO worker-3 heartbeat ok uptime=12s
[2026-11-21 08:00:14] ERROR status=401 code=RequestTimeTooSkewed
    at com.example.Client.sign(Client.java:42)
HTTP/1.1 401 Unauthorized
Спасибо, Ольга"""


def test_prose_keeps_what_a_person_wrote():
    assert query_text.prose(TICKET).splitlines() == [
        "Здравствуйте!", "Скрипт очистки кэша перестал проходить авторизацию.", "HTTP/1.1 401 Unauthorized",
        "Спасибо, Ольга"]
    assert query_text.prose("status=500 code=x") == "status=500 code=x"  # nothing human: keep it all


def test_keyword_text_keeps_codes_from_log_lines():
    text = query_text.keyword_text(TICKET)
    assert "RequestTimeTooSkewed" in text and "401" in text
    assert "heartbeat" not in text and "worker" not in text


def test_keyword_weight_follows_coverage_and_is_floored_for_long_texts():
    f = fusion.AdaptiveFusion(max_weight=0.6, power=1.0, long_query_tokens=16, long_weight=0.6)
    assert f.weight(fusion.KeywordEvidence({1: 3.0}, coverage=0.0, n_tokens=3)) == 0.0
    assert f.weight(fusion.KeywordEvidence({1: 3.0}, coverage=0.5, n_tokens=3)) == 0.3
    assert f.weight(fusion.KeywordEvidence({1: 3.0}, coverage=0.1, n_tokens=40)) == 0.6
    assert f.weight(fusion.KeywordEvidence({}, coverage=1.0, n_tokens=40)) == 0.0


def test_full_coverage_lets_keywords_overturn_a_close_dense_ranking():
    dense = {1: 0.90, 2: 0.89, 3: 0.70}
    kw_only_for_2 = fusion.KeywordEvidence({2: 12.0}, coverage=1.0, n_tokens=2)
    no_overlap = fusion.KeywordEvidence({2: 12.0}, coverage=0.0, n_tokens=2)
    f = fusion.AdaptiveFusion()
    fused = f.combine(dense, kw_only_for_2)
    assert max(fused, key=fused.get) == 2
    fused = f.combine(dense, no_overlap)
    assert max(fused, key=fused.get) == 1


def test_rrf_baseline_sums_reciprocal_ranks():
    fused = fusion.RRF(k=60).combine({1: 0.9, 2: 0.8}, fusion.KeywordEvidence({2: 5.0, 3: 1.0}, 1.0))
    assert max(fused, key=fused.get) == 2
    assert abs(fused[1] - 1 / 61) < 1e-12


def test_default_fusion_lets_keywords_overturn_a_close_dense_ranking_not_a_clear_one():
    kw = fusion.KeywordEvidence({2: 12.0}, coverage=1.0, n_tokens=2)
    close = fusion.DEFAULT.combine({1: 0.90, 2: 0.89, 3: 0.70}, kw)
    assert max(close, key=close.get) == 2
    clear = fusion.DEFAULT.combine({1: 0.90, 2: 0.80, 3: 0.70}, kw)
    assert max(clear, key=clear.get) == 1


def test_distance_from_the_best_does_not_depend_on_how_many_candidates_there_are():
    """Min-max stretches a gap differently when weak candidates join (a whole small FAQ is a candidate
    set); the distance from the best in cosine units does not."""
    few = {1: 0.90, 2: 0.88}
    many = {**few, **{10 + i: 0.40 + i / 1000 for i in range(60)}}
    kw = fusion.KeywordEvidence({2: 5.0}, coverage=0.5, n_tokens=4)
    gap = fusion.ConvexFusion(weight=0.6, scale=0.1, adaptive=True)
    assert gap.combine(few, kw)[1] - gap.combine(few, kw)[2] == gap.combine(many, kw)[1] - gap.combine(many, kw)[2]
    minmax = fusion.ConvexFusion(weight=0.6, scale=None, adaptive=True)
    assert max(minmax.combine(few, kw), key=minmax.combine(few, kw).get) != \
        max(minmax.combine(many, kw), key=minmax.combine(many, kw).get)


def test_an_article_only_in_another_language_is_not_penalised_for_keyword_misses():
    dense = {1: 0.90, 2: 0.88}  # 1: Russian-only article; 2: a weaker one in the reader's language
    kw = fusion.KeywordEvidence({2: 8.0}, coverage=1.0, n_tokens=1, foreign=frozenset({1}))
    plain = fusion.ConvexFusion(weight=0.6, scale=0.1, adaptive=True)
    neutral = fusion.ConvexFusion(weight=0.6, scale=0.1, adaptive=True, foreign_neutral=True)
    assert max(plain.combine(dense, kw), key=plain.combine(dense, kw).get) == 2
    assert max(neutral.combine(dense, kw), key=neutral.combine(dense, kw).get) == 1


def test_keyword_floor_is_for_pasted_tickets_not_long_questions():
    question = "how can I get back into my account when I no longer have the phone that I used for two factor codes"
    assert not query_text.is_ticket(question)
    assert query_text.is_ticket(TICKET)
    f = fusion.ConvexFusion(weight=0.6, scale=0.1, adaptive=True, ticket_weight=0.6)
    assert f.weight_for(fusion.KeywordEvidence({1: 1.0}, coverage=0.1, n_tokens=30)) == pytest.approx(0.06)
    assert f.weight_for(fusion.KeywordEvidence({1: 1.0}, coverage=0.1, n_tokens=30, ticket=True)) == 0.6


def test_a_person_starting_with_i_is_not_a_log_line():
    assert not query_text.is_machine_line("I want to delete my account, how do I do it?")
    assert query_text.is_machine_line("E/AudioTrack: underrun")
