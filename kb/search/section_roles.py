"""What a section does for a reader, and which section of an article to show for a ticket.

A support article is written in parts: a lead-in, "Symptoms" (what the customer
sees), "Causes", the fix (steps, commands, settings), reference tables, and "Still
not working?". A pasted ticket restates the problem, so by meaning it matches the
lead-in and the symptoms best, and the agent ends up pasting the customer's
problem back to them. The fix is what they need.

Roles come from the heading path first, then from the text:

- **heading words**, in English, Chinese and Russian ("Fix", "解决方法", "Что делать",
  "Symptoms", "现象", "Признаки", "Causes", "原因", "Почему"…). A subsection without
  such words takes its parent's ("Causes and fixes › Two devices in one room").
- **structure**, for headings that say nothing or for other languages: imperative
  lines (English and Chinese verb lists, Russian -ите/-йте forms), numbered steps,
  shell commands, a table with a "what to do" column. A section full of these
  is a fix whatever its heading ("Why a purge fails" is a table of remedies), and
  so is a "Check …"/"Проверка"/"检查" section with any instruction; a table
  without them is reference. Symptom and "still not working?" headings win over
  the text: their curl output and "write to support" are not the fix.

`choose` then prefers answering sections among an article's sections that match
the query about as well as the best one. Each role shifts the match score by a
few hundredths of a cosine (ROLE_BONUS): the lead-in, the symptoms and "Still not
working?" lose 0.06-0.08, so a fix wins over a restated symptom that matches a
little better; a fix named by its heading gains 0.05, one found from its text
only 0.01, so a section that matches clearly better (a ports table for "which
ports?") still wins. Heading-only sections and lists of links ("Related", "См.
также") are never chosen.

Cost: classifying a section takes ~0.1 ms (the sample's 650 sections: 70 ms in
all) and is memoised per heading path and text, so a search over five articles
pays ~3 ms the first time it meets their sections and nothing after. Computing
roles at search time keeps them out of the index format: rules can improve
without a re-index. If they settle, or a knowledge base is too large for the
memo to stay warm, compute `classify()` per section at index time (chunking
sees whole sections) and store the role in a chunks column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from kb.articles import blocks

if TYPE_CHECKING:
    from kb.index.store import ChunkRow

ROLES = ("fix", "cause", "symptom", "reference", "intro", "escalation", "other")

# Added to a section's match score (cosine units, e5-small) when choosing the section to show.
# Within one article the sections' scores differ by 0.01-0.10 (title and heading path are in every
# chunk); a ticket that restates its problem makes the symptom section win by up to 0.09 and
# "Still not working?" by up to 0.07, while a section without fix words that answers a question
# ("which ports?": the ports table) may beat a fix section by only 0.03. So restatements lose a
# lot, a fix named as such gains a little, and a fix found only from its text barely more than a
# tie-break. bench/fix_sections.py on tests/data/agent-queries.jsonl: fix shown 28/32 on a plateau of
# fix 0-0.02, named fix +0.03-0.05, symptom/intro -0.06 to -0.10, escalation -0.04 to -0.08; these
# values are its middle.
ROLE_BONUS = {"fix": 0.01, "cause": 0.0, "reference": 0.0, "other": 0.0,
              "escalation": -0.06, "symptom": -0.08, "intro": -0.08}
EXPLICIT_FIX_BONUS = 0.04  # the heading says fix ("Fix", "Что делать", "解决方法"): the author's own word

# --- heading words -------------------------------------------------------------
# Checked in this order on the section's own heading, then on its parents'. Lowercased
# patterns; stems cover Russian cases. en, zh and ru in full; es, de and fr for the main cues.
_HEADING_CUES: list[tuple[str, re.Pattern]] = [
    ("escalation", re.compile(
        r"^still\b|not working|still (?:failing|\w+ing)|"
        r"не помогло|вс[её] ещ[её]|осталось|не уходит|\bне \w+(?:л|ла|ло|ли|лся|лась|лось|лись)\?|"
        r"仍|依然|还是不行|"
        r"sigue sin|todavía|toujours|immer noch")),
    ("symptom", re.compile(
        r"symptom|what you see|\bsigns\b|looks? like|(?:example|sample) (?:response|error)|"
        r"симптом|признак|как выглядит|проявлени|пример ответа|"
        r"现象|症状|表现|响应示例|报错示例|"
        r"síntoma|symptôme")),
    ("related", re.compile(
        r"related|see also|next steps|"
        r"см\. также|что дальше|связанн|"
        r"相关|后续")),
    ("fix", re.compile(  # explicit: the heading names the fix
        r"\bfix|solution|solv|resolv|workaround|what to do|how to\b|\bsteps?\b|troubleshoot|remed|"
        r"restor|recover|renew|reduce|retry|procedure|"
        r"что делать|что сделать|решени|устранени|исправ|восстанов|обход|порядок действий|шаги|"
        r"\bкак (?:не )?\w+(?:ть|ти|ться)\b|"
        r"解决|处理(?!时间)|排查|步骤|方法|怎么办|修复|恢复|续期|临时|如何(?!确认|识别|测量)|"
        r"soluci|qué hacer|lösung|behebung|was tun|résoudre|que faire")),
    ("check", re.compile(
        r"\bcheck|confirm|verify|\btest|inspect|measur|narrow|"
        r"провер|определите|измер|"
        r"检查|确认|测量|定位|先确定|识别")),
    ("cause", re.compile(
        r"cause|\bwhy\b|reason|happens|^how (?!to\b)|mechanism|"
        r"причин|почему|\bкак\b|"
        r"原因|为什么|机制|怎么算|如何计算|"
        r"causa|por qué|ursache|warum|pourquoi")),
    ("reference", re.compile(
        r"reference|codes?\b|limits?\b|fields?\b|format|supported|\blist\b|overview|parameters|"
        r"справочн|коды|код ошиб|лимит|поля|формат|поддерживаем|список|"
        r"参考|错误码|一览|字段|限制|格式|列表|清单|对比")),
]


def heading_cue(path: tuple[str, ...]) -> str | None:
    """What the nearest heading with role words says about a section (None: no heading says)."""
    for heading in reversed(path):
        h = heading.lower().strip()
        for cue, pattern in _HEADING_CUES:
            if pattern.search(h):
                return cue
    return None


# --- text structure --------------------------------------------------------------
_EN_IMPERATIVE = frozenset("""
    add align allow allowlist apply ask attach avoid batch block call change check choose click close collect
    compare configure connect contact copy create delete deploy disable do don download enable ensure enter
    escalate export extend fill find follow generate give go grant handle honor honour increase install keep
    limit link listen look lower make measure move never note observe open page paste point purge put raise
    reactivate record reduce release remove renew replace request restart restore retry revert rotate run
    select send serve set sign start stop submit subscribe switch sync tag tell test tick turn type update
    upgrade upload use verify wait whitelist
