"""The tests under the image's own Python: CI and the dev venv run 3.11, the image
runs Debian 13's 3.13, so this is where the code meets the interpreter users get.

A test image is built FROM the action's image (the real Dockerfile on the
stand-in base) with only the test tools added to its venv, the same way the
Dockerfile installs the runtime (Debian's pip wheel, run against the venv), so
the runtime packages are the image's own. The repository is mounted read-only
and pytest runs inside: the unit tests, and the integration tests of the
action's main paths, whose entrypoint starts with `sys.executable`, that is,
3.13 here too.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest
from support.docker_action import REPO, run_container

pytestmark = pytest.mark.timeout(1200)

# The image's Python (Debian 13, trixie). A Debian release bump changes it: then
# update this and the mypy `python_version` in pyproject.toml together.
IMAGE_PYTHON = (3, 13)
VENV_PYTHON = "/opt/ampaction/venv/bin/python"
SOURCE = "/src"

# What the tests need beyond the image's runtime, pinned as in requirements-dev.txt.
# moto: the integration tests' runs read SSM and CloudFormation (the checks before a
# deploy) from a moto server the tests start (support/aws_server.py).
TEST_TOOLS = ("pytest", "pytest-timeout", "responses", "pyyaml", "moto")

# Run in the image: the unit tests and the integration tests of the main paths
# (a deploy, and bad input stopping everything), about a minute together.
SELECTION = (
    "tests/unit",
    "tests/integration/test_action.py",
    "tests/integration/test_bad_input.py",
)
# Lint the workflow files with binaries the image does not carry (they come from
# PyPI wheels in the dev venv) and run no Python code of the action's: their
# result does not depend on the interpreter, and the gates run the same linters.
# The xdist groups' tests collect the engine and integration tests, whose imports
# (moto) the image does not carry; they check the suite's settings, not the code.
DESELECTED = (
    "tests/unit/test_workflows.py::test_actionlint_finds_nothing",
    "tests/unit/test_workflows.py::test_zizmor_finds_nothing",
    "tests/unit/test_parallel_groups.py::test_every_engine_test_is_in_the_engine_group",
    "tests/unit/test_parallel_groups.py::test_the_fast_tests_are_not_held_to_one_worker",
)

TEST_DOCKERFILE = """\
ARG ACTION_IMAGE
FROM ${ACTION_IMAGE}
COPY requirements-test.txt /tmp/requirements-test.txt
RUN set -- /usr/share/python-wheels/pip-*.whl \\
    && PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \\
    python3 "$1/pip" --python /opt/ampaction/venv/bin/python install \\
        -r /tmp/requirements-test.txt \\
    && rm /tmp/requirements-test.txt
"""


def dev_pins(names: tuple[str, ...]) -> list[str]:
    """The lines of requirements-dev.txt that pin `names`, comments dropped."""
    wanted = {name.lower() for name in names}
    pins = {}
    for line in (REPO / "requirements-dev.txt").read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?==\S+", requirement)
        if match and match.group(1).lower() in wanted:
            pins[match.group(1).lower()] = requirement
    missing = wanted - set(pins)
    assert not missing, f"requirements-dev.txt pins none of {sorted(missing)}"
    return [pins[name] for name in sorted(pins)]


@pytest.fixture(scope="module")
def test_image(action_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tag = f"ampaction-py313-tests:{os.getpid()}"
    # A failing build is a failure, not a skip. Docker's layer cache makes it quick
    # after the first: only a change to its inputs rebuilds.
    context = tmp_path_factory.mktemp("py313-context")
    (context / "Dockerfile").write_text(TEST_DOCKERFILE, encoding="utf-8")
    (context / "requirements-test.txt").write_text("\n".join(dev_pins(TEST_TOOLS)) + "\n")
    try:
        build = subprocess.run(
            [
                "docker",
                "build",
                "--network",
                "host",
                "--build-arg",
                f"ACTION_IMAGE={action_image}",
                "-t",
                tag,
                str(context),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert build.returncode == 0, f"{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)


def in_image(image: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """The image's venv Python on `args`, in the read-only repository."""
    return run_container(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "host",
            "-v",
            f"{REPO}:{SOURCE}:ro",
            "--workdir",
            SOURCE,
            "--entrypoint",
            VENV_PYTHON,
            image,
            *args,
        ],
        timeout=timeout,
    )


def explain(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout[-12000:]}\n--- stderr\n{done.stderr[-4000:]}"


def runtime_pins() -> dict[str, str]:
    """requirements.txt's pins, by normalized name: what the image installs."""
    text = (REPO / "requirements.txt").read_text(encoding="utf-8")
    return {
        name.lower().replace("_", "-"): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.MULTILINE)
    }


def test_the_image_runs_the_python_the_tests_target(test_image: str) -> None:
    done = in_image(
        test_image,
        "-c",
        "import sys; print(sys.version_info[0], sys.version_info[1]); print(sys.version)",
        timeout=60,
    )
    assert done.returncode == 0, explain(done)
    major, minor = (int(part) for part in done.stdout.splitlines()[0].split())
    assert (major, minor) == IMAGE_PYTHON, done.stdout


def test_adding_the_test_tools_left_the_runtime_as_the_image_ships_it(test_image: str) -> None:
    """pip must not have upgraded a runtime package to satisfy a test tool: the
    tests would then run against versions users never get."""
    pins = runtime_pins()
    assert {"boto3", "botocore", "requests", "urllib3"} <= set(pins), pins
    done = in_image(
        test_image,
        "-c",
        "import sys, importlib.metadata as m\n"
        "for name in sys.argv[1:]: print(name, m.version(name))",
        *sorted(pins),
        timeout=60,
    )
    assert done.returncode == 0, explain(done)
    installed = dict(line.split() for line in done.stdout.splitlines())
    assert installed == pins


def test_the_tests_pass_under_the_images_python(test_image: str) -> None:
    deselect = [arg for test in DESELECTED for arg in ("--deselect", test)]
    # Every name deselected must still exist, or the deselection hides nothing
    # and silently outlives the test it was for.
    for test in DESELECTED:
        path, name = test.split("::")
        assert f"def {name}(" in (REPO / path).read_text(encoding="utf-8"), test
    done = in_image(
        test_image,
        "-c",
        # The version first, from the process that runs the tests.
        "import sys, pytest; print('python', sys.version, flush=True); "
        "raise SystemExit(pytest.main(sys.argv[1:]))",
        *SELECTION,
        *deselect,
        "-p",
        "no:cacheprovider",
        "-q",
        timeout=900,
    )
    assert done.returncode == 0, explain(done)
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"python {IMAGE_PYTHON[0]}.{IMAGE_PYTHON[1]}."), first
    summary = done.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary), summary
    assert "failed" not in summary and "error" not in summary, summary
