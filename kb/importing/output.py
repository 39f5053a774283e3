"""The articles folder an import writes: only what changed, what writers set in polykb kept.

A manifest (`.kb-import.json`, hidden: never read as an article) records per article the upstream
file, the bytes written and the translation's `source_hash`. On the next run:

- an article whose converted text is unchanged is not touched, so `kb index` re-embeds nothing for it;
- review fields writers set in polykb (owner, reviewed, review_every, updated, featured, visibility,
  aliases) are carried into the new text;
- a body edited in polykb and changed upstream too is a conflict: polykb's is kept (`--overwrite`
  takes upstream's), never merged silently;
- a translation whose upstream file did not change keeps the `source_hash` it was written with,
  so when only its source changed polykb reports the translation as outdated;
- articles whose upstream file is gone are reported, and deleted only with `--prune` (and only if
  unedited in polykb).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb.articles.blocks import Finding
from kb.articles.model import content_hash
from kb.importing.common import Doc, Report

MANIFEST = ".kb-import.json"
KEPT = ("owner", "reviewed", "review_every", "updated", "featured", "visibility", "aliases")
LABELS = "labels.yml"


@dataclass
class Article:
    rel: str  # path in the articles folder
    doc: Doc
    id: str
    lang: str
    title: str
    body: str
    product: str | None
    tags: list[str]
    translated_from: str | None
    source_hash: str | None
    findings: list[Finding] = field(default_factory=list)  # what polykb cannot render, left in the body

    @property
    def hash(self) -> str:
        return content_hash(self.body)


def _value(value) -> str:
    """One front matter value as YAML on its key's line: lists in brackets (`tags: [a, b]`), as writers write them."""
    dumped = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=1_000_000).strip()
    return dumped[1:-1]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _front(text: str) -> tuple[dict, str]:
    """(front matter, body) of an article file already in the folder; ({}, text) if it has none readable."""
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            try:
                meta = yaml.safe_load(text[4:end]) or {}
            except yaml.YAMLError:
                meta = {}
            return (meta if isinstance(meta, dict) else {}), text[end + 4:].lstrip("\n")
    return {}, text


class Output:
    def __init__(self, root: Path, report: Report, overwrite: bool = False, owner: str | None = None):
        self.root = Path(root)
        self.report = report
        self.overwrite = overwrite
        self.owner = owner
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self.before = json.loads((self.root / MANIFEST).read_text())
        except (OSError, ValueError):
            self.before = {}
        self.seen: dict[str, dict] = {}
        self.assets: dict[str, str] = {}
        self.labels_sha: str | None = self.before.get("labels")  # of the labels.yml the import last wrote

    def _text(self, art: Article, kept: dict, source_hash: str | None) -> str:
        meta = {"id": art.id, "lang": art.lang, "title": art.title}
        if art.product:
            meta["product"] = art.product
        if art.tags:
            meta["tags"] = art.tags
        if art.translated_from:
            meta["translated_from"] = art.translated_from
            meta["source_hash"] = source_hash
        if self.owner and "owner" not in kept:
            meta["owner"] = self.owner
        meta.update(kept)
        front = "".join(f"{key}: {_value(value)}\n" for key, value in meta.items())
        return f"---\n{front}---\n{art.body}"

    def add(self, art: Article):
        """Write one article if it changed; report conflicts and what it keeps."""
        path = self.root / art.rel
        old = self.before.get("files", {}).get(art.rel, {})
        upstream = _sha(art.doc.path.read_bytes())
        source_hash = art.source_hash
        if art.translated_from and old.get("upstream") == upstream and old.get("source_hash"):
            source_hash = old["source_hash"]  # the translation did not change: it still translates that source
        kept, edited_body = self._existing(path, old)
        text = self._text(art, kept, source_hash)
        entry = {"source": art.doc.shown, "upstream": upstream, "body": art.hash, "source_hash": source_hash}
        if edited_body and not self.overwrite:
            if old.get("body") != art.hash:
                self.report.conflicts.append(art.rel)
            entry.update(body=old.get("body", art.hash), file=old.get("file"))
            self._record(art, entry, written=False)
            return
        data = text.encode("utf-8")
        written = not path.is_file() or path.read_bytes() != data
        if written:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        entry["file"] = _sha(data)
        self._record(art, entry, written)
        body_line = text.count("\n") - art.body.count("\n") + 1
        for f in art.findings:
            self.report.note(art.rel, body_line + f.line - 1, f.code, f.message)

    def _existing(self, path: Path, old: dict) -> tuple[dict, bool]:
        """(review fields writers set, whether its body was edited in polykb) of the file already there."""
        if not path.is_file():
            return {}, False
        raw = path.read_bytes()
        if old.get("file") == _sha(raw):
            meta, _ = _front(raw.decode("utf-8", errors="replace"))
            return {k: meta[k] for k in KEPT if meta.get(k) is not None}, False
        meta, body = _front(raw.decode("utf-8", errors="replace"))
        kept = {k: meta[k] for k in KEPT if meta.get(k) is not None}
        if kept:
            self.report.kept_fields += 1
        return kept, not old or content_hash(body) != old.get("body")  # a file the import never wrote is theirs

    def _record(self, art: Article, entry: dict, written: bool):
        self.seen[art.rel] = entry
        (self.report.written if written else self.report.unchanged)[art.lang] += 1

    def asset(self, rel: str, source: Path):
        """Copy an image or attachment to `rel` in the folder, unless the same bytes are there already."""
        if rel in self.assets:
            return
        data = source.read_bytes()
        self.assets[rel] = _sha(data)
        path = self.root / rel
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        self.report.assets += 1

    def finish(self, labels: dict, prune: bool = False):
        """Labels, removed-upstream articles (deleted with `prune` when unedited), and the new manifest."""
        self._labels(labels)
        for rel, entry in sorted(self.before.get("files", {}).items()):
            if rel in self.seen:
                continue
            path = self.root / rel
            if not path.is_file():
                continue
            unedited = entry.get("file") == _sha(path.read_bytes())
            if prune and unedited:
                path.unlink()
                self.report.pruned.append(rel)
            else:
                self.report.removed_upstream.append(rel)
                self.seen[rel] = entry  # still ours: reported again next time
        manifest = {"files": self.seen, "assets": self.assets, "labels": self.labels_sha}
        (self.root / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False))

    def _labels(self, labels: dict):
        """labels.yml from the site's category names, unless writers keep their own (one the import did not write)."""
        labels = {k: v for k, v in (labels or {}).items() if v}
        if not labels:
            return
        path = self.root / LABELS
        if path.is_file() and _sha(path.read_bytes()) != self.before.get("labels"):
            self.report.note(LABELS, 1, "labels-kept", "labels.yml was written in polykb: kept, not replaced by the "
                                                       "site's category names")
            return
        data = ("# Product and topic names from the site's categories (kb import); edit freely, the import then "
                "keeps yours.\n" + yaml.safe_dump(labels, allow_unicode=True, sort_keys=True, width=1000)).encode()
        path.write_bytes(data)
        self.labels_sha = _sha(data)
