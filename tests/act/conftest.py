"""What every act test needs first: an engine, act itself, and the action's image (the
session's, tests/conftest.py) under the tag act looks for (act cannot build it on this
engine's network)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.act import PUBLISHED, act_available, tag_for_act
from support.docker_action import engine_available


@pytest.fixture(scope="package", autouse=True)
def _act_ready(request: pytest.FixtureRequest) -> Iterator[None]:
    for reason in (engine_available(), act_available()):
        if reason is not None:
            pytest.skip(f"act tests not run: {reason}")
    tag_for_act(request.getfixturevalue("action_image"), f"{PUBLISHED}@v1")
    yield
