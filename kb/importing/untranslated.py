"""Is a "translation" translated? The share of its prose written in its own language.

Translation platforms (Crowdin and the like) fill every locale with a copy of the source and let
translators replace it; a site then ships the untranslated copies. On AdGuard's knowledge base most
zh-TW and half the zh-CN and es "translations" were English. Indexed under their locale they crowd
out real answers and show English under a Chinese label, so they are not imported: readers of that
language get the source, labelled as a fallback, and the report tells writers what to translate.

Only prose counts: code, inline code, URLs, link targets and markup are the same in every language.
Paragraphs are judged one by one with the project's detector (kb.text.languages) between the
locale's language and the source's, weighted by their length, so a translated page keeping an
English product name or an untranslated note is still a translation.
"""

from __future__ import annotations

import re

from kb.articles import blocks
from kb.text import languages

MOSTLY = 0.5  # below this share of prose in its own language, a translation is a copy of another language
# langdetect reads a paragraph in ~10 ms: a 300-paragraph page is judged on 24 of them, spread over it, by their
# first 400 characters (the decision is a majority, not a count); AdGuard's KB took minutes without the cap
SAMPLE = 24
DETECT_CHARS = 400
_STRIP = [
    re.compile(r"`[^`\n]*`"),  # inline code
    re.compile(r"https?://\S+"),
    re.compile(r"\]\([^)]*\)"),  # link targets (the text stays)
    re.compile(r"<[^<>\n]*>"),  # markup
    re.compile(r"\{#[^}]*\}"),  # heading ids
    re.compile(r"^[ \t]*(?:!!!|\?\?\?)[^\n]*$", re.M),  # admonition markers
]
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")
_LATIN_WORD = re.compile(r"[A-Za-zÀ-ɏ]{2,}")


def prose(markdown_text: str) -> str:
    """The words a translator translates: the text without code, URLs, link targets and markup."""
    text = "".join("\n" if code else piece for piece, code in blocks.segments(markdown_text))
    for rx in _STRIP:
        text = rx.sub(" ", text)
    return text


def _units(text: str) -> int:
    """How much text a paragraph is, comparable across scripts: a Han or kana character, or a word."""
    counts = languages.script_counts(text)
    cjk = counts.get("han", 0) + counts.get("kana", 0) + counts.get("hangul", 0)
    return cjk + len(re.findall(r"[^\W\d_]+", re.sub(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", " ", text)))


def own_share(markdown_text: str, lang: str, source_lang: str) -> float | None:
    """The share (0-1) of the prose written in `lang` rather than `source_lang`; None when there is no prose."""
    lang, source_lang = lang.split("-")[0], source_lang.split("-")[0]
    pair = {lang, source_lang}
    own = total = 0
    paragraphs = [(para, size) for para in _PARAGRAPHS.split(prose(markdown_text)) if (size := _units(para)) >= 3]
    step = max(1, -(-len(paragraphs) // SAMPLE))
    for para, size in paragraphs[::step]:
        found = languages.detect(para[:DETECT_CHARS], pair, None).lang
        total += size
        own += size if found == lang else 0
    return own / total if total else None


def is_copy(markdown_text: str, lang: str, source_lang: str) -> bool:
    """Mostly written in another language than its own: an untranslated copy."""
    share = own_share(markdown_text, lang, source_lang)
    return share is not None and share < MOSTLY
