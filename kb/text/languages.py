"""Language codes, language detection with priors, and keyword tokenising.

Detection is restricted to the languages the knowledge base actually has:
a detector that may answer "ko" for `wifi 密码` is worse than useless when the
knowledge base holds only zh/en/ru. Script (Han, Cyrillic, ...) is the
strongest cheap signal; within Han, kana means Japanese and the characters
themselves tell Simplified from Traditional Chinese (kb/text/chinese.py);
langdetect only decides between languages that share a Latin-like script, and
the caller's UI language tips short queries. Every tie is broken by a fixed
order (the prior, then the codes sorted), never by the order of a set, which
changes with the process's hash seed.

Codes are two letters, except Traditional Chinese: `zh` is Simplified Chinese
(zh-Hans, zh-CN, zh-SG) and `zh-Hant` Traditional (zh-TW, zh-HK, zh-MO), two
languages to readers, each the other's first fallback.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass

from kb.errors import QueryError
from kb.text import chinese

log = logging.getLogger(__name__)

# Native names, used by language switchers ("read in: 中文 · English").
NAMES = {
    "en": "English", "zh": "中文", "zh-Hant": "繁體中文", "ru": "Русский", "es": "Español",
    "de": "Deutsch", "fr": "Français", "ar": "العربية", "ja": "日本語",
    "ko": "한국어", "pt": "Português", "it": "Italiano", "uk": "Українська",
    "tr": "Türkçe", "vi": "Tiếng Việt", "th": "ไทย", "hi": "हिन्दी",
    "el": "Ελληνικά", "ro": "Română", "pl": "Polski", "nl": "Nederlands",
}
KNOWN = frozenset(NAMES)

# Which script each language is written in; languages not listed use Latin.
SCRIPT_OF = {
    "zh": "han", "zh-Hant": "han", "ja": "han", "ru": "cyrillic", "uk": "cyrillic",
    "ar": "arabic", "ko": "hangul", "el": "greek", "th": "thai", "hi": "devanagari",
}

# Snowball stemmers by language code (PyStemmer algorithm names).
STEMMERS = {
    "en": "english", "ru": "russian", "es": "spanish", "de": "german",
    "fr": "french", "pt": "portuguese", "it": "italian", "ar": "arabic",
    "nl": "dutch", "tr": "turkish", "ro": "romanian", "el": "greek",
    "hi": "hindi", "uk": "russian", "pl": "polish",
}

# Lowercased spellings → our code, matched on the whole code first, then on its first part.
_ALIASES = {"zh-cn": "zh", "zh-hans": "zh", "zh-sg": "zh", "zh-my": "zh", "cn": "zh", "chs": "zh",
            "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant", "zh-hant": "zh-Hant", "cht": "zh-Hant",
            "iw": "he", "jp": "ja"}
SIBLING = chinese.SIBLING  # zh ↔ zh-Hant: the same language in the other script


def normalize(code: str | None) -> str | None:
    """Turn `zh-CN`, `ru_RU`, `EN` into our codes (`zh`, `ru`, `en`; `zh-TW` → `zh-Hant`); None stays None.

    A script subtag decides for Chinese (`zh-Hant-HK`, `zh-Hans-SG`); other
    regions are dropped (`pt-BR` → `pt`). Raises QueryError for codes we do not
    know, listing the ones we do.
    """
    if code is None or code == "":
        return None
    c = str(code).strip().lower().replace("_", "-")
    parts = c.split("-")
    if parts[0] == "zh" and len(parts) > 2:  # zh-Hant-TW, zh-Hans-CN: the script names the language
        c = "-".join(parts[:2])
    c = _ALIASES.get(c, c)
    if c in KNOWN:
        return c
    base = _ALIASES.get(parts[0], parts[0])
    if base not in KNOWN:
        raise QueryError(f"unknown language {code!r}; expected one of {sorted(KNOWN)}")
    return base


def script_of_char(ch: str) -> str | None:
    """The script of one letter, or None for digits, punctuation and spaces."""
    o = ord(ch)
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
        return "han"
    if 0x3040 <= o <= 0x30FF:
        return "kana"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
        return "hangul"
    if 0x0400 <= o <= 0x04FF:
        return "cyrillic"
    if 0x0600 <= o <= 0x06FF:
        return "arabic"
    if 0x0370 <= o <= 0x03FF:
        return "greek"
    if 0x0E00 <= o <= 0x0E7F:
        return "thai"
    if 0x0900 <= o <= 0x097F:
        return "devanagari"
    if ch.isalpha():
        return "latin"
    return None


def script_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in text:
        s = script_of_char(ch)
        if s:
            counts[s] = counts.get(s, 0) + 1
    return counts


@dataclass(frozen=True)
class Detection:
    """A detected language and how it was decided (for logs and the UI)."""

    lang: str | None
    confidence: float
    reason: str


@functools.cache
def _detector_factory():
    from langdetect import DetectorFactory
    from langdetect.detector_factory import init_factory

    DetectorFactory.seed = 0
    init_factory()
    from langdetect import detector_factory

    return detector_factory._factory


def _langdetect_probs(text: str) -> dict[str, float]:
    from langdetect.lang_detect_exception import LangDetectException

    from kb.text.detector import NumpyDetector

    factory = _detector_factory()
    try:
        det = NumpyDetector(factory)  # langdetect's own answers, its inner loop in numpy
        det.append(text)
        found = det.get_probabilities()
    except LangDetectException:
        return {}
    probs: dict[str, float] = {}
    for p in found:
        try:
            code = normalize(p.lang)
        except QueryError:
            continue
        probs[code] = probs.get(code, 0.0) + p.prob
    return probs


# Latin-script words are everywhere in technical text ("wifi", "CDN", "ffmpeg", logs),
# so a Han or Cyrillic letter outweighs this many Latin ones, and 20 of them
# (a sentence) decide a long text however much Latin surrounds them.
_FOREIGN_WEIGHT = 4
# A short query (a typed question, not a pasted ticket) with two letters of another script than Latin is in that
# script's language: "AdGuard VPN 在 iPhone 上总是断开" is Chinese with product names, whatever their letter count.
SHORT_WORDS = 12
_SHORT_FOREIGN = 2


def detect(text: str, available: set[str] | frozenset[str], prior: str | None = None) -> Detection:
    """Detect the language of `text` among `available`, with `prior` as the UI language.

    Order of evidence: the script (a Han query cannot be Russian); within Han,
    kana (Japanese) and the characters of one Chinese script; langdetect among
    the available languages of other scripts; the prior breaks ties and decides
    short queries where langdetect is a coin toss. Equal evidence goes to the
    prior, then to the first code in sorted order: the same answer in every
    process.
    """
    available = frozenset(available)
    prior = prior if prior in available else None
    if not available:
        return Detection(prior, 0.0, "knowledge base has no languages")
    if len(available) == 1:
        (only,) = available
        return Detection(only, 1.0, "only language")
    counts = script_counts(text)
    if not counts:
        return Detection(prior, 0.0, "no letters; UI language" if prior else "no letters")
    kana = counts.pop("kana", 0)
    if kana:  # kana means Japanese even when Han characters dominate
        counts["han"] = counts.get("han", 0) + kana
    words = len(re.findall(r"\w+", text))
    script = _script_of_text(counts, words)
    candidates = sorted(lang for lang in available if SCRIPT_OF.get(lang, "latin") == script)
    if not candidates:
        # No article in the query's script: the query is still in *a* language,
        # but retrieval will be cross-lingual. Report the best available guess.
        fallback = prior or sorted(available)[0]
        return Detection(fallback, 0.2, f"no {script} language in the knowledge base")
    if len(candidates) == 1:
        return Detection(candidates[0], 0.95, f"{script} script")
    if script == "han":
        return _han_language(text, candidates, prior, kana)
    return _by_langdetect(text, candidates, prior, words)


def _script_of_text(counts: dict[str, int], words: int) -> str:
    """The script whose languages the text may be in: Latin unless another script's letters say otherwise."""
    latin = counts.get("latin", 0)
    others = sorted((n, s) for s, n in counts.items() if s != "latin")
    if not others:
        return "latin"
    n, top = max(others)
    if n * _FOREIGN_WEIGHT >= latin or n >= 20 or (words <= SHORT_WORDS and n >= _SHORT_FOREIGN):
        return top  # a ticket in Russian with pasted English logs is a Russian ticket
    return "latin"


