"""Words the knowledge base never uses, and how much of a question rests on them.

A near-topic question ("does the CDN support websocket connections", "можно
оплатить криптовалютой", "支持比特币付款吗") reaches the CDN or billing article at
a cosine as high as real questions do: every word but one is the knowledge
base's own. The one word gives it away, on three counts:
- no chunk has it, even after typo correction, and it is no compound of two
  words the knowledge base has ("Coronaverdacht": corona + verdacht);
- the query means something else without it: e5 moves the query's vector by
  at least `NOVEL_SHARE` (1 - cosine) when it is left out;
- it pulls the query away from the best article, not toward it: the article
  is at least as close to the query without the word.
A word of slang or a synonym fails the last test ("ссылки с auth_key протухают"
is further from the token article without "протухают"), a filler fails the
second. Measured on the sample's out-of-scope questions and the held-out FAQ
sets: bench/results/novelty.md.

Typed questions only: a pasted ticket has dozens of words no article uses
(greetings, names, hosts), and judging them would cost two embeddings of the
whole ticket.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from kb.text import fillers, languages

# e5-small's 1 - cosine between a question with and without its unknown words at which the words carry the
# question: the sample's answerable questions reach 0.037, its near-topic out-of-scope ones 0.044-0.083
# (bench/results/novelty.md has the held-out FAQ sets)
NOVEL_SHARE = 0.04
COMPOUND_PART = 4  # letters each part of a compound has at least ("Hausgeburt": haus + geburt)

_WORD = re.compile(r"[^\W_]+(?:[/.\-'][^\W_]+)*")


def words(text: str) -> list[str]:
    """The query's words as a reader sees them: Han runs cut by jieba, others by letters."""
    out: list[str] = []
    pos = 0
    for m in languages.HAN_RUN.finditer(text):
        out += _WORD.findall(text[pos:m.start()]) + languages.han_words(m.group())
        pos = m.end()
    return out + _WORD.findall(text[pos:])


def unknown_words(text: str, lang: str | None, unknown_tokens: set[str], known: Callable[[str], bool]) -> list[str]:
    """The words of `text` none of whose tokens the knowledge base has (`unknown_tokens`: after typo correction),
    leaving out numbers and codes ("4M", "429") and compounds of two words it has (`known`, one token)."""
    if not unknown_tokens:
        return []
    out = []
    for w in words(text):
        tokens = set(languages.tokenize(w, lang))
        if (tokens and tokens <= unknown_tokens and not any(ch.isdigit() for ch in w)
                and not compound(w, lang, known)):
            out.append(w)
    return out


def compound(word: str, lang: str | None, known: Callable[[str], bool], least: int = COMPOUND_PART) -> bool:
    """Whether `word` is two known words run together, with or without a linking "s" (German, Dutch...)."""
    w = word.lower()
    if len(w) < 2 * least or not w.isalpha() or languages.HAN_RUN.search(w):
        return False
    for i in range(least, len(w) - least + 1):
        head, tail = w[:i], w[i:]
        if known(tail) and (known(head) or (head.endswith("s") and len(head) > least and known(head[:-1]))):
            return True
    return False


def shown(text: str, lang: str | None, unknown: list[str]) -> tuple[str, ...]:
    """The unknown words as a reader would name them: Han words jieba cut apart joined again where they stand
    together in the text ("比特" + "币": "比特币"), fillers ("吗", "the") left out."""
    out: list[str] = []
    for w in unknown:
        if out and languages.HAN_RUN.fullmatch(w) and languages.HAN_RUN.fullmatch(out[-1]) and out[-1] + w in text:
            out[-1] += w
        else:
            out.append(w)
    filler = fillers.tokens(lang)
    return tuple(dict.fromkeys(w for w in out if not set(languages.tokenize(w, lang)) <= filler))


def without(text: str, unknown: list[str]) -> str:
    """`text` with the unknown words left out, the rest as typed."""
    out = text
    for w in sorted(set(unknown), key=len, reverse=True):
        if languages.HAN_RUN.match(w):
            out = out.replace(w, "")
        else:
            out = re.sub(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])", "", out)
    return re.sub(r"\s+", " ", out).strip()


def carries(qvec: np.ndarray, bare: np.ndarray, article: np.ndarray, share: float = NOVEL_SHARE) -> bool:
    """Whether the left-out words carry the question away from the best article: the question moves by
    `share` or more without them, and the article (its chunks' vectors) is no further from it then."""
    if 1.0 - float(qvec @ bare) < share:
        return False
    return float((article @ bare).max()) >= float((article @ qvec).max())
