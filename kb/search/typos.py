"""Typo tolerance for the keyword side: query words the index has never seen, matched to words it has.

Only a query token that no chunk has (df = 0) is a suspect, so a query whose
words are all in the index keeps exactly today's keyword results and cost.
Suspects are corrected against the vocabulary of the generation (the terms of
its FTS5 index with their document counts, which the indexer copies into the
`vocab` table):

- **Words in letters** (Latin, Cyrillic, ...). The index holds Snowball stems
  and a typo'd word stems to a typo'd stem ("ошибак" → `ошибак`; the index has
  `ошибк`), so stems are compared, by optimal string alignment (a swap of two
  neighbours is one edit): one edit from 4 letters, two from 8. rapidfuzz
  compares a token with every stem of its script and length band in C++.
- **Chinese.** jieba cuts a typo'd run differently (推流失拜 → 推 / 流失 / 拜),
  so the run is corrected, not the token: each 2-4 character window over an
  unknown token is looked up with the unknown character as a wildcard among
  the index's Han words (失? → 失败, 失去, ...). A replacement that sounds the
  same (pinyin without tones: how Chinese is typed) comes first, then longer
  words, then frequent ones. A lone unknown character is only replaced by one
  that sounds the same: most of them are plain words the articles do not use
  (谁, 叫), and any character is one substitution away from many words. The
  corrected run is cut by jieba again and its new known words are added.

Among equally good candidates the first one that shares a chunk with another
word of the query wins (one FTS5 lookup each, for a few candidates).
Corrected tokens replace the suspect they came from; known tokens stay as
they are, except the words of a Chinese run that jieba cut apart because of
a typo fixed by sound (see `Vocabulary._han`).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import jieba
from rapidfuzz import process
from rapidfuzz.distance import OSA

from kb.text import languages

if TYPE_CHECKING:
    from kb.index.store import Store

MIN_LETTERS = 4  # shorter words have too many neighbours one edit away ("cat": bat, cut, car, ...)
TWO_EDITS_FROM = 8  # letters; shorter words get one edit
MAX_FIXES = 4  # suspects corrected per query, in query order
MAX_QUERY_TOKENS = 32  # longer texts (pasted tickets) are full of ids and log words no article has
HAN_WINDOWS = (2, 3, 4)  # lengths of the Han words a run's windows are looked up as
CHECKED = 5  # candidates checked for a chunk shared with the rest of the query
CONTEXT = 6  # the query's rarest known tokens used for that check
WILDCARD = "?"
DENSE_MIN_LETTERS = 6  # shortest typed word whose correction is embedded too (see Vocabulary._spelled)
DISCOUNT = 0.8  # weight of a corrected token relative to a typed one, for callers that weigh tokens
_LETTERS = re.compile(r"^[^\W\d_]+$")
_WORDS = re.compile(r"[^\W\d_]+")


def lookup_keys(term: str) -> list[str]:
    """The one-wildcard keys a Han word is found by ("失败" → "?败", "失?"); none for other terms."""
    if len(term) not in HAN_WINDOWS or not languages.HAN_RUN.fullmatch(term):
        return []
    return [term[:i] + WILDCARD + term[i + 1:] for i in range(len(term))]


@dataclass(frozen=True)
class Correction:
    """A query's tokens after correction; `fixed` maps each token added to the suspect it replaces."""

    tokens: list[str]
    df: dict[str, int] = field(default_factory=dict)  # document counts of the tokens added
    fixed: dict[str, str] = field(default_factory=dict)
    text: str = ""  # the query as meant (typed words replaced by the knowledge base's own), for the dense side

    def weight(self, token: str) -> float:
        return DISCOUNT if token in self.fixed else 1.0


