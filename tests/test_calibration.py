"""Self-calibration: the questions a knowledge base asks itself, judged with their article present and left out,
and the cut-off and fusion weight it stores in its generation for the search to use."""

import json

import numpy as np
import pytest

from kb.embeddings.cache import CachedEmbedder
from kb.embeddings.base import Embedder
from kb.index import format as index_format
from kb.search import answerability, calibration, self_questions, self_search
from kb.search.calibration import Calibration, Rule
from kb.search.searcher import Searcher
from tests.support import SMALL_KB, article


def many_articles(n: int, lang: str = "en") -> dict:
    """`n` articles on different topics (their words do not overlap), each with a heading and two sentences."""
    topics = ["router", "invoice", "password", "webhook", "certificate", "bandwidth", "playback", "recording",
              "firewall", "domain", "token", "cache", "upload", "subtitle", "latency", "refund", "mailbox",
              "backup", "printer", "keyboard", "battery", "camera", "license", "calendar", "storage"]
    out = {}
    for i, topic in enumerate(topics[:n]):
        out[f"{topic}.{lang}.md"] = article(f"kb-{topic}", lang, f"Fixing {topic} problems step by step", f"""
            The {topic} stops working after an update and shows an error number {100 + i}.

            ## Check the {topic} settings
            Open the {topic} panel, reset every {topic} option and save it again before retrying.
            """)
    return out


def record(group: str, lang: str, cands: list, known=1.0, without=None, text="reset my password") -> dict:
    return {"text": text, "kind": "title", "group": group, "lang": lang, "det": lang, "coverage": 1.0,
            "n_tokens": 3, "ticket": False, "known": known,
            "known_without": without or {"group": known, "version": known}, "cands": cands}


# --- the questions ---------------------------------------------------------------------------------------

def test_articles_are_sampled_by_a_hash_of_their_id_whatever_the_order():
    groups = {f"g{i}": [] for i in range(50)}
    reordered = dict(reversed(list(groups.items())))
    assert self_questions.sample_groups(groups, 10) == self_questions.sample_groups(reordered, 10)
    assert self_questions.stable("group", "g1") == self_questions.stable("group", "g1") != self_questions.stable("group", "g2")


def test_a_sentence_is_cropped_to_what_a_customer_types():
    long = "Open the firewall panel and allow the edge ranges before you retry the upload again today"
    assert self_questions.crop(long) == "Open the firewall panel and allow the edge"
    assert self_questions.crop("边缘节点回源时没有从源站拿到有效响应，请检查源站防火墙") == "边缘节点回源时没有从源站"
    assert self_questions.pick_sentence("Short. Too. The origin refuses connections from the edge.", 0) \
        == "The origin refuses connections from the edge."


def test_each_public_version_asks_its_title_a_heading_and_a_sentence(make_fake_index):
    _, index, _ = make_fake_index(SMALL_KB)
    gen = Searcher(index).generation()
    questions = self_questions.make(gen)
    kinds: dict[tuple, list] = {}
    for q in questions:
        kinds.setdefault((q.group, q.lang), []).append(q.kind)
    kinds = {k: sorted(v) for k, v in kinds.items()}
    assert kinds[("billing-invoices", "ru")] == ["heading", "sentence", "title"]
    assert kinds[("cdn-502", "en")] == ["sentence", "title"]  # "Causes", "Fix": a heading of one word names nothing
    assert ("internal-edgectl", "en") not in kinds  # internal articles never ask: customers never see them
    assert questions == self_questions.make(gen)


def test_a_title_two_articles_share_names_neither_and_is_not_asked(make_fake_index):
    files = {"a.en.md": article("a", "en", "Troubleshooting guide", "Router reboots every night after updates."),
             "b.en.md": article("b", "en", "Troubleshooting guide", "Invoices arrive late in the billing portal.")}
    _, index, _ = make_fake_index(files)
    questions = self_questions.make(Searcher(index).generation())
    assert {q.kind for q in questions} == {"sentence"}


# --- judging them ---------------------------------------------------------------------------------------

