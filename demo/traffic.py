"""Months of simulated traffic for a sample knowledge base, so a fresh `make run` has charts to show.

Nothing here is a hand-written number: every search is run through the real Searcher, and
what follows comes from its answers and simple behaviour models, seeded:
- visitors search the sample's questions in their language (zh, en, ru in `LANG_MIX`) plus
  needs the sample does not cover; daily volume grows slowly, with quieter weekends;
- an answered search gets at most one click, by position bias times whether the article at
  that rank is one the question is about (`relevant` in the questions file);
- some readers vote on what they opened (mostly "Yes" if it was the right article), some
  "No" voters say why;
- a failed search sends some visitors to the contact form, whose suggestions are the search's
  answers: opening the right one deflects most of them, the others send a request;
- agents paste tickets (internal audience) and mark the top suggestion solved or not relevant.
Timestamps are spread over the last `days` days; the rows go through the activity log's own
methods at those times.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kb.contact import requests as contact
from kb.storage import activity as activity_module
from kb.storage.contact import ContactStore
from kb.search.logged import logged_search

LANG_MIX = {"zh": 0.45, "en": 0.33, "ru": 0.22}
SEARCHES_PER_DAY = (30, 60)  # at the start and at the end of the period
AGENT_TICKETS_PER_DAY = 6
API_SHARE = 0.12
VOTE_SHARE = 0.25
CONTACT_SHARE = 0.35  # failed searches that open the contact form
REASONS = {"en": ["the steps do not match the console", "my error code is not mentioned"],
           "ru": ["шаги не совпадают с консолью", "нет моей ошибки"],
           "zh": ["步骤和控制台不一致", "没有提到我的错误码"]}


@dataclass
class Question:
    text: str
    lang: str
    relevant: set[str] = field(default_factory=set)


def load_questions(*paths: Path) -> list[Question]:
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                out.append(Question(d["text"], d.get("lang") or "en", set(d.get("relevant") or ())))
    return out


@contextmanager
def clock(at: dt.datetime) -> Iterator[None]:
    """The activity log and the contact store write `at` as the time of what is logged inside."""
    stamp = at.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    saved = activity_module.now, contact.now
    activity_module.now = contact.now = lambda: stamp
    try:
        yield
    finally:
        activity_module.now, contact.now = saved


class Simulation:
    def __init__(self, searcher, activity, contacts: ContactStore, customer: list[Question],
                 agent: list[Question], seed: int = 20261130):
        self.searcher, self.activity, self.contacts = searcher, activity, contacts
        self.rng = random.Random(seed)
        self.customer = {lang: [q for q in customer if q.lang == lang] for lang in LANG_MIX}
        self.agent = agent
        self.counts = {"searches": 0, "clicks": 0, "votes": 0, "marks": 0, "forms": 0, "requests": 0}

    def run(self, days: int, today: dt.date) -> dict[str, int]:
        for d in range(days, 0, -1):
            day = today - dt.timedelta(days=d)
            progress = 1 - d / days
            volume = SEARCHES_PER_DAY[0] + (SEARCHES_PER_DAY[1] - SEARCHES_PER_DAY[0]) * progress
            if day.weekday() >= 5:
                volume *= 0.55
            for _ in range(self._poisson(volume)):
                self.visit(self._moment(day))
            for _ in range(self._poisson(AGENT_TICKETS_PER_DAY * (0.3 if day.weekday() >= 5 else 1))):
                self.ticket(self._moment(day))
        return self.counts

    def visit(self, at: dt.datetime):
        lang = self.rng.choices(list(LANG_MIX), weights=list(LANG_MIX.values()))[0]
        pool = self.customer[lang]
        if not pool:
            return
        q = pool[min(int(self.rng.paretovariate(1.2)) - 1, len(pool) - 1)] if self.rng.random() < 0.5 \
            else self.rng.choice(pool)  # a few questions are asked far more often than the rest
        api = self.rng.random() < API_SHARE

        def show(resp):  # as the help center shows it: the closest three when it did not answer
            answered = resp.answered and resp.total > 0
            return (resp.results if answered else resp.results[:3]), answered

        with clock(at):
            found = logged_search(self.searcher, self.activity, q.text, route="api" if api else "help_center",
                                  audience="public", ui_lang=lang, show=show, k=10)
        shown, answered, sid = found.shown, found.answered, found.search_id
        self.counts["searches"] += 1
        if api:
            return
        opened = self._click(shown, q) if answered else None
        if opened is not None:
            rank, r = opened
            later = at + dt.timedelta(seconds=self.rng.randint(2, 40))
            reader = f"demo-visitor-{self.counts['searches']}"  # each visit a reader of its own (kb/learning)
            with clock(later):
                self.activity.log_click(sid, r.id, r.lang, rank, origin=reader)
                self.activity.log_view(r.id, r.lang, lang, "public")
            self.counts["clicks"] += 1
            if self.rng.random() < VOTE_SHARE:
                self._vote(r, q, lang, later + dt.timedelta(minutes=2), reader, sid)
        elif self.rng.random() < CONTACT_SHARE:
            self.contact_form(q, lang, at + dt.timedelta(minutes=1))

    def _click(self, shown, q: Question):
        for rank, r in enumerate(shown[:5], start=1):
            right = r.id in q.relevant
            if self.rng.random() < (0.75 if right else 0.12) / rank ** 0.7:
                return rank, r
        return None

    def _vote(self, r, q: Question, lang: str, at: dt.datetime, reader: str, search_id: int):
        helpful = self.rng.random() < (0.82 if r.id in q.relevant else 0.3)
        with clock(at):
            vote = self.activity.add_feedback(r.id, r.lang, helpful, None, source="help_center", origin=reader,
                                              search_id=search_id)
            if not helpful and self.rng.random() < 0.4:
                self.activity.add_feedback_reason(vote, self.rng.choice(REASONS.get(lang, REASONS["en"])))
        self.counts["votes"] += 1

    def contact_form(self, q: Question, lang: str, at: dt.datetime):
        """Open the form, see its suggestions (the search's answers), then read one or send a request."""
        form_id = contact.new_form_id()
        self.contacts.add_event(form_id, "open", lang, at=at)
        self.counts["forms"] += 1
        resp = self.searcher.search(q.text, ui_lang=lang, k=5, audience="public")
        suggestions = resp.results if resp.answered else []
        pick = self._click(suggestions, q)
        if pick is not None:
            self.contacts.add_event(form_id, "click", lang, pick[1].id, at=at + dt.timedelta(seconds=30))
            if self.rng.random() < (0.8 if pick[1].id in q.relevant else 0.35):
                return  # found it: deflected
        if self.rng.random() < 0.75:
            with clock(at + dt.timedelta(minutes=4)):
                req = contact.checked(q.text[:200], f"{q.text}\n\n(simulated request)", "customer@example.com", lang,
                                      form_id=form_id)
            self.contacts.add_request(req, deliver=False)
            self.counts["requests"] += 1

    def ticket(self, at: dt.datetime):
        if not self.agent:
            return
        q = self.rng.choice(self.agent)
        with clock(at):
            resp = logged_search(self.searcher, self.activity, q.text, route="agent", audience="internal",
                                 ui_lang=q.lang, k=5).response
        if resp.results and self.rng.random() < 0.6:
            top = resp.results[0]
            solved = self.rng.random() < (0.85 if top.id in q.relevant else 0.2)
            with clock(at + dt.timedelta(minutes=self.rng.randint(3, 30))):
                self.activity.add_mark(top.id, top.lang, "solved" if solved else "not_relevant", q.text[:200],
                                       "simulated-agent")
            self.counts["marks"] += 1

    def _moment(self, day: dt.date) -> dt.datetime:
        hour = min(23, max(0, int(self.rng.gauss(14, 4))))
        return dt.datetime(day.year, day.month, day.day, hour, self.rng.randint(0, 59), self.rng.randint(0, 59),
                           tzinfo=dt.timezone.utc)

    def _poisson(self, mean: float) -> int:
        return max(0, round(self.rng.gauss(mean, mean ** 0.5)))
