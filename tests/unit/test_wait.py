"""Waiting for the triggered frontend build: real boto3 against the local server,
real webhook POSTs; only time is sped up, by one fake clock that the server and
the waiting code share (a 10-minute build takes no real 10 minutes)."""

from __future__ import annotations

import io

import pytest
import requests
from support.action import APP_ID
from support.amplify_sim import AmplifySimulator

from ampaction.amplify import Amplify
from ampaction.errors import ActionError
from ampaction.wait import POLL_SECONDS, JobResult, wait_for_job
from ampaction.workflow import Workflow


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def world(clock, monkeypatch, harness):
    with AmplifySimulator(clock=clock) as server:
        server.add_app(APP_ID)
        server.add_branch(APP_ID, "main")
        harness.sims.append(server)
        monkeypatch.setenv("AWS_ENDPOINT_URL_AMPLIFY", server.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
        yield server


def trigger_and_wait(sim, clock, plan, *, timeout=1800.0, appear_delay=0.0):
    sim.set_job_plan(APP_ID, "main", plan)
    sim.job_appear_delay = appear_delay
    hook = sim.add_webhook(APP_ID, "main", "amplify-pipeline-deploy")
    # The branch's newest job before the POST, as the trigger notes it (from the server's
    # record here, so that faults scripted for ListJobs hit the wait's own calls).
    after_job_id = max((int(j["jobId"]) for j in sim.jobs(APP_ID, "main")), default=0)
    requests.post(hook["webhookUrl"], json={}, timeout=5).raise_for_status()
    sim.clear_requests()
    out = io.StringIO()
    result = JobResult()
    amplify = Amplify("us-east-1", 3, {})
    error = None
    try:
        wait_for_job(
            amplify,
            Workflow(out=out),
            app_id=APP_ID,
            branch="main",
            after_job_id=after_job_id,
            timeout_seconds=timeout,
            result=result,
            clock=clock,
            sleep=clock.sleep,
        )
    except ActionError as e:
        error = e
    return result, error, out.getvalue(), len(sim.requests)


def test_a_ten_minute_build_costs_at_most_40_calls_and_its_end_is_seen_within_15_s(world, clock):
    start = clock()
    result, error, _log, calls = trigger_and_wait(
        world, clock, [("PENDING", 5.0), ("RUNNING", 595.0), ("SUCCEED", None)]
    )

    assert error is None
    assert result.status == "SUCCEED"
    assert calls <= 40, calls
    noticed_after_end = clock() - (start + 600)
    assert 0 <= noticed_after_end <= 15
    print(
        f"10-minute build followed in {calls} API calls, end noticed {noticed_after_end:.0f} s late"
    )


def test_progress_is_a_line_per_status_change_not_per_poll(world, clock):
    _, _, log, calls = trigger_and_wait(
        world, clock, [("PENDING", 20.0), ("RUNNING", 100.0), ("SUCCEED", None)]
    )
    status_lines = [line for line in log.splitlines() if line.startswith("Job 1:")]
    assert [line.split()[2] for line in status_lines] == ["PENDING", "RUNNING", "SUCCEED"]
    assert calls > len(status_lines)


@pytest.mark.parametrize("final", ["FAILED", "CANCELLED"])
def test_a_failed_or_cancelled_build_fails_with_its_console_link(world, clock, final):
    result, error, _, _ = trigger_and_wait(world, clock, [("RUNNING", 30.0), (final, None)])

    assert error is not None
    assert f"ended {final}" in error.message
    assert f"console.aws.amazon.com/amplify/apps/{APP_ID}/branches/main" in error.message
    assert result.job_id == "1" and result.status == final


def test_a_build_that_never_ends_times_out_with_the_link(world, clock):
    start = clock()
    result, error, _, _ = trigger_and_wait(world, clock, [("RUNNING", None)], timeout=300)

    assert error is not None and error.title == "Frontend build timed out"
    assert "still RUNNING after 5 minutes" in error.message
    assert clock() - start <= 300 + POLL_SECONDS
    assert result.status == "RUNNING"


def test_a_status_never_seen_before_means_still_going(world, clock):
    result, error, log, _ = trigger_and_wait(world, clock, [("MYSTERY", 40.0), ("SUCCEED", None)])

    assert error is None and result.status == "SUCCEED"
    assert "Job 1: MYSTERY" in log


def test_a_job_that_appears_only_after_a_few_polls_is_found(world, clock):
    result, error, _, _ = trigger_and_wait(
        world, clock, [("RUNNING", 30.0), ("SUCCEED", None)], appear_delay=50.0
    )

    assert error is None and result.job_id == "1" and result.status == "SUCCEED"
    assert world.count("ListJobs") >= 3


def test_a_job_that_never_appears_fails_clearly(world, clock):
    _, error, _, _ = trigger_and_wait(world, clock, [("SUCCEED", None)], appear_delay=10_000)

    assert error is not None and error.title == "Frontend build not found"


def test_a_release_job_is_not_mistaken_for_ours(world, clock):
    world.add_job(APP_ID, "main", "RELEASE", start_time=clock() + 1)
    result, error, _, _ = trigger_and_wait(world, clock, [("RUNNING", 30.0), ("SUCCEED", None)])

    assert error is None
    job = next(j for j in world.jobs(APP_ID, "main") if j["jobId"] == result.job_id)
    assert job["jobType"] == "WEB_HOOK"


@pytest.mark.parametrize("operation", ["ListJobs", "GetJob"])
def test_polls_survive_throttling_and_5xx(world, clock, operation):
    world.fail(operation, 429)
    world.fail(operation, 503)
    result, error, _, _ = trigger_and_wait(world, clock, [("RUNNING", 40.0), ("SUCCEED", None)])

    assert error is None and result.status == "SUCCEED"
    assert world.count(operation) >= 3


def _post_webhook(sim, plan):
    """Another POST to the branch's webhook: a job with `plan`, as a second run makes."""
    sim.set_job_plan(APP_ID, "main", plan)
    hook = sim.webhooks(APP_ID)[0]
    requests.post(hook["webhookUrl"], json={}, timeout=5).raise_for_status()


def test_two_webhook_jobs_after_the_trigger_make_no_claim_of_either(world, clock):
    """Run A's build fails, run B's succeeds: A must not report B's SUCCEED."""
    world.set_job_plan(APP_ID, "main", [("RUNNING", 5.0), ("FAILED", None)])
    hook = world.add_webhook(APP_ID, "main", "amplify-pipeline-deploy")
    requests.post(hook["webhookUrl"], json={}, timeout=5).raise_for_status()  # ours: job 1
    _post_webhook(world, [("RUNNING", 5.0), ("SUCCEED", None)])  # the other run's: job 2

    result = JobResult()
    with pytest.raises(ActionError) as raised:
        wait_for_job(
            Amplify("us-east-1", 3, {}),
            Workflow(out=io.StringIO()),
            app_id=APP_ID,
            branch="main",
            after_job_id=0,
            timeout_seconds=600,
            result=result,
            clock=clock,
            sleep=clock.sleep,
        )

    assert raised.value.title == "Frontend build uncertain"
    assert "jobs 1 (" in raised.value.message and "2 (" in raised.value.message
    assert "concurrency" in raised.value.message
    assert result.status is None and result.job_id is None


def test_a_second_webhook_job_appearing_while_ours_runs_makes_no_claim(world, clock):
    class SecondRunClock(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if self.now - start > 20 and len(world.jobs(APP_ID, "main")) == 1:
                _post_webhook(world, [("SUCCEED", None)])

    second = SecondRunClock()
    second.now = clock.now
    world.clock = second
    start = second.now
    result, error, _, _ = trigger_and_wait(
        world, second, [("RUNNING", 120.0), ("FAILED", None)], timeout=600
    )

    assert error is not None and error.title == "Frontend build uncertain"
    assert len(world.jobs(APP_ID, "main")) == 2
    assert result.status is None


def test_release_and_manual_jobs_after_the_trigger_are_never_taken_for_ours(world, clock):
    world.add_job(APP_ID, "main", "RELEASE")  # job 1: a push, with auto-build on
    world.set_job_plan(APP_ID, "main", [("RUNNING", 30.0), ("SUCCEED", None)])
    hook = world.add_webhook(APP_ID, "main", "amplify-pipeline-deploy")
    requests.post(hook["webhookUrl"], json={}, timeout=5).raise_for_status()  # job 2: ours
    world.add_job(APP_ID, "main", "MANUAL")  # job 3: someone in the console

    result = wait_for_job(
        Amplify("us-east-1", 3, {}),
        Workflow(out=io.StringIO()),
        app_id=APP_ID,
        branch="main",
        after_job_id=0,
        timeout_seconds=600,
        result=JobResult(),
        clock=clock,
        sleep=clock.sleep,
    )

    assert result.job_id == "2" and result.status == "SUCCEED"


def test_amplifys_clock_behind_the_runners_does_not_hide_the_job(world, clock):
    """Job ids, not start times: with Amplify's clock a minute behind, the job is found."""
    world.clock = lambda: clock() - 60
    result, error, _, _ = trigger_and_wait(world, clock, [("RUNNING", 30.0), ("SUCCEED", None)])

    assert error is None and result.job_id == "1" and result.status == "SUCCEED"
