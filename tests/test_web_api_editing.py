"""The editing API: article files by id and language for writers' scripts and CI (writer tokens only).

GET …/source gives the Markdown and its ETag; PUT with If-Match saves (409 over a newer version, 400 with the
lines when invalid, the file untouched either way); POST …/reviewed changes one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import accounts_at, error_of, login, new_user

PURGE_ZH = "cdn/cdn-purge-cache.zh.md"
URL = "/api/articles/cdn-purge-cache/zh/source"


def token(app, role):
    return {"Authorization": "Bearer " + accounts_at(Path(app.config["INDEX"]) / "activity.sqlite").add_token(
        f"ci-{role}", role=role)}


@pytest.fixture
def writer_auth(edit_app):
    return token(edit_app, "writer")


@pytest.fixture
def read_only_auth(read_only_edit_app):
    """A writer token on the module's shared app, for tests that save nothing (tests/conftest.py)."""
    return token(read_only_edit_app, "writer")


def test_get_source_gives_the_file_and_its_etag(read_only_edit_app, read_only_auth, read_only_kb_copy):
    r = read_only_edit_app.test_client().get(URL, headers=read_only_auth)
    data = r.get_json()
    assert r.status_code == 200 and r.headers["ETag"] == data["etag"]
    assert data["source"] == (read_only_kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8") and data["path"] == PURGE_ZH


def test_agent_tokens_and_anonymous_callers_cannot_edit(read_only_edit_app, read_only_kb_copy):
    edit_app, kb_copy = read_only_edit_app, read_only_kb_copy
    client = edit_app.test_client()
    assert error_of(client.get(URL, headers=token(edit_app, "agent")))["status"] == 403
    assert error_of(client.get(URL))["status"] == 401
    before = (kb_copy[0] / PURGE_ZH).read_bytes()
    r = client.put(URL, data="x", content_type="text/markdown", headers={**token(edit_app, "agent"), "If-Match": "*"})
    assert r.status_code == 403 and (kb_copy[0] / PURGE_ZH).read_bytes() == before


def test_put_with_the_etag_saves_and_returns_the_new_one(edit_app, writer_auth, kb_copy):
    client = edit_app.test_client()
    got = client.get(URL, headers=writer_auth).get_json()
    new = got["source"].replace("2,000", "10,000")
    r = client.put(URL, data=new.encode(), content_type="text/markdown; charset=utf-8",
                   headers={**writer_auth, "If-Match": got["etag"]})
    data = r.get_json()
    assert r.status_code == 200 and data["etag"] != got["etag"] and r.headers["ETag"] == data["etag"]
    assert (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8") == new
    state = edit_app.extensions["polykb"]["reindexer"].wait(int(data["index"].rsplit("/", 1)[1]))
    assert state["state"] == "done"
    assert client.get(data["index"], headers=writer_auth).get_json()["state"] == "done"
    again = client.put(URL, json={"source": new.replace("10,000", "12,000")},
                       headers={**writer_auth, "If-Match": data["etag"]})
    assert again.status_code == 200


def test_a_stale_etag_is_409_and_the_file_is_untouched(edit_app, writer_auth, kb_copy):
    client = edit_app.test_client()
    got = client.get(URL, headers=writer_auth).get_json()
    first = client.put(URL, json={"source": got["source"] + "\nFirst.\n"}, headers={**writer_auth,
                                                                                  "If-Match": got["etag"]})
    saved = (kb_copy[0] / PURGE_ZH).read_bytes()
    r = client.put(URL, json={"source": got["source"] + "\nSecond.\n"}, headers={**writer_auth,
                                                                               "If-Match": got["etag"]})
    body = r.get_json()["error"]
    assert r.status_code == 409 and body["etag"] == first.get_json()["etag"] == r.headers["ETag"]
    assert (kb_copy[0] / PURGE_ZH).read_bytes() == saved


@pytest.mark.parametrize("change, line, words", [
    (lambda s: s.replace("visibility: public", "visibility: secret"), 7, "visibility"),
    (lambda s: s.replace("reviewed: 2026-09-09", "reviewed: last tuesday"), 10, "date"),
    (lambda s: s.replace("product: cdn", "product: cdn: extra"), 6, "YAML"),
    (lambda s: s.split("---\n", 2)[0] + "---\n" + s.split("---\n", 2)[1] + "---\n\n", 15, "empty body"),
])
def test_invalid_source_is_400_with_the_line_and_the_file_untouched(read_only_edit_app, read_only_auth,
                                                                    read_only_kb_copy, change, line, words):
    edit_app, writer_auth, kb_copy = read_only_edit_app, read_only_auth, read_only_kb_copy
    client = edit_app.test_client()
    got = client.get(URL, headers=writer_auth).get_json()
    before = (kb_copy[0] / PURGE_ZH).read_bytes()
    r = client.put(URL, json={"source": change(got["source"])}, headers={**writer_auth, "If-Match": got["etag"]})
    err = r.get_json()["error"]
    assert r.status_code == 400 and err["problems"][0]["line"] == line and words in err["message"]
    assert err["message"].startswith(f"{PURGE_ZH}:{line}: ")
    assert (kb_copy[0] / PURGE_ZH).read_bytes() == before


def test_put_needs_if_match_and_a_known_body_type(read_only_edit_app, read_only_auth):
    client, writer_auth = read_only_edit_app.test_client(), read_only_auth
    assert error_of(client.put(URL, json={"source": "x"}, headers=writer_auth))["status"] == 428
    r = client.put(URL, data=b"x", content_type="application/octet-stream", headers={**writer_auth, "If-Match": "x"})
    assert error_of(r)["status"] == 415
    r = client.put(URL, json={"source": "x", "other": 1}, headers={**writer_auth, "If-Match": "x"})
    assert "unknown field" in error_of(r)["message"]


def test_post_reviewed_changes_only_the_reviewed_line(edit_app, writer_auth, kb_copy):
    client = edit_app.test_client()
    before = (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8")
    etag = client.get(URL, headers=writer_auth).get_json()["etag"]
    r = client.post("/api/articles/cdn-purge-cache/zh/reviewed", headers={**writer_auth, "If-Match": etag})
    after = (kb_copy[0] / PURGE_ZH).read_text(encoding="utf-8")
    diff = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert r.status_code == 200 and len(diff) == 1 and diff[0][0] == "reviewed: 2026-09-09"
    assert client.post("/api/articles/cdn-purge-cache/zh/reviewed", headers={**writer_auth, "If-Match": etag}
                       ).status_code == 409


def test_writer_sessions_may_use_the_api_too(edit_app, kb_copy):
    client = edit_app.test_client()
    login(client, new_user(accounts_at(Path(edit_app.config["INDEX"]) / "activity.sqlite"), "writer"))
    got = client.get(URL).get_json()
    assert client.put(URL, json={"source": got["source"]}, headers={"If-Match": got["etag"]}).status_code == 200


@pytest.mark.parametrize("path", ["/api/articles/..%2F..%2Fetc/en/source", "/api/articles/cdn-purge-cache/../source",
                                  "/api/articles/nothing-here/en/source", "/api/articles/cdn-purge-cache/xx/source"])
def test_paths_are_validated(read_only_edit_app, read_only_auth, path):
    assert read_only_edit_app.test_client().get(path, headers=read_only_auth).status_code in (400, 404)


def test_the_editing_routes_are_in_the_openapi_file(read_only_edit_app):
    spec = read_only_edit_app.test_client().get("/api/openapi.json").get_json()
    assert {"get", "put"} <= set(spec["paths"]["/api/articles/{id}/{lang}/source"])
    assert "409" in spec["paths"]["/api/articles/{id}/{lang}/source"]["put"]["responses"]
    assert "post" in spec["paths"]["/api/articles/{id}/{lang}/reviewed"]
