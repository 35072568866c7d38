"""The one redaction point for secrets (the webhook URL and its token).

Every line the action prints, every annotation, output and summary passes
through `redact`. Logging from the libraries that could see the URL
(requests, urllib3, botocore, tenacity) goes through a filter that applies
it too (see `workflow.Workflow.route_logging`), so a debug log cannot carry
the token either.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

MASK = "***"

_lock = threading.Lock()
_secrets: set[str] = set()


def register(secret: str) -> list[str]:
    """Remember `secret` (and the forms it can take in text); return what to mask.

    A webhook URL's token is registered on its own as well: it shows up
    alone in error bodies and in URL-encoded form in library logs.
    """
    forms = {secret}
    try:
        parts = urlsplit(secret) if "://" in secret else None
    except ValueError:  # not a URL after all (an unclosed `[`): the whole value is masked
        parts = None
    if parts and parts.query:
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "token" and value:
                forms.add(value)
    forms |= {quote(f, safe="") for f in forms} | {quote_plus(f) for f in forms}
    forms = {f for f in forms if len(f) >= 4}
    with _lock:
        _secrets.update(forms)
    return sorted(forms, key=len, reverse=True)


# Webhook tokens the action has not seen yet: the SDK's debug log prints a
# CreateWebhook response body before the action can register the URL in it.
_UNSEEN_TOKENS = (
    re.compile(r"([?&]token(?:=|%3D))[^&\s\"'\\<>]+", re.IGNORECASE),
    re.compile(r"((?:%3F|%26)token%3D)[^%&\s\"'\\<>]+", re.IGNORECASE),
)


def redact(text: str) -> str:
    """`text` with every registered secret, and anything shaped like a webhook token, as `***`."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _UNSEEN_TOKENS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def forget_all() -> None:
    """For tests that run several actions in one process."""
    with _lock:
        _secrets.clear()
