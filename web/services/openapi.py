"""OpenAPI 3.1 description of the JSON API, served at /api/openapi.json (see web/API.md for prose).

Exact, not merely indicative: what it allows the server accepts and what it
forbids the server refuses (tests/test_openapi_conformance.py runs
schemathesis against it). So it is made per app: `lang` is an enum of the
site's languages, and `q` as long as the app's MAX_QUERY_CHARS.
"""

from __future__ import annotations

from kb import __version__
from kb.search.request import BLANK

from web.services.input_text import NO_NUL, PLAIN, REFUSED

_ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


TYPED = {"type": "string", "pattern": PLAIN}  # typed by a person: no NUL, control or bidi characters (400)


def _param(name, where="query", required=False, schema=None, description=""):
    return {"name": name, "in": where, "required": required, "schema": schema or TYPED,
            "description": description}


def _json_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _ok(ref: str, status="200") -> dict:
    return {status: {"description": "OK", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}},
            "400": _ERROR, "429": _ERROR, "503": _ERROR}


IF_MATCH = _param("If-Match", "header", True, {"type": "string", "minLength": 1, "pattern": "[^ \t]"},
                  "The ETag from GET …/source (quotes included); missing or blank: 428")
_SOURCE_OK = {"description": "The file, with its ETag (also in the ETag header)", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Source"}}}}
_SAVED = {
    "200": {"description": "Saved; the new ETag is in the body and the ETag header",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Saved"}}}},
    "400": {"description": "Invalid front matter or body: nothing was written", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}},
    "401": _ERROR, "403": _ERROR, "404": _ERROR,
    "409": {"description": "The file changed since that ETag: nothing was written; the current ETag is in the "
                           "error and the ETag header", "content": {"application/json": {
                               "schema": {"$ref": "#/components/schemas/Error"}}}},
    "415": _ERROR, "428": _ERROR, "429": _ERROR}

RESULT = {"type": "object", "properties": {
    "id": {"type": "string"}, "lang": {"type": "string"}, "title": {"type": "string"},
    "section": {"type": "string"}, "anchor": {"type": "string"}, "score": {"type": "number"},
    "snippet": {"type": "string", "description": "HTML-escaped text with <mark> around hits"},
    "visibility": {"const": "public"}, "product": {"type": ["string", "null"]},
    "tags": {"type": "array", "items": {"type": "string"}}, "fallback": {"type": "boolean"},
    "converted": {"type": "boolean", "description": (
        "true when title, section and snippet were converted from the other Chinese script (zh ↔ zh-Hant) "
        "for the reader; `lang` is the version's own")},
    "languages": {"type": "array", "items": {"type": "string"}}, "url": {"type": "string"}}}

ANSWERED = {"type": "boolean", "description": (
    "false when nothing found is likely to answer the question: the results are then the closest articles, "
    "to be shown as such (the help center shows its no-answer page with the contact link)")}

MISSING = {"type": "array", "items": {"type": "string"}, "description": (
    "with answered false: the words the question rests on that no article uses (\"websocket\" in \"does the CDN "
    "support websocket connections\"), to tell the reader what is not covered; empty otherwise")}

DEGRADED = {
    "degraded": {"type": "boolean", "description": (
        "true when the request hit its cost budget and was answered in part: see degraded_stages")},
    "degraded_stages": {"type": "array", "items": {"enum": ["dense", "keyword", "render"]}, "description": (
        "dense: results from keywords only; keyword: from the dense side only; render: fewer results than asked, "
        "the ones rendered in time")}}

DETECTED = {"type": "object", "properties": {"lang": {"type": ["string", "null"]}, "confidence": {"type": "number"},
                                             "reason": {"type": "string"}}}

def spec(langs: list[str], max_query_chars: int, max_text: int) -> dict:
    """The description for a site in these languages (UI languages and those of its public articles)."""
    lang = {"type": "string", "enum": list(langs)}
    query = {"type": "string", "minLength": 1, "maxLength": max_query_chars,
             "pattern": f"^[^{REFUSED}]*[^{BLANK}{REFUSED}][^{REFUSED}]*$"}  # not blank, and typed
    # a pasted message loses those characters instead (web.services.input_text.pasted): one other must be left
    text = {"type": "string", "minLength": 1, "maxLength": max_text, "pattern": f"[^{BLANK}{REFUSED}]"}
    return {**SPEC, "paths": _paths(lang, query, text)}


def _paths(lang: dict, query: dict, text: dict) -> dict:
    return {
        "/api/search": {"get": {
            "summary": "Search public articles",
            "parameters": [
                _param("q", required=True, schema=query, description="The question"),
                _param("lang", schema=lang, description="Reader's language; results fall back to other languages"),
                _param("k", schema={"type": "integer", "minimum": 1, "maximum": 50, "default": 10}),
                _param("offset", schema={"type": "integer", "minimum": 0, "maximum": 1000, "default": 0}),
                _param("product"), _param("tag", schema={"type": "array", "items": TYPED},
                                          description="Repeatable")],
            "responses": _ok("SearchResponse")}},
        "/api/articles/{id}": {"get": {
            "summary": "A public article with rendered HTML",
            "parameters": [_param("id", "path", True), _param("lang", schema=lang)],
            "responses": {**_ok("Article"), "404": _ERROR}}},
        "/api/feedback": {"post": {
            "summary": "Was this article helpful?",
            "requestBody": _json_body({"type": "object", "required": ["article_id", "lang", "helpful"],
                                       "additionalProperties": False, "properties": {
                                           "article_id": TYPED, "lang": lang,
                                           "helpful": {"type": "boolean"},
                                           "reason": {**TYPED, "maxLength": 1000},
                                           "search_id": {"type": ["integer", "null"], "minimum": 1, "description": (
                                               "The search_id of the /api/search the reader opened the article "
                                               "from: the vote then teaches the ranking (KB_LEARNING)")}}}),
            "responses": {"201": {"description": "Stored"}, "400": {**_ERROR, "description": (
                "Bad input, or a language the article has no public version in (the message lists those)")},
                          "404": _ERROR, "429": _ERROR}}},
        "/api/suggest": {"post": {
            "summary": "Suggested answers for a customer's message (internal articles included)",
            "security": [{"bearer": []}, {"session": []}],
            "requestBody": _json_body({"type": "object", "required": ["text"], "additionalProperties": False,
                                       "properties": {"text": text, "lang": {"anyOf": [lang, {"type": "null"}]},
                                                      "k": {"type": ["integer", "null"], "minimum": 1,
                                                            "maximum": 50}}}),
            "responses": {**_ok("Suggestions"), "401": _ERROR,
                          "403": {**_ERROR, "description": "Signed in, but not as an agent, writer or admin"},
                          "503": _ERROR}}},
        "/api/articles/{id}/{lang}/source": {
            "get": {
                "summary": "An article file's Markdown and its ETag (writers)",
                "security": [{"bearer": []}, {"session": []}],
                "parameters": [_param("id", "path", True), _param("lang", "path", True)],
                "responses": {"200": _SOURCE_OK, "400": {**_ERROR, "description": "A malformed id, or a language "
                                                         "code not in its normal form (`zh`, not `ZH`)"},
                              "401": _ERROR, "403": _ERROR, "404": _ERROR, "429": _ERROR}},
            "put": {
                "summary": "Replace an article file (writers); refused if it changed since the ETag",
                "description": ("Linted first: any error is a 400 naming the line, and the file is untouched. "
                                "The save is recorded (who, when, diff), committed if the articles folder is a git "
                                "repository, and indexed in the background: poll `index` for when it is searchable."),
                "security": [{"bearer": []}, {"session": []}],
                "parameters": [_param("id", "path", True), _param("lang", "path", True), IF_MATCH],
                "requestBody": {"required": True, "content": {
                    "text/markdown": {"schema": {"type": "string", "pattern": NO_NUL}},
                    "application/json": {"schema": {"type": "object", "required": ["source"],
                                                    "additionalProperties": False,
                                                    "properties": {"source": {"type": "string",
                                                                              "pattern": NO_NUL}}}}}},
                "responses": _SAVED}},
        "/api/articles/{id}/{lang}/reviewed": {"post": {
            "summary": "Mark an article reviewed today (writers): only its `reviewed:` value changes",
            "security": [{"bearer": []}, {"session": []}],
            "parameters": [_param("id", "path", True), _param("lang", "path", True), IF_MATCH],
            "responses": _SAVED}},
        "/api/index/{ticket}": {"get": {
            "summary": "The background index after a save (writers): queued, indexing, done or failed",
            "security": [{"bearer": []}, {"session": []}],
            "parameters": [_param("ticket", "path", True, {"type": "integer"})],
            "responses": {"200": {"description": "state, and searchable_since when done"}, "401": _ERROR,
                          "403": _ERROR, "404": _ERROR}}},
        "/api/autocomplete": {"get": {
            "summary": "Titles of public articles for a partly typed question",
            "parameters": [_param("q", required=True, schema=query), _param("lang", schema=lang)],
            "responses": _ok("Autocomplete")}},
    }


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "polykb", "version": __version__,
             "description": "Multilingual knowledge base: public search and articles, feedback, agent suggestions, "
                            "and article files for writers' scripts."},
    "paths": {},  # per site: spec()
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "`kb token add NAME`"},
                            "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["status", "message"],
                "properties": {"status": {"type": "integer"}, "message": {"type": "string"},
                               "etag": {"type": "string", "description": "409 only: the file's current ETag"},
                               "problems": {"type": "array", "description": "400 from a save: every error, by line",
                                            "items": {"$ref": "#/components/schemas/Problem"}},
                               "warnings": {"type": "array", "description": "400 from a save: the warnings beside "
                                            "the errors", "items": {"$ref": "#/components/schemas/Problem"}}}}}},
            "Problem": {"type": "object", "description": "What `kb lint --json` and the index report for the file",
                        "required": ["line", "severity", "code", "message"], "properties": {
                            "line": {"type": "integer"}, "severity": {"enum": ["error", "warning"]},
                            "code": {"type": "string", "description": "What kind of problem (broken-link, ...)"},
                            "message": {"type": "string"},
                            "facts": {"type": "object", "description": "What it is about, e.g. a link's target "
                                                                       "and anchor"}}},
            "Source": {"type": "object", "required": ["id", "lang", "etag", "source"], "properties": {
                "id": {"type": "string"}, "lang": {"type": "string"}, "path": {"type": "string"},
                "etag": {"type": "string"}, "source": {"type": "string", "description": "The whole file"}}},
            "Saved": {"type": "object", "required": ["etag"], "properties": {
                "id": {"type": "string"}, "lang": {"type": "string"}, "path": {"type": "string"},
                "etag": {"type": "string"}, "commit": {"type": ["string", "null"]},
                "commit_error": {"type": ["string", "null"]},
                "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
                "index": {"type": "string", "description": "GET it for the background index: state queued, "
                                                           "indexing, done (searchable_since) or failed"}}},
            "SearchResponse": {"type": "object", "required": ["query", "answered", "results"], "properties": {
                "query": {"type": "string"}, "search_id": {"type": "integer"}, "detected": DETECTED,
                "lang": {"type": ["string", "null"]}, "total": {"type": "integer"}, "offset": {"type": "integer"},
                "answered": ANSWERED, "missing": MISSING, **DEGRADED,
                "results": {"type": "array", "items": RESULT}}},
            "Article": {"type": "object", "properties": {
                "id": {"type": "string"}, "lang": {"type": "string"}, "title": {"type": "string"},
                "product": {"type": ["string", "null"]}, "tags": {"type": "array", "items": {"type": "string"}},
                "updated": {"type": ["string", "null"], "format": "date"},
                "reviewed": {"type": ["string", "null"], "format": "date"}, "fallback": {"type": "boolean"},
                "outdated": {"type": "boolean", "description": (
                    "true when this version is a translation whose source changed in substance (numbers, code, "
                    "links or steps) since it was translated; `outdated_source` then names the source")},
                "outdated_source": {"type": ["object", "null"], "properties": {
                    "lang": {"type": "string"}, "updated": {"type": ["string", "null"], "format": "date"},
                    "url": {"type": "string"}}},
                "languages": {"type": "array", "items": {"type": "string"}}, "url": {"type": "string"},
                "toc": {"type": "array", "items": {"type": "object", "properties": {
                    "level": {"type": "integer"}, "id": {"type": "string"}, "title": {"type": "string"}}}},
                "html": {"type": "string"}}},
            "Suggestions": {"type": "object", "required": ["answered", "results"], "properties": {
                "detected": DETECTED, "lang": {"type": ["string", "null"]}, "search_id": {"type": "integer"},
                "answered": {"type": "boolean", "description": (
                    "false when no section is likely to resolve the message: the results are then the closest "
                    "sections, weak matches to check before sending anything to the customer")}, **DEGRADED,
                "results": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "lang": {"type": "string"}, "title": {"type": "string"},
                    "section": {"type": "string"}, "anchor": {"type": "string"},
                    "visibility": {"enum": ["public", "internal"]}, "score": {"type": "number"},
                    "fallback": {"type": "boolean"}, "languages": {"type": "array", "items": {"type": "string"}},
                    "snippet": {"type": "string"}, "public_url": {"type": ["string", "null"]},
                    "agent_url": {"type": "string"}, "text": {"type": "string"}, "html": {"type": "string"},
                    "outdated": {"type": "boolean", "description": (
                        "this translation lags behind its source in substance (facts, numbers, links or steps); "
                        "check `outdated_source` before sending it")},
                    "outdated_source": {"type": ["object", "null"], "properties": {
                        "lang": {"type": "string"}, "updated": {"type": ["string", "null"], "format": "date"},
                        "agent_url": {"type": "string"}}},
                    "drift": {"type": ["object", "null"], "description": (
                        "this section's own facts differ from the source's: what the source has and the "
                        "translation lacks, and the reverse, with the source section's text to send instead"),
                        "properties": {
                            "source_only": {"type": "array", "items": {"type": "string"}},
                            "translation_only": {"type": "array", "items": {"type": "string"}},
                            "source_lang": {"type": "string"}, "source_section": {"type": "string"},
                            "source_text": {"type": "string"}}}}}}}},
            "Autocomplete": {"type": "object", "properties": {"suggestions": {"type": "array", "items": {
                "type": "object", "properties": {"id": {"type": "string"}, "lang": {"type": "string"},
                                                 "title": {"type": "string"}, "url": {"type": "string"}}}}}},
        },
    },
}
