"""A site to import, as every format presents it: its documents, their front matter, links and files.

Each format (docusaurus, mkdocs, hugo, html) subclasses `SiteFormat` and says where the documents
of each language are, how a link of the site names a document, and which constructs of its own to
convert; `kb.importing.run` does the rest the same way for all of them.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from pathlib import Path

import yaml

from kb.importing import convert, markup
from kb.importing.common import Doc, Report, article_id, lang_code

_YAML_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TOML_FRONT = re.compile(r"\A\+\+\+[ \t]*\r?\n(.*?\r?\n)?\+\+\+[ \t]*(?:\r?\n|\Z)", re.S)


class _Loader(yaml.SafeLoader):
    """Safe YAML that reads a site's own tags (`!!python/name:…` in mkdocs.yml) as plain values."""


_Loader.add_multi_constructor("", lambda loader, suffix, node: None)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def load_yaml(text: str):
    return yaml.load(text, Loader=_Loader)


def front_matter(text: str, where: str, report: Report) -> tuple[dict, str, int]:
    """(front matter, body, line the body starts at) of a Markdown file; YAML `---` or TOML `+++` front matter."""
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    for rx, load in ((_YAML_FRONT, load_yaml), (_TOML_FRONT, tomllib.loads)):
        m = rx.match(text)
        if not m:
            continue
        try:
            meta = load(m.group(1) or "") or {}
        except (yaml.YAMLError, tomllib.TOMLDecodeError) as e:
            report.note(where, 1, "front-matter", f"front matter not readable, ignored: {str(e).splitlines()[0]}")
            meta = {}
        body_line = text[:m.end()].count("\n") + 1
        return (meta if isinstance(meta, dict) else {}), text[m.end():], body_line
    return {}, text, 1


class SiteFormat:
    """One site on disk. Subclasses set `name` and implement `find_docs`, `link`; others are optional hooks."""

    name = ""
    expects = ""  # what a site of this format holds, for the "nothing found" message
    markdown_suffixes = (".md", ".mdx", ".markdown")

    def __init__(self, root: Path, report: Report, locales: set[str] | None = None):
        self.root = Path(root)
        self.report = report
        self.wanted = {code.lower() for code in locales} if locales else None
        self.default_locale = "en"
        self.meta: dict[Path, tuple[dict, str, int]] = {}
        self.ids: dict[str, str] = {}  # rel of a source document -> its article id

    # --- what a format says ---------------------------------------------------

    def find_docs(self) -> list[Doc]:
        raise NotImplementedError

    def link(self, doc: Doc, target: str) -> str | None:
        """The article id (with `#anchor`) a link of `doc` points to, None when it is no document of the site."""
        raise NotImplementedError

    def convert(self, page: convert.Page, doc: Doc, meta: dict):
        """The format's own constructs (admonitions, shortcodes, tabs) to polykb's, before the shared passes."""

    def front_id(self, meta: dict) -> str | None:
        return None

    def taxonomy(self, doc: Doc, meta: dict) -> tuple[str | None, list[str]]:
        """(product, tags): the first folder is the product, the folders under it and the page's tags are tags."""
        folders = [article_id(part + ".md") for part in Path(doc.rel).parent.parts]
        tags = folders[1:] + [article_id(str(t) + ".md") for t in _as_list(meta.get("tags"))]
        return (folders[0] if folders else None), list(dict.fromkeys(t for t in tags if t != "index"))

    def labels(self) -> dict[str, dict[str, dict[str, str]]]:
        """Names of products and topics per language for labels.yml ({"products": {slug: {lang: name}}})."""
        return {}

    # --- shared ------------------------------------------------------------------

    def locale_lang(self, locale: str, files: int) -> str | None:
        """The polykb language of a locale to import, None (reported) for one that is not."""
        lang = lang_code(locale)
        why = ("not among --locales" if self.wanted is not None and locale.lower() not in self.wanted
               and locale != self.default_locale else "polykb has no such language" if lang is None else None)
        if why:
            self.report.skipped_locales[locale] = why
            self.report.skipped_locale_files[locale] += files
            return None
        return lang

    def read(self, doc: Doc) -> tuple[dict, str, int]:
        if doc.path not in self.meta:
            raw = doc.path.read_bytes().decode("utf-8", errors="replace")
            self.meta[doc.path] = front_matter(self._printable(raw, doc), doc.shown, self.report)
        return self.meta[doc.path]

    def _printable(self, text: str, doc: Doc) -> str:
        """Control characters (NUL and the like, which a site shows as nothing) removed: polykb refuses a file
        holding NUL as binary. AdGuard's knowledge base had 32 in one page, and its translations copied them."""
        found = _CONTROL.search(text)
        if found:
            self.report.note(doc.shown, text.count("\n", 0, found.start()) + 1, "control-characters",
                             f"{len(_CONTROL.findall(text))} control characters (such as NUL) removed")
            text = _CONTROL.sub("", text)
        return text

    def article_id_of(self, doc: Doc) -> str:
        if doc.rel not in self.ids:
            meta = self.read(doc)[0] if doc.is_source else {}
            self.ids[doc.rel] = article_id(doc.rel, self.front_id(meta))
        return self.ids[doc.rel]

    def asset(self, doc: Doc, target: str) -> Path | None:
        """The site's file a relative or site-absolute link of `doc` names, if it exists (not a document)."""
        path = target.split("#")[0].split("?")[0]
        if not path or path.lower().endswith(self.markdown_suffixes):
            return None
        for base in self.asset_bases(doc, path):
            found = (base / path.lstrip("/")).resolve()
            if found.is_file() and found.is_relative_to(self.root.resolve()):
                return found
        return None

    def asset_bases(self, doc: Doc, path: str) -> list[Path]:
        return [self.root] if path.startswith("/") else [doc.path.parent]

    def pages(self, doc: Doc) -> tuple[dict, convert.Page]:
        meta, body, first_line = self.read(doc)
        page = convert.Page(body, doc.shown, first_line, self.report)
        convert.drop_comments(page)
        markup.drop_scripts(page)
        self.convert(page, doc, meta)
        convert.github_alerts(page)
        markup.iframes_and_components(page)
        markup.html_to_markdown(page)
        return meta, page


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def normalise(path: str) -> str:
    """A '/'-separated path with `.` and `..` resolved and no leading or trailing slash ('' for the root)."""
    return posixpath.normpath("/" + path).strip("/") if path else ""


def split_target(target: str) -> tuple[str, str | None]:
    """(path, anchor) of a link target, the query dropped and %-escapes read."""
    from urllib.parse import unquote

    path, _, anchor = target.partition("#")
    return unquote(path.split("?")[0]), (anchor or None)
