"""An article's Markdown file, read and written by id and language, for the editor and the API.

The Markdown files stay the source of truth (docs-as-code teams keep their
workflow), so the editor changes them the way a careful person would: only
the bytes it means to change. Marking a review rewrites the `reviewed:`
value and nothing else, and a form field is written only when its value
changed (`frontmatter.set_value`). Paths come from the articles folder's own
listing, never from the request: ids and languages are validated, and a path
that resolves outside the folder (`..`, a symlink) is refused.

Writes are atomic (a temporary file in the same folder, fsynced, renamed
over the old one), and guarded by the ETag the writer loaded: a save over a
newer version is refused with `Conflict`, never merged silently. The check
and the write happen under one lock (`Folder.locked`), so of two saves of
the same version exactly one wins, whichever threads or processes they ran in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kb.articles import model as art_mod
from kb.articles import frontmatter, limits as article_limits, lint
from kb.text import languages
from kb.articles.model import Article, Problem
from kb.errors import KBError, QueryError


LOCK_FILE = ".polykb-save.lock"  # in the articles folder: see Folder.locked
MAX_NAME_BYTES = 255  # one file or folder name, on ext4, APFS and NTFS alike
# git pathspec magic (`:(exclude)`, `:!`), globs, backslashes and control characters: never in a name we create
_UNSAFE_IN_NAME = re.compile(r"[:*?\[\]\\\x00-\x1f\x7f]")


class SourceError(KBError):
    """A request the articles folder cannot serve: bad id, unknown article, path outside the folder."""


class NotFound(SourceError):
    pass


class Conflict(KBError):
    """The file changed since the writer loaded it; `current` is what is on disk now."""

    def __init__(self, current: "Source"):
        super().__init__(f"{current.rel} was changed by someone else since you opened it (now {current.etag})")
        self.current = current


class Invalid(KBError):
    """The new text has errors (`problems`; `warnings` beside them): nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems if p.severity == "error"]  # at least one
        self.warnings = [p for p in problems if p.severity != "error"]
        first = self.problems[0]
        super().__init__(f"line {first.line}: {first.message}")


class TooLarge(Invalid):
    """Over KB_ARTICLE_MAX_BYTES: refused before anything parses it (the web answers 413)."""


@dataclass(frozen=True)
class Source:
    """One article file as it is on disk now."""

    id: str
    lang: str
    rel: str  # path inside the articles folder, '/'-separated
    raw: bytes

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8")

    @property
    def etag(self) -> str:
        return etag(self.raw)


def etag(raw: bytes) -> str:
    """A strong ETag of the file's bytes: any change, even a review date, makes another one."""
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def check_key(article_id: str, lang: str) -> tuple[str, str]:
    """(id, lang) if both are well-formed; SourceError otherwise (no path is ever built from them unchecked)."""
    if not isinstance(article_id, str) or not art_mod.ID_PATTERN.match(article_id) or ".." in article_id:
        raise SourceError(f"{article_id!r} is not an article id: lowercase letters, digits, '-', '_' or '.'")
    try:
        code = languages.normalize(lang)
    except QueryError as e:
        raise SourceError(str(e)) from None
    if code != lang:
        raise SourceError(f"{lang!r} is not a language code; use {code!r}")
    return article_id, code


