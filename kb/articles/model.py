"""Articles: one Markdown file per article and language, with YAML front matter.

The front matter is authoritative; folders and file names are the writers'
choice. Title precedence, first found wins:

1. `title` in the front matter;
2. the first `# ` heading of the body;
3. the file name, without language suffix and extension, dashes as spaces.

Problems are collected, never swallowed: a file that cannot be indexed raises
ArticleError with its line; softer problems (a detected language, a missing
owner) come back as `Problem` warnings for `kb lint` and the writers' reports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb.text import languages
from kb.errors import ArticleError, QueryError

VISIBILITIES = ("public", "internal")
ID_PATTERN = re.compile(r"\A[a-z0-9][a-z0-9._-]{0,127}\Z")  # \Z: `$` matched before a trailing newline
MAX_BYTES = 2_000_000  # a 2 MB Markdown file is a mistake (a pasted log, a binary), not an article
_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)
KNOWN_KEYS = {
    "id", "lang", "title", "tags", "product", "visibility", "owner", "updated",
    "reviewed", "review_every", "translated_from", "source_hash", "aliases", "featured",
}


@dataclass(frozen=True)
class Problem:
    """A finding about one file: `severity` is "error" (file skipped) or "warning".

    `message` is for the terminal and the editor; `code` says what kind of problem it is, and `facts` what
    it is about (a link's `target` and `anchor`), so a report can be worded in the reader's language.
    """

    path: str
    line: int
    severity: str
    message: str
    code: str = ""
    facts: dict = field(default_factory=dict, hash=False)

    def __str__(self):
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass
class Article:
    id: str
    lang: str
    title: str
    body: str
    path: str
    body_line: int  # line number of the body's first line, for `path:line` messages
    visibility: str = "public"
    product: str | None = None
    tags: list[str] = field(default_factory=list)
    owner: str | None = None
    updated: dt.date | None = None
    reviewed: dt.date | None = None
    review_every: int | None = None
    translated_from: str | None = None
    source_hash: str | None = None
    lang_detected: bool = False
    featured: bool = False  # listed on the help center's home and category pages (public versions only)

    @property
    def content_hash(self) -> str:
        return content_hash(self.body)

    @property
    def is_public(self) -> bool:
        return self.visibility == "public"


def content_hash(body: str) -> str:
    """Hash of the body alone, so editing front matter (a review date) is not a content change.

    Translations record their source's hash at translation time (`source_hash`);
    writers compute it with `kb hash FILE`.
    """
    return hashlib.sha256(body.replace("\r\n", "\n").strip().encode("utf-8")).hexdigest()[:12]


MAX_FRONT_MATTER = 16_384  # characters; real front matter is a few hundred


class _Loader(yaml.CSafeLoader):
    """libyaml's parser with the safe constructor; dates are left as text, so a bad date is our clear error.

    libyaml's parser, not PyYAML's pure-Python one: a re-index reads every
    file's front matter, and at 10k chunks that was 1.9 of 2.6 s
    (bench/speed); with libyaml the whole scan takes 0.5 s.
    """


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


MAX_FRONT_DEPTH = 32  # nesting levels; front matter is key: value lines and short lists


def _check_tree(root):
    """Refuse aliases and deep nesting before any value is built.

    Aliases (`*name`): front matter never needs them, and a few nested ones
    expand into gigabytes when the value is read ("billion laughs"); an alias
    is the same node met twice in the composed tree. Deep nesting: any
    recursive use of the values (printing them, comparing them) would hit
    Python's recursion limit.
    """
    seen: set[int] = set()
    todo = [(root, 1)]
    while todo:
        node, depth = todo.pop()
        if id(node) in seen:
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in front matter",
                                              node.start_mark)
        if depth > MAX_FRONT_DEPTH:
            raise RecursionError
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            todo.extend((x, depth + 1) for x in node.value)
        elif isinstance(node, yaml.MappingNode):
            todo.extend((x, depth + 1) for pair in node.value for x in pair)


def _read_front(front_text: str) -> tuple[object, dict[str, int]]:
    """(value, line of each top-level key, 0-based) of YAML front matter.

    libyaml composes recursively in C: nesting tens of thousands deep overflows
    the C stack, a crash no except clause catches. Callers keep the text under
    MAX_FRONT_MATTER, which bounds nesting to what it handles (8,192 levels
    tested); the constructor's deeper recursion is a RecursionError for them.
    """
    loader = _Loader(front_text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_tree(node)
        value = loader.construct_document(node)
    finally:
        loader.dispose()
    lines = ({k.value: k.start_mark.line for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
             if isinstance(node, yaml.MappingNode) else {})
    return value, lines


def _as_date(value, path, line, key):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ArticleError(path, line, f"'{key}' must be a date as YYYY-MM-DD, got {value!r}") from None


def _title_from(body: str, path: Path) -> str:
    for line in body.split("\n"):  # the first `# ` heading; closing #s dropped (no regex: linear on huge lines)
        text = line[1:].lstrip(" ")
        if line.startswith("# ") and (text or len(line) > 2):
            return (text.rstrip().rstrip("#").rstrip() or text[:1]).strip()
    stem = path.name.split(".")[0]
    return stem.replace("-", " ").replace("_", " ").strip().capitalize() or path.name


def decode(raw: bytes, path) -> str:
    """UTF-8 text of a file, or an ArticleError naming the line of the first bad byte."""
    if b"\x00" in raw[:8192]:
        raise ArticleError(path, 1, "binary file (contains NUL bytes); only UTF-8 Markdown is indexed")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ArticleError(path, line, f"not valid UTF-8 (byte 0x{raw[e.start]:02x}); save the file as UTF-8") from None


def parse(text: str, path: str | Path, available_langs=frozenset()) -> tuple[Article, list[Problem]]:
    """Parse one article's text. Raises ArticleError when it cannot be indexed."""
    path = Path(path)
    spath = str(path)
    text = text.replace("\r\n", "\n")
    if not text.startswith("---"):
        raise ArticleError(spath, 1, "no front matter: an article starts with '---', YAML, '---'")
    m = _FRONT.match(text)
    if not m:
        raise ArticleError(spath, 1, "front matter is not closed: add a line '---' after the YAML")
    front_text = m.group(1) or ""
    body_line = front_text.count("\n") + 3
    if len(front_text) > MAX_FRONT_MATTER:
        raise ArticleError(spath, 2, f"front matter is {len(front_text):,} characters, over the {MAX_FRONT_MATTER:,} "
                                     "limit; use plain key: value lines")
    try:
        meta, key_lines = _read_front(front_text)
    except RecursionError:
        raise ArticleError(spath, 2, "front matter is nested too deeply to be read; use plain key: value lines") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = (mark.line + 2) if mark else 2
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ArticleError(spath, line, f"front matter is not valid YAML: {problem}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ArticleError(spath, 2, "front matter must be a YAML mapping (key: value lines)")
    lines = {k: v + 2 for k, v in key_lines.items()}
    at = lambda key: lines.get(key, 1)  # noqa: E731
    problems: list[Problem] = []

    body = text[m.end():]
    if not body.strip():
        raise ArticleError(spath, body_line, "empty body: the article has front matter but no text")

    art_id = meta.get("id")
    if art_id is None:
        raise ArticleError(spath, 1, "missing 'id' in front matter (the translation group, same in every language)")
    art_id = str(art_id).strip()
    if not ID_PATTERN.match(art_id):
        raise ArticleError(spath, at("id"), f"'id' must be lowercase letters, digits, '-', '_' or '.', got {art_id!r}")

    lang_detected = False
    if meta.get("lang") in (None, ""):
        det = languages.detect(body, available_langs or languages.KNOWN, None)
        if not det.lang:
            raise ArticleError(spath, 1, "missing 'lang' and the language could not be detected; add 'lang: xx'")
        lang = det.lang
        lang_detected = True
        problems.append(Problem(spath, 1, "warning", f"no 'lang' in front matter; detected '{lang}' ({det.reason})", "lang-detected"))
    else:
        try:
            lang = languages.normalize(str(meta["lang"]))
        except QueryError as e:
            raise ArticleError(spath, at("lang"), str(e)) from None

    visibility = str(meta.get("visibility", "public")).strip().lower()
    if visibility not in VISIBILITIES:
        raise ArticleError(spath, at("visibility"), f"'visibility' must be one of {list(VISIBILITIES)}, got {meta.get('visibility')!r}")

    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list):
        raise ArticleError(spath, at("tags"), "'tags' must be a list, e.g. [cdn, errors]")
    tags = [str(t).strip().lower() for t in tags if str(t).strip()]

    review_every = meta.get("review_every")
    if review_every is not None and (not isinstance(review_every, int) or isinstance(review_every, bool) or review_every <= 0):
        raise ArticleError(spath, at("review_every"), f"'review_every' must be a positive number of days, got {review_every!r}")

    featured = False if meta.get("featured") is None else meta["featured"]
    if not isinstance(featured, bool):  # `featured: yes` is YAML's true already; "maybe", 1 or a list are mistakes
        raise ArticleError(spath, at("featured"), f"'featured' must be true or false, got {featured!r}")

    translated_from = meta.get("translated_from")
    if translated_from is not None:
        try:
            translated_from = languages.normalize(str(translated_from))
        except QueryError as e:
            raise ArticleError(spath, at("translated_from"), str(e)) from None
        if translated_from == lang:
            raise ArticleError(spath, at("translated_from"), f"'translated_from' is the article's own language '{lang}'")
    source_hash = meta.get("source_hash")
    if translated_from and not source_hash:
        problems.append(Problem(spath, at("translated_from"), "warning",
                                "translation without 'source_hash': outdated translations cannot be detected; add the source's `kb hash`", "no-source-hash"))

    for key in sorted(set(meta) - KNOWN_KEYS, key=str):  # keys may be numbers or null too
        problems.append(Problem(spath, at(key), "warning", f"unknown front matter key '{key}' (ignored)", "unknown-key"))
    if not meta.get("owner"):
        problems.append(Problem(spath, 1, "warning", "no 'owner': nobody is responsible for keeping this article right", "no-owner"))

    title = str(meta.get("title") or "").strip() or _title_from(body, path)
    article = Article(
        id=art_id, lang=lang, title=title, body=body, path=spath, body_line=body_line,
        visibility=visibility, product=(str(meta["product"]).strip().lower() if meta.get("product") else None),
        tags=tags, owner=(str(meta["owner"]).strip() if meta.get("owner") else None),
        updated=_as_date(meta.get("updated"), spath, at("updated"), "updated"),
        reviewed=_as_date(meta.get("reviewed"), spath, at("reviewed"), "reviewed"),
        review_every=review_every, translated_from=translated_from,
        source_hash=(str(source_hash).strip() if source_hash else None), lang_detected=lang_detected,
        featured=featured,
    )
    return article, problems


def is_article_candidate(path: Path) -> bool:
    """Markdown files, except READMEs that describe the folder and hidden files."""
    return (path.suffix.lower() in (".md", ".markdown") and path.name.lower() not in ("readme.md", "readme.markdown")
            and not any(part.startswith(".") for part in path.parts))


def discover(root: Path) -> list[Path]:
    """All article candidates under `root`, sorted for stable output."""
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file() and is_article_candidate(p.relative_to(root)))
