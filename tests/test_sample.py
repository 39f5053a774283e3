"""The sample knowledge base keeps its shape: groups, languages, internal runbooks, planted problems."""

import datetime as dt
from collections import Counter, defaultdict

import pytest

from indexer.job import scan
from kb import reports
from kb.search.evaluation import evaluate, inline_qrels, read_queries
from kb.search.searcher import Searcher
from tests.support import ROOT, activity_at


@pytest.fixture(scope="module")
def sample_scan():
    return scan(ROOT / "articles")


@pytest.fixture
def ctx(sample_index, tmp_path):
    s = Searcher(sample_index[1])
    return reports.Context(store=s.store, activity=activity_at(tmp_path / "activity.sqlite"),
                           today=dt.date(2026, 11, 21), embedder=s.embedder, searcher=s)


def test_sample_has_forty_groups_in_three_scripts_and_internal_runbooks(sample_scan):
    groups = defaultdict(set)
    for a in sample_scan.articles:
        groups[a.id].add(a.lang)
    assert len(groups) >= 40
    assert sum({"en", "zh", "ru"} <= langs for langs in groups.values()) >= 25
    single = [g for g, langs in groups.items() if len(langs) == 1]
    assert {"cdn-https-upload-certificate", "live-recording", "cdn-hotlink-protection"} <= set(single)
    assert sum("es" in langs for langs in groups.values()) >= 3
    internal = {a.id for a in sample_scan.articles if a.visibility == "internal"}
    assert len(internal) >= 6


def test_lint_reports_only_the_planted_problems(sample_scan):
    assert sample_scan.errors == []
    by_code = Counter(p.code for p in sample_scan.problems)
    assert by_code == {"no-owner": 7, "broken-link": 2, "broken-anchor": 1}


def test_every_planted_problem_is_found_by_its_report(ctx):
    drift = {(r["id"], r["lang"]): r["severity"] for r in reports.run("translations", ctx)}
    assert drift == {("cdn-purge-cache", "zh"): "substantive", ("rtc-firewall-ports", "ru"): "substantive",
                     ("api-signature-errors", "ru"): "substantive", ("cdn-cname-setup", "zh"): "cosmetic",
                     ("cdn-cname-setup", "ru"): "cosmetic"}
    stale = {r["id"] for r in reports.run("stale", ctx)}
    assert stale == {"live-transcoding", "billing-change-plan", "internal-edgectl-tool"}
    pairs = {frozenset((r["id"], r["other_id"])): r["kind"] for r in reports.run("duplicates", ctx)}
    assert pairs[frozenset(("rtc-black-screen", "rtc-video-black-screen-ru"))] == "unlinked-translation"
    assert pairs[frozenset(("cdn-purge-cache", "cdn-refresh-cached-files"))] == "duplicate"
    links = {(r["id"], r["problem"]) for r in reports.run("links", ctx)}
    assert links == {("cdn-504-gateway-timeout", "broken-link"), ("contact-support", "broken-link"),
                     ("billing-overdue-payment", "broken-anchor")}


def test_sample_queries_find_their_articles(sample_index):
    queries = read_queries(ROOT / "tests/data/sample_queries.jsonl")
    assert Counter(q.lang for q in queries) == {"en": 21, "zh": 21, "ru": 21}
    s = Searcher(sample_index[1])
    run = {q.id: [r.id for r in s.search(q.text, k=10).results] for q in queries}
    scores = evaluate(run, queries, inline_qrels(queries))
    # a regression guard, not a target: the figures are in bench/results and the issue note
    assert scores["all"]["recall@10"] >= 0.9


def test_internal_runbooks_are_found_for_agents_but_never_for_customers(sample_index):
    s = Searcher(sample_index[1])
    internal = {a.id for a in s.store.articles() if not a.is_public}
    for q in read_queries(ROOT / "tests/data/agent-queries.jsonl"):
        public = s.search(q.text, k=20)
        assert not {r.id for r in public.results} & internal
        agent = s.search(q.text, audience="internal", k=5)
        assert set(q.relevant) & {r.id for r in agent.results}, q.id


@pytest.mark.parametrize("text, article", [("推流失拜", "live-push-failed"),
                                           ("ошибак сертифката", "cdn-ssl-certificate-errors")])
def test_the_readmes_typo_examples_are_answered_by_their_article(sample_index, text, article):
    """The dense side embeds the corrected query too: "推流失拜" as typed was refused though its first
    result was right (issue 22)."""
    resp = Searcher(sample_index[1]).search(text)
    assert resp.answered and resp.results[0].id == article


def test_what_the_sample_answers_and_what_it_refuses_with_the_real_model(sample_index):
    """The answered decision through the real model on the sample: the customers' queries are answered,
    keyboard mash and questions about things the sample never covers are not (regression guards; the
    rates on the dev sets are in bench/results/answerability.md)."""
    s = Searcher(sample_index[1])
    queries = read_queries(ROOT / "tests/data/sample_queries.jsonl")
    answered = [s.search(q.text).answered for q in queries]
    assert sum(answered) / len(answered) >= 0.9
    for text in ("asdkjh qwe zxcv", "йцукен фывап", "遻寉瀥饁餞", "kubernetes helm chart values override",
                 "how do I delete my account"):
        resp = s.search(text)
        assert resp.results and not resp.answered, text  # closest articles still there, labelled by the UI
