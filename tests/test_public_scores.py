"""Public scores do not depend on internal text: adding internal articles leaves every public score as it was.

FTS5's bm25 and the document counts behind IDF weights, keyword coverage and typo correction are statistics
over a whole table; public searches read a keyword index of public chunks only (kb/index/store.py, `public_` tables).
"""

from __future__ import annotations

import pytest

from kb.search.searcher import Searcher
from tests.support import SMALL_KB, article

PUBLIC = {path: text for path, text in SMALL_KB.items() if "visibility: internal" not in text}
# Internal runbooks sharing the public articles' vocabulary, in their languages: they would shift bm25's
# document counts and average lengths, the IDF weights and the words a typo is corrected to.
INTERNAL = {
    "ops/origin.en.md": article("ops-origin", "en", "Origin firewall runbook", """
        Edge nodes get 502 Bad Gateway when the origin firewall drops them. Check the firewall, the gateway
        and the origin; escalate gateway incidents to the CDN on-call. Firewall firewall origin origin.

        ## Certificate rotation
        Rotate the origin certificate; certficate errors show in the browser.
        """, visibility="internal", product="cdn", tags="[cdn]"),
    "ops/origin.zh.md": article("ops-origin", "zh", "源站防火墙处理手册", """
        边缘节点回源报 502 时检查源站防火墙。推流失败时检查推流地址和串流密钥。回源回源源站源站。
        """, visibility="internal", product="cdn", tags="[cdn]", translated_from="en"),
    "ops/billing.ru.md": article("ops-billing", "ru", "Счета: внутренний регламент", """
        Счёт и акты выгружаются из «Финансы → Документы». Ошибка счёта — в бухгалтерию. Счёт счёт документы.
        """, visibility="internal", product="billing", tags="[billing]"),
}
QUERIES = ["502 bad gateway", "origin firewall blocks edge", "certficate error", "回源 502 源站", "推流失拜",
           "скачать счёт", "ошибка документы", "obs keyframe", "gateway"]


def public_scores(index) -> dict:
    """Every public score a search shows or fuses: keyword side per chunk, results in three modes, answered."""
    searcher = Searcher(index)
    store = searcher.store
    out = {}
    for q in QUERIES:
        (ev, _), = searcher.evidence([q])
        chunks = store.chunks_by_rowid(ev.chunk_kw)
        arts = searcher.generation().articles
        out[q, "keyword side"] = sorted((arts[c.article].id, arts[c.article].lang, c.ord, repr(s), ev.keyword.coverage)
                                        for cid, s in ev.chunk_kw.items() for c in [chunks[cid]])
        for mode in ("keyword", "dense", "hybrid"):
            resp = searcher.search(q, mode=mode, k=20)
            out[q, mode] = ([(r.id, r.lang, repr(r.score), r.section, r.snippet) for r in resp.results],
                            resp.total, resp.answered, resp.detected)
    return out


@pytest.mark.parametrize("tier", ["fake", pytest.param("real", marks=pytest.mark.slow)])
def test_adding_internal_articles_leaves_every_public_score_identical(make_tier_index, tier):
    _, index, _ = make_tier_index(PUBLIC)
    before = public_scores(index)
    _, index_again, summary = make_tier_index(INTERNAL)  # same folders: the articles added, re-indexed
    assert index_again == index and summary.internal == len(INTERNAL)
    assert Searcher(index).search("origin firewall runbook", audience="internal").results[0].id == "ops-origin"
    after = public_scores(index)
    assert before.keys() == after.keys()
    for key in before:
        assert after[key] == before[key], key
