"""The dev knowledge bases of issue 22 and their evaluation harness (bench/kbsets.py, bench/kb_eval.py).

The committed query sets are checked for shape and for judgements that name real articles; the
Docusaurus id rule and the stop-gap conversion on a site built here; the scoring on hand-made outcomes.
One slow test indexes a three-article KB with the real model and runs the whole harness on it,
the two-hash-seed subprocesses included.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is a folder of scripts, not an installed package

from bench import docusaurus_stopgap, kb_eval, kb_report, kbsets  # noqa: E402
from bench.kb_eval import Outcome  # noqa: E402

QUERY_SETS = sorted(p for p in (ROOT / "bench" / "kbs").iterdir() if p.is_dir())


def test_the_docusaurus_id_rule_matches_the_importers():
    assert docusaurus_stopgap.article_id("private-dns/solving-problems/known-issues.md") == \
        "private-dns-solving-problems-known-issues"
    assert docusaurus_stopgap.article_id("General/How_To Install.mdx") == "general-how-to-install"
    assert docusaurus_stopgap.article_id("guides/index.md") == "guides"
    assert docusaurus_stopgap.article_id("guides/README.md") == "guides"
    assert docusaurus_stopgap.article_id("guides/old-name.md", front_id="new-name") == "guides-new-name"
    assert docusaurus_stopgap.article_id("intro.md") == "intro"


def _site(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_site_becomes_articles_with_translations_only_where_the_english_page_is(tmp_path):
    zh = "i18n/zh-CN/docusaurus-plugin-content-docs/current"
    site = _site(tmp_path / "site", {
        "docs/dns/setup.md": "---\ntitle: Setup\nsidebar_position: 2\n---\nimport Tabs from '@theme/Tabs';\n\n"
                             "## Router {#router}\n\n:::tip\n\nUse DoH.\n\n:::\n\n<Tabs>\nText ![pic](a.png)\n</Tabs>\n",
        "docs/dns/long.md": "---\ntitle: Long\n---\n" + "word " * 400,
        f"{zh}/dns/setup.md": "---\ntitle: 设置\n---\n## 路由器 {#router}\n\n使用 DoH。\n",
        f"{zh}/dns/long.md": "---\ntitle: 长\n---\n" + "字" * 400,
        f"{zh}/dns/gone.md": "---\ntitle: 旧页面\n---\n英文已删除。\n",
    })
    docs = docusaurus_stopgap.read_site(site, {"en": "en", "zh-CN": "zh"}, translate_max_chars=1000)
    assert sorted((d.id, d.lang) for d in docs) == [("dns-long", "en"), ("dns-setup", "en"), ("dns-setup", "zh")]
    setup = next(d for d in docs if d.id == "dns-setup" and d.lang == "en")
    assert setup.title == "Setup"
    assert "## Router\n" in setup.body and "Use DoH." in setup.body
    for noise in ("import ", ":::", "<Tabs>", "![pic]", "{#router}"):
        assert noise not in setup.body
    out = docusaurus_stopgap.write_articles(docs, tmp_path / "articles")
    assert sorted(p.name for p in out.iterdir()) == ["dns-long.en.md", "dns-setup.en.md", "dns-setup.zh.md"]
    assert (out / "dns-setup.zh.md").read_text(encoding="utf-8").startswith("---\nid: dns-setup\nlang: zh\ntitle: \"设置\"")


@pytest.mark.parametrize("folder", QUERY_SETS, ids=lambda p: p.name)
def test_every_committed_query_set_is_well_formed(folder):
    queries = kbsets.read_queries(folder / "queries.jsonl")
    qrels = kbsets.read_qrels(folder / "qrels.tsv")
    ids = [q["id"] for q in queries]
    assert len(ids) == len(set(ids)), "query ids repeat"
    assert set(qrels) <= set(ids), "qrels name queries the file does not have"
    for q in queries:
        assert q["text"].strip() and q["lang"]
        assert (q["kind"] == "answerable") == bool(qrels.get(q["id"])), q
    by_kind = {kind: sum(q["kind"] == kind for q in queries) for kind in kbsets.KINDS}
    assert by_kind["answerable"] >= 100 and by_kind["in-domain"] >= 20 and by_kind["off-domain"] >= 10, by_kind
    assert {"en", "zh", "ru"} <= {q["lang"] for q in queries if q["kind"] == "answerable"}


def test_the_sample_query_sets_name_real_public_articles_and_kinds():
    kb = kbsets.sample()
    public = {key[0] for p in (ROOT / "articles").rglob("*.md") if (key := kb_eval.key_of(p))
              and "visibility: internal" not in p.read_text(encoding="utf-8")}
    assert {a for rel in kb.qrels.values() for a in rel} <= public
    oos = kbsets.read_queries(ROOT / "tests" / "data" / "out_of_scope_queries.jsonl")
    assert len(oos) >= 40 and {q["kind"] for q in oos} == {"in-domain", "off-domain"}
    assert {q["lang"] for q in oos} == {"en", "zh", "ru"}
    texts = {q["text"] for q in kb.queries}
    assert {"推流失拜", "ошибак сертифката", "CDN 支持 WebSocket 吗", "как удалить аккаунт"} <= texts


def test_a_query_file_with_an_unknown_kind_names_the_file_and_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "text": "x", "kind": "answerable"}\n{"id": "b", "text": "y", "kind": "maybe"}\n')
    with pytest.raises(SystemExit, match=r"q\.jsonl:2: kind must be one of"):
        kbsets.read_queries(path)


def _kb(tmp_path: Path) -> kbsets.KB:
    queries = [{"id": "q1", "lang": "en", "text": "a", "kind": "answerable"},
               {"id": "q2", "lang": "zh", "text": "b", "kind": "answerable"},
               {"id": "q3", "lang": "en", "text": "c", "kind": "answerable"},
               {"id": "q4", "lang": "en", "text": "d", "kind": "in-domain"},
               {"id": "q5", "lang": "zh", "text": "e", "kind": "off-domain"}]
    qrels = {"q1": {"x": 1}, "q2": {"y": 1, "x": 1}, "q3": {"sampled-out": 1}}
    return kbsets.KB("toy", tmp_path, queries, qrels, "toy")


def test_a_judged_query_whose_articles_were_sampled_out_counts_as_in_domain(tmp_path):
    kinds = kb_eval.effective_kinds(_kb(tmp_path), {"x", "y"})
    assert kinds == {"q1": "answerable", "q2": "answerable", "q3": "in-domain", "q4": "in-domain",
                     "q5": "off-domain"}


def test_scores_per_kb_and_language_from_outcomes(tmp_path):
    kb = _kb(tmp_path)
    outs = [Outcome("q1", "en", "answerable", ["x", "z"], True, ["z", "x"]),
            Outcome("q2", "zh", "answerable", ["z", "y"], False, ["y", "x"]),
            Outcome("q3", "en", "in-domain", ["x"], True),
            Outcome("q4", "en", "in-domain", ["x"], False),
            Outcome("q5", "zh", "off-domain", [], False)]
    report = kb_eval.score(kb, outs)
    assert report.demoted == 1
    everything, en, zh = report.rows["all"], report.rows["en"], report.rows["zh"]
    assert everything["answerable"] == 2 and everything["answered"] == 0.5
    assert en["mrr@10"] == 1.0 and zh["mrr@10"] == 0.5 and en["dense mrr@10"] == 0.5
    assert everything["recall@10"] == pytest.approx(0.75)  # q2 found one of its two articles
    assert everything["in-domain"] == 2 and everything["in-domain refused"] == 0.5
    assert zh["off-domain refused"] == 1.0 and en["off-domain refused"] is None
    assert [m["id"] for m in report.misses["answerable refused"]] == ["q2"]
    assert report.misses["first result not relevant"][0] == {"id": "q2", "lang": "zh", "text": "b",
                                                                  "top": ["z", "y"], "relevant": ["x", "y"]}
    assert [m["id"] for m in report.misses["in-domain answered"]] == ["q3"] and not report.misses["off-domain answered"]


def test_the_report_page_shows_every_kb_and_judges_the_targets_per_kb(tmp_path):
    kb = _kb(tmp_path)
    outs = [Outcome("q1", "en", "answerable", ["x"], True, ["x"]), Outcome("q2", "zh", "answerable", ["y"], True, ["y"]),
            Outcome("q3", "en", "in-domain", [], False), Outcome("q4", "en", "in-domain", [], True),
            Outcome("q5", "zh", "off-domain", [], False)]
    for name in ("sample", "adguard-dns"):
        report = kb_eval.score(kbsets.KB(name, tmp_path, kb.queries, kb.qrels, "note"), outs)
        report.seeds = (5, 5)
        kb_report.save(report, tmp_path / "kbs", f"python bench/kb_eval.py --kbs {name}")
    kb_report.write(tmp_path / "kbs", tmp_path / "kbs.md")
    page = (tmp_path / "kbs.md").read_text(encoding="utf-8")
    assert page.index("| **sample** | all |") < page.index("| **adguard-dns** | all |")
    assert "- **adguard-dns** (`python bench/kb_eval.py --kbs adguard-dns`, " in page
    assert "| adguard-dns | nDCG@10 of Chinese queries ≥ 0.70 | 0.613 ✗ |" in page  # q2 found one of two
    assert "| adguard-dns | in-domain refused ≥ 0.5 | 0.500 ✓ |" in page
    assert "| sample | sample + typo/short queries answered ≥ 0.95 | 1.000 ✓ |" in page
    assert "| sample | identical results under two hash seeds | 5/5 ✓ |" in page


@pytest.mark.slow
def test_the_harness_indexes_a_small_kb_and_runs_it_under_two_hash_seeds(tmp_path, monkeypatch):
    monkeypatch.setattr(kbsets, "WORK", tmp_path / "work")
    monkeypatch.setattr(kb_eval.evidence, "SHARED_CACHE", tmp_path / "embeddings.sqlite")
    articles = tmp_path / "articles"
    articles.mkdir()
    pages = {"dns-setup": ("en", "Set up DNS on a router", "Open the router admin panel and enter the DNS server addresses."),
             "refunds": ("en", "Refunds", "Contact support within 30 days of purchase to get your money back."),
             "cache": ("zh", "清除 DNS 缓存", "在 Windows 上运行 ipconfig /flushdns 清除 DNS 缓存。")}
    for art_id, (lang, title, body) in pages.items():
        (articles / f"{art_id}.{lang}.md").write_text(f"---\nid: {art_id}\nlang: {lang}\ntitle: {title}\n---\n{body}\n",
                                                      encoding="utf-8")
    queries = [{"id": "a1", "lang": "en", "text": "how to get a refund", "kind": "answerable"},
               {"id": "a2", "lang": "zh", "text": "怎么清除 dns 缓存", "kind": "answerable"},
               {"id": "o1", "lang": "en", "text": "best banana bread recipe", "kind": "off-domain"}]
    kb = kbsets.KB("tiny", articles, queries, {"a1": {"refunds": 1}, "a2": {"cache": 1}}, "three pages")
    report = kb_eval.evaluate(kb)
    assert report.seeds == (3, 3)
    assert report.rows["all"]["answerable"] == 2 and report.rows["all"]["off-domain"] == 1
    assert report.rows["en"]["mrr@10"] == 1.0 and report.rows["zh"]["mrr@10"] == 1.0
    index = tmp_path / "work" / "tiny" / "index"
    assert index.is_dir()
    json.dumps(report.rows)  # what kb_report saves
    data = kb_eval.evidence_records(kb, index)
    assert [r["id"] for r in data["records"]] == ["a1", "a2", "o1"]
    assert data["kinds"]["o1"] == "off-domain" and set(data["qrels"]) == {"a1", "a2"}
    assert {c[0] for c in data["records"][0]["cands"]} <= set(pages)


def test_kb_eval_counts_the_hyphenated_off_domain_kind_as_off_domain():
    from kb.search.evaluation import Query, answer_rates

    queries = [Query("a", "x", "en", kind="off-domain"), Query("b", "y", "en", kind="in-domain")]
    rates = answer_rates({"a": False, "b": True}, queries, {})
    assert rates["offdomain"] == {"queries": 1, "rate": 1.0, "measures": "refused"}
    assert rates["unanswerable"] == {"queries": 1, "rate": 0.0, "measures": "refused"}


def test_the_misses_of_a_public_query_set_name_queries_by_id_only(tmp_path):
    kb = _kb(tmp_path)
    kb.own_queries = False
    report = kb_eval.score(kb, [Outcome("q1", "en", "answerable", ["z"], False)])
    assert report.misses["answerable refused"] == [{"id": "q1", "lang": "en", "text": None, "top": ["z"]}]


def test_a_held_out_faq_loses_whole_threads_and_their_queries_become_in_domain(tmp_path, monkeypatch):
    monkeypatch.setattr(kbsets, "WORK", tmp_path / "work")
    articles = tmp_path / "stackfaq"
    articles.mkdir()
    for art_id in ("t000a0", "t000a1", "t001a0", "t001a1"):
        (articles / f"{art_id}.md").write_text(f"---\nid: {art_id}\nlang: en\n---\nanswer\n", encoding="utf-8")
    queries = [{"id": f"q{t}", "lang": "en", "text": "x", "kind": "answerable"} for t in (0, 1)]
    qrels = {"q0": {"t000a0": 1, "t000a1": 1}, "q1": {"t001a0": 1, "t001a1": 1}}
    kb = kbsets.held_out(kbsets.KB("stackfaq", articles, queries, qrels), share=0.5)
    kept = sorted(p.stem for p in kb.articles.glob("*.md"))
    assert kept in (["t000a0", "t000a1"], ["t001a0", "t001a1"])  # one whole thread went
    gone = "q1" if kept[0].startswith("t000") else "q0"
    assert {q["id"]: q["kind"] for q in kb.queries}[gone] == "in-domain" and gone not in kb.qrels
    assert kb.name == "stackfaq-held-out" and "1 of 2 removed" in kb.note


def test_an_imported_site_is_its_own_kb_beside_the_sampled_one(tmp_path):
    kb = kbsets.load("adguard-dns", tmp_path)
    assert kb.name == "adguard-dns-imported" and kb.articles == tmp_path and str(tmp_path) in kb.note
    assert len(kb.queries) == len(kbsets.read_queries(kbsets.QUERY_SETS / "adguard-dns" / "queries.jsonl"))
