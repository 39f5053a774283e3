"""What every source format shares: a document found on the site, the id and language rules, the report.

The id rule is a contract (the benchmark's relevance files are written against it), documented in the
README's "Bring your docs":

    the document's path relative to the docs root, without extension, lowercased, `/` → `-`,
    characters outside [a-z0-9-] → `-` (repeats collapsed, none at either end); an `index.md`,
    `README.md` or `_index.md` takes its folder's path (the root's is `index`); a Docusaurus
    front matter `id:` replaces the file-name part, as Docusaurus itself does.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from kb.errors import QueryError
from kb.text import languages

INDEX_NAMES = ("index", "readme", "_index")
_NOT_ID = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")
MAX_ID = 128  # kb.articles.model.ID_PATTERN


def article_id(rel: str, front_id: str | None = None) -> str:
    """The article id of a document at `rel` (relative to its docs root, '/'-separated), by the rule above."""
    path = PurePosixPath(rel)
    parts = list(path.parent.parts)
    stem = path.name.split(".")[0] if not front_id else str(front_id).split("/")[-1]
    if front_id or stem.lower() not in INDEX_NAMES or not parts:
        parts.append(stem)
    text = "/".join(parts).lower().replace("/", "-")
    slug = _DASHES.sub("-", _NOT_ID.sub("-", text)).strip("-")
    return slug[:MAX_ID].rstrip("-") or "index"


# Regional variants fold into their language, but Chinese keeps its two scripts apart: a zh-TW reader must not
# get Simplified text labelled as theirs (issue 22 makes polykb tell them apart).
_ZH = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "zh-hans": "zh-Hans",
       "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "zh-mo": "zh-Hant", "zh-hant": "zh-Hant"}


def lang_code(locale: str) -> str | None:
    """The `lang:` written for a site locale, or None when polykb has no such language.

    zh-CN/zh-Hans/zh → zh-Hans, zh-TW/zh-HK/zh-Hant → zh-Hant; any other locale is its language's
    two letters (pt-BR → pt, en-US → en): polykb's languages are not regional (when a site has both
    `pt` and `pt-BR`, the plain one is imported and the regional one reported, see `Site.locales`).
    """
    code = locale.strip().replace("_", "-").lower()
    if code in _ZH:
        return _ZH[code]
    try:
        return languages.normalize(code)
    except QueryError:
        return None


def base_lang(lang: str) -> str:
    """The language polykb's detector and tokeniser know a written code as (zh-Hans → zh)."""
    return lang.split("-")[0]


@dataclass(frozen=True)
class Doc:
    """One document of the site in one language."""

    rel: str  # path relative to its language's docs root, '/'-separated: the same for a source and its translations
    path: Path  # the file
    shown: str  # the file's path relative to the site, for messages
    locale: str  # as the site names it: "zh-CN"
    lang: str  # as polykb writes it: "zh-Hans"
    is_source: bool  # in the site's default language


@dataclass(frozen=True)
class Note:
    """A finding at a place of the site: a construct dropped or not converted, a link not resolved."""

    where: str  # path relative to the site
    line: int
    code: str
    message: str

    def __str__(self):
        return f"{self.where}:{self.line}: {self.message}"


@dataclass
class Report:
    """What an import did, in counts and notes, for the command's summary and bench/results/import.md."""

    written: Counter = field(default_factory=Counter)  # lang -> articles written (new or changed)
    unchanged: Counter = field(default_factory=Counter)  # lang -> articles left as they were
    untranslated: Counter = field(default_factory=Counter)  # locale -> "translations" mostly in the source language
    untranslated_files: list[str] = field(default_factory=list)
    orphans: Counter = field(default_factory=Counter)  # locale -> translations of no source document
    skipped_locales: dict[str, str] = field(default_factory=dict)  # locale -> why
    skipped_locale_files: Counter = field(default_factory=Counter)
    converted: Counter = field(default_factory=Counter)  # construct -> times converted
    notes: list[Note] = field(default_factory=list)
    assets: int = 0  # images and attachments copied
    removed_upstream: list[str] = field(default_factory=list)  # articles whose source file is gone
    pruned: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # edited in polykb and upstream: polykb's kept
    kept_fields: int = 0  # articles whose review fields set in polykb were carried over

    def note(self, where: str, line: int, code: str, message: str):
        self.notes.append(Note(where, line, code, message))

    @property
    def imported(self) -> int:
        return sum(self.written.values()) + sum(self.unchanged.values())

    def lines(self) -> list[str]:
        """The summary a person reads after `kb import`."""
        langs = ", ".join(f"{k} {self.written[k] + self.unchanged[k]}" for k in sorted(self.written | self.unchanged))
        out = [f"imported {self.imported} articles ({langs or 'none'}): {sum(self.written.values())} written, "
               f"{sum(self.unchanged.values())} unchanged; {self.assets} images and attachments copied"]
        if self.converted:
            out.append("converted: " + ", ".join(f"{k} {v}" for k, v in sorted(self.converted.items())))
        if self.untranslated:
            out.append("untranslated copies, not imported (readers get the source, labelled): "
                       + ", ".join(f"{k} {v}" for k, v in sorted(self.untranslated.items())))
        if self.orphans:
            out.append("translations without a source document, not imported: "
                       + ", ".join(f"{k} {v}" for k, v in sorted(self.orphans.items())))
        for locale, why in sorted(self.skipped_locales.items()):
            out.append(f"locale {locale} not imported ({self.skipped_locale_files[locale]} files): {why}")
        if self.kept_fields:
            out.append(f"kept review fields set in polykb on {self.kept_fields} articles")
        if self.conflicts:
            out.append(f"{len(self.conflicts)} articles changed both in polykb and upstream: polykb's kept "
                       "(--overwrite takes upstream's): " + ", ".join(self.conflicts[:5]))
        if self.removed_upstream:
            out.append(f"{len(self.removed_upstream)} articles removed upstream, still in the folder (--prune deletes "
                       "them): " + ", ".join(self.removed_upstream[:5]))
        if self.pruned:
            out.append(f"deleted {len(self.pruned)} articles removed upstream")
        out.append(f"{len(self.notes)} warnings" + (" (listed above)" if self.notes else ""))
        return out
