"""Simplified and Traditional Chinese: two languages to readers, one writing converted into the other by OpenCC.

A reader in Taipei or Hong Kong reads Traditional characters and a reader in
Beijing Simplified ones; a knowledge base may have either, both, or one
version of an article only. So `zh` (Simplified, also called zh-Hans, zh-CN)
and `zh-Hant` (zh-TW, zh-HK) are distinct languages, each the other's first
fallback, shown converted (and labelled as converted) rather than as written.

OpenCC's dictionaries convert phrases, not only characters: Taiwan's 軟體 for
软件, 伺服器 for 服务器 (s2twp; tw2sp back). Converters load on first use
(0.5-0.9 s each on a busy two-core machine), or at a server's start
(`warm_up`).

Which script a text is in is read from its characters: those that a
conversion changes are marks of their script (后 → 後 marks Simplified, 後 →
后 Traditional). Characters that both scripts share (上, 在, 日本) mark
neither; a text of those only is left to the caller's other evidence.
"""

from __future__ import annotations

import functools
import re

import opencc

HANS, HANT = "zh", "zh-Hant"
SIBLING = {HANS: HANT, HANT: HANS}
# whole-text conversion into a language: phrases as that language's readers write them (Taiwan's usage for
# Traditional, the most common zh-Hant locale; Hong Kong readers read it without trouble)
_INTO = {HANT: "s2twp", HANS: "tw2sp"}
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def convert(text: str, into: str) -> str:
    """`text` written in the sibling script of `into`, converted into `into` (zh or zh-Hant)."""
    if into not in _INTO or not _HAN.search(text):
        return text
    return _converter(_INTO[into]).convert(text)


_TAG = re.compile(r"(<[^>]*>)")


def convert_html(html: str, into: str) -> str:
    """Rendered HTML converted like `convert`, its tags and attributes left as they are: heading ids (anchors
    that search results and links point to) stay those of the version as written."""
    parts = _TAG.split(html)
    return "".join(part if i % 2 else convert(part, into) for i, part in enumerate(parts))


@functools.lru_cache(maxsize=16384)
def _mark(ch: str) -> str | None:
    """HANS or HANT when one character belongs to one script only (character tables, no phrases)."""
    if _converter("t2s").convert(ch) != ch:
        return HANT
    if _converter("s2t").convert(ch) != ch:
        return HANS
    return None


def script_marks(text: str) -> dict[str, int]:
    """How many characters of `text` belong to Simplified only and to Traditional only."""
    counts = {HANS: 0, HANT: 0}
    for ch in _HAN.findall(text):
        mark = _mark(ch)
        if mark:
            counts[mark] += 1
    return counts


def warm_up():
    """Load the converters now, not on a first visitor's query."""
    for config in ("t2s", "s2t", *_INTO.values()):
        _converter(config)
