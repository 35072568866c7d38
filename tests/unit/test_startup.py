"""Startup (issue 18, item 4). A plain deploy loads only what it uses: what one other
command or input needs is imported when that command or input is used. And reads that
do not depend on each other are made at the same time (`Cancellation.start`).

The imports are checked in a fresh interpreter, by what is in `sys.modules` after the deploy path's
imports: the time they take is the benchmark's business (benchmarks/trigger.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from support.action import ROOT

from ampaction.cancellation import Cancellation
from ampaction.errors import Cancelled

# What a deploy through the webhook imports, in the entrypoint's order.
DEPLOY_PATH = """
import json, sys
from ampaction.cancellation import Cancellation
from ampaction.main import main
from ampaction.commands import deploy
from ampaction.frontends import webhook
print(json.dumps(sorted(sys.modules)))
"""

# Each with the command or input that alone needs it.
NOT_FOR_A_DEPLOY = {
    "zipfile": "`frontend-artifact` (a .zip, and the upload)",
    "ampaction.artifact": "`frontend-artifact`",
    "ampaction.manual_deploy": "`frontend-artifact`",
    "ampaction.frontends.manual": "`frontend-artifact`",
    "ampaction.github": "a pull request's comment",
    "ampaction.pr_comment": "a pull request's comment",
    "ampaction.commands.teardown": "`command: teardown`",
    "ampaction.teardown": "`command: teardown`",
    "ampaction.commands.sweep": "`command: sweep`",
    "ampaction.previews": "`command: sweep`",
}


def test_a_deploy_imports_nothing_that_only_another_command_or_input_uses() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", DEPLOY_PATH],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = set(json.loads(proc.stdout))
    assert "ampaction.commands.deploy" in loaded  # the path was imported at all
    early = {name: why for name, why in NOT_FOR_A_DEPLOY.items() if name in loaded}
    assert not early, f"imported on every deploy, though only needed for: {early}"


# The AWS client: botocore's, without boto3's S3 transfer manager (s3transfer, and the
# multiprocessing it imports), which no call of the action uses.
AWS_CLIENT = """
import json, sys
from ampaction.amplify import Amplify
client = Amplify("us-east-1", 1, {}).client
print(json.dumps(sorted(sys.modules)))
"""


def test_the_aws_client_does_not_load_boto3s_transfer_manager() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", AWS_CLIENT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_DISABLED": "true"},
    )
    loaded = set(json.loads(proc.stdout))
    assert "botocore.client" in loaded  # the client was made at all
    assert not {"boto3", "s3transfer", "multiprocessing"} & loaded


# -- two reads at once ------------------------------------------------------------


def test_a_call_started_in_the_background_gives_its_result_or_its_error() -> None:
    cancellation = Cancellation()
    answer = cancellation.start(lambda: 42, "the answer")
    refused = cancellation.start(lambda: 1 // 0, "a division")

    assert answer.result() == 42
    with pytest.raises(ZeroDivisionError):
        refused.result()


def test_a_cancellation_ends_the_wait_for_a_background_call_and_abandons_it() -> None:
    """The call may block for ever (a socket read no library can interrupt): waiting on
    it ends at the cancellation, naming what was cut short."""
    cancellation = Cancellation()
    never = threading.Event()
    pending = cancellation.start(never.wait, "the AWS call to list the branch's jobs")
    cancellation.event.set()

    with pytest.raises(Cancelled, match="the AWS call to list the branch's jobs"):
        pending.result()
    with pytest.raises(Cancelled):
        cancellation.start(lambda: 1, "a call after the cancellation")
    never.set()
