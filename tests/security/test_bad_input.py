"""Bad input anywhere is a 400 with the JSON error envelope, and no traceback in the log.

Before: ``[[[[...]]]]`` 100,000 deep sent to ``/graphql`` answered 500 with two
tracebacks, malformed JSON there a plain-text 400, and U+0000 in a JSON string or
in a URL reached PostgreSQL and answered 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from jacameno.api.settings import Settings
from tests.support.api_client import ApiClient
from tests.support.log_capture import captured_logs, tracebacks

DEEP = b"[" * 100_000 + b"]" * 100_000
JSON = "application/json"


def graphql_body(variables: bytes) -> bytes:
    return b'{"query": "query ($v: JSON) { __typename }", "variables": {"v": ' + variables + b"}}"


#: name -> (method, path, body, content type); every one must answer 400 bad_request.
BAD_REQUESTS: dict[str, tuple[str, str, bytes | None, str | None]] = {
    "rest: deep": ("POST", "/api/v1/auth/signup", DEEP, JSON),
    "rest: deep object": (
        "POST",
        "/api/v1/projects",
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        JSON,
    ),
    "rest: malformed": ("POST", "/api/v1/auth/login", b'{"email": ', JSON),
    "rest: not UTF-8": ("POST", "/api/v1/auth/login", b'{"email": "\xff\xfe"}', JSON),
    "rest: U+0000 in a string": (
        "POST",
        "/api/v1/projects",
        b'{"name": "a\\u0000b"}',
        JSON,
    ),
    "graphql: deep": ("POST", "/graphql", DEEP, JSON),
    "graphql: malformed": ("POST", "/graphql", b'{"query": "{ me { id } }"', JSON),
    "graphql: deep variables": ("POST", "/graphql", graphql_body(DEEP), JSON),
    "graphql: U+0000 in variables": ("POST", "/graphql", graphql_body(b'"a\\u0000"'), JSON),
    "graphql: NaN": ("POST", "/graphql", graphql_body(b"NaN"), JSON),
    "graphql: not JSON": ("POST", "/graphql", b"{ __typename }", "text/plain"),
    "graphql: deep variables in the URL": (
        "GET",
        "/graphql?query=%7B__typename%7D&variables=" + "%5B" * 5000,
        None,
        JSON,
    ),
    "path: U+0000": ("GET", "/api/v1/projects/%00", None, None),
    "query: U+0000": ("GET", "/api/v1/vst/plugins?category=a%00", None, None),
}


async def test_bad_input_is_400_everywhere_and_logs_no_traceback(
    start_api: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    answers: dict[str, httpx.Response] = {}
    with captured_logs(make_settings()) as logs:
        async with start_api() as (_server, api):
            owner = await api.signup()
            for name, (method, path, body, content_type) in BAD_REQUESTS.items():
                headers = {"content-type": content_type} if content_type else {}
                answers[name] = await api.call(
                    method, path, owner.access_token, content=body, headers=headers
                )
    summary = {
        name: (answer.status_code, answer.headers["content-type"], answer.json()["error"]["code"])
        for name, answer in answers.items()
    }
    assert summary == {name: (400, JSON, "bad_request") for name in BAD_REQUESTS}
    assert tracebacks(logs) == 0, logs.getvalue()


async def test_graphql_string_literals_with_u0000_are_refused(api: ApiClient) -> None:
    owner = await api.signup()
    answer = await api.call(
        "POST", "/graphql", owner.access_token, json={"query": '{ project(id: "a\\u0000") { id } }'}
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "data": None,
        "errors": [
            {"message": "strings may not contain U+0000", "locations": [{"line": 1, "column": 15}]}
        ],
    }


async def test_deep_graphql_documents_are_refused_by_the_parser(api: ApiClient) -> None:
    owner = await api.signup()
    query = "{" + "a{" * 900 + "}" * 901
    answer = await api.call("POST", "/graphql", owner.access_token, json={"query": query})
    assert answer.status_code == 200
    assert "nested too deeply" in answer.json()["errors"][0]["message"]