def test_leaving_an_article_out_takes_its_versions_and_its_own_words_away():
    cands = [["reset", "en", 0.20, 9.0, 0.91], ["reset", "zh", 0.18, None, 0.88], ["other", "en", 0.05, 1.0, 0.80]]
    rec = record("reset", "en", cands, without={"group": 0.0, "version": 1.0})
    present = calibration.outcome(rec, {"en", "zh"}, answerability.DEFAULT)
    assert present.ranked[0] == "reset" and present.signals.top == pytest.approx(0.91)
    absent = calibration.outcome(rec, {"en", "zh"}, answerability.DEFAULT, drop="group")
    assert absent.ranked == ["other"] and absent.logit == calibration.REFUSED  # none of its words is left
    other_language = calibration.outcome(rec, {"en", "zh"}, answerability.DEFAULT, drop="version")
    assert other_language.ranked[0] == "reset" and other_language.signals.top == pytest.approx(0.88)
    assert absent.logit < other_language.logit < present.logit


def own(absent_top, present_top=()):
    return calibration.Own([], [], [], list(present_top), list(absent_top))


def test_the_floor_sits_at_a_quantile_of_the_best_cosine_its_own_questions_reach_without_their_article():
    absent = [0.80 + 0.002 * i for i in range(40)]  # 0.800 … 0.878
    rule = Rule(share=0.5, offset=-0.01, cross_offset=-0.03)
    same, cross = rule.floors(own(absent))
    assert same == pytest.approx(calibration.quantile(absent, 0.5) - 0.01)
    assert cross == pytest.approx(same - 0.03)
    higher = rule.floors(own([x + 0.05 for x in absent]))  # a knowledge base whose cosines run higher
    assert higher[0] == pytest.approx(same + 0.05)  # gets a floor as much higher: positions, not levels


def test_too_few_questions_without_their_article_place_no_floor():
    assert Rule().floors(own([0.85] * (calibration.MIN_ABSENT - 1))) is None
    assert Rule().floors(own([0.85] * calibration.MIN_ABSENT)) is not None


def test_the_floor_refuses_a_search_whose_best_cosine_is_below_it_whatever_the_probability():
    s = answerability.Signals(top=0.84, margin=0.05, known=1.0, coverage=0.9, agree=1.0, lift=0.05,
                              cross_script=0.0, centred=0.1)
    assert answerability.DEFAULT.answered(s, answerability.Cut(0.01, 0.01))
    assert not answerability.DEFAULT.answered(s, answerability.Cut(0.01, 0.01, 0.85, 0.82))
    across = answerability.Signals(**{**s.__dict__, "cross_script": 1.0})
    assert answerability.DEFAULT.answered(across, answerability.Cut(0.01, 0.01, 0.85, 0.82))  # its own floor


def test_the_keyword_weight_follows_how_often_the_two_sides_agree_on_own_questions():
    rule = calibration.FusionRule(low=0.2, high=0.4, agree_low=0.6, agree_high=0.8)
    assert [rule.weight(a, 300) for a in (0.3, 0.6, 0.7, 0.9)] == pytest.approx([0.2, 0.2, 0.3, 0.4])
    assert rule.weight(0.9, 0) == calibration.PRIOR_WEIGHT
    agree = record("a", "en", [["a", "en", 0.3, 5.0, 0.9], ["b", "en", 0.1, 1.0, 0.8]])
    disagree = record("a", "en", [["a", "en", 0.3, 1.0, 0.9], ["b", "en", 0.1, 5.0, 0.8]])
    dense_only = record("a", "en", [["a", "en", 0.3, None, 0.9]])
    assert calibration.agreement([agree, disagree, dense_only]) == (0.5, 2)


def test_a_knowledge_base_under_twenty_articles_keeps_the_dev_defaults():
    cal = calibration.fit([record("a", "en", [["a", "en", 0.2, 1.0, 0.9]])], {"en"}, groups=5)
    assert (cal.method, cal.threshold, cal.fusion_weight) == ("prior", None, None)
    assert "too few to learn from" in cal.lines()[0]


