"""Tests for the Amplify simulator, driven by REAL boto3 and REAL ``requests``.

Why: the simulator is only useful if unmodified botocore accepts its answers (routes,
percent-decoding, timestamps, pagination, ``x-amzn-ErrorType`` parsing), so every
check here goes over HTTP through the real client libraries rather than calling the
simulator's internals.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore
import botocore.config
import botocore.exceptions
import botocore.session
import pytest
import requests
from support.action import APP_ID, REGION
from support.amplify_sim import DEFAULT_JOB_PLAN, AmplifySimulator, RequestRecord

SIM_PATH = Path(__file__).parents[1] / "support" / "amplify_sim.py"
# One botocore session for all clients: it caches the loaded service model, which
# makes creating a client per test ~10x cheaper.
_BOTOCORE_SESSION = botocore.session.get_session()


class FakeClock:
    """Manually advanced clock so job plans run in zero wall time."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def make_client(
    sim: AmplifySimulator,
    access_key: str = "AKIDTEST",
    *,
    max_attempts: int = 1,
    read_timeout: float = 5.0,
    signature_version: Any = None,
) -> Any:
    """A real boto3 Amplify client aimed at the simulator (no retries unless asked)."""
    options: dict[str, Any] = {
        "retries": {"total_max_attempts": max_attempts, "mode": "standard"},
        "read_timeout": read_timeout,
        "connect_timeout": 2,
    }
    if signature_version is not None:
        options["signature_version"] = signature_version
    return boto3.session.Session(botocore_session=_BOTOCORE_SESSION).client(
        "amplify",
        region_name=REGION,
        endpoint_url=sim.url,
        aws_access_key_id=access_key,
        aws_secret_access_key="secret",
        config=botocore.config.Config(**options),
    )


def error_of(exc_info: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, int]:
    response = exc_info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[AmplifySimulator]:
    with AmplifySimulator(clock=clock) as simulator:
        simulator.add_app(APP_ID, name="demo")
        simulator.add_branch(APP_ID, "main")
        simulator.add_branch(APP_ID, "feature/x", enable_auto_build=True)
        yield simulator


@pytest.fixture
def client(sim: AmplifySimulator) -> Any:
    return make_client(sim)


# --------------------------------------------------------------------- branch lifecycle & tags


def test_create_branch_as_the_model_says(sim: AmplifySimulator, client: Any) -> None:
    made = client.create_branch(
        appId=APP_ID,
        branchName="pr/12",
        stage="PULL_REQUEST",
        enableAutoBuild=False,
        tags={"created-by": "amplify-pipeline-deploy"},
    )["branch"]
    assert made["branchName"] == "pr/12" and made["stage"] == "PULL_REQUEST"
    assert made["enableAutoBuild"] is False
    assert made["tags"] == {"created-by": "amplify-pipeline-deploy"}
    assert made["branchArn"].endswith(f"apps/{APP_ID}/branches/pr/12")
    assert client.get_branch(appId=APP_ID, branchName="pr/12")["branch"]["stage"] == "PULL_REQUEST"
    with pytest.raises(botocore.exceptions.ClientError) as again:
        client.create_branch(appId=APP_ID, branchName="pr/12")
    assert error_of(again) == ("BadRequestException", 400)
    assert "already exists" in str(again.value)


def test_create_branch_refuses_what_the_model_refuses(sim: AmplifySimulator) -> None:
    # Client-side validation off, so that the server's own checks answer.
    raw = boto3.session.Session(botocore_session=_BOTOCORE_SESSION).client(
        "amplify",
        region_name=REGION,
        endpoint_url=sim.url,
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret",
        config=botocore.config.Config(parameter_validation=False),
    )
    for bad in (
        {"branchName": "b" * 256},
        {"branchName": "ok", "stage": "STAGING"},
        {"branchName": "ok", "tags": {"aws:reserved": "x"}},
    ):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            raw.create_branch(appId=APP_ID, **bad)
        assert error_of(refused) == ("BadRequestException", 400)
    assert sim.branch(APP_ID, "ok") is None


def test_delete_branch_then_it_is_gone(sim: AmplifySimulator, client: Any) -> None:
    gone = client.delete_branch(appId=APP_ID, branchName="feature/x")["branch"]
    assert gone["branchName"] == "feature/x"
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        client.delete_branch(appId=APP_ID, branchName="feature/x")
    assert error_of(missing) == ("NotFoundException", 404)