class Vocabulary:
    """One generation's terms, for correcting query tokens; load it once, when the generation opens."""

    def __init__(self, words: list[tuple[str, int]], store: Store):
        self._bands: dict[tuple[str, int], list[str]] = {}
        self._df: dict[str, int] = {}
        for term, doc in words:
            if len(term) >= MIN_LETTERS - 1 and _LETTERS.match(term) and not languages.HAN_RUN.search(term):
                self._bands.setdefault((_script(term), len(term)), []).append(term)
                self._df[term] = doc
        self._store = store
        if any(languages.HAN_RUN.match(term) for term, _ in words):
            _readings()  # now, not on the first visitor's typo (0.1 s)

    @classmethod
    def load(cls, store: Store) -> Vocabulary:
        return cls(store.vocabulary(), store)

    def correct(self, text: str, tokens: list[str], df: Mapping[str, int], lang: str | None = None) -> Correction:
        """`tokens` of the query `text` (as `languages.tokenize(text, lang)` made them), unknown words corrected.

        `df` holds each token's document count (`Store.doc_frequencies`).
        """
        suspects = [t for t in tokens if not df.get(t)]
        if not suspects or len(tokens) > MAX_QUERY_TOKENS:
            return Correction(list(tokens))
        context = sorted((t for t in tokens if df.get(t)), key=df.get)[:CONTEXT]
        added: dict[str, tuple[str, int]] = {}  # token added -> (the suspect it replaces, its df)
        budget = MAX_FIXES
        typed = _typed_lengths(text, suspects, lang)
        for t in suspects:
            if budget and typed.get(t, len(t)) >= MIN_LETTERS and _LETTERS.match(t) and not languages.HAN_RUN.search(t):
                best = self._nearest_word(t, typed.get(t, len(t)), context)
                if best:
                    added.setdefault(best, (t, self._df[best]))
                    budget -= 1
        han = {t for t in suspects if _suspect_han(t, df)}
        cut_apart: set[str] = set()
        han_fixes: dict[str, str] = {}  # a Han run as typed -> as corrected
        if han and budget:
            found, cut_apart = self._han(text, han, context, budget, han_fixes)
            for word, where in found.items():
                added.setdefault(word, where)
        added = {w: v for w, v in added.items() if w not in tokens}
        if not added:
            return Correction(list(tokens))
        replaced = {s for s, _ in added.values()} | cut_apart
        spelled = self._spelled(text, lang, {w: s for w, (s, _) in added.items()}, han_fixes)
        out: list[str] = []
        for t in tokens:
            if t not in replaced:
                out.append(t)
            out += [w for w, (s, _) in added.items() if s == t and w not in out]
        out += [w for w in added if w not in out]  # a Han run cut on its own may name a suspect the query lacks
        return Correction(out, {w: d for w, (_, d) in added.items()}, {w: s for w, (s, _) in added.items()},
                          spelled)

    def _spelled(self, text: str, lang: str | None, fixed: dict[str, str], han_fixes: dict[str, str]) -> str:
        """The query with each corrected word written as the knowledge base writes it, or "" if none can be.

        The dense side embeds text, not tokens: "推流失拜" embedded as typed is
        far from the article on push failures that "推流失败" is about, so the
        search refused its own best result (the answered decision reads this
        text's cosine too: kb/search/pipeline.py). A corrected stem is written
        back as a word the index has it from (`ошибк` → "ошибка", from a chunk
        that has it); a Chinese run as corrected.

        Only the surest corrections are written: a Han run whose replacements
        sound the same, a word of DENSE_MIN_LETTERS or more one edit from its
        replacement. The keyword side weighs a correction down (DISCOUNT), but
        the answered decision takes the best cosine of the two texts, so a
        wrong one ("cant" → "can", "twitch" → "switch": real words the
        articles lack) would make an off-topic question look answered.
        """
        out = unicodedata.normalize("NFKC", text).lower()
        changed = False
        for run, run_fixed in han_fixes.items():
            out, changed = out.replace(run, run_fixed), True
        for stem, suspect in fixed.items():
            if languages.HAN_RUN.search(stem):
                continue
            typed_len = max((len(w) for w in _WORDS.findall(out) if languages.tokenize(w, lang) == [suspect]), default=0)
            if typed_len < DENSE_MIN_LETTERS or OSA.distance(stem, suspect) > 1:
                continue
            word = self._surface(stem, lang)
            typed = [w for w in _WORDS.findall(out) if languages.tokenize(w, lang) == [suspect]]
            if word and typed:
                out = re.sub(r"\b(?:%s)\b" % "|".join(map(re.escape, typed)), word, out)
                changed = True
        return out if changed else ""

    def _surface(self, stem: str, lang: str | None) -> str | None:
        """A word of the knowledge base's text that stems to `stem` (one chunk read), or None."""
        chunk = self._store.chunk_with(stem)
        rows = self._store.chunks_by_rowid([chunk]) if chunk is not None else {}
        for row in rows.values():
            for word in _WORDS.findall(unicodedata.normalize("NFKC", row.text).lower()):
                if languages.tokenize(word, lang) == [stem]:
                    return word
        return None

    def _first_shared(self, ranked: list[str], context: list[str]) -> str:
        """The first of the best candidates found in a chunk with a word of the query; else the best."""
        for word in ranked[:CHECKED] if context else ():
            if self._store.shares_chunk(word, [c for c in context if c != word]):
                return word
        return ranked[0]

    # --- words in letters ----------------------------------------------------

    def _nearest_word(self, token: str, typed: int, context: list[str]) -> str | None:
        """The indexed stem nearest to a stem, with edits allowed by the length of the word as typed."""
        edits = 2 if typed >= TWO_EDITS_FROM else 1
        script = _script(token)
        found: list[tuple[int, int, str]] = []
        for n in range(len(token) - edits, len(token) + edits + 1):
            for word, dist, _ in process.extract(token, self._bands.get((script, n), ()), scorer=OSA.distance,
                                                 score_cutoff=edits, limit=None):
                found.append((dist, -self._df[word], word))
        if not found:
            return None
        found.sort()
        return self._first_shared([w for d, _, w in found if d == found[0][0]], context)

    # --- Chinese -------------------------------------------------------------

    def _han(self, text: str, suspects: set[str], context: list[str], budget: int, fixes: dict[str, str]
             ) -> tuple[dict[str, tuple[str, int]], set[str]]:
        """(known words of the query's Han runs once their unknown characters are replaced, words cut apart).

        A replaced character fixes the run, so the run is cut again: jieba's cut
        of 推流失拜 (推 / 流失 / 拜) was the typo's doing, and 推 alone would
        outweigh 推流 (it is rarer). When every replacement sounds the same as
        what was typed, the words the corrected run does not have (and no other
        run of the query has) are dropped. A replacement by sound alone is a
        guess among many, and the old cut's words still match: dropping them
        too cost cmrc2018 0.005 keyword nDCG@10 on its typo'd queries (on
        homophone typos alone, dropping or keeping was within 0.002).
        """
        text = unicodedata.normalize("NFKC", text).lower()
        out: dict[str, tuple[str, int]] = {}
        cut_apart: set[str] = set()
        kept: set[str] = set()
        for m in languages.HAN_RUN.finditer(text):
            run = fixed = m.group()
            before = languages.tokenize(run)
            if not budget or not any(s in run for s in suspects):
                kept.update(before)
                continue
            bad = self._bad(run, before)
            done: dict[int, str] = {}  # position replaced -> the suspect token it was in
            alike = True
            while budget and bad:
                fix = self._fix(fixed, bad, context)
                if fix is None:
                    break
                pos, ch, bad_after = fix
                done[pos] = bad[pos][0]
                alike = alike and _sounds_alike(ch, fixed[pos])
                fixed, bad = fixed[:pos] + ch + fixed[pos + 1:], bad_after
                budget -= 1
            after = list(dict.fromkeys(languages.tokenize(fixed))) if done else before
            kept.update(after)
            new = [w for w in after if w not in before]
            df = self._store.term_counts(new) if new else {}
            for w in new:
                if df.get(w):
                    out.setdefault(w, (_suspect_of(w, fixed, done), df[w]))
                    if alike:
                        fixes[run] = fixed
            if alike and any(w in out for w in new):
                cut_apart.update(before)
        return out, cut_apart - kept

    def _bad(self, run: str, tokens: list[str]) -> dict[int, tuple[str, int, int]]:
        """Positions of a run inside a suspect token → (the token, its start, its end)."""
        df = self._store.term_counts(tokens)
        return _positions(run, {t for t in tokens if _suspect_han(t, df)})

    def _fix(self, run: str, bad: dict[int, tuple[str, int, int]], context: list[str]):
        """(position, character, suspects left) of the best one-character fix that leaves no suspect where it was.

        Replacing 什 in 了什蟾 (for 了什么) makes the known word 了解 but leaves 蟾
        unknown, so the fix must leave no character of its suspect token inside
        a suspect after the run is cut again. The first of the best candidates
        that also shares a chunk with another word of the query wins.
        """
        ok = []
        for pos, ch, word in self._candidates(run, bad)[:CHECKED]:
            trial = run[:pos] + ch + run[pos + 1:]
            left = self._bad(trial, languages.tokenize(trial))
            if not any(p in left for p in range(bad[pos][1], bad[pos][2])):
                ok.append((pos, ch, word, left))
        if not ok:
            return None
        best = self._first_shared([word for _, _, word, _ in ok], context)
        return next((pos, ch, left) for pos, ch, word, left in ok if word == best)

    def _candidates(self, run: str, bad: dict[int, tuple[str, int, int]]) -> list[tuple[int, str, str]]:
        """(position, character, known word made) for one replaced character in a suspect, best first."""
        keys: dict[str, list[tuple[int, int]]] = {}  # key -> [(window start, position replaced)]
        for size in HAN_WINDOWS:
            for start in range(0, len(run) - size + 1):
                for pos in range(start, start + size):
                    if pos in bad:
                        keys.setdefault(run[start:pos] + WILDCARD + run[pos + 1:start + size], []).append((start, pos))
        ranked: dict[tuple[int, str], tuple] = {}  # (position, character) -> (rank, word)
        for key, word, doc in self._store.terms_by_key(keys):
            for start, pos in keys[key]:
                ch = word[pos - start]
                alike = _sounds_alike(ch, run[pos])
                if ch == run[pos] or (len(bad[pos][0]) == 1 and not alike):
                    continue
                rank = ((alike, len(word), doc), word)
                ranked[(pos, ch)] = max(rank, ranked.get((pos, ch), rank))
        order = sorted(sorted(ranked), key=ranked.get, reverse=True)  # equal ranks: by position, then character
        return [(pos, ch, ranked[(pos, ch)][1]) for pos, ch in order]


