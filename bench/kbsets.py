"""The development knowledge bases of issue 22, each as a folder of polykb articles plus a query set.

A query has a kind: "answerable" (its qrels name the articles that answer it), "in-domain" (about the
product, answered by no article) or "off-domain" (about something else). The kinds are what the
"answered" decision is scored on: answered on the first, refused on the other two.

- `sample`: the repository's own `articles/` with tests/data/sample_queries.jsonl, the README's typo
  examples and the issue's short queries (tests/data/short_queries.jsonl) and the out-of-scope
  questions (tests/data/out_of_scope_queries.jsonl).
- `adguard-dns`, `adguard-adblocker`: the AdGuard DNS and AdGuard Ad Blocker knowledge bases (public
  Docusaurus sites, fetched at bench time: their text never enters this repository), with queries we
  wrote (bench/kbs/<name>/, README there). The sites are sampled (SITES: locales and which docs) so each
  indexes in about ten minutes on two cores.
- `covid-faq`: deepset's COVID-QA FAQ questions with human paraphrases, English and German (written by
  bench/fetch_faq.py into bench/.work/data/covid-faq).
- `stackfaq`: ../shared/bench/stackfaq.

FAQ sets have only answerable queries; `held_out` removes a seeded share of their articles so the
queries whose answers all went become in-domain unanswerable (as bench/evidence.py does), and each
gets off-domain questions from the other FAQ set.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import datasets, docusaurus_stopgap

REPO = Path(__file__).resolve().parent.parent
WORK = datasets.WORK / "kbs"
QUERY_SETS = REPO / "bench" / "kbs"
DATA = REPO / "tests" / "data"
MIRROR = Path(os.environ.get("BENCH_MIRROR", "/work/.mirror"))
KINDS = ("answerable", "in-domain", "off-domain")
_KIND_ALIASES = {"offdomain": "off-domain", "unanswerable": "in-domain"}


@dataclass(frozen=True)
class Site:
    repo: str  # owner/name of the fetched snapshot
    locales: dict  # docusaurus locale → polykb language
    skip: tuple = ()  # doc paths (relative to the docs root) left out, by prefix
    translate_max_chars: int | None = None  # translations only of English pages up to this size

    def keep(self, rel: str) -> bool:
        return not rel.startswith(self.skip)


# Sampled so that each indexes in about seven minutes at ~0.3 s a chunk (whole sites: ~2,800 and ~5,000
# chunks in four languages). Left out: the 147 KB provider list, the AdGuard Home configuration reference,
# the API and MDM references, the API changelog and the contributors' pages (DNS); the 226 KB filter-syntax
# reference, the filter policy, the userscripts catalogue, the four low-level settings references, archived
# and beta products and the contributors' pages (ad blocker). Translations: only of English pages up to
# 5,000 characters (DNS) or 2,000 (ad blocker), so longer pages exist in English alone, as on many real
# sites; German only for DNS. Queries in other languages (de for the ad blocker, es, ja) cross languages.
# That leaves ~1,400 chunks (DNS) and ~1,350 (ad blocker).
_DNS_SKIP = ("general/dns-providers", "private-dns/api/", "adguard-home/configuration",
             "private-dns/connect-devices/other-options/mdm-config", "miscellaneous/github-repos",
             "miscellaneous/acknowledgements", "miscellaneous/update-kb")
_ADBLOCKER_SKIP = ("general/ad-filtering/create-own-filters", "general/ad-filtering/filter-policy", "general/extensions",
                   "general/github-repos", "adguard-for-android/features/low-level-settings",
                   "adguard-for-android/solving-problems/low-level-settings",
                   "adguard-for-windows/solving-problems/low-level-settings",
                   "adguard-for-mac/solving-problems/advanced-settings", "archive/", "miscellaneous/",
                   "adguard-for-windows-8/", "adguard-mini-for-mac/", "adguard-for-linux/", "adguard-content-blocker/")
SITES = {
    "adguard-dns": Site("AdguardTeam/KnowledgeBaseDNS", {"en": "en", "zh-CN": "zh", "ru": "ru", "de": "de"},
                        _DNS_SKIP, 5000),
    "adguard-adblocker": Site("AdguardTeam/KnowledgeBase", {"en": "en", "zh-CN": "zh", "ru": "ru"}, _ADBLOCKER_SKIP, 2000),
}


@dataclass
class KB:
    name: str
    articles: Path
    queries: list[dict]  # {"id", "lang", "text", "kind"}
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)
    note: str = ""
    own_queries: bool = True  # written by us; a public set's query text is not repeated in our results

    def of_kind(self, kind: str) -> list[dict]:
        return [q for q in self.queries if q["kind"] == kind]


def read_queries(path: Path, default_kind: str | None = None) -> list[dict]:
    """A queries file's lines, each with a kind; inline `"relevant"` lists become qrels (`_relevant`)."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        q = json.loads(line)
        kind = _KIND_ALIASES.get(q.get("kind"), q.get("kind")) or default_kind or (
            "answerable" if q.get("relevant") else None)
        if kind not in KINDS:
            raise SystemExit(f"{path}:{n}: kind must be one of {list(KINDS)}, got {q.get('kind')!r}")
        out.append({"id": str(q.get("id") or f"{path.stem}-{n}"), "lang": q.get("lang"), "text": q["text"],
                    "kind": kind, "_relevant": list(q.get("relevant") or ())})
    return out


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, doc, rel = line.split("\t")
            qrels.setdefault(qid, {})[doc] = int(rel)
    return qrels