def _han_language(text: str, candidates: list[str], prior: str | None, kana: int) -> Detection:
    """Japanese, Simplified or Traditional Chinese, from the characters (langdetect answers "ko", "pl" or "en"
    for short Chinese queries mixed with product names: its n-grams of Han are too sparse there)."""
    chinese_langs = [c for c in candidates if c in SIBLING]
    if "ja" in candidates and (kana or not chinese_langs):
        return Detection("ja", 0.95, "kana" if kana else "han script")
    if len(chinese_langs) == 1:
        return Detection(chinese_langs[0], 0.9, "Chinese characters")
    marks = chinese.script_marks(text)
    hans, hant = marks[chinese.HANS], marks[chinese.HANT]
    if hans != hant:
        best = chinese.HANS if hans > hant else chinese.HANT
        return Detection(best, 0.95 if min(hans, hant) == 0 else 0.7, "characters of one Chinese script")
    best = prior if prior in chinese_langs else SIBLING.get(prior) if SIBLING.get(prior) in chinese_langs \
        else chinese_langs[0]
    return Detection(best, 0.5, "characters of both Chinese scripts" + ("; UI language" if best == prior else ""))


def _by_langdetect(text: str, candidates: list[str], prior: str | None, words: int) -> Detection:
    probs = _langdetect_probs(text)
    # Short text: langdetect is unreliable, so the prior counts for more.
    prior_boost = 4.0 if words <= 3 else (2.0 if words <= 8 else 1.2)
    scores = {}
    for lang in candidates:
        p = probs.get(lang, 0.0) + 0.02
        if lang == prior:
            p *= prior_boost
        scores[lang] = p
    # candidates come sorted: max keeps the first of equal scores, after the prior
    best = max(candidates, key=lambda lang: (scores[lang], lang == prior))
    total = sum(scores.values())
    reason = "langdetect" + (" + UI language" if best == prior else "")
    if not probs:
        reason = "UI language" if best == prior else "default"
    return Detection(best, scores[best] / total, reason)


