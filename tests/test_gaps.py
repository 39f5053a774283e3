"""Content gaps: clustering across languages (the issue's examples with the real model) and the advice rule."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from kb.reports import gaps


@pytest.mark.slow  # the real model: what is near is a matter of meaning
def test_needs_cluster_across_languages_and_apart_from_each_other():
    from kb.embeddings import get_embedder

    asked = [("ошибка 502", "ru"), ("потерял телефон 2fa", "ru"), ("cdn 502 error", "en"),
             ("lost my phone with 2fa", "en"), ("手机丢了 两步验证", "zh"), ("how do I delete my account", "en"),
             ("how to change wifi password", "en"), ("如何修改 wifi 密码", "zh"), ("как поменять пароль wifi", "ru")]
    vecs = get_embedder().embed_queries([q for q, _ in asked])
    groups = {frozenset(asked[i][0] for i in g) for g in gaps.cluster(vecs, [lang for _, lang in asked])}
    assert groups == {frozenset({"ошибка 502", "cdn 502 error"}),
                      frozenset({"потерял телефон 2fa", "lost my phone with 2fa", "手机丢了 两步验证"}),
                      frozenset({"how do I delete my account"}),
                      frozenset({"how to change wifi password", "如何修改 wifi 密码", "как поменять пароль wifi"})}


def test_cluster_is_average_linkage_not_a_chain():
    """a ~ b and b ~ c, but a and c far apart: a leader rule chains them through b; average linkage does not."""
    a, c = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    b = (a + c) / np.linalg.norm(a + c)
    groups = gaps.cluster(np.vstack([a, b, c]), ["en"] * 3, threshold=0.7, centre=False)
    assert len(groups) == 2 and [0, 1, 2] not in groups


def top(languages):
    return SimpleNamespace(id="a", languages=tuple(languages))


@pytest.mark.parametrize("nearest, answered, langs, internal, expected", [
    (top(["ru"]), False, ["en", "ru"], None, ("write_new", [])),  # "delete my account" near the 2FA article
    (top(["ru"]), True, ["en", "ru", "zh"], None, ("translate", ["en", "zh"])),
    (top(["en", "ru"]), True, ["en", "ru"], None, ("improve", [])),
    (None, False, ["en"], "internal-x", ("publish", [])),
    (None, False, ["en"], None, ("write_new", [])),
])
def test_advice_follows_what_search_says_about_the_group(nearest, answered, langs, internal, expected):
    assert gaps.advise(nearest, answered, langs, internal) == expected
