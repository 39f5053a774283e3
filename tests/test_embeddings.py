"""The e5 engine pool: concurrent calls and split batches give the vectors one engine gives."""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kb.embeddings import get_embedder
from kb.embeddings.e5 import E5Embedder

pytestmark = pytest.mark.slow  # loads the real model
TEXTS = ["ошибка 502", "wifi 密码", "How do I purge the CDN cache?", "推流 403 auth_key 过期",
         "Счёт и закрывающие документы", "reset console password"]


def test_engine_pool_gives_the_vectors_of_one_engine_for_batches_and_concurrent_calls():
    pooled = get_embedder()
    assert isinstance(pooled, E5Embedder) and pooled.engines >= 1
    single = E5Embedder(engines=1)
    want_q, want_p = single.embed_queries(TEXTS), single.embed_passages(TEXTS)
    np.testing.assert_allclose(pooled.embed_queries(TEXTS), want_q, atol=1e-5)  # a batch split across engines
    np.testing.assert_allclose(pooled.embed_passages(TEXTS), want_p, atol=1e-5)
    with ThreadPoolExecutor(4) as ex:  # as the server's threads call it
        got = list(ex.map(lambda t: pooled.embed_queries([t])[0], TEXTS * 3))
    np.testing.assert_allclose(np.vstack(got), np.vstack([want_q] * 3), atol=1e-5)
    assert not np.allclose(want_q, want_p)  # the query: / passage: roles differ
    assert pooled.embed_queries([]).shape == (0, pooled.dim)


def test_loading_the_engines_leaves_the_openmp_setting_of_the_process_alone(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    E5Embedder(engines=1)
    assert os.environ["OMP_NUM_THREADS"] == "3"
    monkeypatch.delenv("OMP_NUM_THREADS")
    E5Embedder(engines=1)
    assert "OMP_NUM_THREADS" not in os.environ
