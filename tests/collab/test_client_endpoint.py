"""How the Python peer reads a refused upgrade: with the server's own table."""

from __future__ import annotations

import pytest

from jacameno.collab.channel import CloseCode
from jacameno.collab.client_endpoint import FATAL_CLOSE_CODES, REFUSAL_CODES, refusal_reason
from jacameno.collab.close_codes import HTTP_CLOSES, close_for


class _RefusalError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__("refused")
        self.status = status
        self.message = "refused"


@pytest.mark.parametrize("status", sorted(HTTP_CLOSES))
def test_a_refused_upgrade_means_what_the_server_would_have_closed_with(status: int) -> None:
    assert REFUSAL_CODES[status] == close_for(_RefusalError(status)).code


@pytest.mark.parametrize(
    ("status", "fatal"),
    [(401, True), (403, True), (404, True), (400, True), (413, True), (429, False), (503, False)],
)
def test_only_refusals_a_retry_cannot_fix_stop_the_client(status: int, fatal: bool) -> None:
    assert (REFUSAL_CODES[status] in FATAL_CLOSE_CODES) is fatal


def test_the_reason_is_the_envelopes_message() -> None:
    body = b'{"error": {"code": "forbidden", "message": "not a member", "details": null}}'
    assert refusal_reason(body) == "not a member"
    assert refusal_reason(b"<html>") == ""
    assert REFUSAL_CODES[503] == CloseCode.UNAVAILABLE
