"""The frontend built by Amplify from the repository, started through the branch's
incoming webhook: the one given (`webhook-url`), or the branch's marked one, found or
created. The webhook's answer names no job: the job to wait on is the branch's first
webhook job after its newest one before the trigger.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from ampaction import trigger, webhook
from ampaction.amplify import console_url
from ampaction.errors import Cancelled
from ampaction.frontends import AmplifyJob, Frontend, Job
from ampaction.inputs import Settings
from ampaction.run import Run


def reads_amplify(s: Settings) -> bool:
    """A given webhook URL and no wait: the POST is the only call the run makes."""
    return s.webhook_url is None or s.wait_for_frontend


def start(run: Run) -> Job | None:
    """Trigger the frontend build: the job to wait on (None when the run reads no jobs)."""
    s, report, workflow, amplify = run.settings, run.report, run.workflow, run.amplify
    if run.cancellation.requested:
        raise Cancelled("the frontend trigger")
    with report.step("Trigger frontend build", workflow) as step:
        # The branch's newest job, noted before the first POST when the run reads the
        # branch's jobs anyway: read while the webhook is found (neither needs the other).
        newest = None
        if amplify and reads_amplify(s):
            newest = run.cancellation.start(
                lambda: amplify.newest_job_id(s.app_id, s.branch),
                "the AWS call to list the branch's jobs",
            )
        hook = _webhook(run)  # its error, if any, first: as when the two were made in turn
        after = newest.result() if newest else None
        triggered = _post_trigger(run, hook, after=after)
        report.outputs["frontend-triggered"] = "true"
        if s.region:
            report.outputs["job-url"] = console_url(s.region, s.app_id, s.branch)
        step.detail = f"webhook `{report.outputs['webhook-id']}`, {triggered.attempts} attempt(s)"
        workflow.info("Frontend build triggered.")
    if amplify is None or after is None:
        return None
    return AmplifyJob(amplify, run, after_job_id=after)


def plan(run: Run) -> None:
    """Say which webhook a real run would post to, and whether it would wait."""
    s, workflow = run.settings, run.workflow
    if s.webhook_url:
        hook = f"the given `webhook-url` (webhook {webhook_id(s.webhook_url)})"
    elif run.amplify:
        found = webhook.find_webhook(
            run.amplify, workflow, s.app_id, s.branch, s.webhook_description
        )
        hook = (
            f"reuse webhook {found.id}"
            if found
            else f"create a webhook marked `{s.webhook_description}`"
        )
    else:
        hook = "a webhook"
    line = f"trigger through {hook} (branch matches `{s.matching_pattern()}`)"
    workflow.info(f"- frontend: {line}")
    run.report.plan("Trigger frontend build", line)
    if s.wait_for_frontend:
        workflow.info(f"- then wait up to {s.wait_timeout_minutes} min for the build")


FRONTEND = Frontend(
    builds_from_repository=True, reads_amplify=reads_amplify, plan=plan, start=start
)


def _webhook(run: Run) -> webhook.Webhook:
    """The webhook given, or the branch's marked one, found or created."""
    s, report, workflow = run.settings, run.report, run.workflow
    if s.webhook_url:
        hook = webhook.Webhook(webhook_id(s.webhook_url), s.webhook_url, created=False)
    else:
        assert run.amplify is not None  # noqa: S101 - inputs require a region here
        hook = webhook.find_or_create_webhook(
            run.amplify, workflow, s.app_id, s.branch, s.webhook_description
        )
    report.outputs["webhook-id"] = hook.id
    report.outputs["webhook-created"] = "true" if hook.created else "false"
    workflow.info(f"Webhook {hook.id} ({'created' if hook.created else 'reused'}).")
    return hook


def _post_trigger(run: Run, hook: webhook.Webhook, *, after: int | None) -> trigger.Triggered:
    """POST to the webhook; when the action's own webhook refuses, look it up again once
    (a concurrent run may have replaced it) and post to the one found."""
    s, amplify = run.settings, run.amplify

    def arrived() -> str | None:
        assert amplify is not None and after is not None  # noqa: S101 - only then given
        jobs = amplify.webhook_jobs_after(s.app_id, s.branch, after)
        return str(jobs[0]["jobId"]) if jobs else None

    def post(url: str) -> trigger.Triggered:
        return trigger.trigger_frontend_build(
            url,
            workflow=run.workflow,
            cancellation=run.cancellation,
            max_attempts=s.max_attempts,
            given_url=s.webhook_url is not None,
            arrived=arrived if after is not None else None,
        )

    try:
        return post(hook.url)
    except trigger.Refused as refused:
        if s.webhook_url or amplify is None or refused.status not in (401, 403, 404):
            raise
        again = _webhook(run)
        if again.url == hook.url:
            raise
        run.workflow.info(f"Webhook {hook.id} refused the trigger; posting to webhook {again.id}.")
        return post(again.url)


def webhook_id(url: str) -> str:
    """The id in a webhook URL's query (never the token)."""
    return dict(parse_qsl(urlsplit(url).query)).get("id", "(given)")
