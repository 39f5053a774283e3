"""What the help center shows beside the articles, decided once per index run, read once per generation.

- featured: the public article versions whose front matter says `featured: true`;
- labels: human names of products and topics (kb.articles.labels);
- outdated: public translations whose source changed in substance since they
  were made (kb.articles.drift.judge, the decision the writers' translations
  report shows), with the source's language and date for the readers' notice.

Computed at index time from the parsed articles, so an article page reads a
dict instead of comparing two bodies, and the notice and the report can never
disagree: both come from `drift.judge`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from kb.articles.model import Article
from kb.articles.labels import Labels
from kb.articles import drift


@dataclass(frozen=True)
class Outdated:
    source_lang: str
    source_updated: dt.date | None  # the source's `updated` (else `reviewed`); None if it has neither


@dataclass(frozen=True)
class Catalog:
    featured: frozenset[tuple[str, str]] = frozenset()  # (id, lang)
    labels: Labels = field(default_factory=Labels)
    outdated: dict[tuple[str, str], Outdated] = field(default_factory=dict)

    def is_featured(self, article_id: str) -> bool:
        """Featured in any language: writers mark the version they maintain, readers see theirs."""
        return article_id in self._featured_ids

    @cached_property
    def _featured_ids(self) -> frozenset[str]:
        return frozenset(i for i, _ in self.featured)

    def outdated_version(self, article_id: str, lang: str) -> Outdated | None:
        return self.outdated.get((article_id, lang))

    def to_json(self) -> dict:
        return {"featured": sorted(list(k) for k in self.featured), "labels": self.labels.to_json(),
                "outdated": [{"id": i, "lang": lang, "source_lang": o.source_lang,
                                 "source_updated": o.source_updated.isoformat() if o.source_updated else None}
                             for (i, lang), o in sorted(self.outdated.items())]}

    @classmethod
    def from_json(cls, data: dict) -> Catalog:
        """The stored catalog; an index built before catalogs existed gives an empty one (`{}`)."""
        return cls(frozenset(tuple(k) for k in data.get("featured", ())), Labels(data.get("labels") or {}),
                   {(o["id"], o["lang"]): Outdated(o["source_lang"], _date(o.get("source_updated")))
                    for o in data.get("outdated", ())})


def build(articles: list[Article], labels: Labels) -> Catalog:
    by_key = {(a.id, a.lang): a for a in articles}
    outdated = {}
    for a in articles:
        if not (a.translated_from and a.is_public):
            continue
        source = by_key.get((a.id, a.translated_from))
        if source is None or not source.is_public:  # a notice must not link a reader to an internal version
            continue
        if drift.judge(a, source, lambda x: x.body).outdated:
            outdated[(a.id, a.lang)] = Outdated(source.lang, source.updated or source.reviewed)
    featured = frozenset((a.id, a.lang) for a in articles if a.featured and a.is_public)
    return Catalog(featured, labels, outdated)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
