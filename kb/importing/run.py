"""`kb import FORMAT SITE --to DIR`: a site's documents converted into polykb articles, again and again.

Per document: the format's own constructs, then the shared passes (kb.importing.convert, markup);
each translation is checked for being a translation at all (kb.importing.untranslated); then
`kb.importing.output` writes only what changed, keeping what writers set in polykb.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from kb.articles import blocks
from kb.errors import KBError
from kb.importing import anchors, convert, untranslated
from kb.importing.common import Doc, Report
from kb.importing.docusaurus import Docusaurus
from kb.importing.hugo import Hugo
from kb.importing.html_site import HtmlSite
from kb.importing.mkdocs import MkDocs
from kb.importing.output import Article, Output
from kb.importing.source import SiteFormat

USED_KEYS = {"id", "title", "tags", "draft", "lang"}  # read by the import; the rest (sidebar_position, slug…) dropped
FORMATS: dict[str, type[SiteFormat]] = {"docusaurus": Docusaurus, "mkdocs": MkDocs, "hugo": Hugo, "html": HtmlSite}


def import_site(fmt: str, site: Path, to: Path, locales: set[str] | None = None, owner: str | None = None,
                overwrite: bool = False, prune: bool = False, default_lang: str | None = None) -> Report:
    """Import `site` (a checkout or export in format `fmt`) into the articles folder `to`; the report says what
    was written, skipped and dropped."""
    if fmt not in FORMATS:
        raise KBError(f"unknown import format {fmt!r}; expected one of {sorted(FORMATS)}")
    site = Path(site)
    if not site.is_dir():
        raise KBError(f"site folder {site} does not exist; pass the checkout (or export) folder")
    report = Report()
    reader = FORMATS[fmt](site, report, locales)
    if default_lang and isinstance(reader, HtmlSite):
        reader.default_locale = default_lang
    docs = reader.find_docs()
    if not any(d.is_source for d in docs):
        raise KBError(f"no {fmt} documents found in {site}; {reader.expects}")
    out = Output(Path(to), report, overwrite=overwrite, owner=owner)
    kept, sources = _convert_all(reader, docs, out)
    bodies, moved = anchors.fix({(a.id, a.lang): a.body for a in kept}, {a.id: a.lang for a in sources})
    report.converted["anchors moved to the translation's heading"] += moved
    for art in kept:
        art.body = bodies[(art.id, art.lang)]
        out.add(art)
    out.finish(reader.labels(), prune=prune)
    return report


def _convert_all(reader: SiteFormat, docs: list[Doc], out: Output) -> tuple[list[Article], list[Article]]:
    """(every article to write, the sources among them): sources first, as translations take their hash;
    untranslated copies and a second path to one id are reported and left out."""
    report = reader.report
    source_docs = {d.rel: d for d in docs if d.is_source}
    converted: dict[str, Article] = {}
    kept: list[Article] = []
    taken: dict[str, str] = {}  # article id -> the source file that has it
    for doc in sorted(docs, key=lambda d: (not d.is_source, d.locale, d.rel)):
        art = _article(reader, doc, out, converted.get(doc.rel) if not doc.is_source else None)
        if art is None:
            continue
        if doc.is_source and art.id in taken:
            report.note(doc.shown, 1, "duplicate-id", f"its id {art.id!r} is already {taken[art.id]}'s (the id rule maps "
                                                      "both paths to it): not imported; rename one of them")
            continue
        if doc.is_source:
            converted[doc.rel] = art
            taken[art.id] = doc.shown
        elif untranslated.is_copy(art.body, doc.lang, source_docs[doc.rel].lang):
            report.untranslated[doc.locale] += 1
            report.untranslated_files.append(doc.shown)
            continue
        kept.append(art)
    return kept, list(converted.values())


def _article(reader: SiteFormat, doc: Doc, out: Output, source: Article | None) -> Article | None:
    """One document converted, or None (a draft, or a translation whose source was not imported)."""
    meta, page = reader.pages(doc)
    if meta.get("draft") is True:
        reader.report.note(doc.shown, 1, "draft", "draft: true, not imported")
        return None
    if not doc.is_source and source is None:
        return None
    out_rel = out_path(doc)
    folder = posixpath.dirname(out_rel)
    convert.rewrite_links(page, lambda t: reader.link(doc, t), lambda t: _asset(reader, doc, t, out, folder))
    convert.count_heading_ids(page)
    page.count("site-only front matter keys dropped", len(set(meta) - USED_KEYS))
    heading = convert.title_from_body(page)  # a leading `# Title` is the page's title, not a second one in the body
    title = str(meta.get("title") or "").strip() or heading or _title_of(doc)
    body = convert.tidy(page.body)
    if not body.strip():
        reader.report.note(doc.shown, 1, "empty", "no text once converted (a section's index page, a title only): "
                                                  "not imported")
        return None
    product, tags = reader.taxonomy(doc, meta)
    if source is not None:
        product, tags = source.product, source.tags
    return Article(out_rel, doc, reader.article_id_of(doc), doc.lang, title, body, product, tags,
                   source.lang if source else None, source.hash if source else None, blocks.unrenderable(body))


def _title_of(doc: Doc) -> str:
    return Path(doc.rel).stem.replace("-", " ").replace("_", " ").strip().capitalize() or doc.rel


def out_path(doc: Doc) -> str:
    """Where a document's article goes: its folder and name, then its language (`routers/asus.zh-Hans.md`)."""
    rel = Path(doc.rel)
    return (rel.parent / f"{rel.name.split('.')[0]}.{doc.lang}.md").as_posix()


def _asset(reader: SiteFormat, doc: Doc, target: str, out: Output, folder: str) -> str | None:
    """The path an image or attachment is linked by from the article, once it is copied beside it."""
    found = reader.asset(doc, target)
    if found is None:
        return None
    root = reader.root.resolve()
    docs_root = getattr(reader, "docs_root", root).resolve()
    inside = found.relative_to(docs_root) if found.is_relative_to(docs_root) else Path("_assets") / found.relative_to(root)
    out.asset(inside.as_posix(), found)
    return posixpath.relpath(inside.as_posix(), folder or ".")
