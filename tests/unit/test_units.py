"""Pure logic, tested in-process: input reading, redaction, the runner's command
formats, webhook helpers and the summary's Markdown."""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import logging
import re
import threading

import pytest
from support.runner import CommandLog, parse_key_values

from ampaction import redaction
from ampaction.errors import BadInputs
from ampaction.inputs import raw_inputs, read_settings
from ampaction.report import Report, Step
from ampaction.retry import retry_after_seconds as _retry_after
from ampaction.trigger import start_build_url
from ampaction.webhook import _marked
from ampaction.workflow import Workflow

URL = "https://webhooks.amplify.us-east-1.amazonaws.com/prod/webhooks?id=abc&token=S3cr3tT0ken%2Bx"


@pytest.fixture(autouse=True)
def _fresh_secrets():
    redaction.forget_all()
    yield
    redaction.forget_all()


def test_inputs_arrive_hyphenated_underscored_or_as_flags():
    env = {"INPUT_APP-ID": "d1", "INPUT_MAX_ATTEMPTS": "3", "INPUT_DRY-RUN": "true"}
    raw = raw_inputs(env, ["--dry-run", "false"])
    assert raw["app-id"] == "d1"
    assert raw["max-attempts"] == "3"
    assert raw["dry-run"] == "false"  # a flag wins
    assert raw["install"] == "true"  # empty or absent: the default


def test_settings_from_a_runner_like_environment(tmp_path):
    (tmp_path / "package.json").write_text("{}")
    env = {
        "GITHUB_WORKSPACE": str(tmp_path),
        "INPUT_APP-ID": "d1a2b3c4d5e6f7",
        "INPUT_BRANCH": "",
        "GITHUB_HEAD_REF": "",
        "GITHUB_REF_NAME": "release/1.2",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "INPUT_FRONTEND-BRANCHES": "main,\n release/* ",
        "INPUT_WEBHOOK-URL": URL,
        "RUNNER_DEBUG": "1",
        "PATH": "utter-nonsense",
    }
    s = read_settings(env)
    assert s.branch == "release/1.2" and s.region == "eu-west-1"
    assert s.frontend_branches == ("main", "release/*")
    assert s.matching_pattern() == "release/*" and s.branch_gets_frontend
    assert s.debug
    assert s.child_env["CI"] == "1"
    assert "INPUT_WEBHOOK-URL" not in s.child_env  # install scripts never see the secret
    assert s.child_env["PATH"].startswith("utter-nonsense:") and "/usr/bin" in s.child_env["PATH"]


def test_bad_inputs_come_in_input_order(tmp_path):
    env = {
        "GITHUB_WORKSPACE": str(tmp_path),
        "INPUT_DEBUG": "x",
        "INPUT_APP-ID": "",
        "AWS_REGION": "us-east-1",
        "INPUT_BRANCH": "m",
    }
    with pytest.raises(BadInputs) as caught:
        read_settings(env)
    assert [e.input for e in caught.value.errors] == ["app-id", "working-directory", "debug"]


def test_redaction_covers_the_token_alone_and_encoded():
    forms = redaction.register(URL)
    assert "S3cr3tT0ken+x" in forms  # the token as the query decodes it
    text = (
        f"POST {URL} failed; token=S3cr3tT0ken%2Bx; {URL.replace(':', '%3A').replace('/', '%2F')}"
    )
    clean = redaction.redact(text)
    assert "S3cr3tT0ken" not in clean
    assert "***" in clean


def test_workflow_commands_escape_and_redact():
    out = io.StringIO()
    wf = Workflow(out=out)
    wf.mask(URL)
    wf.error(f"line one\nline two %: {URL}", title="A: b, c")
    wf.info("::error::forged by a branch name")
    log = CommandLog.parse(out.getvalue())
    (error,) = log.named("error")
    assert error.message == "line one\nline two %: ***"
    assert error.properties == {"title": "A: b, c"}
    assert "S3cr3tT0ken" in out.getvalue().split("\n")[0]  # only in the mask command itself
    assert [c.name for c in log.commands].count("error") == 1  # the forged line issued nothing


def test_a_mask_from_one_thread_never_lands_inside_another_threads_stop_commands(monkeypatch):
    """A library's debug line (a worker thread's AWS call) is printed inside a
    stop-commands block; a mask or an annotation the main thread issues meanwhile must
    wait for the block's end, or the runner shows the `::add-mask::` line as plain text."""
    opened, masked = threading.Event(), threading.Event()
    redact = redaction.redact

    def slow_redact(text: str) -> str:  # the worker, between its stop-commands and its line
        if text == "botocore DEBUG: a response":
            opened.set()
            masked.wait(timeout=1)  # with the fix, the mask waits for this block instead
        return redact(text)

    monkeypatch.setattr(redaction, "redact", slow_redact)
    out = io.StringIO()
    wf = Workflow(out=out, on_github=True)
    worker = threading.Thread(target=wf.untrusted, args=(["botocore DEBUG: a response"],))
    worker.start()
    assert opened.wait(timeout=5)
    main = threading.Thread(target=lambda: (wf.mask("s3cret-v4lue"), wf.warning("w"), masked.set()))
    main.start()
    worker.join(timeout=5)
    main.join(timeout=5)

    log = CommandLog.parse(out.getvalue())
    assert [c.message for c in log.named("add-mask")] == ["s3cret-v4lue"]
    assert [c.message for c in log.named("warning")] == ["w"]


