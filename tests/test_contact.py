"""The contact form: validation, CSRF, suggestions (public only), the no-JavaScript confirm step, deflection,
and delivery to a webhook that is down at first (a real HTTP receiver on a thread)."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kb.contact import requests as contact
from kb.contact.outbox import Sender, retry_delay
from kb.storage import open_database, sqlite_url
from kb.storage.contact import ContactStore
from tests.support import csrf_token, internal_ids, wait_until

SENT = {"subject": "Refund for a double charge", "message": "I was charged twice on 3 Nov.",
        "email": "ana@example.com", "name": "Ana"}


def text(r) -> str:
    return r.get_data(as_text=True)


def store_at(path) -> ContactStore:
    return ContactStore(open_database(sqlite_url(path)))


def form_id(html: str) -> str:
    return re.search(r'name="form_id" value="([^"]+)"', html).group(1)


# --- the domain: validation and deflection ----------------------------------------

def test_checked_names_the_field_to_fix():
    with pytest.raises(contact.ContactError) as e:
        contact.checked("", "x", "a@b.co", "en")
    assert e.value.field == "subject"
    with pytest.raises(contact.ContactError) as e:
        contact.checked("s", "x", "not-an-address", "en")
    assert e.value.field == "email" and "not-an-address" in str(e.value)
    with pytest.raises(contact.ContactError) as e:
        contact.checked("s" * 201, "x", "a@b.co", "en")
    assert e.value.field == "subject" and "over the limit of 200" in str(e.value)
    req = contact.checked("  two   spaces ", " body ", "a@b.co", "ru", form_id="bad id")
    assert (req.subject, req.message, req.form_id, req.lang) == ("two spaces", "body", None, "ru")


def test_outcome_deflected_only_after_a_click_and_quiet_time():
    t0 = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.timezone.utc)
    at = lambda minutes: (t0 + dt.timedelta(minutes=minutes)).isoformat()  # noqa: E731
    clicked = [("open", at(0)), ("click", at(1))]
    assert contact.outcome(clicked, t0 + dt.timedelta(minutes=5)) == "open"  # may still come back and send
    assert contact.outcome(clicked, t0 + dt.timedelta(minutes=1 + contact.DEFLECTED_AFTER)) == "deflected"
    assert contact.outcome(clicked + [("submit", at(3))], t0 + dt.timedelta(days=1)) == "submitted"
    assert contact.outcome([("open", at(0))], t0 + dt.timedelta(days=1)) == "open"  # left without reading
    assert contact.FormCounts(3, 1, 3).rate == 0.75 and contact.FormCounts(2, 0, 0).rate is None


def test_retry_delay_doubles_up_to_the_cap():
    assert 5 <= retry_delay(1) <= 6 and 10 <= retry_delay(2) <= 12 and 40 <= retry_delay(4) <= 48
    assert retry_delay(30) <= 3600 * 1.2


# --- the pages ------------------------------------------------------------------

def test_form_opens_a_session_and_fills_the_subject(client, index_dir):
    html = text(client.get("/ru/contact/?subject=ошибка 502&article=cdn-502-bad-gateway"))
    fid = form_id(html)
    assert 'value="ошибка 502"' in html and 'name="article" value="cdn-502-bad-gateway"' in html
    events = store_at(index_dir / "activity.sqlite").form_events("2000", "9999")
    assert [k for k, _t, _l in events[fid]] == ["open"]


def test_form_never_carries_an_internal_article(client, app):
    hidden = internal_ids(app)[0]
    assert 'name="article"' not in text(client.get(f"/en/contact/?article={hidden}"))


def test_send_stores_the_request_and_thanks_with_a_reference(client, index_dir):
    token = csrf_token(client, "/en/contact/")
    fid = form_id(text(client.get("/en/contact/")))
    r = client.post("/en/contact/", data={"csrf_token": token, "form_id": fid, "confirm": "1", **SENT})
    assert r.status_code == 303 and "/en/contact/sent/" in r.headers["Location"]
    page = text(client.get(r.headers["Location"]))
    assert "ana@example.com" in page and "Reference" in page
    rows = store_at(index_dir / "activity.sqlite").requests_of_form(fid)
    assert rows == [("Refund for a double charge", "ana@example.com", "en", fid)]


def test_send_without_csrf_is_refused(client):
    r = client.post("/en/contact/", data={"form_id": "x" * 20, "confirm": "1", **SENT})
    assert r.status_code == 400


def test_bad_email_is_shown_on_the_form_in_the_ui_language(client):
    token = csrf_token(client, "/ru/contact/")
    r = client.post("/ru/contact/", data={"csrf_token": token, "confirm": "1", **{**SENT, "email": "ana"}})
    assert r.status_code == 400 and 'aria-invalid="true"' in text(r) and "Refund for a double charge" in text(r)
    assert "name@example.com" in text(r) and "Please enter" not in text(r)  # translated


def test_without_javascript_matching_articles_are_shown_before_sending(client, index_dir):
    token = csrf_token(client, "/en/contact/")
    data = {"csrf_token": token, **SENT, "subject": "502 Bad Gateway from the CDN origin"}
    r = client.post("/en/contact/", data=data)
    html = text(r)
    assert r.status_code == 200 and 'name="confirm" value="1"' in html and "/contact/open/" in html
    assert client.post("/en/contact/", data={**data, "confirm": "1"}).status_code == 303


def test_suggest_lists_public_articles_through_the_click_recorder(client, app):
    fid = contact.new_form_id()
    r = client.get(f"/en/contact/suggest?form={fid}&q=502 bad gateway cdn origin")
    found = r.get_json()["suggestions"]
    assert found and all(s["url"].startswith(f"/en/contact/open/{fid}/") for s in found)
    assert not {s["id"] for s in found} & set(internal_ids(app))
    assert client.get("/en/contact/suggest?form=x&q=502").status_code == 400
    assert client.get(f"/en/contact/suggest?form={fid}&q=50").get_json() == {"suggestions": []}


def test_internal_articles_are_never_suggested(client, app):
    store = app.extensions["polykb"]["searcher"].store
    fid = contact.new_form_id()
    for aid in internal_ids(app):
        title = store.versions(aid)[0].title
        ids = {s["id"] for s in client.get(f"/en/contact/suggest?form={fid}&q={title}").get_json()["suggestions"]}
        assert aid not in ids
        assert client.get(f"/en/contact/open/{fid}/{aid}").status_code == 404


def test_opening_a_suggestion_records_the_click_and_shows_the_article(client, index_dir):
    fid = form_id(text(client.get("/zh/contact/")))
    r = client.get(f"/zh/contact/open/{fid}/cdn-502-bad-gateway?r=1")
    assert r.status_code == 302 and r.headers["Location"].endswith("/zh/article/cdn-502-bad-gateway")
    events = store_at(index_dir / "activity.sqlite").form_events("2000", "9999")[fid]
    assert [(k, lang) for k, _t, lang in events] == [("open", "zh"), ("click", "zh")]


def test_sending_is_rate_limited(make_app):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CONTACT="2 per minute").test_client()
    token = csrf_token(client, "/en/contact/")
    codes = [client.post("/en/contact/", data={"csrf_token": token, "confirm": "1", **SENT}).status_code
             for _ in range(3)]
    assert codes == [303, 303, 429]


# --- the webhook: a real receiver that fails first --------------------------------

class Receiver:
    """An HTTP server on a thread answering 500 to the first `failures` POSTs, then 201; keeps what it accepted."""

    def __init__(self, failures: int):
        self.failures, self.accepted, self.attempts = failures, [], 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.attempts += 1
                if outer.attempts <= outer.failures:
                    self.send_response(500)
                else:
                    outer.accepted.append((self.headers["Idempotency-Key"], self.headers["Content-Type"],
                                           json.loads(body)))
                    self.send_response(201)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/intake"
        # shutdown() waits for the server's next look at its flag: every 0.5 s by default, a 0.5 s teardown a test
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(failures=3)
    yield r
    r.close()


def rounds_of(sender: Sender) -> list[int]:
    """A list that gets an entry each time `sender` finishes a round (a call of its send_due)."""
    done, send_due = [], sender.send_due

    def counted(*a):
        try:
            return send_due(*a)
        finally:
            done.append(1)

    sender.send_due = counted
    return done


def test_webhook_down_at_first_gets_each_request_exactly_once(tmp_path, receiver):
    store = store_at(tmp_path / "activity.sqlite")
    reqs = [contact.checked(f"subject {i}", f"message {i}", f"c{i}@example.com", "zh") for i in range(2)]
    for req in reqs:
        store.add_request(req, deliver=True)
    sender = Sender(store, receiver.url, base=0.05, cap=0.2, poll=0.05)
    rounds = rounds_of(sender)
    sender.start()
    try:
        wait_until(lambda: store.outbox_counts()["delivered"] == 2, 30, "both requests to be delivered")
        after = len(rounds)
        wait_until(lambda: len(rounds) >= after + 3, 30, "three more rounds of the sender")  # none sends again
    finally:
        sender.stop()
    assert receiver.attempts == 3 + 2  # three refusals, then each request once
    got = {key: (ctype, body) for key, ctype, body in receiver.accepted}
    assert len(receiver.accepted) == 2 and set(got) == {r.uid for r in reqs}
    ctype, body = got[reqs[1].uid]
    assert ctype.startswith("application/json")
    assert body == {"type": "polykb.contact_request", "id": reqs[1].uid, "subject": "subject 1",
                    "message": "message 1", "email": "c1@example.com", "lang": "zh", "name": "",
                    "article_id": None, "created": reqs[1].created}
    assert sum(store.attempts()) == 5


def test_queued_requests_survive_a_restart(tmp_path, receiver):
    """Stored while the webhook is unreachable (no sender running), delivered by a sender started later."""
    path = tmp_path / "activity.sqlite"
    req = contact.checked("survives", "restart", "r@example.com", "ru")
    store_at(path).add_request(req, deliver=True)
    dead = Sender(store_at(path), "http://127.0.0.1:9/nothing-listens", base=0.05)
    assert dead.send_due() == 0  # refused: kept, retried later
    receiver.failures = 0
    store = store_at(path)  # a new process
    assert Sender(store, receiver.url).send_due(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=10)) == 1
    assert [body["id"] for _k, _c, body in receiver.accepted] == [req.uid]


def test_the_app_posts_a_sent_form_to_the_webhook(make_app, receiver):
    receiver.failures = 1
    app = make_app(REQUEST_WEBHOOK=receiver.url)
    client = app.test_client()
    token = csrf_token(client, "/ru/contact/")
    sender = app.extensions["polykb"]["sender"]
    sender.base, sender.cap, sender.poll = 0.05, 0.1, 0.05
    try:
        r = client.post("/ru/contact/", data={"csrf_token": token, "confirm": "1", **SENT,
                                              "subject": "Возврат за двойное списание"})
        assert r.status_code == 303
        wait_until(lambda: any(b["subject"] == "Возврат за двойное списание" for _k, _c, b in receiver.accepted),
                   30, "the webhook to accept the sent form")
    finally:
        sender.stop()
    body = next(b for _k, _c, b in receiver.accepted if b["subject"] == "Возврат за двойное списание")
    assert body["lang"] == "ru" and body["email"] == "ana@example.com"


def test_retention_blanks_old_requests_but_not_one_waiting_for_the_webhook(tmp_path):
    store = store_at(tmp_path / "activity.sqlite")
    old_sent, old_waiting, new = (contact.checked(f"s{i}", "m", f"c{i}@example.com", "en") for i in range(3))
    for req in (old_sent, old_waiting):
        req.created = "2026-01-01T10:00:00+00:00"
    store.add_request(old_sent, deliver=True)
    store.add_request(old_waiting, deliver=True)
    store.add_request(new, deliver=False)
    first = store.claim_due(dt.datetime(2026, 1, 1, 11, tzinfo=dt.timezone.utc), 60)[0]
    store.delivered(first.id, dt.datetime(2026, 1, 1, 11, tzinfo=dt.timezone.utc))
    assert store.forget_text(30) == {"contact requests": 1}
    assert store.request(old_sent.uid)["email"] == "" and store.request(old_sent.uid)["subject"] == ""
    assert store.request(old_waiting.uid)["email"] == "c1@example.com"  # not delivered yet: kept
    assert store.request(new.uid)["email"] == "c2@example.com"
    assert store.claim_due(dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc), 60)[0].payload != "{}"
