"""What a search asks for, checked once, so every stage reads one object instead of a dozen arguments."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from kb.text import languages
from kb.errors import QueryError
from kb.index.store import ArticleRow

MAX_QUERY_CHARS = 20_000  # a pasted ticket with its logs; more is not a query
MAX_K = 100
MODES = ("hybrid", "dense", "keyword")
AUDIENCES = ("public", "internal")
CANDIDATES = 100  # chunks fetched from each side before fusion


@dataclass(frozen=True)
class SearchRequest:
    """Who searches and what they may see; the query text travels beside it (a batch shares one request)."""

    audience: str = "public"  # "internal": agents, internal runbooks included
    lang: str | None = None  # only articles in this language (a filter)
    ui_lang: str | None = None  # the reader's interface language: a prior for detection and display
    product: str | None = None
    tags: tuple[str, ...] = ()
    mode: str = "hybrid"
    k: int = 10
    offset: int = 0

    def checked(self) -> SearchRequest:
        """This request with language codes normalised; QueryError naming the bad argument."""
        if not 1 <= int(self.k) <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}, got {self.k}")
        if self.offset < 0:
            raise QueryError(f"offset must be 0 or more, got {self.offset}")
        if self.mode not in MODES:
            raise QueryError(f"mode must be one of {list(MODES)}, got {self.mode!r}")
        if self.audience not in AUDIENCES:
            raise QueryError(f"audience must be one of {list(AUDIENCES)}, got {self.audience!r}")
        return dataclasses.replace(self, lang=languages.normalize(self.lang), ui_lang=languages.normalize(self.ui_lang),
                                   tags=tuple(self.tags or ()), k=int(self.k), offset=int(self.offset),
                                   product=self.product or None)

    @property
    def public(self) -> bool:
        return self.audience == "public"

    @property
    def depth(self) -> int:
        """Candidates fetched from each side: more when a filter will drop some of them."""
        return CANDIDATES * (4 if self.lang or self.product or self.tags else 1)

    def allows(self, a: ArticleRow, any_language: bool = False) -> bool:
        """May this article version appear in the results (visibility, filters)?"""
        return ((not self.public or a.is_public) and (any_language or not self.lang or a.lang == self.lang)
                and (not self.product or a.product == self.product.lower())
                and all(t.lower() in a.tags for t in self.tags))


# White space as JSON Schema patterns (ECMA-262) define `\s`: Python's str.isspace adds \x1c-\x1f and \x85, so
# "blank" is spelled out once here and in the API's description (web/services/openapi.py), and both mean the same.
BLANK = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK = f"[^{BLANK}]"  # a pattern: at least one character that is not white space
_NOT_BLANK = re.compile(NOT_BLANK)


def blank(q: str) -> bool:
    return not _NOT_BLANK.search(q)


def printable(q: str) -> str:
    """The text with every character that is not printable (controls, format marks, unassigned) removed, trimmed."""
    return "".join(ch for ch in q if ch in "\n\t" or ch.isprintable()).strip()


def checked_query(q) -> str:
    """The query as searched: printable characters, trimmed; QueryError when blank or too long.

    A query of invisible characters only (controls, format marks) is not blank: it is searched as
    "" and finds nothing. The API's description can say "at least one non-space character" exactly;
    "at least one printable one" no JSON Schema pattern can (tests/test_openapi_conformance.py).
    """
    if not isinstance(q, str):
        raise QueryError("query must be text")
    if blank(q):
        raise QueryError("query is empty; type a few words, an error code or paste the customer's message")
    q = printable(q)
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"query is {len(q)} characters, over the limit of {MAX_QUERY_CHARS}")
    return q
