"""MkDocs sites with mkdocs-static-i18n: translations by suffix (`page.fr.md`) or by folder (`docs/fr/page.md`).

Admonitions are already polykb's syntax (Python-Markdown's); collapsible ones (`??? note`) are
shown open; content tabs (`=== "Linux"`) become a bold label over their text; snippet includes
(`--8<--`) cannot be followed and are reported. Links are relative file paths, as MkDocs wants them.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from kb.importing import convert
from kb.importing.common import Doc, lang_code
from kb.importing.source import SiteFormat, load_yaml, normalise, split_target

_TAB = re.compile(r'^(?P<indent>[ \t]*)===\+?[ \t]+"(?P<label>[^"]*)"[ \t]*$')
_SNIPPET = re.compile(r"^[ \t]*-{2}8<-{2}")


class MkDocs(SiteFormat):
    name = "mkdocs"
    expects = "expected mkdocs.yml and a docs folder"

    def __init__(self, root, report, locales=None):
        super().__init__(root, report, locales)
        config_path = next((p for p in (self.root / "mkdocs.yml", self.root / "mkdocs.yaml") if p.is_file()), None)
        config = (load_yaml(config_path.read_text()) if config_path else None) or {}
        self.docs_root = self.root / str(config.get("docs_dir") or "docs")
        self.structure, locales_found = "suffix", []
        for plugin in config.get("plugins") or []:
            if isinstance(plugin, dict) and "i18n" in plugin:
                self.structure, locales_found, default = _i18n(plugin["i18n"] or {})
                self.default_locale = default or self.default_locale
        self.locales = [code for code in locales_found if code != self.default_locale]
        self.by_rel: dict[str, str] = {}

    def find_docs(self) -> list[Doc]:
        docs: list[Doc] = []
        files = sorted(p for p in self.docs_root.rglob("*") if p.is_file() and p.suffix.lower() in self.markdown_suffixes
                       and not any(part.startswith(".") for part in p.relative_to(self.docs_root).parts))
        by_locale: dict[str, list[tuple[str, Path]]] = {}
        for p in files:
            locale, rel = self._locale_of(p.relative_to(self.docs_root).as_posix())
            if locale is not None:
                by_locale.setdefault(locale, []).append((rel, p))
        default_lang = lang_code(self.default_locale) or "en"
        for rel, p in by_locale.pop(self.default_locale, []):
            docs.append(Doc(rel, p, p.relative_to(self.root).as_posix(), self.default_locale, default_lang, True))
        sources = {d.rel for d in docs}
        for locale, found in sorted(by_locale.items()):
            lang = self.locale_lang(locale, len(found))
            for rel, p in found if lang else []:
                if rel not in sources:
                    self.report.orphans[locale] += 1
                    continue
                docs.append(Doc(rel, p, p.relative_to(self.root).as_posix(), locale, lang, False))
        for doc in docs:
            if doc.is_source:
                self.by_rel[doc.rel] = self.article_id_of(doc)
        return docs

    def _locale_of(self, rel: str) -> tuple[str | None, str]:
        """(locale, path without it) of a file under docs: `page.fr.md` or `fr/page.md`; unknown suffixes are no locale."""
        if self.structure == "folder":
            head, _, rest = rel.partition("/")
            if head in self.locales or head == self.default_locale:
                return head, rest
            return None, rel  # outside every language folder: not a page of the site
        path = Path(rel)
        parts = path.name.split(".")
        if len(parts) >= 3 and (parts[-2] in self.locales or parts[-2] == self.default_locale):
            return parts[-2], (path.parent / ".".join(parts[:-2] + parts[-1:])).as_posix()
        return self.default_locale, rel

    def link(self, doc: Doc, target: str) -> str | None:
        """A file link (`../page.md`, from the page's folder) or a URL link (`../page/`, `/section/page/`: MkDocs'
        directory URLs, from the page's own URL)."""
        path, anchor = split_target(target)
        if not path:
            return None
        folder = posixpath.dirname(doc.rel)
        if path.lower().endswith(self.markdown_suffixes):
            candidates = [normalise(path if path.startswith("/") else posixpath.join(folder, path))]
        else:
            stem = Path(doc.rel).stem
            page_url = folder if stem in ("index", "README") else posixpath.join(folder, stem)
            url = normalise(path if path.startswith("/") else posixpath.join(page_url, path))
            head, _, rest = url.partition("/")
            if path.startswith("/") and (head in self.locales or head == self.default_locale):
                url = rest  # the plugin serves each language under /<locale>/
            candidates = [url + ".md", posixpath.join(url, "index.md"), posixpath.join(url, "README.md"),
                          normalise(posixpath.join(folder, path)) + ".md"]
        for candidate in candidates + [_without_locale(c, doc.locale) for c in candidates]:
            if candidate in self.by_rel:
                return self.by_rel[candidate] + (f"#{anchor}" if anchor else "")
        return None

    def asset_bases(self, doc: Doc, path: str) -> list[Path]:
        return [self.docs_root] if path.startswith("/") else [doc.path.parent, self.docs_root / Path(doc.rel).parent]

    def convert(self, page: convert.Page, doc: Doc, meta: dict):
        lines, code = page.prose_lines()
        for i, line in enumerate(lines):
            if code[i]:
                continue
            m = _TAB.match(line)
            if m:  # the tab's body stays indented 4 under it: a bold label, then its text dedented
                lines[i] = f"{m.group('indent')}**{m.group('label')}**"
                page.count("tabs as labelled paragraphs")
                _dedent_block(lines, code, i + 1, len(m.group("indent")) + 4)
            elif _SNIPPET.match(line):
                page.note(i, "snippet-include", f"snippet include {line.strip()[:60]!r} not followed: removed")
                lines[i] = ""
            elif line.lstrip().startswith("???"):
                lines[i] = line.replace("???+", "!!!", 1).replace("???", "!!!", 1)
                page.count("collapsible admonitions shown open")
            elif line.lstrip().startswith("!!!"):
                page.count("admonitions")
        page.body = "\n".join(lines)


def _dedent_block(lines: list[str], code: list[bool], start: int, by: int):
    for j in range(start, len(lines)):
        line = lines[j]
        if line.strip() and len(line) - len(line.lstrip(" ")) < by:
            return
        lines[j] = line[4:] if line.strip() else line


def _without_locale(rel: str, locale: str) -> str:
    parts = rel.split(".")
    return ".".join(p for p in parts if p != locale)


def _i18n(conf: dict) -> tuple[str, list[str], str | None]:
    """(structure, locales, default) from the plugin's settings: v1 (`languages:` a list) or v0 (a mapping)."""
    structure = str(conf.get("docs_structure") or "suffix")
    langs = conf.get("languages") or []
    default = conf.get("default_language")
    found: list[str] = []
    if isinstance(langs, dict):
        found = [str(k) for k in langs]
    else:
        for entry in langs:
            if isinstance(entry, dict) and entry.get("locale"):
                found.append(str(entry["locale"]))
                if entry.get("default"):
                    default = str(entry["locale"])
    return structure, found, default
