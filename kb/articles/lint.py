"""One lint path: the checks a file gets, whoever asks (the indexer, `kb lint`, the editor's save).

The three used to lint each in its own way, and disagreed: the editor checked
a saved article's links against that article alone, so every link to another
article was "missing" (issue 21). Now a file is linted by `lint_file` against
a `KnowledgeBase`, every article file of the folder parsed once: the indexer
and `kb lint` lint each file of the folder (`lint_folder`), the editor lints
the text it is about to write as the file it would replace (`lint_text`).

A check is a function of the parsed file (`Subject`) and the knowledge base
that returns problems; `CHECKS` lists them in the order they run. To add one
(a Markdown construct the page cannot render, say), write the function and
append it there: every path runs it from then on.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from kb.articles import blocks, chunking, frontmatter, limits as article_limits, links, render
from kb.articles.labels import Labels, load as load_labels, unlabelled
from kb.articles.model import MAX_BYTES, Article, Problem, decode, is_article_candidate, parse
from kb.errors import ArticleError, KBError


@dataclass(frozen=True)
class Subject:
    """A file that parsed, as the checks see it."""

    rel: str  # path inside the articles folder, '/'-separated
    text: str
    article: Article
    expected: tuple[str, str] | None = None  # the editor's (id, lang): an edit must keep them
    limits: article_limits.Limits = article_limits.DEFAULT


@dataclass(frozen=True)
class KnowledgeBase:
    """Every article of the folder (by path, in discovery order) and every file's path (for images).

    The article that owns an (id, lang) is the first file holding it, in path order, as the indexer has
    always chosen, and a later one is a duplicate; but a file being saved never takes a key from the file
    that holds it already (`incumbents`): a new copy is the duplicate, whatever its name. Links resolve
    against the owners only.
    """

    articles: dict[str, Article]
    files: frozenset[str] = frozenset()
    incumbents: dict[tuple[str, str], str] = field(default_factory=dict)
    _owners: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _targets: list = field(default_factory=list, init=False, repr=False, compare=False)

    def owners(self) -> dict[tuple[str, str], str]:
        """(id, lang) -> the path of the file the index takes it from; worked out once."""
        if not self._owners and self.articles:
            self._owners.update(self.incumbents)
            for rel in sorted(self.articles):
                a = self.articles[rel]
                self._owners.setdefault((a.id, a.lang), rel)
        return self._owners

    def owner(self, article_id: str, lang: str) -> str | None:
        return self.owners().get((article_id, lang))

    def targets(self) -> links.Targets:
        """What links may point to: the owning version of every (id, lang); built once, on first use."""
        if not self._targets:
            self._targets.append(links.Targets(a for rel, a in self.articles.items()
                                               if self.owner(a.id, a.lang) == rel))
        return self._targets[0]

    def replacing(self, rel: str, article: Article | None) -> KnowledgeBase:
        """This knowledge base with `article` at `rel` (None: without `rel`), as it would be after a save."""
        articles = {k: v for k, v in self.articles.items() if k != rel}
        if article is not None:
            articles[rel] = article
        incumbents = {key: owner for key, owner in self.owners().items() if owner != rel}
        return KnowledgeBase(articles, self.files | {rel}, incumbents)


Check = Callable[[Subject, KnowledgeBase], list[Problem]]


def duplicate(s: Subject, kb: KnowledgeBase) -> list[Problem]:
    """Another file holds this (id, lang) and comes first: this one would not be indexed."""
    a = s.article
    other = kb.owner(a.id, a.lang)
    if other in (None, s.rel):
        return []
    return [Problem(s.rel, 1, "error", f"duplicate article: id {a.id!r} in '{a.lang}' is already defined in {other}",
                    "duplicate")]


def key_kept(s: Subject, kb: KnowledgeBase) -> list[Problem]:
    """An edit keeps the file's id and language: the editor addresses it by them (renaming is a new article)."""
    if s.expected is None or (s.article.id, s.article.lang) == s.expected:
        return []
    article_id, lang = s.expected
    line = frontmatter.line_of(s.text, "id" if s.article.id != article_id else "lang")
    return [Problem(s.rel, line, "error", f"this file is {article_id!r} in {lang!r}: keep 'id' and 'lang' as they "
                                          "are (to rename, create a new article)", "key-changed")]


