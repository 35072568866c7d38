"""The one redaction point for secrets (the webhook URL and its token, AWS credentials).

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
# Shorter values (a `1` in a query) are not secrets of any worth, and masking
# them would blank out every log line.
MIN_LENGTH = 4
# A query value or path segment alone is masked from this length: tokens are long,
# and masking a `true` or `main` would blank out outputs and branch names.
MIN_PART_LENGTH = 8
# Amplify's incoming-webhook path, the same for everyone: no secret in it.
PUBLIC_PATHS = ("", "/", "/prod/webhooks")
PUBLIC_SEGMENTS = ("prod", "webhooks")

_lock = threading.Lock()
_secrets: set[str] = set()


def register(secret: str) -> list[str]:
    """Remember `secret` (and the forms it can take in text); return what to mask.

    Of a URL, every part but the host and the `id` value is secret, each on its
    own as well: a log line shows the path and query of a request, an error
    body may echo one value, a library log shows them URL-encoded.
    """
    forms = {secret} | _url_parts(secret)
    forms |= {quote(f, safe="") for f in forms} | {quote_plus(f) for f in forms}
    forms = {f for f in forms if len(f) >= MIN_LENGTH}
    with _lock:
        _secrets.update(forms)
    return sorted(forms, key=len, reverse=True)


def _url_parts(text: str) -> set[str]:
    """The secret parts of a URL: all but scheme, host, port and the `id` value."""
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme.isalpha():
        return set()
    try:
        parts = urlsplit(text)
    except ValueError:
        # Not a URL Python can read (`https://[host/…`): all after the host may be secret.
        return {rest, rest.partition("/")[2], rest.partition("?")[2]} - {""}
    path = "" if parts.path in PUBLIC_PATHS else parts.path
    found = {path, parts.query, parts.fragment, f"{parts.path}?{parts.query}"}
    found |= {rest.partition("/")[2], rest.partition("?")[2]}
    found.add(parts.netloc.rpartition("@")[0])  # user:password@
    pieces = {s for s in path.split("/") if s not in PUBLIC_SEGMENTS}
    pieces |= {v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "id"}
    found |= {p for p in pieces if len(p) >= MIN_PART_LENGTH}
    return {f for f in found if f and f not in ("/", "?")}


# Webhook tokens and upload-URL signatures the action has not seen yet: the SDK's
# debug log prints a CreateWebhook or CreateDeployment response body before the
# action can register the URL in it. A pre-signed URL's credential is its
# signature (and the session token, when the signer had one).
_CREDENTIAL_QUERY_KEYS = "|".join(
    ("token", "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Credential")
)
_UNSEEN_TOKENS = (
    re.compile(rf"([?&](?:{_CREDENTIAL_QUERY_KEYS})(?:=|%3D))[^&\s\"'\\<>]+", re.IGNORECASE),
    re.compile(rf"((?:%3F|%26)(?:{_CREDENTIAL_QUERY_KEYS})%3D)[^%&\s\"'\\<>]+", re.IGNORECASE),
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