""".split())
_ZH_IMPERATIVE = re.compile(
    r"^(?:先|再|点击|进入|执行|设置|选择|打开|检查|确认|改为|改用|放通|使用|开启|关闭|上传|重新|登录|添加|删除|填写|"
    r"复制|联系|提交|下载|升级|更新|调整|调低|停掉|启动|部署|将|把|在(?:控制台|\s*\*\*))")
# anywhere in a clause: "please <do>" (not 申请 apply, 请求 request, 请参考 see), "you can use / via", "be sure to"
_ZH_PLEASE = re.compile(r"(?<![申邀])请(?!求|参[考阅见]|见)|可(?:以)?(?:用|使用|通过|改用)|建议(?:使用|将|把|在|对|改)|务必|需(?:要)?先")
_RU_NOT_IMPERATIVE = frozenset({"хотите", "видите", "сайте", "ходите", "платите", "говорите"})
_RU_IMPERATIVE = re.compile(r"^(?:не\s+)?[а-яё]{3,}(?:ите|йте|ьте)(?:сь)?$")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)、]\s*|>\s*)")
_STEP = re.compile(r"^\s*\d+[.)、]\s*\S")
_CLAUSES = re.compile(r"(?<=[.!?;:。！？；：])\s+|[。！？；]")
# a condition or place before the instruction: "If nothing is printed, add…", "In Xcode, open…", "在 Web SDK 中，…"
_LEAD_IN = re.compile(r"^(?:if|when|once|in|on|for|after|если|когда|после|в|на|для|如果|若|在)\b[^,，]{0,60}[,，]\s*(.*)$",
                      re.I)
_SHELL_WORDS = re.compile(r"^\s*(?:\$\s+|sudo\s|curl\s|openssl\s|dig\s|nc\s|ffmpeg\s|ffprobe\s|mtr\s|tracert\s|"
                          r"timedatectl|chronyc|cat\s|npm\s|pip\s|kubectl\s|nimbus-\w+\s)")
_FIX_COLUMN = re.compile(r"what to do|\bfix|\bsolution|\baction|next step|что (?:с)?делать|решени|устранени|"
                         r"处理方法|解决方法|处理办法|解决办法|建议", re.I)
# a table keyed by what the customer sees: rows map problems to causes and remedies
_PROBLEM_COLUMN = re.compile(r"problem|error|symptom|message|signal|проблем|ошибк|симптом|сообщени|признак|"
                             r"问题|错误|报错|现象", re.I)
_WORD = re.compile(r"[^\W\d_][\w-]*", re.UNICODE)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_SOFTENERS = frozenset({"please", "then", "also", "first", "пожалуйста", "затем", "сначала", "также", "сперва"})


@dataclass(frozen=True)
class TextCues:
    imperatives: int  # lines or clauses that start with an instruction
    steps: int  # numbered list items
    commands: int  # shell command lines (in code blocks or after `$`)
    code_lines: int  # other code: configuration, snippets to paste
    fix_table: bool  # a table with a "what to do" column
    problem_table: bool  # a table whose first column is errors, symptoms or problems
    table_share: float  # share of the text's lines that are table rows

    @property
    def evidence(self) -> float:
        """How strongly the text reads as instructions (0: not at all)."""
        return (self.imperatives + 0.5 * self.steps + 0.75 * min(self.commands, 6) + 0.25 * min(self.code_lines, 8)
                + (3 if self.fix_table else 1.5 if self.problem_table else 0))


def _imperative(clause: str, han: bool, cyrillic: bool) -> bool:
    """Does this clause (a line, sentence or table cell) tell the reader to do something?"""
    clause = _LIST_MARK.sub("", clause).strip(" *_`\"'«“")
    m = _LEAD_IN.match(clause)
    if m:
        clause = m.group(1)
    if not clause:
        return False
    if han and (_ZH_IMPERATIVE.match(clause) or _ZH_PLEASE.search(clause)):
        return True
    words = _WORD.findall(clause[:160].lower())[:12]
    if not words:
        return False
    first = words[1] if words[0] in _SOFTENERS and len(words) > 1 else words[0]
    if first in _EN_IMPERATIVE:
        return True
    # Russian instructions often open with a circumstance: "Для лучшего качества возьмите…"
    return cyrillic and any(_RU_IMPERATIVE.match(w) and w not in _RU_NOT_IMPERATIVE and (i == 0 or words[i - 1] != "вы")
                            for i, w in enumerate(words))


def text_cues(text: str) -> TextCues:
    """Count the instruction-like parts of a section's Markdown."""
    han, cyrillic = bool(_HAN.search(text)), bool(_CYRILLIC.search(text))
    imperatives = steps = commands = code_lines = table_rows = 0
    fix_table = problem_table = shell = in_table = False
    lines = text.split("\n")
    opened = {f.start: f for f in blocks.fences(lines)}
    fence_lines = set(opened) | {f.end for f in opened.values() if f.closed}
    code = blocks.code_lines(lines)
    margin = 0  # the open fence's column: code in a list item is indented to it
    for i, line in enumerate(lines):
        if i in fence_lines:
            if i in opened:
                shell = opened[i].info.lower() in ("", "bash", "sh", "shell", "console", "zsh")
                margin = len(opened[i].lead)
            continue
        if code[i]:
            if line.strip() and not line.lstrip().startswith("#"):
                if _SHELL_WORDS.match(line) or (shell and not line[margin:margin + 1].isspace()):
                    commands += 1
                else:
                    code_lines += 1
            continue
        if line.lstrip().startswith("|"):
            table_rows += 1
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not in_table:  # the header row
                fix_table = fix_table or any(_FIX_COLUMN.search(c) for c in cells[1:])
                problem_table = problem_table or bool(_PROBLEM_COLUMN.search(cells[0]))
            in_table = True
            imperatives += sum(_imperative(part, han, cyrillic) for c in cells[1:] for part in _CLAUSES.split(c))
            continue
        in_table = False
        if _STEP.match(line):
            steps += 1
        imperatives += sum(_imperative(clause, han, cyrillic) for clause in _CLAUSES.split(line))
        if _SHELL_WORDS.match(line.strip("` ")):
            commands += 1
    nonblank = sum(1 for line in lines if line.strip()) or 1
    return TextCues(imperatives, steps, commands, code_lines, fix_table, problem_table, table_rows / nonblank)


