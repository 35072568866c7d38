"""scripts/release.py for real: a registry on 127.0.0.1, a temporary clone, the real
image build, and the released tag run as the runner runs a `docker://` action.

Run alone: python -m pytest -m release
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from support import aws_server
from support.action import APP_ID, CREDENTIALS, declared_inputs
from support.amplify_sim import AmplifySimulator
from support.docker_action import REPO, action_env, engine_available, run_action, standin_base
from support.fixtures import copy_project
from support.registry import LocalRegistry, registry_available
from support.runner import RunnerFiles

pytestmark = [pytest.mark.release, pytest.mark.container]

VERSION = "1.4.0"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def clone(dest: Path) -> Path:
    """A clone of this repository's HEAD, as the release workflow checks it out."""
    subprocess.run(["git", "clone", "-q", "--no-local", str(REPO), str(dest)], check=True)
    git(dest, "checkout", "-q", "-B", "main")  # whichever branch REPO is on, call it main
    git(dest, "config", "user.name", "Release Test")
    git(dest, "config", "user.email", "release-test@example.invalid")
    return dest


def release(repo: Path, *args: str, version: str = VERSION) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/release.py", version, *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


# --- refusals: no engine, no registry needed; nothing may be built ------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return clone(tmp_path / "clone")


def refused(done: subprocess.CompletedProcess[str], repo: Path, why: str) -> None:
    assert done.returncode == 1, done
    assert why in done.stderr, done.stderr
    assert done.stderr.count("release:") == 1, done.stderr


def test_refuses_a_dirty_tree(repo: Path) -> None:
    (repo / "README.md").write_text("changed\n", encoding="utf-8")
    done = release(repo, "--image", "127.0.0.1:9/never")
    refused(done, repo, "working tree is not clean")
    assert git(repo, "tag", "--list") == ""


def test_refuses_an_untracked_file(repo: Path) -> None:
    (repo / "stray.txt").write_text("x\n", encoding="utf-8")
    refused(release(repo, "--image", "127.0.0.1:9/never"), repo, "stray.txt")


def test_refuses_an_existing_tag(repo: Path) -> None:
    git(repo, "tag", f"v{VERSION}", "HEAD")
    before = git(repo, "rev-parse", f"v{VERSION}")
    refused(release(repo, "--image", "127.0.0.1:9/never"), repo, f"v{VERSION} already exists")
    assert git(repo, "rev-parse", f"v{VERSION}") == before


def test_refuses_a_release_commit_as_base(repo: Path) -> None:
    action = repo / "action.yml"
    action.write_text(
        action.read_text().replace("image: Dockerfile", "image: docker://x.io/a@sha256:" + "0" * 64)
    )
    git(repo, "commit", "-qam", "already released")
    refused(release(repo, "--image", "127.0.0.1:9/never"), repo, "`image: Dockerfile`")


@pytest.mark.parametrize(
    ("version", "image", "why"),
    [
        ("v1.0.0", "127.0.0.1:9/a", "not MAJOR.MINOR.PATCH"),
        ("1.0", "127.0.0.1:9/a", "not MAJOR.MINOR.PATCH"),
        ("1.0.0", "ampaction", "must start with a registry host"),
        ("1.0.0", "127.0.0.1:9/a:v1", "no tag and no digest"),
        ("1.0.0", "ghcr.io/Owner/Repo", "lowercase"),
    ],
)
def test_refuses_bad_arguments(repo: Path, version: str, image: str, why: str) -> None:
    refused(release(repo, "--image", image, version=version), repo, why)


def moving_tags(repo: Path, version: str) -> list[str]:
    """The tags the script would move in `repo` for `version` (git only, no build)."""
    code = "import release, sys; print(*release.moving_tags(release.parse_args(sys.argv[1:])))"
    done = subprocess.run(
        [sys.executable, "-c", code, version, "--image", "127.0.0.1:9/a"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo / "scripts")},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_an_older_line_moves_no_newer_tag(repo: Path) -> None:
    for tag in ("v1.3.0", "v1.4.0"):
        git(repo, "tag", tag, "HEAD")
    assert moving_tags(repo, "1.3.1") == ["v1.3"]  # a fix for 1.3: v1.4 and v1 stay
    assert moving_tags(repo, "1.5.0") == ["v1.5", "v1"]
    assert moving_tags(repo, "2.0.0") == ["v2.0", "v2"]


# --- the real release --------------------------------------------------------------------