def _suspect_han(token: str, df: Mapping[str, int]) -> bool:
    """A Han token no chunk has that is a lone character or no word of jieba's dictionary.

    Most unknown words of correct Chinese queries are dictionary words the
    articles happen not to use (question words: 哪里, 什么); a typo makes jieba
    coin a word of its own (卫杏, 两假). Of the unknown tokens over a typo in 300
    typo'd cmrc2018 queries, 248 of 260 were not dictionary words; of those in
    the same queries without typos, 19 of 76.
    """
    if df.get(token) or not languages.HAN_RUN.fullmatch(token):
        return False
    return len(token) == 1 or not jieba.get_FREQ(token)


def _positions(run: str, suspects: set[str]) -> dict[int, tuple[str, int, int]]:
    """Character positions of a Han run inside a suspect token → (that token, its start, its end)."""
    out: dict[int, tuple[str, int, int]] = {}
    # Where suspects overlap (jieba's search mode cuts 名镇 and 镇 alike), the longest owns the position: in a
    # set's order, the owner changed with the process's hash seed, and with it the correction and the results.
    for s in sorted(suspects, key=lambda t: (-len(t), run.find(t), t)):
        start = run.find(s)
        while start >= 0:
            for p in range(start, start + len(s)):
                out.setdefault(p, (s, start, start + len(s)))
            start = run.find(s, start + 1)
    return out