def sample() -> KB:
    queries = (read_queries(DATA / "sample_queries.jsonl", "answerable") + read_queries(DATA / "short_queries.jsonl")
               + read_queries(DATA / "out_of_scope_queries.jsonl"))
    qrels = {q["id"]: {a: 1 for a in q["_relevant"]} for q in queries if q["_relevant"]}
    return KB("sample", REPO / "articles", queries, qrels, "the repository's articles/ (public articles only)")


def docusaurus(name: str, articles: Path | None = None) -> KB:
    """A Docusaurus KB: `articles` imported by `kb import docusaurus`, or else converted from the fetched
    snapshot by the stop-gap converter into bench/.work/kbs/<name>/articles."""
    site = SITES[name]
    note = "imported articles"
    if articles is None:
        snapshot = MIRROR / site.repo.replace("/", "+") / "repo"
        if not snapshot.exists():
            raise SystemExit(f"{name}: no snapshot at {snapshot}; fetch github:{site.repo} first, or pass the "
                             "folder `kb import docusaurus` wrote")
        docs = docusaurus_stopgap.read_site(snapshot, site.locales, site.keep, site.translate_max_chars)
        articles = docusaurus_stopgap.write_articles(docs, WORK / name / "articles")
        note = (f"{site.repo}, locales {', '.join(site.locales)}, {len({d.id for d in docs})} docs "
                f"({len(docs)} files; stop-gap converter)")
    folder = QUERY_SETS / name
    label = name if note != "imported articles" else f"{name}-imported"  # its own index beside the sample's
    return KB(label, articles, read_queries(folder / "queries.jsonl"), read_qrels(folder / "qrels.tsv"),
              f"{note} ({articles})" if label != name else note)


def faq(name: str, off_domain_from: str | None = None, max_off: int = 100) -> KB:
    """A FAQ set in ../shared/bench's format (../shared/bench/<name> or bench/.work/data/<name>), written as
    articles; off-domain questions are an even sample of another FAQ set's queries."""
    ds = _dataset(name, FAQ_MAX_QUERIES.get(name))
    articles = datasets.write_articles(ds)
    queries = [{"id": q["id"], "lang": q.get("lang"), "text": q["text"], "kind": "answerable"} for q in ds.queries
               if ds.qrels.get(q["id"])]
    if off_domain_from:
        other = _dataset(off_domain_from).queries
        step = max(1, len(other) // max_off)
        queries += [{"id": f"off-{q['id']}", "lang": q.get("lang"), "text": q["text"], "kind": "off-domain"}
                    for q in other[::step][:max_off]]
    return KB(name, articles, queries, ds.qrels, f"{len(ds.docs)} FAQ entries", own_queries=False)


def _dataset(name: str, max_queries: int | None = None) -> datasets.Dataset:
    local = datasets.WORK / "data" / name
    return datasets.load(name, max_queries, folder=local if local.is_dir() else None)


# Articles removed together: StackFAQ's answers to one thread ("t012a0", "t012a1"...) answer the same queries.
HELD_OUT_GROUP = {"stackfaq": lambda art_id: art_id.split("a", 1)[0]}


def held_out(kb: KB, share: float = 0.3, seed: int = 20261204) -> KB:
    """The KB without a seeded share of its articles (or groups of them): answerable queries whose relevant
    articles were all removed become in-domain unanswerable (the FAQ sets have none of their own)."""
    group = HELD_OUT_GROUP.get(kb.name, lambda art_id: art_id)
    ids = sorted({p.name.split(".")[0] for p in kb.articles.glob("*.md")})
    groups = sorted({group(i) for i in ids})
    dropped = set(random.Random(f"{seed}-{kb.name}").sample(groups, int(share * len(groups))))
    drop = {i for i in ids if group(i) in dropped}
    out = _copy_articles(kb.articles, WORK / f"{kb.name}-held-out" / "articles", drop)
    queries, qrels = [], {}
    for q in kb.queries:
        rel = {d: r for d, r in kb.qrels.get(q["id"], {}).items() if d not in drop}
        if q["kind"] == "answerable" and not rel:
            q = dict(q, kind="in-domain")
        elif rel:
            qrels[q["id"]] = rel
        queries.append(q)
    return replace(kb, name=f"{kb.name}-held-out", articles=out, queries=queries, qrels=qrels,
                   note=f"{kb.note}; {len(dropped)} of {len(groups)} removed (seed {seed})")


def _copy_articles(src: Path, out: Path, drop: set[str]) -> Path:
    """The articles of `src` but those whose id is in `drop`; unchanged files are not rewritten."""
    out.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for p in src.glob("*.md"):
        if p.name.split(".")[0] not in drop:
            wanted.add(p.name)
            target = out / p.name
            if not target.exists() or target.read_bytes() != p.read_bytes():
                target.write_bytes(p.read_bytes())
    for stale in out.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    return out


NAMES = ("sample", "adguard-dns", "adguard-adblocker", "covid-faq", "stackfaq")
# What bench/kb_eval.py runs by default: the FAQ sets held out (they have no unanswerable questions otherwise).
DEFAULT_RUN = ("sample", "adguard-dns", "adguard-adblocker", "covid-faq-held-out", "stackfaq-held-out")
OFF_DOMAIN_FROM = {"covid-faq": "stackfaq", "stackfaq": "covid-faq"}
FAQ_MAX_QUERIES = {"stackfaq": 400}  # an even sample of its 1,249 paraphrases


def load(name: str, articles: Path | None = None) -> KB:
    """One dev KB by name (NAMES); `name-held-out` for a FAQ set with a share of its articles removed."""
    base = name.removesuffix("-held-out")
    if base == "sample":
        kb = sample()
    elif base in SITES:
        kb = docusaurus(base, articles)
    else:
        kb = faq(base, OFF_DOMAIN_FROM.get(base))
    return held_out(kb) if name.endswith("-held-out") else kb