# --- roles ---------------------------------------------------------------------
FIX_EVIDENCE = 1.5  # text evidence above which a section is a fix whatever its heading (bar symptoms)


@dataclass(frozen=True)
class SectionRole:
    role: str  # one of ROLES
    explicit: bool  # a fix named as such by its own heading or its parent's
    evidence: float  # TextCues.evidence of the text

    @property
    def bonus(self) -> float:
        return ROLE_BONUS[self.role] + (EXPLICIT_FIX_BONUS if self.role == "fix" and self.explicit else 0.0)


@lru_cache(maxsize=8192)
def classify(heading_path: tuple[str, ...], text: str) -> SectionRole:
    """The role of a section from its heading path (() for the lead-in) and its Markdown text."""
    if not heading_path:
        return SectionRole("intro", False, 0.0)
    cue = heading_cue(heading_path)
    cues = text_cues(text)
    told = _imperative(heading_path[-1], True, True)  # the heading itself instructs: "Enable the background mode"
    ev = cues.evidence + (2.0 if told else 0.0)
    if cue in ("escalation", "symptom"):
        return SectionRole(cue, False, ev)
    if cue == "fix":
        return SectionRole("fix", True, ev)
    # numbered facts alone are not a fix; a code sample of a few lines is something to paste
    instructs = told or cues.imperatives or cues.commands or cues.code_lines >= 3
    if cues.fix_table or (instructs and (ev >= FIX_EVIDENCE or cues.commands >= 2 or cue == "check")):
        return SectionRole("fix", False, ev)
    if cue in ("cause", "reference"):
        return SectionRole(cue, False, ev)
    if cues.table_share >= 0.5:
        return SectionRole("reference", False, ev)
    return SectionRole("other", False, ev)