@dataclass
class Released:
    repo: Path
    registry: LocalRegistry
    image: str  # REGISTRY/NAME
    main_before: str
    old_major: str
    done: subprocess.CompletedProcess[str]
    tags_after_build: list[str]  # the registry's tags once the script's first run ended
    early_move: subprocess.CompletedProcess[str]  # --move-image-tags before the git push
    tags_after_early_move: list[str]
    moved: subprocess.CompletedProcess[str]  # --move-image-tags after the git push

    @property
    def tag_commit(self) -> str:
        return git(self.repo, "rev-parse", f"v{VERSION}^{{commit}}")

    def action(self, ref: str) -> dict[str, object]:
        loaded: dict[str, object] = yaml.safe_load(git(self.repo, "show", f"{ref}:action.yml"))
        return loaded


def with_own_origin(repo: Path, origin: Path) -> None:
    """A bare repository as the clone's origin, so that the test can publish tags."""
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "set-url", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Released]:
    for reason in (engine_available(), registry_available()):
        if reason is not None:
            pytest.skip(f"release test not run: {reason}")
    base = standin_base("trixie", 24)
    root = tmp_path_factory.mktemp("release")
    with LocalRegistry(root / "registry") as registry:
        repo = clone(root / "clone")
        with_own_origin(repo, root / "origin.git")
        # An older release that the major tag points at before this one.
        git(repo, "tag", "v1", "HEAD~1")
        old_major = git(repo, "rev-parse", "v1")
        main_before = git(repo, "rev-parse", "main")
        image = f"{registry.address}/ampaction"
        done = release(repo, "--image", image, "--build-arg", f"BASE_IMAGE={base}")
        tags_after_build = registry.tags("ampaction")
        early_move = release(repo, "--image", image, "--move-image-tags")
        tags_after_early_move = registry.tags("ampaction")
        git(repo, "push", "-q", "origin", f"v{VERSION}")  # the git tags are published
        git(repo, "push", "-q", "--force", "origin", "v1")
        moved = release(repo, "--image", image, "--move-image-tags")
        yield Released(
            repo,
            registry,
            image,
            main_before,
            old_major,
            done,
            tags_after_build,
            early_move,
            tags_after_early_move,
            moved,
        )
        # Every image of this registry's repository: the tags and the pull by digest.
        listed = docker("images", "--quiet", "--filter", f"reference={image}", check=False)
        for image_id in set(listed.stdout.split()):
            docker("rmi", "-f", image_id, check=False)


def released_reference(r: Released) -> str:
    runs = r.action(f"v{VERSION}")["runs"]
    assert isinstance(runs, dict)
    image = str(runs["image"])
    assert image.startswith(f"docker://{r.image}@sha256:"), image
    return image.removeprefix("docker://")


def test_the_script_succeeds_and_says_what_it_did(released: Released) -> None:
    assert released.done.returncode == 0, released.done.stderr
    out = released.done.stdout
    reference = released_reference(released)
    for expected in (
        f"pushed  {released.image}:v{VERSION}",
        f"digest  {reference.split('@')[1]}",
        f"tagged  v{VERSION}",
        "moved   v1",
        f"git push origin v{VERSION} && git push --force origin v1",
        "--move-image-tags",
    ):
        assert expected in out, out


def test_the_moving_image_tags_wait_until_the_git_tags_are_published(released: Released) -> None:
    """A failed publish must not leave :v1 on a build no git tag names: the script's
    first run pushes only :vVERSION, and --move-image-tags refuses until the git tag
    is on origin."""
    assert released.tags_after_build == [f"v{VERSION}"]
    assert released.early_move.returncode == 1, released.early_move
    assert "not on origin" in released.early_move.stderr, released.early_move.stderr
    assert released.tags_after_early_move == [f"v{VERSION}"]
    assert released.moved.returncode == 0, released.moved.stderr
    assert f"moved   {released.image}:v1 -> sha256:" in released.moved.stdout


def test_the_tag_names_a_digest_the_registry_serves(released: Released) -> None:
    reference = released_reference(released)
    digest = reference.split("@", 1)[1]
    body, manifest = released.registry.manifest("ampaction", digest)  # checks sha256(body)
    assert "sha256:" + hashlib.sha256(body).hexdigest() == digest
    # ...and it is what the version tags in the registry point at, once moved.
    assert released.registry.tags("ampaction") == ["v1", "v1.4", f"v{VERSION}"]
    for tag in (f"v{VERSION}", "v1.4", "v1"):
        tagged, _ = released.registry.manifest("ampaction", tag)
        assert tagged == body, tag
    assert manifest.get("layers") or manifest.get("manifests"), manifest


