"""Gen 3's parts on their own: the source zip (what is left out, in what order, links),
the wait (real boto3 against the local Gen 3 server, time on a fake clock), the
signed checksum header, and the inputs' rules."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from support.action import APP_ID, REGION
from support.gen3_server import Gen3Server

from ampaction import inputs
from ampaction.errors import ActionError, BadInputs, Cancelled
from ampaction.frontends.gen3 import (
    Gen3Deployment,
    check_app_and_environment,
    signed_checksum,
    wait_for_deployment,
)
from ampaction.gen3 import AmplifyGen3
from ampaction.source import zip_source
from ampaction.wait import POLL_SECONDS
from ampaction.workflow import Workflow


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def names_in(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as z:
        return z.namelist()


def test_the_source_leaves_out_what_amplifygen3_deploy_leaves_out(tmp_path: Path) -> None:
    src = tree(
        tmp_path / "app",
        {
            "package.json": "{}",
            "amplify/backend.ts": "",
            "node_modules/x/index.js": "",
            "packages/ui/node_modules/y.js": "",
            ".git/HEAD": "",
            "dist/index.html": "",  # the app's build output
            "src/dist/keep.ts": "",  # not the output folder: `/dist/` is anchored
            "secrets.env": "",
            "logs/a.log": "",
            "logs/keep.log": "",
            "docs/big.pdf": "",
            ".amplifyignore": "# comment\n*.env\nlogs/*.log\n!logs/keep.log\n/docs/\n",
        },
    )

    zipped = zip_source(src, tmp_path, output_directory="dist")

    assert names_in(zipped.zip_path) == [
        ".amplifyignore",
        "amplify/backend.ts",
        "logs/keep.log",
        "package.json",
        "src/dist/keep.ts",
    ]
    assert zipped.files == 5


def test_the_zip_is_the_same_for_the_same_tree_and_its_digest_is_its_sha256(
    tmp_path: Path,
) -> None:
    files = {"b.txt": "b", "a/z.txt": "z", "a/b.txt": "ab"}
    one = zip_source(tree(tmp_path / "one", files), tmp_path / "one")
    data = one.zip_path.read_bytes()

    assert names_in(one.zip_path) == ["a/b.txt", "a/z.txt", "b.txt"]
    assert one.digest == base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_symbolic_links_are_left_out_and_named_never_followed(tmp_path: Path) -> None:
    outside = tree(tmp_path / "outside", {"secret.txt": "do not ship"})
    src = tree(tmp_path / "app", {"package.json": "{}"})
    (src / "linked-dir").symlink_to(outside, target_is_directory=True)
    (src / "linked-file").symlink_to(outside / "secret.txt")

    zipped = zip_source(src, tmp_path)

    with zipfile.ZipFile(zipped.zip_path) as z:
        assert z.namelist() == ["package.json"]
        assert all(b"do not ship" not in z.read(n) for n in z.namelist())
    assert zipped.links_left_out == ("linked-dir", "linked-file")


def test_a_source_with_nothing_left_is_an_error(tmp_path: Path) -> None:
    src = tree(tmp_path / "app", {"node_modules/a.js": "", ".amplifyignore": "*\n"})

    with pytest.raises(ActionError, match="Nothing to upload"):
        zip_source(src, tmp_path)


def test_the_checksum_header_is_sent_only_when_the_url_was_signed_with_it() -> None:
    signed = "https://b.s3/x?X-Amz-SignedHeaders=host%3Bx-amz-checksum-sha256&X-Amz-Signature=s"
    unsigned = "https://b.s3/x?X-Amz-SignedHeaders=host&X-Amz-Signature=s"

    assert signed_checksum(signed, "abc=") == {"x-amz-checksum-sha256": "abc="}
    assert signed_checksum(unsigned, "abc=") == {}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def gen3(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with Gen3Server(REGION) as server:
        server.add_app("web")
        server.add_environment("web", "preview")
        monkeypatch.setenv("AWS_ENDPOINT_URL_AMPLIFYGEN3", server.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
        yield server


def created_deployment(server: Gen3Server, plan: list[dict[str, str]]) -> Gen3Deployment:
    import requests

    server.set_deployment_plan(plan)
    client = AmplifyGen3(REGION, 1, {})
    digest = base64.b64encode(hashlib.sha256(b"zip").digest()).decode()
    upload = client.create_source_upload(digest)
    requests.put(
        upload["ZipUpload"]["UploadUrl"],
        data=b"zip",
        headers={"x-amz-checksum-sha256": digest},
        timeout=10,
    ).raise_for_status()
    made = client.create_deployment("web", "preview", upload["SourceUploadId"], "SOURCE_CODE", "")
    return Gen3Deployment(made["DeploymentId"], made["Status"], url="https://console/x")


def wait(server: Gen3Server, deployment: Gen3Deployment, clock: FakeClock, **kw):  # type: ignore[no-untyped-def]
    out = io.StringIO()
    wait_for_deployment(
        AmplifyGen3(REGION, 1, {}),
        Workflow(out=out),
        app="web",
        environment="preview",
        deployment=deployment,
        timeout_seconds=kw.pop("timeout", 1800.0),
        clock=clock,
        sleep=clock.sleep,
        **kw,
    )
    return out.getvalue()


def test_the_wait_follows_the_deployment_at_the_pace_of_the_other_waits(gen3) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    deployment = created_deployment(
        gen3, [{"Status": "QUEUED"}, {"Status": "IN_PROGRESS"}, {"Status": "SUCCEEDED"}]
    )

    log = wait(gen3, deployment, clock)

    assert deployment.status == "SUCCEEDED" and deployment.domain.endswith(".amplifyapp.com")
    assert clock.sleeps == [POLL_SECONDS] * 3
    assert "IN_PROGRESS" in log and "SUCCEEDED" in log


@pytest.mark.parametrize("status", ["FAILED", "EXPIRED", "CANCELLED"])
def test_each_end_but_success_fails_with_status_and_reason(gen3, status: str) -> None:  # type: ignore[no-untyped-def]
    step = {"Status": status, "StatusReasonCode": "BUILD_TIMEOUT", "StatusReason": "took too long"}
    deployment = created_deployment(gen3, [step])

    with pytest.raises(ActionError) as raised:
        wait(gen3, deployment, FakeClock())

    assert f"ended {status} (BUILD_TIMEOUT): took too long" in raised.value.message
    assert raised.value.title == f"Gen 3 deployment {status.lower()}"


def test_the_wait_ends_at_its_timeout_and_on_a_cancellation(gen3) -> None:  # type: ignore[no-untyped-def]
    deployment = created_deployment(gen3, [{"Status": "IN_PROGRESS"}])
    with pytest.raises(ActionError, match="still IN_PROGRESS after 2 minutes"):
        wait(gen3, deployment, FakeClock(), timeout=120.0)

    with pytest.raises(Cancelled):
        wait(gen3, deployment, FakeClock(), cancelled=lambda: True)


def test_preflight_names_the_missing_app_or_environment(gen3) -> None:  # type: ignore[no-untyped-def]
    client = AmplifyGen3(REGION, 1, {})

    with pytest.raises(ActionError, match="no Amplify Gen 3 app `nope`"):
        check_app_and_environment(client, "nope", "preview")
    with pytest.raises(ActionError, match="has no environment `staging`"):
        check_app_and_environment(client, "web", "staging")
    assert check_app_and_environment(client, "web", "preview")["AppName"] == "web"


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"gen3-app": "web", "trigger-frontend": "false"}, "gen3-app"),
        ({"gen3-app": "has space"}, "gen3-app"),
        ({"gen3-app": "x" * 41}, "gen3-app"),
        ({"gen3-app": "web", "gen3-environment": "a/b"}, "gen3-environment"),
    ],
)
def test_bad_gen3_inputs_name_the_input(tmp_path: Path, given: dict[str, str], named: str) -> None:
    (tmp_path / "package.json").write_text("{}")
    env = {"GITHUB_WORKSPACE": str(tmp_path), "AWS_REGION": REGION, "INPUT_APP-ID": APP_ID}
    env |= {f"INPUT_{k.upper()}": v for k, v in given.items()}

    with pytest.raises(BadInputs) as bad:
        inputs.read_settings(env)

    assert named in [e.input for e in bad.value.errors]


def test_a_file_name_that_is_not_utf8_is_named_in_a_clear_error(tmp_path: Path) -> None:
    src = tree(tmp_path / "app", {"package.json": "{}"})
    (src / os.fsdecode(b"caf\xe9.txt")).write_text("x")

    with pytest.raises(ActionError, match="not UTF-8") as raised:
        zip_source(src, tmp_path)

    assert "caf" in raised.value.message and raised.value.title == "Source not zippable"
    (src / ".amplifyignore").write_text("*.txt\n")  # left out: no zip needs its name
    assert names_in(zip_source(src, tmp_path).zip_path) == [".amplifyignore", "package.json"]
