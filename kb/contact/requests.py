"""Contact requests: what a customer sends when the help center did not answer, and deflection.

A visit to the contact form is a *form session* (a random id in the form). Its events are
`open` (the form was shown), `click` (the customer opened an article the form suggested) and
`submit` (a request was sent). A session with a click and no submit, quiet for
`DEFLECTED_AFTER` minutes, counts as **deflected**: the customer found the answer on the
way to asking, which is what a support lead wants the help center to do. Storage is
`ContactStore` (kb/storage); the webhook delivery is `kb.contact.outbox`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from dataclasses import asdict, dataclass, field

from kb.errors import KBError

DEFLECTED_AFTER = 30  # minutes without a submit after opening a suggested article
LIMITS = {"subject": 200, "message": 5000, "email": 254, "name": 120}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_FORM_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ContactError(KBError):
    """A contact request that cannot be accepted; `field` names the form field to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class ContactRequest:
    subject: str
    message: str
    email: str
    lang: str  # the help center language the customer wrote from
    name: str = ""
    article_id: str | None = None  # the article the customer came from ("No" on "Was this helpful?")
    form_id: str | None = None
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: str = field(default_factory=lambda: now())

    def payload(self) -> dict:
        """The JSON a helpdesk's intake receives: `id` is stable across retries (deduplicate on it)."""
        d = asdict(self)
        d["id"] = d.pop("uid")
        d.pop("form_id")
        return {"type": "polykb.contact_request", **d}


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def new_form_id() -> str:
    return secrets.token_urlsafe(18)


def valid_form_id(value: str | None) -> bool:
    return bool(value) and bool(_FORM_ID.match(value))


def checked(subject: str, message: str, email: str, lang: str, name: str = "", article_id: str | None = None,
            form_id: str | None = None) -> ContactRequest:
    """A request from the form's fields, or ContactError naming the first field to fix."""
    values = {"subject": " ".join((subject or "").split()), "message": (message or "").strip(),
              "email": (email or "").strip(), "name": " ".join((name or "").split())}
    for key in ("subject", "message", "email"):
        if not values[key]:
            raise ContactError(key, f"{key} is required")
    for key, limit in LIMITS.items():
        if len(values[key]) > limit:
            raise ContactError(key, f"{key} is {len(values[key])} characters, over the limit of {limit}")
    if not _EMAIL.match(values["email"]):
        raise ContactError("email", f"{values['email']!r} is not an email address")
    return ContactRequest(lang=lang, article_id=article_id or None,
                          form_id=form_id if valid_form_id(form_id) else None, **values)


@dataclass
class FormCounts:
    """One bucket of form sessions: opened, sent a request, deflected; the rate is deflected of the two ends."""

    opened: int = 0
    submitted: int = 0
    deflected: int = 0

    @property
    def rate(self) -> float | None:
        ended = self.submitted + self.deflected
        return self.deflected / ended if ended else None


def outcome(events: list[tuple[str, str]], at: dt.datetime) -> str:
    """`submitted`, `deflected`, or `open` (still undecided or left without a click) for one form session's
    (kind, ISO time) events, as of `at`."""
    kinds = {k for k, _ in events}
    if "submit" in kinds:
        return "submitted"
    clicks = [t for k, t in events if k == "click"]
    if clicks:
        last = max(dt.datetime.fromisoformat(t) for _, t in events)
        if at - last >= dt.timedelta(minutes=DEFLECTED_AFTER):
            return "deflected"
    return "open"