def test_the_release_commit_changes_only_the_image_line(released: Released) -> None:
    r = released
    assert git(r.repo, "rev-parse", f"{r.tag_commit}^") == r.main_before
    assert git(r.repo, "diff", "--name-only", r.main_before, r.tag_commit) == "action.yml"
    diff = git(r.repo, "diff", "-U0", r.main_before, r.tag_commit, "--", "action.yml")
    changed = [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        "-  image: Dockerfile",
        f"+  image: docker://{released_reference(r)}",
    ], diff
    before = subprocess.run(
        ["git", "show", f"{r.main_before}:action.yml"], cwd=r.repo, capture_output=True, check=True
    ).stdout
    after = subprocess.run(
        ["git", "show", f"{r.tag_commit}:action.yml"], cwd=r.repo, capture_output=True, check=True
    ).stdout
    image = f"image: docker://{released_reference(r)}".encode()
    assert after == before.replace(b"image: Dockerfile", image), "more than the image line changed"
    # On no branch: no branch contains the release commit.
    assert git(r.repo, "branch", "--contains", r.tag_commit) == ""


def test_main_is_untouched(released: Released) -> None:
    r = released
    assert git(r.repo, "rev-parse", "main") == r.main_before
    assert git(r.repo, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert git(r.repo, "status", "--porcelain") == ""
    runs = r.action("main")["runs"]
    assert isinstance(runs, dict) and runs["image"] == "Dockerfile"
    assert (r.repo / "action.yml").read_text().count("image: Dockerfile") == 1


def test_the_major_tag_moved(released: Released) -> None:
    r = released
    assert r.old_major != r.tag_commit
    assert git(r.repo, "rev-parse", "v1^{commit}") == r.tag_commit


def test_runs_as_a_docker_action_from_the_pulled_image(
    released: Released, sim: AmplifySimulator, tmp_path: Path
) -> None:
    """The runner, for `image: docker://...`: `docker pull`, then `docker run`; no build.
    The image is first removed from this engine, and its absence proven."""
    reference = released_reference(released)
    image_id = docker("image", "inspect", "--format", "{{.Id}}", reference, check=False).stdout
    docker("rmi", "-f", f"{released.image}:v{VERSION}", check=False)
    if image_id.strip():
        docker("rmi", "-f", image_id.strip(), check=False)
    absent = docker("image", "inspect", reference, check=False)
    assert absent.returncode != 0, "the image is still on this engine: the pull proves nothing"
    assert f"{released.image}" not in docker("images", "--format", "{{.Repository}}").stdout

    pulled = docker("pull", reference, check=False)
    assert pulled.returncode == 0, pulled.stderr
    assert "Downloaded newer image" in pulled.stdout or "Pull complete" in pulled.stdout

    workspace = copy_project("gen2-app", tmp_path / "workspace")
    files = RunnerFiles(root=tmp_path / "runner", workspace=workspace)
    record = ".ampx-record.jsonl"
    env = action_env(
        {"app-id": APP_ID, "branch": "main"},
        files,
        declared=declared_inputs(),
        job_env={
            **CREDENTIALS,
            "AWS_ENDPOINT_URL_AMPLIFY": sim.url,
            **aws_server.endpoints(),  # SSM, CloudFormation, STS: a bootstrapped account
            "STUB_AMPX_RECORD": f"/github/workspace/{record}",
        },
    )
    done = run_action(reference, env, files, timeout=240)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    outputs = files.outputs()
    assert outputs.get("backend-deployed") == "true", outputs
    assert outputs.get("frontend-triggered") == "true", outputs
    assert sim.count("Webhook") == 1
    calls = [json.loads(line) for line in (workspace / record).read_text().splitlines()]
    assert [c["argv"] for c in calls] == [
        ["pipeline-deploy", "--branch", "main", "--app-id", APP_ID]
    ]
    token = parse_qs(urlparse(sim.webhooks(APP_ID)[0]["webhookUrl"]).query)["token"][0]
    shown = [
        line for line in (done.stdout + done.stderr).splitlines() if "::add-mask::" not in line
    ]
    assert all(token not in line for line in shown), "webhook token in the log"
