"""After "No" on "Was this article helpful?": the reason box shown at once, related articles, the contact form;
the reason joins that vote (signed in the page), never a second vote."""

from __future__ import annotations

import re
import uuid
from urllib.parse import unquote

from tests.support import csrf_token, run_sql


def text(r) -> str:
    return r.get_data(as_text=True)


def vote_no(client, lang="en", article="cdn-502-bad-gateway"):
    token = csrf_token(client, f"/{lang}/article/{article}")
    return client.post(f"/{lang}/article/{article}/feedback", data={"csrf_token": token, "helpful": "no",
                                                                    "version": lang})


def test_no_shows_the_reason_box_related_articles_and_the_contact_form(client, activity):
    before = run_sql(activity, "SELECT count(*) FROM feedback")[0][0]
    r = vote_no(client, "ru")
    assert r.status_code == 303 and "feedback=no" in r.headers["Location"]
    page = text(client.get(r.headers["Location"]))
    assert '<textarea id="reason"' in page and "<details" not in page.split('id="feedback"')[1].split("</section>")[0]
    assert "Жаль, что статья не помогла." in page and "Всё ещё нужна помощь?" in page
    contact = re.search(r'href="(/ru/contact/\?[^"]+)"', page).group(1)
    assert "article=cdn-502-bad-gateway" in contact and "subject=" in contact
    assert run_sql(activity, "SELECT count(*) FROM feedback")[0][0] == before + 1
    assert client.get(unquote(contact).replace("&amp;", "&")).status_code == 200


def test_the_reason_is_added_to_that_vote_once(client, activity):
    page = text(client.get(vote_no(client).headers["Location"]))
    fb = re.search(r'name="fb" value="([^"]+)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reason = f"my error is not there {uuid.uuid4().hex[:6]}"
    count = run_sql(activity, "SELECT count(*) FROM feedback")[0][0]
    for text_ in (reason, "overwrite attempt"):
        r = client.post("/en/article/cdn-502-bad-gateway/feedback/reason",
                        data={"csrf_token": token, "fb": fb, "reason": text_})
        assert r.status_code == 303 and r.headers["Location"].endswith("feedback=thanks#feedback")
    assert run_sql(activity, "SELECT helpful FROM feedback WHERE reason=?", (reason,)) == [(0,)]
    assert run_sql(activity, "SELECT count(*) FROM feedback")[0][0] == count
    assert run_sql(activity, "SELECT count(*) FROM feedback WHERE reason='overwrite attempt'") == [(0,)]


def test_a_forged_vote_token_is_refused(client):
    token = csrf_token(client, "/en/article/cdn-502-bad-gateway")
    r = client.post("/en/article/cdn-502-bad-gateway/feedback/reason", data={"csrf_token": token, "fb": "1",
                                                                             "reason": "x"})
    assert r.status_code == 400
    assert "textarea" not in text(client.get("/en/article/cdn-502-bad-gateway?feedback=no&fb=1")).split(
        'id="feedback"')[1].split("</section>")[0]
