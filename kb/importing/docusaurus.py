"""Docusaurus sites: `docs/` in the default locale, `i18n/<locale>/docusaurus-plugin-content-docs/current/` for the rest.

Links between docs come in two forms and both are resolved: file paths (`../guide.md`, `/private-dns/x.md`
from the docs root) and site URLs (`/general/ad-filtering/`, `../rewards`), which Docusaurus builds
from the folder, the front matter `id` and `slug`, and the category index docs (`index.md`,
`README.md`, a doc named as its folder). Sidebar categories (`_category_.json`) name the products
and topics, in every locale that translated them (`current.json`).
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from kb.importing import convert
from kb.importing.common import Doc, lang_code
from kb.importing.source import SiteFormat, load_yaml, normalise, split_target

_NUMBER_PREFIX = re.compile(r"^\d+[-_.]\s*")


def _config_value(config: str, key: str) -> str | None:
    m = re.search(rf"\b{key}\s*:\s*['\"]([^'\"]*)['\"]", config)
    return m.group(1) if m else None


class Docusaurus(SiteFormat):
    name = "docusaurus"
    expects = "expected docs/ and i18n/<locale>/docusaurus-plugin-content-docs/current/"

    def __init__(self, root, report, locales=None):
        super().__init__(root, report, locales)
        config = next((p.read_text(errors="replace") for p in sorted(self.root.glob("docusaurus.config.*"))), "")
        self.default_locale = _config_value(config, "defaultLocale") or "en"
        m = re.search(r"\blocales\s*:\s*\[([^\]]*)\]", config)
        self.site_locales = set(re.findall(r"['\"]([\w-]+)['\"]", m.group(1))) if m else None
        self.base_url = (_config_value(config, "baseUrl") or "/").strip("/")
        route = _config_value(config, "routeBasePath")
        self.route = ("docs" if route is None else route).strip("/")
        self.docs_root = self.root / "docs"
        self.by_rel: dict[str, str] = {}
        self.by_url: dict[str, str] = {}

    def _markdown_files(self, top: Path) -> list[Path]:
        """Docs under `top`: Markdown and MDX, not partials (`_name.md`) or hidden files."""
        if not top.is_dir():
            return []
        return sorted(p for p in top.rglob("*") if p.is_file() and p.suffix.lower() in self.markdown_suffixes
                      and not any(part.startswith(("_", ".")) for part in p.relative_to(top).parts))

    def find_docs(self) -> list[Doc]:
        docs = [Doc(p.relative_to(self.docs_root).as_posix(), p, p.relative_to(self.root).as_posix(),
                    self.default_locale, lang_code(self.default_locale) or "en", True)
                for p in self._markdown_files(self.docs_root)]
        sources = {d.rel for d in docs}
        for folder in sorted((self.root / "i18n").glob("*/docusaurus-plugin-content-docs/current")):
            locale = folder.parent.parent.name
            files = self._markdown_files(folder)
            if locale == self.default_locale or not files:
                continue
            if self.site_locales is not None and locale not in self.site_locales:
                self.report.skipped_locales[locale] = "not among the site's locales (docusaurus.config)"
                self.report.skipped_locale_files[locale] += len(files)
                continue
            lang = self.locale_lang(locale, len(files))
            if lang is None:
                continue
            for p in files:
                rel = p.relative_to(folder).as_posix()
                if rel not in sources:
                    self.report.orphans[locale] += 1
                    continue
                docs.append(Doc(rel, p, p.relative_to(self.root).as_posix(), locale, lang, False))
        self._index([d for d in docs if d.is_source])
        return docs

    def front_id(self, meta: dict) -> str | None:
        return str(meta["id"]) if meta.get("id") else None

    def _index(self, sources: list[Doc]):
        """Every way a link can name a source doc: its file path and its URL (folder + id, or slug)."""
        for doc in sources:
            meta = self.read(doc)[0]
            art = self.article_id_of(doc)
            stem = Path(doc.rel).with_suffix("").as_posix()
            self.by_rel[doc.rel] = self.by_rel[stem] = art
            folder = posixpath.dirname(doc.rel)
            name = str(meta.get("id") or Path(doc.rel).stem).split("/")[-1]
            url = posixpath.join(*[_NUMBER_PREFIX.sub("", p) for p in (folder.split("/") if folder else [])],
                                 _NUMBER_PREFIX.sub("", name)) if folder else _NUMBER_PREFIX.sub("", name)
            self.by_url.setdefault(normalise(url), art)
            self.by_url.setdefault(normalise(stem), art)
            if name.lower() in ("index", "readme") or name == posixpath.basename(folder):
                self.by_url[normalise(folder)] = art  # a category's index doc is at the folder's URL
            slug = meta.get("slug")
            if isinstance(slug, str) and slug.strip():
                self.by_url[normalise(slug if slug.startswith("/") else posixpath.join(folder, slug))] = art

    def link(self, doc: Doc, target: str) -> str | None:
        path, anchor = split_target(target)
        if not path:
            return None
        found = None
        if path.lower().endswith((".md", ".mdx")):  # a file: from the doc's folder, else from the docs root
            here = normalise(posixpath.join(posixpath.dirname(doc.rel), path))
            found = self.by_rel.get(normalise(path)) if path.startswith("/") else (
                self.by_rel.get(here) or self.by_rel.get(normalise(path)))
        else:
            for url in self._urls(doc, path):
                found = self.by_url.get(url) or self.by_rel.get(url)
                if found:
                    break
        return None if found is None else found + (f"#{anchor}" if anchor else "")

    def _urls(self, doc: Doc, path: str) -> list[str]:
        """The doc URLs a site path may mean, without base URL, docs route and locale prefix."""
        if not path.startswith("/"):
            here = normalise(posixpath.dirname(doc.rel))
            own = normalise(posixpath.join(here, Path(doc.rel).stem))
            return [normalise(posixpath.join(own, path)), normalise(posixpath.join(here, path))]
        url = normalise(path)
        for prefix in (self.base_url, doc.locale, self.route):
            if prefix and (url == prefix or url.startswith(prefix + "/")):
                url = url[len(prefix):].strip("/")
        return [url]

    def asset_bases(self, doc: Doc, path: str) -> list[Path]:
        if path.startswith("/"):  # a site path: Docusaurus serves static/ at the root
            return [self.root / "static", self.docs_root, self.root]
        return [doc.path.parent, self.docs_root / Path(doc.rel).parent]

    def convert(self, page: convert.Page, doc: Doc, meta: dict):
        convert.drop_mdx_lines(page)
        convert.docusaurus_admonitions(page)

    def labels(self) -> dict:
        """Sidebar categories (`_category_.json`/`.yml` labels) as product and topic names, translated per locale."""
        found: dict[str, dict[str, dict[str, str]]] = {"products": {}, "topics": {}}
        translated = self._category_translations()
        for cat in sorted(self.docs_root.rglob("_category_.*")):
            label = self._category_label(cat)
            if not label:
                continue
            folder = cat.parent.relative_to(self.docs_root)
            kind = "products" if len(folder.parts) == 1 else "topics"
            slug = folder.parts[-1].lower()
            names = {"en" if self.default_locale.startswith("en") else lang_code(self.default_locale): label}
            for lang, table in translated.items():
                if table.get(label):
                    names[lang] = table[label]
            found[kind].setdefault(re.sub(r"[^a-z0-9-]+", "-", slug).strip("-"), names)
        return found

    def _category_label(self, path: Path) -> str | None:
        try:
            data = json.loads(path.read_text()) if path.suffix == ".json" else load_yaml(path.read_text())
        except (ValueError, OSError):
            return None
        return str(data.get("label")) if isinstance(data, dict) and data.get("label") else None

    def _category_translations(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for path in sorted((self.root / "i18n").glob("*/docusaurus-plugin-content-docs/current.json")):
            locale = path.parent.parent.name
            lang = lang_code(locale)
            if not lang or locale == self.default_locale or (self.site_locales and locale not in self.site_locales):
                continue
            try:
                data = json.loads(path.read_text())
            except (ValueError, OSError):
                continue
            out[lang] = {key.split(".category.", 1)[1]: str(v.get("message")) for key, v in data.items()
                         if ".category." in key and isinstance(v, dict) and v.get("message")}
        return out