def is_heading_only(chunk: ChunkRow) -> bool:
    """A section with no words of its own ("## Causes and fixes" right before "### 502")."""
    text = chunk.text.strip()
    return bool(chunk.heading) and (not text or text == chunk.heading.strip())


_MD_LINK = re.compile(r"!?\[[^\]]*\]\([^)]*\)|<https?://[^>\s]+>|https?://\S+")
_NOT_WORDS = re.compile(r"[\W\d_]+")
# what a line of links may say besides its links ("Related: [a](a), [b](b).")
_POINTER_WORDS = re.compile(
    r"(?:related(?: articles?| topics?| links?| guides?)?|see also|more|further reading|next steps?|read (?:also|next)|"
    r"см(?:отрите)? также|читайте также|похожие статьи|полезные ссылки|что дальше|"
    r"相关(?:文章|文档|链接|阅读|内容)?|相關(?:文章|文件|連結|閱讀|內容)?|另请参阅|另請參閱|参见|參見|延伸阅读|延伸閱讀|"
    r"siehe auch|véase también|ver también|voir aussi|関連(?:記事)?)?")


def is_link_list(chunk: ChunkRow) -> bool:
    """A section of links only ("Related", "See also", "相关文章", "См. также"): it points elsewhere and
    answers nothing, so no result points to it while the version has another section."""
    body = "\n".join(line for line in chunk.text.splitlines() if not line.lstrip().startswith("#"))
    if not _MD_LINK.search(body):
        return False
    rest = " ".join(_NOT_WORDS.sub(" ", _MD_LINK.sub(" ", body)).split()).lower()
    return bool(_POINTER_WORDS.fullmatch(rest))


def role_of(chunk: ChunkRow) -> SectionRole:
    return classify(tuple(chunk.heading_path), chunk.text)


@dataclass(frozen=True)
class SectionPlan:
    """One article version's sections as `choose` judges them, worked out once per version, not per query.

    `groups` are the chunk positions of each section (chunks of one long section
    share an anchor) with that section's role bonus; heading-only sections and
    lists of links are left out while the version has any other.
    """

    groups: tuple[tuple[tuple[int, ...], float], ...]


def plan(chunks: list[ChunkRow]) -> SectionPlan:
    usable = ([i for i, c in enumerate(chunks) if not is_heading_only(c) and not is_link_list(c)]
              or list(range(len(chunks))))
    by_anchor: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for i in usable:
        by_anchor.setdefault((chunks[i].anchor, tuple(chunks[i].heading_path)), []).append(i)
    groups = []
    for (_, path), members in by_anchor.items():
        members.sort(key=lambda i: chunks[i].ord)
        groups.append((tuple(members), classify(path, "\n\n".join(chunks[i].text for i in members)).bonus))
    return SectionPlan(tuple(groups))


def pick(section_plan: SectionPlan, scores) -> int | None:
    """The position of the chunk to show, given each chunk's match score (by position; higher is better)."""
    best, best_total = None, float("-inf")
    for members, bonus in section_plan.groups:
        top = max(members, key=scores.__getitem__)
        total = scores[top] + bonus
        if total > best_total:
            best, best_total = top, total
    return best


def choose(candidates: list[tuple[ChunkRow, float]]) -> ChunkRow | None:
    """The section to show for one article version: the best match once each role's bonus is added.

    `candidates` are chunks of one version with their match score for the query
    (higher is better). Chunks of one long section (same anchor) are judged
    together: the role from their joined text, the score of the best of them.
    Heading-only sections and lists of links are never chosen while any other section is there.
    """
    if not candidates:
        return None
    chunks = [c for c, _ in candidates]
    return chunks[pick(plan(chunks), [s for _, s in candidates])]
