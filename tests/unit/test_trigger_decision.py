"""The frontend trigger as a pure decision (an answer or an exception → done, retry,
retry of unknown fate, fail) and the small loop that acts on it, over `responses`:
real `requests` calls answered in process, with time and sleep faked."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterator

import pytest
import requests
import responses

from ampaction import redaction
from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError, Cancelled
from ampaction.trigger import (
    LOOK_SECONDS,
    Refused,
    Verdict,
    classify_exception,
    classify_response,
    retry_after_seconds,
    trigger_frontend_build,
)
from ampaction.workflow import Workflow

URL = "https://webhooks.amplify.us-east-1.amazonaws.com/prod/webhooks?id=wh-1&token=s3cr3t-token-value"
NOW = dt.datetime(2026, 11, 30, 10, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    redaction.forget_all()
    yield
    redaction.forget_all()


class FakeTime(Cancellation):
    """A cancellation whose sleeps only move a fake clock, and remember how long."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def answer(status: int, headers: dict[str, str] | None = None, body: str = "") -> object:
    return classify_response(status, "Reason", headers or {}, body, given_url=True, now=NOW)


# -- the decision -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DONE),
        (202, Verdict.DONE),
        (429, Verdict.RETRY),
        (503, Verdict.RETRY),
        (501, Verdict.RETRY),
        (500, Verdict.RETRY_FATE_UNKNOWN),
        (502, Verdict.RETRY_FATE_UNKNOWN),
        (504, Verdict.RETRY_FATE_UNKNOWN),
        (301, Verdict.FAIL),
        (400, Verdict.FAIL),
        (403, Verdict.FAIL),
        (404, Verdict.FAIL),
    ],
)
def test_each_status_has_its_verdict(status, verdict):
    assert answer(status).verdict is verdict


def test_a_refusal_advises_dropping_webhook_url_only_when_the_user_gave_it():
    given = classify_response(403, "Forbidden", {}, "", given_url=True, now=NOW)
    managed = classify_response(403, "Forbidden", {}, "", given_url=False, now=NOW)
    assert "drop `webhook-url`" in given.reason
    assert "webhook-url" not in managed.reason and "looking it up again" in managed.reason
    assert "HTTP 403 Forbidden: (empty)" in given.reason


def test_a_refusal_body_is_redacted_then_cut():
    redaction.register(URL)
    body = "x" * 290 + " s3cr3t-token-value"
    outcome = classify_response(400, "Bad Request", {}, body, given_url=True, now=NOW)
    assert "s3cr3t" not in outcome.reason
    assert "x" * 290 + " ***" in outcome.reason


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("Mon, 30 Nov 2026 10:00:30 GMT", 30.0),  # IMF-fixdate
        ("Monday, 30-Nov-26 10:00:30 GMT", 30.0),  # RFC 850
        ("Mon Nov 30 10:00:30 2026", 30.0),  # asctime: no zone, which means UTC
        ("Mon, 30 Nov 2026 10:00:30 -0000", 30.0),  # "-0000": UTC, parsed as naive
        ("Mon, 30 Nov 2026 09:59:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_in_every_form_http_allows(header, seconds):
    assert retry_after_seconds(header, NOW) == seconds


def test_a_retry_after_too_long_to_be_a_number_is_still_a_number():
    assert retry_after_seconds("9" * 5000, NOW) >= 1e8


@responses.activate
@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (requests.exceptions.ConnectTimeout(), Verdict.RETRY),
        (requests.exceptions.ConnectionError("NewConnectionError: refused"), Verdict.RETRY),
        (requests.exceptions.SSLError(), Verdict.RETRY),
        (requests.exceptions.ConnectionError("RemoteDisconnected"), Verdict.RETRY_FATE_UNKNOWN),
        (requests.exceptions.ReadTimeout(), Verdict.RETRY_FATE_UNKNOWN),
        (requests.exceptions.InvalidURL(), Verdict.FAIL),
    ],
)
def test_each_failure_to_get_an_answer_has_its_verdict(error, verdict):
    responses.post(URL.split("?", maxsplit=1)[0], body=error)
    with pytest.raises(requests.exceptions.RequestException) as raised:
        requests.post(URL, json={}, timeout=1)
    assert classify_exception(raised.value).verdict is verdict


# -- the loop -----------------------------------------------------------------


def trigger(fake: FakeTime, *, max_attempts=5, arrived=None, given_url=True):
    return trigger_frontend_build(
        URL,
        workflow=Workflow(out=io.StringIO()),
        cancellation=fake,
        max_attempts=max_attempts,
        given_url=given_url,
        arrived=arrived,
        clock=fake.clock,
    )


