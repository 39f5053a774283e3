"""Fusion logic and ticket clean-up (pure functions, no model)."""

from kb import fusion, query_text

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
