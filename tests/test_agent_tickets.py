"""The agent tickets (tests/data/agent-queries.jsonl) are consistent with the sample they are judged against."""

import json
from collections import Counter
from pathlib import Path

import pytest

from kb.articles import model as articles, chunking

ROOT = Path(__file__).resolve().parent.parent
LINES = (ROOT / "tests/data/agent-queries.jsonl").read_text(encoding="utf-8").splitlines()
TICKETS = [json.loads(line) for line in LINES if line.strip()]


@pytest.fixture(scope="module")
def anchors():
    """"<id>/<lang>" → the anchors kb.articles.chunking gives that version's sections."""
    out = {}
    for path in articles.discover(ROOT / "articles"):
        art, _ = articles.parse(path.read_text(encoding="utf-8"), path)
        out[f"{art.id}/{art.lang}"] = {s.anchor for s in chunking.sections(art.body)}
    return out


@pytest.mark.parametrize("ticket", TICKETS, ids=lambda t: t["id"])
def test_every_fix_anchor_is_a_section_of_the_version_it_names(ticket, anchors):
    assert ticket["fix_anchors"], "a ticket names the sections that resolve it"
    for key, wanted in ticket["fix_anchors"].items():
        versions = [key] if "/" in key else [v for v in anchors if v.split("/")[0] == key]
        assert key.split("/")[0] in ticket["relevant"] and versions, key
        for anchor in wanted:
            assert any(anchor in anchors[v] for v in versions), (key, anchor)


def test_two_problem_tickets_name_relevant_articles_for_each_problem():
    multi = [t for t in TICKETS if t.get("problems")]
    assert len(multi) >= 3
    for t in multi:
        assert len(t["problems"]) >= 2 and all(set(p) <= set(t["relevant"]) for p in t["problems"]), t["id"]


def test_tickets_are_spread_over_chinese_russian_and_english():
    counts = Counter(t["lang"] for t in TICKETS)
    assert set(counts) == {"en", "zh", "ru"} and max(counts.values()) - min(counts.values()) <= 2
    assert len({t["id"] for t in TICKETS}) == len(TICKETS)