def posts() -> list[responses.Call]:
    return list(responses.calls)


@responses.activate
def test_the_post_is_json_braces_to_the_start_build_url():
    responses.post(URL.split("?", maxsplit=1)[0], status=200, json={})
    assert trigger(FakeTime()).attempts == 1
    (call,) = posts()
    assert call.request.body == b"{}"
    assert call.request.url.endswith("&operation=startbuild")


@responses.activate
def test_retry_after_is_honoured_between_retries():
    responses.post(URL.split("?", maxsplit=1)[0], status=429, headers={"Retry-After": "20"})
    responses.post(URL.split("?", maxsplit=1)[0], status=200)
    fake = FakeTime()

    assert trigger(fake).attempts == 2
    assert fake.slept == [20.0]  # not the first backoff (under a second)


@responses.activate
def test_a_retry_after_beyond_the_budget_fails_at_once_saying_when():
    responses.post(URL.split("?", maxsplit=1)[0], status=503, headers={"Retry-After": "900"})

    with pytest.raises(ActionError) as raised:
        trigger(FakeTime())

    assert len(posts()) == 1
    assert "come back in 900 s" in raised.value.message and "UTC" in raised.value.message


@responses.activate
def test_retries_stop_at_max_attempts():
    responses.post(URL.split("?", maxsplit=1)[0], status=503)
    with pytest.raises(ActionError) as raised:
        trigger(FakeTime(), max_attempts=3)
    assert len(posts()) == 3
    assert "after 3 attempts: HTTP 503" in raised.value.message


@responses.activate
def test_a_refusal_is_not_retried():
    responses.post(URL.split("?", maxsplit=1)[0], status=404, body="no such webhook")
    with pytest.raises(Refused) as raised:
        trigger(FakeTime())
    assert len(posts()) == 1 and raised.value.status == 404


@responses.activate
def test_a_lost_post_whose_build_is_listed_late_is_not_sent_again():
    responses.post(URL.split("?", maxsplit=1)[0], body=requests.exceptions.ReadTimeout())
    looks = iter([None, None, "7"])  # listed on the third look, ~10 s later

    triggered = trigger(FakeTime(), arrived=lambda: next(looks))

    assert len(posts()) == 1
    assert triggered.job_id == "7"


@responses.activate
def test_a_lost_post_with_no_build_listed_in_the_window_is_sent_again():
    responses.post(URL.split("?", maxsplit=1)[0], status=502)
    responses.post(URL.split("?", maxsplit=1)[0], status=200)
    fake = FakeTime()
    start = fake.now

    triggered = trigger(fake, arrived=lambda: None)

    assert len(posts()) == 2 and triggered.job_id is None
    assert fake.now - start >= LOOK_SECONDS  # it looked for the whole window first


@responses.activate
def test_a_lost_post_that_cannot_be_checked_is_not_sent_again():
    responses.post(URL.split("?", maxsplit=1)[0], body=requests.exceptions.ConnectionError("reset"))
    with pytest.raises(ActionError) as raised:
        trigger(FakeTime(), arrived=None)
    assert len(posts()) == 1
    assert raised.value.title == "Frontend trigger uncertain"


@responses.activate
def test_a_cancel_while_the_post_is_on_its_way_ends_it_and_says_it_may_have_started():
    release = threading.Event()

    def slow(_request):
        release.wait(10)
        return (200, {}, "")

    responses.add_callback(responses.POST, URL.split("?", maxsplit=1)[0], callback=slow)
    cancellation = Cancellation()
    threading.Timer(0.3, cancellation.event.set).start()
    try:
        with pytest.raises(Cancelled) as raised:
            trigger_frontend_build(
                URL,
                workflow=Workflow(out=io.StringIO()),
                cancellation=cancellation,
                max_attempts=5,
                given_url=True,
            )
    finally:
        release.set()
    assert "may have started a build" in raised.value.message
    assert raised.value.exit_code == 130


@responses.activate
def test_the_post_is_never_redirected_elsewhere():
    """A redirect would carry the POST (and the token in its URL) to another host."""
    responses.post(
        URL.split("?", maxsplit=1)[0], status=302, headers={"Location": "https://elsewhere.test/x"}
    )
    elsewhere = responses.post("https://elsewhere.test/x", status=200)

    with pytest.raises(ActionError) as raised:
        trigger(FakeTime())

    assert elsewhere.call_count == 0
    assert "HTTP 302" in raised.value.message
