"""Questions a knowledge base asks itself: its titles, headings and sentences, as a customer might type them.

Per-KB calibration (kb/search/calibration.py) needs queries whose answer is
known without anyone writing them: each sampled article gives its title, one
heading and one cropped sentence, in every language it is written in. Their
answer is the article (a translation group), so they can be searched with it
present (answerable), with it left out (an in-domain question the knowledge
base cannot answer) and, where the article has translations, with only the
question's own language left out (answerable across languages).

Such questions are easier than real ones: they quote the article's words. So:
- a sentence is cropped to a few words (a query, not a paragraph);
- a title or heading several articles share ("Overview", a Wikipedia page
  name over 48 paragraphs) is no question: it names no one article;
- what calibration reads from them is positions (quantiles) compared with the
  same positions on the dev sets, not raw levels (kb/search/calibration.py).

Deterministic: articles are sampled by a hash of their id (not Python's
`hash`, which changes per process), and the heading and sentence of each
version are chosen by a hash of its id and language.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from kb.text import languages, snippets

KINDS = ("title", "heading", "sentence")
MAX_GROUPS = 300  # articles (translation groups) sampled at most; MAX_QUESTIONS bounds the cost
MAX_QUESTIONS = 600  # ~36 s of query embeddings on 2 cores the first time, cached by content afterwards
SENTENCE_WORDS = 8  # a typed question's length in words (Latin, Cyrillic...)
SENTENCE_CHARS = 12  # ... and in characters for Han, kana and Hangul
MIN_WORDS = 3
MIN_CHARS = 5
_SENTENCE_END = re.compile(r"(?<=[.!?。！？；;])\s*|\n+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # title | heading | sentence
    group: str  # the article id it was made from: its answer
    lang: str  # the version it was made from


def stable(*parts: str) -> int:
    """A number from text that is the same in every process (PYTHONHASHSEED does not touch it)."""
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()[:8], "big")


def sample_groups(groups: dict[str, list], limit: int = MAX_GROUPS) -> list[str]:
    """Up to `limit` article ids, the same ones for the same ids whatever their order."""
    return sorted(groups, key=lambda g: (stable("group", g), g))[:limit]


def make(gen, limit_groups: int = MAX_GROUPS, limit_questions: int = MAX_QUESTIONS) -> list[Question]:
    """Questions from the public articles of a generation (kb.search.generation.Generation)."""
    public = {g: [v for v in vs if v.is_public] for g, vs in gen.groups.items()}
    public = {g: vs for g, vs in public.items() if vs}
    titles = _shared((g, v.title) for g, vs in public.items() for v in vs)
    chunks = {v.rowid: gen.store.chunks_of(v.rowid) for g in sample_groups(public, limit_groups) for v in public[g]}
    headings = _shared((g, c.heading) for g in sample_groups(public, limit_groups) for v in public[g]
                       for c in chunks[v.rowid] if c.heading)
    out: list[Question] = []
    for g in sample_groups(public, limit_groups):
        for v in public[g]:
            out.extend(_of_version(g, v.lang, v.title, chunks[v.rowid], titles, headings))
        if len(out) >= limit_questions:
            break
    return out[:limit_questions]


def _of_version(group: str, lang: str, title: str, chunks, shared_titles: set, shared_headings: set) -> list[Question]:
    out = []
    if title and _norm(title) not in shared_titles and _long_enough(title):
        out.append(Question(title.strip(), "title", group, lang))
    heads = [c.heading for c in chunks if c.heading and _norm(c.heading) not in shared_headings
             and _long_enough(c.heading) and _norm(c.heading) != _norm(title)]
    if heads:
        out.append(Question(heads[stable("heading", group, lang) % len(heads)].strip(), "heading", group, lang))
    sentence = pick_sentence(" ".join(snippets.plain(c.text) for c in chunks), stable("sentence", group, lang))
    if sentence:
        out.append(Question(sentence, "sentence", group, lang))
    return out


def pick_sentence(text: str, seed: int) -> str | None:
    """A window of a few words out of one of the text's sentences, chosen by `seed`."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and _long_enough(s.strip())]
    if not sentences:
        return None
    return crop(sentences[seed % len(sentences)])


def crop(sentence: str) -> str:
    """The first `SENTENCE_WORDS` words (or `SENTENCE_CHARS` characters of CJK) of a sentence: where a sentence
    says what it is about, as a typed question would (a window from its middle read like "button on a")."""
    if len(_CJK.findall(sentence)) * 2 >= len(sentence.replace(" ", "")):
        return sentence.strip()[:SENTENCE_CHARS].strip()
    return " ".join(sentence.split()[:SENTENCE_WORDS])


def _long_enough(text: str) -> bool:
    cjk = len(_CJK.findall(text))
    return cjk >= MIN_CHARS or len(languages.tokenize(text)) >= MIN_WORDS


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _shared(pairs) -> set[str]:
    """Texts found in more than one article (a translation may keep its original's title): they name no one
    article."""
    groups = Counter(t for t, _ in {(_norm(text), g) for g, text in pairs if text})
    return {t for t, n in groups.items() if n > 1}
