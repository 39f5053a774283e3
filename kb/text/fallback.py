"""Which version of an article a reader gets when none is in their language: one order, everywhere.

1. the reader's language;
2. its sibling script (zh ↔ zh-Hant), shown converted (kb/text/chinese.py);
3. the article's source language (`translated_from` of its translations): the
   version every other one was made from, and the one kept up to date;
4. the knowledge base's default language;
5. only then any other version, by language code.

Search results, the article page, its language switcher and the browse
lists all choose through `choose`, so a reader never meets an arbitrary
third language (Russian for a Chinese reader of an English article) in one
place and the source in another, and the choice never depends on which
version happened to score best or on the order of a set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol, TypeVar

from kb.text.chinese import SIBLING


class Version(Protocol):
    lang: str
    translated_from: str | None


V = TypeVar("V", bound=Version)


def source_language(versions: Sequence[Version]) -> str | None:
    """The language the versions were translated from (the most named, then the first by code), if any says."""
    named = Counter(v.translated_from for v in versions if v.translated_from)
    if not named:
        return None
    return min(named, key=lambda lang: (-named[lang], lang))


def order(want: str | None, source: str | None, default: str | None, langs: Sequence[str]) -> list[str]:
    """`langs` in the order a reader of `want` gets them (see the module's docstring)."""
    first = [want, SIBLING.get(want or ""), source, default]
    ranked = list(dict.fromkeys(lang for lang in first if lang and lang in langs))
    return ranked + sorted(set(langs) - set(ranked))


def choose(versions: Sequence[V], want: str | None, default: str | None) -> V:
    """The version a reader of `want` gets; `default` is the knowledge base's default language."""
    by_lang = {v.lang: v for v in versions}
    return by_lang[order(want, source_language(versions), default, list(by_lang))[0]]


def converted(shown: str, want: str | None) -> bool:
    """Whether a version in `shown` is converted for a reader of `want` (the sibling script)."""
    return bool(want) and SIBLING.get(shown) == want