def bounded(s: Subject, kb: KnowledgeBase) -> list[Problem]:
    """Over a size or structure limit (kb.articles.limits): every view would cost seconds of CPU."""
    size = article_limits.too_large(s.text, s.rel, s.limits)
    if size is not None:
        return [size]
    return article_limits.exceeded(s.article.body, s.rel, s.limits, s.article.body_line)


def chunk_capped(s: Subject, kb: KnowledgeBase) -> list[Problem]:
    """More chunks than the indexer embeds of one article: one save must not hold the indexer for minutes (a
    900 KB article was 1,024 chunks, 842 s), so the rest of the text is not searchable. Chunking is cheap
    (a fifth of a millisecond an article), so every lint counts them."""
    if article_limits.too_large(s.text, s.rel, s.limits) is not None:
        return []  # refused already; chunking a 2 MB hostile file is what costs
    n = len(chunking.chunk(s.article))
    if n <= s.limits.max_chunks:
        return []
    return [Problem(s.rel, s.article.body_line, "warning", f"{n} chunks: only the first {s.limits.max_chunks} are "
                    "searchable (KB_MAX_CHUNKS_PER_ARTICLE); split the article", "too-many-chunks")]


def renderable(s: Subject, kb: KnowledgeBase) -> list[Problem]:
    """Text the page would show as written instead of formatting it."""
    if not render.too_costly(s.article.body):
        return []
    return [Problem(s.rel, s.article.body_line, "warning", f"over {render.MAX_UNCLOSED} unclosed '[' or '(': the "
                    "page shows the text as written instead of formatting it", "unrenderable")]


def constructs(s: Subject, kb: KnowledgeBase) -> list[Problem]:
    """Markup the page would show as text (HTML, JSX, another generator's admonitions, an unclosed fence): one
    warning per kind and line, where it stands (kb.articles.blocks)."""
    return [Problem(s.rel, s.article.body_line + f.line - 1, "warning", f.message, f.code)
            for f in blocks.unrenderable(s.article.body)]


def linked(s: Subject, kb: KnowledgeBase) -> list[Problem]:
    """Links to articles, sections and images the knowledge base does not have, or that customers cannot see."""
    return links.check_article(s.article, kb.targets(), kb.files)


CHECKS: list[Check] = [duplicate, key_kept, bounded, chunk_capped, renderable, constructs, linked]


@dataclass(frozen=True)
class Linted:
    """One file's lint: its article (None when it cannot be indexed at all) and every problem found, by line."""

    rel: str
    article: Article | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """Indexable: parsed, and no check found an error."""
        return self.article is not None and not any(p.severity == "error" for p in self.problems)


def parse_bytes(raw: bytes, rel: str) -> tuple[str, Article | None, list[Problem]]:
    """A file's text, its article and parse warnings; or None and the one error that stops it."""
    text = ""
    try:
        if len(raw) > MAX_BYTES:
            raise ArticleError(rel, 1, f"file is {len(raw) / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit "
                                       "for an article; split it")
        text = decode(raw, rel)
        return (text, *parse(text, rel))
    except ArticleError as e:
        return text, None, [Problem(e.path, e.line, "error", e.message, "invalid")]


def lint_file(rel: str, text: str, article: Article | None, parsed: list[Problem], kb: KnowledgeBase,
              expected: tuple[str, str] | None = None,
              limits: article_limits.Limits = article_limits.DEFAULT) -> Linted:
    """Every check of `CHECKS` on one parsed file (`parsed`: its parse problems), against `kb`."""
    problems = list(parsed)
    if article is not None:
        subject = Subject(rel, text, article, expected, limits)
        for check in CHECKS:
            problems += check(subject, kb)
    return Linted(rel, article, sorted(problems, key=lambda p: p.line))


def lint_text(text: str, rel: str, kb: KnowledgeBase, expected: tuple[str, str] | None = None,
              limits: article_limits.Limits = article_limits.DEFAULT) -> Linted:
    """The editor's lint: `text` as the file `rel` would be once written, against the rest of the folder."""
    text, article, parsed = parse_bytes(text.encode("utf-8"), rel)
    return lint_file(rel, text, article, parsed, kb.replacing(rel, article), expected, limits)


@dataclass(frozen=True)
class Read:
    """One article file as read from disk: bytes' hash, when and how big, what it parsed to."""

    rel: str
    sha: str | None  # None: unreadable
    mtime_ns: int
    size: int
    text: str
    article: Article | None
    problems: list[Problem]


