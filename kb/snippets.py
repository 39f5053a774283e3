"""Snippets: the part of a section that shows why it matched, query terms highlighted.

Highlighting works on our keyword tokens, not on raw strings, so "кэша" is
highlighted for the query "кэш" and "回源" inside "回源失败" for "回源".
The snippet is returned HTML-escaped with <mark> around hits: safe to insert
into a page as is, and readable as text once the two tags are stripped.
"""

from __future__ import annotations

import html
import re

from . import languages

WIDTH = 220  # characters of context shown
_MD_NOISE = [
    (re.compile(r"^[ \t]*(```|~~~).*$", re.M), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"^\s*\|?[\s:|-]+\|[\s:|-]*$", re.M), ""),  # table rule lines
    (re.compile(r"^#{1,6}\s+", re.M), ""),
    (re.compile(r"\*\*|`|^\s*>\s?", re.M), ""),
    (re.compile(r"\s*\|\s*"), " · "),
    (re.compile(r"\s+"), " "),
]
_TOKENISH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\W_]+(?:[_'][^\W_]+)*", re.UNICODE)


def plain(markdown_text: str) -> str:
    """Markdown to one line of readable text (no markup, no table rules)."""
    text = markdown_text
    for pattern, repl in _MD_NOISE:
        text = pattern.sub(repl, text)
    return text.strip(" ·")


def _hits(text: str, query_tokens: set[str], lang: str) -> list[tuple[int, int]]:
    spans = []
    han_terms = sorted((t for t in query_tokens if languages.script_of_char(t[0]) == "han"), key=len, reverse=True)
    for m in _TOKENISH.finditer(text):
        word = m.group()
        if languages.script_of_char(word[0]) == "han":
            for term in han_terms:
                for hit in re.finditer(re.escape(term), word):
                    spans.append((m.start() + hit.start(), m.start() + hit.end()))
        elif set(languages.tokenize(word, lang)) & query_tokens:
            spans.append((m.start(), m.end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def make(section_markdown: str, query: str, lang: str, width: int = WIDTH) -> str:
    """An HTML-safe snippet of `section_markdown` around the densest run of query terms."""
    text = plain(section_markdown)
    query_tokens = {t for t in languages.tokenize(query, lang) if len(t) > 1 or languages.script_of_char(t[0]) == "han"}
    spans = _hits(text, query_tokens, lang) if query_tokens else []
    start = 0
    if spans and len(text) > width:
        best, best_n = spans[0][0], 0
        for s, _ in spans:  # window that holds the most hits
            n = sum(1 for a, b in spans if s <= a and b <= s + width)
            if n > best_n:
                best, best_n = s, n
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