def test_masks_are_issued_once_per_form():
    out = io.StringIO()
    wf = Workflow(out=out)
    wf.mask(URL)
    wf.mask(URL)
    masks = CommandLog.parse(out.getvalue()).named("add-mask")
    assert len(masks) == len({m.message for m in masks})


def test_outputs_use_a_heredoc_no_value_can_break(tmp_path):
    path = tmp_path / "out"
    path.touch()
    wf = Workflow(output_file=path)
    tricky = "a\nghadelimiter_x\nEOF\nb=c"
    wf.set_output("amplify-outputs", tricky)
    wf.set_output("webhook-id", "w1")
    assert parse_key_values(path.read_text()) == {"amplify-outputs": tricky, "webhook-id": "w1"}


def test_outputs_are_redacted_in_the_file_and_off_github(tmp_path):
    """Defence in depth: no output holds a secret today, and none can leak one."""
    path = tmp_path / "out"
    path.touch()
    out = io.StringIO()
    wf = Workflow(output_file=path, out=out)
    wf.mask("gh-t0ken-S3cr3t")
    wf.set_output("job-url", "https://x/?t=gh-t0ken-S3cr3t")
    off_github = Workflow(out=out, on_github=False)
    off_github.set_output("job-url", "https://x/?t=gh-t0ken-S3cr3t")

    assert parse_key_values(path.read_text()) == {"job-url": "https://x/?t=***"}
    assert "output job-url=https://x/?t=***" in out.getvalue().splitlines()


def test_summary_stays_under_the_runners_limit(tmp_path):
    path = tmp_path / "summary"
    wf = Workflow(summary_file=path)
    wf.add_summary("x" * (1024 * 1024 - 10))
    wf.add_summary("y" * 100)
    assert path.stat().st_size <= 1024 * 1024


def test_library_logs_are_redacted_and_cannot_issue_commands():
    out = io.StringIO()
    wf = Workflow(out=out)
    wf.mask(URL)
    wf.route_logging(debug=True)
    try:
        logging.getLogger("urllib3.connectionpool").debug("Starting new HTTPS connection: %s", URL)
        logging.getLogger("botocore.endpoint").debug("::error::from an API body")
        try:
            raise ValueError(f"boom {URL}")
        except ValueError:
            logging.getLogger("tenacity").exception("retrying")
    finally:
        logging.getLogger().handlers.clear()
    text = out.getvalue()
    shown = "\n".join(line for line in text.splitlines() if not line.startswith("::add-mask::"))
    assert "S3cr3tT0ken" not in shown
    assert CommandLog.parse(text).errors() == []


def test_start_build_url():
    assert start_build_url("https://h/prod/webhooks?id=1&token=t").endswith(
        "id=1&token=t&operation=startbuild"
    )
    assert start_build_url("https://h/p?id=1&token=t&operation=startbuild").count("operation") == 1


def test_retry_after_in_seconds_or_as_a_date():
    assert _retry_after("7") == 7.0
    assert _retry_after(None) is None and _retry_after("soon") is None
    later = email.utils.format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True
    )
    assert 25 <= (_retry_after(later) or 0) <= 31


def test_every_run_picks_the_same_webhook():
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    hooks = [
        {"webhookId": "b", "branchName": "main", "description": "m", "createTime": t},
        {"webhookId": "a", "branchName": "main", "description": "m", "createTime": t},
        {
            "webhookId": "0",
            "branchName": "main",
            "description": "m",
            "createTime": t + dt.timedelta(seconds=1),
        },
        {
            "webhookId": "z",
            "branchName": "dev",
            "description": "m",
            "createTime": t - dt.timedelta(days=1),
        },
        {
            "webhookId": "y",
            "branchName": "main",
            "description": "other",
            "createTime": t - dt.timedelta(days=1),
        },
    ]
    assert [h["webhookId"] for h in _marked(hooks, "main", "m")] == ["a", "b", "0"]
    assert [h["webhookId"] for h in _marked(list(reversed(hooks)), "main", "m")] == ["a", "b", "0"]


def test_summary_cells_cannot_break_the_table():
    report = Report(app_id="d1", branch="main")
    report.steps.append(Step("Deploy backend", "failed", 1.0, "a | b\nc <script>"))
    md = report.markdown()
    row = next(line for line in md.splitlines() if line.startswith("| Deploy backend"))
    assert len(re.split(r"(?<!\\)\|", row)) == 6  # four cells, whatever the detail holds
    assert "<script>" not in md
