"""The inputs the next features add are checked like every other: a bad value is
one `::error` naming the input, exit 1, and nothing happens."""

from __future__ import annotations

import os
import zipfile

import pytest
from support.hygiene import shown_lines

BAD = [
    ("command", {"command": "destroy"}),
    ("create-branch", {"create-branch": "yes"}),
    ("skip-unchanged-backend", {"skip-unchanged-backend": "1"}),
    ("pr-comment", {"pr-comment": "no"}),
    ("frontend-artifact", {"frontend-artifact": "dist-missing"}),
    ("frontend-artifact", {"frontend-artifact": "../../outside"}),
    ("frontend-artifact", {"frontend-artifact": "package.json"}),  # neither folder nor .zip
]


def assert_nothing_happened(run, sim) -> None:
    assert run.exit_code == 1, run.log
    assert "Traceback" not in run.log
    assert sim.requests == []
    assert run.ampx_calls() == []
    assert not (run.workspace / "node_modules").exists()
    assert run.outputs["backend-deployed"] == "false"
    assert run.outputs["branch-created"] == "false"
    assert run.outputs["backend-skipped"] == "false"


def assert_named(run, name: str) -> str:
    errors = run.errors()
    assert len(errors) == 1, run.log
    assert errors[0].startswith(f"Input `{name}`:"), errors[0]
    return errors[0]


@pytest.mark.parametrize(
    ("name", "inputs"), BAD, ids=[f"{n}={next(iter(i.values()))!r}" for n, i in BAD]
)
def test_a_bad_new_input_is_named_and_nothing_happens(run_action, sim, name, inputs):
    run = run_action(inputs)

    assert_named(run, name)
    assert_nothing_happened(run, sim)


def test_an_empty_artifact_folder_is_refused(run_action, sim, workspace):
    (workspace / "dist").mkdir()
    (workspace / "dist" / "assets").mkdir()  # folders, but no file

    run = run_action({"frontend-artifact": "dist"})

    assert "empty folder" in assert_named(run, "frontend-artifact")
    assert_nothing_happened(run, sim)


def test_an_artifact_folder_with_a_symlink_inside_is_refused(run_action, sim, workspace):
    dist = workspace / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html></html>")
    os.symlink("/etc/passwd", dist / "assets" / "leak.txt")

    run = run_action({"frontend-artifact": "dist"})

    error = assert_named(run, "frontend-artifact")
    assert "symbolic link" in error and "leak.txt" in error
    assert_nothing_happened(run, sim)


def test_an_artifact_that_is_a_symlink_out_of_the_workspace_is_refused(
    run_action, sim, workspace, tmp_path
):
    outside = tmp_path / "outside-dist"
    outside.mkdir()
    (outside / "index.html").write_text("<html></html>")
    os.symlink(outside, workspace / "dist")

    run = run_action({"frontend-artifact": "dist"})

    assert_named(run, "frontend-artifact")
    assert_nothing_happened(run, sim)


def test_a_file_named_zip_that_is_not_one_is_refused(run_action, sim, workspace):
    (workspace / "site.zip").write_text("not a zip")

    run = run_action({"frontend-artifact": "site.zip"})

    assert_named(run, "frontend-artifact")
    assert_nothing_happened(run, sim)


def test_teardown_needs_a_region(run_action, sim):
    run = run_action(
        {"command": "teardown", "aws-region": ""},
        job_env={"AWS_REGION": "", "AWS_DEFAULT_REGION": ""},
    )

    assert_named(run, "aws-region")
    assert_nothing_happened(run, sim)


def test_a_github_token_is_masked_first_and_never_quoted(run_action, sim):
    token = "ghs_BADTOKENWITH SPACE0123456789"

    run = run_action({"github-token": token})

    error = assert_named(run, "github-token")
    assert "BADTOKEN" not in error
    assert run.commands.commands[0].name == "add-mask"
    assert "BADTOKEN" not in shown_lines(run.stdout) + shown_lines(run.stderr) + run.summary
    assert_nothing_happened(run, sim)


def test_good_new_inputs_pass_the_checks(run_action, sim, workspace):
    (workspace / "dist").mkdir()
    (workspace / "dist" / "index.html").write_text("<html></html>")
    with zipfile.ZipFile(workspace / "site.zip", "w") as archive:
        archive.writestr("index.html", "<html></html>")

    for artifact in ("dist", "site.zip"):
        run = run_action(
            {
                "frontend-artifact": artifact,
                "create-branch": "TRUE",
                "teardown-branches": "pr-*,\nfeature/*",
                "backend-paths": "amplify/**",
                "github-token": "ghs_GOODTOKEN0123456789",
                "dry-run": "true",
            }
        )
        assert run.exit_code == 0, run.log
        assert "GOODTOKEN" not in shown_lines(run.stdout) + run.summary


def empty_zip(workspace) -> str:
    with zipfile.ZipFile(workspace / "site.zip", "w") as archive:
        archive.writestr("assets/", "")  # a folder entry, no file
    return "site.zip"


def git_inside(workspace) -> str:
    (workspace / "dist").mkdir()
    (workspace / "dist" / "index.html").write_text("<html></html>")
    (workspace / "dist" / ".git").mkdir()
    (workspace / "dist" / ".git" / "config").write_text("[http] extraheader = AUTHORIZATION: x")
    return "dist"


def not_utf8_name(workspace) -> str:
    (workspace / "dist").mkdir()
    (workspace / "dist" / "index.html").write_text("<html></html>")
    (workspace / "dist" / os.fsdecode(b"caf\xe9.html")).write_text("x")
    return "dist"


def the_project_itself(workspace) -> str:
    (workspace / ".git").mkdir(exist_ok=True)
    (workspace / ".git" / "config").write_text("[http] extraheader = AUTHORIZATION: x")
    (workspace / "index.html").write_text("<html></html>")
    return "."


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (empty_zip, "is an empty zip"),
        (git_inside, "holds `.git`"),
        (not_utf8_name, "`caf\\xe9.html`"),
        (the_project_itself, "the project's own folder"),
    ],
    ids=["empty-zip", "git-inside", "not-utf8-name", "project-root"],
)
def test_an_artifact_that_cannot_be_deployed_is_refused_with_the_inputs(
    run_action, sim, workspace, make, said
):
    given = make(workspace)

    run = run_action({"frontend-artifact": given})

    error = assert_named(run, "frontend-artifact")
    assert said in error, error
    assert "Internal error" not in run.log
    assert_nothing_happened(run, sim)


def test_a_working_directorys_parent_is_the_project_too(run_action, sim, workspace):
    app = workspace / "apps" / "web"
    app.mkdir(parents=True)
    for name in ("package.json", "package-lock.json", "amplify"):
        os.rename(workspace / name, app / name)

    run = run_action({"working-directory": "apps/web", "frontend-artifact": "../.."})

    assert "the project's own folder" in assert_named(run, "frontend-artifact")
    assert_nothing_happened(run, sim)
