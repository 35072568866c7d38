"""The container tests' image: the one the session built (`action_image`, tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def image(action_image: str) -> str:
    return action_image