def test_the_fitted_floor_refuses_its_share_of_own_questions_left_out(make_fake_index):
    _, index, _ = make_fake_index(many_articles(25))
    searcher = Searcher(index)
    gen = searcher.generation()
    records = self_search.observe(gen, searcher.embedder.embed_queries, self_questions.make(gen))
    rule = Rule(share=0.6, offset=0.0, cross_offset=-0.03)
    cal = calibration.fit(records, {"en"}, 25, answerability.DEFAULT, rule)
    tops = calibration.own_logits(records, {"en"}, answerability.DEFAULT, cal.fusion()).absent_top
    assert cal.method == "self" and cal.questions == len(records) == 75 and len(tops) >= calibration.MIN_ABSENT
    assert cal.threshold == answerability.DEFAULT.threshold  # the probability cut-off stays the dev one
    assert cal.top_cut == pytest.approx(calibration.quantile(tops, 0.6), abs=1e-4)
    assert cal.top_cut_cross == pytest.approx(cal.top_cut - 0.03, abs=1e-4)
    assert cal.measured["refused"] == pytest.approx(np.mean(np.array(tops) < cal.top_cut))
    # "answered" is measured on the same questions whose cosine it reads (each with its own log-odds)
    here = [calibration.outcome(r, {"en"}, answerability.DEFAULT, cal.fusion()) for r in records]
    kept = [o for o in here if o.logit != calibration.REFUSED and o.signals and not o.signals.cross_script]
    t = calibration.logit_of(answerability.DEFAULT.threshold)
    assert cal.measured["answered"] == pytest.approx(np.mean([o.logit >= t and o.signals.top >= cal.top_cut
                                                              for o in kept]))


def test_a_record_judged_as_it_stands_agrees_with_the_search_itself(make_fake_index):
    _, index, _ = make_fake_index({**many_articles(22), **SMALL_KB})
    searcher = Searcher(index, fusion=calibration.fusion_mod.DEFAULT, min_answer_score=0.2)
    searcher.answer_model = answerability.DEFAULT  # the fake embedder's own is the rule alone
    gen = searcher.generation()
    questions = self_questions.make(gen)[:40]
    records = self_search.observe(gen, searcher.embedder.embed_queries, questions)
    for q, rec in zip(questions, records):
        mine = calibration.outcome(rec, gen.languages(True), answerability.DEFAULT)
        resp = searcher.search(q.text)
        assert resp.results[0].id == mine.ranked[0], q.text  # below the top, ties may fall either way
        assert resp.answered == (mine.logit >= calibration.logit_of(0.2)), q.text


# --- stored and used -----------------------------------------------------------------------------------

def test_a_calibration_survives_the_manifest_and_another_version_is_ignored():
    cal = Calibration(0.2, 0.3, "self", 120, 40, {"answered": 0.9, "refused": 0.5}, 3.5)
    assert Calibration.from_json(json.loads(json.dumps(cal.to_json(), sort_keys=True))) == cal
    assert Calibration.from_json({**cal.to_json(), "version": calibration.VERSION + 1}) is None
    assert Calibration.from_json(None) is None


def test_the_indexer_stores_the_calibration_in_the_manifest_and_prints_it(make_fake_index):
    _, index, summary = make_fake_index(SMALL_KB)
    manifest = index_format.read_manifest(index_format.current_generation(index))
    assert manifest["calibration"] == summary.calibration.to_json()
    assert summary.calibration.method == "rule"  # the fake embedder: the answer model has no cut-off to place
    assert any(line.startswith("calibration: none") for line in summary.lines())
    assert Searcher(index).generation().calibration == summary.calibration


