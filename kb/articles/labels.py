"""Human names of products and topics (tags), per language, from `labels.yml` in the articles folder.

Tags are slugs (`5xx`, `sub-users`): good for writers and URLs, not for a
reader browsing categories in Chinese. The labels live beside the articles,
in one file writers edit like the articles themselves, and are indexed with
them (a label change shows after `kb index`):

    products:
      cdn: {en: CDN acceleration, zh: CDN 加速, ru: Ускорение CDN}
    topics:
      cache: {en: Caching, zh: 缓存, ru: Кэширование}

A slug without a label, or a language without one, falls back to the English
label, then to the slug itself (products upper-cased: `CDN`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb.text import languages
from kb.articles.model import Problem
from kb.errors import QueryError

FILE = "labels.yml"
KINDS = ("products", "topics")
MAX_BYTES = 256_000
MAX_DEPTH = 32  # flow nesting ([ or {): libyaml composes recursively in C, and labels need 2 levels


@dataclass(frozen=True)
class Labels:
    """{kind: {slug: {lang: label}}}; `name()` picks the reader's language."""

    table: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def name(self, kind: str, slug: str, lang: str | None) -> str:
        names = self.table.get(kind, {}).get(slug, {})
        found = names.get(lang or "") or names.get("en")
        if found:
            return found
        return slug.upper() if kind == "products" else slug.replace("-", " ").replace("_", " ")

    def to_json(self) -> dict:
        return self.table


def load(articles_dir: Path) -> tuple[Labels, list[Problem]]:
    """The labels of `articles_dir` (empty without a labels file) and the problems found, with their lines.

    A bad entry is left out with a warning; a file that is not YAML is an error and no labels are used:
    the pages then show slugs, which is worse but never wrong.
    """
    path = Path(articles_dir) / FILE
    if not path.is_file():
        return Labels(), []
    rel = FILE
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_BYTES:
            return Labels(), [Problem(rel, 1, "error", f"{FILE} is over {MAX_BYTES:,} bytes; labels are a few lines each",
                                      "labels")]
        text = raw.decode("utf-8-sig")
        if _flow_depth(text) > MAX_DEPTH:
            return Labels(), [Problem(rel, 1, "error", f"{FILE} nests [ or {{ over {MAX_DEPTH} levels; use plain "
                                      "'slug: {en: ..., zh: ...}' lines", "labels")]
        node = yaml.compose(text, Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as e:
        mark = getattr(e, "problem_mark", None)
        return Labels(), [Problem(rel, mark.line + 1 if mark else 1, "error",
                                  f"{FILE} cannot be read ({getattr(e, 'problem', None) or e}); no labels are used",
                                  "labels")]
    return _read(node, rel)


def unlabelled(labels: Labels, articles) -> list[Problem]:
    """Warnings for the products and tags of public articles that a labels file names nowhere (pages would
    show the slug); none without a labels file, for a knowledge base content with slugs."""
    if not labels.table:
        return []
    used: dict[tuple[str, str], int] = {}
    for a in articles:
        if not a.is_public:
            continue
        for kind, slug in [("products", a.product)] + [("topics", t) for t in a.tags if t != a.product]:
            if slug:
                used[(kind, slug)] = used.get((kind, slug), 0) + 1
    return [Problem(FILE, 1, "warning", f"{kind[:-1]} '{slug}' ({n} public article versions) has no label in {FILE}; "
                                        "the help center shows the slug", "no-label")
            for (kind, slug), n in sorted(used.items()) if slug not in labels.table.get(kind, {})]


def _flow_depth(text: str) -> int:
    """The deepest nesting of [ and { (quotes ignored: an over-estimate is harmless, labels nest 2 levels)."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}" and depth:
            depth -= 1
    return deepest


def _read(node, rel: str) -> tuple[Labels, list[Problem]]:
    problems: list[Problem] = []

    def warn(n, message):
        problems.append(Problem(rel, n.start_mark.line + 1, "warning", message, "labels"))

    table: dict[str, dict[str, dict[str, str]]] = {}
    if node is None:
        return Labels(), []
    if not isinstance(node, yaml.MappingNode):
        warn(node, f"{FILE} must be a mapping with 'products:' and 'topics:'")
        return Labels(), problems
    for key, value in node.value:
        if key.value not in KINDS:
            warn(key, f"unknown section {key.value!r} in {FILE}; expected one of {list(KINDS)}")
            continue
        if not isinstance(value, yaml.MappingNode):
            warn(value, f"'{key.value}' must map each slug to its labels, e.g. cdn: {{en: CDN, zh: CDN 加速}}")
            continue
        table[key.value] = {}
        for slug, names in value.value:
            entry = _entry(slug, names, key.value, warn)
            if entry:
                table[key.value][slug.value.strip().lower()] = entry
    return Labels(table), problems


def _entry(slug, names, kind, warn) -> dict[str, str]:
    if not isinstance(names, yaml.MappingNode):
        warn(names, f"{kind}.{slug.value}: give labels per language, e.g. {{en: ..., zh: ...}}")
        return {}
    out = {}
    for lang, label in names.value:
        try:
            code = languages.normalize(str(lang.value))
        except QueryError as e:
            warn(lang, f"{kind}.{slug.value}: {e}")
            continue
        text = str(label.value).strip() if isinstance(label, yaml.ScalarNode) else ""
        if not text:
            warn(label, f"{kind}.{slug.value}.{lang.value}: the label is empty")
            continue
        out[code] = text[:80]
    return out