# --- tokenising for the keyword index --------------------------------------

_WORD = re.compile(r"[^\W_]+(?:[_'][^\W_]+)*", re.UNICODE)
HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@functools.cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def warm_up(available=()):
    """Load langdetect's profiles and jieba's dictionary now (~0.3 s and ~0.6 s), and OpenCC's converters when
    the knowledge base has Chinese in either script (~2 s).

    All load on first use; a server calls this at start so that its first
    visitors do not wait for them (bench/speed saw them as 0.3-0.6 s
    requests at the start of every run).
    """
    _detector_factory()
    _jieba()
    if set(available) & set(SIBLING):
        chinese.warm_up()


@functools.cache
def _stemmer(lang: str):
    import Stemmer

    algo = STEMMERS.get(lang)
    return Stemmer.Stemmer(algo) if algo else None


def _stem(word: str, latin_lang: str) -> str:
    script = script_of_char(word[0]) if word else None
    if script == "cyrillic":
        lang = "ru" if latin_lang not in ("uk",) else latin_lang
    elif script == "latin":
        lang = latin_lang if SCRIPT_OF.get(latin_lang, "latin") == "latin" else "en"
    elif script == "arabic":
        lang = "ar"
    elif script == "greek":
        lang = "el"
    else:
        return word
    st = _stemmer(lang)
    return st.stemWord(word) if st else word


def han_words(run: str) -> list[str]:
    """A Han run cut into the words a reader sees (jieba's default mode, not search mode's overlapping parts)."""
    return [w for w in _jieba().cut(run) if w.strip()]


def tokenize(text: str, lang: str | None = None) -> list[str]:
    """Keyword tokens: Han runs cut by jieba in search mode, other words stemmed by script.

    Search mode yields both "农业发展银行" and its parts "农业", "银行", so a query
    for a sub-word still matches (a pain point of every CJK full-text index).
    Error codes and flags survive as tokens ("502", "err_cert_authority_invalid").
    """
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    pos = 0
    latin_lang = lang or "en"
    for m in HAN_RUN.finditer(text):
        tokens.extend(_stem(w, latin_lang) for w in _WORD.findall(text[pos:m.start()]))
        tokens.extend(w for w in _jieba().cut_for_search(m.group()) if w.strip())
        pos = m.end()
    tokens.extend(_stem(w, latin_lang) for w in _WORD.findall(text[pos:]))
    return tokens
