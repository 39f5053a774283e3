"""STOP-GAP: a Docusaurus site (a fetched snapshot's git directory or a checkout) as polykb articles.

Written before `kb import docusaurus` was on main: this reads front matter and drops the MDX that
would show as noise (imports, JSX tags, admonition fences, images); it does not resolve links,
partials or sidebars. The importer has landed since: `--articles DIR` runs a folder it wrote (the
numbers in bench/results/kbs.md say which). What is left to do: build the sampled sites from the
importer's output (same sampling rules) and delete this module; that re-embeds every page once.

Article ids follow the importer's rule, so our relevance judgements hold for both: the doc's path
relative to the docs root without extension, lowercased, `/` → `-`, any other character outside
[a-z0-9-] → `-`; `index.md`/`README.md` take their folder's path; a front-matter `id:` replaces
the file-name part. English lives in `docs/`, each locale in
`i18n/<locale>/docusaurus-plugin-content-docs/current/` with the same relative paths.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

DOCS = "docs"
LOCALE_ROOT = "i18n/{locale}/docusaurus-plugin-content-docs/current"
_FRONT = re.compile(r"\A---\n(.*?)\n---\n?", re.S)
_NOISE = [
    re.compile(r"^import .*?;?\s*$", re.M),  # MDX imports
    re.compile(r"^:::.*$", re.M),  # admonition fences (their text stays)
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"!\[[^\]]*\]\([^)]*\)"),  # images
    re.compile(r"</?[A-Z][A-Za-z]*(?:\s[^<>]*)?/?>"),  # JSX components (<Tabs>, <TabItem value=...>)
    re.compile(r"[ \t]*\{#[^}\n]*\}[ \t]*$", re.M),  # explicit heading ids: "## Refund {#refund}"
]


def article_id(rel_path: str, front_id: str | None = None) -> str:
    """The importer's article id for a doc at `rel_path` (relative to the docs root)."""
    p = PurePosixPath(rel_path)
    parts = list(p.parent.parts)
    name = p.stem
    if front_id:
        name = str(front_id).strip()
    elif name.lower() in ("index", "readme"):
        name = ""
    joined = "/".join(parts + ([name] if name else [])).lower().replace("/", "-")
    return re.sub(r"[^a-z0-9-]", "-", joined)


@dataclass(frozen=True)
class Doc:
    id: str
    lang: str
    title: str
    body: str
    rel_path: str


def _git_files(repo: Path, root: str) -> dict[str, str]:
    """{path under root: text} of the Markdown files under `root` at HEAD of a bare snapshot."""
    names = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "HEAD", root],
                           capture_output=True, text=True, check=True).stdout.split()
    out = {}
    for name in names:
        if name.endswith((".md", ".mdx")):
            blob = subprocess.run(["git", "-C", str(repo), "show", f"HEAD:{name}"], capture_output=True, check=True)
            out[name[len(root) + 1:]] = blob.stdout.decode("utf-8", "replace")
    return out


def _tree_files(site: Path, root: str) -> dict[str, str]:
    base = site / root
    return {p.relative_to(base).as_posix(): p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(base.rglob("*")) if p.suffix in (".md", ".mdx")}


def read_site(site: Path, locales: dict[str, str], keep=lambda rel: True,
              translate_max_chars: int | None = None) -> list[Doc]:
    """The docs of a site in the given locales ({docusaurus locale: polykb language}; "en" is `docs/`),
    those whose path `keep` accepts. `site` is a checkout or a git directory (a fetched snapshot).

    A translation is kept only where its English source is (locale folders also hold pages the site
    no longer has) and, with `translate_max_chars`, only for sources up to that size: a sample that
    indexes in minutes, translated where the pages are short, as many real sites are."""
    read = _tree_files if (site / DOCS).is_dir() else _git_files
    english = {rel: _doc(rel, text, "en") for rel, text in read(site, DOCS).items() if keep(rel)}
    english = {rel: d for rel, d in english.items() if d}
    docs = list(english.values()) if "en" in locales else []
    for locale, lang in locales.items():
        if locale == "en":
            continue
        for rel, text in sorted(read(site, LOCALE_ROOT.format(locale=locale)).items()):
            source = english.get(rel)
            if source and (translate_max_chars is None or len(source.body) <= translate_max_chars):
                doc = _doc(rel, text, lang)
                if doc:
                    docs.append(doc)
    return docs


def _doc(rel: str, text: str, lang: str) -> Doc | None:
    text = text.replace("\r\n", "\n")
    meta, body = {}, text
    m = _FRONT.match(text)
    if m:
        try:
            meta = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError:
            meta = {}
        body = text[m.end():]
    for pattern in _NOISE:
        body = pattern.sub("", body)
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    if not body:
        return None
    heading = re.search(r"^# (.+)$", body, re.M)
    title = str(meta.get("title") or meta.get("sidebar_label") or (heading.group(1) if heading else "")).strip()
    return Doc(article_id(rel, meta.get("id")), lang, title or PurePosixPath(rel).stem, body, rel)


def write_articles(docs: list[Doc], out: Path) -> Path:
    """`<id>.<lang>.md` per doc; files whose text is unchanged are not rewritten (mtimes stay), stale ones go."""
    out.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for d in docs:
        path = out / f"{d.id}.{d.lang}.md"
        wanted.add(path.name)
        text = (f"---\nid: {d.id}\nlang: {d.lang}\ntitle: {json.dumps(d.title, ensure_ascii=False)}\n"
                f"owner: bench\n---\n{d.body}\n")
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for stale in out.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    return out
