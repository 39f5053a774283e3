"""langdetect's detector with its inner loop on numpy arrays: the same answers, a fraction of the CPU.

langdetect samples a text's n-grams at random, ~80 times per trial and 7
trials, and for each one multiplies the probability of every one of its 55
languages in a Python loop. That loop was a third of a search's own CPU
(outside the embedder) whenever a Latin-script query had to be told apart
between English and Spanish. Here each n-gram's row is a numpy array (made
the first time the n-gram is sampled) and the update is one vector multiply.

The result is bit-for-bit langdetect's: the same random draws in the same
order, the same IEEE operations per element (add, then multiply; divide by
the sum), the sum taken by Python's own `sum` as langdetect does
(tests/test_ngram_detector.py compares the two on thousands of texts).
"""

from __future__ import annotations

import numpy as np
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode, LangDetectException


class NumpyDetector(Detector):
    """A `langdetect.detector.Detector` whose `_detect_block` updates all languages at once."""

    _rows: dict[int, dict[str, np.ndarray]] = {}  # per factory's map (by id): n-gram -> its row as an array

    def _detect_block(self):
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        rows = self._rows.setdefault(id(self.word_lang_prob_map), {})
        n_langs = len(self.langlist)
        langprob = [0.0] * n_langs
        scratch = np.empty(n_langs)
        self.random.seed(self.seed)
        for _ in range(self.n_trial):
            prob = np.array(self._init_probability(), dtype=np.float64)
            alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            weight = alpha / self.BASE_FREQ
            i = 0
            while True:
                word = self.random.choice(ngrams)
                row = rows.get(word)
                if row is None:
                    row = rows[word] = np.array(self.word_lang_prob_map[word], dtype=np.float64)
                np.multiply(prob, np.add(row, weight, out=scratch), out=prob)
                if i % 5 == 0:
                    prob /= sum(prob.tolist())  # Python's sum, in langdetect's order
                    if prob.max() > self.CONV_THRESHOLD or i >= self.ITERATION_LIMIT:
                        break
                i += 1
            for j, p in enumerate(prob.tolist()):
                langprob[j] += p / self.n_trial
        self.langprob = langprob
