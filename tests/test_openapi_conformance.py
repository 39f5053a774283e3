"""The API against its own OpenAPI description, by schemathesis: what the description allows the server accepts,
what the server answers the description promises, and nothing is a 500.

Bounded (CASES an operation in each mode, no shrinking, no example database) on the fake-embedder app: cheap
enough for the fast tier. The checks: no server error, documented status codes, content types and response schemas,
valid data accepted, and data the description forbids refused.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi import checks

from tests.support import examples, searcher_of

CASES = 20  # per operation and mode, under Hypothesis' default profile: 200 in all (a tenth in the fast tier)
CHECKS = [not_a_server_error, checks.status_code_conformance, checks.content_type_conformance, checks.response_schema_conformance,
          checks.positive_data_acceptance, checks.negative_data_rejection]


@pytest.fixture(scope="module")
def api_app(fake_web_index, fake_model):
    from web import create_app

    with pytest.MonkeyPatch.context() as mp:
        import kb.embeddings
        mp.setattr(kb.embeddings, "DEFAULT_MODEL", fake_model)
        app = create_app({"TESTING": True, "INDEX": str(fake_web_index), "RATELIMIT_ENABLED": False,
                          "SECRET_KEY": "schemathesis"})
        ext = app.extensions["polykb"]
        token = (ext.get("accounts") or ext["activity"]).add_token("schemathesis")
        yield app, token


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_does_what_its_openapi_description_says(api_app, mode):
    app, token = api_app
    assert searcher_of(app) is not None
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"/api/search", "/api/suggest", "/api/feedback", "/api/autocomplete", "/api/articles/{id}"} <= {
        op.path for op in operations}
    for operation in operations:
        @given(case=operation.as_strategy(mode))
        @settings(max_examples=examples(CASES), phases=[Phase.explicit, Phase.generate], database=None,
                  deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        conforms()


# --- what schemathesis flagged on the looser description (issue 13, finding 6) -----------------------------

def test_the_description_is_exact_about_q_text_and_lang(api_app):
    app, _ = api_app
    client = app.test_client()
    spec = client.get("/api/openapi.json").get_json()
    site = client.get("/api/openapi.json").get_json()["paths"]["/api/search"]["get"]["parameters"]
    params = {p["name"]: p["schema"] for p in site}
    assert params["q"]["minLength"] == 1 and params["q"]["maxLength"] == app.config["MAX_QUERY_CHARS"]
    with app.test_request_context():
        from web.presentation import i18n
        langs = i18n.site_languages()
    assert params["lang"]["enum"] == langs
    text = spec["paths"]["/api/suggest"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert text["properties"]["text"]["minLength"] == 1


def test_empty_q_and_a_language_the_site_lacks_are_refused(api_app):
    from kb.text import languages

    app, _ = api_app
    client = app.test_client()
    with app.test_request_context():
        from web.presentation import i18n
        other = sorted(set(languages.KNOWN) - set(i18n.site_languages()))[0]
    assert client.get("/api/search?q=").status_code == 400
    r = client.get(f"/api/search?q=cdn&lang={other}")
    assert r.status_code == 400 and "not a language of this site" in r.get_json()["error"]["message"]


@pytest.mark.parametrize("query", ["q=cdn&offset=0&offset=10", "q=cdn&q=502", "q=cdn&k=2&k=3", "q=cdn&lang=en&lang=zh"])
def test_a_repeated_scalar_parameter_is_refused_not_first_value_wins(api_app, query):
    app, _ = api_app
    r = app.test_client().get(f"/api/search?{query}")
    name = query.split("&")[-1].split("=")[0]
    assert r.status_code == 400 and f"{name} is given 2 times" in r.get_json()["error"]["message"]


def test_repeated_tags_still_filter_together(api_app):
    app, _ = api_app
    assert app.test_client().get("/api/search?q=cdn&tag=cdn&tag=errors").status_code == 200


# --- what schemathesis flagged in issue #24: the description and the server agree ---------------------------

def test_the_description_lists_what_the_server_answers_for_source_suggest_and_if_match(api_app):
    import re

    app, token = api_app
    client = app.test_client()
    paths = client.get("/api/openapi.json").get_json()["paths"]
    source = paths["/api/articles/{id}/{lang}/source"]
    assert {"400", "429"} <= set(source["get"]["responses"])
    assert "403" in paths["/api/suggest"]["post"]["responses"]
    assert "language" in paths["/api/feedback"]["post"]["responses"]["400"]["description"]
    if_match = next(p for p in source["put"]["parameters"] if p["name"] == "If-Match")["schema"]
    assert if_match["minLength"] == 1 and not re.search(if_match["pattern"], "  ") and re.search(if_match["pattern"], '"x"')
    writer = {"Authorization": f"Bearer {(app.extensions['polykb']['accounts']).add_token('spec-writer', role='writer')}"}
    r = client.put("/api/articles/cdn-purge-cache/en/source", json={"source": "x"}, headers={**writer, "If-Match": "  "})
    assert r.status_code == 428