class Folder:
    """The articles folder: finds, reads, lints and writes article files."""

    def __init__(self, root: Path, limits: article_limits.Limits = article_limits.DEFAULT):
        self.root = Path(root).resolve()
        self.limits = limits
        if not self.root.is_dir():
            raise SourceError(f"articles folder {root} does not exist; pass --articles DIR or set KB_ARTICLES")

    # --- finding ---------------------------------------------------------

    def inside(self, rel: str) -> Path:
        """The absolute path of `rel`, refused if it leaves the folder (`..`, absolute, symlinks out)."""
        if not rel or "\x00" in rel or rel.startswith(("/", "\\")) or "\\" in rel:
            raise SourceError(f"{rel!r} is not a path inside the articles folder")
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise SourceError(f"{rel!r} leaves the articles folder")
        if not art_mod.is_article_candidate(path.relative_to(self.root)):
            raise SourceError(f"{rel!r} is not an article file (a .md file, not a README or hidden file)")
        return path

    def new_path(self, rel: str) -> Path:
        """`inside`, and a path a new file may take: the names it adds are names a person would type (no pathspec
        magic, none longer than file systems take), and no existing file or other `.md` is used as a folder.

        Folders that exist already are the team's, whatever their names.
        """
        path = self.inside(rel)
        parts = rel.split("/")
        for part in parts:  # first: a longer name makes the file system raise, even on a look
            if len(part.encode("utf-8")) > MAX_NAME_BYTES:
                raise SourceError(f"{rel!r}: a name is {len(part.encode('utf-8'))} bytes long; the most is "
                                  f"{MAX_NAME_BYTES}")
        for i, part in enumerate(parts):
            here = self.root.joinpath(*parts[:i + 1])
            if i < len(parts) - 1 and here.is_dir():
                continue
            if i < len(parts) - 1 and (here.exists() or part.lower().endswith((".md", ".markdown"))):
                raise SourceError(f"{rel!r}: {part!r} is a file, not a folder; choose another folder name")
            bad = sorted(set(_UNSAFE_IN_NAME.findall(part)))
            if bad:
                raise SourceError(f"{rel!r}: the name {part!r} has {' '.join(map(repr, bad))}; use letters, "
                                  "digits, spaces, '-', '_' or '.'")
        return path

    def keys(self) -> dict[tuple[str, str], str]:
        """(id, lang) -> relative path of every file whose front matter names both, invalid bodies included."""
        found: dict[tuple[str, str], str] = {}
        for path in art_mod.discover(self.root):
            if path.is_symlink() and not path.resolve().is_relative_to(self.root):
                continue
            key = frontmatter.key_of(path)
            if key and key not in found:
                found[key] = path.relative_to(self.root).as_posix()
        return found

    def locate(self, article_id: str, lang: str, hint: str | None = None) -> str:
        """The file of (id, lang): `hint` (the index's path) when it still holds it, else a scan of the folder."""
        key = check_key(article_id, lang)
        if hint:
            try:
                if frontmatter.key_of(self.inside(hint)) == key:
                    return hint
            except SourceError:
                pass
        rel = self.keys().get(key)
        if rel is None:
            raise NotFound(f"no file in the articles folder has id {article_id!r} and lang {lang!r}")
        return rel

    def read(self, article_id: str, lang: str, hint: str | None = None) -> Source:
        rel = self.locate(article_id, lang, hint)
        return Source(article_id, lang, rel, self.inside(rel).read_bytes())

    # --- checking --------------------------------------------------------

    def lint(self, text: str, rel: str, article_id: str, lang: str) -> tuple[Article | None, list[Problem]]:
        """The article `text` would be at `rel`, and its problems; any "error" means it must not be written.

        The one lint of the indexer and `kb lint` (kb.articles.lint), against every other file of the folder.
        """
        linted = lint.lint_text(text, rel, lint.knowledge_base(self.root, reuse=True)[0], expected=(article_id, lang),
                                limits=self.limits)
        return linted.article, linted.problems

    # --- writing ---------------------------------------------------------

    def write(self, rel: str, text: str, if_match: str | None, article_id: str, lang: str,
              create: bool = False) -> tuple[Source, Article, list[Problem]]:
        """Lint and write `text` at `rel` if the file is still the version `if_match` names.

        Raises Invalid (TooLarge over the size limit) or Conflict, with nothing written. `create` refuses an
        existing file instead of checking an ETag.
        """
        path = self.new_path(rel) if create else self.inside(rel)
        size = article_limits.too_large(text, rel, self.limits)
        if size is not None:
            raise TooLarge([size])
        article, problems = self.lint(text, rel, article_id, lang)
        if any(p.severity == "error" for p in problems):
            raise Invalid(problems)
        raw = text.encode("utf-8")
        with self.locked():  # the check and the write as one step, for every thread and process saving here
            if create:
                if path.exists():
                    raise SourceError(f"{rel} already exists; open it in the editor instead")
                path.parent.mkdir(parents=True, exist_ok=True)
            else:
                current = Source(article_id, lang, rel, path.read_bytes() if path.exists() else b"")  # b"": deleted
                if if_match is None or current.etag != if_match:
                    raise Conflict(current)
            atomic_write(path, raw)
        return Source(article_id, lang, rel, raw), article, problems

    def delete(self, rel: str, if_match: str) -> bytes:
        """Remove a file (its text stays in the edit history and in git); Conflict if it changed."""
        path = self.inside(rel)
        with self.locked():
            raw = path.read_bytes()
            if etag(raw) != if_match:
                raise Conflict(Source("", "", rel, raw))
            path.unlink()
        return raw

    @contextlib.contextmanager
    def locked(self):
        """Held while a file is compared with the writer's ETag and replaced: without it, two saves of the same
        version both passed the check and one was lost in silence (3 of 15 rounds of 8 PUTs, issue #24).

        One lock file for the folder (hidden, so never an article), locked with flock: it holds between
        threads (each opens its own descriptor) and processes (gunicorn workers, `kb` commands), and the
        kernel releases it when a holder dies. Saves take milliseconds inside it; linting stays outside.
        """
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


