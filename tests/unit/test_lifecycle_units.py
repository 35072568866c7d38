"""Pure logic of the branch lifecycle: stack names, the comment's marker and text."""

from __future__ import annotations

import re

import pytest

from ampaction.amplify import frontend_url
from ampaction.branch import stage_for
from ampaction.cloudformation import backend_stack_name
from ampaction.errors import ActionError
from ampaction.inputs import read_settings
from ampaction.pr_comment import comment_body, marker
from ampaction.report import Report

# Names printed by @aws-amplify/platform-core 1.12.1 itself (tests/realcli/test_stack_name.py
# compares against the package on every realcli run; these keep the rule checked without npm).
REAL = {
    "main": "amplify-d1a2b3c4d5e6f7-main-branch-779dbfc7c3",
    "feature/login": "amplify-d1a2b3c4d5e6f7-featurelogin-branch-976afe7de1",
    "very-long-" + "abcdefghij" * 12 + "/and/more": (
        "amplify-d1a2b3c4d5e6f7-verylongabcdefghijabcdefghijabcdefghijabcdefghijab-branch-94ac1513a6"
    ),
}


@pytest.mark.parametrize(("branch", "expected"), REAL.items())
def test_backend_stack_name_is_the_cli_s(branch: str, expected: str) -> None:
    assert backend_stack_name("d1a2b3c4d5e6f7", branch) == expected


def test_a_stack_name_never_exceeds_cloudformation_s_limit() -> None:
    assert len(backend_stack_name("d" + "9" * 19, "x" * 255)) <= 128


def test_frontend_url_puts_the_branch_under_the_app_s_domain() -> None:
    app = {"defaultDomain": "d1a2b3c4d5e6f7.amplifyapp.com"}
    assert frontend_url(app, "feature/a/b") == "https://feature-a-b.d1a2b3c4d5e6f7.amplifyapp.com"
    assert frontend_url({}, "main") == ""


def test_stage_is_pull_request_only_for_pull_request_events() -> None:
    assert stage_for("pull_request") == stage_for("pull_request_target") == "PULL_REQUEST"
    assert stage_for("push") == stage_for("") == "DEVELOPMENT"


def test_no_branch_name_can_end_the_hidden_marker() -> None:
    mark = marker("d1", "x-->\n<script>")
    assert mark.count("-->") == 1 and mark.endswith("-->")
    assert "\n" not in mark
    assert marker("d1", "a") != marker("d1", "b") != marker("d2", "a")


def test_no_branch_name_can_add_html_or_break_the_comments_table(tmp_path) -> None:
    """The branch reaches the comment in the heading and, through the frontend URL, a cell."""
    (tmp_path / "package.json").write_text("{}")
    branch = "x<h3>big|y<!--"
    s = read_settings(
        {
            "GITHUB_WORKSPACE": str(tmp_path),
            "INPUT_APP-ID": "d1",
            "INPUT_BRANCH": branch,
            "AWS_REGION": "us-east-1",
        }
    )
    report = Report(app_id="d1", branch=branch)
    report.outputs["frontend-url"] = frontend_url({"defaultDomain": "d1.amplifyapp.com"}, branch)
    report.failure = ActionError("m", title=f"Branch {branch} failed")

    body = comment_body(s, report)

    assert "<h3>" not in body and body.count("<!--") == 1  # the marker's own
    row = next(line for line in body.splitlines() if line.startswith("| Preview"))
    assert len(re.split(r"(?<!\\)\|", row)) == 4  # two cells, whatever the URL holds
