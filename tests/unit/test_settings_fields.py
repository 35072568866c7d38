"""The new inputs' values and the GitHub context, as `Settings` carries them."""

from __future__ import annotations

import json

import pytest

from ampaction.errors import BadInputs
from ampaction.inputs import read_settings, secret_inputs


@pytest.fixture
def env(tmp_path):
    (tmp_path / "package.json").write_text("{}")
    return {
        "GITHUB_WORKSPACE": str(tmp_path),
        "INPUT_APP-ID": "d1",
        "INPUT_BRANCH": "main",
        "AWS_REGION": "us-east-1",
    }


def test_the_new_inputs_defaults(env):
    s = read_settings(env)
    assert (s.command, s.create_branch, s.skip_unchanged_backend, s.pr_comment) == (
        "deploy",
        False,
        False,
        True,
    )
    assert s.teardown_branches == () and s.backend_paths == ()
    assert s.frontend_artifact is None and s.github_token is None


def test_the_new_inputs_parsed(env, tmp_path):
    (tmp_path / "web" / "dist").mkdir(parents=True)
    (tmp_path / "web" / "package.json").write_text("{}")
    (tmp_path / "web" / "dist" / "index.html").write_text("<html></html>")
    env |= {
        "INPUT_WORKING-DIRECTORY": "web",
        "INPUT_COMMAND": "teardown",
        "INPUT_TEARDOWN-BRANCHES": "pr-*, feature/*\n",
        "INPUT_FRONTEND-ARTIFACT": "dist",
        "INPUT_GITHUB-TOKEN": " ghs_x ",
    }
    s = read_settings(env)
    assert s.command == "teardown"
    assert s.teardown_branches == ("pr-*", "feature/*")
    assert s.frontend_artifact == (tmp_path / "web" / "dist").resolve()
    assert s.github_token == "ghs_x"


def test_the_github_context_of_a_pull_request(env, tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 7, "pull_request": {"number": 12}}))
    env |= {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "octo/app",
        "GITHUB_RUN_ID": "42",
        "GITHUB_API_URL": "https://ghe.example/api/v3",
    }
    s = read_settings(env)
    assert s.on_github and s.event_name == "pull_request" and s.pull_request_number == 12
    assert (s.github_repository, s.github_run_id) == ("octo/app", "42")
    assert s.github_api_url == "https://ghe.example/api/v3"
    assert s.github_server_url == "https://github.com"


@pytest.mark.parametrize("content", ["{not json", "[]", '{"number": "7"}', '{"number": true}'])
def test_an_unreadable_event_gives_no_pull_request_number(env, tmp_path, content):
    event = tmp_path / "event.json"
    event.write_text(content)
    env |= {"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": str(event)}
    assert read_settings(env).pull_request_number is None


def test_a_push_has_no_pull_request_number_and_off_github_is_off(env, tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 3}))
    env |= {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event)}
    s = read_settings(env)
    assert s.pull_request_number is None and not s.on_github


def test_both_secrets_are_read_for_masking_from_every_source():
    env = {"INPUT_GITHUB-TOKEN": "t1", "INPUT_WEBHOOK_URL": "u1"}
    argv = ["--github-token", "t2", "--webhook-url=u2", "--github-token=t3"]
    assert sorted(secret_inputs(env, argv)) == ["t1", "t2", "t3", "u1", "u2"]


def test_errors_come_in_declaration_order_with_the_new_inputs(env):
    env |= {
        "INPUT_PR-COMMENT": "x",
        "INPUT_COMMAND": "x",
        "INPUT_DEBUG": "x",
        "INPUT_CREATE-BRANCH": "x",
    }
    with pytest.raises(BadInputs) as caught:
        read_settings(env)
    assert [e.input for e in caught.value.errors] == [
        "command",
        "create-branch",
        "pr-comment",
        "debug",
    ]