def atomic_write(path: Path, raw: bytes):
    """Readers (the indexer, an editor) see the old file or the new one, never half of it."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


# --- the edits the buttons make -------------------------------------------

def mark_reviewed(text: str, today: dt.date) -> str:
    """`reviewed:` set to today; every other byte as it was."""
    return frontmatter.set_value(text, "reviewed", today)


def with_fields(text: str, fields: dict[str, object], today: dt.date) -> str:
    """The form's front-matter fields applied (only those whose value changed) and `updated` set to today."""
    current = frontmatter.values(text)
    for key, value in fields.items():
        if _normal(current.get(key)) != _normal(value):
            text = frontmatter.set_value(text, key, value)
    return frontmatter.set_value(text, "updated", today)


def _normal(value):
    if value in (None, "", []):
        return None
    if isinstance(value, list):
        return [str(v).strip().lower() for v in value]
    return str(value).strip()


def translation_up_to_date(text: str, source_body: str) -> str:
    """`source_hash` set to the source's current content hash (the writer confirmed the facts agree)."""
    return frontmatter.set_value(text, "source_hash", art_mod.content_hash(source_body))


def new_translation(source: Article, lang: str, owner: str | None, today: dt.date) -> str:
    """A translation's first draft: the source's text under front matter that links it to the source."""
    meta = {"id": source.id, "lang": lang, "title": source.title, "tags": source.tags, "product": source.product,
            "visibility": source.visibility, "owner": owner or source.owner, "updated": today,
            "reviewed": None, "review_every": source.review_every, "translated_from": source.lang,
            "source_hash": source.content_hash}
    return frontmatter.dump(meta) + source.body


def new_article(article_id: str, lang: str, title: str, owner: str | None, visibility: str, product: str | None,
                body: str, today: dt.date) -> str:
    """A new article's text: front matter from the form, and the writer's first paragraph."""
    meta = {"id": article_id, "lang": lang, "title": title, "product": product, "visibility": visibility,
            "owner": owner, "updated": today, "reviewed": today}
    return frontmatter.dump(meta) + body.strip() + "\n"


def default_rel(article_id: str, lang: str, product: str | None) -> str:
    """Where a new file goes: beside its translations if any, else `<product>/<id>.<lang>.md`."""
    folder = (product or "").strip().lower()
    if folder and not art_mod.ID_PATTERN.match(folder):
        folder = ""
    name = f"{article_id}.{lang}.md"
    return f"{folder}/{name}" if folder else name
