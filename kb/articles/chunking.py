"""Sections and chunks: what a search result points at.

An article is split at its Markdown headings into sections, one entry per
heading; the text before the first heading is the intro. Each chunk carries the
article title and heading path in its text, so "Fix" under "502 Bad Gateway"
is found as such, and the heading's anchor, so a result links to the exact
section. Anchors are made exactly as the article page makes them (Markdown's
toc extension), or the links would miss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown.blockprocessors import ReferenceProcessor
from markdown.extensions.toc import slugify_unicode, unique

from kb.articles import blocks
from kb.articles.model import Article

# Rough token budget for one chunk: e5-small reads 512 tokens at most and
# embedding time grows with length; ~220 tokens keeps one idea per chunk.
MAX_TOKENS = 220
HUGE_LINE = 8  # a line over 8 chunks' worth of tokens is cut; shorter ones stay whole
_UNDERSCORE_EMPHASIS = re.compile(r"(?<![\w_])(_{1,2})(?=\S)(.{1,200}?)(?<=\S)\1(?![\w_])")  # bounded: linear on hostile lines
_REF_USE = re.compile(r"!?\[([^\[\]]*)\]\[[^\[\]]*\]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Section:
    heading: str  # "" for the intro
    level: int
    path: tuple[str, ...]  # headings from the top down to this one
    anchor: str
    text: str  # Markdown of the section, heading line excluded
    line: int  # line of the heading in the body (1-based)


@dataclass(frozen=True)
class Chunk:
    ord: int
    heading: str
    anchor: str
    heading_path: tuple[str, ...]
    text: str  # the section's words, for snippets
    embed_text: str  # title and heading path + words, what is embedded and keyword-indexed


def approx_tokens(text: str) -> int:
    """Cheap token estimate without the model's tokenizer: CJK ≈ 1 token a character."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk) // 4


def plain_heading(md: str) -> str:
    """Heading text as the reader sees it: no backticks, emphasis or link targets."""
    md = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", md)
    md = _UNDERSCORE_EMPHASIS.sub(r"\2", md)  # `_x_` and `__x__` only: `ip_version` keeps its `_`, as on the page
    return re.sub(r"[`*]", "", md).strip()


def heading_of(line: str) -> tuple[int, str] | None:
    """(level, raw text) of an ATX heading line, closing #s dropped; None for other lines.

    What `^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$` matches, without the regex: its
    backtracking took minutes on a heading line with a few thousand spaces.
    """
    level = len(line) - len(line.lstrip("#"))
    rest = line[level:]
    if not 1 <= level <= 6 or rest[:1] not in (" ", "\t"):
        return None
    text = rest.lstrip(" \t")
    if not text:  # spaces only: the last one is the text
        return (level, rest[-1]) if len(rest) > 1 else None
    return level, text.rstrip(" \t").rstrip("#").rstrip(" \t") or text[0]


def _headings(lines: list[str]) -> dict[int, tuple[int, str, str | None]]:
    """Line index → (level, raw text without `{#id}`, custom id) of every heading outside fenced code."""
    code = blocks.code_lines(lines)
    found = {}
    for i, line in enumerate(lines):
        m = None if code[i] else heading_of(line)
        if m:
            raw, custom = blocks.split_heading_id(m[1])
            found[i] = (m[0], raw, custom)
    return found


def sections(body: str) -> list[Section]:
    """Split a Markdown body at headings outside fenced code blocks.

    A heading's `{#id}` is its anchor, as on the page; ids made from other headings' text skip
    those taken by custom ids, as the toc extension does (it reserves every id already set).
    """
    out: list[Section] = []
    lines = body.split("\n")
    heads = _headings(lines)
    used_ids: set = {custom for _, _, custom in heads.values() if custom}
    stack: list[tuple[int, str]] = []
    cur_heading, cur_level, cur_path, cur_anchor, cur_line = "", 0, (), "", 1
    buf: list[str] = []

    def flush():
        text = "\n".join(buf).strip()
        if text or cur_heading:
            out.append(Section(cur_heading, cur_level, cur_path, cur_anchor, text, cur_line))

    for i, line in enumerate(lines):
        if i not in heads:
            buf.append(line)
            continue
        flush()
        buf = []
        level, raw, custom = heads[i]
        heading = plain_heading(raw)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        cur_heading, cur_level, cur_line = heading, level, i + 1
        cur_path = tuple(h for _, h in stack)
        cur_anchor = custom or unique(slugify_unicode(heading, "-"), used_ids)
    flush()
    return out


def reader_text(markdown_text: str) -> str:
    """Section Markdown as readers see its words: link reference definitions dropped, `[text][ref]` as text.

    A definition (`[ref]: other-article-id`) is never shown on the page; left in a
    chunk, a search snippet would show the id of an article the reader may not see.
    """
    out = []
    for piece, code in blocks.segments(markdown_text):
        if not code:
            piece = _admonition_titles(_REF_USE.sub(r"\1", ReferenceProcessor.RE.sub("", piece)))
        out.append(piece)
    return "".join(out).strip()


def _admonition_titles(text: str) -> str:
    """`!!! note "Title"` as its title, a bare `!!! note` dropped: the marker is no word of the reader's."""
    return blocks.ADMONITION.sub(lambda m: m.group("indent") + m.group("title") if m.group("title") else "", text)


def _cut_huge_line(line: str, budget: int) -> list[str]:
    """A line many chunks long (a minified file, a pasted dump) in budget-sized pieces; other lines as they are."""
    tokens = approx_tokens(line)
    if tokens <= HUGE_LINE * budget:
        return [line]
    width = -(-len(line) // -(-tokens // budget))
    return [line[i:i + width] for i in range(0, len(line), width)]


def _split_long(text: str, budget: int) -> list[str]:
    """Split at paragraphs (then lines) into pieces under `budget`, one paragraph of overlap."""
    paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    pieces: list[str] = []
    cur: list[str] = []
    for p in paras:
        if approx_tokens(p) > budget:  # one huge paragraph or code block: cut by lines
            lines = [part for line in p.split("\n") for part in _cut_huge_line(line, budget)]
            step = max(1, len(lines) * budget // max(approx_tokens(p), 1))
            sub = ["\n".join(lines[j:j + step]) for j in range(0, len(lines), step)]
        else:
            sub = [p]
        for s in sub:
            if cur and approx_tokens("\n\n".join(cur + [s])) > budget:
                pieces.append("\n\n".join(cur))
                cur = [cur[-1]] if approx_tokens(cur[-1]) < budget // 2 else []
            cur.append(s)
    if cur:
        pieces.append("\n\n".join(cur))
    return pieces or [text]


def chunk(article: Article, max_tokens: int = MAX_TOKENS) -> list[Chunk]:
    """Chunks of an article, in reading order.

    A heading with no words of its own ("## Causes and fixes" right before
    "### 502") is no chunk: as a result it would show an empty snippet, and its
    words reach search anyway through its subsections' heading paths. Anchors
    are those of `sections`, so they stay the page's. An article of headings
    only keeps its first one, so that it can still be found by its title.
    """
    chunks: list[Chunk] = []
    secs = [(sec, reader_text(sec.text)) for sec in sections(article.body)]
    for sec, text in [(sec, text) for sec, text in secs if text] or [(sec, sec.heading) for sec, _ in secs[:1]]:
        head = " › ".join((article.title,) + sec.path)
        for piece in _split_long(text, max_tokens):
            chunks.append(Chunk(len(chunks), sec.heading, sec.anchor, sec.path, piece, f"{head}\n\n{piece}"))
    return chunks
