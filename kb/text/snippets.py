"""Snippets: the part of a section that shows why it matched, query terms highlighted.

Highlighting works on our keyword tokens, not on raw strings, so "кэша" is
highlighted for the query "кэш" and "回源" inside "回源失败" for "回源".
Filler words ("the", "на", "的": kb/text/fillers.py) are never highlighted.
The snippet is returned HTML-escaped with <mark> around hits: safe to insert
into a page as is, and readable as text once the two tags are stripped.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from kb.text import fillers, languages

WIDTH = 220  # characters of context shown
_MD_NOISE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"^\s*\|?[\s:|-]+\|[\s:|-]*$", re.M), ""),  # table rule lines
    (re.compile(r"^#{1,6}\s+", re.M), ""),
    (re.compile(r"\*\*|`|^\s*>\s?", re.M), ""),
    (re.compile(r"\s*\|\s*"), " · "),
    (re.compile(r"\s+"), " "),
]
_WORDS = re.compile(languages.HAN_RUN.pattern + r"|(?P<word>[^\W_]+(?:[_'][^\W_]+)*)", re.UNICODE)  # `word` unset for a Han run


@lru_cache(maxsize=4096)
def plain(markdown_text: str) -> str:
    """Markdown to one line of readable text (no markup, no table rules); fence lines are the caller's to drop
    (`kb.articles.blocks.without_fence_lines`: this folder cannot know Markdown's blocks).

    Memoised: the sections shown in results repeat from search to search, and
    eight regex passes per section were a fifth of a search's own work.
    """
    text = markdown_text
    for pattern, repl in _MD_NOISE:
        text = pattern.sub(repl, text)
    return text.strip(" ·")


@lru_cache(maxsize=65536)
def _word_tokens(word: str, lang: str) -> frozenset[str]:
    """Tokens of one word of a section; words repeat across sections and searches, stemming is the cost."""
    return frozenset(languages.tokenize(word, lang))


@lru_cache(maxsize=4096)
def _word_spans(text: str, lang: str) -> dict[str, tuple[tuple[int, int], ...]]:
    """Token → the spans of the words of `text` that make it: a shown section's words are tokenised once, not
    once per search that shows it (that walk was most of a snippet's cost)."""
    index: dict[str, list[tuple[int, int]]] = {}
    for m in _WORDS.finditer(text):
        word = m.group("word")
        if word:
            for token in _word_tokens(word, lang):
                index.setdefault(token, []).append(m.span())
    return {t: tuple(spans) for t, spans in index.items()}


def _hits(text: str, han: frozenset[str], words: frozenset[str], lang: str) -> list[tuple[int, int]]:
    spans = []
    for term in han:  # a Han term is found inside runs of Han text, which are not split into words
        at = text.find(term)
        while at >= 0:
            spans.append((at, at + len(term)))
            at = text.find(term, at + len(term))
    if words:
        index = _word_spans(text, lang)
        for term in words:
            spans.extend(index.get(term, ()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


@lru_cache(maxsize=64)
def _query_tokens(query: str, lang: str) -> tuple[frozenset[str], frozenset[str]]:
    """The query's tokens to highlight, Han terms (found inside runs of Han text) and words, once per query and
    language rather than once per result (jieba on a 500-character query, ten times over, was half a second of
    one search)."""
    filler = fillers.tokens(lang)
    tokens = {t for t in languages.tokenize(query, lang)
              if (len(t) > 1 or languages.script_of_char(t[0]) == "han") and t not in filler}
    han = frozenset(t for t in tokens if all(languages.script_of_char(ch) == "han" for ch in t))
    return han, frozenset(tokens) - han


def make(section_markdown: str, query: str, lang: str, width: int = WIDTH) -> str:
    """An HTML-safe snippet of `section_markdown` around the densest run of query terms."""
    text = plain(section_markdown)
    han, words = _query_tokens(query, lang)
    spans = _hits(text, han, words, lang) if han or words else []
    start = 0
    if spans and len(text) > width:
        best, best_n, j = spans[0][0], 0, 0
        for i, (s, _) in enumerate(spans):  # the window that holds the most hits (spans are sorted and disjoint)
            j = max(j, i)
            while j < len(spans) and spans[j][1] <= s + width:
                j += 1
            if j - i > best_n:
                best, best_n = s, j - i
        start = max(0, best - width // 4)
        if start:
            space = text.find(" ", start, start + 20)
            start = space + 1 if space != -1 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", end - 20, end)
        end = space if space > start else end
    out, pos = [], start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(text) else "")