def _suspect_of(word: str, run: str, done: dict[int, str]) -> str:
    """The suspect a corrected word replaces: the one at a replaced position inside the word, else the first."""
    start = run.find(word)
    while start >= 0:
        for p in range(start, start + len(word)):
            if p in done:
                return done[p]
        start = run.find(word, start + 1)
    return next(iter(done.values()))


def _typed_lengths(text: str, suspects: list[str], lang: str | None) -> dict[str, int]:
    """Suspect stem → length of the word it was typed as.

    A stemmer can turn one typo into two edits: "certificate" stems to
    `certif`, "certficate" to `certfic`. So the edits allowed follow the word
    as typed, not its stem.
    """
    out: dict[str, int] = {}
    wanted = set(suspects)
    for word in _WORDS.findall(languages.HAN_RUN.sub(" ", unicodedata.normalize("NFKC", text).lower())):
        stems = languages.tokenize(word, lang) if len(word) >= MIN_LETTERS else []
        if len(stems) == 1 and stems[0] in wanted:
            out[stems[0]] = max(out.get(stems[0], 0), len(word))
    return out


def _script(word: str) -> str:
    return languages.script_of_char(word[0]) or ""


@functools.cache
def _readings() -> dict[int, tuple[str, ...]]:
    """Han character (code point) → its readings in pinyin without tones, from pypinyin's character table.

    Read from the table's file: importing pypinyin also loads its phrase table,
    which this never uses (0.4 s and 58 MB; the file alone: 0.1 s, 10 MB).
    """
    spec = importlib.util.find_spec("pypinyin")
    path = Path(spec.submodule_search_locations[0]) / "pinyin_dict.json"
    table = json.loads(path.read_text(encoding="utf-8"))
    toneless = functools.cache(_toneless)  # ~1,500 distinct readings, shared by 42,000 characters
    return {int(code): tuple(dict.fromkeys(toneless(r) for r in readings.split(","))) for code, readings in table.items()}


def _toneless(reading: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c)).replace("ü", "v")


def pinyin(ch: str) -> tuple[str, ...]:
    """The readings of a Han character in pinyin without tones (败 → ("bai",)); none for other characters."""
    return _readings().get(ord(ch), ())


def _sounds_alike(a: str, b: str) -> bool:
    theirs = pinyin(b)
    return any(r in theirs for r in pinyin(a))
