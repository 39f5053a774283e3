"""Hugo sites: translations by folder (`content/<lang>/`, the languages' `contentDir`) or by name (`page.<lang>.md`).

Front matter is YAML or TOML. Shortcodes are Hugo's own: `ref`/`relref` links are resolved, `note`,
`warning`, `tip`, `alert` (Docsy, with its `title`) and the like become admonitions; any other
shortcode is dropped where it stands and reported. A page bundle's `index.md` or a section's
`_index.md` takes its folder's id.
"""

from __future__ import annotations

import json
import posixpath
import re
import tomllib
from pathlib import Path

from kb.importing import convert
from kb.importing.common import Doc, lang_code
from kb.importing.source import SiteFormat, load_yaml, normalise, split_target

_REF = re.compile(r"\{\{[<%]\s*(?:rel)?ref\s+\"?(?P<target>[^\"\s>%]+)\"?\s*[>%]\}\}")
_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\{\{[<%]\s*(?P<name>note|notice|warning|tip|info|caution|danger|alert|callout|"
                    r"admonition|hint|important)\b(?P<args>[^>%]*)[>%]\}\}[ \t]*(?P<rest>.*)$", re.I)
_END = re.compile(r"\{\{[<%]\s*/\s*(?:note|notice|warning|tip|info|caution|danger|alert|callout|admonition|hint|"
                  r"important)\s*[>%]\}\}", re.I)
_ANY = re.compile(r"\{\{[<%].*?[>%]\}\}")
_TAB = re.compile(r"\{\{[<%]\s*(?P<close>/)?\s*(?P<name>tabpane|tab)\b(?P<args>.*?)[>%]\}\}")
_PARAM = re.compile(r"\{\{[<%]\s*param\s+\"?(?P<name>[\w.]+)\"?\s*[>%]\}\}")
_ARG = re.compile(r"(?:(?P<key>\w+)=)?\"(?P<value>[^\"]*)\"|(?P<word>\w+)")


def _config(root: Path) -> dict:
    """The site's configuration: hugo.* or config.* at the root, else in config/_default/ (Hugo's config folder)."""
    for name in ("hugo.toml", "config.toml", "hugo.yaml", "config.yaml", "hugo.yml", "config.yml", "hugo.json",
                 "config.json"):
        path = next((p for p in (root / name, root / "config/_default" / name) if p.is_file()), None)
        if path is not None:
            text = path.read_text(errors="replace")
            return (tomllib.loads(text) if name.endswith(".toml") else json.loads(text) if name.endswith(".json")
                    else load_yaml(text)) or {}
    return {}


def _code(key) -> str:
    """A language key of the config: YAML 1.1 reads Norwegian's `no:` as false."""
    return {False: "no", True: "yes"}.get(key, str(key)) if isinstance(key, bool) else str(key)


class Hugo(SiteFormat):
    name = "hugo"
    expects = "expected a content folder (and hugo.toml or config.toml)"

    def __init__(self, root, report, locales=None):
        super().__init__(root, report, locales)
        config = _config(self.root)
        self.default_locale = str(config.get("defaultContentLanguage") or config.get("DefaultContentLanguage") or "en")
        content = str(config.get("contentDir") or "content")
        self.docs_root = self.root / content
        self.content_dirs: dict[str, Path] = {}
        langs = {_code(code): conf for code, conf in (config.get("languages") or {}).items()}
        for code, conf in langs.items():
            if isinstance(conf, dict) and conf.get("contentDir"):
                self.content_dirs[code] = self.root / str(conf["contentDir"])
        if self.content_dirs and self.default_locale not in self.content_dirs:
            self.content_dirs[self.default_locale] = self.docs_root  # the default's is the site's contentDir
        self.codes = set(langs) | {self.default_locale}
        if not self.content_dirs and (self.docs_root / self.default_locale).is_dir():  # content/<lang>/ as mounts
            self.content_dirs = {code: self.docs_root / code for code in self.codes if (self.docs_root / code).is_dir()}
        self.by_rel: dict[str, str] = {}
        self.params = config.get("params") or {}

    def _param(self, name: str) -> str | None:
        """A site parameter (`{{% param vers.otel %}}`), None if the site has none such or it is not text."""
        value = self.params
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None

    def _files(self, top: Path):
        return sorted(p for p in top.rglob("*") if p.is_file() and p.suffix.lower() in self.markdown_suffixes
                      and not any(part.startswith(".") for part in p.relative_to(top).parts)) if top.is_dir() else []

    def find_docs(self) -> list[Doc]:
        found: dict[str, list[tuple[str, Path]]] = {}
        if self.content_dirs:
            for code, top in self.content_dirs.items():
                found.setdefault(code, []).extend((p.relative_to(top).as_posix(), p) for p in self._files(top))
        else:
            for p in self._files(self.docs_root):
                parts = p.name.split(".")
                rel = p.relative_to(self.docs_root)
                if len(parts) >= 3 and parts[-2] in self.codes:
                    found.setdefault(parts[-2], []).append(
                        ((rel.parent / ".".join(parts[:-2] + parts[-1:])).as_posix(), p))
                else:
                    found.setdefault(self.default_locale, []).append((rel.as_posix(), p))
        docs = [Doc(rel, p, p.relative_to(self.root).as_posix(), self.default_locale,
                    lang_code(self.default_locale) or "en", True) for rel, p in found.pop(self.default_locale, [])]
        sources = {d.rel for d in docs}
        for code, files in sorted(found.items()):
            lang = self.locale_lang(code, len(files))
            for rel, p in files if lang else []:
                if rel in sources:
                    docs.append(Doc(rel, p, p.relative_to(self.root).as_posix(), code, lang, False))
                else:
                    self.report.orphans[code] += 1
        for doc in docs:
            if doc.is_source:
                self._index(doc)
        return docs

    def _index(self, doc: Doc):
        art = self.article_id_of(doc)
        stem = doc.rel.rsplit(".", 1)[0]
        self.by_rel[doc.rel] = self.by_rel[stem] = art
        name = posixpath.basename(stem)
        if name in ("index", "_index"):
            self.by_rel[posixpath.dirname(stem)] = art
        meta = self.read(doc)[0]
        for key in ("url", "slug"):
            if isinstance(meta.get(key), str):
                value = meta[key]
                self.by_rel.setdefault(normalise(value if key == "url" else posixpath.join(posixpath.dirname(stem),
                                                                                           value)), art)

    def link(self, doc: Doc, target: str) -> str | None:
        m = _REF.fullmatch(target.strip())
        path, anchor = split_target(m.group("target") if m else target)
        if not path:
            return None
        here = posixpath.dirname(doc.rel)
        if posixpath.basename(doc.rel).split(".")[0] == "index":
            here = posixpath.dirname(here) if not m else here
        for candidate in (normalise(path), normalise(posixpath.join(posixpath.dirname(doc.rel), path)),
                          normalise(posixpath.join(here, path))):
            for form in (candidate, candidate.rsplit(".", 1)[0]):
                if form in self.by_rel:
                    return self.by_rel[form] + (f"#{anchor}" if anchor else "")
        return None

    def asset_bases(self, doc: Doc, path: str) -> list[Path]:
        if path.startswith("/"):
            return [self.root / "static", self.root / "assets", self.docs_root]
        return [doc.path.parent, self.docs_root / Path(doc.rel).parent]

    def convert(self, page: convert.Page, doc: Doc, meta: dict):
        lines, code = page.prose_lines()
        depth = 0
        for i, line in enumerate(lines):
            if code[i] and not depth:
                continue
            m = None if code[i] else _BLOCK.match(line)
            if m:
                rest, closed = _until_end(m.group("rest"))
                lines[i] = self._opening(m, page) + (f"\n{m.group('indent')}    {rest}" if rest else "")
                depth += 0 if closed else 1
                continue
            if depth and _END.search(line) and not code[i]:
                before, _ = _until_end(line)
                lines[i] = "    " * depth + before if before else ""
                depth -= 1
                continue
            if depth and line.strip():
                lines[i] = "    " * depth + line
            lines[i] = self._other_shortcodes(page, i, lines[i]) if not code[i] else lines[i]
        page.reflow(lines)

    def _opening(self, m: re.Match, page: convert.Page) -> str:
        args = {a.group("key") or ("title" if a.group("value") else ""): a.group("value") or a.group("word")
                for a in _ARG.finditer(m.group("args"))}
        name = m.group("name").lower()
        kind = convert.KINDS.get(args.get("color", "") if name == "alert" else name) or convert.KINDS.get(name, "note")
        page.count("admonitions")
        title = args.get("title")
        return m.group("indent") + f"!!! {kind}" + (f' "{title}"' if title else "")

    def _other_shortcodes(self, page: convert.Page, i: int, line: str) -> str:
        def drop(m):
            if _REF.fullmatch(m.group()):
                return _REF.fullmatch(m.group()).group("target")  # a link target: resolved with the links
            param = _PARAM.fullmatch(m.group())
            if param and self._param(param.group("name")) is not None:
                page.count("site parameters filled in")
                return self._param(param.group("name"))
            tab = _TAB.fullmatch(m.group())
            if tab:  # Docsy's tabs: each tab's name in bold over its text, the tab pane itself nothing
                if tab.group("close") or tab.group("name") == "tabpane":
                    return ""
                page.count("tabs as labelled paragraphs")
                args = {a.group("key") or "title": a.group("value") or a.group("word") for a in _ARG.finditer(
                    tab.group("args"))}
                label = args.get("header") or args.get("title") or tab.group("args").strip().strip('"')
                return f"**{label}**" if label else ""
            page.note(i, "shortcode", f"Hugo shortcode {m.group()[:50]!r} removed: polykb renders Markdown only")
            return ""
        return _ANY.sub(drop, line)


def _until_end(text: str) -> tuple[str, bool]:
    """(the text before a closing `{{% /alert %}}`, whether there was one): alerts opened and closed on one line."""
    m = _END.search(text)
    return (text[:m.start()].strip(), True) if m else (text.strip(), False)