def test_tags_of_a_branch_by_its_arn(sim: AmplifySimulator, client: Any) -> None:
    arn = client.get_branch(appId=APP_ID, branchName="feature/x")["branch"]["branchArn"]
    client.tag_resource(resourceArn=arn, tags={"team": "web", "created-by": "me"})
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "team": "web",
        "created-by": "me",
    }
    client.untag_resource(resourceArn=arn, tagKeys=["team", "created-by"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {}
    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        client.list_tags_for_resource(resourceArn=arn + "-nope")
    assert error_of(unknown) == ("ResourceNotFoundException", 404)


def test_get_app_has_the_production_branch_and_a_branch_its_stack(
    sim: AmplifySimulator, client: Any
) -> None:
    stack = (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/amplify-d1-pr-branch-0123456789/abc"
    )
    sim.add_branch(APP_ID, "pr", stage="PULL_REQUEST", stack_arn=stack)
    sim.set_production_branch(APP_ID, "main")
    app = client.get_app(appId=APP_ID)["app"]
    assert app["productionBranch"]["branchName"] == "main"
    assert app["defaultDomain"] == f"{APP_ID}.amplifyapp.com"
    assert client.get_branch(appId=APP_ID, branchName="pr")["branch"]["backend"] == {
        "stackArn": stack
    }


# --------------------------------------------------------------------- apps & branches


def test_get_app_and_branch_with_slash(sim: AmplifySimulator, client: Any) -> None:
    app = client.get_app(appId=APP_ID)["app"]
    assert app["appId"] == APP_ID
    assert app["name"] == "demo"
    assert app["appArn"].startswith("arn:aws:amplify:us-east-1:")
    assert isinstance(app["createTime"], dt.datetime)
    assert app["createTime"].timestamp() == pytest.approx(1_700_000_000.0)

    branch = client.get_branch(appId=APP_ID, branchName="feature/x")["branch"]
    assert branch["branchName"] == "feature/x"
    assert branch["enableAutoBuild"] is True
    assert branch["totalNumberOfJobs"] == "0"
    # botocore percent-encodes the slash; the simulator must decode it.
    assert sim.requests[-1].path == f"/apps/{APP_ID}/branches/feature%2Fx"


def test_update_branch(client: Any) -> None:
    updated = client.update_branch(
        appId=APP_ID,
        branchName="main",
        enableAutoBuild=True,
        environmentVariables={"A": "1"},
        description="prod",
    )["branch"]
    assert updated["enableAutoBuild"] is True
    assert updated["environmentVariables"] == {"A": "1"}
    branch = client.get_branch(appId=APP_ID, branchName="main")["branch"]
    assert branch["description"] == "prod"
    assert branch["enableAutoBuild"] is True


def test_not_found_app_and_branch(client: Any) -> None:
    with pytest.raises(client.exceptions.NotFoundException) as app_err:
        client.get_app(appId="nope")
    assert error_of(app_err) == ("NotFoundException", 404)
    with pytest.raises(botocore.exceptions.ClientError) as branch_err:
        client.get_branch(appId=APP_ID, branchName="missing")
    assert error_of(branch_err) == ("NotFoundException", 404)
    assert "missing" in branch_err.value.response["Error"]["Message"]


def test_list_branches(client: Any) -> None:
    names = [b["branchName"] for b in client.list_branches(appId=APP_ID)["branches"]]
    assert names == ["main", "feature/x"]


def test_tags_merge_show_in_get_branch_and_touch_one_branch(
    sim: AmplifySimulator, client: Any
) -> None:
    arn = client.get_branch(appId=APP_ID, branchName="feature/x")["branch"]["branchArn"]
    client.tag_resource(resourceArn=arn, tags={"team": "web", "build:note": "run 7 at 09:00"})
    client.tag_resource(resourceArn=arn, tags={"team": "mobile"})  # merges, overwrites
    expected = {"team": "mobile", "build:note": "run 7 at 09:00"}
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == expected
    assert client.get_branch(appId=APP_ID, branchName="feature/x")["branch"]["tags"] == expected
    assert sim.branch(APP_ID, "main")["tags"] == {}  # only the branch named by the ARN
    # The ARN is one URI label: botocore percent-encodes its colons and slashes.
    assert sim.requests[-3].path.startswith("/tags/arn%3Aaws%3Aamplify%3A")

    # UntagResource sends its keys as a repeated query parameter; all of them count.
    client.untag_resource(resourceArn=arn, tagKeys=["team", "build:note", "absent"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_app_tags_and_tag_errors(client: Any) -> None:
    app_arn = client.get_app(appId=APP_ID)["app"]["appArn"]
    client.tag_resource(resourceArn=app_arn, tags={"owner": "me"})
    assert client.list_tags_for_resource(resourceArn=app_arn)["tags"] == {"owner": "me"}

    with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
        client.tag_resource(resourceArn=app_arn + "/branches/nope", tags={"a": "b"})
    assert error_of(missing) == ("ResourceNotFoundException", 404)
    with pytest.raises(client.exceptions.BadRequestException):
        client.tag_resource(resourceArn=app_arn, tags={"aws:reserved": "x"})
    with pytest.raises(client.exceptions.BadRequestException):
        client.tag_resource(resourceArn=app_arn, tags={"k": "no;semicolons"})
    with pytest.raises(client.exceptions.BadRequestException):
        client.tag_resource(resourceArn=app_arn, tags={f"k{i}": "v" for i in range(50)})
    assert client.list_tags_for_resource(resourceArn=app_arn)["tags"] == {"owner": "me"}


# --------------------------------------------------------------------- webhooks


def test_webhook_crud(sim: AmplifySimulator, client: Any) -> None:
    created = client.create_webhook(appId=APP_ID, branchName="main", description="ci")["webhook"]
    hook_id = created["webhookId"]
    assert hook_id == hook_id.lower()
    assert created["branchName"] == "main"
    assert created["webhookUrl"].startswith(f"{sim.url}/prod/webhooks?id={hook_id}&token=")
    assert created["webhookArn"].endswith(f"/webhooks/{hook_id}")

    assert client.get_webhook(webhookId=hook_id)["webhook"]["description"] == "ci"
    updated = client.update_webhook(webhookId=hook_id, branchName="feature/x", description="x")
    assert updated["webhook"]["branchName"] == "feature/x"
    assert updated["webhook"]["description"] == "x"
    listed = client.list_webhooks(appId=APP_ID)
    assert [w["webhookId"] for w in listed["webhooks"]] == [hook_id]
    assert "nextToken" not in listed

    deleted = client.delete_webhook(webhookId=hook_id)["webhook"]
    assert deleted["webhookId"] == hook_id
    assert sim.webhooks(APP_ID) == []
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_webhook(webhookId=hook_id)
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_webhook(webhookId=hook_id)


def test_create_webhook_on_missing_branch_is_not_found(sim: AmplifySimulator, client: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as err:
        client.create_webhook(appId=APP_ID, branchName="ghost", description="x")
    assert error_of(err) == ("NotFoundException", 404)
    assert sim.webhooks(APP_ID) == []


def test_list_webhooks_pagination_to_third_page(sim: AmplifySimulator, client: Any) -> None:
    hooks = [
        sim.add_webhook(APP_ID, "main", f"hook-{i}", create_time=1_600_000_000.0 + i)
        for i in range(5)
    ]
    target = hooks[4]["webhookId"]  # 3rd page with 2 per page

    pages: list[list[str]] = []
    kwargs: dict[str, Any] = {"appId": APP_ID, "maxResults": 2}
    while True:
        page = client.list_webhooks(**kwargs)
        pages.append([w["webhookId"] for w in page["webhooks"]])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert pages == [
        [hooks[0]["webhookId"], hooks[1]["webhookId"]],
        [hooks[2]["webhookId"], hooks[3]["webhookId"]],
        [target],
    ]
    assert sim.requests[-1].query["maxResults"] == "2"

    # Without maxResults the configurable default page size applies.
    sim.default_page_size = 2
    first = client.list_webhooks(appId=APP_ID)
    assert len(first["webhooks"]) == 2
    assert "nextToken" in first


def test_list_webhooks_rejects_bad_paging_input(client: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as bad_token:
        client.list_webhooks(appId=APP_ID, nextToken="garbage!")
    assert error_of(bad_token) == ("BadRequestException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as too_many:
        client.list_webhooks(appId=APP_ID, maxResults=51)
    assert error_of(too_many) == ("BadRequestException", 400)


# --------------------------------------------------------------------- jobs


def test_start_job_release_and_get_job(sim: AmplifySimulator, client: Any) -> None:
    summary = client.start_job(appId=APP_ID, branchName="feature/x", jobType="RELEASE")[
        "jobSummary"
    ]
    assert summary["jobId"] == "1"
    assert summary["jobType"] == "RELEASE"
    assert summary["status"] == "PENDING"
    assert "endTime" not in summary
    job = client.get_job(appId=APP_ID, branchName="feature/x", jobId="1")["job"]
    assert job["summary"]["jobId"] == "1"
    assert job["steps"][0]["stepName"] == "BUILD"
    second = client.start_job(appId=APP_ID, branchName="feature/x", jobType="RELEASE")
    assert second["jobSummary"]["jobId"] == "2"
    branch = client.get_branch(appId=APP_ID, branchName="feature/x")["branch"]
    assert branch["totalNumberOfJobs"] == "2"
    assert branch["activeJobId"] == "2"
    assert [j["jobId"] for j in sim.jobs(APP_ID, "feature/x")] == ["1", "2"]


def test_start_job_validation(client: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as bad_type:
        client.start_job(appId=APP_ID, branchName="main", jobType="BOGUS")
    assert error_of(bad_type) == ("BadRequestException", 400)
    with pytest.raises(client.exceptions.NotFoundException):
        client.start_job(appId=APP_ID, branchName="ghost", jobType="RELEASE")
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_job(appId=APP_ID, branchName="main", jobId="99")


def test_list_jobs_newest_first_with_paginator(
    sim: AmplifySimulator, client: Any, clock: FakeClock
) -> None:
    for _ in range(5):
        sim.add_job(APP_ID, "main")
        clock.advance(1)
    pages = list(
        client.get_paginator("list_jobs").paginate(
            appId=APP_ID, branchName="main", PaginationConfig={"PageSize": 2}
        )
    )
    assert [[j["jobId"] for j in p["jobSummaries"]] for p in pages] == [
        ["5", "4"],
        ["3", "2"],
        ["1"],
    ]


def test_job_plan_progression_with_fake_clock(
    sim: AmplifySimulator, client: Any, clock: FakeClock
) -> None:
    sim.set_job_plan(APP_ID, "main", [("PENDING", 2.0), ("RUNNING", 600.0), ("SUCCEED", None)])
    started = client.start_job(appId=APP_ID, branchName="main", jobType="RELEASE")["jobSummary"]
    start = started["startTime"].timestamp()

    def status() -> dict[str, Any]:
        summary: dict[str, Any] = client.get_job(appId=APP_ID, branchName="main", jobId="1")["job"][
            "summary"
        ]
        return summary

    assert status()["status"] == "PENDING"
    clock.advance(2.5)
    assert status()["status"] == "RUNNING"
    assert "endTime" not in status()
    clock.advance(599)
    assert status()["status"] == "RUNNING"
    clock.advance(1)
    done = status()
    assert done["status"] == "SUCCEED"
    assert done["endTime"].timestamp() == pytest.approx(start + 602.0)
    listed = client.list_jobs(appId=APP_ID, branchName="main")["jobSummaries"]
    assert listed[0]["status"] == "SUCCEED"


def test_default_plan_unknown_status_and_stop(
    sim: AmplifySimulator, client: Any, clock: FakeClock
) -> None:
    assert DEFAULT_JOB_PLAN[-1][0] == "SUCCEED"
    client.start_job(appId=APP_ID, branchName="feature/x", jobType="RELEASE")
    clock.advance(6.5)
    assert sim.jobs(APP_ID, "feature/x")[0]["status"] == "SUCCEED"

    sim.set_job_plan(APP_ID, "main", [("PENDING", 1.0), ("MYSTERY", None)])
    client.start_job(appId=APP_ID, branchName="main", jobType="RELEASE")
    clock.advance(1)
    assert client.list_jobs(appId=APP_ID, branchName="main")["jobSummaries"][0]["status"] == (
        "MYSTERY"
    )

    sim.set_job_plan(APP_ID, "main", [("RUNNING", None)])
    client.start_job(appId=APP_ID, branchName="main", jobType="RELEASE")
    stopped = client.stop_job(appId=APP_ID, branchName="main", jobId="2")["jobSummary"]
    assert stopped["status"] == "CANCELLED"
    assert "endTime" in stopped


# --------------------------------------------------------------------- incoming webhook


def test_webhook_post_creates_web_hook_job(sim: AmplifySimulator, client: Any) -> None:
    hook = client.create_webhook(appId=APP_ID, branchName="feature/x", description="d")["webhook"]
    answer = requests.post(
        hook["webhookUrl"] + "&operation=startbuild",
        json={},
        headers={"X-Test": "yes"},
        timeout=5,
    )
    assert answer.status_code == 200
    assert set(answer.json()) == {"requestId"}

    jobs = client.list_jobs(appId=APP_ID, branchName="feature/x")["jobSummaries"]
    assert len(jobs) == 1
    assert jobs[0]["jobId"] == "1"
    assert jobs[0]["jobType"] == "WEB_HOOK"
    assert jobs[0]["commitId"] == "HEAD"
    assert jobs[0]["startTime"].timestamp() == pytest.approx(1_700_000_000.0)

    record = next(r for r in sim.requests if r.operation == "Webhook")
    assert record.method == "POST"
    assert record.path == "/prod/webhooks"
    assert record.query["id"] == hook["webhookId"]
    assert record.query["operation"] == "startbuild"
    assert record.body == {}
    assert record.header("x-test") == "yes"
    assert record.status == 200

    requests.post(hook["webhookUrl"], json={}, timeout=5)
    assert [j["jobId"] for j in sim.jobs(APP_ID, "feature/x")] == ["1", "2"]


def test_webhook_post_with_bad_id_or_token_is_forbidden(sim: AmplifySimulator, client: Any) -> None:
    hook = client.create_webhook(appId=APP_ID, branchName="main", description="d")["webhook"]
    bad_token = requests.post(
        f"{sim.url}/prod/webhooks?id={hook['webhookId']}&token=wrong", json={}, timeout=5
    )
    assert bad_token.status_code == 403
    assert "message" in bad_token.json()
    unknown = requests.post(f"{sim.url}/prod/webhooks?id=nope&token=x", json={}, timeout=5)
    assert unknown.status_code == 403
    assert sim.jobs(APP_ID, "main") == []


def test_job_appear_delay(sim: AmplifySimulator, client: Any, clock: FakeClock) -> None:
    sim.job_appear_delay = 5.0
    hook = sim.add_webhook(APP_ID, "main", "d")
    assert requests.post(hook["webhookUrl"], json={}, timeout=5).status_code == 200
    assert client.list_jobs(appId=APP_ID, branchName="main")["jobSummaries"] == []
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_job(appId=APP_ID, branchName="main", jobId="1")
    assert len(sim.jobs(APP_ID, "main")) == 1  # the helper sees hidden jobs
    clock.advance(5.0)
    visible = client.get_job(appId=APP_ID, branchName="main", jobId="1")["job"]["summary"]
    assert visible["status"] == "PENDING"  # the plan only starts once visible


# --------------------------------------------------------------------- errors & auth


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (400, None, "BadRequestException"),
        (401, None, "UnauthorizedException"),
        (404, None, "NotFoundException"),
        (429, None, "LimitExceededException"),
        (500, None, "InternalFailureException"),
        (503, None, "ServiceUnavailableException"),
        (503, "DependentServiceFailureException", "DependentServiceFailureException"),
    ],
)
def test_injected_error_codes_as_seen_by_boto3(
    sim: AmplifySimulator, client: Any, status: int, error_type: str | None, expected: str
) -> None:
    sim.fail("GetApp", status, error_type=error_type)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        client.get_app(appId=APP_ID)
    assert error_of(err) == (expected, status)
    assert err.value.response["Error"]["Message"]
    assert client.get_app(appId=APP_ID)["app"]["appId"] == APP_ID  # fault consumed


def test_modeled_exception_classes_match(sim: AmplifySimulator, client: Any) -> None:
    sim.fail("ListWebhooks", 429)
    with pytest.raises(client.exceptions.LimitExceededException):
        client.list_webhooks(appId=APP_ID)
    sim.fail("ListWebhooks", 500)
    with pytest.raises(client.exceptions.InternalFailureException):
        client.list_webhooks(appId=APP_ID)
    sim.fail("ListWebhooks", 401)
    with pytest.raises(client.exceptions.UnauthorizedException):
        client.list_webhooks(appId=APP_ID)


def test_rejected_credentials(sim: AmplifySimulator) -> None:
    sim.rejected_access_keys.add("AKIDBAD")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        make_client(sim, "AKIDBAD").get_app(appId=APP_ID)
    assert error_of(err) == ("UnrecognizedClientException", 403)
    assert err.value.response["Error"]["Message"] == (
        "The security token included in the request is invalid."
    )
    assert sim.requests[-1].access_key == "AKIDBAD"
    assert make_client(sim, "AKIDGOOD").get_app(appId=APP_ID)["app"]["appId"] == APP_ID


def test_missing_authorization(sim: AmplifySimulator) -> None:
    raw = requests.get(f"{sim.url}/apps/{APP_ID}", timeout=5)
    assert raw.status_code == 403
    assert raw.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert "message" in raw.json()
    unsigned = make_client(sim, signature_version=botocore.UNSIGNED)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        unsigned.get_app(appId=APP_ID)
    assert error_of(err) == ("MissingAuthenticationTokenException", 403)


def test_unknown_route_is_json_404(sim: AmplifySimulator) -> None:
    auth = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/x"}
    answer = requests.get(f"{sim.url}/nothing/here", headers=auth, timeout=5)
    assert answer.status_code == 404
    assert answer.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "message" in answer.json()
    assert sim.operations() == ["Unknown"]


# --------------------------------------------------------------------- fault injection


def test_fail_retry_after_and_queue_order(sim: AmplifySimulator, client: Any) -> None:
    sim.fail("ListWebhooks", 429, retry_after=7)
    sim.fail("ListWebhooks", 500, times=2)
    with pytest.raises(botocore.exceptions.ClientError) as throttled:
        client.list_webhooks(appId=APP_ID)
    assert error_of(throttled) == ("LimitExceededException", 429)
    assert throttled.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "7"
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as internal:
            client.list_webhooks(appId=APP_ID)
        assert error_of(internal) == ("InternalFailureException", 500)
    assert client.list_webhooks(appId=APP_ID)["webhooks"] == []
    assert [r.status for r in sim.requests] == [429, 500, 500, 200]


def test_fail_drop_closes_connection(sim: AmplifySimulator, client: Any) -> None:
    hook = sim.add_webhook(APP_ID, "main", "d")
    sim.fail("Webhook", drop=True)
    with pytest.raises(requests.ConnectionError):
        requests.post(hook["webhookUrl"], json={}, timeout=5)
    assert sim.jobs(APP_ID, "main") == []
    assert sim.requests[-1].status is None

    sim.fail("GetApp", drop=True)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client.get_app(appId=APP_ID)
    assert client.get_app(appId=APP_ID)["app"]["appId"] == APP_ID


def test_fail_after_effect_does_the_work(sim: AmplifySimulator, client: Any) -> None:
    hook = sim.add_webhook(APP_ID, "main", "d")
    sim.fail("Webhook", 500, after_effect=True)
    answer = requests.post(hook["webhookUrl"], json={}, timeout=5)
    assert answer.status_code == 500
    assert answer.headers["x-amzn-ErrorType"] == "InternalFailureException"
    assert [j["jobType"] for j in sim.jobs(APP_ID, "main")] == ["WEB_HOOK"]

    sim.fail("CreateWebhook", drop=True, after_effect=True)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client.create_webhook(appId=APP_ID, branchName="feature/x", description="lost")
    assert [w["description"] for w in sim.webhooks(APP_ID)] == ["d", "lost"]


def test_fail_delay_triggers_client_timeout(sim: AmplifySimulator) -> None:
    slow = make_client(sim, read_timeout=0.2)
    sim.fail("GetApp", status=200, delay=0.6)  # a status < 400 only delays
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        slow.get_app(appId=APP_ID)
    assert time.monotonic() - started < 0.55
    assert slow.get_app(appId=APP_ID)["app"]["appId"] == APP_ID


def test_fail_rejects_unknown_operation(sim: AmplifySimulator) -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        sim.fail("GetApps")


# --------------------------------------------------------------------- observation & concurrency


def test_request_log_helpers(sim: AmplifySimulator, client: Any) -> None:
    client.create_webhook(appId=APP_ID, branchName="main", description="logged")
    client.list_webhooks(appId=APP_ID, maxResults=3)
    assert sim.operations() == ["CreateWebhook", "ListWebhooks"]
    assert sim.count("ListWebhooks") == 1
    create, listing = sim.requests
    assert isinstance(create, RequestRecord)
    assert create.method == "POST"
    assert create.body == {"branchName": "main", "description": "logged"}
    assert create.access_key == "AKIDTEST"
    assert (create.header("authorization") or "").startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/"
    )
    assert create.time == pytest.approx(1_700_000_000.0)
    assert listing.query == {"maxResults": "3"}
    assert listing.body is None
    sim.clear_requests()
    assert sim.requests == []


def test_concurrent_clients_create_webhooks(sim: AmplifySimulator) -> None:
    clients = [make_client(sim, f"AKID{i}") for i in range(6)]
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients))

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=5)
            for n in range(5):
                hook = clients[index].create_webhook(
                    appId=APP_ID, branchName="main", description=f"{index}-{n}"
                )["webhook"]
                with lock:
                    results.append(hook["webhookId"])
                requests.post(hook["webhookUrl"], json={}, timeout=5).raise_for_status()
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert len(results) == 30
    assert len(set(results)) == 30
    assert sim.count("CreateWebhook") == 30
    assert sim.count("Webhook") == 30
    assert {w["webhookId"] for w in sim.webhooks(APP_ID)} == set(results)
    job_ids = sorted(int(j["jobId"]) for j in sim.jobs(APP_ID, "main"))
    assert job_ids == list(range(1, 31))


# --------------------------------------------------------------------- lifecycle & entry points


def test_env_var_endpoint(sim: AmplifySimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_AMPLIFY", sim.url)
    env_client = boto3.session.Session(
        aws_access_key_id="AKIDTEST", aws_secret_access_key="secret", region_name=REGION
    ).client("amplify")
    assert env_client.get_app(appId=APP_ID)["app"]["appId"] == APP_ID


def test_start_stop_real_clock() -> None:
    sim = AmplifySimulator()
    with pytest.raises(RuntimeError):
        _ = sim.url
    with sim:
        assert sim.port > 0
        app = sim.add_app("a1", region="eu-west-1")
        assert app["appArn"].startswith("arn:aws:amplify:eu-west-1:")
        assert abs(app["createTime"] - time.time()) < 5
        url = sim.url
        sim.fail("GetApp", status=500, delay=30)  # stop() must not wait for this
        thread = threading.Thread(
            target=lambda: requests.get(f"{url}/apps/a1", timeout=10), daemon=True
        )
        thread.start()
        time.sleep(0.1)
        started = time.monotonic()
    assert time.monotonic() - started < 2
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/apps/a1", timeout=2)


def test_main_runs_in_foreground_until_interrupted() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(SIM_PATH),
            "--port",
            "0",
            "--app",
            APP_ID,
            "--branch",
            "main",
            "--branch",
            "dev",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:  # as long as it takes to start: no clock here
            if "listening on" in line:
                url = line.rsplit(" ", 1)[-1].strip()
                break
        assert url.startswith("http://127.0.0.1:")
        demo = boto3.session.Session().client(
            "amplify",
            region_name=REGION,
            endpoint_url=url,
            aws_access_key_id="AKIDTEST",
            aws_secret_access_key="secret",
        )
        assert demo.get_branch(appId=APP_ID, branchName="dev")["branch"]["branchName"] == "dev"
        demo.close()  # no keep-alive connection left for the server to wait on
        for line in proc.stdout:  # its last line before it sleeps: the handler is in place
            if "Ctrl-C" in line:
                break
        proc.send_signal(signal.SIGINT)
        # A generous bound, not a speed check: it failed once at 5 s on a loaded machine.
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------- manual deployments


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_get_app_repository_and_build_specs(sim: AmplifySimulator, client: Any) -> None:
    assert client.get_app(appId=APP_ID)["app"]["repository"].startswith("https://")
    sim.add_app("dmanual", repository="", build_spec="version: 1\n")
    sim.add_app("dnorepo", repository=None)
    sim.add_branch("dmanual", "main", build_spec="version: 1\nfrontend: {}\n")
    app = client.get_app(appId="dmanual")["app"]
    assert app["repository"] == "" and app["buildSpec"] == "version: 1\n"
    assert "repository" not in client.get_app(appId="dnorepo")["app"]
    branch = client.get_branch(appId="dmanual", branchName="main")["branch"]
    assert branch["buildSpec"] == "version: 1\nfrontend: {}\n"


def test_manual_deployment_create_put_start_and_follow(
    sim: AmplifySimulator, client: Any, clock: FakeClock
) -> None:
    sim.set_job_plan(APP_ID, "feature/x", [("RUNNING", 5.0), ("SUCCEED", None)])
    created = client.create_deployment(appId=APP_ID, branchName="feature/x")
    job_id, url = created["jobId"], created["zipUploadUrl"]
    assert created["fileUploadUrls"] == {}
    assert "X-Amz-Signature=" in url and "feature%2Fx" in url
    summary = client.get_job(appId=APP_ID, branchName="feature/x", jobId=job_id)["job"]["summary"]
    assert (summary["jobType"], summary["status"]) == ("MANUAL", "CREATED")

    data = _zip_bytes({"index.html": b"<h1>hi</h1>"})
    put = requests.put(url, data=data, timeout=5)
    assert put.status_code == 200
    started = client.start_deployment(appId=APP_ID, branchName="feature/x", jobId=job_id)
    assert started["jobSummary"]["jobId"] == job_id
    assert started["jobSummary"]["status"] == "RUNNING"
    clock.advance(6)
    done = client.get_job(appId=APP_ID, branchName="feature/x", jobId=job_id)["job"]["summary"]
    assert done["status"] == "SUCCEED"
    (upload,) = sim.uploads(APP_ID)
    assert (upload.branch, upload.job_id, upload.data) == ("feature/x", job_id, data)
    assert sim.issued_upload_urls() == [url]


def test_upload_checks_the_signature_the_length_and_the_expiry(
    sim: AmplifySimulator, client: Any, clock: FakeClock
) -> None:
    url = client.create_deployment(appId=APP_ID, branchName="main")["zipUploadUrl"]
    forged = url.rsplit("X-Amz-Signature=", 1)[0] + "X-Amz-Signature=" + "0" * 64
    refused = requests.put(forged, data=b"zip", timeout=5)
    assert refused.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in refused.text

    chunked = requests.put(url, data=iter([b"zip"]), timeout=5)  # a generator: chunked
    assert chunked.status_code == 501
    clock.advance(3601)
    expired = requests.put(url, data=b"zip", timeout=5)
    assert expired.status_code == 403 and "expired" in expired.text
    assert sim.uploads() == []


def test_one_pending_deployment_per_branch_until_started_or_stopped(
    sim: AmplifySimulator, client: Any
) -> None:
    first = client.create_deployment(appId=APP_ID, branchName="main")["jobId"]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        client.create_deployment(appId=APP_ID, branchName="main")
    assert error_of(refused) == ("BadRequestException", 400)
    assert f"pending deployment, job {first}" in str(refused.value)

    client.stop_job(appId=APP_ID, branchName="main", jobId=first)
    second = client.create_deployment(appId=APP_ID, branchName="main")["jobId"]
    assert second != first
    client.start_deployment(appId=APP_ID, branchName="main", jobId=second)  # nothing uploaded
    with pytest.raises(botocore.exceptions.ClientError) as again:
        client.start_deployment(appId=APP_ID, branchName="main", jobId=second)
    assert error_of(again) == ("BadRequestException", 400)
    jobs = {j["jobId"]: j["status"] for j in sim.jobs(APP_ID, "main")}
    assert jobs[first] == "CANCELLED" and jobs[second] == "PENDING"  # then FAILED: no zip


def test_upload_faults_are_scriptable(sim: AmplifySimulator, client: Any) -> None:
    url = client.create_deployment(appId=APP_ID, branchName="main")["zipUploadUrl"]
    sim.fail("Upload", 503)
    sim.fail("Upload", 200, drop=True, after_effect=True)
    assert requests.put(url, data=b"a", timeout=5).status_code == 503
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.put(url, data=b"b", timeout=5)
    assert [u.data for u in sim.uploads()] == [b"b"]  # stored, though the answer was lost
    assert sim.count("Upload") == 2


def test_reset_keeps_apps_and_branches_and_remembers_issued_tokens(
    sim: AmplifySimulator, client: Any, clock: FakeClock
) -> None:
    hook = client.create_webhook(appId=APP_ID, branchName="main", description="d")["webhook"]
    requests.post(hook["webhookUrl"], json={}, timeout=5).raise_for_status()
    sim.set_job_plan(APP_ID, "main", [("RUNNING", None)])
    sim.fail("GetApp", 500)
    token = hook["webhookUrl"].rsplit("token=", 1)[1]
    client.delete_webhook(webhookId=hook["webhookId"])

    sim.reset()

    assert sim.webhooks(APP_ID) == [] and sim.jobs(APP_ID, "main") == []
    assert sim.requests == []
    assert client.get_app(appId=APP_ID)["app"]["appId"] == APP_ID  # the fault is gone
    assert client.get_branch(appId=APP_ID, branchName="feature/x")["branch"]["branchName"]
    assert sim.issued_tokens() == {token}  # deleted, and reset, but issued all the same
    assert sim.add_job(APP_ID, "main")["jobId"] == "1"
    clock.advance(3600)
    assert sim.jobs(APP_ID, "main")[0]["status"] == "SUCCEED"  # not RUNNING: the plan is gone


def test_latency_delays_every_answer_by_at_least_its_seconds(clock: FakeClock) -> None:
    """`latency` stands in for the network between a runner and the region (benchmarks):
    every answer, the webhook's POST included, comes no sooner than that. A lower bound
    only: a sleep cannot end early, so this cannot flake on a slow machine."""
    with AmplifySimulator(clock=clock, latency=0.3) as sim:
        sim.add_app(APP_ID)
        sim.add_branch(APP_ID, "main")
        client = make_client(sim)
        started = time.monotonic()
        client.get_app(appId=APP_ID)
        assert time.monotonic() - started >= 0.3
        url = client.create_webhook(appId=APP_ID, branchName="main")["webhook"]["webhookUrl"]
        started = time.monotonic()
        assert requests.post(url, json={}, timeout=5).status_code == 200
        assert time.monotonic() - started >= 0.3
