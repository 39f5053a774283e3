"""Exported HTML pages (a help center's export, a saved site): one page, one article.

The page's language is its `<html lang>`, else a locale folder it sits in (`en-us/`, `zh-cn/`),
else the default (`--lang`). Pages in locale folders with the same path are one article in several
languages. The article is the page's main content (`<article>`, `<main>`, `[role=main]`, else the
body without navigation, header, footer and scripts), converted with markdownify; the title is
the first `<h1>`, else `<title>`. Links between pages (`../other.html`) become article ids.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from bs4 import BeautifulSoup
from markdownify import markdownify

from kb.importing import convert
from kb.importing.common import Doc, lang_code
from kb.importing.markup import OPTIONS
from kb.importing.source import SiteFormat, normalise, split_target

_LOCALE = re.compile(r"^[a-z]{2}(?:[-_][a-z0-9]{2,4})?$", re.I)
_DROP = ("script", "style", "nav", "header", "footer", "noscript", "form", "aside", "template")
_PAGE = (".html", ".htm")


class HtmlSite(SiteFormat):
    name = "html"
    expects = "expected .html pages"
    markdown_suffixes = _PAGE

    def __init__(self, root, report, locales=None):
        super().__init__(root, report, locales)
        self.docs_root = self.root
        self.by_rel: dict[str, str] = {}
        self.parsed: dict[Path, tuple[dict, str, int]] = {}

    def _locale_of(self, rel: str, soup_lang: str | None) -> tuple[str, str]:
        head, _, rest = rel.partition("/")
        if rest and _LOCALE.match(head) and lang_code(head):
            return head, rest
        return soup_lang or self.default_locale, rel

    def find_docs(self) -> list[Doc]:
        found: dict[str, list[tuple[str, Path]]] = {}
        for p in sorted(self.root.rglob("*")):
            if p.is_file() and p.suffix.lower() in _PAGE and not any(s.startswith(".") for s in p.parts):
                rel = p.relative_to(self.root).as_posix()
                locale, rel = self._locale_of(rel, self._read(p)[0].get("lang"))
                found.setdefault(locale, []).append((rel, p))
        default = self.default_locale if self.default_locale in found else (
            max(found, key=lambda k: len(found[k])) if found else self.default_locale)
        self.default_locale = default
        docs = [Doc(rel, p, p.relative_to(self.root).as_posix(), default, lang_code(default) or "en", True)
                for rel, p in found.pop(default, [])]
        sources = {d.rel for d in docs}
        for locale, files in sorted(found.items()):
            lang = self.locale_lang(locale, len(files))
            for rel, p in files if lang else []:
                is_source = rel not in sources  # a page only this language has is its own source
                docs.append(Doc(rel, p, p.relative_to(self.root).as_posix(), locale, lang, is_source))
        for doc in docs:
            if doc.is_source:
                self.by_rel.setdefault(doc.rel, self.article_id_of(doc))
                self.by_rel.setdefault(doc.rel.rsplit(".", 1)[0], self.by_rel[doc.rel])
        return docs

    def _read(self, path: Path) -> tuple[dict, str, int]:
        """({title, lang}, Markdown of the main content, 1) of a page; parsed once."""
        if path not in self.parsed:
            soup = BeautifulSoup(path.read_bytes(), "html.parser")
            lang = (soup.html.get("lang") if soup.html else None) or None
            h1 = soup.find("h1")
            title = (h1.get_text(" ", strip=True) if h1 else "") or (soup.title.get_text(strip=True) if soup.title
                                                                    else "")
            main = soup.find("article") or soup.find("main") or soup.find(attrs={"role": "main"}) or soup.body or soup
            for tag in main.find_all(_DROP):
                tag.decompose()
            if h1 is not None and h1 in main.descendants:
                h1.decompose()
            body = markdownify(str(main), **OPTIONS)
            self.parsed[path] = ({"title": title, "lang": lang}, body, 1)
        return self.parsed[path]

    def read(self, doc: Doc) -> tuple[dict, str, int]:
        return self._read(doc.path)

    def link(self, doc: Doc, target: str) -> str | None:
        path, anchor = split_target(target)
        if not path:
            return None
        rel = normalise(path) if path.startswith("/") else normalise(posixpath.join(posixpath.dirname(doc.rel), path))
        if _LOCALE.match(rel.split("/")[0]) and "/" in rel:
            rel = rel.split("/", 1)[1] if rel.split("/", 1)[1] in self.by_rel else rel
        for form in (rel, rel.rsplit(".", 1)[0], posixpath.join(rel, "index.html")):
            if form in self.by_rel:
                return self.by_rel[form] + (f"#{anchor}" if anchor else "")
        return None

    def convert(self, page: convert.Page, doc: Doc, meta: dict):
        page.count("HTML pages as Markdown")
