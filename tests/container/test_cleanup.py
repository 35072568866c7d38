"""A container a test starts is removed when the test's timeout kills the `docker`
client: `--rm` alone would keep it running."""

from __future__ import annotations

import subprocess

import pytest
from support.docker_action import (
    containers_labelled,
    engine_available,
    run_container,
    run_label,
    standin_base,
)

pytestmark = pytest.mark.container


def test_a_container_that_outlives_its_timeout_is_removed() -> None:
    reason = engine_available()
    if reason is not None:
        pytest.skip(reason)
    image = standin_base("trixie", 24)
    label = run_label()

    with pytest.raises(subprocess.TimeoutExpired):
        run_container(
            ["docker", "run", "--rm", "--network", "host", "--entrypoint", "sleep", image, "300"],
            timeout=5,
            label=label,
        )

    assert containers_labelled(label) == []