def test_a_save_keeps_the_calibration_until_a_tenth_changed_or_the_rules_did(make_fake_index, monkeypatch):
    from indexer import job

    articles, index, first = make_fake_index(many_articles(25))
    (articles / "router.en.md").write_text(article("kb-router", "en", "Router", "It reboots at night."),
                                           encoding="utf-8")
    saved = job.run(articles, index, progress=False)
    assert saved.calibration_kept and saved.calibration.stale == 1
    assert any("(kept: 1 articles changed since)" in line for line in saved.lines())
    for name in ("invoice", "password"):
        (articles / f"{name}.en.md").unlink()
    assert not job.run(articles, index, progress=False).calibration_kept  # 3 of 25: over a tenth
    monkeypatch.setattr(calibration, "FUSION_RULE", calibration.FusionRule(low=0.1))
    again = job.run(articles, index, progress=False)
    assert not again.calibration_kept and again.calibration.rules == calibration.fingerprint() != first.calibration.rules


def test_search_uses_the_knowledge_base_s_own_cut_off_and_weight_unless_told_otherwise(make_fake_index, monkeypatch):
    _, index, _ = make_fake_index(SMALL_KB)
    searcher = Searcher(index)
    searcher.answer_model = answerability.DEFAULT
    gen = searcher.generation()
    monkeypatch.setitem(gen.__dict__, "calibration", Calibration(0.42, 0.15, "self", 90, 30, {}, top_cut=0.86,
                                                                 top_cut_cross=0.83))
    fuse, threshold = searcher.settings(gen)
    assert (threshold, fuse.weight, fuse.scale) == (answerability.Cut(0.42, 0.42, 0.86, 0.83), 0.15, 0.05)
    searcher.calibrated = False
    fuse, threshold = searcher.settings(gen)
    assert (threshold, fuse.weight) == (None, 0.4)
    searcher.calibrated, searcher.min_answer_score = True, 0.7
    assert searcher.settings(gen)[1] == 0.7


class Counting(Embedder):
    name, dim = "counting", 4

    def __init__(self):
        self.calls = 0

    def embed_queries(self, texts):
        self.calls += len(texts)
        return np.ones((len(texts), self.dim), dtype=np.float32) / 2

    embed_passages = embed_queries


def test_own_question_vectors_are_kept_between_index_runs(tmp_path):
    inner = Counting()
    first = CachedEmbedder(inner, tmp_path / "cache.sqlite")
    first.embed_stored_queries(["reset my password", "refund"])
    first.close()
    again = CachedEmbedder(inner, tmp_path / "cache.sqlite")
    vecs = again.embed_stored_queries(["refund", "reset my password", "new question"])
    assert inner.calls == 3 and vecs.shape == (3, 4)
    again.embed_passages(["refund"])  # a passage is embedded apart from the query of the same text
    assert inner.calls == 4


# --- through the real model ------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_knowledge_base_calibrates_itself_at_index_time_and_search_and_eval_use_it(make_index, tmp_path):
    from click.testing import CliRunner

    from cli.main import cli

    articles, index, summary = make_index(many_articles(25))
    cal = summary.calibration
    assert cal.method == "self" and cal.articles == 25 and cal.questions == 75
    assert cal.threshold == answerability.DEFAULT.threshold and 0.5 < cal.top_cut < 1.0
    assert index_format.read_manifest(index_format.current_generation(index))["calibration"] == cal.to_json()
    searcher = Searcher(index)
    assert searcher.settings(searcher.generation())[1] == answerability.Cut(cal.threshold, cal.threshold,
                                                                            cal.top_cut, cal.top_cut_cross)
    again = CliRunner().invoke(cli, ["index", "--articles", str(articles), "--index", str(index)])
    assert "calibrated on 75 of its own questions from 25 articles" in again.output
    assert "(kept: 0 articles changed since)" in again.output
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "1", "text": "the router stopped after an update", "relevant": ["kb-router"]}\n'
                       '{"id": "2", "text": "how do I renew my passport at the embassy"}\n', encoding="utf-8")
    out = CliRunner().invoke(cli, ["eval", "--queries", str(queries), "--index", str(index), "--json",
                                   "--mode", "hybrid"])
    report = json.loads(out.output)
    assert set(report["answered"]) == {"hybrid", "uncalibrated"} and report["calibration"] == cal.to_json()
    assert report["retrieval"]["hybrid"]["all"]["mrr@10"] == 1.0
