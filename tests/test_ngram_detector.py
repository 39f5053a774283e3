"""kb.text.detector gives langdetect's own answers, bit for bit: same languages, same probabilities."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from langdetect.lang_detect_exception import LangDetectException

from kb.text import languages
from kb.text.detector import NumpyDetector
from tests.support import examples

DATA = Path(__file__).parent / "data"


def both(text: str):
    factory = languages._detector_factory()
    out = []
    for make in (factory.create, lambda: NumpyDetector(factory)):
        det = make()
        det.append(text)
        try:
            out.append([(p.lang, p.prob) for p in det.get_probabilities()])
        except LangDetectException as e:
            out.append(("error", e.code))
    return out


def test_the_sample_queries_and_their_words_get_langdetects_exact_probabilities():
    texts = [json.loads(line)["text"] for line in (DATA / "sample_queries.jsonl").read_text(encoding="utf-8").splitlines()]
    rng = random.Random(3)
    texts += [" ".join(rng.sample(t.split(), min(2, len(t.split())))) for t in texts]  # short: many trials go long
    texts += ["cache", "error", "cdn", "¿cómo configuro el dominio acelerado?", "502", "", "https://a.example/x"]
    for text in texts:
        theirs, ours = both(text)
        assert ours == theirs, text


@settings(max_examples=examples(200), deadline=None)  # a tenth in the fast tier, as every property test
@given(st.text(alphabet=st.sampled_from(list("abcdeéñóüxyz ¿?.-0123456789ЖжюяДОБРЫЙ密码错误")), max_size=80))
def test_any_text_gets_langdetects_exact_probabilities(text):
    theirs, ours = both(text)
    assert ours == theirs