def read(root: Path, path: Path) -> Read:
    """Read and parse one article file; its errors become problems (an unreadable file included)."""
    rel = path.relative_to(root).as_posix()
    if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
        return Read(rel, None, 0, 0, "", None, [Problem(rel, 1, "error", "a symlink to a file outside the articles "
                                                        "folder: not indexed (the editor refuses it too); copy the "
                                                        "file in instead", "symlink-outside")])
    try:
        st = path.stat()
        raw = path.read_bytes()
    except OSError as e:
        return Read(rel, None, 0, 0, "", None, [Problem(rel, 1, "error", f"cannot read file: {e.strerror}",
                                                        "unreadable")])
    text, article, problems = parse_bytes(raw, rel)
    return Read(rel, hashlib.sha256(raw).hexdigest(), st.st_mtime_ns, st.st_size, text, article, problems)


_READS: dict[Path, dict[str, tuple[tuple[int, int, int], Read]]] = {}  # the editor's last reading of each folder
MAX_FOLDERS = 4  # a server edits one; tests make many
RACY_NS = 2_000_000_000  # mtimes tick every few ms (and every 2 s on FAT): newer files are read again each time


def knowledge_base(root: Path, reuse: bool = False) -> tuple[KnowledgeBase, list[Read]]:
    """Every article file under `root`, read and parsed, as a knowledge base to lint against.

    `reuse` (the editor): a file whose inode, size and mtime are those of the last reading is not read again
    (unless it changed in the seconds before that reading: git's "racily clean" files).
    A save lints against the whole folder, and parsing 2,000 files took 1.3 s of every save; the stat calls
    take a few hundredths. The indexer reads every file, as it hashes each anyway.
    """
    root = Path(root)
    if not root.is_dir():
        raise KBError(f"articles folder {root} does not exist; pass --articles DIR or set KB_ARTICLES")
    last, now, reads = _READS.get(root, {}) if reuse else {}, {}, []
    files = _files(root)
    settled = time.time_ns() - RACY_NS
    for rel, stamp in files.items():
        if is_article_candidate(PurePosixPath(rel)):
            done = last[rel][1] if rel in last and last[rel][0] == stamp else read(root, root / rel)
            if stamp[2] < settled:  # a file changed just now may change again within the same mtime tick
                now[rel] = (stamp, done)
            reads.append(done)
    if reuse:
        _READS.pop(root, None)
        _READS[root] = now  # one assignment: a save in another thread sees the old reading or this one
        while len(_READS) > MAX_FOLDERS:
            _READS.pop(next(iter(_READS)), None)
    return KnowledgeBase({r.rel: r.article for r in reads if r.article is not None}, frozenset(files)), reads


def _files(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under `root` ('/'-separated, in `discover`'s order: by path parts), with its inode, size and
    mtime. One scandir walk: pathlib's rglob, twice over, took a third of a second for 2,000 files."""
    found, todo = [], [""]
    while todo:
        sub = todo.pop()
        try:
            with os.scandir(root / sub) as entries:
                for e in entries:
                    rel = f"{sub}/{e.name}" if sub else e.name
                    if e.is_dir(follow_symlinks=False):  # as rglob: symlinked folders are not entered
                        todo.append(rel)
                    elif e.is_file():
                        st = e.stat()
                        found.append((rel, (st.st_ino, st.st_size, st.st_mtime_ns)))
        except OSError:
            continue
    return dict(sorted(found, key=lambda f: f[0].split("/")))


@dataclass
class FolderLint:
    """A whole folder's lint: each file's, and the folder's own (the labels file)."""

    files: list[Linted]
    reads: list[Read]
    labels: Labels
    problems: list[Problem]  # every problem, by path and line

    @property
    def articles(self) -> list[Article]:
        """The articles the index takes: those of the files without errors."""
        return [f.article for f in self.files if f.ok]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def lint_folder(root: Path, limits: article_limits.Limits = article_limits.DEFAULT) -> FolderLint:
    """Lint every article file under `root` against the others, then the labels file against the articles."""
    kb, reads = knowledge_base(root)
    done = [lint_file(r.rel, r.text, r.article, r.problems, kb, limits=limits) for r in reads]
    labels, label_problems = load_labels(Path(root))
    problems = [p for f in done for p in f.problems] + label_problems
    problems += unlabelled(labels, [f.article for f in done if f.ok])
    problems.sort(key=lambda p: (p.path, p.line))
    return FolderLint(done, reads, labels, problems)


