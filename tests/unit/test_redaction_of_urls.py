"""Of a webhook URL, every part but the host and the `id` value is a secret, in
every form a log line could show it; a URL Python cannot parse is no exception."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest

from ampaction import redaction

HOST = "https://webhooks.amplify.us-east-1.amazonaws.com"
TOKEN = "tok3nV4lue-0123456789abcdef"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    redaction.forget_all()
    yield
    redaction.forget_all()


def test_every_part_but_host_and_id_is_masked_in_every_form():
    path_secret, other = "s3gm3nt-0123456789", "v4lue/with+chars=0123"
    url = f"{HOST}/prod/hooks/{path_secret}?id=wh-123&token={TOKEN}&sig={quote(other, safe='')}"
    redaction.register(url)

    for shown in (
        path_secret,
        other,
        quote(other, safe=""),
        quote_plus(other),
        TOKEN,
        f"/prod/hooks/{path_secret}",
        url.partition("?")[2],
    ):
        assert redaction.redact(f"seen: {shown} end") == "seen: *** end", shown
    assert redaction.redact(HOST) == HOST
    assert redaction.redact("webhook wh-123") == "webhook wh-123"
    assert redaction.redact("/prod/webhooks") == "/prod/webhooks"  # Amplify's, not a secret


def test_short_values_are_not_masked_alone():
    redaction.register(f"{HOST}/prod/webhooks?id=wh-1&token={TOKEN}&flag=true")
    assert redaction.redact("frontend-triggered=true") == "frontend-triggered=true"


def test_a_url_python_cannot_parse_is_still_masked_and_does_not_raise():
    url = f"https://[webhooks.amplify/prod/webhooks?id=1&token={TOKEN}"
    redaction.register(url)
    assert TOKEN not in redaction.redact(f"ValueError: bad {url}")
    assert TOKEN not in redaction.redact(f"[webhooks.amplify/prod/webhooks?id=1&token={TOKEN}")
